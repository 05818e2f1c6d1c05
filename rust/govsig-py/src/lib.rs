//! The compiled module `govsig._govsig`: PyO3 glue only. Conversions at the edge, the GIL
//! released around every call into the core, core errors mapped to Python exceptions.

use pyo3::prelude::*;

/// mimalloc for everything the core allocates (see Cargo.toml for why).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod convert;
mod crl;
mod dossier;
mod errors;
mod guard;
mod ocsp;
mod pdf;
mod pdf_sign;
mod policy;
mod sign;
mod tsp;
mod verify;

#[pymodule]
fn _govsig(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add(
        "BUILD_PROFILE",
        if cfg!(debug_assertions) { "debug" } else { "release" },
    )?;
    // The most worker threads a call may ask for (a few per core): checked by every
    // `threads=` argument in Python.
    m.add("MAX_THREADS", govsig_core::threads::max_threads())?;
    m.add("PDF_MAX_BYTES", govsig_core::pdf::PdfLimits::default().max_bytes)?;
    guard::register(m)?;
    errors::register(m)?;
    policy::register(m)?;
    verify::register(m)?;
    dossier::register(m)?;
    crl::register(m)?;
    sign::register(m)?;
    ocsp::register(m)?;
    pdf::register(m)?;
    pdf_sign::register(m)?;
    tsp::register(m)?;
    Ok(())
}
