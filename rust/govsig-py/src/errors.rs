//! The exceptions of signing and of PKCS#11 tokens, defined here once (documented, picklable)
//! and re-exported by `govsig.signing` and `govsig.pkcs11`; each core error enum maps to them
//! in one exhaustive match, so the glue never looks a class up by name in a Python module.
//!
//! An instance carries `ckr` (the PKCS#11 return value name, or None when govsig decided)
//! and `kind` (a stable snake_case name) as attributes; each class has its default `kind`,
//! and `BaseException`'s pickling keeps both.

use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::GILOnceCell;
use pyo3::types::{PyDict, PyTuple, PyType};

use govsig_core::cms::sign::SignError;
use govsig_pkcs11::Pkcs11Error as P11;

create_exception!(
    govsig.signing,
    SigningError,
    PyValueError,
    "A signature could not be made: an unusable key or certificate, a key that does not \
     belong to its certificate, or a scheme the key cannot use. ``kind`` says which (``key``, \
     ``certificate``, ``key_certificate_mismatch``, ``unsupported``, ``signer``, ``encoding``)."
);

create_exception!(
    govsig,
    PdfSigningError,
    SigningError,
    "A PDF could not be signed. ``kind`` says why: ``encrypted`` (decrypt it first), \
     ``malformed`` (it does not read as a PDF as written), ``field_exists`` (choose another \
     field name), ``invalid_argument``, ``placeholder_too_small`` (pass a larger \
     ``contents_size``); errors of the key or token keep their own classes."
);

create_exception!(
    govsig.pkcs11,
    Pkcs11Error,
    PyException,
    "A PKCS#11 failure. ``ckr`` is the return value name (``\"CKR_PIN_INCORRECT\"``) when the \
     token reported one, ``None`` when govsig decided (no such label, ...); ``kind`` is a stable \
     snake_case name. The message says what to do; it never contains the PIN."
);

macro_rules! pkcs11_errors {
    ($( $name:ident, $kind:literal, $doc:literal; )*) => {
        $( create_exception!(govsig.pkcs11, $name, Pkcs11Error, $doc); )*

        /// `(class, default kind)` of every subclass of `Pkcs11Error` made by the macro.
        fn pkcs11_subclasses(py: Python<'_>) -> Vec<(Bound<'_, PyType>, &'static str)> {
            vec![ $( (py.get_type::<$name>(), $kind), )* ]
        }
    };
}

pkcs11_errors! {
    ModuleLoadError, "module_load", "The PKCS#11 library could not be loaded or initialised.";
    TokenNotFoundError, "token_not_found", "No token matches the label or slot; the message lists the tokens present.";
    PinIncorrectError, "pin_incorrect", "The token rejected the PIN (``CKR_PIN_INCORRECT``); more tries may lock it.";
    PinLockedError, "pin_locked", "The user PIN is locked (``CKR_PIN_LOCKED``); the security officer must unblock it.";
    PinExpiredError, "pin_expired", "The PIN has expired and must be changed before the token signs.";
    PinRejectedError, "pin_rejected", "The PIN was refused for its form (length or characters), not its value.";
    NotLoggedInError, "not_logged_in", "The login has ended (after logout, or the token dropped it).";
    AlreadyLoggedInError, "already_logged_in", "This process already holds an open login to the token; share that Token.";
    KeyNotFoundError, "key_not_found", "No private signing key matches; the message lists the keys present.";
    CertificateNotFoundError, "certificate_not_found", "No certificate on the token belongs to the key; pass one with ``certificate=``.";
    KeyCertificateMismatchError, "key_certificate_mismatch", "The certificate does not hold the key's public key.";
    MechanismNotSupportedError, "mechanism_not_supported", "The token cannot sign with the scheme asked for (or the key type is unsupported).";
    TokenRemovedError, "token_removed", "The token is gone (removed, reader unplugged, deleted) while in use.";
    SessionClosedError, "session_closed", "The session with the token ended while the token is still present.";
}

/// `Pkcs11ArgumentError(Pkcs11Error, ValueError)`: two bases, which `create_exception!`
/// cannot say, so it is made with `type(...)` once.
static PKCS11_ARGUMENT_ERROR: GILOnceCell<Py<PyType>> = GILOnceCell::new();

fn pkcs11_argument_error(py: Python<'_>) -> PyResult<&Bound<'_, PyType>> {
    PKCS11_ARGUMENT_ERROR
        .get_or_try_init(py, || {
            let ns = PyDict::new(py);
            ns.set_item(
                "__doc__",
                "A request that cannot work whatever the token (zero sessions, an ambiguous label).",
            )?;
            ns.set_item("__module__", "govsig.pkcs11")?;
            ns.set_item("kind", "invalid_argument")?;
            let bases = PyTuple::new(py, [py.get_type::<Pkcs11Error>(), py.get_type::<PyValueError>()])?;
            let made = py.get_type::<PyType>().call1(("Pkcs11ArgumentError", bases, ns))?;
            Ok::<_, PyErr>(made.downcast_into::<PyType>()?.unbind())
        })
        .map(|t| t.bind(py))
}

/// `__init__(message, ckr=None, kind=None)` of the base classes: the message alone in
/// `args` (so `str(e)` is the message), `ckr` and `kind` as attributes (`kind` defaults to the
/// class's own), all kept by `BaseException`'s pickling.
#[pyfunction]
#[pyo3(signature = (this, message, ckr=None, kind=None), text_signature = "(self, message, ckr=None, kind=None)")]
fn _error_init(
    this: &Bound<'_, PyAny>,
    message: &Bound<'_, PyAny>,
    ckr: Option<&Bound<'_, PyAny>>,
    kind: Option<&Bound<'_, PyAny>>,
) -> PyResult<()> {
    this.setattr("args", PyTuple::new(this.py(), [message])?)?;
    if let Some(ckr) = ckr {
        this.setattr("ckr", ckr)?;
    }
    if let Some(kind) = kind {
        this.setattr("kind", kind)?;
    }
    Ok(())
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    // A builtin function does not bind as a method; partialmethod passes the instance first.
    let init = py
        .import("functools")?
        .getattr("partialmethod")?
        .call1((wrap_pyfunction!(_error_init, m)?,))?;
    for (cls, kind) in [
        (py.get_type::<SigningError>(), "signer"),
        (py.get_type::<Pkcs11Error>(), "other"),
    ] {
        cls.setattr("ckr", py.None())?;
        cls.setattr("kind", kind)?;
        cls.setattr("__init__", &init)?;
        m.add(cls.name()?, cls)?;
    }
    let pdf = py.get_type::<PdfSigningError>();
    pdf.setattr("kind", "pdf")?;
    m.add(pdf.name()?, pdf)?;
    for (cls, kind) in pkcs11_subclasses(py) {
        cls.setattr("kind", kind)?;
        m.add(cls.name()?, cls)?;
    }
    m.add("Pkcs11ArgumentError", pkcs11_argument_error(py)?)?;
    Ok(())
}

/// An instance of `cls` with `message`, `ckr` and `kind`.
fn make(cls: &Bound<'_, PyType>, message: String, ckr: Option<&str>, kind: &str) -> PyErr {
    match cls.call1((message, ckr, kind)) {
        Ok(exc) => PyErr::from_value(exc),
        Err(e) => e,
    }
}

/// The `govsig.pkcs11` exception for a token error.
pub fn pkcs11_error(py: Python<'_>, e: &P11) -> PyErr {
    let cls = match e {
        P11::ModuleLoad { .. } => py.get_type::<ModuleLoadError>(),
        P11::TokenNotFound { .. } => py.get_type::<TokenNotFoundError>(),
        P11::PinIncorrect { .. } => py.get_type::<PinIncorrectError>(),
        P11::PinLocked => py.get_type::<PinLockedError>(),
        P11::PinExpired => py.get_type::<PinExpiredError>(),
        P11::PinRejected { .. } => py.get_type::<PinRejectedError>(),
        P11::NotLoggedIn { .. } => py.get_type::<NotLoggedInError>(),
        P11::AlreadyLoggedIn { .. } => py.get_type::<AlreadyLoggedInError>(),
        P11::KeyNotFound { .. } => py.get_type::<KeyNotFoundError>(),
        P11::CertificateNotFound { .. } => py.get_type::<CertificateNotFoundError>(),
        P11::KeyCertificateMismatch { .. } => py.get_type::<KeyCertificateMismatchError>(),
        P11::MechanismNotSupported { .. } => py.get_type::<MechanismNotSupportedError>(),
        P11::TokenRemoved { .. } => py.get_type::<TokenRemovedError>(),
        P11::SessionClosed { .. } => py.get_type::<SessionClosedError>(),
        P11::InvalidArgument { .. } => match pkcs11_argument_error(py) {
            Ok(t) => t.clone(),
            Err(err) => return err,
        },
        P11::Other { .. } => py.get_type::<Pkcs11Error>(),
    };
    make(&cls, e.to_string(), e.ckr_name(), e.kind())
}

/// A `govsig.pkcs11` exception that govsig decided (no return value from the token).
pub fn not_logged_in(py: Python<'_>, message: String) -> PyErr {
    make(&py.get_type::<NotLoggedInError>(), message, None, "not_logged_in")
}

/// The exception for a signing failure. `on_token`: the key is on a token, where a scheme the
/// key cannot use is the PKCS#11 "mechanism not supported" a token user expects.
pub fn sign_error(py: Python<'_>, e: &SignError, on_token: bool) -> PyErr {
    let kind = match e {
        SignError::Signer(inner) => match inner.downcast_ref::<P11>() {
            Some(p) => return pkcs11_error(py, p),
            None => "signer",
        },
        SignError::Unsupported(m) if on_token => {
            let cls = py.get_type::<MechanismNotSupportedError>();
            return make(&cls, m.clone(), None, "mechanism_not_supported");
        }
        SignError::KeyCertificateMismatch(_) if on_token => {
            let cls = py.get_type::<KeyCertificateMismatchError>();
            return make(&cls, e.to_string(), None, "key_certificate_mismatch");
        }
        SignError::Certificate(_) => "certificate",
        SignError::Key(_) => "key",
        SignError::KeyCertificateMismatch(_) => "key_certificate_mismatch",
        SignError::Unsupported(_) => "unsupported",
        SignError::Encoding(_) => "encoding",
    };
    make(&py.get_type::<SigningError>(), e.to_string(), None, kind)
}

/// The exception for a PDF that could not be signed; a failure of the key or the token
/// keeps the class [`sign_error`] gives it.
pub fn pdf_sign_error(py: Python<'_>, e: &govsig_core::pdf::sign::PdfSignError, on_token: bool) -> PyErr {
    use govsig_core::pdf::sign::PdfSignError as E;
    let kind = match e {
        E::Sign(inner) => return sign_error(py, inner, on_token),
        E::Encrypted => "encrypted",
        E::Malformed(_) => "malformed",
        E::FieldExists(_) => "field_exists",
        E::InvalidArgument(_) => "invalid_argument",
        E::PlaceholderTooSmall { .. } => "placeholder_too_small",
    };
    make(&py.get_type::<PdfSigningError>(), e.to_string(), None, kind)
}
