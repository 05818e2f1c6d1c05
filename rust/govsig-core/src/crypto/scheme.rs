//! The signature algorithm table: AlgorithmIdentifier DER bytes -> scheme -> verifier.

use aws_lc_rs::digest as lcdigest;

use super::der;
use super::digest::DigestAlgorithm;
use super::fallback;
use super::key::{KeyType, Material, PublicKey, RsaKey};
use super::oid;
use super::CryptoError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    RsaPkcs1,
    /// RSASSA-PSS with MGF1 over the same hash and trailer 0xbc; `salt_len` in octets.
    RsaPss {
        salt_len: usize,
    },
    Ecdsa,
    Ed25519,
    Dsa,
}

/// A signature algorithm with all its parameters fixed, ready to verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureScheme {
    kind: Kind,
    digest: Option<DigestAlgorithm>,
    name: &'static str,
}

const fn scheme(kind: Kind, digest: Option<DigestAlgorithm>, name: &'static str) -> SignatureScheme {
    SignatureScheme { kind, digest, name }
}

use DigestAlgorithm::{Sha1, Sha224, Sha256, Sha384, Sha3_256, Sha3_384, Sha3_512, Sha512};

const SHA1_RSA: SignatureScheme = scheme(Kind::RsaPkcs1, Some(Sha1), "sha1WithRSAEncryption");
const SHA224_RSA: SignatureScheme = scheme(Kind::RsaPkcs1, Some(Sha224), "sha224WithRSAEncryption");
const SHA256_RSA: SignatureScheme = scheme(Kind::RsaPkcs1, Some(Sha256), "sha256WithRSAEncryption");
const SHA384_RSA: SignatureScheme = scheme(Kind::RsaPkcs1, Some(Sha384), "sha384WithRSAEncryption");
const SHA512_RSA: SignatureScheme = scheme(Kind::RsaPkcs1, Some(Sha512), "sha512WithRSAEncryption");
const ECDSA_SHA1: SignatureScheme = scheme(Kind::Ecdsa, Some(Sha1), "ecdsa-with-SHA1");
const ECDSA_SHA224: SignatureScheme = scheme(Kind::Ecdsa, Some(Sha224), "ecdsa-with-SHA224");
const ECDSA_SHA256: SignatureScheme = scheme(Kind::Ecdsa, Some(Sha256), "ecdsa-with-SHA256");
const ECDSA_SHA384: SignatureScheme = scheme(Kind::Ecdsa, Some(Sha384), "ecdsa-with-SHA384");
const ECDSA_SHA512: SignatureScheme = scheme(Kind::Ecdsa, Some(Sha512), "ecdsa-with-SHA512");
const ED25519: SignatureScheme = scheme(Kind::Ed25519, None, "ed25519");
const SHA3_256_RSA: SignatureScheme = scheme(Kind::RsaPkcs1, Some(Sha3_256), "id-rsassa-pkcs1-v1_5-with-sha3-256");
const SHA3_384_RSA: SignatureScheme = scheme(Kind::RsaPkcs1, Some(Sha3_384), "id-rsassa-pkcs1-v1_5-with-sha3-384");
const SHA3_512_RSA: SignatureScheme = scheme(Kind::RsaPkcs1, Some(Sha3_512), "id-rsassa-pkcs1-v1_5-with-sha3-512");
const ECDSA_SHA3_256: SignatureScheme = scheme(Kind::Ecdsa, Some(Sha3_256), "id-ecdsa-with-sha3-256");
const ECDSA_SHA3_384: SignatureScheme = scheme(Kind::Ecdsa, Some(Sha3_384), "id-ecdsa-with-sha3-384");
const ECDSA_SHA3_512: SignatureScheme = scheme(Kind::Ecdsa, Some(Sha3_512), "id-ecdsa-with-sha3-512");
const DSA_SHA1: SignatureScheme = scheme(Kind::Dsa, Some(Sha1), "dsa-with-sha1");
const DSA_SHA224: SignatureScheme = scheme(Kind::Dsa, Some(Sha224), "dsa-with-sha224");
const DSA_SHA256: SignatureScheme = scheme(Kind::Dsa, Some(Sha256), "dsa-with-sha256");
const PSS_NAME: &str = "rsassa-pss";

/// Exact AlgorithmIdentifier encodings (full TLV) accepted, as rustls-webpki matches them.
/// PKCS#1 v1.5 appears with NULL and with absent parameters: RFC 4055 §5 says parameters
/// MUST be NULL yet implementations MUST accept them absent. ECDSA (RFC 5758 §3.2), DSA
/// (RFC 5758 §3.1) and Ed25519 (RFC 8410 §3) parameters MUST be absent, so only that form
/// is listed. RSASSA-PSS is listed in its three common encodings (hash = MGF1 hash, salt =
/// hash length); other PSS parameter sets are parsed by [`parse_pss_params`].
#[rustfmt::skip] // one entry per line: the bytes are the point
static TABLE: &[(&[u8], SignatureScheme)] = &[
    (&[0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b, 0x05, 0x00], SHA256_RSA),
    (&[0x30, 0x0b, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b], SHA256_RSA),
    (&[0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0c, 0x05, 0x00], SHA384_RSA),
    (&[0x30, 0x0b, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0c], SHA384_RSA),
    (&[0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0d, 0x05, 0x00], SHA512_RSA),
    (&[0x30, 0x0b, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0d], SHA512_RSA),
    (&[0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0e, 0x05, 0x00], SHA224_RSA),
    (&[0x30, 0x0b, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0e], SHA224_RSA),
    (&[0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x05, 0x05, 0x00], SHA1_RSA),
    (&[0x30, 0x0b, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x05], SHA1_RSA),
    (&[0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02], ECDSA_SHA256),
    (&[0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03], ECDSA_SHA384),
    (&[0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x04], ECDSA_SHA512),
    (&[0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x01], ECDSA_SHA224),
    (&[0x30, 0x09, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x01], ECDSA_SHA1),
    (&[0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70], ED25519),
    (&[0x30, 0x41, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a, 0x30, 0x34, 0xa0, 0x0f, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0xa1, 0x1c, 0x30, 0x1a, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x08, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0xa2, 0x03, 0x02, 0x01, 0x20],
        scheme(Kind::RsaPss { salt_len: 32 }, Some(Sha256), PSS_NAME)),
    (&[0x30, 0x41, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a, 0x30, 0x34, 0xa0, 0x0f, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0xa1, 0x1c, 0x30, 0x1a, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x08, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0xa2, 0x03, 0x02, 0x01, 0x30],
        scheme(Kind::RsaPss { salt_len: 48 }, Some(Sha384), PSS_NAME)),
    (&[0x30, 0x41, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a, 0x30, 0x34, 0xa0, 0x0f, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0xa1, 0x1c, 0x30, 0x1a, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x08, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0xa2, 0x03, 0x02, 0x01, 0x40],
        scheme(Kind::RsaPss { salt_len: 64 }, Some(Sha512), PSS_NAME)),
    // SHA-3 (NIST CSOR sigAlgs 14..16 and 10..12; RFC 9688 for CMS): PKCS#1 v1.5 with NULL
    // or absent parameters like its SHA-2 siblings, ECDSA with parameters absent.
    (&[0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x03, 0x0e, 0x05, 0x00], SHA3_256_RSA),
    (&[0x30, 0x0b, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x03, 0x0e], SHA3_256_RSA),
    (&[0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x03, 0x0f, 0x05, 0x00], SHA3_384_RSA),
    (&[0x30, 0x0b, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x03, 0x0f], SHA3_384_RSA),
    (&[0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x03, 0x10, 0x05, 0x00], SHA3_512_RSA),
    (&[0x30, 0x0b, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x03, 0x10], SHA3_512_RSA),
    (&[0x30, 0x0b, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x03, 0x0a], ECDSA_SHA3_256),
    (&[0x30, 0x0b, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x03, 0x0b], ECDSA_SHA3_384),
    (&[0x30, 0x0b, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x03, 0x0c], ECDSA_SHA3_512),
    (&[0x30, 0x09, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x38, 0x04, 0x03], DSA_SHA1),
    (&[0x30, 0x0b, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x03, 0x01], DSA_SHA224),
    (&[0x30, 0x0b, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x03, 0x02], DSA_SHA256),
];

/// Names and OIDs of what the table supports, for "unsupported" messages and for
/// recognising a known OID that arrived with the wrong parameters.
const KNOWN_OIDS: &[(&str, &str, &str)] = &[
    (
        "1.2.840.113549.1.1.5",
        "sha1WithRSAEncryption",
        "parameters must be NULL or absent (RFC 4055 §5)",
    ),
    (
        "1.2.840.113549.1.1.14",
        "sha224WithRSAEncryption",
        "parameters must be NULL or absent (RFC 4055 §5)",
    ),
    (
        "1.2.840.113549.1.1.11",
        "sha256WithRSAEncryption",
        "parameters must be NULL or absent (RFC 4055 §5)",
    ),
    (
        "1.2.840.113549.1.1.12",
        "sha384WithRSAEncryption",
        "parameters must be NULL or absent (RFC 4055 §5)",
    ),
    (
        "1.2.840.113549.1.1.13",
        "sha512WithRSAEncryption",
        "parameters must be NULL or absent (RFC 4055 §5)",
    ),
    (
        "1.2.840.113549.1.1.10",
        PSS_NAME,
        "parameters must be RSASSA-PSS-params (RFC 4055 §3.1)",
    ),
    (
        "1.2.840.10045.4.1",
        "ecdsa-with-SHA1",
        "parameters must be absent (RFC 5758 §3.2)",
    ),
    (
        "1.2.840.10045.4.3.1",
        "ecdsa-with-SHA224",
        "parameters must be absent (RFC 5758 §3.2)",
    ),
    (
        "1.2.840.10045.4.3.2",
        "ecdsa-with-SHA256",
        "parameters must be absent (RFC 5758 §3.2)",
    ),
    (
        "1.2.840.10045.4.3.3",
        "ecdsa-with-SHA384",
        "parameters must be absent (RFC 5758 §3.2)",
    ),
    (
        "1.2.840.10045.4.3.4",
        "ecdsa-with-SHA512",
        "parameters must be absent (RFC 5758 §3.2)",
    ),
    ("1.3.101.112", "ed25519", "parameters must be absent (RFC 8410 §3)"),
    (
        "2.16.840.1.101.3.4.3.14",
        "id-rsassa-pkcs1-v1_5-with-sha3-256",
        "parameters must be NULL or absent (RFC 9688 §4)",
    ),
    (
        "2.16.840.1.101.3.4.3.15",
        "id-rsassa-pkcs1-v1_5-with-sha3-384",
        "parameters must be NULL or absent (RFC 9688 §4)",
    ),
    (
        "2.16.840.1.101.3.4.3.16",
        "id-rsassa-pkcs1-v1_5-with-sha3-512",
        "parameters must be NULL or absent (RFC 9688 §4)",
    ),
    (
        "2.16.840.1.101.3.4.3.10",
        "id-ecdsa-with-sha3-256",
        "parameters must be absent (RFC 9688 §5)",
    ),
    (
        "2.16.840.1.101.3.4.3.11",
        "id-ecdsa-with-sha3-384",
        "parameters must be absent (RFC 9688 §5)",
    ),
    (
        "2.16.840.1.101.3.4.3.12",
        "id-ecdsa-with-sha3-512",
        "parameters must be absent (RFC 9688 §5)",
    ),
    (
        "1.2.840.10040.4.3",
        "dsa-with-sha1",
        "parameters must be absent (RFC 3279 §2.2.2)",
    ),
    (
        "2.16.840.1.101.3.4.3.1",
        "dsa-with-sha224",
        "parameters must be absent (RFC 5758 §3.1)",
    ),
    (
        "2.16.840.1.101.3.4.3.2",
        "dsa-with-sha256",
        "parameters must be absent (RFC 5758 §3.1)",
    ),
];

/// Signature algorithms over SHA3-224 (NIST CSOR sigAlgs), refused by name: aws-lc-rs has no
/// SHA3-224.
const SHA3_224_SIGNATURES: &[(&str, &str)] = &[
    ("2.16.840.1.101.3.4.3.5", "id-dsa-with-sha3-224"),
    ("2.16.840.1.101.3.4.3.9", "id-ecdsa-with-sha3-224"),
    ("2.16.840.1.101.3.4.3.13", "id-rsassa-pkcs1-v1_5-with-sha3-224"),
];

/// The names of every supported signature algorithm, for messages and listings.
pub fn supported_signature_algorithms() -> Vec<&'static str> {
    KNOWN_OIDS.iter().map(|(_, name, _)| *name).collect()
}

fn supported_list() -> String {
    supported_signature_algorithms().join(", ")
}

fn unsupported(dotted: &str, why: &str) -> CryptoError {
    CryptoError::UnsupportedAlgorithm(format!(
        "signature algorithm {dotted}{}: {why}; supported: {}",
        der::oid_name_suffix(dotted),
        supported_list()
    ))
}

/// RSASSA-PSS-params (RFC 4055 §3.1), all fields EXPLICIT-tagged with DEFAULTs.
#[derive(asn1::Asn1Read)]
struct PssParamsAsn1<'a> {
    #[explicit(0)]
    hash_algorithm: Option<asn1::Tlv<'a>>,
    #[explicit(1)]
    mask_gen_algorithm: Option<asn1::Tlv<'a>>,
    #[explicit(2)]
    salt_length: Option<u64>,
    #[explicit(3)]
    trailer_field: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PssParams {
    pub(crate) digest: DigestAlgorithm,
    pub(crate) salt_len: usize,
}

/// Why RSASSA-PSS-params were refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PssParamsError {
    /// Not DER, or not the RFC 4055 structure.
    Malformed(String),
    /// Well-formed but outside what we verify (a hash we lack, MGF1 hash != hash, ...).
    Unsupported(String),
}

impl std::fmt::Display for PssParamsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Malformed(m) | Self::Unsupported(m) => f.write_str(m),
        }
    }
}

/// Parses RSASSA-PSS-params. DEFAULT values (SHA-1, MGF1-SHA-1, salt 20, trailer 1) apply
/// when a field is absent. Only MGF1 with the same hash as the message hash is accepted:
/// RFC 4055 §3.1 recommends it and the profiles we serve use nothing else.
pub(crate) fn parse_pss_params(params: &[u8]) -> Result<PssParams, PssParamsError> {
    use PssParamsError::{Malformed, Unsupported};
    let p: PssParamsAsn1<'_> = asn1::parse_single(params).map_err(|e| {
        Malformed(format!(
            "RSASSA-PSS-params is not valid DER: {}",
            govsig_asn1::common::explain(&e)
        ))
    })?;
    let digest = match p.hash_algorithm {
        None => Sha1,
        Some(t) => DigestAlgorithm::from_algorithm_identifier(t.full_data())
            .map_err(|e| Unsupported(format!("hashAlgorithm: {e}")))?,
    };
    let mgf_hash = match p.mask_gen_algorithm {
        None => Sha1,
        Some(t) => {
            let (mgf_oid, mgf_params) = der::parse_algorithm_identifier(t.full_data())
                .map_err(|e| Malformed(format!("maskGenAlgorithm: {e}")))?;
            if mgf_oid.as_der() != oid::MGF1 {
                return Err(Unsupported(format!(
                    "maskGenAlgorithm {mgf_oid} is not supported; only id-mgf1 (1.2.840.113549.1.1.8)"
                )));
            }
            let hp = mgf_params.ok_or_else(|| Malformed("id-mgf1 without a hash algorithm parameter".to_string()))?;
            DigestAlgorithm::from_algorithm_identifier(hp).map_err(|e| Unsupported(format!("MGF1 hash: {e}")))?
        }
    };
    if mgf_hash != digest {
        return Err(Unsupported(format!(
            "MGF1 hash {} differs from the message hash {}; only equal hashes are supported",
            mgf_hash.name(),
            digest.name()
        )));
    }
    let salt_len = usize::try_from(p.salt_length.unwrap_or(20))
        .map_err(|_| Malformed("saltLength does not fit in memory".to_string()))?;
    if p.trailer_field.unwrap_or(1) != 1 {
        return Err(Unsupported(
            "trailerField must be 1 (trailerFieldBC, RFC 4055 §3.1)".to_string(),
        ));
    }
    Ok(PssParams { digest, salt_len })
}

/// Signature algorithms over MD2 and MD5 (RFC 3279 §2.2.1; RFC 6151 on MD5's collisions).
const BROKEN_SIGNATURE_OIDS: &[(&str, &str)] = &[
    ("1.2.840.113549.1.1.2", "md2WithRSAEncryption"),
    ("1.2.840.113549.1.1.4", "md5WithRSAEncryption"),
];

impl SignatureScheme {
    /// X.509 / CRL / OCSP `signatureAlgorithm` (full TLV), matched by exact DER bytes.
    pub fn from_algorithm_identifier(der_bytes: &[u8]) -> Result<Self, CryptoError> {
        if let Some((_, s)) = TABLE.iter().find(|(d, _)| *d == der_bytes) {
            return Ok(s.clone());
        }
        let (oid_val, params) = der::parse_algorithm_identifier(der_bytes)?;
        if oid_val.as_der() == oid::RSASSA_PSS {
            let p = params.ok_or_else(|| {
                unsupported(
                    "1.2.840.113549.1.1.10",
                    "rsassa-pss without parameters (RFC 4055 §3.1 requires them in signatures)",
                )
            })?;
            let pss = parse_pss_params(p).map_err(|why| {
                unsupported(
                    "1.2.840.113549.1.1.10",
                    &format!("rsassa-pss parameters not accepted: {why}"),
                )
            })?;
            return Ok(scheme(
                Kind::RsaPss { salt_len: pss.salt_len },
                Some(pss.digest),
                PSS_NAME,
            ));
        }
        let dotted = oid_val.to_string();
        // Broken hashes are refused by policy whatever the policy (collisions are practical),
        // and said so: "not allowed", never "unsupported" nor a bad signature.
        if let Some(name) = BROKEN_SIGNATURE_OIDS.iter().find(|(o, _)| *o == dotted).map(|(_, n)| n) {
            return Err(CryptoError::LegacyNotAllowed(format!(
                "{name} ({dotted}) uses a broken hash and is never allowed, even with legacy=True"
            )));
        }
        // The SHA3-224 members of the NIST sigAlgs arc: named, and refused for the backend.
        if let Some(name) = SHA3_224_SIGNATURES.iter().find(|(o, _)| *o == dotted).map(|(_, n)| n) {
            return Err(super::digest::sha3_224_unsupported(&format!(
                "signature algorithm {name} ({dotted}): "
            )));
        }
        match KNOWN_OIDS.iter().find(|(o, _, _)| *o == dotted) {
            Some((_, name, rule)) => Err(unsupported(
                &dotted,
                &format!("{name} with these parameters is not accepted: {rule}"),
            )),
            None => Err(unsupported(&dotted, "not supported")),
        }
    }

    /// CMS `SignerInfo.signatureAlgorithm` with the SignerInfo's `digestAlgorithm`.
    /// A bare key algorithm (rsaEncryption, id-ecPublicKey, id-dsa; parameters absent or
    /// NULL) takes its hash from `digest` (RFC 5754 §3, RFC 5753 §2.1.1, RFC 5758); a full
    /// signature algorithm must name the same hash as `digest` (RFC 5652 §5.4 hashes the
    /// signed attributes with digestAlgorithm), except Ed25519, which hashes internally and
    /// requires digestAlgorithm SHA-512 (RFC 8419 §3).
    pub fn for_cms(signature_alg_der: &[u8], digest: DigestAlgorithm) -> Result<Self, CryptoError> {
        let (oid_val, params) = der::parse_algorithm_identifier(signature_alg_der)?;
        let body = oid_val.as_der();
        if body == oid::RSA_ENCRYPTION || body == oid::EC_PUBLIC_KEY || body == oid::ID_DSA {
            if params.is_some_and(|p| p != der::NULL) {
                return Err(unsupported(
                    &oid_val.to_string(),
                    "as a CMS signatureAlgorithm, parameters must be absent or NULL",
                ));
            }
            let candidates: &[SignatureScheme] = if body == oid::RSA_ENCRYPTION {
                &[
                    SHA1_RSA,
                    SHA224_RSA,
                    SHA256_RSA,
                    SHA384_RSA,
                    SHA512_RSA,
                    SHA3_256_RSA,
                    SHA3_384_RSA,
                    SHA3_512_RSA,
                ]
            } else if body == oid::EC_PUBLIC_KEY {
                &[
                    ECDSA_SHA1,
                    ECDSA_SHA224,
                    ECDSA_SHA256,
                    ECDSA_SHA384,
                    ECDSA_SHA512,
                    ECDSA_SHA3_256,
                    ECDSA_SHA3_384,
                    ECDSA_SHA3_512,
                ]
            } else {
                &[DSA_SHA1, DSA_SHA224, DSA_SHA256]
            };
            return candidates
                .iter()
                .find(|s| s.digest == Some(digest))
                .cloned()
                .ok_or_else(|| {
                    unsupported(
                        &oid_val.to_string(),
                        &format!(
                            "digestAlgorithm {} is not defined with this key algorithm (RFC 5754 §3, RFC 5758 §3.1, RFC 9688)",
                            digest.name()
                        ),
                    )
                });
        }
        let s = Self::from_algorithm_identifier(signature_alg_der)?;
        match s.digest {
            None if digest == Sha512 => Ok(s),
            None => Err(CryptoError::UnsupportedAlgorithm(format!(
                "ed25519 in CMS requires digestAlgorithm sha512 (RFC 8419 §3.1), got {}",
                digest.name()
            ))),
            Some(d) if d == digest => Ok(s),
            Some(d) => Err(CryptoError::UnsupportedAlgorithm(format!(
                "signatureAlgorithm {} hashes with {} but digestAlgorithm is {}; they must match",
                s.name,
                d.name(),
                digest.name()
            ))),
        }
    }

    /// RFC-style name: "sha256WithRSAEncryption", "rsassa-pss", "ecdsa-with-SHA256",
    /// "ed25519", "dsa-with-sha256".
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The hash signed over; `None` for Ed25519 (PureEdDSA hashes internally).
    pub fn digest(&self) -> Option<DigestAlgorithm> {
        self.digest
    }

    /// PSS salt length in octets; `None` for other schemes.
    pub fn pss_salt_length(&self) -> Option<usize> {
        match self.kind {
            Kind::RsaPss { salt_len } => Some(salt_len),
            _ => None,
        }
    }

    /// SHA-1 anything and DSA are legacy: accepted only when the policy allows legacy.
    pub fn is_legacy(&self) -> bool {
        self.kind == Kind::Dsa || self.digest.is_some_and(|d| d.is_legacy())
    }

    /// Whether this scheme can be verified with a key of `key_type`.
    pub fn accepts_key_type(&self, key_type: KeyType) -> bool {
        match self.kind {
            Kind::RsaPkcs1 | Kind::RsaPss { .. } => key_type == KeyType::Rsa,
            Kind::Ecdsa => matches!(key_type, KeyType::EcP256 | KeyType::EcP384 | KeyType::EcP521),
            Kind::Ed25519 => key_type == KeyType::Ed25519,
            Kind::Dsa => key_type == KeyType::Dsa,
        }
    }

    /// Verifies `signature` over `message` (the message itself, not its digest) with `key`.
    /// Checks, in order: key type against scheme, the legacy gate, the RSA minimum size
    /// (`min_rsa_bits`, 0 = none), then the signature.
    pub fn verify(
        &self,
        key: &PublicKey,
        message: &[u8],
        signature: &[u8],
        legacy_allowed: bool,
        min_rsa_bits: usize,
    ) -> Result<(), CryptoError> {
        let key_type = key.key_type();
        if !self.accepts_key_type(key_type) {
            return Err(CryptoError::KeyAlgorithmMismatch(format!(
                "{} signature cannot be verified with a {} key",
                self.name,
                key_type.name()
            )));
        }
        if self.is_legacy() && !legacy_allowed {
            return Err(CryptoError::LegacyNotAllowed(format!(
                "{} is a legacy algorithm ({}) and the policy does not allow legacy algorithms",
                self.name,
                if self.kind == Kind::Dsa { "DSA" } else { "SHA-1" }
            )));
        }
        if key_type == KeyType::Rsa && key.bits() < min_rsa_bits {
            return Err(CryptoError::WeakKey(format!(
                "RSA key of {} bits is below the required minimum of {min_rsa_bits} bits",
                key.bits()
            )));
        }
        match (self.kind, key.material(), self.digest) {
            (Kind::RsaPkcs1, Material::Rsa(rsa), Some(d)) => verify_rsa_pkcs1(rsa, key.bits(), d, message, signature),
            (Kind::RsaPss { salt_len }, Material::Rsa(rsa), Some(d)) => {
                verify_rsa_pss(rsa, key.bits(), d, salt_len, message, signature)
            }
            (Kind::Ecdsa, Material::Ec { key_type, parsed }, Some(d)) => {
                verify_ecdsa(*key_type, parsed, d, message, signature)
            }
            (Kind::Ed25519, Material::Ed25519(parsed), None) => parsed
                .verify_sig(message, signature)
                .map_err(|_| CryptoError::BadSignature),
            (Kind::Dsa, Material::Dsa(dsa), Some(d)) => fallback::dsa_verify(dsa, &d.digest(message), signature),
            _ => Err(CryptoError::KeyAlgorithmMismatch(format!(
                "{} signature cannot be verified with a {} key",
                self.name,
                key_type.name()
            ))),
        }
    }
}

/// aws-lc slot for PKCS#1 v1.5 with `d` (see `RsaKey::lc_params`), with the key sizes it allows.
fn pkcs1_slot(d: DigestAlgorithm) -> Option<(usize, std::ops::RangeInclusive<usize>)> {
    match d {
        Sha256 => Some((0, 1024..=8192)),
        Sha1 => Some((1, 1024..=8192)),
        Sha384 => Some((2, 2048..=8192)),
        Sha512 => Some((3, 1024..=8192)),
        // aws-lc-rs has no PKCS#1 verification parameters for SHA-224 or SHA-3.
        Sha224 | Sha3_256 | Sha3_384 | Sha3_512 => None,
    }
}

fn verify_rsa_pkcs1(
    rsa: &RsaKey,
    bits: usize,
    d: DigestAlgorithm,
    message: &[u8],
    signature: &[u8],
) -> Result<(), CryptoError> {
    if rsa.pss_restriction.is_some() {
        return Err(CryptoError::KeyAlgorithmMismatch(
            "an id-RSASSA-PSS key may only verify RSASSA-PSS signatures (RFC 4055 §1.2)".to_string(),
        ));
    }
    if let Some((slot, range)) = pkcs1_slot(d) {
        if range.contains(&bits) {
            if let Some(lc) = rsa.lc_key(slot) {
                return lc.verify_sig(message, signature).map_err(|_| CryptoError::BadSignature);
            }
        }
    }
    fallback::rsa_pkcs1_verify(rsa, d, &d.digest(message), signature)
}

fn verify_rsa_pss(
    rsa: &RsaKey,
    bits: usize,
    d: DigestAlgorithm,
    salt_len: usize,
    message: &[u8],
    signature: &[u8],
) -> Result<(), CryptoError> {
    if let Some(Some(r)) = rsa.pss_restriction {
        // RFC 4055 §3.3: a key's PSS parameters bind the hash and the minimum salt length.
        if r.digest != d || salt_len < r.min_salt_len {
            return Err(CryptoError::KeyAlgorithmMismatch(format!(
                "the key is restricted to RSASSA-PSS with {} and salt >= {}, the signature uses {} with salt {salt_len}",
                r.digest.name(),
                r.min_salt_len,
                d.name()
            )));
        }
    }
    // aws-lc's PSS verification only takes salt length = hash length, SHA-2 >= 256, 2048..8192.
    let slot = match d {
        Sha256 => Some(4),
        Sha384 => Some(5),
        Sha512 => Some(6),
        Sha1 | Sha224 | Sha3_256 | Sha3_384 | Sha3_512 => None,
    };
    if let Some(slot) = slot {
        if salt_len == d.output_len() && (2048..=8192).contains(&bits) {
            if let Some(lc) = rsa.lc_key(slot) {
                return lc.verify_sig(message, signature).map_err(|_| CryptoError::BadSignature);
            }
        }
    }
    fallback::rsa_pss_verify(rsa, d, &d.digest(message), salt_len, signature)
}

// Parsed only to enforce strict DER; aws-lc reads the values itself.
#[allow(dead_code)]
#[derive(asn1::Asn1Read)]
struct EcdsaSigValue<'a> {
    r: asn1::BigUint<'a>,
    s: asn1::BigUint<'a>,
}

fn verify_ecdsa(
    key_type: KeyType,
    parsed: &aws_lc_rs::signature::ParsedPublicKey,
    d: DigestAlgorithm,
    message: &[u8],
    signature: &[u8],
) -> Result<(), CryptoError> {
    // Ecdsa-Sig-Value (RFC 5480 §2.2.3 / RFC 3279 §2.2.3) must be strict DER: minimal,
    // non-negative INTEGERs and nothing trailing. Accepting other encodings makes
    // signatures malleable (one valid signature yields many byte strings).
    if asn1::parse_single::<EcdsaSigValue<'_>>(signature).is_err() {
        return Err(CryptoError::BadSignature);
    }
    // aws-lc binds a parsed EC key to one hash, but ECDSA itself only consumes the hash as
    // an integer truncated to the order's bit length (SEC 1 §4.1.4 step 5). Presenting the
    // hash as the curve's native-size digest (left-padded with zeros, or cut to its leftmost
    // octets, which for these curves are whole octets) gives aws-lc exactly that integer,
    // so one parsed key serves every hash.
    let (native, native_len) = match key_type {
        KeyType::EcP256 => (&lcdigest::SHA256, 32),
        KeyType::EcP384 => (&lcdigest::SHA384, 48),
        _ => (&lcdigest::SHA512, 64),
    };
    let h = d.digest(message);
    let mut e = vec![0u8; native_len];
    if h.len() >= native_len {
        e.copy_from_slice(&h[..native_len]);
    } else {
        e[native_len - h.len()..].copy_from_slice(&h);
    }
    let digest = lcdigest::Digest::import_less_safe(&e, native).map_err(|_| CryptoError::BadSignature)?;
    parsed
        .verify_digest_sig(&digest, signature)
        .map_err(|_| CryptoError::BadSignature)
}

#[cfg(test)]
pub(crate) fn table_for_tests() -> &'static [(&'static [u8], SignatureScheme)] {
    TABLE
}
