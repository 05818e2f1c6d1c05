//! A loaded PKCS#11 library, its slots and tokens.

use crate::error::{map_error, Pkcs11Error};
use crate::pin::Pin;
use crate::token::Token;
use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::slot::Slot;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};

/// One entry per library path loaded by this process. PKCS#11 state is per process
/// (v3.1 §5.4: `C_Initialize` once, `C_Finalize` once), and `dlopen` of the same file returns
/// the same library, so two independent `Module`s on one path would finalise each other's
/// sessions away. Sharing one `ModuleInner` per path makes finalisation happen exactly once,
/// when the last user is gone.
struct Registered {
    path: PathBuf,
    id: u64,
    module: Weak<ModuleInner>,
}

static REGISTRY: Mutex<Vec<Registered>> = Mutex::new(Vec::new());
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

fn registry() -> MutexGuard<'static, Vec<Registered>> {
    // Nothing panics while holding the lock, so a poisoned registry is still consistent.
    REGISTRY.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

pub(crate) struct ModuleInner {
    pub(crate) ctx: Pkcs11,
    path: PathBuf,
    id: u64,
    /// False when `C_Initialize` said another part of this process had already initialised
    /// the library: then finalising is that part's business, not ours.
    owns_initialization: bool,
    /// Held around each signature when another part of the process initialised the library:
    /// it may have done so without `CKF_OS_LOCKING_OK` (python-pkcs11 passes no arguments),
    /// and then the library takes no locks of its own, so concurrent `C_Sign` calls on
    /// different sessions corrupt its memory (seen with SoftHSM2: "double free").
    foreign_initialization_lock: Option<Mutex<()>>,
    library_description: String,
    library_manufacturer: String,
}

impl ModuleInner {
    /// One signature at a time, when the library's thread safety is not ours to know.
    pub(crate) fn serialise_if_foreign(&self) -> Option<MutexGuard<'_, ()>> {
        self.foreign_initialization_lock
            .as_ref()
            // Nothing panics while holding it; a poisoned unit lock is still a lock.
            .map(|m| m.lock().unwrap_or_else(|poisoned| poisoned.into_inner()))
    }
}

impl Drop for ModuleInner {
    fn drop(&mut self) {
        // Finalise under the registry lock, so that a concurrent `Module::load` of the same
        // path cannot initialise between our last use and `C_Finalize`.
        let mut reg = registry();
        if self.owns_initialization {
            // Nothing useful can be done with a failure here; the process is done with it.
            let _ = self.ctx.clone().finalize();
        }
        reg.retain(|r| r.id != self.id);
    }
}

/// A loaded and initialised PKCS#11 library. Cheap to clone; the library is finalised when
/// the last `Module`, `Token` and `TokenSigner` using it are dropped.
#[derive(Clone)]
pub struct Module {
    pub(crate) inner: Arc<ModuleInner>,
}

impl fmt::Debug for Module {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Module")
            .field("path", &self.inner.path)
            .field("library", &self.inner.library_description)
            .field("manufacturer", &self.inner.library_manufacturer)
            .finish()
    }
}

/// A token present in a slot, as `C_GetTokenInfo` describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenInfo {
    /// The slot holding the token.
    pub slot_id: u64,
    /// The token label (padding removed).
    pub label: String,
    /// The token manufacturer.
    pub manufacturer: String,
    /// The token model.
    pub model: String,
    /// The token serial number.
    pub serial: String,
    /// The token flags that matter for signing.
    pub flags: TokenFlags,
}

/// The `CK_TOKEN_INFO` flags relevant to logging in and signing (PKCS#11 v3.1 §3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TokenFlags {
    /// `CKF_LOGIN_REQUIRED`
    pub login_required: bool,
    /// `CKF_TOKEN_INITIALIZED`
    pub token_initialized: bool,
    /// `CKF_USER_PIN_INITIALIZED`
    pub user_pin_initialized: bool,
    /// `CKF_WRITE_PROTECTED`
    pub write_protected: bool,
    /// `CKF_PROTECTED_AUTHENTICATION_PATH`: the PIN is entered on the reader's PIN pad.
    pub protected_authentication_path: bool,
    /// `CKF_USER_PIN_COUNT_LOW`
    pub user_pin_count_low: bool,
    /// `CKF_USER_PIN_FINAL_TRY`
    pub user_pin_final_try: bool,
    /// `CKF_USER_PIN_LOCKED`
    pub user_pin_locked: bool,
    /// `CKF_USER_PIN_TO_BE_CHANGED`
    pub user_pin_to_be_changed: bool,
}

/// Which token to open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenSelector {
    /// The token whose label is exactly this (after removing the label's blank padding).
    Label(String),
    /// The token in this slot.
    Slot(u64),
    /// The token in the first slot that has one.
    First,
}

impl TokenSelector {
    pub(crate) fn describe(&self) -> String {
        match self {
            TokenSelector::Label(label) => format!("label {label:?}"),
            TokenSelector::Slot(slot) => format!("slot {slot}"),
            TokenSelector::First => "the first token".to_owned(),
        }
    }
}

impl TokenInfo {
    pub(crate) fn from_cryptoki(slot: Slot, info: &cryptoki::slot::TokenInfo) -> TokenInfo {
        TokenInfo {
            slot_id: slot.id(),
            label: info.label().trim_end().to_owned(),
            manufacturer: info.manufacturer_id().trim_end().to_owned(),
            model: info.model().trim_end().to_owned(),
            serial: info.serial_number().trim_end().to_owned(),
            flags: TokenFlags {
                login_required: info.login_required(),
                token_initialized: info.token_initialized(),
                user_pin_initialized: info.user_pin_initialized(),
                write_protected: info.write_protected(),
                protected_authentication_path: info.protected_authentication_path(),
                user_pin_count_low: info.user_pin_count_low(),
                user_pin_final_try: info.user_pin_final_try(),
                user_pin_locked: info.user_pin_locked(),
                user_pin_to_be_changed: info.user_pin_to_be_changed(),
            },
        }
    }

    fn describe(&self) -> String {
        format!("{:?} (slot {})", self.label, self.slot_id)
    }
}

impl Module {
    /// Load the PKCS#11 library at `path` and initialise it for multi-threaded use
    /// (`CKF_OS_LOCKING_OK`). Loading a path already loaded in this process returns the same
    /// library.
    pub fn load(path: impl AsRef<Path>) -> Result<Module, Pkcs11Error> {
        let given = path.as_ref();
        let load_error = |reason: String, ckr: Option<&'static str>| Pkcs11Error::ModuleLoad {
            path: given.to_path_buf(),
            reason,
            ckr,
        };
        let canonical = given
            .canonicalize()
            .map_err(|e| load_error(format!("the file cannot be opened ({e})"), None))?;
        loop {
            let mut reg = registry();
            match reg.iter().find(|r| r.path == canonical) {
                Some(entry) => {
                    if let Some(inner) = entry.module.upgrade() {
                        return Ok(Module { inner });
                    }
                    // Its last user is finalising it right now; once its `Drop` has taken
                    // the entry out we may initialise the library afresh.
                    drop(reg);
                    std::thread::yield_now();
                }
                None => {
                    let inner = Arc::new(Self::initialise(&canonical, given)?);
                    reg.push(Registered {
                        path: canonical,
                        id: inner.id,
                        module: Arc::downgrade(&inner),
                    });
                    return Ok(Module { inner });
                }
            }
        }
    }

    fn initialise(canonical: &Path, given: &Path) -> Result<ModuleInner, Pkcs11Error> {
        let load_error = |reason: String, ckr: Option<&'static str>| Pkcs11Error::ModuleLoad {
            path: given.to_path_buf(),
            reason,
            ckr,
        };
        let ctx = Pkcs11::new(canonical).map_err(|e| match e {
            CkError::LibraryLoading(e) => load_error(format!("the dynamic loader refused it ({e})"), None),
            CkError::MissingSymbol(name) => load_error(format!("it is not a PKCS#11 library (no {name})"), None),
            CkError::Pkcs11(rv, _) => load_error(
                "the library refused to give its function list".to_owned(),
                crate::error::rv_name(rv),
            ),
            other => load_error(other.to_string(), None),
        })?;
        let owns_initialization = match ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
            Ok(()) => true,
            Err(CkError::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => false,
            Err(CkError::Pkcs11(rv, _)) => {
                return Err(load_error("C_Initialize failed".to_owned(), crate::error::rv_name(rv)))
            }
            Err(other) => return Err(load_error(format!("C_Initialize failed: {other}"), None)),
        };
        let (library_description, library_manufacturer) = match ctx.get_library_info() {
            Ok(info) => (
                info.library_description().trim_end().to_owned(),
                info.manufacturer_id().trim_end().to_owned(),
            ),
            Err(_) => (String::new(), String::new()),
        };
        Ok(ModuleInner {
            ctx,
            path: canonical.to_path_buf(),
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            owns_initialization,
            foreign_initialization_lock: (!owns_initialization).then(|| Mutex::new(())),
            library_description,
            library_manufacturer,
        })
    }

    /// The library's own description (`CK_INFO.libraryDescription`).
    pub fn library_description(&self) -> &str {
        &self.inner.library_description
    }

    /// Whether this process's `Module` initialised the library (and will finalise it), as
    /// opposed to finding it initialised by other code in the process. In the latter case
    /// signers sign one signature at a time: the other code may not have asked the library
    /// for thread safety (`CKF_OS_LOCKING_OK`), and PKCS#11 gives no way to find out.
    pub fn owns_initialization(&self) -> bool {
        self.inner.owns_initialization
    }

    /// The tokens present in the module's slots.
    pub fn tokens(&self) -> Result<Vec<TokenInfo>, Pkcs11Error> {
        let slots = self.inner.ctx.get_slots_with_token().map_err(map_error)?;
        let mut tokens = Vec::with_capacity(slots.len());
        for slot in slots {
            match self.inner.ctx.get_token_info(slot) {
                Ok(info) => tokens.push(TokenInfo::from_cryptoki(slot, &info)),
                // A token pulled out between the two calls is not present; one the module can no
                // longer describe (SoftHSM answers CKR_GENERAL_ERROR for a deleted token) cannot
                // be opened either. Neither stops the listing of the others.
                Err(CkError::Pkcs11(
                    RvError::TokenNotPresent
                    | RvError::DeviceRemoved
                    | RvError::SlotIdInvalid
                    | RvError::TokenNotRecognized
                    | RvError::DeviceError
                    | RvError::GeneralError,
                    _,
                )) => {}
                Err(e) => return Err(map_error(e)),
            }
        }
        Ok(tokens)
    }

    /// Open the selected token and log the user in with `pin`. The PIN is dropped (and
    /// wiped) when this returns; the login lasts as long as the returned `Token` or any
    /// signer made from it.
    pub fn open_token(&self, selector: TokenSelector, pin: Pin) -> Result<Token, Pkcs11Error> {
        let tokens = self.tokens()?;
        let not_found = || Pkcs11Error::TokenNotFound {
            selector: selector.describe(),
            available: tokens.iter().map(TokenInfo::describe).collect(),
        };
        let chosen = match &selector {
            TokenSelector::Label(label) => {
                let matching: Vec<&TokenInfo> = tokens.iter().filter(|t| &t.label == label).collect();
                match matching.as_slice() {
                    [] => return Err(not_found()),
                    [one] => (*one).clone(),
                    several => {
                        return Err(Pkcs11Error::InvalidArgument {
                            detail: format!(
                                "several tokens carry the label {label:?} (slots {}); select one by slot",
                                several
                                    .iter()
                                    .map(|t| t.slot_id.to_string())
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ),
                        })
                    }
                }
            }
            TokenSelector::Slot(id) => tokens
                .iter()
                .find(|t| t.slot_id == *id)
                .cloned()
                .ok_or_else(not_found)?,
            TokenSelector::First => tokens.first().cloned().ok_or_else(not_found)?,
        };
        Token::open(self.clone(), chosen, pin)
    }
}
