//! DER types for X.509, CRLs, OCSP and CMS on rust-asn1, plus a bounded BER->DER normaliser.
#![forbid(unsafe_code)]

pub mod ber;
