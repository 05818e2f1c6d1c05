//! A `BasicOCSPResponse` parsed once into an owned view (RFC 6960 §4.2.1). Parsing refuses
//! what no validation could accept (not DER, an unsuccessful responseStatus, another
//! responseType, a version other than v1, an unreadable embedded certificate); judging
//! the response (signature, responder, CertID, freshness, nonce) is [`super::validate`]'s.

use std::sync::Arc;

use govsig_asn1::ocsp as asn;
use govsig_asn1::ocsp::response_status;

use super::OcspError;
use crate::crypto::DigestAlgorithm;
use crate::revocation::crl::Reason;
use crate::time::{self, UnixTime};
use crate::x509::cert::{fingerprint, CertRef};
use crate::x509::{Certificate, Name};

/// `ResponderID` (RFC 6960 §4.2.1).
#[derive(Clone, Debug)]
pub enum ResponderId {
    ByName(Name),
    /// SHA-1 of the responder's subjectPublicKey bits.
    ByKey(Vec<u8>),
}

impl std::fmt::Display for ResponderId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ResponderId::ByName(n) => write!(f, "byName '{n}'"),
            ResponderId::ByKey(k) => write!(f, "byKey {}", hex::encode(k)),
        }
    }
}

/// `CertStatus` (RFC 6960 §4.2.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CertStatus {
    Good,
    Revoked { time: UnixTime, reason: Option<Reason> },
    Unknown,
}

impl CertStatus {
    pub fn name(&self) -> &'static str {
        match self {
            CertStatus::Good => "good",
            CertStatus::Revoked { .. } => "revoked",
            CertStatus::Unknown => "unknown",
        }
    }
}

/// One `SingleResponse`.
#[derive(Clone, Debug)]
pub struct SingleResponse {
    /// The CertID hash algorithm, or why it is not supported (such an answer names no
    /// certificate govsig can recognise).
    pub hash: Result<DigestAlgorithm, String>,
    pub issuer_name_hash: Vec<u8>,
    pub issuer_key_hash: Vec<u8>,
    /// Serial number content octets.
    pub serial: Vec<u8>,
    pub status: CertStatus,
    pub this_update: UnixTime,
    pub next_update: Option<UnixTime>,
    /// Dotted OIDs of critical singleExtensions govsig does not understand.
    pub unknown_critical: Vec<String>,
}

/// A successful `BasicOCSPResponse`.
#[derive(Clone, Debug)]
pub struct OcspResponse {
    /// The DER `OCSPResponse` as received (kept as evidence).
    pub der: Arc<[u8]>,
    /// SHA-256 of the whole DER `OCSPResponse`: its identity in caches.
    pub fingerprint: [u8; 32],
    /// The exact `ResponseData` bytes the signature covers.
    pub tbs: Vec<u8>,
    pub signature_algorithm: Vec<u8>,
    pub signature: Vec<u8>,
    pub signature_octet_aligned: bool,
    pub responder_id: ResponderId,
    pub produced_at: UnixTime,
    pub responses: Vec<SingleResponse>,
    /// The nonce extension's extnValue, as received.
    pub nonce: Option<Vec<u8>>,
    /// Dotted OIDs of critical responseExtensions govsig does not understand.
    pub unknown_critical: Vec<String>,
    /// The `certs` the responder sent (RFC 6960 §4.2.1: to help verify its signature).
    pub certs: Vec<CertRef>,
}

/// responseExtensions govsig acts on or that carry no meaning for the client: the nonce
/// (RFC 8954) and the extended-revoke flag (RFC 6960 §4.4.8, informational). A critical
/// extension outside this list makes the response unusable (RFC 6960 §4.4).
const UNDERSTOOD_RESPONSE_EXTENSIONS: &[asn1::ObjectIdentifier] = &[asn::oid::NONCE, asn::oid::EXTENDED_REVOKE];

fn status_name(s: u32) -> &'static str {
    match s {
        response_status::MALFORMED_REQUEST => "malformedRequest",
        response_status::INTERNAL_ERROR => "internalError",
        response_status::TRY_LATER => "tryLater",
        response_status::SIG_REQUIRED => "sigRequired",
        response_status::UNAUTHORIZED => "unauthorized",
        _ => "an undefined status",
    }
}

fn generalized(t: &asn1::GeneralizedTime) -> UnixTime {
    time::from_asn1(t.as_datetime())
}

impl OcspResponse {
    /// Whether `der` is an `OCSPResponse` at all (its outer structure, RFC 6960 §4.2.1),
    /// whatever its status: what separates misuse (not OCSP) from bad evidence.
    pub fn check_outer(der: &[u8]) -> Result<(), OcspError> {
        asn1::parse_single::<asn::OcspResponse<'_>>(der)
            .map(|_| ())
            .map_err(|e| OcspError::invalid(format!("not a DER OCSPResponse: {}", govsig_asn1::common::explain(&e))))
    }

    /// Parses a DER `OCSPResponse` whose responseStatus is successful and whose
    /// responseBytes hold a `BasicOCSPResponse`.
    pub fn from_der(der: &[u8]) -> Result<OcspResponse, OcspError> {
        let outer = asn1::parse_single::<asn::OcspResponse<'_>>(der).map_err(|e| {
            OcspError::invalid(format!(
                "the OCSP response is not a DER OCSPResponse: {}",
                govsig_asn1::common::explain(&e)
            ))
        })?;
        let status = outer.response_status.value();
        if status != response_status::SUCCESSFUL {
            return Err(OcspError::invalid(format!(
                "the OCSP responder answered {} (responseStatus {status}) instead of a status",
                status_name(status)
            )));
        }
        let bytes = outer.response_bytes.ok_or_else(|| {
            OcspError::invalid("a successful OCSP response without responseBytes (RFC 6960 §4.2.1)".into())
        })?;
        if bytes.response_type != asn::oid::BASIC {
            return Err(OcspError::invalid(format!(
                "OCSP responseType {} is not id-pkix-ocsp-basic, the only type govsig reads",
                bytes.response_type
            )));
        }
        let basic = asn1::parse_single::<asn::BasicOcspResponse<'_>>(bytes.response).map_err(|e| {
            OcspError::invalid(format!(
                "BasicOCSPResponse is not DER: {}",
                govsig_asn1::common::explain(&e)
            ))
        })?;
        let tbs = basic.tbs_response_data.full_data();
        let data = asn1::parse_single::<asn::ResponseData<'_>>(tbs).map_err(|e| {
            OcspError::invalid(format!("ResponseData is not DER: {}", govsig_asn1::common::explain(&e)))
        })?;
        if data.version != 0 {
            return Err(OcspError::invalid(format!(
                "ResponseData version {} is not v1 (RFC 6960 §4.2.1)",
                u32::from(data.version) + 1
            )));
        }
        let responder_id = match data.responder_id {
            asn::ResponderId::ByName(n) => ResponderId::ByName(
                Name::from_der(n.full_data())
                    .map_err(|e| OcspError::invalid(format!("responderID byName: {}", e.0)))?,
            ),
            asn::ResponderId::ByKey(k) => ResponderId::ByKey(k.to_vec()),
        };
        let mut unknown_critical = Vec::new();
        let mut nonce = None;
        for ext in data.response_extensions.into_iter().flatten() {
            if ext.extn_id == asn::oid::NONCE {
                if nonce.is_some() {
                    return Err(OcspError::invalid("the OCSP response has two nonce extensions".into()));
                }
                nonce = Some(ext.extn_value.to_vec());
            }
            if ext.critical && !UNDERSTOOD_RESPONSE_EXTENSIONS.contains(&ext.extn_id) {
                unknown_critical.push(ext.extn_id.to_string());
            }
        }
        let mut responses = Vec::new();
        for single in data.responses {
            responses.push(single_response(&single)?);
        }
        if responses.is_empty() {
            return Err(OcspError::invalid("the OCSP response holds no SingleResponse".into()));
        }
        let mut certs = Vec::new();
        for (i, c) in basic.certs.into_iter().flatten().enumerate() {
            let cert = Certificate::from_der(c.full_data()).map_err(|e| {
                OcspError::invalid(format!(
                    "certificate {} of the OCSP response cannot be parsed: {e}",
                    i + 1
                ))
            })?;
            certs.push(Arc::new(cert));
        }
        Ok(OcspResponse {
            der: Arc::from(der),
            fingerprint: fingerprint(der),
            tbs: tbs.to_vec(),
            signature_algorithm: basic.signature_algorithm.full_data().to_vec(),
            signature: basic.signature.as_bytes().to_vec(),
            signature_octet_aligned: basic.signature.padding_bits() == 0,
            responder_id,
            produced_at: generalized(&data.produced_at),
            responses,
            nonce,
            unknown_critical,
            certs,
        })
    }
}

fn single_response(s: &asn::SingleResponse<'_>) -> Result<SingleResponse, OcspError> {
    let status = match &s.cert_status {
        asn::CertStatus::Good(()) => CertStatus::Good,
        asn::CertStatus::Unknown(()) => CertStatus::Unknown,
        asn::CertStatus::Revoked(r) => {
            let reason = match &r.revocation_reason {
                None => None,
                Some(e) => Some(Reason::from_code(e.value()).ok_or_else(|| {
                    OcspError::invalid(format!(
                        "revocationReason {} is not a CRLReason (RFC 5280 §5.3.1)",
                        e.value()
                    ))
                })?),
            };
            CertStatus::Revoked {
                time: generalized(&r.revocation_time),
                reason,
            }
        }
    };
    let unknown_critical = s
        .single_extensions
        .clone()
        .into_iter()
        .flatten()
        .filter(|e| e.critical)
        .map(|e| e.extn_id.to_string())
        .collect();
    Ok(SingleResponse {
        hash: DigestAlgorithm::from_algorithm_identifier(s.cert_id.hash_algorithm.full_data())
            .map_err(|e| e.to_string()),
        issuer_name_hash: s.cert_id.issuer_name_hash.to_vec(),
        issuer_key_hash: s.cert_id.issuer_key_hash.to_vec(),
        serial: s.cert_id.serial_number.as_bytes().to_vec(),
        status,
        this_update: generalized(&s.this_update),
        next_update: s.next_update.as_ref().map(generalized),
        unknown_critical,
    })
}
