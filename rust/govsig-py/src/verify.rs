//! Verifier glue: the engine handle, results, batches.

use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;

use govsig_core::batch::PathOutcome;
use govsig_core::cms::input::InputForm;
use govsig_core::cms::verify::TimeSource;
use govsig_core::cms::{SignerOutcome, VerifyOutcome};
use govsig_core::evidence::EvidenceSet;
use govsig_core::report::{path_fields, revocation_summary, REPORT_SCHEMA};
use govsig_core::revocation::crl::CrlIndex;
use govsig_core::revocation::{EvidenceNeed, RevocationEvidence, RevocationMode, RevocationStatus};
use govsig_core::x509::{CertRef, Certificate, TrustStore};
use govsig_core::{Code, Engine};
use numpy::{IntoPyArray, PyArray1};
use pyo3::exceptions::{PyImportError, PyIndexError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PySlice, PyTuple};

use crate::convert::{bytes_list, datetime_utc};
use crate::guard::{guard, guard_result};
use crate::policy::PyPolicy;
use crate::tsp::TimestampResult;

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("TIME_SOURCES", PyTuple::new(m.py(), TimeSource::NAMES)?)?;
    m.add_function(wrap_pyfunction!(codes, m)?)?;
    m.add_function(wrap_pyfunction!(code_descriptions, m)?)?;
    m.add_function(wrap_pyfunction!(warning_descriptions, m)?)?;
    m.add_function(wrap_pyfunction!(parse_certificate, m)?)?;
    m.add_function(wrap_pyfunction!(bundle_certificates, m)?)?;
    m.add_class::<CoreEngine>()?;
    m.add_class::<VerifyResult>()?;
    m.add_class::<SignerResult>()?;
    m.add_class::<BatchResult>()?;
    m.add_class::<CertificateInfo>()?;
    m.add_class::<PathResult>()?;
    Ok(())
}

/// All outcome codes; the index of a name is its numeric code.
#[pyfunction]
fn codes() -> Vec<&'static str> {
    Code::ALL.iter().map(|c| c.name()).collect()
}

/// `{code: description}` for every outcome code.
#[pyfunction]
fn code_descriptions() -> Vec<(&'static str, &'static str)> {
    Code::ALL.iter().map(|c| (c.name(), c.description())).collect()
}

/// `{warning code: description}` for every signer warning.
#[pyfunction]
fn warning_descriptions() -> Vec<(&'static str, &'static str)> {
    govsig_core::warning::WarningCode::ALL
        .iter()
        .map(|w| (w.name(), w.description()))
        .collect()
}

fn parse_cert(der: &[u8]) -> PyResult<CertRef> {
    guard("parsing a certificate", || Ok(Certificate::from_der(der)))?
        .map(Arc::new)
        .map_err(|e| PyValueError::new_err(format!("not a valid X.509 certificate: {e}")))
}

/// Parsed certificate summary (subject, issuer, serial, validity), for the Python layer.
#[pyclass(frozen, module = "govsig._govsig")]
pub struct CertificateInfo {
    cert: CertRef,
}

#[pymethods]
impl CertificateInfo {
    #[getter]
    fn subject(&self) -> String {
        self.cert.subject.to_string()
    }
    #[getter]
    fn issuer(&self) -> String {
        self.cert.issuer.to_string()
    }
    #[getter]
    fn serial_hex(&self) -> String {
        self.cert.serial_hex()
    }
    #[getter]
    fn not_before(&self) -> i64 {
        self.cert.not_before
    }
    #[getter]
    fn not_after(&self) -> i64 {
        self.cert.not_after
    }
    #[getter]
    fn fingerprint<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.cert.fingerprint)
    }
}

/// Parses a DER certificate; raises ValueError with the reason when it is not one.
#[pyfunction]
fn parse_certificate(der: &[u8]) -> PyResult<CertificateInfo> {
    Ok(CertificateInfo { cert: parse_cert(der)? })
}

/// The certificates of a PKCS#7 certs-only bundle (DER, BER or PEM); None when `data` is
/// not a PKCS#7 ContentInfo at all; ValueError saying why when it is a broken one.
#[pyfunction]
fn bundle_certificates<'py>(py: Python<'py>, data: &[u8]) -> PyResult<Option<Bound<'py, PyList>>> {
    let found = guard("reading a PKCS#7 bundle", || {
        Ok(govsig_core::cms::input::bundle_certificates(data))
    })?
    .map_err(|e| PyValueError::new_err(e.0))?;
    found
        .map(|ders| bytes_list(py, ders.iter().map(|d| d.as_slice())))
        .transpose()
}

/// The core verification engine for one policy (built by `govsig.Verifier`).
#[pyclass(frozen, module = "govsig._govsig")]
pub struct CoreEngine {
    pub(crate) engine: Arc<Engine>,
}

#[pymethods]
impl CoreEngine {
    /// The engine for `policy`: its anchors and intermediates parsed once, its CRLs shared
    /// (already parsed by `govsig.Crl`), its OCSP responses indexed.
    #[new]
    fn new(policy: PyRef<'_, PyPolicy>) -> PyResult<Self> {
        let crls: Vec<Arc<CrlIndex>> = policy.crls.iter().map(|c| Arc::clone(&c.get().crl)).collect();
        let trust = match &policy.trust_ders {
            None => None,
            Some(ders) => Some(TrustStore::new(
                ders.iter().map(|d| parse_cert(d)).collect::<PyResult<Vec<_>>>()?,
            )),
        };
        let intermediates = policy
            .intermediates
            .iter()
            .map(|d| parse_cert(d))
            .collect::<PyResult<Vec<_>>>()?;
        let ocsp: Vec<&[u8]> = policy.ocsp_responses.iter().map(Vec::as_slice).collect();
        let core = policy.core.clone();
        let tsa_trust = match &policy.tsa_trust_ders {
            None => None,
            Some(ders) => Some(TrustStore::new(
                ders.iter().map(|d| parse_cert(d)).collect::<PyResult<Vec<_>>>()?,
            )),
        };
        let engine = guard("Verifier()", || {
            let e = Engine::new(core, trust, intermediates, crls);
            let e = match tsa_trust {
                Some(t) => e.with_tsa_trust(t),
                None => e,
            };
            Ok(e.with_ocsp_responses(&ocsp))
        })?
        .map_err(|e| PyValueError::new_err(format!("not a usable OCSP response: {e}")))?;
        Ok(CoreEngine {
            engine: Arc::new(engine),
        })
    }

    /// Verify one document with the GIL released, at `at` (seconds since the epoch; None:
    /// the policy's time, else now).
    #[pyo3(signature = (signature, content=None, at=None))]
    fn verify(
        &self,
        py: Python<'_>,
        signature: &Bound<'_, PyBytes>,
        content: Option<&Bound<'_, PyBytes>>,
        at: Option<i64>,
    ) -> VerifyResult {
        let sig = signature.as_bytes();
        let content = content.map(|c| c.as_bytes());
        let engine = Arc::clone(&self.engine);
        let out = guard_result(
            "Verifier.verify",
            || {
                py.allow_threads(move || {
                    let at = at.unwrap_or_else(|| engine.default_time());
                    engine.verify_at(sig, content, at)
                })
            },
            |m| VerifyOutcome::failure(Code::InternalError, m),
        );
        VerifyResult { inner: Arc::new(out) }
    }

    /// Verify a chunk of (signature, content-or-None) pairs on `threads` threads, appending
    /// the results, in order, to `into`; every document at `at` as in `verify`.
    #[pyo3(signature = (items, into, threads=None, at=None))]
    fn verify_chunk(
        &self,
        py: Python<'_>,
        items: &Bound<'_, PyList>,
        into: &Bound<'_, BatchResult>,
        threads: Option<usize>,
        at: Option<i64>,
    ) -> PyResult<()> {
        // Keep the bytes objects alive while their buffers are read without the GIL: they
        // are immutable, so the borrowed slices stay valid.
        let mut held: Vec<(Bound<'_, PyBytes>, Option<Bound<'_, PyBytes>>)> = Vec::with_capacity(items.len());
        for it in items.iter() {
            let t = it.downcast::<PyTuple>()?;
            let sig = t.get_item(0)?.downcast_into::<PyBytes>()?;
            let c = t.get_item(1)?;
            let content = if c.is_none() {
                None
            } else {
                Some(c.downcast_into::<PyBytes>()?)
            };
            held.push((sig, content));
        }
        let slices: Vec<(&[u8], Option<&[u8]>)> = held
            .iter()
            .map(|(s, c)| (s.as_bytes(), c.as_ref().map(|c| c.as_bytes())))
            .collect();
        let engine = Arc::clone(&self.engine);
        let outs = guard("Verifier.verify_many", || {
            Ok(py.allow_threads(move || {
                let at = at.unwrap_or_else(|| engine.default_time());
                engine.verify_batch_at(&slices, threads, at)
            }))
        })?;
        let mut b = into.borrow_mut();
        for o in outs {
            b.codes.push(o.code.number());
            b.items.push(BatchItem::Cms(Arc::new(o)));
        }
        Ok(())
    }

    /// Validate one certificate's path (DER), GIL released, at `at` as in `verify`.
    #[pyo3(signature = (certificate, intermediates, at=None))]
    fn verify_certificate(
        &self,
        py: Python<'_>,
        certificate: &Bound<'_, PyBytes>,
        intermediates: Vec<Bound<'_, PyBytes>>,
        at: Option<i64>,
    ) -> PathResult {
        let leaf = certificate.as_bytes();
        let inter: Vec<&[u8]> = intermediates.iter().map(|b| b.as_bytes()).collect();
        let engine = Arc::clone(&self.engine);
        let out = guard_result(
            "Verifier.verify_certificate",
            || {
                py.allow_threads(move || {
                    let at = at.unwrap_or_else(|| engine.default_time());
                    engine.verify_certificate_at(leaf, &inter, at)
                })
            },
            |m| PathOutcome::failure(Code::InternalError, m),
        );
        PathResult { inner: out }
    }

    /// Add fetched CRLs (DER) as evidence; returns (how many were new, [(index, error)]).
    fn add_fetched_crls(
        &self,
        py: Python<'_>,
        crls: Vec<Bound<'_, PyBytes>>,
    ) -> PyResult<(usize, Vec<(usize, String)>)> {
        let ders: Vec<&[u8]> = crls.iter().map(|b| b.as_bytes()).collect();
        let engine = Arc::clone(&self.engine);
        guard("adding fetched CRLs", || {
            Ok(py.allow_threads(move || engine.add_fetched_crls(&ders)))
        })
    }

    /// Add what caIssuers URLs served (a certificate or a certs-only PKCS#7) as untrusted
    /// intermediates; returns (how many certificates were new, [(index, error)]).
    fn add_fetched_issuers(
        &self,
        py: Python<'_>,
        bodies: Vec<Bound<'_, PyBytes>>,
    ) -> PyResult<(usize, Vec<(usize, String)>)> {
        let ders: Vec<&[u8]> = bodies.iter().map(|b| b.as_bytes()).collect();
        let engine = Arc::clone(&self.engine);
        guard("adding fetched issuer certificates", || {
            Ok(py.allow_threads(move || engine.add_fetched_issuers(&ders)))
        })
    }

    /// Add fetched OCSP responses (DER); returns (how many were new, [(index, error)]).
    fn add_fetched_ocsp(
        &self,
        py: Python<'_>,
        responses: Vec<Bound<'_, PyBytes>>,
    ) -> PyResult<(usize, Vec<(usize, String)>)> {
        let ders: Vec<&[u8]> = responses.iter().map(|b| b.as_bytes()).collect();
        let engine = Arc::clone(&self.engine);
        guard("adding fetched OCSP responses", || {
            Ok(py.allow_threads(move || engine.add_fetched_ocsp(&ders)))
        })
    }

    /// Record evidence that could not be used: [(url, why)]; `fetched` when it came but
    /// decided nothing (then not a fetch failure).
    #[pyo3(signature = (failures, fetched=false))]
    fn add_fetch_failures(&self, failures: Vec<(String, String)>, fetched: bool) {
        self.engine.add_fetch_failures(failures, !fetched)
    }

    /// Forget the failures recorded for these URLs (their retry time has come, or what they
    /// served went stale): statuses they left undecided ask for them again. Returns how many
    /// were forgotten.
    fn forget_fetch_failures(&self, urls: Vec<String>) -> usize {
        self.engine.forget_fetch_failures(&urls)
    }

    /// Forget fetched CRLs and OCSP responses (their DER as added) that went stale by the
    /// caller's clock: they stop deciding, also for a past time, and are asked for again.
    /// Returns how many were forgotten.
    fn forget_fetched(&self, py: Python<'_>, ders: Vec<Vec<u8>>) -> usize {
        let views: Vec<&[u8]> = ders.iter().map(Vec::as_slice).collect();
        py.allow_threads(|| self.engine.forget_fetched(&views))
    }

    /// Number of distinct certificates parsed so far (interned across documents).
    fn interned_certificates(&self) -> usize {
        self.engine.interner().len()
    }

    /// Number of certificate paths built and validated so far (path-cache misses).
    fn path_builds(&self) -> u64 {
        self.engine.path_builds()
    }

    /// Fetched evidence held: (CRLs, OCSP responses, items forgotten so far as stale and
    /// superseded). A long-running verifier's count stays bounded.
    fn fetched_evidence(&self) -> (usize, usize, u64) {
        self.engine.fetched_evidence()
    }
}

/// The verdict on one document.
#[pyclass(frozen, module = "govsig._govsig")]
pub struct VerifyResult {
    inner: Arc<VerifyOutcome>,
}

#[pymethods]
impl VerifyResult {
    /// What decided the verdict (`govsig.evidence.Evidence`): each signer's path, the CRLs
    /// and OCSP responses that decided its certificates' status, and each valid signature
    /// time-stamp's TSA path and evidence; DER, each once.
    #[getter]
    fn evidence<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let mut ev = EvidenceSet::default();
        ev.add_outcome(&self.inner);
        evidence_to_py(py, &ev)
    }
    /// True only when every signature is valid and every signer is trusted.
    #[getter]
    fn ok(&self) -> bool {
        self.inner.ok()
    }
    /// Stable snake_case outcome code (see `govsig.codes()`).
    #[getter]
    fn code(&self) -> &'static str {
        self.inner.code.name()
    }
    #[getter]
    fn code_number(&self) -> u8 {
        self.inner.code.number()
    }
    /// Human-readable reason, naming the offending certificate; empty when ok.
    #[getter]
    fn reason(&self) -> &str {
        &self.inner.reason
    }
    /// True when signatures are intact, whatever the trust decision.
    #[getter]
    fn integrity_ok(&self) -> bool {
        self.inner.integrity_ok()
    }
    /// The input was BER and was normalised to DER.
    #[getter]
    fn was_ber(&self) -> bool {
        self.inner.was_ber
    }
    #[getter]
    fn detached(&self) -> bool {
        self.inner.detached
    }
    #[getter]
    fn content_type(&self) -> Option<&str> {
        self.inner.content_type.as_deref()
    }
    /// The signed content (the encapsulated content of an attached signature, or the first
    /// part of an S/MIME multipart/signed message); None for results of the bulk methods.
    #[getter]
    fn content<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyBytes>> {
        self.inner.content.as_deref().map(|c| PyBytes::new(py, c))
    }
    /// How the signature arrived: "der" (DER or BER), "pem", "smime-signed" or "smime-opaque".
    #[getter]
    fn input_form(&self) -> &'static str {
        match self.inner.form {
            InputForm::Der => "der",
            InputForm::Pem => "pem",
            InputForm::SmimeSigned => "smime-signed",
            InputForm::SmimeOpaque => "smime-opaque",
        }
    }
    #[getter]
    fn signers(&self) -> Vec<SignerResult> {
        (0..self.inner.signers.len())
            .map(|i| SignerResult {
                doc: Arc::clone(&self.inner),
                index: i,
                counter: Vec::new(),
            })
            .collect()
    }
    /// Evidence the core lacked: ("crl", url, None), ("ocsp", url, request) and ("issuer",
    /// url, None) (a caIssuers URL) items.
    #[getter]
    fn needs<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyTuple>>> {
        needs_tuples(py, &self.inner.needs())
    }
    fn __bool__(&self) -> bool {
        self.inner.ok()
    }
    /// The verdict as plain JSON-safe values (str, int, bool, None, lists, dicts): what an
    /// archive report line holds for the signature part.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        outcome_dict(py, &self.inner)
    }
    /// `to_dict()` as compact JSON text (same keys, same order), made without building the
    /// Python objects: what a bulk report writes per document. Inert: controls (C0, DEL,
    /// C1), format characters (bidi overrides) and U+2028/U+2029 are `\uXXXX` escapes, as
    /// the CLI and the reports write them.
    fn to_json(&self) -> String {
        let mut j = Json::default();
        outcome_json(&mut j, &self.inner);
        j.0
    }
    /// The JSON text of `[s.to_dict() for s in signers]`.
    fn signers_json(&self) -> String {
        let mut j = Json::default();
        signers_json(&mut j, &self.inner.signers);
        j.0
    }
    /// Per signer, the revocation status of each certificate checked on its path
    /// ("good" or "unknown", signer first); empty when none was checked.
    fn revocation_statuses(&self) -> Vec<Vec<&'static str>> {
        self.inner
            .signers
            .iter()
            .map(|s| {
                s.revocation
                    .iter()
                    .map(|e| match e.status {
                        RevocationStatus::Good => "good",
                        RevocationStatus::Unknown(_) => "unknown",
                        RevocationStatus::Revoked(_) => "revoked",
                    })
                    .collect()
            })
            .collect()
    }
    /// "proven", "unknown" or "not_checked": whether the revocation status of every
    /// certificate that needed one was established under revocation `mode` (the report
    /// line's `revocation_status`).
    fn revocation_summary(&self, mode: &str) -> PyResult<&'static str> {
        Ok(revocation_summary(revocation_mode(mode)?, self.inner.code, &self.inner.signers).name())
    }
    /// The outcome code of each signer, in order.
    fn signer_codes(&self) -> Vec<&'static str> {
        self.inner.signers.iter().map(|s| s.code.name()).collect()
    }
    fn __repr__(&self) -> String {
        format!(
            "VerifyResult(code={:?}, signers={}, reason={:?})",
            self.inner.code.name(),
            self.inner.signers.len(),
            self.inner.reason
        )
    }
}

/// The verdict on one SignerInfo.
#[pyclass(frozen, module = "govsig._govsig")]
pub struct SignerResult {
    pub(crate) doc: Arc<VerifyOutcome>,
    pub(crate) index: usize,
    /// For a countersigner: the positions in `countersigners`, level by level, from the
    /// document's signer `index`.
    pub(crate) counter: Vec<usize>,
}

impl SignerResult {
    fn s(&self) -> &SignerOutcome {
        // Every index is in range by construction (VerifyResult::signers, countersigners).
        let mut s = &self.doc.signers[self.index];
        for &k in &self.counter {
            s = &s.countersigners[k];
        }
        s
    }
}

#[pymethods]
impl SignerResult {
    #[getter]
    fn ok(&self) -> bool {
        self.s().code == Code::Ok
    }
    #[getter]
    fn code(&self) -> &'static str {
        self.s().code.name()
    }
    #[getter]
    fn reason(&self) -> &str {
        &self.s().reason
    }
    /// Signer certificate subject (RFC 4514), or None when the certificate was not found.
    #[getter]
    fn subject(&self) -> Option<String> {
        self.s().certificate.as_ref().map(|c| c.subject.to_string())
    }
    #[getter]
    fn issuer(&self) -> Option<String> {
        self.s().certificate.as_ref().map(|c| c.issuer.to_string())
    }
    /// Serial number as a Python int.
    #[getter]
    fn serial<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        match &self.s().certificate {
            None => Ok(None),
            Some(c) => {
                let b = PyBytes::new(py, &c.serial);
                let int = py.get_type::<pyo3::types::PyInt>();
                Ok(Some(int.call_method(
                    "from_bytes",
                    (b, "big"),
                    Some(&[("signed", true)].into_py_dict(py)?),
                )?))
            }
        }
    }
    /// How the SignerInfo identified its certificate.
    #[getter]
    fn sid(&self) -> String {
        self.s().sid_text()
    }
    #[getter]
    fn signing_time<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.s().signing_time.map(|t| datetime_utc(py, t)).transpose()
    }
    #[getter]
    fn digest_algorithm(&self) -> Option<&'static str> {
        self.s().digest_algorithm
    }
    #[getter]
    fn signature_algorithm(&self) -> Option<&'static str> {
        self.s().signature_algorithm
    }
    /// Warning codes (`govsig.warning_descriptions()` says what each means): what was
    /// accepted though not written as the standards say, or must be said about the verdict.
    #[getter]
    fn warnings(&self) -> Vec<&'static str> {
        self.s().warnings.iter().map(|w| w.code.name()).collect()
    }
    /// `[(code, detail)]`: each warning with the text about this case, for a person.
    #[getter]
    fn warning_details(&self) -> Vec<(&'static str, String)> {
        self.s()
            .warnings
            .iter()
            .map(|w| (w.code.name(), w.detail.clone()))
            .collect()
    }
    /// DER of the signer certificate.
    #[getter]
    fn certificate<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyBytes>> {
        self.s().certificate.as_ref().map(|c| PyBytes::new(py, c.der()))
    }
    /// DER certificates of the validated path, signer first, trust anchor last.
    #[getter]
    fn chain<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        bytes_list(py, self.s().chain.iter().map(|c| c.der()))
    }
    /// Revocation evidence per certificate of the chain (signer first): which CRL decided.
    #[getter]
    fn revocation<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyDict>>> {
        evidence_dicts(py, &self.s().revocation)
    }
    /// The signer certificate's subject attributes in certificate order: (short name or
    /// dotted OID, text); empty when the certificate was not found.
    #[getter]
    fn subject_fields(&self) -> Vec<(String, String)> {
        self.s()
            .certificate
            .as_ref()
            .map(|c| c.subject.fields())
            .unwrap_or_default()
    }
    /// The Vietnamese identifiers in the signer's subject, `{"CCCD"|"MST"|"CMND"|"HC": [values]}`
    /// with only the kinds found (`{}` for none), read from `PREFIX:value` text in UID or any
    /// other attribute; a 12-digit CCCD is also listed under MST, being the personal tax code
    /// (rules: govsig_core::x509::identifiers).
    #[getter]
    fn identifiers<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        self.s()
            .certificate
            .as_ref()
            .map(|c| govsig_core::x509::identifiers::identifiers_by_kind(&c.subject))
            .unwrap_or_default()
            .into_py_dict(py)
    }
    /// The signer's verdict as plain JSON-safe values (times as ISO 8601 UTC text,
    /// fingerprints and serial as lowercase hex).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        signer_dict(py, self.s())
    }
    /// The time the signer was judged at (None when the check stopped before the trust
    /// decision).
    #[getter]
    fn signature_time<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.s().signature_time.map(|t| datetime_utc(py, t)).transpose()
    }
    /// Where `signature_time` came from: "timestamp", "claimed" (the signer's own
    /// signingTime) or "at" (the policy's time); None with no signature_time.
    #[getter]
    fn signature_time_source(&self) -> Option<&'static str> {
        time_source_name(self.s().signature_time_source)
    }
    /// The signer's signature time-stamp tokens (kind "signature"), then its content
    /// time-stamp tokens (kind "content"), each judged on its own.
    #[getter]
    fn timestamps(&self) -> Vec<TimestampResult> {
        self.s()
            .timestamps
            .iter()
            .map(|t| TimestampResult::from_outcome(t.clone()))
            .collect()
    }
    /// The signer's countersignatures (id-countersignature, RFC 5652 §11.4), each verified
    /// over this signer's signature value and reported as a signer of its own; a bad one
    /// adds the warning "countersignature_invalid" here and does not fail this signer.
    #[getter]
    fn countersigners(&self) -> Vec<SignerResult> {
        (0..self.s().countersigners.len())
            .map(|k| {
                let mut counter = self.counter.clone();
                counter.push(k);
                SignerResult {
                    doc: Arc::clone(&self.doc),
                    index: self.index,
                    counter,
                }
            })
            .collect()
    }
    fn __repr__(&self) -> String {
        let s = self.s();
        format!(
            "SignerResult(code={:?}, subject={:?})",
            s.code.name(),
            s.certificate
                .as_ref()
                .map(|c| c.subject.to_string())
                .unwrap_or_default()
        )
    }
}

use pyo3::types::IntoPyDict;

/// Results of a batch, in input order: numeric codes as numpy, details on demand.
#[pyclass(module = "govsig._govsig")]
#[derive(Default)]
pub struct BatchResult {
    pub(crate) codes: Vec<u8>,
    pub(crate) items: Vec<BatchItem>,
}

/// One document of a batch: a CMS signature or a signed PDF (`verify_files` mixes them).
#[derive(Clone)]
pub(crate) enum BatchItem {
    Cms(Arc<VerifyOutcome>),
    Pdf(Arc<govsig_core::pdf::PdfOutcome>),
}

impl BatchItem {
    /// The CMS outcome (None for a signed PDF).
    fn cms(&self) -> Option<&Arc<VerifyOutcome>> {
        match self {
            BatchItem::Cms(o) => Some(o),
            BatchItem::Pdf(_) => None,
        }
    }
    fn needs(&self) -> Vec<EvidenceNeed> {
        match self {
            BatchItem::Cms(o) => o.needs(),
            BatchItem::Pdf(o) => o.needs(),
        }
    }
}

#[pymethods]
impl BatchResult {
    #[new]
    fn new() -> Self {
        Self::default()
    }
    fn __len__(&self) -> usize {
        self.items.len()
    }
    /// `batch[i]` is a VerifyResult (or a PdfResult for a signed PDF of `verify_files`);
    /// `batch[a:b:c]` a new BatchResult of those results.
    fn __getitem__(&self, py: Python<'_>, key: &Bound<'_, PyAny>) -> PyResult<PyObject> {
        let n = isize::try_from(self.items.len()).map_err(|_| PyIndexError::new_err("batch too large"))?;
        if let Ok(sl) = key.downcast::<PySlice>() {
            let ind = sl.indices(n)?;
            let mut out = BatchResult::default();
            let mut i = ind.start;
            for _ in 0..ind.slicelength {
                let j = usize::try_from(i).map_err(|_| PyIndexError::new_err("index out of range"))?;
                out.codes.push(self.codes[j]);
                out.items.push(self.items[j].clone());
                i += ind.step;
            }
            return Ok(Py::new(py, out)?.into_any());
        }
        let i: isize = key.extract()?;
        let j = if i < 0 { i + n } else { i };
        if j < 0 || j >= n {
            return Err(PyIndexError::new_err(format!(
                "index {i} out of range for a batch of {n}"
            )));
        }
        let j = usize::try_from(j).map_err(|_| PyIndexError::new_err("index out of range"))?;
        Ok(match &self.items[j] {
            BatchItem::Cms(o) => Py::new(py, VerifyResult { inner: Arc::clone(o) })?.into_any(),
            BatchItem::Pdf(o) => Py::new(py, crate::pdf::PdfResult { inner: Arc::clone(o) })?.into_any(),
        })
    }
    /// One JSON-safe dict per document (`VerifyResult.to_dict()`), in order. A signed PDF's
    /// record has the same keys, its signers being those of its signatures in file order,
    /// and `pdf`: the revisions and, per signature, the fields of the report line's `pdf`.
    fn to_records<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyDict>>> {
        self.items
            .iter()
            .map(|o| match o {
                BatchItem::Cms(o) => outcome_dict(py, o),
                BatchItem::Pdf(o) => pdf_outcome_dict(py, o),
            })
            .collect()
    }
    /// The records as a `pyarrow.Table` (signers as a list of structs). Needs pyarrow.
    fn to_arrow<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let pa = py.import("pyarrow").map_err(|e| {
            PyImportError::new_err(format!(
                "BatchResult.to_arrow needs pyarrow, which is not installed ({e}); \
                 install it with: pip install 'govsig[arrow]'"
            ))
        })?;
        let records = self.to_records(py)?;
        pa.getattr("Table")?.call_method1("from_pylist", (records,))
    }
    /// The records as a `pandas.DataFrame`. Needs pyarrow and pandas.
    fn to_pandas<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        py.import("pandas").map_err(|e| {
            PyImportError::new_err(format!(
                "BatchResult.to_pandas needs pandas, which is not installed ({e}); \
                 install it with: pip install 'govsig[pandas]'"
            ))
        })?;
        self.to_arrow(py)?.call_method0("to_pandas")
    }
    /// The archive report line (JSON text, schema govsig.report/1) of each document, with
    /// the verdict, code and revocation summary beside it: `(line, code, ok,
    /// revocation_status)`. `paths`, `sizes` and `sha256` give each document's file;
    /// `context` is the JSON text of the fields every line shares, each preceded by a comma.
    /// Built without the GIL; CMS results only (a signed PDF's line is made in Python).
    fn report_lines(
        &self,
        py: Python<'_>,
        paths: Vec<Vec<u8>>,
        sizes: Vec<u64>,
        sha256: Vec<String>,
        context: &str,
        mode: &str,
    ) -> PyResult<Vec<(String, &'static str, bool, &'static str)>> {
        let mode = revocation_mode(mode)?;
        let n = self.items.len();
        if paths.len() != n || sizes.len() != n || sha256.len() != n {
            return Err(PyValueError::new_err(format!(
                "report_lines needs one path, size and sha256 per document: {n} documents, \
                 {} paths, {} sizes, {} digests",
                paths.len(),
                sizes.len(),
                sha256.len()
            )));
        }
        let mut docs = Vec::with_capacity(n);
        for item in &self.items {
            match item {
                BatchItem::Cms(o) => docs.push(Arc::clone(o)),
                BatchItem::Pdf(_) => {
                    return Err(PyTypeError::new_err(
                        "report_lines makes lines of CMS results; this batch holds a signed PDF result",
                    ))
                }
            }
        }
        let context = context.to_owned();
        Ok(py.allow_threads(move || {
            // One Json for the batch: its certificate and name texts are made once.
            let mut j = Json::default();
            docs.iter()
                .zip(paths.iter().zip(sizes.iter().zip(sha256.iter())))
                .map(|(o, (path, (&size, digest)))| {
                    let rev = revocation_summary(mode, o.code, &o.signers).name();
                    j.0 = String::with_capacity(2048);
                    report_line(&mut j, path, size, digest, o, &context, rev);
                    (std::mem::take(&mut j.0), o.code.name(), o.ok(), rev)
                })
                .collect()
        }))
    }
    /// Append a result (used to rebuild a batch, e.g. after unpickling).
    fn append(&mut self, result: PyRef<'_, VerifyResult>) {
        self.codes.push(result.inner.code.number());
        self.items.push(BatchItem::Cms(Arc::clone(&result.inner)));
    }
    /// Numeric outcome codes (uint8), index into `govsig.codes()`.
    #[getter]
    fn codes<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<u8>> {
        self.codes.clone().into_pyarray(py)
    }
    /// True where the document is ok.
    #[getter]
    fn ok<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<bool>> {
        self.codes
            .iter()
            .map(|&c| c == 0)
            .collect::<Vec<bool>>()
            .into_pyarray(py)
    }
    /// Per document, the first signer's signature time in seconds since the epoch (int64);
    /// -1 when none (no signer, or the check stopped before the trust decision).
    #[getter]
    fn signature_time<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<i64>> {
        self.items
            .iter()
            .map(|o| {
                o.cms()
                    .and_then(|o| o.signers.first())
                    .and_then(|s| s.signature_time)
                    .unwrap_or(-1)
            })
            .collect::<Vec<i64>>()
            .into_pyarray(py)
    }
    /// Per document, where the first signer's signature time came from (uint8), an index
    /// into `govsig.TIME_SOURCES` ("none", "at", "timestamp", "claimed").
    #[getter]
    fn time_source<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<u8>> {
        self.items
            .iter()
            .map(|o| {
                o.cms()
                    .and_then(|o| o.signers.first())
                    .map_or(0, |s| s.signature_time_source as u8)
            })
            .collect::<Vec<u8>>()
            .into_pyarray(py)
    }
    /// Count of documents per outcome code name (codes that occur).
    fn counts(&self) -> std::collections::BTreeMap<&'static str, usize> {
        let mut m = std::collections::BTreeMap::new();
        for &c in &self.codes {
            let name = Code::from_number(c).map(|c| c.name()).unwrap_or("unknown");
            *m.entry(name).or_insert(0) += 1;
        }
        m
    }
    fn __repr__(&self) -> String {
        format!("BatchResult(n={}, counts={:?})", self.items.len(), self.counts())
    }
    /// Evidence lacked by any document of the batch, deduplicated.
    fn needs<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyTuple>>> {
        let mut all: Vec<EvidenceNeed> = self.items.iter().flat_map(|o| o.needs()).collect();
        all.sort();
        all.dedup();
        needs_tuples(py, &all)
    }
    /// What decided the verdicts of the whole batch (see `VerifyResult.evidence`),
    /// deduplicated across documents.
    fn evidence<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let mut ev = EvidenceSet::default();
        for item in &self.items {
            match item {
                BatchItem::Cms(o) => ev.add_outcome(o),
                BatchItem::Pdf(o) => ev.add_pdf(o),
            }
        }
        evidence_to_py(py, &ev)
    }
    /// Indices of the documents that lacked evidence.
    fn indices_with_needs(&self) -> Vec<usize> {
        self.items
            .iter()
            .enumerate()
            .filter(|(_, o)| !o.needs().is_empty())
            .map(|(i, _)| i)
            .collect()
    }
    /// Append another batch's results.
    fn extend(&mut self, other: PyRef<'_, BatchResult>) {
        self.codes.extend_from_slice(&other.codes);
        self.items.extend(other.items.iter().cloned());
    }
    /// Replace the results at `indices` by those of `other`, in order.
    fn replace(&mut self, indices: Vec<usize>, other: PyRef<'_, BatchResult>) -> PyResult<()> {
        if indices.len() != other.items.len() {
            return Err(PyValueError::new_err("replace: as many indices as results are needed"));
        }
        for (&i, (o, &c)) in indices.iter().zip(other.items.iter().zip(other.codes.iter())) {
            match (self.items.get_mut(i), self.codes.get_mut(i)) {
                (Some(slot), Some(code)) => {
                    *slot = o.clone();
                    *code = c;
                }
                _ => return Err(PyIndexError::new_err(format!("index {i} out of range"))),
            }
        }
        Ok(())
    }
}

/// The verdict on one certificate path.
#[pyclass(frozen, module = "govsig._govsig")]
pub struct PathResult {
    inner: PathOutcome,
}

#[pymethods]
impl PathResult {
    #[getter]
    fn ok(&self) -> bool {
        self.inner.code == Code::Ok
    }
    #[getter]
    fn code(&self) -> &'static str {
        self.inner.code.name()
    }
    #[getter]
    fn reason(&self) -> &str {
        &self.inner.reason
    }
    /// DER certificates of the validated path, the certificate first, the anchor last.
    #[getter]
    fn chain<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        bytes_list(py, self.inner.chain.iter().map(|c| c.der()))
    }
    /// Evidence the core lacked to decide a revocation status: ("crl", url, None) items.
    #[getter]
    fn needs<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyTuple>>> {
        needs_tuples(py, &self.inner.needs)
    }
    /// Revocation evidence per certificate of the path (the certificate first).
    #[getter]
    fn revocation<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyDict>>> {
        evidence_dicts(py, &self.inner.revocation)
    }
    /// Policies (dotted OIDs) valid for the path and acceptable to the user (RFC 5280 §6.1.5 (g)).
    #[getter]
    fn user_constrained_policy_set(&self) -> Vec<String> {
        self.inner.user_constrained_policy_set.clone()
    }
    fn __bool__(&self) -> bool {
        self.ok()
    }
    fn __repr__(&self) -> String {
        format!(
            "PathResult(code={:?}, chain={}, reason={:?})",
            self.inner.code.name(),
            self.inner.chain.len(),
            self.inner.reason
        )
    }
}

/// `govsig.evidence.Evidence` from the core's collection (DER, each item once).
pub(crate) fn evidence_to_py<'py>(py: Python<'py>, ev: &EvidenceSet) -> PyResult<Bound<'py, PyAny>> {
    let tuple = |v: &[Vec<u8>]| PyTuple::new(py, v.iter().map(|d| PyBytes::new(py, d)));
    py.import("govsig.evidence")?.getattr("Evidence")?.call1((
        tuple(ev.certificates())?,
        tuple(ev.crls())?,
        tuple(ev.ocsp_responses())?,
    ))
}

pub(crate) fn evidence_dicts<'py>(py: Python<'py>, ev: &[RevocationEvidence]) -> PyResult<Vec<Bound<'py, PyDict>>> {
    ev.iter()
        .map(|e| {
            let d = PyDict::new(py);
            d.set_item("subject", e.certificate.subject.to_string())?;
            d.set_item("serial", e.certificate.serial_hex())?;
            match &e.status {
                RevocationStatus::Good => {
                    d.set_item("status", "good")?;
                    d.set_item("reason", py.None())?;
                }
                RevocationStatus::Unknown(r) => {
                    d.set_item("status", "unknown")?;
                    d.set_item("reason", &**r)?;
                }
                RevocationStatus::Revoked(r) => {
                    d.set_item("status", "revoked")?;
                    d.set_item("reason", &**r)?;
                }
            }
            match &e.crl {
                Some(c) => {
                    d.set_item("crl_issuer", c.issuer.to_string())?;
                    d.set_item("crl_fingerprint", PyBytes::new(py, &c.fingerprint()))?;
                    d.set_item("crl_this_update", datetime_utc(py, c.this_update)?)?;
                    d.set_item(
                        "crl_next_update",
                        c.next_update.map(|t| datetime_utc(py, t)).transpose()?,
                    )?;
                    // cRLNumber may need 160 bits (RFC 5280 §5.2.3): a Python int.
                    let number = match &c.crl_number {
                        Some(n) => Some(
                            py.get_type::<pyo3::types::PyInt>()
                                .call_method1("from_bytes", (PyBytes::new(py, n.magnitude()), "big"))?,
                        ),
                        None => None,
                    };
                    d.set_item("crl_number", number)?;
                }
                None => {
                    d.set_item("crl_number", py.None())?;
                    d.set_item("crl_issuer", py.None())?;
                    d.set_item("crl_fingerprint", py.None())?;
                    d.set_item("crl_this_update", py.None())?;
                    d.set_item("crl_next_update", py.None())?;
                }
            }
            d.set_item(
                "delta_crl_fingerprint",
                e.delta.as_ref().map(|c| PyBytes::new(py, &c.fingerprint())),
            )?;
            match &e.ocsp {
                Some(o) => {
                    d.set_item("source", "ocsp")?;
                    d.set_item("ocsp_fingerprint", PyBytes::new(py, &o.response_fingerprint))?;
                    d.set_item("ocsp_responder", o.responder.subject.to_string())?;
                    d.set_item("ocsp_this_update", datetime_utc(py, o.this_update)?)?;
                    d.set_item("ocsp_produced_at", datetime_utc(py, o.produced_at)?)?;
                    d.set_item(
                        "ocsp_next_update",
                        o.next_update.map(|t| datetime_utc(py, t)).transpose()?,
                    )?;
                }
                None => {
                    d.set_item("source", if e.crl.is_some() { "crl" } else { "none" })?;
                    d.set_item("ocsp_fingerprint", py.None())?;
                    d.set_item("ocsp_responder", py.None())?;
                    d.set_item("ocsp_this_update", py.None())?;
                    d.set_item("ocsp_produced_at", py.None())?;
                    d.set_item("ocsp_next_update", py.None())?;
                }
            }
            // A revocation dated after the validation time (not revoked then).
            d.set_item("revoked_at", e.revoked_at.map(|t| datetime_utc(py, t)).transpose()?)?;
            d.set_item("revoked_reason", e.revoked_reason.map(|r| r.name()))?;
            // Evidence about this certificate that was refused, each with why.
            d.set_item("refused", e.refused.clone())?;
            Ok(d)
        })
        .collect()
}

pub(crate) fn needs_tuples<'py>(py: Python<'py>, needs: &[EvidenceNeed]) -> PyResult<Vec<Bound<'py, PyTuple>>> {
    use pyo3::types::PyString;
    needs
        .iter()
        .map(|n| match n {
            EvidenceNeed::Crl { url } => PyTuple::new(
                py,
                [
                    PyString::new(py, "crl").into_any(),
                    PyString::new(py, url).into_any(),
                    py.None().into_bound(py),
                ],
            ),
            EvidenceNeed::Issuer { url } => PyTuple::new(
                py,
                [
                    PyString::new(py, "issuer").into_any(),
                    PyString::new(py, url).into_any(),
                    py.None().into_bound(py),
                ],
            ),
            EvidenceNeed::Ocsp { url, request } => PyTuple::new(
                py,
                [
                    PyString::new(py, "ocsp").into_any(),
                    PyString::new(py, url).into_any(),
                    PyBytes::new(py, request).into_any(),
                ],
            ),
        })
        .collect()
}

/// "timestamp", "claimed" or "at"; None when the signer was not judged at a time.
fn time_source_name(t: TimeSource) -> Option<&'static str> {
    match t {
        TimeSource::None => None,
        other => Some(other.name()),
    }
}

fn iso(_py: Python<'_>, t: Option<i64>) -> PyResult<Option<String>> {
    Ok(t.map(govsig_core::time::to_rfc3339))
}

fn outcome_dict<'py>(py: Python<'py>, o: &VerifyOutcome) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("ok", o.ok())?;
    d.set_item("code", o.code.name())?;
    d.set_item("reason", &o.reason)?;
    d.set_item("detached", o.detached)?;
    d.set_item("was_ber", o.was_ber)?;
    d.set_item("content_type", o.content_type.as_deref())?;
    let signers = o
        .signers
        .iter()
        .map(|s| signer_dict(py, s))
        .collect::<PyResult<Vec<_>>>()?;
    d.set_item("signers", signers)?;
    Ok(d)
}

/// The record of a signed PDF: `outcome_dict`'s keys (detached: the signed bytes are the
/// file's, not the CMS's) plus `pdf`, as in an archive report line.
fn pdf_outcome_dict<'py>(py: Python<'py>, o: &govsig_core::pdf::PdfOutcome) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("ok", o.ok())?;
    d.set_item("code", o.code.name())?;
    d.set_item("reason", &o.reason)?;
    d.set_item("detached", true)?;
    d.set_item("was_ber", o.signatures.iter().any(|s| s.cms.was_ber))?;
    d.set_item("content_type", py.None())?;
    let signers = o
        .signatures
        .iter()
        .filter_map(|s| s.cms.signers.first())
        .map(|s| signer_dict(py, s))
        .collect::<PyResult<Vec<_>>>()?;
    d.set_item("signers", signers)?;
    let pdf = PyDict::new(py);
    pdf.set_item("revisions", o.revisions)?;
    let sigs = o
        .signatures
        .iter()
        .map(|s| {
            let e = PyDict::new(py);
            e.set_item("field", &s.field)?;
            e.set_item("subfilter", s.subfilter.as_deref())?;
            e.set_item("revision", s.revision)?;
            e.set_item("code", s.code.name())?;
            e.set_item("reason", &s.reason)?;
            e.set_item("covers_whole_document", s.covers_whole_document)?;
            e.set_item("modification", s.modification.name())?;
            e.set_item("docmdp", s.docmdp)?;
            e.set_item("is_doc_timestamp", s.is_doc_timestamp)?;
            Ok(e)
        })
        .collect::<PyResult<Vec<_>>>()?;
    pdf.set_item("signatures", sigs)?;
    d.set_item("pdf", pdf)?;
    Ok(d)
}

fn signer_dict<'py>(py: Python<'py>, s: &SignerOutcome) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    let cert = s.certificate.as_ref();
    d.set_item("subject", cert.map(|c| c.subject.to_string()))?;
    d.set_item("issuer", cert.map(|c| c.issuer.to_string()))?;
    d.set_item("serial", cert.map(|c| c.serial_hex()))?;
    d.set_item("cert_sha256", cert.map(|c| hex::encode(c.fingerprint)))?;
    d.set_item(
        "chain_sha256",
        s.chain.iter().map(|c| hex::encode(c.fingerprint)).collect::<Vec<_>>(),
    )?;
    d.set_item("sid", s.sid_text())?;
    d.set_item("signing_time", iso(py, s.signing_time)?)?;
    d.set_item("signature_time", iso(py, s.signature_time)?)?;
    d.set_item("signature_time_source", time_source_name(s.signature_time_source))?;
    d.set_item("digest_algorithm", s.digest_algorithm)?;
    d.set_item("signature_algorithm", s.signature_algorithm)?;
    d.set_item("code", s.code.name())?;
    d.set_item("reason", &s.reason)?;
    d.set_item("revocation", evidence_records(py, &s.revocation)?)?;
    let timestamps = s
        .timestamps
        .iter()
        .map(|t| timestamp_dict(py, t))
        .collect::<PyResult<Vec<_>>>()?;
    d.set_item("timestamps", timestamps)?;
    // Countersigners as signers (their own timestamps and countersigners; the core bounds
    // the depth).
    let counter = s
        .countersigners
        .iter()
        .map(|c| signer_dict(py, c))
        .collect::<PyResult<Vec<_>>>()?;
    d.set_item("countersigners", counter)?;
    Ok(d)
}

/// A signer's time-stamp token (signature or content) as a JSON-safe dict: what it says and
/// how it was judged.
fn timestamp_dict<'py>(py: Python<'py>, t: &govsig_core::tsp::TimestampOutcome) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("kind", t.kind)?;
    d.set_item("code", t.code.name())?;
    d.set_item("reason", &t.reason)?;
    d.set_item("gen_time", t.gen_time.map(|g| g.to_rfc3339()))?;
    d.set_item("serial", t.serial.as_deref().map(hex::encode))?;
    d.set_item("policy_oid", t.policy_oid.as_deref())?;
    d.set_item("hash_algorithm", t.hash_algorithm)?;
    d.set_item("tsa_subject", t.tsa_subject())?;
    d.set_item(
        "chain_sha256",
        t.chain.iter().map(|c| hex::encode(c.fingerprint)).collect::<Vec<_>>(),
    )?;
    Ok(d)
}

/// One JSON-safe dict per piece of evidence that decided a status (an OCSP response, a
/// complete CRL); a certificate whose status nothing decided has none.
fn evidence_records<'py>(py: Python<'py>, ev: &[RevocationEvidence]) -> PyResult<Vec<Bound<'py, PyDict>>> {
    let mut out = Vec::new();
    for e in ev {
        let (status, reason) = match &e.status {
            RevocationStatus::Good => ("good", None),
            RevocationStatus::Unknown(r) => ("unknown", Some(&**r)),
            RevocationStatus::Revoked(r) => ("revoked", Some(&**r)),
        };
        if let Some(o) = &e.ocsp {
            let d = PyDict::new(py);
            d.set_item("kind", "ocsp")?;
            d.set_item("subject", e.certificate.subject.to_string())?;
            d.set_item("serial", e.certificate.serial_hex())?;
            d.set_item("status", status)?;
            d.set_item("reason", reason)?;
            d.set_item("sha256", hex::encode(o.response_fingerprint))?;
            d.set_item("issuer", o.responder.subject.to_string())?;
            d.set_item("crl_number", py.None())?;
            d.set_item("produced_at", iso(py, Some(o.produced_at))?)?;
            d.set_item("this_update", iso(py, Some(o.this_update))?)?;
            d.set_item("next_update", iso(py, o.next_update)?)?;
            out.push(d);
        }
        if let Some(c) = &e.crl {
            let d = PyDict::new(py);
            d.set_item("kind", "crl")?;
            d.set_item("subject", e.certificate.subject.to_string())?;
            d.set_item("serial", e.certificate.serial_hex())?;
            d.set_item("status", status)?;
            d.set_item("reason", reason)?;
            d.set_item("sha256", hex::encode(c.fingerprint()))?;
            d.set_item("issuer", c.issuer.to_string())?;
            // cRLNumber may need 160 bits (RFC 5280 §5.2.3): decimal text, not a 64-bit int.
            d.set_item("crl_number", c.crl_number.as_ref().map(|n| decimal(n.magnitude())))?;
            d.set_item("produced_at", py.None())?;
            d.set_item("this_update", iso(py, Some(c.this_update))?)?;
            d.set_item("next_update", iso(py, c.next_update)?)?;
            out.push(d);
        }
    }
    Ok(out)
}

/// Compact JSON text written as `govsig._cli_text.inert_json(..., separators=(",", ":"))`
/// writes it (strings by `govsig_core::report::write_json_string`). The map keeps the text of each certificate met (by
/// fingerprint): a batch's documents name the same few signers and CAs again and again.
#[derive(Default)]
struct Json(String, HashMap<[u8; 32], Rc<CertText>>, HashMap<Vec<u8>, Rc<str>>);

/// A certificate's fields as report text.
struct CertText {
    subject: String,
    issuer: String,
    serial: String,
    sha256: String,
}

impl Json {
    fn sid(&mut self, s: &SignerOutcome) -> String {
        let names = &mut self.2;
        s.sid_text_with(|der| {
            Rc::clone(
                names
                    .entry(der.to_vec())
                    .or_insert_with(|| govsig_core::cms::verify::issuer_text(der).into()),
            )
        })
    }
    fn cert(&mut self, c: &Certificate) -> Rc<CertText> {
        Rc::clone(self.1.entry(c.fingerprint).or_insert_with(|| {
            Rc::new(CertText {
                subject: c.subject.to_string(),
                issuer: c.issuer.to_string(),
                serial: c.serial_hex(),
                sha256: hex::encode(c.fingerprint),
            })
        }))
    }
    fn raw(&mut self, t: &str) {
        self.0.push_str(t);
    }
    fn key(&mut self, first: bool, k: &str) {
        if !first {
            self.0.push(',');
        }
        self.str(k);
        self.0.push(':');
    }
    fn str(&mut self, v: &str) {
        govsig_core::report::write_json_string(&mut self.0, v);
    }
    fn opt(&mut self, v: Option<&str>) {
        match v {
            Some(v) => self.str(v),
            None => self.raw("null"),
        }
    }
    fn bool(&mut self, v: bool) {
        self.raw(if v { "true" } else { "false" });
    }
}

pub(crate) fn revocation_mode(mode: &str) -> PyResult<RevocationMode> {
    RevocationMode::from_name(mode).ok_or_else(|| {
        PyValueError::new_err(format!(
            "revocation mode must be off, soft-fail or hard-fail, not {mode:?}"
        ))
    })
}

/// One archive report line, key for key as `govsig.archive.report.LineMaker` writes it.
fn report_line(j: &mut Json, path: &[u8], size: u64, sha256: &str, o: &VerifyOutcome, context: &str, revocation: &str) {
    use std::fmt::Write;
    let (shown, raw) = path_fields(path);
    j.raw("{");
    j.key(true, "schema");
    j.str(REPORT_SCHEMA);
    j.key(false, "path");
    j.str(&shown);
    j.key(false, "path_bytes");
    j.opt(raw.as_deref());
    j.key(false, "size");
    let _ = write!(j.0, "{size}");
    j.key(false, "sha256");
    j.str(sha256);
    j.key(false, "ok");
    j.bool(o.ok());
    j.key(false, "code");
    j.str(o.code.name());
    j.key(false, "reason");
    j.str(&o.reason);
    j.key(false, "revocation_status");
    j.str(revocation);
    j.raw(context);
    j.key(false, "detached");
    j.bool(o.detached);
    j.key(false, "signers");
    signers_json(j, &o.signers);
    j.raw("}");
}

fn outcome_json(j: &mut Json, o: &VerifyOutcome) {
    j.raw("{");
    j.key(true, "ok");
    j.bool(o.ok());
    j.key(false, "code");
    j.str(o.code.name());
    j.key(false, "reason");
    j.str(&o.reason);
    j.key(false, "detached");
    j.bool(o.detached);
    j.key(false, "was_ber");
    j.bool(o.was_ber);
    j.key(false, "content_type");
    j.opt(o.content_type.as_deref());
    j.key(false, "signers");
    signers_json(j, &o.signers);
    j.raw("}");
}

fn signers_json(j: &mut Json, signers: &[SignerOutcome]) {
    j.raw("[");
    for (i, s) in signers.iter().enumerate() {
        if i > 0 {
            j.raw(",");
        }
        signer_json(j, s);
    }
    j.raw("]");
}

fn signer_json(j: &mut Json, s: &SignerOutcome) {
    let cert = s.certificate.as_ref().map(|c| j.cert(c));
    j.raw("{");
    j.key(true, "subject");
    j.opt(cert.as_ref().map(|c| c.subject.as_str()));
    j.key(false, "issuer");
    j.opt(cert.as_ref().map(|c| c.issuer.as_str()));
    j.key(false, "serial");
    j.opt(cert.as_ref().map(|c| c.serial.as_str()));
    j.key(false, "cert_sha256");
    j.opt(cert.as_ref().map(|c| c.sha256.as_str()));
    j.key(false, "chain_sha256");
    j.raw("[");
    for (i, c) in s.chain.iter().enumerate() {
        if i > 0 {
            j.raw(",");
        }
        let t = j.cert(c);
        j.str(&t.sha256);
    }
    j.raw("]");
    j.key(false, "sid");
    let sid = j.sid(s);
    j.str(&sid);
    j.key(false, "signing_time");
    j.opt(s.signing_time.map(govsig_core::time::to_rfc3339).as_deref());
    j.key(false, "signature_time");
    j.opt(s.signature_time.map(govsig_core::time::to_rfc3339).as_deref());
    j.key(false, "signature_time_source");
    j.opt(time_source_name(s.signature_time_source));
    j.key(false, "digest_algorithm");
    j.opt(s.digest_algorithm);
    j.key(false, "signature_algorithm");
    j.opt(s.signature_algorithm);
    j.key(false, "code");
    j.str(s.code.name());
    j.key(false, "reason");
    j.str(&s.reason);
    j.key(false, "revocation");
    j.raw("[");
    let mut first = true;
    for e in &s.revocation {
        let (status, reason) = match &e.status {
            RevocationStatus::Good => ("good", None),
            RevocationStatus::Unknown(r) => ("unknown", Some(&**r)),
            RevocationStatus::Revoked(r) => ("revoked", Some(&**r)),
        };
        let t = j.cert(&e.certificate);
        let (subject, serial) = (&t.subject, &t.serial);
        if let Some(o) = &e.ocsp {
            let responder = j.cert(&o.responder);
            if !first {
                j.raw(",");
            }
            first = false;
            evidence_json(
                j,
                "ocsp",
                subject,
                serial,
                status,
                reason,
                &hex::encode(o.response_fingerprint),
                &responder.subject,
                None,
                Some(o.produced_at),
                Some(o.this_update),
                o.next_update,
            );
        }
        if let Some(c) = &e.crl {
            if !first {
                j.raw(",");
            }
            first = false;
            let number = c.crl_number.as_ref().map(|n| decimal(n.magnitude()));
            evidence_json(
                j,
                "crl",
                subject,
                serial,
                status,
                reason,
                &hex::encode(c.fingerprint()),
                &c.issuer.to_string(),
                number.as_deref(),
                None,
                Some(c.this_update),
                c.next_update,
            );
        }
    }
    j.raw("]");
    j.key(false, "timestamps");
    j.raw("[");
    for (i, t) in s.timestamps.iter().enumerate() {
        if i > 0 {
            j.raw(",");
        }
        timestamp_json(j, t);
    }
    j.raw("]");
    j.key(false, "countersigners");
    j.raw("[");
    for (i, c) in s.countersigners.iter().enumerate() {
        if i > 0 {
            j.raw(",");
        }
        signer_json(j, c);
    }
    j.raw("]");
    j.raw("}");
}

/// `timestamp_dict` as JSON text (same keys, same order).
fn timestamp_json(j: &mut Json, t: &govsig_core::tsp::TimestampOutcome) {
    j.raw("{");
    j.key(true, "kind");
    j.opt(t.kind);
    j.key(false, "code");
    j.str(t.code.name());
    j.key(false, "reason");
    j.str(&t.reason);
    j.key(false, "gen_time");
    j.opt(t.gen_time.map(|g| g.to_rfc3339()).as_deref());
    j.key(false, "serial");
    j.opt(t.serial.as_deref().map(hex::encode).as_deref());
    j.key(false, "policy_oid");
    j.opt(t.policy_oid.as_deref());
    j.key(false, "hash_algorithm");
    j.opt(t.hash_algorithm);
    j.key(false, "tsa_subject");
    j.opt(t.tsa_subject().as_deref());
    j.key(false, "chain_sha256");
    j.raw("[");
    for (i, c) in t.chain.iter().enumerate() {
        if i > 0 {
            j.raw(",");
        }
        let text = j.cert(c);
        j.str(&text.sha256);
    }
    j.raw("]");
    j.raw("}");
}

#[allow(clippy::too_many_arguments)]
fn evidence_json(
    j: &mut Json,
    kind: &str,
    subject: &str,
    serial: &str,
    status: &str,
    reason: Option<&str>,
    sha256: &str,
    issuer: &str,
    crl_number: Option<&str>,
    produced_at: Option<i64>,
    this_update: Option<i64>,
    next_update: Option<i64>,
) {
    let t = |v: Option<i64>| v.map(govsig_core::time::to_rfc3339);
    j.raw("{");
    j.key(true, "kind");
    j.str(kind);
    j.key(false, "subject");
    j.str(subject);
    j.key(false, "serial");
    j.str(serial);
    j.key(false, "status");
    j.str(status);
    j.key(false, "reason");
    j.opt(reason);
    j.key(false, "sha256");
    j.str(sha256);
    j.key(false, "issuer");
    j.str(issuer);
    j.key(false, "crl_number");
    j.opt(crl_number);
    j.key(false, "produced_at");
    j.opt(t(produced_at).as_deref());
    j.key(false, "this_update");
    j.opt(t(this_update).as_deref());
    j.key(false, "next_update");
    j.opt(t(next_update).as_deref());
    j.raw("}");
}

/// Big-endian unsigned magnitude -> decimal text (a cRLNumber may need 160 bits).
fn decimal(magnitude: &[u8]) -> String {
    // Repeated division of the base-256 digits by 10.
    let mut digits: Vec<u8> = magnitude.iter().copied().skip_while(|&b| b == 0).collect();
    if digits.is_empty() {
        return "0".to_string();
    }
    let mut out = Vec::new();
    while !digits.is_empty() {
        let mut rem: u32 = 0;
        let mut next = Vec::with_capacity(digits.len());
        for &d in &digits {
            let cur = rem * 256 + u32::from(d);
            let q = cur / 10;
            rem = cur % 10;
            if !(next.is_empty() && q == 0) {
                next.push(u8::try_from(q).unwrap_or(0));
            }
        }
        out.push(b'0' + u8::try_from(rem).unwrap_or(0));
        digits = next;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}
