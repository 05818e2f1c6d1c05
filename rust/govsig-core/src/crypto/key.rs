//! Public keys parsed once from SubjectPublicKeyInfo (RFC 5280 §4.1.2.7) and shared.

use std::sync::{Arc, OnceLock};

use aws_lc_rs::signature::{self as lcsig, ParsedPublicKey};
use num_bigint_dig::BigUint;
use num_traits::{One, Zero};

use super::der;
use super::digest::DigestAlgorithm;
use super::oid;
use super::scheme::PssParamsError;
use super::CryptoError;

/// What a public key is, as far as signature dispatch cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyType {
    Rsa,
    EcP256,
    EcP384,
    EcP521,
    Ed25519,
    Dsa,
}

impl KeyType {
    /// Short human name for messages: "RSA", "EC P-256", ...
    pub fn name(&self) -> &'static str {
        match self {
            Self::Rsa => "RSA",
            Self::EcP256 => "EC P-256",
            Self::EcP384 => "EC P-384",
            Self::EcP521 => "EC P-521",
            Self::Ed25519 => "Ed25519",
            Self::Dsa => "DSA",
        }
    }
}

/// Largest RSA modulus accepted. Bounds the cost of one verification an attacker can make us
/// do (a 16384-bit public operation is already ~64x a 2048-bit one); aws-lc has the same cap.
pub(crate) const MAX_RSA_BITS: usize = 16384;
/// DSA domain sizes accepted: FIPS 186-4 §4.2 defines L in {1024, 2048, 3072} and N in
/// {160, 224, 256}; the bounds also cap verification cost.
const DSA_P_BITS: std::ops::RangeInclusive<usize> = 1024..=3072;
const DSA_Q_BITS: std::ops::RangeInclusive<usize> = 160..=256;

/// A SubjectPublicKeyInfo parsed once; cheap to clone (one `Arc`), `Send + Sync`.
#[derive(Clone)]
pub struct PublicKey {
    inner: Arc<Inner>,
}

struct Inner {
    spki: Vec<u8>,
    bits: usize,
    material: Material,
}

pub(crate) enum Material {
    Rsa(Box<RsaKey>),
    Ec { key_type: KeyType, parsed: ParsedPublicKey },
    Ed25519(ParsedPublicKey),
    Dsa(DsaKey),
}

/// The aws-lc verification algorithms an RSA key may be used with. aws-lc binds a parsed key
/// to one algorithm, so each key keeps one lazily parsed handle per algorithm it meets.
pub(crate) const RSA_LC_SLOTS: usize = 7;

pub(crate) struct RsaKey {
    /// RSAPublicKey DER (RFC 8017 A.1.1), what aws-lc parses.
    pub(crate) rsa_public_key_der: Vec<u8>,
    pub(crate) n: BigUint,
    pub(crate) e: BigUint,
    /// Modulus length in octets (k in RFC 8017).
    pub(crate) k: usize,
    /// An id-RSASSA-PSS key (RFC 4055 §1.2) may only be used for PSS; when it carries
    /// parameters, signatures must use the same hash and at least its salt length (§3.3).
    pub(crate) pss_restriction: Option<Option<PssRestriction>>,
    pub(crate) lc: [OnceLock<Option<ParsedPublicKey>>; RSA_LC_SLOTS],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PssRestriction {
    pub(crate) digest: DigestAlgorithm,
    pub(crate) min_salt_len: usize,
}

pub(crate) struct DsaKey {
    pub(crate) p: BigUint,
    pub(crate) q: BigUint,
    pub(crate) g: BigUint,
    pub(crate) y: BigUint,
    /// Dss-Parms TLV as it appeared (or was inherited), for handing down to subordinates.
    pub(crate) params_der: Vec<u8>,
}

#[derive(asn1::Asn1Read)]
struct Spki<'a> {
    algorithm: asn1::Tlv<'a>,
    subject_public_key: asn1::BitString<'a>,
}

#[derive(asn1::Asn1Read)]
struct RsaPublicKeyAsn1<'a> {
    modulus: asn1::BigUint<'a>,
    public_exponent: asn1::BigUint<'a>,
}

#[derive(asn1::Asn1Read)]
struct DssParms<'a> {
    p: asn1::BigUint<'a>,
    q: asn1::BigUint<'a>,
    g: asn1::BigUint<'a>,
}

fn invalid(what: &str) -> CryptoError {
    CryptoError::InvalidKey(what.to_string())
}

/// Octets of a DER INTEGER known non-negative, without the sign-padding zero.
fn magnitude(bytes: &[u8]) -> &[u8] {
    match bytes.split_first() {
        Some((0, rest)) => rest,
        _ => bytes,
    }
}

fn bit_len(bytes: &[u8]) -> usize {
    let m = magnitude(bytes);
    match m.first() {
        None => 0,
        Some(first) => {
            let top_bits = usize::try_from(u8::BITS - first.leading_zeros()).unwrap_or(8);
            (m.len() - 1) * 8 + top_bits
        }
    }
}

struct SplitSpki<'a> {
    oid: asn1::ObjectIdentifier,
    params: Option<&'a [u8]>,
    key_bits: &'a [u8],
}

fn split_spki(spki_der: &[u8]) -> Result<SplitSpki<'_>, CryptoError> {
    let spki: Spki<'_> = asn1::parse_single(spki_der)
        .map_err(|e| CryptoError::InvalidKey(format!("SubjectPublicKeyInfo is not valid DER: {e}")))?;
    let (oid, params) = der::parse_algorithm_identifier(spki.algorithm.full_data())
        .map_err(|e| CryptoError::InvalidKey(format!("SubjectPublicKeyInfo algorithm: {e}")))?;
    if spki.subject_public_key.padding_bits() != 0 {
        return Err(invalid(
            "subjectPublicKey BIT STRING has unused bits; keys are whole octets",
        ));
    }
    Ok(SplitSpki {
        oid,
        params,
        key_bits: spki.subject_public_key.as_bytes(),
    })
}

impl PublicKey {
    /// Parses a DER SubjectPublicKeyInfo. Supported: rsaEncryption, id-RSASSA-PSS,
    /// id-ecPublicKey on P-256/P-384/P-521 (named curves only, RFC 5480 §2.1.1), Ed25519
    /// (RFC 8410), id-dsa with parameters.
    pub fn from_spki(spki_der: &[u8]) -> Result<Self, CryptoError> {
        Self::parse(spki_der, None)
    }

    /// RFC 5280 §6.1.4 (j)/(k)-style DSA parameter inheritance: a DSA SPKI with absent
    /// parameters takes the issuer's (p, q, g), given as the issuer's Dss-Parms DER (what
    /// [`PublicKey::dsa_params_der`] returns). SPKIs that carry their own parameters, and
    /// non-DSA keys, parse exactly as in [`PublicKey::from_spki`].
    pub fn from_spki_with_inherited_dsa_params(spki_der: &[u8], issuer_params_der: &[u8]) -> Result<Self, CryptoError> {
        Self::parse(spki_der, Some(issuer_params_der))
    }

    /// The Dss-Parms DER of a DSA key (its own or inherited), to pass to subordinates.
    pub fn dsa_params_der(&self) -> Option<Vec<u8>> {
        match &self.inner.material {
            Material::Dsa(d) => Some(d.params_der.clone()),
            _ => None,
        }
    }

    /// True when `spki_der` is a DSA key that carries its own (p, q, g).
    pub fn has_dsa_params(spki_der: &[u8]) -> bool {
        matches!(split_spki(spki_der), Ok(s) if s.oid.as_der() == oid::ID_DSA && s.params.is_some())
    }

    /// True when `spki_der` is a DSA key without parameters, i.e. one that can only be used
    /// through [`PublicKey::from_spki_with_inherited_dsa_params`].
    pub fn needs_inherited_dsa_params(spki_der: &[u8]) -> bool {
        matches!(split_spki(spki_der), Ok(s) if s.oid.as_der() == oid::ID_DSA && s.params.is_none())
    }

    /// Key type.
    pub fn key_type(&self) -> KeyType {
        match &self.inner.material {
            Material::Rsa(_) => KeyType::Rsa,
            Material::Ec { key_type, .. } => *key_type,
            Material::Ed25519(_) => KeyType::Ed25519,
            Material::Dsa(_) => KeyType::Dsa,
        }
    }

    /// Key size in bits: RSA modulus, EC field, 256 for Ed25519, DSA p.
    pub fn bits(&self) -> usize {
        self.inner.bits
    }

    /// The SubjectPublicKeyInfo exactly as given.
    pub fn spki_der(&self) -> &[u8] {
        &self.inner.spki
    }

    pub(crate) fn material(&self) -> &Material {
        &self.inner.material
    }

    fn parse(spki_der: &[u8], inherited: Option<&[u8]>) -> Result<Self, CryptoError> {
        let s = split_spki(spki_der)?;
        let oid_body = s.oid.as_der();
        let (bits, material) = if oid_body == oid::RSA_ENCRYPTION {
            // RFC 3279 §2.3.1: parameters MUST be NULL; absent is tolerated as aws-lc and
            // OpenSSL do, since it changes nothing about the key.
            match s.params {
                None => {}
                Some(p) if p == der::NULL => {}
                Some(_) => return Err(invalid("rsaEncryption key parameters must be NULL (RFC 3279 §2.3.1)")),
            }
            parse_rsa(s.key_bits, None)?
        } else if oid_body == oid::RSASSA_PSS {
            let restriction = match s.params {
                None => None,
                Some(p) => {
                    let pss = super::scheme::parse_pss_params(p).map_err(|e| match e {
                        PssParamsError::Malformed(m) => {
                            CryptoError::InvalidKey(format!("id-RSASSA-PSS key parameters: {m}"))
                        }
                        PssParamsError::Unsupported(m) => CryptoError::UnsupportedAlgorithm(format!(
                            "id-RSASSA-PSS key parameters: {m}; supported: SHA-1/SHA-2 with MGF1 over the same hash, trailerField 1"
                        )),
                    })?;
                    Some(PssRestriction {
                        digest: pss.digest,
                        min_salt_len: pss.salt_len,
                    })
                }
            };
            parse_rsa(s.key_bits, Some(restriction))?
        } else if oid_body == oid::EC_PUBLIC_KEY {
            parse_ec(s.params, s.key_bits)?
        } else if oid_body == oid::ED25519 {
            if s.params.is_some() {
                return Err(invalid("Ed25519 key parameters must be absent (RFC 8410 §3)"));
            }
            let parsed = ParsedPublicKey::new(&lcsig::ED25519, s.key_bits)
                .map_err(|e| CryptoError::InvalidKey(format!("Ed25519 public key rejected: {e}")))?;
            (256, Material::Ed25519(parsed))
        } else if oid_body == oid::ID_DSA {
            let params = match (s.params, inherited) {
                (Some(own), _) => own,
                (None, Some(issuer)) => issuer,
                (None, None) => {
                    return Err(invalid(
                        "DSA key has no parameters; it must inherit them from its issuer \
                         (RFC 3279 §2.3.2): use from_spki_with_inherited_dsa_params",
                    ))
                }
            };
            parse_dsa(params, s.key_bits)?
        } else {
            let dotted = s.oid.to_string();
            return Err(CryptoError::UnsupportedAlgorithm(format!(
                "public key algorithm {dotted}{} is not supported; supported: rsaEncryption, \
                 id-RSASSA-PSS, id-ecPublicKey (P-256, P-384, P-521), Ed25519, id-dsa",
                der::oid_name_suffix(&dotted)
            )));
        };
        Ok(PublicKey {
            inner: Arc::new(Inner {
                spki: spki_der.to_vec(),
                bits,
                material,
            }),
        })
    }
}

fn parse_rsa(
    key_bits: &[u8],
    pss_restriction: Option<Option<PssRestriction>>,
) -> Result<(usize, Material), CryptoError> {
    let rpk: RsaPublicKeyAsn1<'_> = asn1::parse_single(key_bits)
        .map_err(|e| CryptoError::InvalidKey(format!("RSAPublicKey is not valid DER: {e}")))?;
    let n_bytes = magnitude(rpk.modulus.as_bytes());
    let e_bytes = magnitude(rpk.public_exponent.as_bytes());
    let bits = bit_len(n_bytes);
    if bits > MAX_RSA_BITS {
        return Err(CryptoError::InvalidKey(format!(
            "RSA modulus of {bits} bits exceeds the {MAX_RSA_BITS}-bit maximum"
        )));
    }
    // An even or tiny modulus is not an RSA modulus; e must be odd and > 1 (RFC 8017 §3.1).
    if bits < 512 || n_bytes.last().is_some_and(|b| b & 1 == 0) {
        return Err(CryptoError::InvalidKey(format!(
            "RSA modulus of {bits} bits is not a usable modulus (must be odd, at least 512 bits)"
        )));
    }
    let e_bits = bit_len(e_bytes);
    if e_bits < 2 || e_bytes.last().is_some_and(|b| b & 1 == 0) {
        return Err(invalid(
            "RSA public exponent must be odd and at least 3 (RFC 8017 §3.1)",
        ));
    }
    // aws-lc refuses exponents above 33 bits; so do we, which also bounds the cost of the
    // pure-Rust fallback's exponentiation.
    if e_bits > 33 {
        return Err(CryptoError::InvalidKey(format!(
            "RSA public exponent of {e_bits} bits is larger than the 33-bit maximum"
        )));
    }
    let rsa = RsaKey {
        rsa_public_key_der: key_bits.to_vec(),
        n: BigUint::from_bytes_be(n_bytes),
        e: BigUint::from_bytes_be(e_bytes),
        k: n_bytes.len(),
        pss_restriction,
        lc: Default::default(),
    };
    // aws-lc parses the key on first use, per parameter set (`lc_key`): certificates whose
    // keys never verify anything (most leaves during path validation) cost no modular
    // arithmetic. A key aws-lc refuses then verifies through the pure-Rust fallback, whose
    // checks above already reject what is not an RSA public key.
    Ok((bits, Material::Rsa(Box::new(rsa))))
}

impl RsaKey {
    /// aws-lc parameter sets by slot; see [`RsaKey::lc_key`].
    pub(crate) fn lc_params(slot: usize) -> Option<&'static lcsig::RsaParameters> {
        Some(match slot {
            0 => &lcsig::RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY,
            1 => &lcsig::RSA_PKCS1_1024_8192_SHA1_FOR_LEGACY_USE_ONLY,
            2 => &lcsig::RSA_PKCS1_2048_8192_SHA384,
            3 => &lcsig::RSA_PKCS1_1024_8192_SHA512_FOR_LEGACY_USE_ONLY,
            4 => &lcsig::RSA_PSS_2048_8192_SHA256,
            5 => &lcsig::RSA_PSS_2048_8192_SHA384,
            6 => &lcsig::RSA_PSS_2048_8192_SHA512,
            _ => return None,
        })
    }

    /// The aws-lc key bound to parameter set `slot`, parsed on first use.
    pub(crate) fn lc_key(&self, slot: usize) -> Option<&ParsedPublicKey> {
        let cell = self.lc.get(slot)?;
        cell.get_or_init(|| {
            let params = Self::lc_params(slot)?;
            ParsedPublicKey::new(params, &self.rsa_public_key_der).ok()
        })
        .as_ref()
    }
}

fn parse_ec(params: Option<&[u8]>, point: &[u8]) -> Result<(usize, Material), CryptoError> {
    // RFC 5480 §2.1.1: parameters MUST be present and, in PKIX, MUST be a namedCurve.
    let params = params.ok_or_else(|| invalid("id-ecPublicKey key without curve parameters"))?;
    let curve: asn1::ObjectIdentifier = asn1::parse_single(params).map_err(|_| {
        invalid("EC key parameters are not a named curve OID (implicitCurve and specifiedCurve are not allowed, RFC 5480 §2.1.1)")
    })?;
    let (key_type, bits, alg): (KeyType, usize, &'static lcsig::EcdsaVerificationAlgorithm) = match curve.as_der() {
        c if c == oid::P256 => (KeyType::EcP256, 256, &lcsig::ECDSA_P256_SHA256_ASN1),
        c if c == oid::P384 => (KeyType::EcP384, 384, &lcsig::ECDSA_P384_SHA384_ASN1),
        c if c == oid::P521 => (KeyType::EcP521, 521, &lcsig::ECDSA_P521_SHA512_ASN1),
        _ => {
            let dotted = curve.to_string();
            return Err(CryptoError::UnsupportedAlgorithm(format!(
                "elliptic curve {dotted}{} is not supported; supported: P-256, P-384, P-521",
                der::oid_name_suffix(&dotted)
            )));
        }
    };
    let parsed = ParsedPublicKey::new(alg, point).map_err(|e| {
        CryptoError::InvalidKey(format!(
            "{} public point rejected (not on the curve or badly encoded): {e}",
            key_type.name()
        ))
    })?;
    Ok((bits, Material::Ec { key_type, parsed }))
}

fn parse_dsa(params_der: &[u8], key_bits: &[u8]) -> Result<(usize, Material), CryptoError> {
    let parms: DssParms<'_> = asn1::parse_single(params_der)
        .map_err(|e| CryptoError::InvalidKey(format!("DSA Dss-Parms is not valid DER: {e}")))?;
    let y: asn1::BigUint<'_> = asn1::parse_single(key_bits)
        .map_err(|e| CryptoError::InvalidKey(format!("DSA public key is not a DER INTEGER: {e}")))?;
    let p_bits = bit_len(parms.p.as_bytes());
    let q_bits = bit_len(parms.q.as_bytes());
    if !DSA_P_BITS.contains(&p_bits) || !DSA_Q_BITS.contains(&q_bits) {
        return Err(CryptoError::InvalidKey(format!(
            "DSA domain of {p_bits}/{q_bits} bits is outside FIPS 186-4 sizes (p 1024..3072, q 160..256)"
        )));
    }
    let p = BigUint::from_bytes_be(parms.p.as_bytes());
    let q = BigUint::from_bytes_be(parms.q.as_bytes());
    let g = BigUint::from_bytes_be(parms.g.as_bytes());
    let y = BigUint::from_bytes_be(y.as_bytes());
    let one = BigUint::one();
    // FIPS 186-4 §4.1 domain relations; without them a key can make forged signatures
    // verify (e.g. g = 1 or y = 1 accepts r = 1 for any message).
    if (&p - &one) % &q != BigUint::zero() {
        return Err(invalid("DSA parameters are inconsistent: q does not divide p-1"));
    }
    if g <= one || g >= p || y <= one || y >= p {
        return Err(invalid("DSA g and y must lie in (1, p)"));
    }
    if g.modpow(&q, &p) != one || y.modpow(&q, &p) != one {
        return Err(invalid("DSA g or y is not in the order-q subgroup (FIPS 186-4 §4.1)"));
    }
    Ok((
        p_bits,
        Material::Dsa(DsaKey {
            p,
            q,
            g,
            y,
            params_der: params_der.to_vec(),
        }),
    ))
}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PublicKey({}, {} bits)", self.key_type().name(), self.bits())
    }
}
