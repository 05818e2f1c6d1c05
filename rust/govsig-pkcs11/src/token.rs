//! A logged-in token: its signing keys and their certificates.

use crate::der;
use crate::error::{map_error, Pkcs11Error};
use crate::module::{Module, TokenInfo};
use crate::pin::Pin;
use crate::signer::TokenSigner;
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::object::{Attribute, AttributeType, CertificateType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};

/// Elliptic curves a signing key can be on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EcCurve {
    /// NIST P-256 (secp256r1)
    P256,
    /// NIST P-384 (secp384r1)
    P384,
    /// NIST P-521 (secp521r1)
    P521,
}

impl EcCurve {
    /// Length of an uncompressed point (0x04 ‖ X ‖ Y), SEC 1 §2.3.3.
    pub(crate) fn uncompressed_point_len(self) -> usize {
        1 + 2 * self.field_len()
    }

    pub(crate) fn field_len(self) -> usize {
        match self {
            EcCurve::P256 => 32,
            EcCurve::P384 => 48,
            EcCurve::P521 => 66,
        }
    }

    pub(crate) fn oid(self) -> &'static [u8] {
        match self {
            EcCurve::P256 => der::OID_P256,
            EcCurve::P384 => der::OID_P384,
            EcCurve::P521 => der::OID_P521,
        }
    }

    fn from_params(params: &[u8]) -> Option<EcCurve> {
        [EcCurve::P256, EcCurve::P384, EcCurve::P521]
            .into_iter()
            .find(|c| c.oid() == params)
    }
}

/// What kind of key a signing key is.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum KeyKind {
    /// RSA with a modulus of `bits` bits.
    Rsa {
        /// Modulus length in bits.
        bits: usize,
    },
    /// ECDSA on a named curve.
    Ec {
        /// The curve.
        curve: EcCurve,
    },
    /// Ed25519 (RFC 8032).
    Ed25519,
    /// A key govsig cannot sign with (another curve, Ed448, DSA, ...), listed so that a person
    /// sees every key on the token.
    Unsupported {
        /// What the key is.
        description: String,
    },
}

impl fmt::Display for KeyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyKind::Rsa { bits } => write!(f, "RSA-{bits}"),
            KeyKind::Ec { curve } => write!(f, "EC {curve:?}"),
            KeyKind::Ed25519 => write!(f, "Ed25519"),
            KeyKind::Unsupported { description } => write!(f, "{description}"),
        }
    }
}

/// A private signing key on the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyInfo {
    /// `CKA_LABEL` (may be empty).
    pub label: String,
    /// `CKA_ID` (may be empty).
    pub id: Vec<u8>,
    /// The key type.
    pub key_type: KeyKind,
    /// The X.509 certificate on the token for this key, DER.
    pub certificate_der: Option<Vec<u8>>,
    /// The public key as a DER SubjectPublicKeyInfo, when the token exposes it.
    pub public_key_spki_der: Option<Vec<u8>>,
    /// `CKA_ALWAYS_AUTHENTICATE`: the key needs the PIN again before every signature.
    pub always_authenticate: bool,
}

impl KeyInfo {
    pub(crate) fn describe(&self) -> String {
        let id = hex(&self.id);
        match (self.label.is_empty(), id.is_empty()) {
            (false, false) => format!("key {:?} (id {id})", self.label),
            (false, true) => format!("key {:?}", self.label),
            (true, false) => format!("key with id {id}"),
            (true, true) => "an unlabelled key".to_owned(),
        }
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Which private key to sign with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySelector {
    /// By `CKA_LABEL`.
    Label(String),
    /// By `CKA_ID`.
    Id(Vec<u8>),
    /// By both.
    LabelAndId(String, Vec<u8>),
}

impl KeySelector {
    fn matches(&self, key: &KeyInfo) -> bool {
        match self {
            KeySelector::Label(label) => &key.label == label,
            KeySelector::Id(id) => &key.id == id,
            KeySelector::LabelAndId(label, id) => &key.label == label && &key.id == id,
        }
    }

    fn describe(&self) -> String {
        match self {
            KeySelector::Label(label) => format!("label {label:?}"),
            KeySelector::Id(id) => format!("id {}", hex(id)),
            KeySelector::LabelAndId(label, id) => format!("label {label:?} and id {}", hex(id)),
        }
    }
}

/// State shared by a token and the signers made from it: the session that carries the
/// login. PKCS#11 login is per application and token (v3.1 §5.6, `C_Login`) and ends when
/// the application's last session on the token closes, so this session stays open as long
/// as anything signs.
pub(crate) struct TokenShared {
    login_session: Mutex<Session>,
    pub(crate) info: TokenInfo,
    pub(crate) slot: Slot,
    // Declared last so that the session closes before the module can be finalised.
    pub(crate) module: Module,
}

impl TokenShared {
    pub(crate) fn session(&self) -> MutexGuard<'_, Session> {
        // No code panics while holding this lock, so a poisoned session is still usable.
        self.login_session
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// An open token with the user logged in. Clones share the one login.
#[derive(Clone)]
pub struct Token {
    pub(crate) shared: Arc<TokenShared>,
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Token")
            .field("slot_id", &self.shared.info.slot_id)
            .field("label", &self.shared.info.label)
            .field("serial", &self.shared.info.serial)
            .finish()
    }
}

impl Token {
    pub(crate) fn open(module: Module, info: TokenInfo, pin: Pin) -> Result<Token, Pkcs11Error> {
        let slot = Slot::try_from(info.slot_id).map_err(map_error)?;
        let session = module.inner.ctx.open_ro_session(slot).map_err(map_error)?;
        let login = if pin.is_empty() && info.flags.protected_authentication_path {
            session.login(UserType::User, None)
        } else {
            let auth = pin.to_auth();
            session.login_with_raw(UserType::User, &auth)
        };
        drop(pin);
        match login {
            Ok(()) => {}
            // Login state belongs to the whole application (v3.1 §5.6): the token did not
            // check this PIN. Accepting it would let a wrong PIN sign with keys another
            // caller unlocked.
            Err(CkError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => {
                return Err(Pkcs11Error::AlreadyLoggedIn {
                    token: format!("token {:?} (slot {})", info.label, info.slot_id),
                })
            }
            Err(CkError::Pkcs11(RvError::PinIncorrect, _)) => {
                // The counter flags are updated by the failed C_Login (v3.1 §3.2 CK_TOKEN_INFO).
                let flags = module
                    .inner
                    .ctx
                    .get_token_info(slot)
                    .map(|i| (i.user_pin_count_low(), i.user_pin_final_try(), i.user_pin_locked()))
                    .unwrap_or((false, false, false));
                return Err(match flags {
                    (_, _, true) => Pkcs11Error::PinLocked,
                    (count_low, final_try, false) => Pkcs11Error::PinIncorrect { count_low, final_try },
                });
            }
            Err(e) => return Err(map_error(e)),
        }
        Ok(Token {
            shared: Arc::new(TokenShared {
                login_session: Mutex::new(session),
                info,
                slot,
                module,
            }),
        })
    }

    /// What the token said about itself when it was opened.
    pub fn info(&self) -> &TokenInfo {
        &self.shared.info
    }

    /// The private keys that can sign (`CKA_SIGN` true), each with its certificate (matched
    /// by `CKA_ID`, else by public key) and public key.
    pub fn keys(&self) -> Result<Vec<KeyInfo>, Pkcs11Error> {
        let session = self.shared.session();
        let found = find_keys(&session)?;
        Ok(found.into_iter().map(|(_, key)| key).collect())
    }

    /// Check that `certificate_der` holds the public key of the selected key
    /// (RFC 5280 §4.1.2.7 subjectPublicKeyInfo against the token's public key).
    pub fn key_certificate_matches(&self, key: &KeySelector, certificate_der: &[u8]) -> Result<(), Pkcs11Error> {
        let session = self.shared.session();
        let (_, info) = select_key(&session, key)?;
        check_key_certificate(&info, certificate_der)
    }

    /// A signer for the selected key with a pool of `sessions` sessions, for signing from
    /// several threads at once.
    pub fn signer(&self, key: KeySelector, sessions: usize) -> Result<TokenSigner, Pkcs11Error> {
        let (handle, info) = {
            let session = self.shared.session();
            select_key(&session, &key)?
        };
        TokenSigner::new(Arc::clone(&self.shared), info, handle, sessions)
    }

    /// Log the user out. PKCS#11 login belongs to the whole application, so clones of this
    /// token and signers made from it stop working too (they then fail with `NotLoggedIn`).
    pub fn logout(self) -> Result<(), Pkcs11Error> {
        let session = self.shared.session();
        match session.logout() {
            Ok(()) | Err(CkError::Pkcs11(RvError::UserNotLoggedIn, _)) => Ok(()),
            Err(e) => Err(map_error(e)),
        }
    }
}

fn select_key(session: &Session, selector: &KeySelector) -> Result<(ObjectHandle, KeyInfo), Pkcs11Error> {
    let keys = find_keys(session)?;
    let available = || keys.iter().map(|(_, k)| k.describe()).collect::<Vec<_>>();
    let matching: Vec<&(ObjectHandle, KeyInfo)> = keys.iter().filter(|(_, k)| selector.matches(k)).collect();
    match matching.as_slice() {
        [] => Err(Pkcs11Error::KeyNotFound {
            selector: selector.describe(),
            available: available(),
        }),
        [one] => Ok((one.0, one.1.clone())),
        _ => Err(Pkcs11Error::InvalidArgument {
            detail: format!(
                "several signing keys match {}: {}; select by label and id",
                selector.describe(),
                matching
                    .iter()
                    .map(|(_, k)| k.describe())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }),
    }
}

pub(crate) fn check_key_certificate(key: &KeyInfo, certificate_der: &[u8]) -> Result<(), Pkcs11Error> {
    let mismatch = |detail: String| Pkcs11Error::KeyCertificateMismatch {
        key: key.describe(),
        detail,
    };
    let cert_spki = der::certificate_spki(certificate_der)
        .map_err(|e| mismatch(format!("the certificate is not a DER X.509 certificate ({})", e.0)))?;
    let key_spki = key.public_key_spki_der.as_deref().ok_or_else(|| {
        mismatch("the token does not expose this key's public key, so the pair cannot be checked".to_owned())
    })?;
    spki_same_key(key_spki, cert_spki).map_err(mismatch)
}

/// Same key when algorithm, curve (for EC) and key bits agree; the encoding of absent vs
/// NULL parameters is not compared, since both appear in the wild for the same key.
fn spki_same_key(key_spki: &[u8], cert_spki: &[u8]) -> Result<(), String> {
    let a = der::parse_spki(key_spki).map_err(|e| format!("the key's public key is malformed ({})", e.0))?;
    let b = der::parse_spki(cert_spki).map_err(|e| format!("the certificate's public key is malformed ({})", e.0))?;
    if a.algorithm != b.algorithm {
        return Err("the certificate's public key is of another algorithm".to_owned());
    }
    let is_ec = a.parameters.as_ref().map(|p| p.first() == Some(&0x06)).unwrap_or(false);
    if is_ec && a.parameters != b.parameters {
        return Err("the certificate's public key is on another curve".to_owned());
    }
    if a.key != b.key {
        return Err("the certificate holds a different public key".to_owned());
    }
    Ok(())
}

fn attr_bytes(attrs: &[Attribute], wanted: AttributeType) -> Option<Vec<u8>> {
    attrs.iter().find_map(|a| match (a, wanted) {
        (Attribute::Label(v), AttributeType::Label)
        | (Attribute::Id(v), AttributeType::Id)
        | (Attribute::Modulus(v), AttributeType::Modulus)
        | (Attribute::PublicExponent(v), AttributeType::PublicExponent)
        | (Attribute::EcParams(v), AttributeType::EcParams)
        | (Attribute::EcPoint(v), AttributeType::EcPoint)
        | (Attribute::PublicKeyInfo(v), AttributeType::PublicKeyInfo)
        | (Attribute::Value(v), AttributeType::Value) => Some(v.clone()),
        _ => None,
    })
}

/// Read attributes one by one, so that a token refusing one attribute (type invalid,
/// sensitive) does not hide the others.
fn read_attrs(
    session: &Session,
    handle: ObjectHandle,
    wanted: &[AttributeType],
) -> Result<Vec<Attribute>, Pkcs11Error> {
    let mut out = Vec::with_capacity(wanted.len());
    for attr in wanted {
        match session.get_attributes(handle, &[*attr]) {
            Ok(mut values) => out.append(&mut values),
            Err(CkError::Pkcs11(RvError::AttributeTypeInvalid | RvError::AttributeSensitive, _)) => {}
            Err(e) => return Err(map_error(e)),
        }
    }
    Ok(out)
}

struct PublicKeyObject {
    id: Vec<u8>,
    attrs: Vec<Attribute>,
}

struct CertificateObject {
    id: Vec<u8>,
    der: Vec<u8>,
}

/// Build the SPKI from public-key attributes (`CKA_PUBLIC_KEY_INFO` if the token fills it,
/// else modulus/exponent or curve/point).
fn spki_from_attrs(kind: &KeyKind, attrs: &[Attribute]) -> Option<Vec<u8>> {
    if let Some(spki) = attr_bytes(attrs, AttributeType::PublicKeyInfo).filter(|v| !v.is_empty()) {
        return Some(spki);
    }
    match kind {
        KeyKind::Rsa { .. } => {
            let modulus = attr_bytes(attrs, AttributeType::Modulus)?;
            let exponent = attr_bytes(attrs, AttributeType::PublicExponent)?;
            Some(der::rsa_spki(&modulus, &exponent))
        }
        KeyKind::Ec { curve } => {
            let point = attr_bytes(attrs, AttributeType::EcPoint)?;
            let point = der::unwrap_ec_point(&point, curve.uncompressed_point_len()).ok()?;
            Some(der::ec_spki(curve.oid(), &point))
        }
        KeyKind::Ed25519 => {
            let point = attr_bytes(attrs, AttributeType::EcPoint)?;
            let point = der::unwrap_ec_point(&point, 32).ok()?;
            Some(der::ed25519_spki(&point))
        }
        KeyKind::Unsupported { .. } => None,
    }
}

fn key_kind(key_type: Option<KeyType>, attrs: &[Attribute]) -> KeyKind {
    match key_type {
        Some(t) if t == KeyType::RSA => match attr_bytes(attrs, AttributeType::Modulus) {
            Some(modulus) => KeyKind::Rsa {
                bits: der::bit_length(&modulus),
            },
            None => KeyKind::Unsupported {
                description: "RSA key whose modulus the token hides".to_owned(),
            },
        },
        Some(t) if t == KeyType::EC => {
            let params = attr_bytes(attrs, AttributeType::EcParams).unwrap_or_default();
            match EcCurve::from_params(&params) {
                Some(curve) => KeyKind::Ec { curve },
                None => KeyKind::Unsupported {
                    description: format!("EC key with curve parameters {}", hex(&params)),
                },
            }
        }
        Some(t) if t == KeyType::EC_EDWARDS => {
            let params = attr_bytes(attrs, AttributeType::EcParams).unwrap_or_default();
            if params == der::OID_ED25519 || params == der::PRINTABLE_EDWARDS25519 {
                KeyKind::Ed25519
            } else {
                KeyKind::Unsupported {
                    description: format!("Edwards key with parameters {}", hex(&params)),
                }
            }
        }
        Some(t) => KeyKind::Unsupported {
            description: format!("{t} key"),
        },
        None => KeyKind::Unsupported {
            description: "key of unknown type".to_owned(),
        },
    }
}

const KEY_ATTRS: &[AttributeType] = &[
    AttributeType::Modulus,
    AttributeType::PublicExponent,
    AttributeType::EcParams,
    AttributeType::EcPoint,
    AttributeType::PublicKeyInfo,
];

/// Every private signing key on the token, with its handle in `session`.
pub(crate) fn find_keys(session: &Session) -> Result<Vec<(ObjectHandle, KeyInfo)>, Pkcs11Error> {
    let handles = session
        .find_objects(&[Attribute::Class(ObjectClass::PRIVATE_KEY), Attribute::Sign(true)])
        .map_err(map_error)?;
    if handles.is_empty() {
        return Ok(Vec::new());
    }
    let public_keys = find_public_keys(session)?;
    let certificates = find_certificates(session)?;
    let mut keys = Vec::with_capacity(handles.len());
    for handle in handles {
        let mut attrs = read_attrs(
            session,
            handle,
            &[
                AttributeType::Label,
                AttributeType::Id,
                AttributeType::KeyType,
                AttributeType::AlwaysAuthenticate,
            ],
        )?;
        let label = attr_bytes(&attrs, AttributeType::Label)
            .map(|v| String::from_utf8_lossy(&v).into_owned())
            .unwrap_or_default();
        let id = attr_bytes(&attrs, AttributeType::Id).unwrap_or_default();
        let key_type = attrs.iter().find_map(|a| match a {
            Attribute::KeyType(t) => Some(*t),
            _ => None,
        });
        let always_authenticate = attrs.iter().any(|a| matches!(a, Attribute::AlwaysAuthenticate(true)));
        attrs.extend(read_attrs(session, handle, KEY_ATTRS)?);
        let kind = key_kind(key_type, &attrs);

        // The public key: the private key's own attributes first (RSA private keys carry the
        // modulus), then the public key object with the same CKA_ID.
        let mut spki = spki_from_attrs(&kind, &attrs);
        if spki.is_none() && !id.is_empty() {
            spki = public_keys
                .iter()
                .filter(|p| p.id == id)
                .find_map(|p| spki_from_attrs(&kind, &p.attrs));
        }

        let same_key = |cert: &CertificateObject| match (&spki, der::certificate_spki(&cert.der)) {
            (Some(spki), Ok(cert_spki)) => spki_same_key(spki, cert_spki).is_ok(),
            _ => false,
        };
        // A certificate with the key's CKA_ID (PKCS#11 v3.1 §4.6.3 ties them by CKA_ID) is
        // taken only if it does not contradict the public key; else any certificate holding
        // the public key.
        let by_id = if id.is_empty() {
            None
        } else {
            certificates
                .iter()
                .filter(|c| c.id == id)
                .find(|c| spki.is_none() || same_key(c))
        };
        let certificate = by_id.or_else(|| certificates.iter().find(|c| same_key(c)));
        if spki.is_none() {
            spki = certificate
                .and_then(|c| der::certificate_spki(&c.der).ok())
                .map(<[u8]>::to_vec);
        }
        keys.push((
            handle,
            KeyInfo {
                label,
                id,
                key_type: kind,
                certificate_der: certificate.map(|c| c.der.clone()),
                public_key_spki_der: spki,
                always_authenticate,
            },
        ));
    }
    Ok(keys)
}

fn find_public_keys(session: &Session) -> Result<Vec<PublicKeyObject>, Pkcs11Error> {
    let handles = session
        .find_objects(&[Attribute::Class(ObjectClass::PUBLIC_KEY)])
        .map_err(map_error)?;
    let mut out = Vec::with_capacity(handles.len());
    for handle in handles {
        let mut attrs = read_attrs(session, handle, &[AttributeType::Id])?;
        let id = attr_bytes(&attrs, AttributeType::Id).unwrap_or_default();
        if id.is_empty() {
            continue;
        }
        attrs.extend(read_attrs(session, handle, KEY_ATTRS)?);
        out.push(PublicKeyObject { id, attrs });
    }
    Ok(out)
}

fn find_certificates(session: &Session) -> Result<Vec<CertificateObject>, Pkcs11Error> {
    let handles = session
        .find_objects(&[
            Attribute::Class(ObjectClass::CERTIFICATE),
            Attribute::CertificateType(CertificateType::X_509),
        ])
        .map_err(map_error)?;
    let mut out = Vec::with_capacity(handles.len());
    for handle in handles {
        let attrs = read_attrs(session, handle, &[AttributeType::Id, AttributeType::Value])?;
        let Some(value) = attr_bytes(&attrs, AttributeType::Value) else {
            continue;
        };
        out.push(CertificateObject {
            id: attr_bytes(&attrs, AttributeType::Id).unwrap_or_default(),
            der: value,
        });
    }
    Ok(out)
}

/// Find the private key again in another session of the same application; token object
/// handles are valid across the application's sessions (v3.1 §2.9), but a module may renumber
/// them, so the handle from the listing session is only the fallback.
pub(crate) fn refind_key(
    session: &Session,
    key: &KeyInfo,
    fallback: ObjectHandle,
) -> Result<ObjectHandle, Pkcs11Error> {
    Ok(find_key_in(session, key)?.unwrap_or(fallback))
}

/// The key's handle in `session`, when exactly one private signing key has its id and label.
pub(crate) fn find_key_in(session: &Session, key: &KeyInfo) -> Result<Option<ObjectHandle>, Pkcs11Error> {
    let mut template = vec![Attribute::Class(ObjectClass::PRIVATE_KEY), Attribute::Sign(true)];
    if !key.id.is_empty() {
        template.push(Attribute::Id(key.id.clone()));
    }
    if !key.label.is_empty() {
        template.push(Attribute::Label(key.label.as_bytes().to_vec()));
    }
    let found = session.find_objects(&template).map_err(map_error)?;
    Ok(match found.as_slice() {
        [one] => Some(*one),
        _ => None,
    })
}
