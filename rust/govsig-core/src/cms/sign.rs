//! CMS SignedData creation (RFC 5652 §5), sans key.
//!
//! [`CmsSigner`] builds the signed attributes (contentType, messageDigest, signingTime, ESS
//! signing-certificate-v2, CMSAlgorithmProtection), hands their DER `SET OF` to a [`Signer`]
//! for the signature, and assembles the ContentInfo. Where the private key lives is the
//! `Signer`'s business: [`SoftwareKey`] signs with aws-lc-rs here; a PKCS#11 token signer
//! implements the trait outside this crate (govsig-core stays free of FFI and of Python).

// asn1's derive(Asn1Read) returns its (large) ParseError by value; nothing to do about it here.
#![allow(clippy::result_large_err)]

use std::fmt;
use std::sync::Arc;

use asn1::{BigInt, ObjectIdentifier, SequenceOfWriter, SetOfWriter, Tlv};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self as lcsig, KeyPair};
use govsig_asn1::cms::oid as cms_oid;
use govsig_asn1::cms_write::{self as w, oid as woid};
use rayon::prelude::*;

use crate::crypto::{DigestAlgorithm, KeyType};
use crate::time::UnixTime;
use crate::x509::Certificate;

/// A signature scheme a [`Signer`] is asked to apply to the DER of the signed attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SignScheme {
    /// RSASSA-PKCS1-v1_5 (RFC 8017 §8.2).
    RsaPkcs1(DigestAlgorithm),
    /// RSASSA-PSS (RFC 8017 §8.1), MGF1 with the same hash, salt as long as the hash (RFC 4056 §3).
    RsaPss(DigestAlgorithm),
    /// ECDSA, signature as DER Ecdsa-Sig-Value (RFC 5753 §7.2).
    Ecdsa(DigestAlgorithm),
    /// PureEdDSA Ed25519 (RFC 8032 §5.1), 64 raw octets (RFC 8419 §3).
    Ed25519,
}

impl SignScheme {
    /// The CMS digestAlgorithm: the hash of the content and of the signed attributes.
    /// Ed25519 hashes internally; RFC 8419 §3 fixes SHA-512 for messageDigest.
    pub fn digest(&self) -> DigestAlgorithm {
        match self {
            SignScheme::RsaPkcs1(d) | SignScheme::RsaPss(d) | SignScheme::Ecdsa(d) => *d,
            SignScheme::Ed25519 => DigestAlgorithm::Sha512,
        }
    }

    /// A name for messages: "RSA-PSS with sha384".
    pub fn describe(&self) -> String {
        match self {
            SignScheme::RsaPkcs1(d) => format!("RSA PKCS#1 v1.5 with {}", d.name()),
            SignScheme::RsaPss(d) => format!("RSA-PSS with {}", d.name()),
            SignScheme::Ecdsa(d) => format!("ECDSA with {}", d.name()),
            SignScheme::Ed25519 => "Ed25519".to_owned(),
        }
    }
}

/// Why a signature could not be made. Not `non_exhaustive`: front ends map every variant
/// to their error in one exhaustive match, so a new variant cannot go unmapped.
#[derive(Debug, Clone)]
pub enum SignError {
    /// The signer certificate (or a chain certificate) is unusable; says why.
    Certificate(String),
    /// The private key could not be read or is unusable; says why.
    Key(String),
    /// The private key and the certificate do not belong together.
    KeyCertificateMismatch(String),
    /// The scheme, hash or option cannot be used with this key or signer; says what can.
    Unsupported(String),
    /// The signer itself failed (a PKCS#11 token, ...): its own error, kept whole so that the
    /// caller can report it with its details.
    Signer(Arc<dyn std::error::Error + Send + Sync>),
    /// The DER encoder failed (allocation failure).
    Encoding(String),
}

impl fmt::Display for SignError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SignError::Certificate(m) => write!(f, "unusable certificate: {m}"),
            SignError::Key(m) => write!(f, "unusable private key: {m}"),
            SignError::KeyCertificateMismatch(m) => write!(
                f,
                "the private key does not belong to the certificate: {m}; a signature with this pair would never verify"
            ),
            SignError::Unsupported(m) => write!(f, "{m}"),
            SignError::Signer(e) => write!(f, "{e}"),
            SignError::Encoding(m) => write!(f, "cannot encode the signature: {m}"),
        }
    }
}

impl std::error::Error for SignError {}

fn encoding_error(e: asn1::WriteError) -> SignError {
    SignError::Encoding(format!("{e:?}"))
}

/// Something that holds a private key and signs with it.
///
/// `sign` gets the whole message (the DER of the signed attributes), not a digest: a token
/// may hash on the card. Implementations must be usable from many threads at once.
pub trait Signer: Send + Sync {
    /// What the key is; decides which schemes apply.
    fn key_type(&self) -> KeyType;
    /// The signer's certificate, DER.
    fn certificate_der(&self) -> &[u8];
    /// Sign `message` with `scheme`. The result is in the encoding CMS carries (see
    /// [`SignScheme`]).
    fn sign(&self, scheme: SignScheme, message: &[u8]) -> Result<Vec<u8>, SignError>;
}

/// How the SignerInfo names the signer's certificate (RFC 5652 §5.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SignerIdentifierKind {
    /// issuerAndSerialNumber: SignerInfo version 1.
    #[default]
    IssuerAndSerialNumber,
    /// subjectKeyIdentifier: SignerInfo version 3; the certificate needs the extension.
    SubjectKeyIdentifier,
}

/// Which certificates go into `SignedData.certificates`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IncludeCertificates {
    /// None: the verifier must have the signer's certificate.
    None,
    /// The signer's certificate only.
    Signer,
    /// The signer's certificate and the chain given to [`CmsSigner::new`].
    #[default]
    Chain,
}

/// Per-signature choices. `Default` gives a detached signature over id-data with SHA-256
/// (or the hash the key calls for), RSA PKCS#1 v1.5 for RSA keys, the time of signing,
/// issuerAndSerialNumber, the certificate chain, and algorithm protection.
#[derive(Debug, Clone)]
pub struct SignOptions {
    /// Leave the content out of the SignedData (eContent absent, RFC 5652 §5.2).
    pub detached: bool,
    /// The hash; `None` picks SHA-256 for RSA and P-256, SHA-384 for P-384, SHA-512 for
    /// P-521 and Ed25519.
    pub digest: Option<DigestAlgorithm>,
    /// For RSA keys: RSASSA-PSS instead of PKCS#1 v1.5.
    pub rsa_pss: bool,
    /// The signingTime attribute value; `None` means now.
    pub signing_time: Option<UnixTime>,
    /// How the signer is identified.
    pub signer_identifier: SignerIdentifierKind,
    /// Which certificates are included.
    pub certificates: IncludeCertificates,
    /// eContentType (id-data unless the content is another CMS type).
    pub content_type: ObjectIdentifier,
    /// Add the CMSAlgorithmProtection attribute (RFC 6211), which stops an attacker from
    /// swapping the algorithm identifiers of an otherwise valid signature.
    pub algorithm_protection: bool,
    /// Write the signingTime attribute. PAdES (ETSI EN 319 142-1 §6.3) forbids it: the
    /// time goes in the PDF's /M instead.
    pub signing_time_attribute: bool,
}

impl Default for SignOptions {
    fn default() -> Self {
        SignOptions {
            detached: true,
            digest: None,
            rsa_pss: false,
            signing_time: None,
            signer_identifier: SignerIdentifierKind::IssuerAndSerialNumber,
            certificates: IncludeCertificates::Chain,
            content_type: cms_oid::DATA,
            algorithm_protection: true,
            signing_time_attribute: true,
        }
    }
}

/// An eContentType from its dotted form ("1.2.840.113549.1.7.1").
pub fn content_type_from_dotted(dotted: &str) -> Result<ObjectIdentifier, SignError> {
    ObjectIdentifier::from_string(dotted).ok_or_else(|| {
        SignError::Unsupported(format!(
            "content type {dotted:?} is not a dotted object identifier such as 1.2.840.113549.1.7.1"
        ))
    })
}

/// The facts about the signer's certificate every signature needs, read once.
struct SignerCertificate {
    der: Vec<u8>,
    issuer: Vec<u8>,
    serial: Vec<u8>,
    subject_key_id: Option<Vec<u8>>,
    /// SHA-256 of the certificate, for ESSCertIDv2 (RFC 5035 §4, the DEFAULT hash).
    sha256: Vec<u8>,
}

/// A key and its certificate (and chain), ready to sign any number of documents.
pub struct CmsSigner {
    key: Arc<dyn Signer>,
    certificate: SignerCertificate,
    chain: Vec<Vec<u8>>,
    key_type: KeyType,
}

/// What stays the same for every document signed with one [`SignOptions`].
struct Plan {
    scheme: SignScheme,
    digest_algorithm: Vec<u8>,
    signature_algorithm: Vec<u8>,
    /// contentType, signing-certificate-v2 and CMSAlgorithmProtection attributes, DER.
    fixed_attributes: Vec<Vec<u8>>,
    certificates: Option<Vec<Vec<u8>>>,
    signer_info_version: u8,
    signed_data_version: u8,
}

impl fmt::Debug for CmsSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CmsSigner")
            .field("key_type", &self.key_type)
            .field("chain", &self.chain.len())
            .finish()
    }
}

impl CmsSigner {
    /// Check that the key's certificate parses and holds a key of the key's type, and that
    /// the chain certificates parse.
    pub fn new(key: Arc<dyn Signer>, chain: Vec<Vec<u8>>) -> Result<CmsSigner, SignError> {
        let der = key.certificate_der().to_vec();
        let cert =
            Certificate::from_der(&der).map_err(|e| SignError::Certificate(format!("the signer certificate: {e}")))?;
        let cert_key = cert
            .public_key
            .as_ref()
            .map_err(|e| SignError::Certificate(format!("the signer certificate's key: {e}")))?;
        let key_type = key.key_type();
        if cert_key.key_type() != key_type {
            return Err(SignError::KeyCertificateMismatch(format!(
                "the key is {} but the certificate of {} holds a {} key",
                key_type.name(),
                cert.subject,
                cert_key.key_type().name()
            )));
        }
        for (i, c) in chain.iter().enumerate() {
            Certificate::from_der(c)
                .map_err(|e| SignError::Certificate(format!("chain certificate {}: {e}", i + 1)))?;
        }
        let certificate = SignerCertificate {
            issuer: cert.issuer.der().to_vec(),
            serial: cert.serial.clone(),
            subject_key_id: cert.subject_key_id.clone(),
            sha256: DigestAlgorithm::Sha256.digest(&der),
            der,
        };
        Ok(CmsSigner {
            key,
            certificate,
            chain,
            key_type,
        })
    }

    /// The key type of the signer.
    pub fn key_type(&self) -> KeyType {
        self.key_type
    }

    /// The signer's certificate, DER.
    pub fn certificate_der(&self) -> &[u8] {
        &self.certificate.der
    }

    /// The chain certificates, DER.
    pub fn chain(&self) -> &[Vec<u8>] {
        &self.chain
    }

    /// The scheme `options` select for this key.
    pub fn scheme(&self, options: &SignOptions) -> Result<SignScheme, SignError> {
        use DigestAlgorithm::{Sha256, Sha384, Sha512};
        let natural = match self.key_type {
            KeyType::EcP384 => Sha384,
            KeyType::EcP521 | KeyType::Ed25519 => Sha512,
            _ => Sha256,
        };
        let digest = options.digest.unwrap_or(natural);
        if !matches!(digest, Sha256 | Sha384 | Sha512) {
            return Err(unsupported_digest(digest));
        }
        if options.rsa_pss && self.key_type != KeyType::Rsa {
            return Err(SignError::Unsupported(format!(
                "RSA-PSS needs an RSA key; this key is {}",
                self.key_type.name()
            )));
        }
        match self.key_type {
            KeyType::Rsa if options.rsa_pss => Ok(SignScheme::RsaPss(digest)),
            KeyType::Rsa => Ok(SignScheme::RsaPkcs1(digest)),
            KeyType::EcP256 | KeyType::EcP384 | KeyType::EcP521 => Ok(SignScheme::Ecdsa(digest)),
            // RFC 8419 §3: with signed attributes, Ed25519 uses SHA-512 for messageDigest.
            KeyType::Ed25519 if digest == Sha512 => Ok(SignScheme::Ed25519),
            KeyType::Ed25519 => Err(SignError::Unsupported(format!(
                "Ed25519 in CMS uses sha512 (RFC 8419 §3), not {}",
                digest.name()
            ))),
            KeyType::Dsa => Err(SignError::Unsupported(
                "govsig does not sign with DSA keys; use RSA, ECDSA (P-256/384/521) or Ed25519".to_owned(),
            )),
        }
    }

    fn plan(&self, options: &SignOptions) -> Result<Plan, SignError> {
        let scheme = self.scheme(options)?;
        let digest = scheme.digest();
        let digest_algorithm = digest.algorithm_identifier_der();
        let signature_algorithm = signature_algorithm_der(scheme)?;
        let mut fixed_attributes = Vec::with_capacity(3);
        fixed_attributes.push(attribute(cms_oid::CONTENT_TYPE, &options.content_type)?);
        let ess = self.signing_certificate_v2()?;
        fixed_attributes.push(attribute(cms_oid::SIGNING_CERTIFICATE_V2, &tlv(&ess)?)?);
        if options.algorithm_protection {
            let protection = algorithm_protection(&digest_algorithm, &signature_algorithm)?;
            fixed_attributes.push(attribute(cms_oid::CMS_ALGORITHM_PROTECTION, &tlv(&protection)?)?);
        }
        let certificates = match options.certificates {
            IncludeCertificates::None => None,
            IncludeCertificates::Signer => Some(vec![self.certificate.der.clone()]),
            IncludeCertificates::Chain => {
                let mut all = vec![self.certificate.der.clone()];
                for c in &self.chain {
                    // The same certificate twice would be a duplicate SET OF member.
                    if !all.contains(c) {
                        all.push(c.clone());
                    }
                }
                Some(all)
            }
        };
        let signer_info_version = match options.signer_identifier {
            SignerIdentifierKind::IssuerAndSerialNumber => 1,
            SignerIdentifierKind::SubjectKeyIdentifier => {
                if self.certificate.subject_key_id.is_none() {
                    return Err(SignError::Unsupported(
                        "the signer certificate has no subjectKeyIdentifier extension; identify the signer by issuer and serial number instead"
                            .to_owned(),
                    ));
                }
                3
            }
        };
        // RFC 5652 §5.1: version 3 when a SignerInfo is version 3 or the content is not id-data.
        let signed_data_version = if signer_info_version == 3 || options.content_type != cms_oid::DATA {
            3
        } else {
            1
        };
        Ok(Plan {
            scheme,
            digest_algorithm,
            signature_algorithm,
            fixed_attributes,
            certificates,
            signer_info_version,
            signed_data_version,
        })
    }

    fn signing_certificate_v2(&self) -> Result<Vec<u8>, SignError> {
        let c = &self.certificate;
        let issuer = tlv(&c.issuer)?;
        let serial = BigInt::new(&c.serial)
            .ok_or_else(|| SignError::Certificate("the serial number is not a minimal DER INTEGER".to_owned()))?;
        let value = w::SigningCertificateV2Write {
            certs: SequenceOfWriter::new(vec![w::EssCertIdV2Write {
                hash_algorithm: None,
                cert_hash: &c.sha256,
                issuer_serial: Some(w::IssuerSerialWrite {
                    issuer: SequenceOfWriter::new(vec![asn1::Explicit::new(issuer)]),
                    serial,
                }),
            }]),
        };
        asn1::write_single(&value).map_err(encoding_error)
    }

    /// Sign one document.
    pub fn sign(&self, content: &[u8], options: &SignOptions) -> Result<Vec<u8>, SignError> {
        let plan = self.plan(options)?;
        self.sign_planned(&plan, content, options)
    }

    /// Sign a detached document given as consecutive parts (a PDF's two byte ranges), hashed
    /// in place without joining them.
    pub fn sign_parts(&self, parts: &[&[u8]], options: &SignOptions) -> Result<Vec<u8>, SignError> {
        if !options.detached {
            return Err(SignError::Unsupported(
                "a document given in parts is signed detached only".to_owned(),
            ));
        }
        let plan = self.plan(options)?;
        let mut h = plan.scheme.digest().hasher();
        for p in parts {
            h.update(p);
        }
        self.sign_digest(&plan, &h.finish(), &[], options)
    }

    /// Sign many documents in parallel: on `threads` threads when given (a token signer does
    /// best with one thread per session), else on the global rayon pool. Results are in input
    /// order.
    pub fn sign_many(
        &self,
        contents: &[&[u8]],
        options: &SignOptions,
        threads: Option<usize>,
    ) -> Result<Vec<Result<Vec<u8>, SignError>>, SignError> {
        let plan = self.plan(options)?;
        let run = || {
            contents
                .par_iter()
                .map(|c| self.sign_planned(&plan, c, options))
                .collect::<Vec<_>>()
        };
        match threads {
            Some(n) if n > 0 => {
                let pool = crate::threads::shared_pool(n)
                    .ok_or_else(|| SignError::Unsupported(format!("cannot start {n} signing threads")))?;
                Ok(pool.install(run))
            }
            _ => Ok(run()),
        }
    }

    fn sign_planned(&self, plan: &Plan, content: &[u8], options: &SignOptions) -> Result<Vec<u8>, SignError> {
        let message_digest = plan.scheme.digest().digest(content);
        self.sign_digest(plan, &message_digest, content, options)
    }

    /// The SignedData for a content whose digest is `message_digest`; `content` is
    /// encapsulated unless the options say detached.
    fn sign_digest(
        &self,
        plan: &Plan,
        message_digest: &[u8],
        content: &[u8],
        options: &SignOptions,
    ) -> Result<Vec<u8>, SignError> {
        let mut attributes: Vec<Vec<u8>> = Vec::with_capacity(plan.fixed_attributes.len() + 2);
        attributes.extend(plan.fixed_attributes.iter().cloned());
        attributes.push(attribute(cms_oid::MESSAGE_DIGEST, &message_digest)?);
        if options.signing_time_attribute {
            let when = options.signing_time.unwrap_or_else(crate::time::now);
            attributes.push(signing_time_attribute(when)?);
        }
        let attribute_tlvs = attributes.iter().map(|a| tlv(a)).collect::<Result<Vec<_>, _>>()?;
        // RFC 5652 §5.4: the signature covers the DER of the attributes as a SET OF (tag 0x31),
        // elements in DER order; the same elements go into the SignerInfo under [0].
        let signed_attrs_der = asn1::write_single(&SetOfWriter::new(attribute_tlvs.clone())).map_err(encoding_error)?;
        let signature = self.key.sign(plan.scheme, &signed_attrs_der)?;

        let c = &self.certificate;
        let sid = match options.signer_identifier {
            SignerIdentifierKind::IssuerAndSerialNumber => {
                w::SignerIdentifierWrite::IssuerAndSerialNumber(w::IssuerAndSerialNumberWrite {
                    issuer: tlv(&c.issuer)?,
                    serial_number: BigInt::new(&c.serial).ok_or_else(|| {
                        SignError::Certificate("the serial number is not a minimal DER INTEGER".to_owned())
                    })?,
                })
            }
            SignerIdentifierKind::SubjectKeyIdentifier => {
                let ski = c.subject_key_id.as_deref().ok_or_else(|| {
                    SignError::Unsupported("the signer certificate has no subjectKeyIdentifier".to_owned())
                })?;
                w::SignerIdentifierWrite::SubjectKeyIdentifier(ski)
            }
        };
        let digest_algorithm = tlv(&plan.digest_algorithm)?;
        let signer_info = w::SignerInfoWrite {
            version: plan.signer_info_version,
            sid,
            digest_algorithm,
            signed_attrs: Some(SetOfWriter::new(attribute_tlvs)),
            signature_algorithm: tlv(&plan.signature_algorithm)?,
            signature: &signature,
        };
        let certificates = match &plan.certificates {
            Some(list) => Some(SetOfWriter::new(
                list.iter().map(|c| tlv(c)).collect::<Result<Vec<_>, _>>()?,
            )),
            None => None,
        };
        let signed_data = w::SignedDataWrite {
            version: plan.signed_data_version,
            digest_algorithms: SetOfWriter::new(vec![digest_algorithm]),
            encap_content_info: w::EncapsulatedContentInfoWrite {
                econtent_type: options.content_type.clone(),
                econtent: if options.detached { None } else { Some(content) },
            },
            certificates,
            signer_infos: SetOfWriter::new(vec![signer_info]),
        };
        asn1::write_single(&w::ContentInfoWrite {
            content_type: cms_oid::SIGNED_DATA,
            content: asn1::Explicit::new(signed_data),
        })
        .map_err(encoding_error)
    }
}

/// One element, parsed back as a TLV so it is written byte for byte.
fn tlv(der: &[u8]) -> Result<Tlv<'_>, SignError> {
    asn1::parse_single::<Tlv<'_>>(der).map_err(|e| SignError::Encoding(format!("an element is not one DER TLV: {e}")))
}

/// `Attribute ::= SEQUENCE { attrType, attrValues SET OF }` with one value.
fn attribute<T: asn1::Asn1Writable>(attr_type: ObjectIdentifier, value: &T) -> Result<Vec<u8>, SignError> {
    let value_der = asn1::write_single(value).map_err(|_| SignError::Encoding("attribute value".to_owned()))?;
    let value_tlv = tlv(&value_der)?;
    asn1::write_single(&w::AttributeWrite {
        attr_type,
        attr_values: SetOfWriter::new(vec![value_tlv]),
    })
    .map_err(encoding_error)
}

/// signingTime (RFC 5652 §11.3): UTCTime for 1950–2049, GeneralizedTime otherwise.
fn signing_time_attribute(t: UnixTime) -> Result<Vec<u8>, SignError> {
    let dt = to_datetime(t)?;
    if (1950..2050).contains(&dt.year()) {
        let utc = asn1::UtcTime::new(dt).map_err(|e| SignError::Unsupported(format!("signing time: {e}")))?;
        attribute(cms_oid::SIGNING_TIME, &utc)
    } else {
        let gt =
            asn1::X509GeneralizedTime::new(dt).map_err(|e| SignError::Unsupported(format!("signing time: {e}")))?;
        attribute(cms_oid::SIGNING_TIME, &gt)
    }
}

/// Unix seconds to a calendar date-time (proleptic Gregorian, UTC), years 0–9999.
pub(crate) fn to_datetime(t: UnixTime) -> Result<asn1::DateTime, SignError> {
    let out_of_range = || {
        SignError::Unsupported(format!(
            "signing time {t} is outside the years 0000–9999 an ASN.1 time can hold"
        ))
    };
    let days = t.div_euclid(86_400);
    let secs = t.rem_euclid(86_400);
    // Inverse of days_from_civil (H. Hinnant, "chrono-Compatible Low-Level Date Algorithms").
    let z = days.checked_add(719_468).ok_or_else(out_of_range)?;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let year = u16::try_from(year)
        .ok()
        .filter(|y| *y <= 9999)
        .ok_or_else(out_of_range)?;
    let small = |v: i64| u8::try_from(v).map_err(|_| out_of_range());
    asn1::DateTime::new(
        year,
        small(month)?,
        small(day)?,
        small(secs / 3600)?,
        small((secs / 60) % 60)?,
        small(secs % 60)?,
    )
    .map_err(|_| out_of_range())
}

fn digest_oid(d: DigestAlgorithm) -> Result<ObjectIdentifier, SignError> {
    match d {
        DigestAlgorithm::Sha256 => Ok(woid::SHA256),
        DigestAlgorithm::Sha384 => Ok(woid::SHA384),
        DigestAlgorithm::Sha512 => Ok(woid::SHA512),
        other => Err(unsupported_digest(other)),
    }
}

fn unsupported_digest(d: DigestAlgorithm) -> SignError {
    SignError::Unsupported(unsigned_digest_reason(d))
}

/// Why govsig does not sign with `d` (it verifies every digest it knows, but signs only with
/// SHA-2 from SHA-256 up).
pub fn unsigned_digest_reason(d: DigestAlgorithm) -> String {
    let why = match d {
        DigestAlgorithm::Sha3_256 | DigestAlgorithm::Sha3_384 | DigestAlgorithm::Sha3_512 => {
            " (govsig verifies SHA-3 signatures, but aws-lc-rs, its crypto backend, signs RSA and ECDSA only with SHA-2)"
        }
        _ => "",
    };
    format!(
        "govsig does not sign with {}{why}; digest must be 'sha256', 'sha384' or 'sha512'",
        d.name()
    )
}

/// The signatureAlgorithm of the SignerInfo. RSA PKCS#1 v1.5 names the hash with NULL
/// parameters (RFC 4055 §5); PSS carries its parameters in full (RFC 4056 §2); ECDSA and
/// Ed25519 have none (RFC 5758 §3.2, RFC 8410 §3).
pub fn signature_algorithm_der(scheme: SignScheme) -> Result<Vec<u8>, SignError> {
    const NULL: &[u8] = &[0x05, 0x00];
    let null = tlv(NULL)?;
    let write = |oid: ObjectIdentifier, params: Option<Tlv<'_>>| {
        asn1::write_single(&w::AlgorithmIdentifierWrite { oid, params }).map_err(encoding_error)
    };
    match scheme {
        SignScheme::RsaPkcs1(d) => {
            let oid = match d {
                DigestAlgorithm::Sha256 => woid::SHA256_WITH_RSA,
                DigestAlgorithm::Sha384 => woid::SHA384_WITH_RSA,
                DigestAlgorithm::Sha512 => woid::SHA512_WITH_RSA,
                other => return Err(unsupported_digest(other)),
            };
            write(oid, Some(null))
        }
        SignScheme::RsaPss(d) => {
            let hash_oid = digest_oid(d)?;
            let hash = || w::AlgorithmIdentifierWrite {
                oid: hash_oid.clone(),
                params: Some(null),
            };
            let hash_der = asn1::write_single(&hash()).map_err(encoding_error)?;
            let params = asn1::write_single(&w::RsaPssParamsWrite {
                hash_algorithm: Some(hash()),
                mask_gen_algorithm: Some(w::AlgorithmIdentifierWrite {
                    oid: woid::MGF1,
                    params: Some(tlv(&hash_der)?),
                }),
                salt_length: Some(u64::try_from(d.output_len()).unwrap_or(32)),
            })
            .map_err(encoding_error)?;
            write(woid::RSA_PSS, Some(tlv(&params)?))
        }
        SignScheme::Ecdsa(d) => {
            let oid = match d {
                DigestAlgorithm::Sha256 => woid::ECDSA_WITH_SHA256,
                DigestAlgorithm::Sha384 => woid::ECDSA_WITH_SHA384,
                DigestAlgorithm::Sha512 => woid::ECDSA_WITH_SHA512,
                other => return Err(unsupported_digest(other)),
            };
            write(oid, None)
        }
        SignScheme::Ed25519 => write(woid::ED25519, None),
    }
}

/// CMSAlgorithmProtection (RFC 6211 §2) naming the digest and signature algorithms.
fn algorithm_protection(digest_algorithm: &[u8], signature_algorithm: &[u8]) -> Result<Vec<u8>, SignError> {
    let sig = asn1::parse_single::<govsig_asn1::common::AlgorithmIdentifier<'_>>(signature_algorithm)
        .map_err(|e| SignError::Encoding(format!("signature algorithm: {e}")))?;
    asn1::write_single(&w::CmsAlgorithmProtectionWrite {
        digest_algorithm: tlv(digest_algorithm)?,
        signature_algorithm: Some(w::AlgorithmIdentifierWrite {
            oid: sig.oid,
            params: sig.params,
        }),
    })
    .map_err(encoding_error)
}

// --- software keys -------------------------------------------------------------------------

enum KeyMaterial {
    Rsa(lcsig::RsaKeyPair),
    /// aws-lc-rs binds an ECDSA key pair to one hash, so a key is loaded once per hash it can
    /// sign with.
    Ecdsa(Vec<(DigestAlgorithm, lcsig::EcdsaKeyPair)>),
    Ed25519(lcsig::Ed25519KeyPair),
}

/// A private key held in memory, signing with aws-lc-rs.
pub struct SoftwareKey {
    material: KeyMaterial,
    key_type: KeyType,
    certificate: Vec<u8>,
    rng: SystemRandom,
}

impl fmt::Debug for SoftwareKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the key material.
        f.debug_struct("SoftwareKey").field("key_type", &self.key_type).finish()
    }
}

impl SoftwareKey {
    /// Load an unencrypted PKCS#8 private key (RFC 5208 / RFC 5958; RSA, EC P-256/384/521 or
    /// Ed25519) and check that `certificate_der` holds its public key.
    pub fn from_pkcs8(pkcs8: &[u8], certificate_der: Vec<u8>) -> Result<SoftwareKey, SignError> {
        use DigestAlgorithm::{Sha256, Sha384, Sha512};
        let (material, key_type, public) = if let Ok(k) = lcsig::RsaKeyPair::from_pkcs8(pkcs8) {
            let public = k.public_key().as_ref().to_vec();
            (KeyMaterial::Rsa(k), KeyType::Rsa, public)
        } else if let Ok(k) = lcsig::Ed25519KeyPair::from_pkcs8(pkcs8) {
            let public = k.public_key().as_ref().to_vec();
            (KeyMaterial::Ed25519(k), KeyType::Ed25519, public)
        } else {
            let curves: [(KeyType, &[(DigestAlgorithm, &'static lcsig::EcdsaSigningAlgorithm)]); 3] = [
                (KeyType::EcP256, &[(Sha256, &lcsig::ECDSA_P256_SHA256_ASN1_SIGNING)]),
                (KeyType::EcP384, &[(Sha384, &lcsig::ECDSA_P384_SHA384_ASN1_SIGNING)]),
                (
                    KeyType::EcP521,
                    &[
                        (Sha512, &lcsig::ECDSA_P521_SHA512_ASN1_SIGNING),
                        (Sha384, &lcsig::ECDSA_P521_SHA384_ASN1_SIGNING),
                        (Sha256, &lcsig::ECDSA_P521_SHA256_ASN1_SIGNING),
                    ],
                ),
            ];
            let mut found = None;
            for (key_type, algs) in curves {
                let mut pairs = Vec::new();
                for (d, alg) in algs {
                    if let Ok(k) = lcsig::EcdsaKeyPair::from_pkcs8(alg, pkcs8) {
                        pairs.push((*d, k));
                    }
                }
                if let Some((_, first)) = pairs.first() {
                    let public = first.public_key().as_ref().to_vec();
                    found = Some((KeyMaterial::Ecdsa(pairs), key_type, public));
                    break;
                }
            }
            found.ok_or_else(|| {
                SignError::Key(
                    "not an unencrypted PKCS#8 RSA (2048 bits or more), EC P-256/P-384/P-521 or Ed25519 private key"
                        .to_owned(),
                )
            })?
        };
        check_public_key(&certificate_der, key_type, &public)?;
        Ok(SoftwareKey {
            material,
            key_type,
            certificate: certificate_der,
            rng: SystemRandom::new(),
        })
    }
}

/// The certificate's subjectPublicKey must be the key pair's public key (same encoding:
/// RSAPublicKey DER, uncompressed EC point, raw Ed25519 key — RFC 3279 §2.3, RFC 5480 §2.2,
/// RFC 8410 §4).
fn check_public_key(certificate_der: &[u8], key_type: KeyType, public: &[u8]) -> Result<(), SignError> {
    let cert = Certificate::from_der(certificate_der)
        .map_err(|e| SignError::Certificate(format!("the signer certificate: {e}")))?;
    let spki = asn1::parse_single::<govsig_asn1::x509::SubjectPublicKeyInfo<'_>>(&cert.spki)
        .map_err(|e| SignError::Certificate(format!("subjectPublicKeyInfo: {e}")))?;
    let cert_type = cert.public_key.as_ref().map(|k| k.key_type()).ok();
    if cert_type != Some(key_type) {
        return Err(SignError::KeyCertificateMismatch(format!(
            "the key is {} but the certificate of {} holds {}",
            key_type.name(),
            cert.subject,
            cert_type.map_or("a key govsig cannot read", |t| t.name())
        )));
    }
    if spki.subject_public_key.as_bytes() != public {
        return Err(SignError::KeyCertificateMismatch(format!(
            "the certificate of {} (serial {}) holds another {} public key",
            cert.subject,
            cert.serial_hex(),
            key_type.name()
        )));
    }
    Ok(())
}

impl Signer for SoftwareKey {
    fn key_type(&self) -> KeyType {
        self.key_type
    }

    fn certificate_der(&self) -> &[u8] {
        &self.certificate
    }

    fn sign(&self, scheme: SignScheme, message: &[u8]) -> Result<Vec<u8>, SignError> {
        let failed = || SignError::Key(format!("aws-lc refused to sign with {}", scheme.describe()));
        let unsupported = || {
            SignError::Unsupported(format!(
                "a {} key cannot sign with {}",
                self.key_type.name(),
                scheme.describe()
            ))
        };
        match (&self.material, scheme) {
            (KeyMaterial::Rsa(k), SignScheme::RsaPkcs1(d) | SignScheme::RsaPss(d)) => {
                let pss = matches!(scheme, SignScheme::RsaPss(_));
                let encoding: &'static dyn lcsig::RsaEncoding = match (d, pss) {
                    (DigestAlgorithm::Sha256, false) => &lcsig::RSA_PKCS1_SHA256,
                    (DigestAlgorithm::Sha384, false) => &lcsig::RSA_PKCS1_SHA384,
                    (DigestAlgorithm::Sha512, false) => &lcsig::RSA_PKCS1_SHA512,
                    (DigestAlgorithm::Sha256, true) => &lcsig::RSA_PSS_SHA256,
                    (DigestAlgorithm::Sha384, true) => &lcsig::RSA_PSS_SHA384,
                    (DigestAlgorithm::Sha512, true) => &lcsig::RSA_PSS_SHA512,
                    _ => return Err(unsupported()),
                };
                let mut signature = vec![0u8; k.public_modulus_len()];
                k.sign(encoding, &self.rng, message, &mut signature)
                    .map_err(|_| failed())?;
                Ok(signature)
            }
            (KeyMaterial::Ecdsa(pairs), SignScheme::Ecdsa(d)) => {
                let (_, k) = pairs.iter().find(|(pd, _)| *pd == d).ok_or_else(|| {
                    SignError::Unsupported(format!(
                        "a software {} key signs with {} only; choose that digest",
                        self.key_type.name(),
                        pairs.iter().map(|(d, _)| d.name()).collect::<Vec<_>>().join(" or ")
                    ))
                })?;
                Ok(k.sign(&self.rng, message).map_err(|_| failed())?.as_ref().to_vec())
            }
            (KeyMaterial::Ed25519(k), SignScheme::Ed25519) => Ok(k.sign(message).as_ref().to_vec()),
            _ => Err(unsupported()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::SignatureScheme;

    #[test]
    fn signature_algorithms_resolve_in_the_verification_table() {
        use DigestAlgorithm::{Sha256, Sha384, Sha512};
        let cases = [
            (SignScheme::RsaPkcs1(Sha256), "sha256WithRSAEncryption", None),
            (SignScheme::RsaPkcs1(Sha512), "sha512WithRSAEncryption", None),
            (SignScheme::RsaPss(Sha256), "rsassa-pss", Some(32)),
            (SignScheme::RsaPss(Sha384), "rsassa-pss", Some(48)),
            (SignScheme::RsaPss(Sha512), "rsassa-pss", Some(64)),
            (SignScheme::Ecdsa(Sha384), "ecdsa-with-SHA384", None),
            (SignScheme::Ed25519, "ed25519", None),
        ];
        for (scheme, name, salt) in cases {
            let der = signature_algorithm_der(scheme).expect("encodes");
            let resolved = SignatureScheme::for_cms(&der, scheme.digest()).expect("known to the verifier");
            assert_eq!(resolved.name(), name, "{scheme:?}");
            assert_eq!(resolved.pss_salt_length(), salt, "{scheme:?}");
        }
    }

    #[test]
    fn signing_times_round_trip_through_asn1() {
        for t in [
            0i64,
            951_782_400,
            1_700_000_000,
            2_524_608_000,
            -631_152_000,
            253_402_300_799,
        ] {
            let dt = to_datetime(t).expect("in range");
            assert_eq!(crate::time::from_asn1(&dt), t);
        }
        assert!(to_datetime(253_402_300_800).is_err());
        assert!(to_datetime(i64::MIN).is_err());
        assert!(to_datetime(i64::MAX).is_err());
    }

    #[test]
    fn signing_time_switches_to_generalized_time_in_2050() {
        let utc = signing_time_attribute(2_524_607_999).expect("2049");
        let gen = signing_time_attribute(2_524_608_000).expect("2050");
        assert!(utc.windows(2).any(|w| w == [0x17, 0x0d]), "UTCTime in 2049");
        assert!(gen.windows(2).any(|w| w == [0x18, 0x0f]), "GeneralizedTime from 2050");
    }
}
