//! PDF signing glue: `PdfSigning` holds a prepared PDF (the signing revision written, its
//! /Contents empty) between making the CMS and writing it in, so Python can add a signature
//! time-stamp (network I/O) in between.

use std::sync::Arc;

use govsig_core::cms::sign::CmsSigner;
use govsig_core::pdf::sign::{estimated_contents_size, PdfSignError, PdfSignOptions, PdfSubFilter, PreparedPdf};
use govsig_core::pdf::PdfLimits;
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::errors::{pdf_sign_error, sign_error};
use crate::guard::guard;
use crate::sign::{options, SigningKey};

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PdfSigning>()?;
    Ok(())
}

/// A PDF ready to be signed by one key: `sign()` makes the CMS over the byte ranges,
/// `finish(cms)` writes it into /Contents and returns the signed PDF.
#[pyclass(module = "govsig._govsig")]
pub struct PdfSigning {
    prepared: Option<PreparedPdf>,
    signer: Arc<CmsSigner>,
    on_token: bool,
}

#[pymethods]
impl PdfSigning {
    #[new]
    #[pyo3(signature = (pdf, key, field, reason, location, name, certify, signing_time, contents_size, with_timestamp, subfilter="ETSI.CAdES.detached"))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        pdf: &Bound<'_, PyBytes>,
        key: &SigningKey,
        field: String,
        reason: Option<String>,
        location: Option<String>,
        name: Option<String>,
        certify: Option<u8>,
        signing_time: i64,
        contents_size: Option<usize>,
        with_timestamp: bool,
        subfilter: &str,
    ) -> PyResult<PdfSigning> {
        let (signer, on_token) = key.core();
        let signer = Arc::clone(signer);
        let sub_filter = PdfSubFilter::from_name(subfilter).ok_or_else(|| {
            let why =
                format!("subfilter must be \"ETSI.CAdES.detached\" or \"adbe.pkcs7.detached\", not {subfilter:?}");
            pdf_sign_error(py, &PdfSignError::InvalidArgument(why), on_token)
        })?;
        let opts = PdfSignOptions {
            field,
            sub_filter,
            reason,
            location,
            name,
            certify,
            signing_time,
            contents_size: contents_size.unwrap_or_else(|| estimated_contents_size(&signer, with_timestamp)),
        };
        let bytes = pdf.as_bytes();
        let made = guard("sign_pdf", || {
            Ok(py.allow_threads(|| PreparedPdf::prepare(bytes, &opts, &PdfLimits::default())))
        })?;
        let prepared = made.map_err(|e| pdf_sign_error(py, &e, on_token))?;
        Ok(PdfSigning {
            prepared: Some(prepared),
            signer,
            on_token,
        })
    }

    /// `[0, a, b, c]` as written in /ByteRange.
    #[getter]
    fn byte_range(&self) -> PyResult<[usize; 4]> {
        Ok(self.prepared()?.byte_range())
    }

    /// Bytes the CMS may take.
    #[getter]
    fn capacity(&self) -> PyResult<usize> {
        Ok(self.prepared()?.capacity())
    }

    /// The detached CMS over the byte ranges (no signingTime), GIL released.
    #[pyo3(signature = (digest=None, rsa_pss=false))]
    fn sign<'py>(&self, py: Python<'py>, digest: Option<&str>, rsa_pss: bool) -> PyResult<Bound<'py, PyBytes>> {
        let opts = options(true, digest, rsa_pss, None, "issuer_serial", "chain", None, true)?;
        let prepared = self.prepared()?;
        let signer = &self.signer;
        let out = guard("sign_pdf", || Ok(py.allow_threads(|| prepared.sign(signer, &opts))))?;
        match out {
            Ok(der) => Ok(PyBytes::new(py, &der)),
            Err(e) => Err(sign_error(py, &e, self.on_token)),
        }
    }

    /// The signed PDF with `cms` in /Contents; the object cannot be used afterwards.
    fn finish<'py>(&mut self, py: Python<'py>, cms: &[u8]) -> PyResult<Bound<'py, PyBytes>> {
        let prepared = self
            .prepared
            .take()
            .ok_or_else(|| PyRuntimeError::new_err("this PdfSigning has already been finished"))?;
        let out = guard("sign_pdf", || Ok(prepared.finish(cms)))?;
        match out {
            Ok(pdf) => Ok(PyBytes::new(py, &pdf)),
            Err(e) => Err(pdf_sign_error(py, &e, self.on_token)),
        }
    }
}

impl PdfSigning {
    fn prepared(&self) -> PyResult<&PreparedPdf> {
        self.prepared
            .as_ref()
            .ok_or_else(|| PyRuntimeError::new_err("this PdfSigning has already been finished"))
    }
}
