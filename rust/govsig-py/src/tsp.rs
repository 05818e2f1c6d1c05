//! RFC 3161 glue: verifying tokens, building requests, judging responses, and adding tokens
//! to a CMS. Every decision is in `govsig_core::tsp` and `govsig_core::cms::unsigned`; this
//! converts arguments and results and releases the GIL.

use std::sync::Arc;

use govsig_core::crypto::DigestAlgorithm;
use govsig_core::tsp::{Stamped, TimestampOutcome};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{IntoPyDict, PyBytes, PyDict, PyList, PyTuple};

use crate::convert::{bytes_list, datetime_utc};
use crate::verify::{evidence_dicts, needs_tuples, CoreEngine};

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<TimestampResult>()?;
    m.add_function(wrap_pyfunction!(timestamp_verify, m)?)?;
    m.add_function(wrap_pyfunction!(timestamp_request, m)?)?;
    m.add_function(wrap_pyfunction!(timestamp_check_response, m)?)?;
    m.add_function(wrap_pyfunction!(cms_signature_values, m)?)?;
    m.add_function(wrap_pyfunction!(cms_add_signature_timestamps, m)?)?;
    Ok(())
}

fn digest_algorithm(name: &str) -> PyResult<DigestAlgorithm> {
    DigestAlgorithm::from_name(name).ok_or_else(|| {
        PyValueError::new_err(format!(
            "hash must be one of 'sha1', 'sha224', 'sha256', 'sha384', 'sha512', not {name:?}"
        ))
    })
}

fn int_from_be<'py>(py: Python<'py>, bytes: &[u8]) -> PyResult<Bound<'py, PyAny>> {
    let b = PyBytes::new(py, bytes);
    py.get_type::<pyo3::types::PyInt>().call_method(
        "from_bytes",
        (b, "big"),
        Some(&[("signed", true)].into_py_dict(py)?),
    )
}

/// The verdict on one RFC 3161 time-stamp token.
#[pyclass(frozen, module = "govsig._govsig")]
pub struct TimestampResult {
    inner: Arc<TimestampOutcome>,
}

impl TimestampResult {
    /// Wraps a core verdict (a signer's signature time-stamp).
    pub(crate) fn from_outcome(o: TimestampOutcome) -> Self {
        TimestampResult { inner: Arc::new(o) }
    }
}

#[pymethods]
impl TimestampResult {
    /// "signature" for a signer's signature time-stamp; None for a standalone check.
    #[getter]
    fn kind(&self) -> Option<&'static str> {
        self.inner.kind
    }
    /// When the TSA's chain was judged (the validation time, or genTime under
    /// tsa_validation="gen_time"); None for a standalone check.
    #[getter]
    fn validated_at<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.inner.chain_validated_at.map(|t| datetime_utc(py, t)).transpose()
    }
    #[getter]
    fn ok(&self) -> bool {
        self.inner.ok()
    }
    #[getter]
    fn code(&self) -> &'static str {
        self.inner.code.name()
    }
    #[getter]
    fn code_number(&self) -> u8 {
        self.inner.code.number()
    }
    #[getter]
    fn reason(&self) -> &str {
        &self.inner.reason
    }
    /// The ordinary verification code behind a failure (`signature_invalid`, `cert_expired`...).
    #[getter]
    fn cause(&self) -> Option<&'static str> {
        self.inner.cause.map(|c| c.name())
    }
    /// genTime as an aware UTC datetime (to the microsecond; `gen_time_text` has it exactly).
    #[getter]
    fn gen_time<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        let Some(g) = self.inner.gen_time else { return Ok(None) };
        let whole = datetime_utc(py, g.seconds)?;
        let td = py
            .import("datetime")?
            .getattr("timedelta")?
            .call1((0, 0, g.nanos / 1000))?;
        Ok(Some(whole.call_method1("__add__", (td,))?))
    }
    /// genTime in RFC 3339 with the fraction as the TSA wrote it.
    #[getter]
    fn gen_time_text(&self) -> Option<String> {
        self.inner.gen_time.map(|g| g.to_rfc3339())
    }
    /// Accuracy as a timedelta (None when the token states none).
    #[getter]
    fn accuracy<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        let Some(a) = self.inner.accuracy else { return Ok(None) };
        let td = py.import("datetime")?.getattr("timedelta")?;
        let kw = [("microseconds", a.total_micros())].into_py_dict(py)?;
        Ok(Some(td.call((), Some(&kw))?))
    }
    #[getter]
    fn ordering(&self) -> bool {
        self.inner.ordering
    }
    /// The token's serial number as a Python int.
    #[getter]
    fn serial<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.inner.serial.as_deref().map(|s| int_from_be(py, s)).transpose()
    }
    #[getter]
    fn nonce<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.inner.nonce.as_deref().map(|s| int_from_be(py, s)).transpose()
    }
    #[getter]
    fn policy_oid(&self) -> Option<String> {
        self.inner.policy_oid.clone()
    }
    #[getter]
    fn hash_algorithm(&self) -> Option<&'static str> {
        self.inner.hash_algorithm
    }
    /// The messageImprint's hashedMessage.
    #[getter]
    fn imprint<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyBytes>> {
        self.inner.hashed_message.as_deref().map(|b| PyBytes::new(py, b))
    }
    /// The TSTInfo `tsa` name, as text.
    #[getter]
    fn tsa_name(&self) -> Option<String> {
        self.inner.tsa_name.clone()
    }
    /// Subject (RFC 4514) of the certificate that signed the token.
    #[getter]
    fn tsa_subject(&self) -> Option<String> {
        self.inner.tsa_subject()
    }
    #[getter]
    fn tsa_certificate<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyBytes>> {
        self.inner.tsa_certificate.as_ref().map(|c| PyBytes::new(py, c.der()))
    }
    /// DER certificates of the TSA's validated path, TSA first, trust anchor last.
    #[getter]
    fn chain<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        bytes_list(py, self.inner.chain.iter().map(|c| c.der()))
    }
    #[getter]
    fn revocation<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyDict>>> {
        evidence_dicts(py, &self.inner.revocation)
    }
    /// Evidence the core lacked for the TSA's chain: ("crl"|"ocsp"|"issuer", url, request) items.
    #[getter]
    fn needs<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyTuple>>> {
        needs_tuples(py, &self.inner.needs)
    }
    fn __bool__(&self) -> bool {
        self.inner.ok()
    }
    fn __repr__(&self) -> String {
        format!(
            "TimestampResult(code={:?}, gen_time={:?}, tsa_subject={:?})",
            self.inner.code.name(),
            self.inner.gen_time.map(|g| g.to_rfc3339()).unwrap_or_default(),
            self.inner.tsa_subject().unwrap_or_default()
        )
    }
}

/// Verify a token against `data`, or against `digest` computed with `hash`, at `at`
/// (seconds since the epoch; None: the policy's time, else now); GIL released.
#[pyfunction]
#[pyo3(signature = (engine, token, data=None, digest=None, hash=None, at=None))]
fn timestamp_verify(
    py: Python<'_>,
    engine: &CoreEngine,
    token: &Bound<'_, PyBytes>,
    data: Option<&Bound<'_, PyBytes>>,
    digest: Option<&Bound<'_, PyBytes>>,
    hash: Option<&str>,
    at: Option<i64>,
) -> PyResult<TimestampResult> {
    let stamped = match (data, digest, hash) {
        (Some(d), None, None) => Stamped::Data(d.as_bytes()),
        (None, Some(d), Some(h)) => Stamped::Digest {
            algorithm: digest_algorithm(h)?,
            digest: d.as_bytes(),
        },
        _ => {
            return Err(PyValueError::new_err(
                "give either the stamped data, or a digest together with its hash name",
            ))
        }
    };
    let token = token.as_bytes();
    let engine = Arc::clone(&engine.engine);
    let out = py.allow_threads(move || {
        let at = at.unwrap_or_else(|| engine.default_time());
        engine.verify_timestamp_at(token, stamped, at)
    });
    Ok(TimestampResult { inner: Arc::new(out) })
}

/// A DER TimeStampReq for `digest` and the nonce it carries (None without one).
#[pyfunction]
#[pyo3(signature = (hash, digest, nonce, policy_oid, cert_req=true))]
fn timestamp_request<'py>(
    py: Python<'py>,
    hash: &str,
    digest: &[u8],
    nonce: bool,
    policy_oid: Option<&str>,
    cert_req: bool,
) -> PyResult<(Bound<'py, PyBytes>, Option<Bound<'py, PyBytes>>)> {
    let alg = digest_algorithm(hash)?;
    let req = govsig_core::tsp::request::build_request(alg, digest, nonce, policy_oid, cert_req)
        .map_err(PyValueError::new_err)?;
    Ok((
        PyBytes::new(py, &req.der),
        req.nonce.as_deref().map(|n| PyBytes::new(py, n)),
    ))
}

/// Judge a TimeStampResp to a request for `digest`: (result, token or None).
#[pyfunction]
#[pyo3(signature = (engine, response, hash, digest, nonce, policy_oid))]
fn timestamp_check_response<'py>(
    py: Python<'py>,
    engine: &CoreEngine,
    response: &Bound<'py, PyBytes>,
    hash: &str,
    digest: &[u8],
    nonce: Option<&[u8]>,
    policy_oid: Option<&str>,
) -> PyResult<(TimestampResult, Option<Bound<'py, PyBytes>>)> {
    let alg = digest_algorithm(hash)?;
    let resp = response.as_bytes();
    let engine = Arc::clone(&engine.engine);
    let out = py.allow_threads(move || engine.check_timestamp_response(resp, alg, digest, nonce, policy_oid));
    let token = out.token.as_deref().map(|t| PyBytes::new(py, t));
    Ok((
        TimestampResult {
            inner: Arc::new(out.timestamp),
        },
        token,
    ))
}

/// The signature value of every SignerInfo of a CMS, in order.
#[pyfunction]
fn cms_signature_values<'py>(py: Python<'py>, cms: &[u8]) -> PyResult<Bound<'py, PyList>> {
    let values = govsig_core::cms::unsigned::signature_values(cms)
        .map_err(|e| PyValueError::new_err(format!("not a CMS signature govsig can time-stamp: {e}")))?;
    bytes_list(py, values.iter().map(|v| v.as_slice()))
}

/// The CMS with `tokens[i]` added to SignerInfo i as signature time-stamps.
#[pyfunction]
fn cms_add_signature_timestamps<'py>(
    py: Python<'py>,
    cms: &[u8],
    tokens: Vec<Vec<Vec<u8>>>,
) -> PyResult<Bound<'py, PyBytes>> {
    let out = py
        .allow_threads(|| govsig_core::cms::unsigned::add_signature_timestamps(cms, &tokens))
        .map_err(PyValueError::new_err)?;
    Ok(PyBytes::new(py, &out))
}
