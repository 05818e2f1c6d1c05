//! CMS SignedData (RFC 5652 §5).

use asn1::{BigInt, ObjectIdentifier, Tlv};

use crate::common::LenientSet;

/// `ContentInfo` (RFC 5652 §3).
#[derive(asn1::Asn1Read)]
pub struct ContentInfo<'a> {
    pub content_type: ObjectIdentifier,
    pub content: asn1::Explicit<Tlv<'a>, 0>,
}

/// `SignedData` (RFC 5652 §5.1). SET-typed fields are lenient about element order (see
/// [`LenientSet`]).
#[derive(asn1::Asn1Read, Clone)]
pub struct SignedData<'a> {
    pub version: u8,
    pub digest_algorithms: LenientSet<'a>,
    pub encap_content_info: EncapsulatedContentInfo<'a>,
    #[implicit(0)]
    pub certificates: Option<LenientSet<'a>>,
    #[implicit(1)]
    pub crls: Option<LenientSet<'a>>,
    pub signer_infos: LenientSet<'a>,
}

/// `EncapsulatedContentInfo` (RFC 5652 §5.2). `eContent` absent means detached. Read as any
/// element: CMS requires an OCTET STRING, but PKCS#7 v1.5 (RFC 2315 §7) has
/// `content [0] EXPLICIT ANY`, and signers still write other types there.
#[derive(asn1::Asn1Read, Clone)]
pub struct EncapsulatedContentInfo<'a> {
    pub econtent_type: ObjectIdentifier,
    #[explicit(0)]
    pub econtent: Option<Tlv<'a>>,
}

/// `SignerInfo` (RFC 5652 §5.3). `signedAttrs` is kept raw so the signature can be checked
/// over the exact received attribute bytes with the SET OF tag (RFC 5652 §5.4).
#[derive(asn1::Asn1Read, Clone)]
pub struct SignerInfo<'a> {
    pub version: u8,
    pub sid: SignerIdentifier<'a>,
    pub digest_algorithm: Tlv<'a>,
    #[implicit(0)]
    pub signed_attrs: Option<LenientSet<'a>>,
    pub signature_algorithm: Tlv<'a>,
    pub signature: &'a [u8],
    #[implicit(1)]
    pub unsigned_attrs: Option<LenientSet<'a>>,
}

/// `SignerIdentifier` (RFC 5652 §5.3).
#[derive(asn1::Asn1Read, Clone)]
pub enum SignerIdentifier<'a> {
    IssuerAndSerialNumber(IssuerAndSerialNumber<'a>),
    #[implicit(0)]
    SubjectKeyIdentifier(&'a [u8]),
}

#[derive(asn1::Asn1Read, Clone)]
pub struct IssuerAndSerialNumber<'a> {
    pub issuer: Tlv<'a>,
    pub serial_number: BigInt<'a>,
}

/// `Attribute` (RFC 5652 §5.3).
#[derive(asn1::Asn1Read, Clone)]
pub struct Attribute<'a> {
    pub attr_type: ObjectIdentifier,
    pub attr_values: LenientSet<'a>,
}

/// ESS `SigningCertificateV2` (RFC 5035 §3).
#[derive(asn1::Asn1Read, Clone)]
pub struct SigningCertificateV2<'a> {
    pub certs: asn1::SequenceOf<'a, EssCertIdV2<'a>>,
    pub policies: Option<Tlv<'a>>,
}

/// `ESSCertIDv2`: hashAlgorithm DEFAULT sha256 (RFC 5035 §4).
#[derive(asn1::Asn1Read, Clone)]
pub struct EssCertIdV2<'a> {
    pub hash_algorithm: Option<crate::common::AlgorithmIdentifier<'a>>,
    pub cert_hash: &'a [u8],
    pub issuer_serial: Option<IssuerSerial<'a>>,
}

/// ESS `SigningCertificate` (RFC 2634 §5.4): SHA-1 cert hashes.
#[derive(asn1::Asn1Read, Clone)]
pub struct SigningCertificateV1<'a> {
    pub certs: asn1::SequenceOf<'a, EssCertIdV1<'a>>,
    pub policies: Option<Tlv<'a>>,
}

#[derive(asn1::Asn1Read, Clone)]
pub struct EssCertIdV1<'a> {
    pub cert_hash: &'a [u8],
    pub issuer_serial: Option<IssuerSerial<'a>>,
}

#[derive(asn1::Asn1Read, Clone)]
pub struct IssuerSerial<'a> {
    pub issuer: asn1::SequenceOf<'a, crate::x509::GeneralName<'a>>,
    pub serial: BigInt<'a>,
}

/// Object identifiers used by CMS verification.
pub mod oid {
    use asn1::ObjectIdentifier;
    pub const SIGNED_DATA: ObjectIdentifier = asn1::oid!(1, 2, 840, 113549, 1, 7, 2);
    pub const DATA: ObjectIdentifier = asn1::oid!(1, 2, 840, 113549, 1, 7, 1);
    pub const CONTENT_TYPE: ObjectIdentifier = asn1::oid!(1, 2, 840, 113549, 1, 9, 3);
    pub const MESSAGE_DIGEST: ObjectIdentifier = asn1::oid!(1, 2, 840, 113549, 1, 9, 4);
    pub const SIGNING_TIME: ObjectIdentifier = asn1::oid!(1, 2, 840, 113549, 1, 9, 5);
    /// id-countersignature (RFC 5652 §11.4): an unsigned attribute whose values are
    /// SignerInfos over the signature value of the SignerInfo carrying it.
    pub const COUNTER_SIGNATURE: ObjectIdentifier = asn1::oid!(1, 2, 840, 113549, 1, 9, 6);
    pub const SIGNING_CERTIFICATE: ObjectIdentifier = asn1::oid!(1, 2, 840, 113549, 1, 9, 16, 2, 12);
    pub const SIGNING_CERTIFICATE_V2: ObjectIdentifier = asn1::oid!(1, 2, 840, 113549, 1, 9, 16, 2, 47);
    pub const CMS_ALGORITHM_PROTECTION: ObjectIdentifier = asn1::oid!(1, 2, 840, 113549, 1, 9, 52);
}
