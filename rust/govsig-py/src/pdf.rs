//! Signed-PDF glue: `CoreEngine.verify_pdf` / `verify_pdf_chunk`, `PdfResult`, `PdfSignature`.

use std::sync::Arc;

use govsig_core::pdf::{PdfOutcome, PdfSignatureOutcome};
use govsig_core::Code;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PyTuple};

use crate::guard::{guard, guard_result};
use crate::verify::{needs_tuples, BatchItem, BatchResult, CoreEngine, SignerResult};

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PdfResult>()?;
    m.add_class::<PdfSignature>()?;
    m.add_function(wrap_pyfunction!(pdf_verify, m)?)?;
    m.add_function(wrap_pyfunction!(pdf_verify_chunk, m)?)?;
    m.add_function(wrap_pyfunction!(pdf_verify_paths_chunk, m)?)?;
    Ok(())
}

/// Verify one PDF (bytes) with the GIL released, at `at` (None: the policy's time, else now).
#[pyfunction]
#[pyo3(signature = (engine, pdf, at=None))]
fn pdf_verify(py: Python<'_>, engine: PyRef<'_, CoreEngine>, pdf: &Bound<'_, PyBytes>, at: Option<i64>) -> PdfResult {
    let bytes = pdf.as_bytes();
    let engine = Arc::clone(&engine.engine);
    let out = guard_result(
        "Verifier.verify_pdf",
        || {
            py.allow_threads(move || {
                let at = at.unwrap_or_else(|| engine.default_time());
                engine.verify_pdf_at(bytes, at)
            })
        },
        |m| PdfOutcome::failure(Code::InternalError, m),
    );
    PdfResult { inner: Arc::new(out) }
}

/// Verify a chunk of PDFs (bytes) on `threads` threads, appending results in order to `into`.
#[pyfunction]
#[pyo3(signature = (engine, items, into, threads=None, at=None))]
fn pdf_verify_chunk(
    py: Python<'_>,
    engine: PyRef<'_, CoreEngine>,
    items: &Bound<'_, PyList>,
    into: &Bound<'_, BatchResult>,
    threads: Option<usize>,
    at: Option<i64>,
) -> PyResult<()> {
    let held: Vec<Bound<'_, PyBytes>> = items
        .iter()
        .map(|i| i.downcast_into::<PyBytes>().map_err(PyErr::from))
        .collect::<PyResult<_>>()?;
    let slices: Vec<&[u8]> = held.iter().map(|b| b.as_bytes()).collect();
    let engine = Arc::clone(&engine.engine);
    let outs = guard("Verifier.verify_files", || {
        Ok(py.allow_threads(move || {
            let at = at.unwrap_or_else(|| engine.default_time());
            engine.verify_pdf_batch_at(&slices, threads, at)
        }))
    })?;
    let mut b = into.borrow_mut();
    for o in outs {
        b.codes.push(o.code.number());
        b.items.push(BatchItem::Pdf(Arc::new(o)));
    }
    Ok(())
}

/// Read and verify a chunk of PDF files on `threads` threads (each worker reads its own
/// files), appending results in order to `into`; the first file that cannot be read raises
/// its OSError and nothing is appended.
#[pyfunction]
#[pyo3(signature = (engine, paths, into, threads=None, at=None))]
fn pdf_verify_paths_chunk(
    py: Python<'_>,
    engine: PyRef<'_, CoreEngine>,
    paths: Vec<std::path::PathBuf>,
    into: &Bound<'_, BatchResult>,
    threads: Option<usize>,
    at: Option<i64>,
) -> PyResult<()> {
    let engine = Arc::clone(&engine.engine);
    let outs = guard("Verifier.verify_files", || {
        Ok(py.allow_threads(|| {
            let at = at.unwrap_or_else(|| engine.default_time());
            engine.verify_pdf_files_at(&paths, threads, at)
        }))
    })?;
    let mut done = Vec::with_capacity(outs.len());
    for (o, path) in outs.into_iter().zip(&paths) {
        match o {
            Ok(o) => done.push(o),
            // Not a regular file (a FIFO, a device): ValueError, as `verify_pdf` raises.
            Err(e) if e.kind() == std::io::ErrorKind::InvalidInput => {
                return Err(pyo3::exceptions::PyValueError::new_err(format!(
                    "{:?} is {e}",
                    path.to_string_lossy()
                )));
            }
            Err(e) => {
                let errno = e.raw_os_error().unwrap_or(0);
                return Err(pyo3::exceptions::PyOSError::new_err((
                    errno,
                    e.to_string(),
                    path.to_string_lossy().into_owned(),
                )));
            }
        }
    }
    let mut b = into.borrow_mut();
    for o in done {
        b.codes.push(o.code.number());
        b.items.push(BatchItem::Pdf(Arc::new(o)));
    }
    Ok(())
}

/// The verdict on one PDF: ok only when every signature is ok and nothing disallowed
/// followed any of them.
#[pyclass(frozen, module = "govsig._govsig")]
pub struct PdfResult {
    pub(crate) inner: Arc<PdfOutcome>,
}

#[pymethods]
impl PdfResult {
    /// The report line's `revocation_status` under revocation `mode`, over the signer of
    /// each signature (see `VerifyResult.revocation_summary`).
    fn revocation_summary(&self, mode: &str) -> PyResult<&'static str> {
        let signers = self.inner.signatures.iter().filter_map(|s| s.cms.signers.first());
        Ok(
            govsig_core::report::revocation_summary(crate::verify::revocation_mode(mode)?, self.inner.code, signers)
                .name(),
        )
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
    /// Number of revisions read (the original document and each incremental update).
    #[getter]
    fn revisions(&self) -> usize {
        self.inner.revisions
    }
    #[getter]
    fn signatures(&self) -> Vec<PdfSignature> {
        (0..self.inner.signatures.len())
            .map(|i| PdfSignature {
                doc: Arc::clone(&self.inner),
                index: i,
            })
            .collect()
    }
    /// Evidence the core lacked to decide a revocation status.
    #[getter]
    fn needs<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyTuple>>> {
        needs_tuples(py, &self.inner.needs())
    }
    /// What decided the verdict (`govsig.evidence.Evidence`), over every signature and
    /// document time-stamp: paths, the CRLs and OCSP responses (the DSS's among them) that
    /// decided a status, TSA paths; DER, each once. What the DSS carried that decided
    /// nothing is not in it.
    #[getter]
    fn evidence<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let mut ev = govsig_core::evidence::EvidenceSet::default();
        ev.add_pdf(&self.inner);
        crate::verify::evidence_to_py(py, &ev)
    }
    fn __bool__(&self) -> bool {
        self.inner.ok()
    }
    fn __repr__(&self) -> String {
        format!(
            "PdfResult(code={:?}, signatures={}, reason={:?})",
            self.inner.code.name(),
            self.inner.signatures.len(),
            self.inner.reason
        )
    }
}

/// One signature of a PDF.
#[pyclass(frozen, module = "govsig._govsig")]
pub struct PdfSignature {
    doc: Arc<PdfOutcome>,
    index: usize,
}

impl PdfSignature {
    fn s(&self) -> &PdfSignatureOutcome {
        // index < len by construction in PdfResult::signatures.
        &self.doc.signatures[self.index]
    }
}

#[pymethods]
impl PdfSignature {
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
    #[getter]
    fn field(&self) -> &str {
        &self.s().field
    }
    #[getter]
    fn subfilter(&self) -> Option<&str> {
        self.s().subfilter.as_deref()
    }
    #[getter]
    fn revision(&self) -> usize {
        self.s().revision
    }
    #[getter]
    fn byte_range(&self) -> Vec<i64> {
        self.s().byte_range.clone()
    }
    #[getter]
    fn covers_whole_document(&self) -> bool {
        self.s().covers_whole_document
    }
    /// "none", "ltv_only", "form_fill", "annotations" or "other".
    #[getter]
    fn modification(&self) -> &'static str {
        self.s().modification.name()
    }
    /// The DocMDP level (1, 2, 3) when this is the certification signature.
    #[getter]
    fn docmdp(&self) -> Option<u8> {
        self.s().docmdp
    }
    #[getter]
    fn is_doc_timestamp(&self) -> bool {
        self.s().is_doc_timestamp
    }
    #[getter]
    fn signing_reason(&self) -> Option<&str> {
        self.s().signing_reason.as_deref()
    }
    #[getter]
    fn location(&self) -> Option<&str> {
        self.s().location.as_deref()
    }
    /// /Name of the signature dictionary (the signer's name as the signing software wrote it).
    #[getter]
    fn name(&self) -> Option<&str> {
        self.s().name.as_deref()
    }
    /// /M as written: the signing time the software claims (a PDF date string).
    #[getter]
    fn claimed_time(&self) -> Option<&str> {
        self.s().claimed_time.as_deref()
    }
    /// The CMS signer (for a document time-stamp, the TSA); None when the signature could
    /// not be read that far.
    #[getter]
    fn signer(&self) -> Option<SignerResult> {
        let cms = &self.s().cms;
        (!cms.signers.is_empty()).then(|| SignerResult {
            doc: Arc::clone(cms),
            index: 0,
            counter: Vec::new(),
        })
    }
    fn __repr__(&self) -> String {
        let s = self.s();
        format!(
            "PdfSignature(field={:?}, code={:?}, revision={}, modification={:?})",
            s.field,
            s.code.name(),
            s.revision,
            s.modification.name()
        )
    }
}
