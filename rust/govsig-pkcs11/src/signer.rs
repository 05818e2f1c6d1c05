//! Signing with one token key from many threads through a pool of sessions.

use crate::der;
use crate::error::{map_error, Pkcs11Error};
use crate::token::{check_key_certificate, find_key_in, find_keys, refind_key, KeyInfo, KeyKind, TokenShared};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::eddsa::{EddsaParams, EddsaSignatureScheme};
use cryptoki::mechanism::rsa::{PkcsMgfType, PkcsPssParams};
use cryptoki::mechanism::{Mechanism, MechanismType};
use cryptoki::object::ObjectHandle;
use cryptoki::session::{Session, SessionState};
use cryptoki::types::Ulong;
use govsig_core::cms::sign::SignScheme;
use govsig_core::crypto::DigestAlgorithm;
use std::fmt;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

/// The token's hash mechanism and MGF1 for a digest. Tokens sign with SHA-256, -384 and
/// -512; SHA-1 and SHA-224 are refused (no e-government profile we serve signs with them), and
/// so is SHA-3 for now (govsig verifies SHA-3 signatures but does not make them yet).
fn token_hash(d: DigestAlgorithm) -> Option<(MechanismType, PkcsMgfType)> {
    match d {
        DigestAlgorithm::Sha256 => Some((MechanismType::SHA256, PkcsMgfType::MGF1_SHA256)),
        DigestAlgorithm::Sha384 => Some((MechanismType::SHA384, PkcsMgfType::MGF1_SHA384)),
        DigestAlgorithm::Sha512 => Some((MechanismType::SHA512, PkcsMgfType::MGF1_SHA512)),
        DigestAlgorithm::Sha1
        | DigestAlgorithm::Sha224
        | DigestAlgorithm::Sha3_256
        | DigestAlgorithm::Sha3_384
        | DigestAlgorithm::Sha3_512 => None,
    }
}

/// How a scheme reads in a message to a person.
pub(crate) fn describe_scheme(scheme: SignScheme) -> String {
    match scheme {
        SignScheme::RsaPkcs1(d) => format!("RSA PKCS#1 v1.5 with {}", d.name()),
        SignScheme::RsaPss(d) => format!("RSA-PSS with {}", d.name()),
        SignScheme::Ecdsa(d) => format!("ECDSA with {}", d.name()),
        SignScheme::Ed25519 => "Ed25519".to_owned(),
    }
}

/// A signing mechanism the token offers (`C_GetMechanismList` + `C_GetMechanismInfo` with
/// `CKF_SIGN`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfferedMechanism {
    /// `CKM_` name.
    pub name: String,
    /// The numeric mechanism type.
    pub code: u64,
    /// Smallest key size, in the unit the mechanism uses (bits for RSA and EC).
    pub min_key_size: usize,
    /// Largest key size.
    pub max_key_size: usize,
}

/// A mechanism that signs a prepared input, and how to prepare it from the digest and message.
type Prehash = (Mechanism<'static>, fn(DigestAlgorithm, &[u8]) -> Vec<u8>);

/// CK_MECHANISM_TYPE is an unsigned long: 64 bits on Unix, 32 on Windows.
#[allow(clippy::useless_conversion)]
fn mechanism_code(mechanism: MechanismType) -> u64 {
    u64::from(*mechanism)
}

/// How a scheme is carried out on this token.
enum Plan {
    /// The token hashes: `C_Sign` over the whole message.
    Combined(Mechanism<'static>),
    /// govsig hashes; the token signs `input` (digest or DigestInfo).
    Prehashed(Mechanism<'static>, Vec<u8>),
}

struct PooledSession {
    session: Session,
    key: ObjectHandle,
}

struct PoolState {
    idle: Vec<PooledSession>,
    /// Sessions idle or lent out; a session that failed for good is not counted.
    live: usize,
    /// What ended the last session to fail for good, returned to callers once none is left.
    last_failure: Option<Pkcs11Error>,
}

struct Pool {
    state: Mutex<PoolState>,
    returned: Condvar,
}

impl Pool {
    fn lock(&self) -> MutexGuard<'_, PoolState> {
        // Nothing panics while holding the lock; a poisoned state is still consistent.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn acquire(&self) -> Result<Lease<'_>, Pkcs11Error> {
        let mut state = self.lock();
        loop {
            if let Some(session) = state.idle.pop() {
                return Ok(Lease {
                    pool: self,
                    session: Some(session),
                    failed: None,
                });
            }
            if state.live == 0 {
                return Err(state.last_failure.clone().unwrap_or(Pkcs11Error::SessionClosed {
                    ckr: None,
                    function: "every session of the signer has ended".to_owned(),
                }));
            }
            state = self
                .returned
                .wait(state)
                .unwrap_or_else(|poisoned| poisoned.into_inner());
        }
    }
}

/// A session lent to one `sign` call; it goes back to the pool when dropped, unless the call
/// found it dead.
struct Lease<'a> {
    pool: &'a Pool,
    session: Option<PooledSession>,
    failed: Option<Pkcs11Error>,
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        let mut state = self.pool.lock();
        match (self.session.take(), self.failed.take()) {
            (Some(session), None) => state.idle.push(session),
            (Some(dead), Some(failure)) => {
                state.live = state.live.saturating_sub(1);
                state.last_failure = Some(failure);
                drop(state);
                // Closing a dead session fails; the error is of no use to anyone.
                let _ = dead.session.close();
                self.pool.returned.notify_all();
                return;
            }
            (None, _) => {}
        }
        drop(state);
        self.pool.returned.notify_one();
    }
}

/// Signs with one private key of a logged-in token, from any number of threads.
///
/// Each call borrows one session from a pool (waiting when all are busy), so at most
/// `sessions` signatures run on the token at once and no session ever carries two operations
/// (which would be `CKR_OPERATION_ACTIVE`).
pub struct TokenSigner {
    // Declared first: the pool's sessions close before the login session and the module.
    pool: Pool,
    key: KeyInfo,
    offered: Vec<OfferedMechanism>,
    prefer_token_hashing: bool,
    token: Arc<TokenShared>,
}

impl fmt::Debug for TokenSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenSigner")
            .field("token", &self.token.info.label)
            .field("slot_id", &self.token.info.slot_id)
            .field("key_label", &self.key.label)
            .field("key_id", &crate::token::hex(&self.key.id))
            .field("key_type", &self.key.key_type)
            .finish()
    }
}

impl TokenSigner {
    pub(crate) fn new(
        token: Arc<TokenShared>,
        key: KeyInfo,
        handle: ObjectHandle,
        sessions: usize,
    ) -> Result<TokenSigner, Pkcs11Error> {
        if sessions == 0 {
            return Err(Pkcs11Error::InvalidArgument {
                detail: "a signer needs at least one session".to_owned(),
            });
        }
        if key.always_authenticate {
            return Err(Pkcs11Error::MechanismNotSupported {
                mechanism: "CKA_ALWAYS_AUTHENTICATE".to_owned(),
                reason: format!(
                    "{} asks for the PIN before every signature, which govsig does not support yet",
                    key.describe()
                ),
                offered: Vec::new(),
                ckr: None,
            });
        }
        let offered = offered_mechanisms(&token)?;
        let ctx = &token.module.inner.ctx;
        let mut idle = Vec::with_capacity(sessions);
        for _ in 0..sessions {
            let session = ctx.open_ro_session(token.slot).map_err(map_error)?;
            let key_handle = refind_key(&session, &key, handle)?;
            idle.push(PooledSession {
                session,
                key: key_handle,
            });
        }
        Ok(TokenSigner {
            pool: Pool {
                state: Mutex::new(PoolState {
                    idle,
                    live: sessions,
                    last_failure: None,
                }),
                returned: Condvar::new(),
            },
            key,
            offered,
            prefer_token_hashing: true,
            token,
        })
    }

    /// Whether to let the token hash (`CKM_SHA256_RSA_PKCS`, `CKM_ECDSA_SHA256`, ...) when it
    /// offers that; on by default. Off, govsig hashes and the token signs the digest, which
    /// sends 32–64 bytes to the token instead of the whole message.
    pub fn prefer_token_hashing(mut self, prefer: bool) -> TokenSigner {
        self.prefer_token_hashing = prefer;
        self
    }

    /// Use `certificate_der` as this key's certificate, after checking it holds the key's
    /// public key.
    pub fn with_certificate(mut self, certificate_der: Vec<u8>) -> Result<TokenSigner, Pkcs11Error> {
        check_key_certificate(&self.key, &certificate_der)?;
        self.key.certificate_der = Some(certificate_der);
        Ok(self)
    }

    /// The key being used.
    pub fn key(&self) -> &KeyInfo {
        &self.key
    }

    /// The kind of key.
    pub fn key_kind(&self) -> KeyKind {
        self.key.key_type.clone()
    }

    /// The key's certificate, DER, when the token holds one (or one was given).
    pub fn certificate_der(&self) -> Option<&[u8]> {
        self.key.certificate_der.as_deref()
    }

    /// The key's public key as DER SubjectPublicKeyInfo.
    pub fn public_key_spki_der(&self) -> Option<&[u8]> {
        self.key.public_key_spki_der.as_deref()
    }

    /// The signing mechanisms the token offers.
    pub fn mechanisms(&self) -> Vec<OfferedMechanism> {
        self.offered.clone()
    }

    /// The `CKM_` name of the mechanism `sign` would use for `scheme`, and whether govsig
    /// hashes first.
    pub fn mechanism_for(&self, scheme: SignScheme) -> Result<(String, bool), Pkcs11Error> {
        let plan = self.plan(scheme, &[])?;
        Ok(match plan {
            Plan::Combined(m) => (m.mechanism_type().to_string(), false),
            Plan::Prehashed(m, _) => (m.mechanism_type().to_string(), true),
        })
    }

    /// Sign `message` (the full data to be signed, e.g. the DER of CMS signed attributes).
    /// The result is in the encoding CMS and X.509 expect: RSA as is, ECDSA as DER
    /// Ecdsa-Sig-Value (RFC 5753 §7.2), Ed25519 as the 64 raw octets (RFC 8410 §6).
    pub fn sign(&self, scheme: SignScheme, message: &[u8]) -> Result<Vec<u8>, Pkcs11Error> {
        let plan = self.plan(scheme, message)?;
        let mut lease = self.pool.acquire()?;
        let (mechanism, input) = match &plan {
            Plan::Combined(m) => (m, message),
            Plan::Prehashed(m, digest) => (m, digest.as_slice()),
        };
        let signed = match lease.session.as_mut() {
            Some(pooled) => self.sign_on(pooled, mechanism, input),
            None => Err(Pkcs11Error::SessionClosed {
                ckr: None,
                function: "session pool".to_owned(),
            }),
        };
        let raw = match signed {
            Ok(raw) => raw,
            Err(err) => {
                if err.ends_session() {
                    lease.failed = Some(err.clone());
                }
                return Err(err);
            }
        };
        drop(lease);
        match scheme {
            SignScheme::Ecdsa(_) => der::ecdsa_raw_to_der(&raw).map_err(|e| Pkcs11Error::Other {
                ckr: None,
                function: "C_Sign".to_owned(),
                detail: e.0.to_owned(),
            }),
            _ => Ok(raw),
        }
    }

    fn sign_on(
        &self,
        pooled: &mut PooledSession,
        mechanism: &Mechanism<'_>,
        input: &[u8],
    ) -> Result<Vec<u8>, Pkcs11Error> {
        let _one_at_a_time = self.token.module.inner.serialise_if_foreign();
        match pooled.session.sign(mechanism, pooled.key, input) {
            Ok(raw) => Ok(raw),
            Err(CkError::Pkcs11(rv @ (RvError::ObjectHandleInvalid | RvError::KeyHandleInvalid), function))
                if !self.token_gone() =>
            {
                // The token is there but the handle is not: the login ended (private objects
                // are hidden from public sessions, v3.1 §4.4), the module renumbered its
                // objects (then the key is found again and the signature retried once), or
                // the key was deleted.
                if let Ok(info) = pooled.session.get_session_info() {
                    if matches!(info.session_state(), SessionState::RoPublic | SessionState::RwPublic) {
                        return Err(Pkcs11Error::NotLoggedIn {
                            ckr: crate::error::rv_name(rv).unwrap_or("CKR_USER_NOT_LOGGED_IN"),
                            function: crate::error::function_name(function),
                        });
                    }
                }
                match find_key_in(&pooled.session, &self.key)? {
                    Some(handle) if handle != pooled.key => {
                        pooled.key = handle;
                        pooled
                            .session
                            .sign(mechanism, pooled.key, input)
                            .map_err(|e| self.classify(e, mechanism))
                    }
                    _ => Err(Pkcs11Error::KeyNotFound {
                        selector: format!(
                            "{} (it was on the token when the signer was made; {} now fails)",
                            self.key.describe(),
                            crate::error::function_name(function)
                        ),
                        available: find_keys(&pooled.session)
                            .map(|keys| keys.iter().map(|(_, k)| k.describe()).collect())
                            .unwrap_or_default(),
                    }),
                }
            }
            // A key being deleted (or a token being removed) can also answer "not permitted"
            // or a general error while its attributes disappear: tell that apart from a key
            // that really may not sign with this mechanism, or a token fault.
            Err(CkError::Pkcs11(rv @ (RvError::KeyFunctionNotPermitted | RvError::GeneralError), function)) => {
                if self.token_gone() {
                    return Err(Pkcs11Error::TokenRemoved {
                        ckr: crate::error::rv_name(rv).unwrap_or("CKR_TOKEN_NOT_PRESENT"),
                        function: crate::error::function_name(function),
                    });
                }
                match find_key_in(&pooled.session, &self.key)? {
                    None => Err(Pkcs11Error::KeyNotFound {
                        selector: format!(
                            "{} (it was on the token when the signer was made; {} now fails)",
                            self.key.describe(),
                            crate::error::function_name(function)
                        ),
                        available: find_keys(&pooled.session)
                            .map(|keys| keys.iter().map(|(_, k)| k.describe()).collect())
                            .unwrap_or_default(),
                    }),
                    Some(_) => Err(self.classify(CkError::Pkcs11(rv, function), mechanism)),
                }
            }
            Err(e) => Err(self.classify(e, mechanism)),
        }
    }

    /// Token removal shows up in many ways (v3.1 §5.1 lists CKR_DEVICE_REMOVED and
    /// CKR_TOKEN_NOT_PRESENT, but modules also answer with an invalid session or key
    /// handle, or a general error); when the failure is one of those and the slot no longer
    /// holds this token, it is reported as `TokenRemoved`.
    fn classify(&self, e: CkError, mechanism: &Mechanism<'_>) -> Pkcs11Error {
        let function = match &e {
            CkError::Pkcs11(_, f) => crate::error::function_name(*f),
            _ => "C_Sign".to_owned(),
        };
        let err = map_error(e);
        let maybe_removed = matches!(err, Pkcs11Error::SessionClosed { .. } | Pkcs11Error::NotLoggedIn { .. })
            || matches!(
                err.ckr_name(),
                Some("CKR_OBJECT_HANDLE_INVALID" | "CKR_KEY_HANDLE_INVALID" | "CKR_GENERAL_ERROR" | "CKR_DEVICE_ERROR")
            );
        if maybe_removed && self.token_gone() {
            return Pkcs11Error::TokenRemoved {
                ckr: err.ckr_name().unwrap_or("CKR_TOKEN_NOT_PRESENT"),
                function,
            };
        }
        match err {
            Pkcs11Error::MechanismNotSupported { ckr, .. } => Pkcs11Error::MechanismNotSupported {
                mechanism: mechanism.mechanism_type().to_string(),
                reason: format!("the token refused it for {}", self.key.describe()),
                offered: self.offered_names(),
                ckr,
            },
            Pkcs11Error::Other {
                ckr: Some(ckr @ ("CKR_OBJECT_HANDLE_INVALID" | "CKR_KEY_HANDLE_INVALID")),
                function,
                ..
            } => Pkcs11Error::Other {
                ckr: Some(ckr),
                function,
                detail: format!(
                    "{} is no longer usable on the token (deleted?); list the keys again",
                    self.key.describe()
                ),
            },
            other => other,
        }
    }

    /// The slot is empty, the module cannot describe its token any more, or another token
    /// (another serial number) sits in it.
    fn token_gone(&self) -> bool {
        let ctx = &self.token.module.inner.ctx;
        match ctx.get_slot_info(self.token.slot) {
            Ok(info) if !info.token_present() => return true,
            Ok(_) => {}
            Err(_) => return true,
        }
        match ctx.get_token_info(self.token.slot) {
            Ok(info) => info.serial_number().trim_end() != self.token.info.serial,
            Err(_) => true,
        }
    }

    fn offered_names(&self) -> Vec<String> {
        self.offered.iter().map(|m| m.name.clone()).collect()
    }

    fn offers(&self, mechanism: MechanismType) -> bool {
        let code = mechanism_code(mechanism);
        self.offered.iter().any(|m| m.code == code)
    }

    fn plan(&self, scheme: SignScheme, message: &[u8]) -> Result<Plan, Pkcs11Error> {
        let unsupported = |mechanism: String, reason: String| Pkcs11Error::MechanismNotSupported {
            mechanism,
            reason,
            offered: self.offered_names(),
            ckr: None,
        };
        let key = &self.key;
        let fits = matches!(
            (scheme, &key.key_type),
            (SignScheme::RsaPkcs1(_) | SignScheme::RsaPss(_), KeyKind::Rsa { .. })
                | (SignScheme::Ecdsa(_), KeyKind::Ec { .. })
                | (SignScheme::Ed25519, KeyKind::Ed25519)
        );
        if !fits {
            return Err(unsupported(
                describe_scheme(scheme),
                format!("{} is {}", key.describe(), key.key_type),
            ));
        }
        let digest = match scheme {
            SignScheme::RsaPkcs1(d) | SignScheme::RsaPss(d) | SignScheme::Ecdsa(d) => match token_hash(d) {
                Some(_) => Some(d),
                None => {
                    return Err(unsupported(
                        describe_scheme(scheme),
                        format!("token signing uses sha256, sha384 or sha512, not {}", d.name()),
                    ))
                }
            },
            SignScheme::Ed25519 => None,
        };
        let prefer = self.prefer_token_hashing;
        // One candidate with token hashing, one with govsig hashing, in that order.
        let (combined, prehashed): (Option<Mechanism<'static>>, Option<Prehash>) = match scheme {
            SignScheme::RsaPkcs1(d) => (
                match d {
                    DigestAlgorithm::Sha256 => Some(Mechanism::Sha256RsaPkcs),
                    DigestAlgorithm::Sha384 => Some(Mechanism::Sha384RsaPkcs),
                    DigestAlgorithm::Sha512 => Some(Mechanism::Sha512RsaPkcs),
                    _ => None,
                },
                // CKM_RSA_PKCS pads what it is given, so it is given the DigestInfo
                // (RFC 8017 §9.2 steps 1–2).
                Some((Mechanism::RsaPkcs, |d, m| d.digest_info(&d.digest(m)))),
            ),
            SignScheme::RsaPss(d) => match token_hash(d) {
                Some((hash_alg, mgf)) => {
                    let params = PkcsPssParams {
                        hash_alg,
                        mgf,
                        s_len: Ulong::from(std::ffi::c_ulong::try_from(d.output_len()).unwrap_or(0)),
                    };
                    (
                        match d {
                            DigestAlgorithm::Sha256 => Some(Mechanism::Sha256RsaPkcsPss(params)),
                            DigestAlgorithm::Sha384 => Some(Mechanism::Sha384RsaPkcsPss(params)),
                            DigestAlgorithm::Sha512 => Some(Mechanism::Sha512RsaPkcsPss(params)),
                            _ => None,
                        },
                        Some((Mechanism::RsaPkcsPss(params), |d, m| d.digest(m))),
                    )
                }
                None => (None, None),
            },
            SignScheme::Ecdsa(d) => (
                match d {
                    DigestAlgorithm::Sha256 => Some(Mechanism::EcdsaSha256),
                    DigestAlgorithm::Sha384 => Some(Mechanism::EcdsaSha384),
                    DigestAlgorithm::Sha512 => Some(Mechanism::EcdsaSha512),
                    _ => None,
                },
                Some((Mechanism::Ecdsa, |d, m| d.digest(m))),
            ),
            // EdDSA hashes inside the algorithm (RFC 8032 §5.1.6); there is no
            // pre-hashed form of pure Ed25519.
            SignScheme::Ed25519 => (
                Some(Mechanism::Eddsa(EddsaParams::new(EddsaSignatureScheme::Pure))),
                None,
            ),
        };
        let combined = combined.filter(|m| self.offers(m.mechanism_type()));
        let prehashed = prehashed.filter(|(m, _)| self.offers(m.mechanism_type()));
        let use_combined = |m: Mechanism<'static>| Ok(Plan::Combined(m));
        let use_prehashed = |(m, prepare): Prehash| match digest {
            Some(d) => Ok(Plan::Prehashed(m, prepare(d, message))),
            None => Err(unsupported(describe_scheme(scheme), "no hash to apply".to_owned())),
        };
        match (combined, prehashed, prefer) {
            (Some(c), _, true) | (Some(c), None, false) => use_combined(c),
            (_, Some(p), _) => use_prehashed(p),
            (None, None, _) => Err(unsupported(
                describe_scheme(scheme),
                "the token offers no mechanism for it with CKF_SIGN".to_owned(),
            )),
        }
    }
}

fn offered_mechanisms(token: &TokenShared) -> Result<Vec<OfferedMechanism>, Pkcs11Error> {
    let ctx = &token.module.inner.ctx;
    let list = ctx.get_mechanism_list(token.slot).map_err(map_error)?;
    let mut offered = Vec::new();
    for mechanism in list {
        match ctx.get_mechanism_info(token.slot, mechanism) {
            Ok(info) if info.sign() => offered.push(OfferedMechanism {
                name: mechanism.to_string(),
                code: mechanism_code(mechanism),
                min_key_size: info.min_key_size(),
                max_key_size: info.max_key_size(),
            }),
            Ok(_) => {}
            // A mechanism the module lists but cannot describe is not offered for signing.
            Err(CkError::Pkcs11(RvError::MechanismInvalid, _)) => {}
            Err(e) => return Err(map_error(e)),
        }
    }
    Ok(offered)
}
