//! Signing glue: software keys and PKCS#11 token keys (govsig-pkcs11's `TokenKey`, a core
//! `Signer`) handed to the core's CmsSigner, CMS signing with the GIL released, core and
//! PKCS#11 errors mapped to their exceptions (`errors.rs`).

use std::sync::{Arc, Mutex, MutexGuard};

use govsig_core::cms::sign::{
    content_type_from_dotted, CmsSigner, IncludeCertificates, SignError, SignOptions, SignerIdentifierKind, SoftwareKey,
};
use govsig_core::crypto::{DigestAlgorithm, KeyType};
use govsig_pkcs11 as p11;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedBytes;
use pyo3::types::{PyBytes, PyList};

use crate::errors::{not_logged_in, pkcs11_error, sign_error};
use crate::guard::guard;

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<SigningKey>()?;
    m.add_class::<Pkcs11Module>()?;
    m.add_class::<Pkcs11Token>()?;
    m.add_function(wrap_pyfunction!(cms_sign, m)?)?;
    m.add_function(wrap_pyfunction!(cms_sign_many, m)?)?;
    Ok(())
}

// --- signers --------------------------------------------------------------------------------

fn key_type_name(k: KeyType) -> &'static str {
    match k {
        KeyType::Rsa => "rsa",
        KeyType::EcP256 => "ec_p256",
        KeyType::EcP384 => "ec_p384",
        KeyType::EcP521 => "ec_p521",
        KeyType::Ed25519 => "ed25519",
        KeyType::Dsa => "dsa",
    }
}

fn key_kind_name(k: &p11::KeyKind) -> String {
    match k {
        p11::KeyKind::Rsa { .. } => "rsa".to_owned(),
        p11::KeyKind::Ec {
            curve: p11::EcCurve::P256,
        } => "ec_p256".to_owned(),
        p11::KeyKind::Ec {
            curve: p11::EcCurve::P384,
        } => "ec_p384".to_owned(),
        p11::KeyKind::Ec {
            curve: p11::EcCurve::P521,
        } => "ec_p521".to_owned(),
        p11::KeyKind::Ed25519 => "ed25519".to_owned(),
        p11::KeyKind::Unsupported { description } => description.clone(),
    }
}

/// A key and certificate ready to sign CMS: a software key or a key on a token.
#[pyclass(frozen, module = "govsig._govsig")]
pub struct SigningKey {
    signer: Arc<CmsSigner>,
    /// Sessions in the token signer's pool; `None` for software keys.
    sessions: Option<usize>,
    token_key: Option<(String, Vec<u8>)>,
}

impl SigningKey {
    /// The core signer, and whether its key is on a token.
    pub(crate) fn core(&self) -> (&Arc<CmsSigner>, bool) {
        (&self.signer, self.sessions.is_some())
    }
}

#[pymethods]
impl SigningKey {
    /// A software key from unencrypted PKCS#8 DER, its certificate and chain (DER).
    #[staticmethod]
    fn from_pkcs8(py: Python<'_>, pkcs8: &[u8], certificate: Vec<u8>, chain: Vec<Vec<u8>>) -> PyResult<SigningKey> {
        let made = guard("KeySigner.from_pkcs8", || {
            Ok(py.allow_threads(|| {
                let key = SoftwareKey::from_pkcs8(pkcs8, certificate)?;
                CmsSigner::new(Arc::new(key), chain)
            }))
        })?;
        let signer = made.map_err(|e| sign_error(py, &e, false))?;
        Ok(SigningKey {
            signer: Arc::new(signer),
            sessions: None,
            token_key: None,
        })
    }

    /// "rsa", "ec_p256", "ec_p384", "ec_p521" or "ed25519".
    #[getter]
    fn key_type(&self) -> &'static str {
        key_type_name(self.signer.key_type())
    }

    #[getter]
    fn certificate<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, self.signer.certificate_der())
    }

    #[getter]
    fn chain<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        crate::convert::bytes_list(py, self.signer.chain().iter().map(|c| c.as_slice()))
    }

    /// Session pool size of a token key; `None` for a software key.
    #[getter]
    fn sessions(&self) -> Option<usize> {
        self.sessions
    }

    /// (label, id) of a token key; `None` for a software key.
    #[getter]
    fn token_key<'py>(&self, py: Python<'py>) -> Option<(String, Bound<'py, PyBytes>)> {
        self.token_key
            .as_ref()
            .map(|(label, id)| (label.clone(), PyBytes::new(py, id)))
    }
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn options(
    detached: bool,
    digest: Option<&str>,
    rsa_pss: bool,
    signing_time: Option<i64>,
    signer_identifier: &str,
    certificates: &str,
    content_type: Option<&str>,
    algorithm_protection: bool,
) -> PyResult<SignOptions> {
    let digest = match digest {
        None => None,
        Some(name) => Some(
            [
                DigestAlgorithm::Sha256,
                DigestAlgorithm::Sha384,
                DigestAlgorithm::Sha512,
            ]
            .into_iter()
            .find(|d| d.name() == name)
            .ok_or_else(|| match DigestAlgorithm::from_name(name) {
                Some(known) => PyValueError::new_err(govsig_core::cms::sign::unsigned_digest_reason(known)),
                None => PyValueError::new_err(format!("digest must be 'sha256', 'sha384' or 'sha512', not {name:?}")),
            })?,
        ),
    };
    let signer_identifier = match signer_identifier {
        "issuer_serial" => SignerIdentifierKind::IssuerAndSerialNumber,
        "subject_key_identifier" => SignerIdentifierKind::SubjectKeyIdentifier,
        other => {
            return Err(PyValueError::new_err(format!(
                "signer_identifier must be 'issuer_serial' or 'subject_key_identifier', not {other:?}"
            )))
        }
    };
    let certificates = match certificates {
        "chain" => IncludeCertificates::Chain,
        "signer" => IncludeCertificates::Signer,
        "none" => IncludeCertificates::None,
        other => {
            return Err(PyValueError::new_err(format!(
                "certificates must be 'chain', 'signer' or 'none', not {other:?}"
            )))
        }
    };
    let mut o = SignOptions {
        detached,
        digest,
        rsa_pss,
        signing_time,
        signer_identifier,
        certificates,
        algorithm_protection,
        ..SignOptions::default()
    };
    if let Some(ct) = content_type {
        o.content_type = content_type_from_dotted(ct).map_err(|e| PyValueError::new_err(e.to_string()))?;
    }
    Ok(o)
}

/// One CMS SignedData (DER) over `content`, GIL released while hashing and signing.
#[pyfunction]
#[pyo3(signature = (key, content, detached, digest, rsa_pss, signing_time, signer_identifier, certificates, content_type, algorithm_protection))]
#[allow(clippy::too_many_arguments)]
fn cms_sign<'py>(
    py: Python<'py>,
    key: &SigningKey,
    content: &Bound<'py, PyBytes>,
    detached: bool,
    digest: Option<&str>,
    rsa_pss: bool,
    signing_time: Option<i64>,
    signer_identifier: &str,
    certificates: &str,
    content_type: Option<&str>,
    algorithm_protection: bool,
) -> PyResult<Bound<'py, PyBytes>> {
    let opts = options(
        detached,
        digest,
        rsa_pss,
        signing_time,
        signer_identifier,
        certificates,
        content_type,
        algorithm_protection,
    )?;
    let data = content.as_bytes();
    let signer = Arc::clone(&key.signer);
    let out = guard("sign", || Ok(py.allow_threads(move || signer.sign(data, &opts))))?;
    match out {
        Ok(der) => Ok(PyBytes::new(py, &der)),
        Err(e) => Err(sign_error(py, &e, key.sessions.is_some())),
    }
}

/// Signatures over every item of `contents`, in order, made on `threads` threads (default:
/// the token key's session count, or all cores for a software key) with the GIL released.
/// The first failure (in input order) is raised, with a note naming the document.
#[pyfunction]
#[pyo3(signature = (key, contents, detached, digest, rsa_pss, signing_time, signer_identifier, certificates, content_type, algorithm_protection, threads=None))]
#[allow(clippy::too_many_arguments)]
fn cms_sign_many<'py>(
    py: Python<'py>,
    key: &SigningKey,
    contents: Vec<PyBackedBytes>,
    detached: bool,
    digest: Option<&str>,
    rsa_pss: bool,
    signing_time: Option<i64>,
    signer_identifier: &str,
    certificates: &str,
    content_type: Option<&str>,
    algorithm_protection: bool,
    threads: Option<usize>,
) -> PyResult<Bound<'py, PyList>> {
    let opts = options(
        detached,
        digest,
        rsa_pss,
        signing_time,
        signer_identifier,
        certificates,
        content_type,
        algorithm_protection,
    )?;
    let signer = Arc::clone(&key.signer);
    let threads = threads.or(key.sessions);
    let slices: Vec<&[u8]> = contents.iter().map(|c| c.as_ref()).collect();
    let out = guard("sign_many", || {
        Ok(py.allow_threads(|| signer.sign_many(&slices, &opts, threads)))
    })?;
    let results = out.map_err(|e| sign_error(py, &e, key.sessions.is_some()))?;
    let total = results.len();
    let mut signatures = Vec::with_capacity(total);
    for (i, r) in results.into_iter().enumerate() {
        match r {
            Ok(der) => signatures.push(PyBytes::new(py, &der)),
            Err(e) => {
                let err = sign_error(py, &e, key.sessions.is_some());
                // A note, not a new message: the exception keeps its type and text.
                let _ = err.value(py).call_method1(
                    "add_note",
                    (format!("while signing document {i} of {total} (numbered from 0)"),),
                );
                return Err(err);
            }
        }
    }
    PyList::new(py, signatures)
}

// --- PKCS#11 --------------------------------------------------------------------------------

/// A loaded PKCS#11 library (initialised with OS locking; finalised when the last module,
/// token and signer using it are gone).
#[pyclass(frozen, module = "govsig._govsig")]
pub struct Pkcs11Module {
    module: p11::Module,
}

type TokenRow = (u64, String, String, String, String, Vec<(&'static str, bool)>);

#[pymethods]
impl Pkcs11Module {
    #[staticmethod]
    fn load(py: Python<'_>, path: std::path::PathBuf) -> PyResult<Pkcs11Module> {
        let loaded = guard("loading a PKCS#11 module", || {
            Ok(py.allow_threads(|| p11::Module::load(&path)))
        })?;
        loaded
            .map(|module| Pkcs11Module { module })
            .map_err(|e| pkcs11_error(py, &e))
    }

    #[getter]
    fn library_description(&self) -> String {
        self.module.library_description().to_owned()
    }

    /// (slot_id, label, manufacturer, model, serial, [(flag name, set)]) per present token.
    fn tokens(&self, py: Python<'_>) -> PyResult<Vec<TokenRow>> {
        let module = self.module.clone();
        let tokens = guard("listing PKCS#11 tokens", || {
            Ok(py.allow_threads(move || module.tokens()))
        })?
        .map_err(|e| pkcs11_error(py, &e))?;
        Ok(tokens
            .into_iter()
            .map(|t| {
                let f = t.flags;
                (
                    t.slot_id,
                    t.label,
                    t.manufacturer,
                    t.model,
                    t.serial,
                    vec![
                        ("login_required", f.login_required),
                        ("token_initialized", f.token_initialized),
                        ("user_pin_initialized", f.user_pin_initialized),
                        ("write_protected", f.write_protected),
                        ("protected_authentication_path", f.protected_authentication_path),
                        ("user_pin_count_low", f.user_pin_count_low),
                        ("user_pin_final_try", f.user_pin_final_try),
                        ("user_pin_locked", f.user_pin_locked),
                        ("user_pin_to_be_changed", f.user_pin_to_be_changed),
                    ],
                )
            })
            .collect())
    }

    /// Open a token (by label, else by slot, else the first) and log in. `pin` is bytes
    /// (C_Login takes bytes, and some PINs are not UTF-8); `None` is for tokens with a PIN
    /// pad. The PIN is wiped from Rust memory once C_Login has it.
    #[pyo3(signature = (label, slot, pin))]
    fn open_token(
        &self,
        py: Python<'_>,
        label: Option<String>,
        slot: Option<u64>,
        pin: Option<Vec<u8>>,
    ) -> PyResult<Pkcs11Token> {
        let selector = match (label, slot) {
            (Some(l), _) => p11::TokenSelector::Label(l),
            (None, Some(s)) => p11::TokenSelector::Slot(s),
            (None, None) => p11::TokenSelector::First,
        };
        let pin = match pin {
            Some(p) => p11::Pin::from_bytes(p),
            None => p11::Pin::protected_path(),
        };
        let module = self.module.clone();
        let opened = guard("opening a PKCS#11 token", || {
            Ok(py.allow_threads(move || module.open_token(selector, pin)))
        })?;
        let token = opened.map_err(|e| pkcs11_error(py, &e))?;
        Ok(Pkcs11Token {
            token: Mutex::new(Some(token)),
        })
    }
}

/// A logged-in token.
#[pyclass(frozen, module = "govsig._govsig")]
pub struct Pkcs11Token {
    token: Mutex<Option<p11::Token>>,
}

type KeyRow = (String, Vec<u8>, String, Option<usize>, Option<Vec<u8>>);

impl Pkcs11Token {
    fn lock(&self) -> MutexGuard<'_, Option<p11::Token>> {
        // Nothing panics while the lock is held; a poisoned lock still holds a valid token.
        self.token.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn open(&self, py: Python<'_>) -> PyResult<p11::Token> {
        self.lock().clone().ok_or_else(|| {
            not_logged_in(
                py,
                "the token was closed (logged out); open it again with Token.open".to_owned(),
            )
        })
    }
}

#[pymethods]
impl Pkcs11Token {
    /// (slot_id, label, manufacturer, model, serial)
    #[getter]
    fn info(&self, py: Python<'_>) -> PyResult<(u64, String, String, String, String)> {
        let t = self.open(py)?;
        let i = t.info();
        Ok((
            i.slot_id,
            i.label.clone(),
            i.manufacturer.clone(),
            i.model.clone(),
            i.serial.clone(),
        ))
    }

    /// (label, id, key_type, RSA bits, certificate DER) per private signing key.
    fn keys(&self, py: Python<'_>) -> PyResult<Vec<KeyRow>> {
        let token = self.open(py)?;
        let keys = guard("listing token keys", || Ok(py.allow_threads(move || token.keys())))?
            .map_err(|e| pkcs11_error(py, &e))?;
        Ok(keys
            .into_iter()
            .map(|k| {
                let bits = match k.key_type {
                    p11::KeyKind::Rsa { bits } => Some(bits),
                    _ => None,
                };
                (
                    k.label.clone(),
                    k.id.clone(),
                    key_kind_name(&k.key_type),
                    bits,
                    k.certificate_der,
                )
            })
            .collect())
    }

    /// A signing key with a pool of `sessions` sessions. `certificate` (DER) replaces the
    /// token's certificate for the key, after a check that it holds the key's public key.
    #[pyo3(signature = (key_label, key_id, certificate, chain, sessions))]
    fn signer(
        &self,
        py: Python<'_>,
        key_label: Option<String>,
        key_id: Option<Vec<u8>>,
        certificate: Option<Vec<u8>>,
        chain: Vec<Vec<u8>>,
        sessions: usize,
    ) -> PyResult<SigningKey> {
        let selector = match (key_label, key_id) {
            (Some(l), Some(i)) => p11::KeySelector::LabelAndId(l, i),
            (Some(l), None) => p11::KeySelector::Label(l),
            (None, Some(i)) => p11::KeySelector::Id(i),
            (None, None) => {
                return Err(PyValueError::new_err(
                    "name the key: give key_label or key_id (see Token.keys())",
                ))
            }
        };
        let token = self.open(py)?;
        enum Failure {
            Token(p11::Pkcs11Error),
            Sign(SignError),
        }
        let made = guard("making a token signer", || {
            Ok(py.allow_threads(move || {
                let mut signer = token.signer(selector, sessions).map_err(Failure::Token)?;
                if let Some(cert) = certificate {
                    signer = signer.with_certificate(cert).map_err(Failure::Token)?;
                }
                let key = signer.key().clone();
                let token_key = p11::TokenKey::new(signer).map_err(Failure::Token)?;
                let cms = CmsSigner::new(Arc::new(token_key), chain).map_err(Failure::Sign)?;
                Ok((cms, key.label, key.id))
            }))
        })?;
        match made {
            Ok((cms, label, id)) => Ok(SigningKey {
                signer: Arc::new(cms),
                sessions: Some(sessions),
                token_key: Some((label, id)),
            }),
            Err(Failure::Token(e)) => Err(pkcs11_error(py, &e)),
            Err(Failure::Sign(e)) => Err(sign_error(py, &e, true)),
        }
    }

    /// Log out. Login belongs to the whole process, so signers made from this token stop
    /// working too; the sessions close as those signers are dropped.
    fn logout(&self, py: Python<'_>) -> PyResult<()> {
        let token = self.lock().take();
        match token {
            None => Ok(()),
            Some(t) => {
                guard("logging out", || Ok(py.allow_threads(move || t.logout())))?.map_err(|e| pkcs11_error(py, &e))
            }
        }
    }

    #[getter]
    fn closed(&self) -> bool {
        self.lock().is_none()
    }
}
