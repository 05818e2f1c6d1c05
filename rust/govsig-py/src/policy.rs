//! `Policy`: a frozen pyclass over the core's [`Policy`]. Knobs are converted by their kind
//! from the core's table ([`KNOBS`]) and validated by the core, so no knob is named here:
//! adding one touches the core and the stub only. The evidence a policy carries (anchors,
//! intermediates, CRLs, OCSP responses) comes already normalised by `govsig.Policy`, the
//! Python subclass that accepts the many forms users hold them in.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

use govsig_core::policy::knobs::{self, KnobKind, KnobSpec, KnobValue};
use govsig_core::policy::{KnobError, Policy, KNOBS};
use pyo3::exceptions::{PyAttributeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyCFunction, PyDict, PyInt, PyString, PyTuple, PyType};

use crate::convert::datetime_utc;
use crate::crl::CoreCrl;

/// The verification policy (see `govsig.Policy` for the documented surface).
#[pyclass(frozen, subclass, module = "govsig._govsig", name = "Policy")]
pub struct PyPolicy {
    pub(crate) core: Policy,
    /// The caller's trust store object (a `govsig.TrustStore`), returned as given.
    trust: Option<PyObject>,
    pub(crate) trust_ders: Option<Vec<Vec<u8>>>,
    pub(crate) intermediates: Vec<Vec<u8>>,
    pub(crate) crls: Vec<Py<CoreCrl>>,
    pub(crate) ocsp_responses: Vec<Vec<u8>>,
    /// The caller's TSA trust store object (a `govsig.TrustStore`), returned as given; None:
    /// time-stamping authorities are trusted by `trust`.
    tsa_trust: Option<PyObject>,
    pub(crate) tsa_trust_ders: Option<Vec<Vec<u8>>>,
}

/// A knob that does not exist or a value of the wrong kind is a `TypeError` (as for a wrong
/// keyword or argument type); a value of the right kind that the knob refuses, `ValueError`.
fn knob_error(e: KnobError) -> PyErr {
    match e {
        KnobError::Unknown { .. } | KnobError::WrongKind { .. } => PyTypeError::new_err(e.to_string()),
        KnobError::Invalid { .. } => PyValueError::new_err(e.to_string()),
    }
}

/// A refused value as an error message shows it: its repr, cut short so that a hostile or
/// huge value (an int of thousands of digits, a long string) cannot flood the message.
fn shown(v: &Bound<'_, PyAny>) -> String {
    const MAX: usize = 80;
    let r = v
        .repr()
        .map(|r| r.to_string())
        .unwrap_or_else(|_| "<unprintable>".to_string());
    if r.chars().count() <= MAX {
        r
    } else {
        format!(
            "{}... ({} characters)",
            r.chars().take(MAX).collect::<String>(),
            r.chars().count()
        )
    }
}

/// Text entries of a list knob: one str, or an iterable of str.
fn names(spec: &KnobSpec, v: &Bound<'_, PyAny>) -> PyResult<KnobValue> {
    if let Ok(s) = v.downcast::<PyString>() {
        return Ok(KnobValue::Name(s.to_str()?.to_owned()));
    }
    if v.is_instance_of::<PyBytes>() {
        return Err(knob_error(spec.entry_not_text(&shown(v))));
    }
    let iter = v.try_iter().map_err(|_| {
        knob_error(KnobError::WrongKind {
            name: spec.name,
            expected: spec.kind.expected(),
        })
    })?;
    let mut out = Vec::new();
    for item in iter {
        let item = item?;
        match item.downcast::<PyString>() {
            Ok(s) => out.push(s.to_str()?.to_owned()),
            Err(_) => return Err(knob_error(spec.entry_not_text(&shown(&item)))),
        }
    }
    Ok(KnobValue::Names(out))
}

/// A Python value as the knob `spec` takes it (kind only; the core checks the value).
fn to_knob(spec: &KnobSpec, v: &Bound<'_, PyAny>) -> PyResult<KnobValue> {
    let wrong = || {
        knob_error(KnobError::WrongKind {
            name: spec.name,
            expected: spec.kind.expected(),
        })
    };
    match spec.kind {
        KnobKind::Bool => v
            .downcast::<PyBool>()
            .map(|b| KnobValue::Bool(b.is_true()))
            .map_err(|_| wrong()),
        KnobKind::Int { .. } => {
            if v.is_instance_of::<PyBool>() || !v.is_instance_of::<PyInt>() {
                return Err(wrong());
            }
            v.extract::<i128>()
                .map(KnobValue::Int)
                .map_err(|_| knob_error(spec.out_of_range(&shown(v))))
        }
        KnobKind::Time => {
            if v.is_none() {
                return Ok(KnobValue::Time(None));
            }
            let datetime = v.py().import("datetime")?.getattr("datetime")?;
            if !v.is_instance(&datetime)? {
                return Err(wrong());
            }
            // A naive datetime is UTC; the policy keeps whole seconds.
            let aware = if v.getattr("tzinfo")?.is_none() {
                let utc = v.py().import("datetime")?.getattr("timezone")?.getattr("utc")?;
                let kw = PyDict::new(v.py());
                kw.set_item("tzinfo", utc)?;
                v.call_method("replace", (), Some(&kw))?
            } else {
                v.clone()
            };
            // Whole seconds since the epoch by exact datetime arithmetic, not `timestamp()`:
            // its float rounds 9999-12-31 23:59:59.999999 up into year 10000, and a subclass
            // may override it (a NaN became 1970). The instant must also read back as a UTC
            // datetime (years 1..9999), or the policy could be built but not shown, pickled
            // or replaced.
            let dt = v.py().import("datetime")?;
            let utc = dt.getattr("timezone")?.getattr("utc")?;
            let epoch = dt.getattr("datetime")?.call1((1970, 1, 1, 0, 0, 0, 0, utc))?;
            let second = dt.getattr("timedelta")?.call1((0, 1))?;
            let since = dt.getattr("datetime")?.getattr("__sub__")?.call1((&aware, &epoch))?;
            let ts: i64 = since.call_method1("__floordiv__", (second,))?.extract()?;
            if datetime_utc(v.py(), ts).is_err() {
                return Err(knob_error(KnobError::Invalid {
                    name: spec.name,
                    message: format!("must fall within years 1..9999 in UTC, got {}", shown(v)),
                }));
            }
            Ok(KnobValue::Time(Some(ts)))
        }
        KnobKind::Choice(_) => v
            .downcast::<PyString>()
            .map_err(|_| wrong())
            .and_then(|s| Ok(KnobValue::Name(s.to_str()?.to_owned()))),
        KnobKind::Choices { .. } | KnobKind::Oids => names(spec, v),
        KnobKind::OptionalOids => {
            if v.is_none() {
                Ok(KnobValue::OptionalNames(None))
            } else {
                names(spec, v)
            }
        }
    }
}

fn from_knob(py: Python<'_>, v: KnobValue) -> PyResult<PyObject> {
    Ok(match v {
        KnobValue::Bool(b) => PyBool::new(py, b).to_owned().into_any().unbind(),
        KnobValue::Int(n) => n.into_pyobject(py)?.into_any().unbind(),
        KnobValue::Time(None) | KnobValue::OptionalNames(None) => py.None(),
        KnobValue::Time(Some(t)) => datetime_utc(py, t)?.unbind(),
        KnobValue::Name(s) => PyString::new(py, &s).into_any().unbind(),
        KnobValue::Names(n) | KnobValue::OptionalNames(Some(n)) => PyTuple::new(py, n)?.into_any().unbind(),
    })
}

fn core_knob(core: &Policy, name: &str) -> KnobValue {
    // Every name handed out comes from KNOBS, which `knob` answers for all.
    core.knob(name).unwrap_or(KnobValue::Time(None))
}

impl PyPolicy {
    fn crl_ders<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(py, self.crls.iter().map(|c| PyBytes::new(py, c.get().crl.der())))
    }

    /// Everything needed to build an equal policy, as keyword arguments of `govsig.Policy`.
    fn kwargs<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let kw = PyDict::new(py);
        kw.set_item("trust", self.trust.as_ref().map(|t| t.bind(py)))?;
        kw.set_item(
            "intermediates",
            PyTuple::new(py, self.intermediates.iter().map(|d| PyBytes::new(py, d)))?,
        )?;
        for (name, v) in self.core.knobs() {
            kw.set_item(name, from_knob(py, v)?)?;
        }
        kw.set_item("crls", self.crl_ders(py)?)?;
        kw.set_item(
            "ocsp_responses",
            PyTuple::new(py, self.ocsp_responses.iter().map(|d| PyBytes::new(py, d)))?,
        )?;
        kw.set_item("tsa_trust", self.tsa_trust.as_ref().map(|t| t.bind(py)))?;
        Ok(kw)
    }

    fn same(&self, other: &PyPolicy) -> bool {
        let crl = |p: &PyPolicy| p.crls.iter().map(|c| c.get().crl.der().to_vec()).collect::<Vec<_>>();
        self.core == other.core
            && self.trust_ders == other.trust_ders
            && self.intermediates == other.intermediates
            && crl(self) == crl(other)
            && self.ocsp_responses == other.ocsp_responses
            && self.tsa_trust_ders == other.tsa_trust_ders
    }
}

#[pymethods]
impl PyPolicy {
    /// Built by `govsig.Policy`: `trust` is the caller's store object and `trust_certificates`
    /// its anchors (DER); `crls` parsed CRLs; `knobs` the knobs by name, validated here;
    /// `tsa_trust` / `tsa_trust_certificates` as `trust` for time-stamping authorities.
    #[new]
    #[pyo3(signature = (trust, trust_certificates, intermediates, crls, ocsp_responses, knobs,
                        tsa_trust=None, tsa_trust_certificates=None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        trust: Option<PyObject>,
        trust_certificates: Option<Vec<Vec<u8>>>,
        intermediates: Vec<Vec<u8>>,
        crls: Vec<Py<CoreCrl>>,
        ocsp_responses: Vec<Vec<u8>>,
        knobs: &Bound<'_, PyDict>,
        tsa_trust: Option<PyObject>,
        tsa_trust_certificates: Option<Vec<Vec<u8>>>,
    ) -> PyResult<Self> {
        let mut core = Policy::default();
        // Knobs are set in the table's order, whatever the order of the keywords, so the
        // same arguments always give the same policy and the same first error.
        for k in knobs.keys() {
            let name: String = k.extract()?;
            if knobs::spec(&name).is_none() {
                return Err(knob_error(KnobError::Unknown { name }));
            }
        }
        for spec in KNOBS {
            if let Some(v) = knobs.get_item(spec.name)? {
                let value = to_knob(spec, &v)?;
                core.set_knob(spec.name, value).map_err(knob_error)?;
            }
        }
        Ok(PyPolicy {
            core,
            trust,
            trust_ders: trust_certificates,
            intermediates,
            crls,
            ocsp_responses,
            tsa_trust,
            tsa_trust_ders: tsa_trust_certificates,
        })
    }

    /// The trust store of time-stamping authorities (None: `trust` decides).
    #[getter]
    fn tsa_trust(&self, py: Python<'_>) -> Option<PyObject> {
        self.tsa_trust.as_ref().map(|t| t.clone_ref(py))
    }

    /// The trust store (None: integrity only, no trust decision).
    #[getter]
    fn trust(&self, py: Python<'_>) -> Option<PyObject> {
        self.trust.as_ref().map(|t| t.clone_ref(py))
    }

    /// Untrusted certificates for path building, as DER.
    #[getter]
    fn intermediates<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(py, self.intermediates.iter().map(|d| PyBytes::new(py, d)))
    }

    /// The CRLs given as evidence, as DER.
    #[getter]
    fn crls<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        self.crl_ders(py)
    }

    /// The OCSP responses given as evidence, as DER.
    #[getter]
    fn ocsp_responses<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(py, self.ocsp_responses.iter().map(|d| PyBytes::new(py, d)))
    }

    /// A new policy with some knobs or evidence changed (the same keywords as the
    /// constructor).
    #[pyo3(signature = (**changes))]
    fn replace<'py>(slf: &Bound<'py, Self>, changes: Option<&Bound<'py, PyDict>>) -> PyResult<Bound<'py, PyAny>> {
        let py = slf.py();
        let kw = slf.get().kwargs(py)?;
        if let Some(changes) = changes {
            let unknown: Vec<String> = changes
                .keys()
                .iter()
                .filter(|k| !kw.contains(k).unwrap_or(false))
                .map(|k| k.to_string())
                .collect();
            if !unknown.is_empty() {
                return Err(PyTypeError::new_err(format!(
                    "unknown Policy field(s): {}",
                    unknown.join(", ")
                )));
            }
            kw.update(changes.as_mapping())?;
        }
        slf.get_type().call((), Some(&kw))
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyTuple>> {
        let py = slf.py();
        let rebuild = py.import("govsig._govsig")?.getattr("_policy_from_kwargs")?;
        let args = PyTuple::new(py, [slf.get_type().into_any(), slf.get().kwargs(py)?.into_any()])?;
        PyTuple::new(py, [rebuild, args.into_any()])
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other.downcast::<PyPolicy>().is_ok_and(|o| self.same(o.get()))
    }

    fn __hash__(&self) -> u64 {
        let mut h = DefaultHasher::new();
        self.core.hash(&mut h);
        self.trust_ders.hash(&mut h);
        self.intermediates.hash(&mut h);
        for c in &self.crls {
            c.get().crl.der().hash(&mut h);
        }
        self.ocsp_responses.hash(&mut h);
        self.tsa_trust_ders.hash(&mut h);
        h.finish()
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let mut parts = Vec::with_capacity(KNOBS.len() + 4);
        parts.push(match &self.trust_ders {
            None => "trust=None".to_string(),
            Some(t) => format!("trust=<TrustStore of {}>", t.len()),
        });
        parts.push(format!("intermediates=<{} certificates>", self.intermediates.len()));
        for (name, v) in self.core.knobs() {
            parts.push(format!("{name}={}", from_knob(py, v)?.bind(py).repr()?));
        }
        parts.push(format!("crls=<{} CRLs>", self.crls.len()));
        parts.push(format!("ocsp_responses=<{} OCSP responses>", self.ocsp_responses.len()));
        parts.push(match &self.tsa_trust_ders {
            None => "tsa_trust=None".to_string(),
            Some(t) => format!("tsa_trust=<TrustStore of {}>", t.len()),
        });
        Ok(format!("Policy({})", parts.join(", ")))
    }

    fn __setattr__(&self, name: &str, _value: &Bound<'_, PyAny>) -> PyResult<()> {
        Err(PyAttributeError::new_err(format!(
            "Policy is immutable (cannot set {name}); use .replace({name}=...) to derive a new one"
        )))
    }

    fn __delattr__(&self, name: &str) -> PyResult<()> {
        Err(PyAttributeError::new_err(format!(
            "Policy is immutable (cannot delete {name})"
        )))
    }
}

/// `cls(**kwargs)`: how a pickled policy is rebuilt (through the same validation).
#[pyfunction]
fn _policy_from_kwargs<'py>(cls: &Bound<'py, PyType>, kwargs: &Bound<'py, PyDict>) -> PyResult<Bound<'py, PyAny>> {
    cls.call((), Some(kwargs))
}

/// Every knob with its default value, in the table's order.
#[pyfunction]
fn policy_defaults(py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
    let d = PyDict::new(py);
    for (name, v) in knobs::defaults() {
        d.set_item(name, from_knob(py, v)?)?;
    }
    Ok(d)
}

/// `(name, one line on what it does)` of every knob, in the table's order.
#[pyfunction]
fn policy_knobs() -> Vec<(&'static str, &'static str)> {
    KNOBS.iter().map(|k| (k.name, k.doc)).collect()
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add_class::<PyPolicy>()?;
    m.add_function(wrap_pyfunction!(_policy_from_kwargs, m)?)?;
    m.add_function(wrap_pyfunction!(policy_defaults, m)?)?;
    m.add_function(wrap_pyfunction!(policy_knobs, m)?)?;
    m.add("REVOCATION_MODES", PyTuple::new(py, knobs::REVOCATION_MODES)?)?;
    m.add("REVOCATION_SOURCES", PyTuple::new(py, knobs::REVOCATION_SOURCES)?)?;
    m.add("KEY_USAGE_NAMES", PyTuple::new(py, knobs::KEY_USAGE_NAMES)?)?;
    // One read-only property per knob of the core's table, with the table's doc line.
    let ty = py.get_type::<PyPolicy>();
    let property = py.import("builtins")?.getattr("property")?;
    for spec in KNOBS {
        let name = spec.name;
        let getter = PyCFunction::new_closure(
            py,
            None,
            None,
            move |args: &Bound<'_, PyTuple>, _kw| -> PyResult<PyObject> {
                let py = args.py();
                let this = args.get_item(0)?;
                let this = this.downcast::<PyPolicy>()?;
                from_knob(py, core_knob(&this.get().core, name))
            },
        )?;
        let prop = property.call1((getter, py.None(), py.None(), spec.doc))?;
        ty.setattr(name, prop)?;
    }
    Ok(())
}
