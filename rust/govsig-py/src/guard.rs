//! The panic guard every entry point runs its core calls under. PyO3 would otherwise turn a
//! panic into `pyo3_runtime.PanicException`, a `BaseException` that `except Exception` does
//! not stop: one crafted document would end a bulk job. A caught panic becomes
//! `govsig.InternalError` (or an `internal_error` result where the entry point returns
//! results). The panic's own message is never forwarded: it names internal functions and
//! may quote input bytes.

use std::panic::{catch_unwind, AssertUnwindSafe};

use pyo3::create_exception;
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;

create_exception!(
    govsig,
    InternalError,
    PyRuntimeError,
    "govsig hit an internal error (a bug) and produced no answer; please report it."
);

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("InternalError", m.py().get_type::<InternalError>())?;
    m.add_function(wrap_pyfunction!(_guard_probe, m)?)
}

/// Panics inside the guard on purpose. Real panics are bugs with no input to reproduce them
/// once fixed, so the test suite proves what a caller sees (the exception, its message)
/// through this probe.
#[pyfunction]
fn _guard_probe() -> PyResult<()> {
    guard("the guard probe", || {
        panic!("guard probe: deliberate panic in govsig_py::guard")
    })
}

/// The message of a caught panic: which public operation failed, nothing from inside.
pub fn internal_error_message(operation: &str) -> String {
    format!("internal error in {operation} (a bug in govsig, please report it); no answer was produced")
}

/// Runs `f`; a panic inside becomes `Err(govsig.InternalError)` naming `operation` (the
/// public name, e.g. "Crl.verify_signature"). The objects `f` touches hold no invariant a
/// half-finished call could break (core caches insert whole entries), so asserting unwind
/// safety is sound.
pub fn guard<T>(operation: &str, f: impl FnOnce() -> PyResult<T>) -> PyResult<T> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|_| Err(InternalError::new_err(internal_error_message(operation))))
}

/// Runs `f`; a panic inside becomes `on_panic(message)`: for entry points that answer with
/// a result object rather than an exception.
pub fn guard_result<T>(operation: &str, f: impl FnOnce() -> T, on_panic: impl FnOnce(String) -> T) -> T {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|_| on_panic(internal_error_message(operation)))
}
