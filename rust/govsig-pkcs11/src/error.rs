//! The one error type of the crate, with the PKCS#11 return-value name kept for every failure
//! the token reported, and messages a person holding the token can act on.

use cryptoki::context::Function;
use cryptoki::error::{Error as CkError, RvError};
use std::fmt;
use std::path::PathBuf;

/// Everything that can go wrong between loading a PKCS#11 module and getting a signature.
///
/// No variant ever carries PIN material: the PIN is handed to `C_Login` and nowhere else.
/// Not `non_exhaustive`: the Python glue maps every variant to its exception class in one
/// exhaustive match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pkcs11Error {
    /// The module file could not be loaded, lacks the PKCS#11 entry points, or `C_Initialize`
    /// failed.
    ModuleLoad {
        /// The path given to [`crate::Module::load`].
        path: PathBuf,
        /// Why, as the loader or the module said it.
        reason: String,
        /// The return value of `C_Initialize`/`C_GetFunctionList`, when one was returned.
        ckr: Option<&'static str>,
    },
    /// No slot holds a token matching the selector.
    TokenNotFound {
        /// The selector, described (`label "X"`, `slot 3`, `the first token`).
        selector: String,
        /// Labels of the tokens that are present, with their slot ids.
        available: Vec<String>,
    },
    /// `C_Login` returned `CKR_PIN_INCORRECT`.
    PinIncorrect {
        /// The token raised `CKF_USER_PIN_COUNT_LOW` after the failure.
        count_low: bool,
        /// The token raised `CKF_USER_PIN_FINAL_TRY`: one more wrong PIN locks it.
        final_try: bool,
    },
    /// The user PIN is blocked (`CKR_PIN_LOCKED`); only the security officer can unblock it.
    PinLocked,
    /// The PIN has expired (`CKR_PIN_EXPIRED`) and must be changed before the token signs.
    PinExpired,
    /// The PIN was refused for its form, not its value (`CKR_PIN_LEN_RANGE`, `CKR_PIN_INVALID`).
    PinRejected {
        /// The return value name.
        ckr: &'static str,
    },
    /// The token requires a login that has ended (`CKR_USER_NOT_LOGGED_IN`): after
    /// [`crate::Token::logout`], or when the token dropped the login state.
    NotLoggedIn {
        /// The return value name (`CKR_USER_NOT_LOGGED_IN`, or what the module answered
        /// instead, e.g. `CKR_OBJECT_HANDLE_INVALID` for a private key it now hides).
        ckr: &'static str,
        /// The function that failed.
        function: String,
    },
    /// This process is already logged in to the token (`CKR_USER_ALREADY_LOGGED_IN`) through
    /// a `Token` or signer that is still open. PKCS#11 login belongs to the whole process, so
    /// a second login cannot check its PIN; rather than accept an unchecked PIN, govsig asks
    /// the caller to share the open `Token` (it is `Clone`).
    AlreadyLoggedIn {
        /// The token, described.
        token: String,
    },
    /// No private signing key (`CKA_SIGN` true) matches the selector.
    KeyNotFound {
        /// The selector, described.
        selector: String,
        /// Labels (and hex ids) of the signing keys on the token.
        available: Vec<String>,
    },
    /// No certificate on the token belongs to the key.
    CertificateNotFound {
        /// The key, described.
        key: String,
    },
    /// A certificate does not hold the key's public key.
    KeyCertificateMismatch {
        /// The key, described.
        key: String,
        /// What differs (algorithm, curve, or key value).
        detail: String,
    },
    /// The scheme cannot be used with this key on this token.
    MechanismNotSupported {
        /// What was asked (a scheme or a CKM_ name).
        mechanism: String,
        /// Why it is not usable.
        reason: String,
        /// The signing mechanisms the token offers.
        offered: Vec<String>,
        /// The return value when the token refused it, `None` when govsig refused before asking.
        ckr: Option<&'static str>,
    },
    /// The token is gone: removed, deleted, or the reader unplugged (`CKR_DEVICE_REMOVED`,
    /// `CKR_TOKEN_NOT_PRESENT`, or a session invalidated because the token left the slot).
    TokenRemoved {
        /// The return value name.
        ckr: &'static str,
        /// The function that failed.
        function: String,
    },
    /// The session ended while the token is still present (`CKR_SESSION_CLOSED`,
    /// `CKR_SESSION_HANDLE_INVALID`), or every session of a signer has failed.
    SessionClosed {
        /// The return value name, when the token gave one.
        ckr: Option<&'static str>,
        /// The function that failed.
        function: String,
    },
    /// The caller asked for something that cannot work, whatever the token (for example a
    /// signer with zero sessions).
    InvalidArgument {
        /// What was wrong.
        detail: String,
    },
    /// Any other failure reported by the module or met at the FFI edge.
    Other {
        /// The return value name, when the failure was a PKCS#11 return value.
        ckr: Option<&'static str>,
        /// The function that failed (`C_Sign`, ...), or the step.
        function: String,
        /// More detail for a person.
        detail: String,
    },
}

impl Pkcs11Error {
    /// The PKCS#11 return-value name behind this error (`"CKR_PIN_INCORRECT"`), or `None` when
    /// govsig itself decided (no such label, a scheme that does not fit the key, ...).
    pub fn ckr_name(&self) -> Option<&'static str> {
        match self {
            Pkcs11Error::ModuleLoad { ckr, .. } => *ckr,
            Pkcs11Error::TokenNotFound { .. } => None,
            Pkcs11Error::PinIncorrect { .. } => Some("CKR_PIN_INCORRECT"),
            Pkcs11Error::PinLocked => Some("CKR_PIN_LOCKED"),
            Pkcs11Error::PinExpired => Some("CKR_PIN_EXPIRED"),
            Pkcs11Error::PinRejected { ckr } => Some(ckr),
            Pkcs11Error::NotLoggedIn { ckr, .. } => Some(ckr),
            Pkcs11Error::AlreadyLoggedIn { .. } => Some("CKR_USER_ALREADY_LOGGED_IN"),
            Pkcs11Error::KeyNotFound { .. } => None,
            Pkcs11Error::CertificateNotFound { .. } => None,
            Pkcs11Error::KeyCertificateMismatch { .. } => None,
            Pkcs11Error::MechanismNotSupported { ckr, .. } => *ckr,
            Pkcs11Error::TokenRemoved { ckr, .. } => Some(ckr),
            Pkcs11Error::SessionClosed { ckr, .. } => *ckr,
            Pkcs11Error::InvalidArgument { .. } => None,
            Pkcs11Error::Other { ckr, .. } => *ckr,
        }
    }

    /// A stable snake_case name of the variant, for error mapping in the Python layer.
    pub fn kind(&self) -> &'static str {
        match self {
            Pkcs11Error::ModuleLoad { .. } => "module_load",
            Pkcs11Error::TokenNotFound { .. } => "token_not_found",
            Pkcs11Error::PinIncorrect { .. } => "pin_incorrect",
            Pkcs11Error::PinLocked => "pin_locked",
            Pkcs11Error::PinExpired => "pin_expired",
            Pkcs11Error::PinRejected { .. } => "pin_rejected",
            Pkcs11Error::NotLoggedIn { .. } => "not_logged_in",
            Pkcs11Error::AlreadyLoggedIn { .. } => "already_logged_in",
            Pkcs11Error::KeyNotFound { .. } => "key_not_found",
            Pkcs11Error::CertificateNotFound { .. } => "certificate_not_found",
            Pkcs11Error::KeyCertificateMismatch { .. } => "key_certificate_mismatch",
            Pkcs11Error::MechanismNotSupported { .. } => "mechanism_not_supported",
            Pkcs11Error::TokenRemoved { .. } => "token_removed",
            Pkcs11Error::SessionClosed { .. } => "session_closed",
            Pkcs11Error::InvalidArgument { .. } => "invalid_argument",
            Pkcs11Error::Other { .. } => "other",
        }
    }

    /// True when the session that produced this error can no longer be used.
    pub(crate) fn ends_session(&self) -> bool {
        matches!(
            self,
            Pkcs11Error::TokenRemoved { .. } | Pkcs11Error::SessionClosed { .. }
        )
    }
}

fn list(items: &[String]) -> String {
    if items.is_empty() {
        "none".to_owned()
    } else {
        items.join(", ")
    }
}

impl fmt::Display for Pkcs11Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Pkcs11Error::ModuleLoad { path, reason, ckr } => {
                write!(f, "cannot load the PKCS#11 module {}: {reason}", path.display())?;
                if let Some(ckr) = ckr {
                    write!(f, " ({ckr})")?;
                }
                write!(f, "; check the path and that the file is the token vendor's PKCS#11 library for this machine's architecture")
            }
            Pkcs11Error::TokenNotFound { selector, available } => write!(
                f,
                "no token matches {selector}; tokens present: {}; check that the token is plugged in and the label is spelled as shown",
                list(available)
            ),
            Pkcs11Error::PinIncorrect { count_low, final_try } => {
                write!(f, "the token rejected the PIN (CKR_PIN_INCORRECT)")?;
                if *final_try {
                    write!(f, "; the token says ONE more wrong PIN will lock it (CKF_USER_PIN_FINAL_TRY)")
                } else if *count_low {
                    write!(f, "; the token says few tries remain before it locks (CKF_USER_PIN_COUNT_LOW)")
                } else {
                    write!(f, "; further wrong PINs may lock the token")
                }
            }
            Pkcs11Error::PinLocked => write!(
                f,
                "the token's user PIN is locked (CKR_PIN_LOCKED); it cannot sign until the security officer unblocks the PIN"
            ),
            Pkcs11Error::PinExpired => write!(
                f,
                "the token's user PIN has expired (CKR_PIN_EXPIRED); change it with the token's PIN tool, then retry"
            ),
            Pkcs11Error::PinRejected { ckr } => write!(
                f,
                "the token refused the PIN's length or characters ({ckr}); check the PIN format the token expects"
            ),
            Pkcs11Error::NotLoggedIn { ckr, function } => write!(
                f,
                "the token is no longer logged in ({ckr} in {function}); open the token again with its PIN"
            ),
            Pkcs11Error::AlreadyLoggedIn { token } => write!(
                f,
                "this process is already logged in to {token} (CKR_USER_ALREADY_LOGGED_IN) through a token or signer still open; share that open token instead of logging in again (a second login could not check its PIN)"
            ),
            Pkcs11Error::KeyNotFound { selector, available } => write!(
                f,
                "no private signing key matches {selector}; signing keys on the token: {}",
                list(available)
            ),
            Pkcs11Error::CertificateNotFound { key } => write!(
                f,
                "no certificate on the token belongs to {key} (none with its CKA_ID or its public key); supply the certificate or import it onto the token"
            ),
            Pkcs11Error::KeyCertificateMismatch { key, detail } => write!(
                f,
                "the certificate does not belong to {key}: {detail}; a signature with this pair would never verify"
            ),
            Pkcs11Error::MechanismNotSupported { mechanism, reason, offered, ckr } => {
                write!(f, "cannot sign with {mechanism}: {reason}")?;
                if let Some(ckr) = ckr {
                    write!(f, " ({ckr})")?;
                }
                write!(f, "; signing mechanisms the token offers: {}", list(offered))
            }
            Pkcs11Error::TokenRemoved { ckr, function } => write!(
                f,
                "the token is gone ({ckr} in {function}); reinsert it, then open it and log in again"
            ),
            Pkcs11Error::SessionClosed { ckr, function } => {
                write!(f, "the session with the token ended")?;
                match ckr {
                    Some(ckr) => write!(f, " ({ckr} in {function})")?,
                    None => write!(f, " ({function})")?,
                }
                write!(f, "; open the token again")
            }
            Pkcs11Error::InvalidArgument { detail } => write!(f, "{detail}"),
            Pkcs11Error::Other { ckr, function, detail } => {
                write!(f, "PKCS#11 failure in {function}")?;
                if let Some(ckr) = ckr {
                    write!(f, " ({ckr})")?;
                }
                write!(f, ": {detail}")
            }
        }
    }
}

impl std::error::Error for Pkcs11Error {}

/// `C_Sign`-style name of a cryptoki function, for messages.
pub(crate) fn function_name(function: Function) -> String {
    format!("C_{function:?}")
}

/// Map a cryptoki error to the crate's error. PIN errors come out without the token's
/// counter flags; [`crate::Token`] adds them, since only it knows the slot to ask.
pub(crate) fn map_error(err: CkError) -> Pkcs11Error {
    match err {
        CkError::Pkcs11(rv, function) => map_rv(rv, function_name(function)),
        CkError::LibraryLoading(e) => Pkcs11Error::Other {
            ckr: None,
            function: "loading the module".to_owned(),
            detail: e.to_string(),
        },
        other => Pkcs11Error::Other {
            ckr: None,
            function: "cryptoki".to_owned(),
            detail: other.to_string(),
        },
    }
}

pub(crate) fn map_rv(rv: RvError, function: String) -> Pkcs11Error {
    let ckr = rv_name(rv);
    match rv {
        RvError::PinIncorrect => Pkcs11Error::PinIncorrect {
            count_low: false,
            final_try: false,
        },
        RvError::PinLocked => Pkcs11Error::PinLocked,
        RvError::PinExpired => Pkcs11Error::PinExpired,
        RvError::PinInvalid | RvError::PinLenRange => Pkcs11Error::PinRejected {
            ckr: ckr.unwrap_or("CKR_PIN_INVALID"),
        },
        RvError::UserNotLoggedIn => Pkcs11Error::NotLoggedIn {
            ckr: "CKR_USER_NOT_LOGGED_IN",
            function,
        },
        RvError::DeviceRemoved | RvError::TokenNotPresent | RvError::TokenNotRecognized => Pkcs11Error::TokenRemoved {
            ckr: ckr.unwrap_or("CKR_DEVICE_REMOVED"),
            function,
        },
        RvError::SessionClosed | RvError::SessionHandleInvalid => Pkcs11Error::SessionClosed { ckr, function },
        RvError::MechanismInvalid
        | RvError::MechanismParamInvalid
        | RvError::KeyTypeInconsistent
        | RvError::KeyFunctionNotPermitted
        | RvError::KeySizeRange => Pkcs11Error::MechanismNotSupported {
            mechanism: function.clone(),
            reason: format!("the token refused it in {function}"),
            offered: Vec::new(),
            ckr,
        },
        other => Pkcs11Error::Other {
            ckr,
            function,
            detail: other_detail(other),
        },
    }
}

fn other_detail(rv: RvError) -> String {
    match rv {
        RvError::VendorDefined(code) => format!("vendor-defined return value {code:#x}"),
        RvError::UnknownErrorCode(code) => format!("unknown return value {code:#x}"),
        _ => "the token reported this failure".to_owned(),
    }
}

/// The PKCS#11 name of a return value (PKCS#11 v3.1 §5.1), `None` for vendor-defined and
/// unknown codes.
pub fn rv_name(rv: RvError) -> Option<&'static str> {
    Some(match rv {
        RvError::Cancel => "CKR_CANCEL",
        RvError::HostMemory => "CKR_HOST_MEMORY",
        RvError::SlotIdInvalid => "CKR_SLOT_ID_INVALID",
        RvError::GeneralError => "CKR_GENERAL_ERROR",
        RvError::FunctionFailed => "CKR_FUNCTION_FAILED",
        RvError::ArgumentsBad => "CKR_ARGUMENTS_BAD",
        RvError::NoEvent => "CKR_NO_EVENT",
        RvError::NeedToCreateThreads => "CKR_NEED_TO_CREATE_THREADS",
        RvError::CantLock => "CKR_CANT_LOCK",
        RvError::AttributeReadOnly => "CKR_ATTRIBUTE_READ_ONLY",
        RvError::AttributeSensitive => "CKR_ATTRIBUTE_SENSITIVE",
        RvError::AttributeTypeInvalid => "CKR_ATTRIBUTE_TYPE_INVALID",
        RvError::AttributeValueInvalid => "CKR_ATTRIBUTE_VALUE_INVALID",
        RvError::ActionProhibited => "CKR_ACTION_PROHIBITED",
        RvError::DataInvalid => "CKR_DATA_INVALID",
        RvError::DataLenRange => "CKR_DATA_LEN_RANGE",
        RvError::DeviceError => "CKR_DEVICE_ERROR",
        RvError::DeviceMemory => "CKR_DEVICE_MEMORY",
        RvError::DeviceRemoved => "CKR_DEVICE_REMOVED",
        RvError::EncryptedDataInvalid => "CKR_ENCRYPTED_DATA_INVALID",
        RvError::EncryptedDataLenRange => "CKR_ENCRYPTED_DATA_LEN_RANGE",
        RvError::FunctionCanceled => "CKR_FUNCTION_CANCELED",
        RvError::FunctionNotParallel => "CKR_FUNCTION_NOT_PARALLEL",
        RvError::FunctionNotSupported => "CKR_FUNCTION_NOT_SUPPORTED",
        RvError::CurveNotSupported => "CKR_CURVE_NOT_SUPPORTED",
        RvError::KeyHandleInvalid => "CKR_KEY_HANDLE_INVALID",
        RvError::KeySizeRange => "CKR_KEY_SIZE_RANGE",
        RvError::KeyTypeInconsistent => "CKR_KEY_TYPE_INCONSISTENT",
        RvError::KeyNotNeeded => "CKR_KEY_NOT_NEEDED",
        RvError::KeyChanged => "CKR_KEY_CHANGED",
        RvError::KeyNeeded => "CKR_KEY_NEEDED",
        RvError::KeyIndigestible => "CKR_KEY_INDIGESTIBLE",
        RvError::KeyFunctionNotPermitted => "CKR_KEY_FUNCTION_NOT_PERMITTED",
        RvError::KeyNotWrappable => "CKR_KEY_NOT_WRAPPABLE",
        RvError::KeyUnextractable => "CKR_KEY_UNEXTRACTABLE",
        RvError::MechanismInvalid => "CKR_MECHANISM_INVALID",
        RvError::MechanismParamInvalid => "CKR_MECHANISM_PARAM_INVALID",
        RvError::ObjectHandleInvalid => "CKR_OBJECT_HANDLE_INVALID",
        RvError::OperationActive => "CKR_OPERATION_ACTIVE",
        RvError::OperationNotInitialized => "CKR_OPERATION_NOT_INITIALIZED",
        RvError::PinIncorrect => "CKR_PIN_INCORRECT",
        RvError::PinInvalid => "CKR_PIN_INVALID",
        RvError::PinLenRange => "CKR_PIN_LEN_RANGE",
        RvError::PinExpired => "CKR_PIN_EXPIRED",
        RvError::PinLocked => "CKR_PIN_LOCKED",
        RvError::SessionClosed => "CKR_SESSION_CLOSED",
        RvError::SessionCount => "CKR_SESSION_COUNT",
        RvError::SessionHandleInvalid => "CKR_SESSION_HANDLE_INVALID",
        RvError::SessionParallelNotSupported => "CKR_SESSION_PARALLEL_NOT_SUPPORTED",
        RvError::SessionReadOnly => "CKR_SESSION_READ_ONLY",
        RvError::SessionExists => "CKR_SESSION_EXISTS",
        RvError::SessionReadOnlyExists => "CKR_SESSION_READ_ONLY_EXISTS",
        RvError::SessionReadWriteSoExists => "CKR_SESSION_READ_WRITE_SO_EXISTS",
        RvError::SignatureInvalid => "CKR_SIGNATURE_INVALID",
        RvError::SignatureLenRange => "CKR_SIGNATURE_LEN_RANGE",
        RvError::TemplateIncomplete => "CKR_TEMPLATE_INCOMPLETE",
        RvError::TemplateInconsistent => "CKR_TEMPLATE_INCONSISTENT",
        RvError::TokenNotPresent => "CKR_TOKEN_NOT_PRESENT",
        RvError::TokenNotRecognized => "CKR_TOKEN_NOT_RECOGNIZED",
        RvError::TokenWriteProtected => "CKR_TOKEN_WRITE_PROTECTED",
        RvError::UnwrappingKeyHandleInvalid => "CKR_UNWRAPPING_KEY_HANDLE_INVALID",
        RvError::UnwrappingKeySizeRange => "CKR_UNWRAPPING_KEY_SIZE_RANGE",
        RvError::UserAlreadyLoggedIn => "CKR_USER_ALREADY_LOGGED_IN",
        RvError::UserNotLoggedIn => "CKR_USER_NOT_LOGGED_IN",
        RvError::UserPinNotInitialized => "CKR_USER_PIN_NOT_INITIALIZED",
        RvError::UserTypeInvalid => "CKR_USER_TYPE_INVALID",
        RvError::UserAnotherAlreadyLoggedIn => "CKR_USER_ANOTHER_ALREADY_LOGGED_IN",
        RvError::UserTooManyTypes => "CKR_USER_TOO_MANY_TYPES",
        RvError::WrappedKeyInvalid => "CKR_WRAPPED_KEY_INVALID",
        RvError::WrappedKeyLenRange => "CKR_WRAPPED_KEY_LEN_RANGE",
        RvError::WrappingKeyHandleInvalid => "CKR_WRAPPING_KEY_HANDLE_INVALID",
        RvError::WrappingKeySizeRange => "CKR_WRAPPING_KEY_SIZE_RANGE",
        RvError::WrappingKeyTypeInconsistent => "CKR_WRAPPING_KEY_TYPE_INCONSISTENT",
        RvError::RandomSeedNotSupported => "CKR_RANDOM_SEED_NOT_SUPPORTED",
        RvError::RandomNoRng => "CKR_RANDOM_NO_RNG",
        RvError::DomainParamsInvalid => "CKR_DOMAIN_PARAMS_INVALID",
        RvError::BufferTooSmall => "CKR_BUFFER_TOO_SMALL",
        RvError::SavedStateInvalid => "CKR_SAVED_STATE_INVALID",
        RvError::InformationSensitive => "CKR_INFORMATION_SENSITIVE",
        RvError::StateUnsaveable => "CKR_STATE_UNSAVEABLE",
        RvError::CryptokiNotInitialized => "CKR_CRYPTOKI_NOT_INITIALIZED",
        RvError::CryptokiAlreadyInitialized => "CKR_CRYPTOKI_ALREADY_INITIALIZED",
        RvError::MutexBad => "CKR_MUTEX_BAD",
        RvError::MutexNotLocked => "CKR_MUTEX_NOT_LOCKED",
        RvError::NewPinMode => "CKR_NEW_PIN_MODE",
        RvError::NextOtp => "CKR_NEXT_OTP",
        RvError::ExceededMaxIterations => "CKR_EXCEEDED_MAX_ITERATIONS",
        RvError::FipsSelfTestFailed => "CKR_FIPS_SELF_TEST_FAILED",
        RvError::LibraryLoadFailed => "CKR_LIBRARY_LOAD_FAILED",
        RvError::PinTooWeak => "CKR_PIN_TOO_WEAK",
        RvError::PublicKeyInvalid => "CKR_PUBLIC_KEY_INVALID",
        RvError::FunctionRejected => "CKR_FUNCTION_REJECTED",
        RvError::UnwrappingKeyTypeInconsistent => "CKR_UNWRAPPING_KEY_TYPE_INCONSISTENT",
        RvError::VendorDefined(_) | RvError::UnknownErrorCode(_) => return None,
    })
}
