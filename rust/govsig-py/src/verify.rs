//! Verifier glue: the engine handle, results, batches.

use std::sync::Arc;

use govsig_core::batch::PathOutcome;
use govsig_core::cms::{SignerOutcome, VerifyOutcome};
use govsig_core::policy::{Budget, KeyUsageRule, Policy};
use govsig_core::revocation::crl::CrlIndex;
use govsig_core::revocation::{EvidenceNeed, RevocationEvidence, RevocationMode, RevocationSource, RevocationStatus};
use govsig_core::x509::policy_graph::PolicyInputs;
use govsig_core::x509::{CertRef, Certificate, TrustStore};
use govsig_core::{Code, Engine};
use numpy::{IntoPyArray, PyArray1};
use pyo3::exceptions::{PyIndexError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyTuple};

use crate::convert::{bytes_list, datetime_utc};
use crate::crl::CoreCrl;
use crate::guard::{guard, guard_result};

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(codes, m)?)?;
    m.add_function(wrap_pyfunction!(code_descriptions, m)?)?;
    m.add_function(wrap_pyfunction!(parse_certificate, m)?)?;
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

/// The core verification engine for one policy (built by `govsig.Verifier`).
#[pyclass(frozen, module = "govsig._govsig")]
pub struct CoreEngine {
    pub(crate) engine: Arc<Engine>,
}

#[pymethods]
impl CoreEngine {
    #[new]
    #[pyo3(signature = (trust, intermediates, at, legacy, max_chain_depth, min_rsa_bits, key_usage, extended_key_usage, max_signature_checks, max_paths, user_initial_policy_set, initial_explicit_policy, initial_policy_mapping_inhibit, initial_any_policy_inhibit, require_acceptable_policy, crls, revocation, revocation_sources, ocsp_responses, ocsp_skew))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        trust: Option<Vec<Vec<u8>>>,
        intermediates: Vec<Vec<u8>>,
        at: Option<i64>,
        legacy: bool,
        max_chain_depth: usize,
        min_rsa_bits: usize,
        key_usage: Vec<usize>,
        extended_key_usage: Option<Vec<String>>,
        max_signature_checks: usize,
        max_paths: usize,
        user_initial_policy_set: Vec<String>,
        initial_explicit_policy: bool,
        initial_policy_mapping_inhibit: bool,
        initial_any_policy_inhibit: bool,
        require_acceptable_policy: bool,
        crls: Vec<PyRef<'_, CoreCrl>>,
        revocation: &str,
        revocation_sources: Vec<String>,
        ocsp_responses: Vec<Vec<u8>>,
        ocsp_skew: i64,
    ) -> PyResult<Self> {
        let revocation_sources = revocation_sources
            .iter()
            .map(|s| match s.as_str() {
                "ocsp" => Ok(RevocationSource::Ocsp),
                "crl" => Ok(RevocationSource::Crl),
                other => Err(PyValueError::new_err(format!(
                    "revocation sources are 'ocsp' and 'crl', not {other:?}"
                ))),
            })
            .collect::<PyResult<Vec<_>>>()?;
        let revocation = match revocation {
            "off" => RevocationMode::Off,
            "soft-fail" => RevocationMode::SoftFail,
            "hard-fail" => RevocationMode::HardFail,
            other => {
                return Err(PyValueError::new_err(format!(
                    "revocation must be 'off', 'soft-fail' or 'hard-fail', not {other:?}"
                )))
            }
        };
        // Already parsed by govsig.Crl: shared, not parsed again.
        let crls: Vec<Arc<CrlIndex>> = crls.iter().map(|c| Arc::clone(&c.crl)).collect();
        let trust = match trust {
            None => None,
            Some(ders) => Some(TrustStore::new(
                ders.iter().map(|d| parse_cert(d)).collect::<PyResult<Vec<_>>>()?,
            )),
        };
        let intermediates = intermediates
            .iter()
            .map(|d| parse_cert(d))
            .collect::<PyResult<Vec<_>>>()?;
        let policy = Policy {
            at,
            legacy,
            max_chain_depth,
            min_rsa_bits,
            signer_key_usage: KeyUsageRule { any_of: key_usage },
            extended_key_usage,
            budget: Budget {
                max_signature_checks,
                max_paths,
                ..Budget::default()
            },
            policy_inputs: PolicyInputs {
                user_initial_policy_set,
                initial_explicit_policy,
                initial_policy_mapping_inhibit,
                initial_any_policy_inhibit,
                require_acceptable_policy,
                ..PolicyInputs::default()
            },
            revocation,
            revocation_sources,
            ocsp_skew,
        };
        let ocsp: Vec<&[u8]> = ocsp_responses.iter().map(Vec::as_slice).collect();
        let engine = guard("Verifier()", || {
            Ok(Engine::new(policy, trust, intermediates, crls).with_ocsp_responses(&ocsp))
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

    /// Number of distinct certificates parsed so far (interned across documents).
    fn interned_certificates(&self) -> usize {
        self.engine.interner().len()
    }
}

/// The verdict on one document.
#[pyclass(frozen, module = "govsig._govsig")]
pub struct VerifyResult {
    inner: Arc<VerifyOutcome>,
}

#[pymethods]
impl VerifyResult {
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
    #[getter]
    fn signers(&self) -> Vec<SignerResult> {
        (0..self.inner.signers.len())
            .map(|i| SignerResult {
                doc: Arc::clone(&self.inner),
                index: i,
            })
            .collect()
    }
    /// Evidence the core lacked to decide a revocation status: ("crl", url, None) items.
    #[getter]
    fn needs<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyTuple>>> {
        needs_tuples(py, &self.inner.needs())
    }
    fn __bool__(&self) -> bool {
        self.inner.ok()
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
}

impl SignerResult {
    fn s(&self) -> &SignerOutcome {
        // index < len by construction in VerifyResult::signers.
        &self.doc.signers[self.index]
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
    fn __getitem__<'py>(&self, py: Python<'py>, i: isize) -> PyResult<Bound<'py, PyAny>> {
        let n = isize::try_from(self.items.len()).map_err(|_| PyIndexError::new_err("batch too large"))?;
        let j = if i < 0 { i + n } else { i };
        if j < 0 || j >= n {
            return Err(PyIndexError::new_err(format!(
                "index {i} out of range for a batch of {n}"
            )));
        }
        let j = usize::try_from(j).map_err(|_| PyIndexError::new_err("index out of range"))?;
        Ok(match &self.items[j] {
            BatchItem::Cms(o) => Bound::new(py, VerifyResult { inner: Arc::clone(o) })?.into_any(),
            BatchItem::Pdf(o) => Bound::new(py, crate::pdf::PdfResult { inner: Arc::clone(o) })?.into_any(),
        })
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
                    d.set_item("reason", r)?;
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
