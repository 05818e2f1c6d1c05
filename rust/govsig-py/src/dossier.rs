//! PyO3 glue for govsig_core::dossier: conversions, GIL release, error mapping. No logic.

use std::path::PathBuf;
use std::sync::Arc;

use numpy::{PyArray1, PyArray2, PyArrayMethods};
use pyo3::create_exception;
use pyo3::exceptions::{PyFileNotFoundError, PyNotADirectoryError, PyOSError, PyPermissionError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use govsig_core::dossier as core;

use crate::guard::guard;

create_exception!(
    _govsig,
    DossierError,
    PyValueError,
    "A dossier, manifest, bag or proof that is malformed or misused."
);

fn to_py_err(e: core::DossierError) -> PyErr {
    let msg = e.to_string();
    match e {
        core::DossierError::Io { kind, .. } => match kind {
            core::IoKind::NotFound => PyFileNotFoundError::new_err(msg),
            core::IoKind::PermissionDenied => PyPermissionError::new_err(msg),
            core::IoKind::Other => PyOSError::new_err(msg),
        },
        core::DossierError::NotADirectory { .. } => PyNotADirectoryError::new_err(msg),
        _ => DossierError::new_err(msg),
    }
}

fn file_error_to_py(e: core::FileError) -> PyErr {
    let msg = e.to_string();
    match e.code {
        core::FileErrorCode::NotFound => PyFileNotFoundError::new_err(msg),
        core::FileErrorCode::PermissionDenied => PyPermissionError::new_err(msg),
        _ => PyOSError::new_err(msg),
    }
}

fn algorithm(name: &str) -> PyResult<core::HashAlgorithm> {
    core::HashAlgorithm::from_name(name).map_err(to_py_err)
}

type FileErrorTuple = (String, &'static str, String);

fn error_tuples(errors: Vec<core::FileError>) -> Vec<FileErrorTuple> {
    errors
        .into_iter()
        .map(|e| (e.relpath, e.code.as_str(), e.message))
        .collect()
}

type ProofTuple<'py> = (&'static str, u64, u64, Vec<Bound<'py, PyBytes>>);

fn proof_tuple<'py>(py: Python<'py>, p: &core::InclusionProof) -> ProofTuple<'py> {
    (
        p.algorithm().name(),
        p.leaf_index(),
        p.tree_size(),
        p.path().iter().map(|h| PyBytes::new(py, h)).collect(),
    )
}

fn proof_from_parts(
    algorithm_name: &str,
    leaf_index: u64,
    tree_size: u64,
    path: Vec<Vec<u8>>,
) -> PyResult<core::InclusionProof> {
    let alg = algorithm(algorithm_name)?;
    guard("InclusionProof", || {
        Ok(core::InclusionProof::new(alg, leaf_index, tree_size, path))
    })?
    .map_err(to_py_err)
}

/// Progress counters readable while a hash call runs on other threads.
#[pyclass(frozen, module = "govsig._govsig")]
pub struct DossierHashProgress {
    inner: Arc<core::HashProgress>,
}

#[pymethods]
impl DossierHashProgress {
    #[new]
    fn new() -> Self {
        Self {
            inner: Arc::new(core::HashProgress::default()),
        }
    }

    /// (files_done, files_total, bytes_done, bytes_total)
    fn snapshot(&self) -> (u64, u64, u64, u64) {
        self.inner.snapshot()
    }
}

/// The canonical manifest of a dossier (immutable).
#[pyclass(frozen, module = "govsig._govsig")]
pub struct DossierManifest {
    inner: core::Manifest,
}

#[pymethods]
impl DossierManifest {
    #[staticmethod]
    #[pyo3(signature = (algorithm_name, data, payload_dir=None))]
    fn parse(py: Python<'_>, algorithm_name: &str, data: Vec<u8>, payload_dir: Option<PathBuf>) -> PyResult<Self> {
        let alg = algorithm(algorithm_name)?;
        guard("Dossier manifest parsing", || {
            Ok(py.allow_threads(|| core::Manifest::parse(alg, &data, payload_dir.as_deref())))
        })?
        .map(|inner| Self { inner })
        .map_err(to_py_err)
    }

    #[staticmethod]
    fn from_entries(
        algorithm_name: &str,
        paths: Vec<String>,
        sizes: Vec<u64>,
        digests: Vec<Vec<u8>>,
    ) -> PyResult<Self> {
        if paths.len() != sizes.len() || paths.len() != digests.len() {
            return Err(PyValueError::new_err(
                "paths, sizes and digests must have the same length",
            ));
        }
        let entries = paths
            .into_iter()
            .zip(sizes)
            .zip(digests)
            .map(|((relpath, size), digest)| core::ManifestEntry {
                relpath,
                size,
                digest,
                source: None,
            })
            .collect();
        let alg = algorithm(algorithm_name)?;
        guard("Dossier manifest building", || {
            Ok(core::Manifest::from_entries(alg, entries))
        })?
        .map(|inner| Self { inner })
        .map_err(to_py_err)
    }

    #[getter]
    fn algorithm(&self) -> &'static str {
        self.inner.algorithm().name()
    }

    #[getter]
    fn total_bytes(&self) -> u64 {
        self.inner.total_bytes()
    }

    fn __len__(&self) -> usize {
        self.inner.len()
    }

    fn paths(&self) -> Vec<String> {
        self.inner.paths().to_vec()
    }

    fn sizes<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<u64>> {
        PyArray1::from_slice(py, self.inner.sizes())
    }

    fn digests<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray2<u8>>> {
        PyArray1::from_slice(py, self.inner.digests()).reshape([self.inner.len(), self.inner.algorithm().output_len()])
    }

    fn sources(&self) -> Option<Vec<PathBuf>> {
        self.inner.sources()
    }

    fn digest<'py>(&self, py: Python<'py>, index: usize) -> PyResult<Bound<'py, PyBytes>> {
        self.inner
            .digest(index)
            .map(|d| PyBytes::new(py, d))
            .ok_or_else(|| pyo3::exceptions::PyIndexError::new_err("entry index out of range"))
    }

    fn index_of(&self, relpath: &str) -> PyResult<usize> {
        guard("Dossier lookup", || Ok(self.inner.index_of(relpath)))?.map_err(to_py_err)
    }

    fn line(&self, index: usize) -> PyResult<String> {
        self.inner
            .line(index)
            .ok_or_else(|| pyo3::exceptions::PyIndexError::new_err("entry index out of range"))
    }

    fn manifest_bytes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let bytes = guard("Dossier manifest", || Ok(py.allow_threads(|| self.inner.to_bytes())))?;
        Ok(PyBytes::new(py, &bytes))
    }

    fn root<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let root = guard("Dossier.root", || Ok(py.allow_threads(|| self.inner.root())))?;
        Ok(PyBytes::new(py, &root))
    }

    fn proof<'py>(&self, py: Python<'py>, relpath: &str) -> PyResult<ProofTuple<'py>> {
        let proof =
            guard("Dossier.proof", || Ok(py.allow_threads(|| self.inner.proof(relpath))))?.map_err(to_py_err)?;
        Ok(proof_tuple(py, &proof))
    }

    /// (unchanged, modified, missing, added, renamed) of `current` against this manifest.
    #[allow(clippy::type_complexity)]
    fn compare(
        &self,
        py: Python<'_>,
        current: &DossierManifest,
    ) -> PyResult<(
        Vec<String>,
        Vec<String>,
        Vec<String>,
        Vec<String>,
        Vec<(String, String)>,
    )> {
        let d = guard("Dossier.compare", || {
            Ok(py.allow_threads(|| core::compare(&self.inner, &current.inner)))
        })?
        .map_err(to_py_err)?;
        Ok((d.unchanged, d.modified, d.missing, d.added, d.renamed))
    }

    /// bag-info.txt bytes for this manifest.
    fn bag_info<'py>(
        &self,
        py: Python<'py>,
        bagging_date: &str,
        software_agent: &str,
        extra: Vec<(String, String)>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let fields = guard("writing bag-info.txt", || {
            Ok(core::bag_info_fields(&self.inner, bagging_date, software_agent, &extra))
        })?
        .map_err(to_py_err)?;
        let bytes = guard("writing bag-info.txt", || Ok(core::tag_file_bytes(&fields)))?.map_err(to_py_err)?;
        Ok(PyBytes::new(py, &bytes))
    }
}

type HashResult = (DossierManifest, Vec<FileErrorTuple>);

fn run_hash(
    py: Python<'_>,
    options: core::HashOptions,
    progress: Option<&DossierHashProgress>,
    job: impl FnOnce(&core::HashOptions, &core::HashProgress) -> Result<core::HashReport, core::DossierError> + Send,
) -> PyResult<HashResult> {
    let progress = progress.map_or_else(|| Arc::new(core::HashProgress::default()), |p| p.inner.clone());
    let report = guard("Dossier hashing", || Ok(py.allow_threads(|| job(&options, &progress))))?.map_err(to_py_err)?;
    Ok((DossierManifest { inner: report.manifest }, error_tuples(report.errors)))
}

fn options(algorithm_name: &str, threads: usize, buffer_size: usize) -> PyResult<core::HashOptions> {
    Ok(core::HashOptions {
        algorithm: algorithm(algorithm_name)?,
        threads,
        buffer_size,
    })
}

#[pyfunction]
#[pyo3(signature = (root, algorithm_name="sha256", threads=0, buffer_size=core::DEFAULT_BUFFER_SIZE, progress=None))]
fn dossier_hash_directory(
    py: Python<'_>,
    root: PathBuf,
    algorithm_name: &str,
    threads: usize,
    buffer_size: usize,
    progress: Option<&DossierHashProgress>,
) -> PyResult<HashResult> {
    let opts = options(algorithm_name, threads, buffer_size)?;
    run_hash(py, opts, progress, |o, p| core::hash_directory(&root, o, p))
}

#[pyfunction]
#[pyo3(signature = (base, paths, algorithm_name="sha256", threads=0, buffer_size=core::DEFAULT_BUFFER_SIZE, progress=None))]
fn dossier_hash_paths(
    py: Python<'_>,
    base: PathBuf,
    paths: Vec<PathBuf>,
    algorithm_name: &str,
    threads: usize,
    buffer_size: usize,
    progress: Option<&DossierHashProgress>,
) -> PyResult<HashResult> {
    let opts = options(algorithm_name, threads, buffer_size)?;
    run_hash(py, opts, progress, |o, p| core::hash_paths(&base, &paths, o, p))
}

/// (digest, size) of one file.
#[pyfunction]
fn dossier_hash_file<'py>(
    py: Python<'py>,
    path: PathBuf,
    algorithm_name: &str,
) -> PyResult<(Bound<'py, PyBytes>, u64)> {
    let alg = algorithm(algorithm_name)?;
    let (digest, size) = guard(
        "hashing a file",
        || Ok(py.allow_threads(|| core::hash_file(&path, alg))),
    )?
    .map_err(file_error_to_py)?;
    Ok((PyBytes::new(py, &digest), size))
}

#[pyfunction]
fn dossier_hash_bytes<'py>(py: Python<'py>, data: &[u8], algorithm_name: &str) -> PyResult<Bound<'py, PyBytes>> {
    Ok(PyBytes::new(py, &algorithm(algorithm_name)?.digest(data)))
}

#[pyfunction]
fn dossier_proof_check(algorithm_name: &str, leaf_index: u64, tree_size: u64, path: Vec<Vec<u8>>) -> PyResult<()> {
    proof_from_parts(algorithm_name, leaf_index, tree_size, path).map(|_| ())
}

#[pyfunction]
fn dossier_proof_to_bytes<'py>(
    py: Python<'py>,
    algorithm_name: &str,
    leaf_index: u64,
    tree_size: u64,
    path: Vec<Vec<u8>>,
) -> PyResult<Bound<'py, PyBytes>> {
    let proof = proof_from_parts(algorithm_name, leaf_index, tree_size, path)?;
    Ok(PyBytes::new(py, &proof.to_bytes()))
}

#[pyfunction]
fn dossier_proof_from_bytes<'py>(py: Python<'py>, data: &[u8]) -> PyResult<ProofTuple<'py>> {
    let proof = guard("InclusionProof.from_bytes", || {
        Ok(core::InclusionProof::from_bytes(data))
    })?
    .map_err(to_py_err)?;
    Ok(proof_tuple(py, &proof))
}

#[pyfunction]
#[allow(clippy::too_many_arguments)]
fn dossier_verify_entry(
    algorithm_name: &str,
    leaf_index: u64,
    tree_size: u64,
    path: Vec<Vec<u8>>,
    file_digest: &[u8],
    relpath: &str,
    root: &[u8],
    root_tree_size: u64,
) -> PyResult<bool> {
    let proof = proof_from_parts(algorithm_name, leaf_index, tree_size, path)?;
    guard("verify_inclusion", || {
        Ok(core::verify_entry(&proof, file_digest, relpath, root, root_tree_size))
    })?
    .map_err(to_py_err)
}

#[pyfunction]
fn dossier_bagit_txt(py: Python<'_>) -> Bound<'_, PyBytes> {
    PyBytes::new(py, &core::bagit_txt())
}

#[pyfunction]
fn dossier_tag_file_bytes(py: Python<'_>, fields: Vec<(String, String)>) -> PyResult<Bound<'_, PyBytes>> {
    let bytes = guard("writing a tag file", || Ok(core::tag_file_bytes(&fields)))?.map_err(to_py_err)?;
    Ok(PyBytes::new(py, &bytes))
}

#[pyfunction]
fn dossier_parse_tag_file(data: &[u8]) -> PyResult<Vec<(String, String)>> {
    guard("reading a tag file", || Ok(core::parse_tag_file(data)))?.map_err(to_py_err)
}

#[pyfunction]
fn dossier_tagmanifest_bytes<'py>(
    py: Python<'py>,
    algorithm_name: &str,
    files: Vec<(String, Vec<u8>)>,
) -> PyResult<Bound<'py, PyBytes>> {
    let alg = algorithm(algorithm_name)?;
    let bytes = guard("writing a tag manifest", || Ok(core::tagmanifest_bytes(alg, &files)))?.map_err(to_py_err)?;
    Ok(PyBytes::new(py, &bytes))
}

#[pyfunction]
fn dossier_parse_tagmanifest<'py>(
    py: Python<'py>,
    algorithm_name: &str,
    data: &[u8],
) -> PyResult<Vec<(String, Bound<'py, PyBytes>)>> {
    let alg = algorithm(algorithm_name)?;
    let entries = guard("reading a tag manifest", || Ok(core::parse_tagmanifest(alg, data)))?.map_err(to_py_err)?;
    Ok(entries
        .into_iter()
        .map(|(name, digest)| (name, PyBytes::new(py, &digest)))
        .collect())
}

/// Adds the dossier classes, functions and constants to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("DossierError", py.get_type::<DossierError>())?;
    m.add_class::<DossierHashProgress>()?;
    m.add_class::<DossierManifest>()?;
    m.add_function(wrap_pyfunction!(dossier_hash_directory, m)?)?;
    m.add_function(wrap_pyfunction!(dossier_hash_paths, m)?)?;
    m.add_function(wrap_pyfunction!(dossier_hash_file, m)?)?;
    m.add_function(wrap_pyfunction!(dossier_hash_bytes, m)?)?;
    m.add_function(wrap_pyfunction!(dossier_proof_check, m)?)?;
    m.add_function(wrap_pyfunction!(dossier_proof_to_bytes, m)?)?;
    m.add_function(wrap_pyfunction!(dossier_proof_from_bytes, m)?)?;
    m.add_function(wrap_pyfunction!(dossier_verify_entry, m)?)?;
    m.add_function(wrap_pyfunction!(dossier_bagit_txt, m)?)?;
    m.add_function(wrap_pyfunction!(dossier_tag_file_bytes, m)?)?;
    m.add_function(wrap_pyfunction!(dossier_parse_tag_file, m)?)?;
    m.add_function(wrap_pyfunction!(dossier_tagmanifest_bytes, m)?)?;
    m.add_function(wrap_pyfunction!(dossier_parse_tagmanifest, m)?)?;
    let codes: Vec<&str> = core::FileErrorCode::ALL.iter().map(|c| c.as_str()).collect();
    m.add("DOSSIER_ERROR_CODES", pyo3::types::PyTuple::new(py, codes)?)?;
    let algs: Vec<&str> = core::HashAlgorithm::ALL.iter().map(|a| a.name()).collect();
    m.add("DOSSIER_ALGORITHMS", pyo3::types::PyTuple::new(py, algs)?)?;
    m.add("DOSSIER_ROOT_LABEL", core::ROOT_LABEL)?;
    m.add("DOSSIER_BAGIT_VERSION", core::BAGIT_VERSION)?;
    m.add("DOSSIER_DEFAULT_BUFFER_SIZE", core::DEFAULT_BUFFER_SIZE)?;
    Ok(())
}
