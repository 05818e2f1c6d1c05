//! OCSP (RFC 6960; nonce RFC 8954; lightweight profile RFC 5019), sans-IO: build a request,
//! judge the response bytes a caller fetched.
//!
//! What a revocation checker calls:
//! 1. [`ocsp_urls`] — where to ask (authorityInfoAccess id-ad-ocsp).
//! 2. [`OcspRequest::new`] — the DER request (SHA-1 or SHA-256 CertID, optional nonce).
//! 3. [`validate_response`] (or [`OcspResponse::from_der`] once, then [`validate_parsed`]
//!    per certificate) — responseStatus, signature, responder authorisation (§4.2.2.2),
//!    CertID, freshness (§4.2.2.1), nonce, critical extensions; the outcome is an
//!    [`OcspStatus`] or an [`OcspError`] with a specific [`Code`].

mod request;
mod response;
#[cfg(test)]
mod tests;
mod validate;

pub use request::{ocsp_urls, subject_public_key_bits, CertId, OcspRequest, MAX_NONCE_LEN};
pub use response::{CertStatus, OcspResponse, ResponderId, SingleResponse};
pub use validate::{
    validate_parsed, validate_response, validate_response_with_anchors, OcspCheck, OcspStatus, ResponderAuthority,
};

use crate::outcome::Code;
use crate::revocation::checker::PathError;

/// Why an OCSP response cannot be used (or why a request cannot be built). `reason` names
/// the certificates involved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OcspError {
    pub code: Code,
    pub reason: String,
    /// What the delegated responder's own path lacked (its issuer by caIssuers, its own
    /// CRL): fetched, it could make the response usable.
    pub needs: Vec<crate::need::EvidenceNeed>,
}

impl OcspError {
    pub fn new(code: Code, reason: impl Into<String>) -> OcspError {
        OcspError {
            code,
            reason: reason.into(),
            needs: Vec::new(),
        }
    }

    pub(crate) fn invalid(reason: String) -> OcspError {
        OcspError {
            code: Code::OcspInvalid,
            reason,
            needs: Vec::new(),
        }
    }
}

impl std::fmt::Display for OcspError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.reason)
    }
}

impl std::error::Error for OcspError {}

impl From<OcspError> for PathError {
    fn from(e: OcspError) -> PathError {
        PathError::new(e.code, e.reason)
    }
}
