//! CMS SignedData verification (RFC 5652 §5): the trust decision for one document.

pub mod sign;
pub mod signed_data;
pub mod verify;

pub use signed_data::{ParsedSignedData, SignerIdentity};
pub use verify::{SignerOutcome, VerifyOutcome};
