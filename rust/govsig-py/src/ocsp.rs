//! OCSP glue: request building, AIA URLs and single-response validation; the core runs with
//! the GIL released, certificate inputs that cannot be parsed are ValueError (misuse), and a
//! response that cannot be used is a result, never an exception.

use std::sync::Arc;

use govsig_core::crypto::DigestAlgorithm;
use govsig_core::revocation::ocsp::{self as core, CertStatus, OcspCheck, OcspRequest};
use govsig_core::x509::{CertRef, Certificate, TrustStore};
use govsig_core::Code;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::guard::{guard, guard_result};

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(ocsp_build_request, m)?)?;
    m.add_function(wrap_pyfunction!(ocsp_urls, m)?)?;
    m.add_function(wrap_pyfunction!(ocsp_validate_response, m)?)?;
    m.add_function(wrap_pyfunction!(ocsp_not_a_response, m)?)?;
    Ok(())
}

/// Why `der` is not an OCSPResponse at all, or None when it is one (usable or not: a
/// response that cannot be used is evidence that decides nothing, not misuse).
#[pyfunction]
fn ocsp_not_a_response(der: &[u8]) -> Option<String> {
    core::OcspResponse::check_outer(der).err().map(|e| e.reason)
}

fn parse_cert(what: &str, der: &[u8]) -> PyResult<CertRef> {
    guard("parsing a certificate", || Ok(Certificate::from_der(der)))?
        .map(Arc::new)
        .map_err(|e| PyValueError::new_err(format!("{what} is not a valid X.509 certificate: {e}")))
}

fn digest(name: &str) -> PyResult<DigestAlgorithm> {
    match name {
        "sha1" => Ok(DigestAlgorithm::Sha1),
        "sha256" => Ok(DigestAlgorithm::Sha256),
        "sha384" => Ok(DigestAlgorithm::Sha384),
        "sha512" => Ok(DigestAlgorithm::Sha512),
        other => Err(PyValueError::new_err(format!(
            "hash must be one of sha1, sha256, sha384, sha512, not {other:?}"
        ))),
    }
}

/// DER OCSPRequest for `cert` issued by `issuer`.
#[pyfunction]
#[pyo3(signature = (cert, issuer, hash, nonce=None))]
fn ocsp_build_request<'py>(
    py: Python<'py>,
    cert: &[u8],
    issuer: &[u8],
    hash: &str,
    nonce: Option<&[u8]>,
) -> PyResult<Bound<'py, PyBytes>> {
    let cert = parse_cert("cert", cert)?;
    let issuer = parse_cert("issuer", issuer)?;
    let hash = digest(hash)?;
    let der = guard("ocsp.build_request", || {
        Ok(OcspRequest::new(&cert, &issuer, hash, nonce))
    })?
    .map_err(|e| PyValueError::new_err(e.reason))?;
    Ok(PyBytes::new(py, &der))
}

/// OCSP responder URIs of the certificate's authorityInfoAccess.
#[pyfunction]
fn ocsp_urls(cert: &[u8]) -> PyResult<Vec<String>> {
    let cert = parse_cert("cert", cert)?;
    guard("ocsp.urls", || Ok(core::ocsp_urls(&cert)))?.map_err(|e| PyValueError::new_err(e.reason))
}

/// `(code, reason, status, this_update, next_update, produced_at, revocation_time,
/// revocation_reason, responder, delegated)`; times as Unix seconds.
type ResultTuple = (
    &'static str,
    String,
    Option<&'static str>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<&'static str>,
    Option<Vec<u8>>,
    bool,
);

#[pyfunction]
#[pyo3(signature = (response, cert, issuer, trust, at, skew, max_age, nonce, other_certs, legacy, min_rsa_bits))]
#[allow(clippy::too_many_arguments)]
fn ocsp_validate_response(
    py: Python<'_>,
    response: &[u8],
    cert: &[u8],
    issuer: &[u8],
    trust: Option<Vec<Vec<u8>>>,
    at: i64,
    skew: i64,
    max_age: i64,
    nonce: Option<Vec<u8>>,
    other_certs: Vec<Vec<u8>>,
    legacy: bool,
    min_rsa_bits: usize,
) -> PyResult<ResultTuple> {
    let cert = parse_cert("cert", cert)?;
    let issuer = parse_cert("issuer", issuer)?;
    let trust = match trust {
        None => None,
        Some(ders) => Some(TrustStore::new(
            ders.iter()
                .map(|d| parse_cert("a trust anchor", d))
                .collect::<PyResult<Vec<_>>>()?,
        )),
    };
    let others = other_certs
        .iter()
        .map(|d| parse_cert("an element of other_certs", d))
        .collect::<PyResult<Vec<_>>>()?;
    let check = OcspCheck {
        at,
        skew,
        max_age,
        nonce: nonce.as_deref(),
        legacy,
        min_rsa_bits,
        other_certs: &others,
        evidence_after_t: false,
    };
    let judge = || {
        let outcome =
            py.allow_threads(|| core::validate_response_with_anchors(response, &cert, &issuer, &check, trust.as_ref()));
        tuple(outcome, &cert)
    };
    let internal = |m: String| {
        (
            Code::InternalError.name(),
            m,
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            false,
        )
    };
    Ok(guard_result("ocsp.validate_response", judge, internal))
}

fn tuple(outcome: Result<core::OcspStatus, core::OcspError>, cert: &CertRef) -> ResultTuple {
    match outcome {
        Err(e) => (e.code.name(), e.reason, None, None, None, None, None, None, None, false),
        Ok(s) => {
            let (time, reason) = match s.status {
                CertStatus::Revoked { time, reason } => (Some(time), reason.map(|r| r.name())),
                _ => (None, None),
            };
            (
                s.code().name(),
                s.describe(cert),
                Some(s.status.name()),
                Some(s.this_update),
                s.next_update,
                Some(s.produced_at),
                time,
                reason,
                Some(s.responder.der().to_vec()),
                s.delegated,
            )
        }
    }
}
