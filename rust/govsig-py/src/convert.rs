//! Conversions between core values and Python values.

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList};

/// Unix seconds -> timezone-aware `datetime` in UTC.
pub fn datetime_utc<'py>(py: Python<'py>, t: i64) -> PyResult<Bound<'py, PyAny>> {
    let dt = py.import("datetime")?;
    let utc = dt.getattr("timezone")?.getattr("utc")?;
    let epoch = dt.getattr("datetime")?.call1((1970, 1, 1, 0, 0, 0, 0, utc))?;
    let delta = dt.getattr("timedelta")?.call1((0, t))?;
    epoch.call_method1("__add__", (delta,))
}

pub fn bytes_list<'py, 'a>(py: Python<'py>, items: impl IntoIterator<Item = &'a [u8]>) -> PyResult<Bound<'py, PyList>> {
    let v: Vec<Bound<'py, PyBytes>> = items.into_iter().map(|b| PyBytes::new(py, b)).collect();
    PyList::new(py, v)
}
