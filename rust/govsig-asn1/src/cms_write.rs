//! DER writer types for creating CMS SignedData (RFC 5652 §5). Separate from the read types in
//! [`crate::cms`], which stay lenient about what others wrote; these write strict DER only.
//!
//! Pre-encoded pieces (certificates, AlgorithmIdentifiers from govsig-core's algorithm table,
//! signed attributes) are carried as [`Tlv`]s so their bytes are written exactly as given:
//! the signature covers the signed attributes byte for byte (RFC 5652 §5.4).

use asn1::{BigInt, ObjectIdentifier, SequenceOfWriter, SetOfWriter, Tlv};

/// A `SET OF` pre-encoded elements. [`SetOfWriter`] sorts them by their encodings, as DER
/// requires (X.690 §11.6).
pub type TlvSet<'a> = SetOfWriter<'a, Tlv<'a>, Vec<Tlv<'a>>>;

/// `ContentInfo` (RFC 5652 §3) carrying a SignedData.
#[derive(asn1::Asn1Write)]
pub struct ContentInfoWrite<'a> {
    pub content_type: ObjectIdentifier,
    pub content: asn1::Explicit<SignedDataWrite<'a>, 0>,
}

/// `SignedData` (RFC 5652 §5.1). CRLs are never written.
#[derive(asn1::Asn1Write)]
pub struct SignedDataWrite<'a> {
    pub version: u8,
    pub digest_algorithms: TlvSet<'a>,
    pub encap_content_info: EncapsulatedContentInfoWrite<'a>,
    #[implicit(0)]
    pub certificates: Option<TlvSet<'a>>,
    pub signer_infos: SetOfWriter<'a, SignerInfoWrite<'a>, Vec<SignerInfoWrite<'a>>>,
}

/// `EncapsulatedContentInfo` (RFC 5652 §5.2); `econtent` absent for a detached signature.
#[derive(asn1::Asn1Write)]
pub struct EncapsulatedContentInfoWrite<'a> {
    pub econtent_type: ObjectIdentifier,
    #[explicit(0)]
    pub econtent: Option<&'a [u8]>,
}

/// `SignerInfo` (RFC 5652 §5.3), always with signed attributes.
#[derive(asn1::Asn1Write)]
pub struct SignerInfoWrite<'a> {
    pub version: u8,
    pub sid: SignerIdentifierWrite<'a>,
    pub digest_algorithm: Tlv<'a>,
    #[implicit(0)]
    pub signed_attrs: Option<TlvSet<'a>>,
    pub signature_algorithm: Tlv<'a>,
    pub signature: &'a [u8],
}

/// `SignerIdentifier` (RFC 5652 §5.3).
#[derive(asn1::Asn1Write)]
pub enum SignerIdentifierWrite<'a> {
    IssuerAndSerialNumber(IssuerAndSerialNumberWrite<'a>),
    #[implicit(0)]
    SubjectKeyIdentifier(&'a [u8]),
}

/// `IssuerAndSerialNumber` (RFC 5652 §10.2.4); `issuer` is the certificate's issuer Name as
/// encoded in the certificate.
#[derive(asn1::Asn1Write)]
pub struct IssuerAndSerialNumberWrite<'a> {
    pub issuer: Tlv<'a>,
    pub serial_number: BigInt<'a>,
}

/// `Attribute` (RFC 5652 §5.3).
#[derive(asn1::Asn1Write)]
pub struct AttributeWrite<'a> {
    pub attr_type: ObjectIdentifier,
    pub attr_values: TlvSet<'a>,
}

/// ESS `SigningCertificateV2` (RFC 5035 §3); no policies.
#[derive(asn1::Asn1Write)]
pub struct SigningCertificateV2Write<'a> {
    pub certs: SequenceOfWriter<'a, EssCertIdV2Write<'a>, Vec<EssCertIdV2Write<'a>>>,
}

/// `ESSCertIDv2` (RFC 5035 §4). `hash_algorithm` must be `None` for SHA-256: DER omits a
/// value equal to the DEFAULT (X.690 §11.5).
#[derive(asn1::Asn1Write)]
pub struct EssCertIdV2Write<'a> {
    pub hash_algorithm: Option<Tlv<'a>>,
    pub cert_hash: &'a [u8],
    pub issuer_serial: Option<IssuerSerialWrite<'a>>,
}

/// `IssuerSerial` (RFC 5035 §4): the issuer as GeneralNames holding one directoryName.
#[derive(asn1::Asn1Write)]
pub struct IssuerSerialWrite<'a> {
    pub issuer: SequenceOfWriter<'a, DirectoryNameWrite<'a>, Vec<DirectoryNameWrite<'a>>>,
    pub serial: BigInt<'a>,
}

/// `GeneralName` directoryName `[4] Name`: EXPLICIT, since Name is a CHOICE (X.680 §31.2.7).
pub type DirectoryNameWrite<'a> = asn1::Explicit<Tlv<'a>, 4>;

/// `AlgorithmIdentifier` written from its parts, for places that re-tag it.
#[derive(asn1::Asn1Write)]
pub struct AlgorithmIdentifierWrite<'a> {
    pub oid: ObjectIdentifier,
    pub params: Option<Tlv<'a>>,
}

/// `CMSAlgorithmProtection` (RFC 6211 §2) for a signature: digest and signature algorithm.
#[derive(asn1::Asn1Write)]
pub struct CmsAlgorithmProtectionWrite<'a> {
    pub digest_algorithm: Tlv<'a>,
    #[implicit(1)]
    pub signature_algorithm: Option<AlgorithmIdentifierWrite<'a>>,
}

/// `RSASSA-PSS-params` (RFC 4055 §3.1). trailerField is always the DEFAULT (1), so it is
/// never written (X.690 §11.5).
#[derive(asn1::Asn1Write)]
pub struct RsaPssParamsWrite<'a> {
    #[explicit(0)]
    pub hash_algorithm: Option<AlgorithmIdentifierWrite<'a>>,
    #[explicit(1)]
    pub mask_gen_algorithm: Option<AlgorithmIdentifierWrite<'a>>,
    #[explicit(2)]
    pub salt_length: Option<u64>,
}

/// Object identifiers written by CMS signing and not read by verification.
pub mod oid {
    use asn1::ObjectIdentifier;
    pub const RSA_PSS: ObjectIdentifier = asn1::oid!(1, 2, 840, 113549, 1, 1, 10);
    pub const MGF1: ObjectIdentifier = asn1::oid!(1, 2, 840, 113549, 1, 1, 8);
    pub const SHA256_WITH_RSA: ObjectIdentifier = asn1::oid!(1, 2, 840, 113549, 1, 1, 11);
    pub const SHA384_WITH_RSA: ObjectIdentifier = asn1::oid!(1, 2, 840, 113549, 1, 1, 12);
    pub const SHA512_WITH_RSA: ObjectIdentifier = asn1::oid!(1, 2, 840, 113549, 1, 1, 13);
    pub const ECDSA_WITH_SHA256: ObjectIdentifier = asn1::oid!(1, 2, 840, 10045, 4, 3, 2);
    pub const ECDSA_WITH_SHA384: ObjectIdentifier = asn1::oid!(1, 2, 840, 10045, 4, 3, 3);
    pub const ECDSA_WITH_SHA512: ObjectIdentifier = asn1::oid!(1, 2, 840, 10045, 4, 3, 4);
    pub const ED25519: ObjectIdentifier = asn1::oid!(1, 3, 101, 112);
    pub const SHA256: ObjectIdentifier = asn1::oid!(2, 16, 840, 1, 101, 3, 4, 2, 1);
    pub const SHA384: ObjectIdentifier = asn1::oid!(2, 16, 840, 1, 101, 3, 4, 2, 2);
    pub const SHA512: ObjectIdentifier = asn1::oid!(2, 16, 840, 1, 101, 3, 4, 2, 3);
}
