//! Signature algorithms: one table keyed by the exact DER of AlgorithmIdentifier.
//!
//! [`SignatureScheme::from_algorithm_identifier`] maps the exact AlgorithmIdentifier bytes of
//! a certificate, CRL or OCSP response to a scheme (as rustls-webpki does; anything else is
//! "unsupported" with the list of what is supported); [`SignatureScheme::for_cms`] adds the
//! CMS conventions. [`PublicKey`] parses a SubjectPublicKeyInfo once and is shared across
//! threads. Primitives are aws-lc-rs; a pure-Rust fallback covers DSA and the RSA cases
//! aws-lc-rs has no parameter set for (see `fallback`).

// asn1's derive(Asn1Read) returns its (large) ParseError by value; nothing to do about it here.
#![allow(clippy::result_large_err)]

pub mod der;
mod digest;
mod fallback;
mod key;
mod oid;
mod scheme;
#[cfg(test)]
mod tests;

pub use digest::{DigestAlgorithm, Hasher};
pub use key::{KeyType, PublicKey};
pub use scheme::{supported_signature_algorithms, SignatureScheme};

/// Why a signature could not be verified (or was found bad).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CryptoError {
    /// The algorithm (named, with its dotted OID) is not supported; the message lists the
    /// supported ones.
    UnsupportedAlgorithm(String),
    /// SHA-1 or DSA while the policy forbids legacy algorithms; names the algorithm.
    LegacyNotAllowed(String),
    /// The SubjectPublicKeyInfo could not be parsed or the key was rejected; says why.
    InvalidKey(String),
    /// The signature algorithm does not fit the key (e.g. ECDSA with an RSA key).
    KeyAlgorithmMismatch(String),
    /// The signature does not verify (including malformed signature encodings).
    BadSignature,
    /// The RSA modulus is below the caller's minimum.
    WeakKey(String),
}

impl std::fmt::Display for CryptoError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::UnsupportedAlgorithm(m) => write!(f, "unsupported algorithm: {m}"),
            Self::LegacyNotAllowed(m) => write!(f, "legacy algorithm not allowed: {m}"),
            Self::InvalidKey(m) => write!(f, "invalid public key: {m}"),
            Self::KeyAlgorithmMismatch(m) => {
                write!(f, "key does not match the signature algorithm: {m}")
            }
            Self::BadSignature => f.write_str("signature does not verify"),
            Self::WeakKey(m) => write!(f, "key too weak: {m}"),
        }
    }
}

impl std::error::Error for CryptoError {}
