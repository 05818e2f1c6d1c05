//! X.509 certificate structures (RFC 5280 §4.1) and the extensions used for path validation
//! (RFC 5280 §4.2).

use asn1::{BigInt, BigUint, BitString, IA5String, ObjectIdentifier, SequenceOf, Tlv};

use crate::common::{AlgorithmIdentifier, AttributeTypeAndValue, Time};

/// `Certificate`. The TBS part stays a raw TLV: its exact bytes are what the signature covers.
#[derive(asn1::Asn1Read, Clone)]
pub struct Certificate<'a> {
    pub tbs_cert: Tlv<'a>,
    pub signature_alg: Tlv<'a>,
    pub signature: BitString<'a>,
}

/// `TBSCertificate` (RFC 5280 §4.1.2).
#[derive(asn1::Asn1Read, Clone)]
pub struct TbsCertificate<'a> {
    #[explicit(0)]
    #[default(0u8)]
    pub version: u8,
    pub serial: BigInt<'a>,
    pub signature_alg: Tlv<'a>,
    pub issuer: Tlv<'a>,
    pub validity: Validity,
    pub subject: Tlv<'a>,
    pub spki: Tlv<'a>,
    #[implicit(1)]
    pub issuer_unique_id: Option<BitString<'a>>,
    #[implicit(2)]
    pub subject_unique_id: Option<BitString<'a>>,
    #[explicit(3)]
    pub extensions: Option<SequenceOf<'a, Extension<'a>>>,
}

#[derive(asn1::Asn1Read, asn1::Asn1Write, Clone, Debug, PartialEq, Eq, Hash)]
pub struct Validity {
    pub not_before: Time,
    pub not_after: Time,
}

/// `Name ::= RDNSequence`; each RDN is a SET OF AttributeTypeAndValue.
pub type RdnSequence<'a> = SequenceOf<'a, asn1::SetOf<'a, AttributeTypeAndValue<'a>>>;

/// `SubjectPublicKeyInfo` (RFC 5280 §4.1.2.7).
#[derive(asn1::Asn1Read, asn1::Asn1Write, Clone, Debug, PartialEq, Eq, Hash)]
pub struct SubjectPublicKeyInfo<'a> {
    pub algorithm: AlgorithmIdentifier<'a>,
    pub subject_public_key: BitString<'a>,
}

/// `Extension` (RFC 5280 §4.1). `critical` DEFAULT FALSE is DER-strict (no explicit FALSE).
#[derive(asn1::Asn1Read, Clone)]
pub struct Extension<'a> {
    pub extn_id: ObjectIdentifier,
    #[default(false)]
    pub critical: bool,
    pub extn_value: &'a [u8],
}

/// `BasicConstraints` (RFC 5280 §4.2.1.9).
#[derive(asn1::Asn1Read, Clone)]
pub struct BasicConstraints {
    #[default(false)]
    pub ca: bool,
    pub path_length: Option<u64>,
}

/// `AuthorityKeyIdentifier` (RFC 5280 §4.2.1.1).
#[derive(asn1::Asn1Read, Clone)]
pub struct AuthorityKeyIdentifier<'a> {
    #[implicit(0)]
    pub key_identifier: Option<&'a [u8]>,
    #[implicit(1)]
    pub authority_cert_issuer: Option<SequenceOf<'a, GeneralName<'a>>>,
    #[implicit(2)]
    pub authority_cert_serial_number: Option<BigUint<'a>>,
}

/// `GeneralName` (RFC 5280 §4.2.1.6). Name forms govsig does not interpret stay raw.
#[derive(asn1::Asn1Read, Clone)]
pub enum GeneralName<'a> {
    #[implicit(0)]
    OtherName(asn1::Sequence<'a>),
    #[implicit(1)]
    Rfc822Name(IA5String<'a>),
    #[implicit(2)]
    DnsName(IA5String<'a>),
    #[implicit(3)]
    X400Address(asn1::Sequence<'a>),
    // Name is a CHOICE, so the tag is explicit (RFC 5280 Appendix A.2, X.680 §31.2.7).
    #[explicit(4)]
    DirectoryName(Tlv<'a>),
    #[implicit(5)]
    EdiPartyName(asn1::Sequence<'a>),
    #[implicit(6)]
    UniformResourceIdentifier(IA5String<'a>),
    #[implicit(7)]
    IpAddress(&'a [u8]),
    #[implicit(8)]
    RegisteredId(ObjectIdentifier),
}

/// `ExtKeyUsageSyntax` (RFC 5280 §4.2.1.12).
pub type ExtendedKeyUsage<'a> = SequenceOf<'a, ObjectIdentifier>;

/// `KeyUsage` bits (RFC 5280 §4.2.1.3), by bit number.
pub mod key_usage {
    pub const DIGITAL_SIGNATURE: usize = 0;
    pub const NON_REPUDIATION: usize = 1;
    pub const KEY_ENCIPHERMENT: usize = 2;
    pub const DATA_ENCIPHERMENT: usize = 3;
    pub const KEY_AGREEMENT: usize = 4;
    pub const KEY_CERT_SIGN: usize = 5;
    pub const CRL_SIGN: usize = 6;
    pub const ENCIPHER_ONLY: usize = 7;
    pub const DECIPHER_ONLY: usize = 8;
    pub const NAMES: [&str; 9] = [
        "digital_signature",
        "non_repudiation",
        "key_encipherment",
        "data_encipherment",
        "key_agreement",
        "key_cert_sign",
        "crl_sign",
        "encipher_only",
        "decipher_only",
    ];
}

/// Object identifiers of the extensions govsig reads (RFC 5280 §4.2).
pub mod oid {
    use asn1::ObjectIdentifier;
    pub const SUBJECT_KEY_IDENTIFIER: ObjectIdentifier = asn1::oid!(2, 5, 29, 14);
    pub const KEY_USAGE: ObjectIdentifier = asn1::oid!(2, 5, 29, 15);
    pub const SUBJECT_ALT_NAME: ObjectIdentifier = asn1::oid!(2, 5, 29, 17);
    pub const ISSUER_ALT_NAME: ObjectIdentifier = asn1::oid!(2, 5, 29, 18);
    pub const BASIC_CONSTRAINTS: ObjectIdentifier = asn1::oid!(2, 5, 29, 19);
    pub const NAME_CONSTRAINTS: ObjectIdentifier = asn1::oid!(2, 5, 29, 30);
    pub const CRL_DISTRIBUTION_POINTS: ObjectIdentifier = asn1::oid!(2, 5, 29, 31);
    pub const CERTIFICATE_POLICIES: ObjectIdentifier = asn1::oid!(2, 5, 29, 32);
    pub const POLICY_MAPPINGS: ObjectIdentifier = asn1::oid!(2, 5, 29, 33);
    pub const AUTHORITY_KEY_IDENTIFIER: ObjectIdentifier = asn1::oid!(2, 5, 29, 35);
    pub const POLICY_CONSTRAINTS: ObjectIdentifier = asn1::oid!(2, 5, 29, 36);
    pub const EXTENDED_KEY_USAGE: ObjectIdentifier = asn1::oid!(2, 5, 29, 37);
    pub const FRESHEST_CRL: ObjectIdentifier = asn1::oid!(2, 5, 29, 46);
    pub const INHIBIT_ANY_POLICY: ObjectIdentifier = asn1::oid!(2, 5, 29, 54);
    pub const AUTHORITY_INFO_ACCESS: ObjectIdentifier = asn1::oid!(1, 3, 6, 1, 5, 5, 7, 1, 1);
    pub const OCSP_NO_CHECK: ObjectIdentifier = asn1::oid!(1, 3, 6, 1, 5, 5, 7, 48, 1, 5);
    pub const ANY_EXTENDED_KEY_USAGE: ObjectIdentifier = asn1::oid!(2, 5, 29, 37, 0);
    pub const EMAIL_ADDRESS: ObjectIdentifier = asn1::oid!(1, 2, 840, 113549, 1, 9, 1);
    pub const COMMON_NAME: ObjectIdentifier = asn1::oid!(2, 5, 4, 3);
}

/// `CertificatePolicies ::= SEQUENCE SIZE (1..MAX) OF PolicyInformation` (RFC 5280
/// §4.2.1.4). The SIZE lower bound is checked by the consumer.
pub type CertificatePolicies<'a> = SequenceOf<'a, PolicyInformation<'a>>;

/// `PolicyInformation` (RFC 5280 §4.2.1.4).
#[derive(asn1::Asn1Read, Clone)]
pub struct PolicyInformation<'a> {
    pub policy_identifier: ObjectIdentifier,
    pub policy_qualifiers: Option<SequenceOf<'a, PolicyQualifierInfo<'a>>>,
}

/// `PolicyQualifierInfo` (RFC 5280 §4.2.1.4). The qualifier is `ANY DEFINED BY` its id and
/// stays raw: RFC 5280 §4.2.1.4 only defines CPS pointers and user notices, and path
/// validation does not act on either.
#[derive(asn1::Asn1Read, Clone)]
pub struct PolicyQualifierInfo<'a> {
    pub policy_qualifier_id: ObjectIdentifier,
    pub qualifier: Tlv<'a>,
}

/// `PolicyMappings ::= SEQUENCE SIZE (1..MAX) OF SEQUENCE { issuerDomainPolicy,
/// subjectDomainPolicy }` (RFC 5280 §4.2.1.5).
pub type PolicyMappings<'a> = SequenceOf<'a, PolicyMapping>;

/// One element of `PolicyMappings` (RFC 5280 §4.2.1.5).
#[derive(asn1::Asn1Read, Clone)]
pub struct PolicyMapping {
    pub issuer_domain_policy: ObjectIdentifier,
    pub subject_domain_policy: ObjectIdentifier,
}

/// `PolicyConstraints` (RFC 5280 §4.2.1.11); `SkipCerts ::= INTEGER (0..MAX)`, read
/// unsigned so a negative count is a parse error. The module uses IMPLICIT tags.
#[derive(asn1::Asn1Read, Clone)]
pub struct PolicyConstraints<'a> {
    #[implicit(0)]
    pub require_explicit_policy: Option<BigUint<'a>>,
    #[implicit(1)]
    pub inhibit_policy_mapping: Option<BigUint<'a>>,
}

/// `InhibitAnyPolicy ::= SkipCerts` (RFC 5280 §4.2.1.14).
pub type InhibitAnyPolicy<'a> = BigUint<'a>;

/// The special policy OID anyPolicy (RFC 5280 §4.2.1.4).
pub const ANY_POLICY: ObjectIdentifier = asn1::oid!(2, 5, 29, 32, 0);
/// `GeneralSubtree` (RFC 5280 §4.2.1.10). `minimum` is read as OPTIONAL rather than
/// DEFAULT 0 so that a caller can tell "absent" from a forbidden non-zero value and say so.
#[derive(asn1::Asn1Read, Clone)]
pub struct GeneralSubtree<'a> {
    pub base: GeneralName<'a>,
    #[implicit(0)]
    pub minimum: Option<u64>,
    #[implicit(1)]
    pub maximum: Option<u64>,
}

/// `GeneralSubtrees ::= SEQUENCE SIZE (1..MAX) OF GeneralSubtree`.
pub type GeneralSubtrees<'a> = SequenceOf<'a, GeneralSubtree<'a>>;

/// `NameConstraints` (RFC 5280 §4.2.1.10).
#[derive(asn1::Asn1Read, Clone)]
pub struct NameConstraints<'a> {
    #[implicit(0)]
    pub permitted_subtrees: Option<GeneralSubtrees<'a>>,
    #[implicit(1)]
    pub excluded_subtrees: Option<GeneralSubtrees<'a>>,
}
