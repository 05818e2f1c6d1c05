//! CMS SignedData (RFC 5652 §5): the trust decision for one document, signing, and adding
//! unsigned attributes (time-stamps) to what is already signed.

pub mod input;
pub mod sign;
pub mod signed_data;
pub mod unsigned;
pub mod verify;

pub use signed_data::{ParsedSignedData, SignerIdentity};
pub use verify::{SignerOutcome, VerifyOutcome};
