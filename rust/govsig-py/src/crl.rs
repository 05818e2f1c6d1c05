//! CRL glue: the parsed index as a frozen Python object; parsing runs with the GIL released.

use std::sync::Arc;

use govsig_core::revocation::{CrlIndex, RevokedEntry};
use govsig_core::x509::{Certificate, Name};
use govsig_core::Code;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::guard::guard;

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<CoreCrl>()?;
    Ok(())
}

/// `(serial, revocation_date, reason, invalidity_date, certificate_issuer, hold_instruction)`:
/// serial as two's complement big-endian bytes, times as Unix seconds.
type EntryTuple = (
    Vec<u8>,
    i64,
    Option<&'static str>,
    Option<i64>,
    Option<String>,
    Option<String>,
);

fn entry_tuple(e: &RevokedEntry) -> EntryTuple {
    (
        e.serial.as_bytes().to_vec(),
        e.revocation_date,
        e.reason.map(|r| r.name()),
        e.invalidity_date,
        e.certificate_issuer.as_ref().map(|n| n.to_string()),
        e.hold_instruction.map(|h| h.dotted().unwrap_or("other").to_owned()),
    )
}

/// A CRL parsed and indexed once (built by `govsig.Crl`).
#[pyclass(frozen, module = "govsig._govsig")]
pub struct CoreCrl {
    pub(crate) crl: Arc<CrlIndex>,
}

#[pymethods]
impl CoreCrl {
    /// Parses a DER CRL; ValueError with the reason when it cannot be used.
    #[staticmethod]
    fn from_der(py: Python<'_>, der: &[u8]) -> PyResult<CoreCrl> {
        let parsed = guard("Crl.from_der", || Ok(py.allow_threads(|| CrlIndex::from_der(der))))?;
        parsed
            .map(|c| CoreCrl { crl: Arc::new(c) })
            .map_err(|e| PyValueError::new_err(e.reason))
    }

    /// Parses DER bytes as revocation evidence: a CRL that cannot be used is returned with
    /// `defect` saying why; ValueError only when the bytes are not a CRL at all.
    #[staticmethod]
    fn evidence_from_der(py: Python<'_>, der: &[u8]) -> PyResult<CoreCrl> {
        let parsed = guard("Crl evidence", || {
            Ok(py.allow_threads(|| CrlIndex::from_der_as_evidence(der)))
        })?;
        parsed
            .map(|c| CoreCrl { crl: Arc::new(c) })
            .map_err(|e| PyValueError::new_err(e.reason))
    }

    /// Why this CRL cannot be used as evidence (None when it can).
    #[getter]
    fn defect(&self) -> Option<String> {
        self.crl.defect.as_ref().map(|e| e.reason.clone())
    }

    #[getter]
    fn issuer(&self) -> String {
        self.crl.issuer.to_string()
    }
    #[getter]
    fn issuer_der<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, self.crl.issuer.der())
    }
    #[getter]
    fn version(&self) -> u8 {
        self.crl.version
    }
    #[getter]
    fn this_update(&self) -> i64 {
        self.crl.this_update
    }
    #[getter]
    fn next_update(&self) -> Option<i64> {
        self.crl.next_update
    }
    /// cRLNumber as big-endian magnitude bytes.
    #[getter]
    fn number<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyBytes>> {
        self.crl.crl_number.as_ref().map(|n| PyBytes::new(py, n.magnitude()))
    }
    /// deltaCRLIndicator's BaseCRLNumber as big-endian magnitude bytes.
    #[getter]
    fn delta_base<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyBytes>> {
        self.crl
            .delta_crl_indicator
            .as_ref()
            .map(|n| PyBytes::new(py, n.magnitude()))
    }
    #[getter]
    fn is_delta(&self) -> bool {
        self.crl.is_delta()
    }
    #[getter]
    fn is_indirect(&self) -> bool {
        self.crl.is_indirect()
    }
    #[getter]
    fn der<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, self.crl.der())
    }
    #[getter]
    fn fingerprint<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.crl.fingerprint())
    }
    #[getter]
    fn signature_algorithm(&self) -> String {
        self.crl.signature_algorithm_name()
    }
    #[getter]
    fn authority_key_id<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyBytes>> {
        self.crl.authority_key_id.as_ref().map(|k| PyBytes::new(py, k))
    }
    /// URIs of the freshestCRL distribution points (where delta CRLs are published).
    #[getter]
    fn freshest_crl_uris(&self) -> Vec<String> {
        self.crl
            .freshest_crl
            .iter()
            .flatten()
            .flat_map(|dp| dp.uris())
            .map(str::to_owned)
            .collect()
    }
    /// `(dotted OID, critical)` of every CRL extension.
    #[getter]
    fn extensions(&self) -> Vec<(String, bool)> {
        self.crl.extensions.clone()
    }

    fn __len__(&self) -> usize {
        self.crl.len()
    }

    /// The entry for `serial` (INTEGER content octets). With `issuer_der` (a DER Name), the
    /// entry of that certificate issuer; without, the CRL issuer's entry, else the first other
    /// issuer's.
    #[pyo3(signature = (serial, issuer_der=None))]
    fn lookup(&self, serial: &[u8], issuer_der: Option<&[u8]>) -> PyResult<Option<EntryTuple>> {
        match issuer_der {
            Some(d) => {
                let name = guard("Crl.lookup", || Ok(Name::from_der(d)))?
                    .map_err(|e| PyValueError::new_err(format!("issuer: {}", e.0)))?;
                guard("Crl.lookup", || Ok(self.crl.lookup(&name, serial).map(entry_tuple)))
            }
            None => guard("Crl.lookup", || {
                Ok(self.crl.lookup_any_issuer(serial).first().map(|e| entry_tuple(e)))
            }),
        }
    }

    /// Every entry, in CRL order.
    fn entries(&self) -> Vec<EntryTuple> {
        self.crl.entries().iter().map(entry_tuple).collect()
    }

    /// Whether the CRL signature verifies with the key of `certificate_der`. A bad signature,
    /// a key of another type or an unusable key is False; an unparseable certificate, an unsupported
    /// algorithm, a refused legacy algorithm or a too-small key is ValueError.
    fn verify_signature(
        &self,
        py: Python<'_>,
        certificate_der: &[u8],
        legacy: bool,
        min_rsa_bits: usize,
    ) -> PyResult<bool> {
        let cert = guard("Crl.verify_signature", || Ok(Certificate::from_der(certificate_der)))?
            .map_err(|e| PyValueError::new_err(format!("not a valid X.509 certificate: {e}")))?;
        let key = cert
            .public_key
            .as_ref()
            .map_err(|e| PyValueError::new_err(format!("cannot use the key of {}: {e}", cert.describe())))?;
        let crl = Arc::clone(&self.crl);
        match guard("Crl.verify_signature", || {
            Ok(py.allow_threads(move || crl.verify_signature(key, legacy, min_rsa_bits)))
        })? {
            Ok(()) => Ok(true),
            Err(e) if e.code == Code::CrlInvalid => Ok(false),
            Err(e) => Err(PyValueError::new_err(e.reason)),
        }
    }
}
