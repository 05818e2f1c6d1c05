//! What a check lacks, named by where it can be fetched: the one piece of sans-IO data that
//! path validation, revocation, time-stamps and the caller's fetcher all speak. It lives
//! here, beside them rather than in any of them, so that path validation can carry it in a
//! [`crate::x509::path::PathError`] without importing revocation (DESIGN: "x509 never imports
//! revocation").

/// Evidence the core lacks for a certificate, named by where it can be fetched.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EvidenceNeed {
    /// A CRL at this URL (the certificate's cRLDistributionPoints, RFC 5280 §4.2.1.13).
    Crl { url: String },
    /// An OCSP response to this DER request from the responder at this URL
    /// (authorityInfoAccess id-ad-ocsp, RFC 5280 §4.2.2.1).
    Ocsp { url: String, request: Vec<u8> },
    /// The certificates at this URL (a DER certificate or a certs-only PKCS#7 ".p7c"): the
    /// authorityInfoAccess id-ad-caIssuers of a certificate whose issuer no path could find
    /// (RFC 5280 §4.2.2.1). What comes is only ever an untrusted intermediate.
    Issuer { url: String },
}

impl EvidenceNeed {
    pub fn url(&self) -> &str {
        match self {
            EvidenceNeed::Crl { url } | EvidenceNeed::Ocsp { url, .. } | EvidenceNeed::Issuer { url } => url,
        }
    }
}
