//! Revocation evidence (RFC 5280 §6.3): CRLs parsed once into an index, their scope, delta
//! CRLs and signer checks. Sans-IO: callers fetch the bytes, this module judges them.

pub mod check;
pub mod crl;
pub mod decide;
pub mod ocsp;

pub use check::{
    CrlSet, EvidenceNeed, FetchFailure, FetchFailures, OcspStore, RevocationEvidence, RevocationMode, RevocationSource,
    RevocationStatus,
};

pub use crl::{
    revocation_status, CrlError, CrlIndex, CrlNumber, DistributionPoint, DistributionPointName, GeneralNameValue,
    HoldInstruction, IssuingDistributionPoint, Reason, ReasonMask, RevokedEntry, ScopeMismatch, SerialKey,
};
