use pyo3::prelude::*;

mod dossier;

#[pymodule]
fn _govsig(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    dossier::register(m)?;
    Ok(())
}
