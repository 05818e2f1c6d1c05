//! Revocation evidence (RFC 5280 §6.3, RFC 6960): CRLs parsed once into an index, their
//! scope, delta CRLs and signer checks; OCSP responses; and [`decide`], the status of a
//! certificate at a time from the whole set of evidence, whatever its order. Sans-IO:
//! callers fetch the bytes, this module judges them.

pub mod check;
pub mod checker;
pub mod crl;
pub mod decide;
pub mod ocsp;
pub mod prune;

pub use check::{
    CrlSet, EvidenceNeed, FetchFailure, FetchFailures, OcspStore, RevocationEvidence, RevocationMode, RevocationSource,
    RevocationStatus,
};

pub use checker::{DecidedBy, EdgeCache, PathContext, PathError, RevocationChecker, ValidPath};

pub use crl::{
    revocation_status, CrlError, CrlIndex, CrlNumber, DistributionPoint, DistributionPointName, GeneralNameValue,
    HoldInstruction, IssuingDistributionPoint, Reason, ReasonMask, RevokedEntry, ScopeMismatch, SerialKey,
};
