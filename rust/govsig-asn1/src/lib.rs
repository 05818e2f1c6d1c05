//! DER types for X.509, CRLs, OCSP, CMS and RFC 3161 time-stamps on rust-asn1, plus a bounded BER->DER normaliser.
//!
//! Types borrow from the input (zero-copy): parsing a certificate or a SignedData allocates
//! nothing but the few vectors a caller asks for.
#![forbid(unsafe_code)]
// rust-asn1's derive returns its own ParseError (large by design: it carries the location
// path) from every generated parser; boxing it is not ours to do.
#![allow(clippy::result_large_err)]

pub mod ber;
pub mod cms;
pub mod cms_write;
pub mod common;
pub mod crl;
pub mod ocsp;
pub mod tsp;
pub mod x509;

pub use asn1;
