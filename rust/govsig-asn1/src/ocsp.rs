//! OCSP requests and responses (RFC 6960 §4.1, §4.2; nonce per RFC 8954).
//!
//! The ASN.1 module of RFC 6960 (Appendix B.1) uses EXPLICIT tags by default, so the
//! context tags below are explicit except the `CertStatus` alternatives, which the module
//! marks IMPLICIT. The signed `ResponseData` stays a raw TLV: its exact bytes are what the
//! responder's signature covers.

use asn1::{BigInt, BitString, Enumerated, GeneralizedTime, ObjectIdentifier, SequenceOf, SequenceOfWriter, Tlv};

use crate::x509::Extension;

/// `CertID` (RFC 6960 §4.1.1). `hashAlgorithm` stays raw: govsig-core's digest table matches it.
#[derive(asn1::Asn1Read, asn1::Asn1Write, Clone, Debug, PartialEq, Eq, Hash)]
pub struct CertId<'a> {
    pub hash_algorithm: Tlv<'a>,
    pub issuer_name_hash: &'a [u8],
    pub issuer_key_hash: &'a [u8],
    pub serial_number: BigInt<'a>,
}

/// `OCSPRequest` (RFC 6960 §4.1.1), written unsigned (`optionalSignature` absent).
#[derive(asn1::Asn1Write)]
pub struct OcspRequestWrite<'a> {
    pub tbs_request: TbsRequestWrite<'a>,
}

/// `TBSRequest` (RFC 6960 §4.1.1): version v1 (the DEFAULT, so omitted), no requestorName.
#[derive(asn1::Asn1Write)]
pub struct TbsRequestWrite<'a> {
    pub request_list: SequenceOfWriter<'a, RequestWrite<'a>, Vec<RequestWrite<'a>>>,
    #[explicit(2)]
    pub request_extensions: Option<SequenceOfWriter<'a, ExtensionWrite<'a>, Vec<ExtensionWrite<'a>>>>,
}

/// `Request` (RFC 6960 §4.1.1) without singleRequestExtensions.
#[derive(asn1::Asn1Write)]
pub struct RequestWrite<'a> {
    pub req_cert: CertId<'a>,
}

/// A non-critical `Extension` (critical DEFAULT FALSE, so omitted in DER).
#[derive(asn1::Asn1Write)]
pub struct ExtensionWrite<'a> {
    pub extn_id: ObjectIdentifier,
    pub extn_value: &'a [u8],
}

/// `OCSPResponse` (RFC 6960 §4.2.1).
#[derive(asn1::Asn1Read)]
pub struct OcspResponse<'a> {
    pub response_status: Enumerated,
    #[explicit(0)]
    pub response_bytes: Option<ResponseBytes<'a>>,
}

/// `ResponseBytes` (RFC 6960 §4.2.1).
#[derive(asn1::Asn1Read, Clone)]
pub struct ResponseBytes<'a> {
    pub response_type: ObjectIdentifier,
    pub response: &'a [u8],
}

/// `BasicOCSPResponse` (RFC 6960 §4.2.1). Certificates stay raw TLVs for govsig-core's parser.
#[derive(asn1::Asn1Read, Clone)]
pub struct BasicOcspResponse<'a> {
    pub tbs_response_data: Tlv<'a>,
    pub signature_algorithm: Tlv<'a>,
    pub signature: BitString<'a>,
    #[explicit(0)]
    pub certs: Option<SequenceOf<'a, Tlv<'a>>>,
}

/// `ResponseData` (RFC 6960 §4.2.1). `version` DEFAULT v1 is DER-strict: an explicit v1 is
/// refused, and any other version is refused by the caller.
#[derive(asn1::Asn1Read)]
pub struct ResponseData<'a> {
    #[explicit(0)]
    #[default(0u8)]
    pub version: u8,
    pub responder_id: ResponderId<'a>,
    pub produced_at: GeneralizedTime,
    pub responses: SequenceOf<'a, SingleResponse<'a>>,
    #[explicit(1)]
    pub response_extensions: Option<SequenceOf<'a, Extension<'a>>>,
}

/// `ResponderID` (RFC 6960 §4.2.1): the Name stays a raw TLV, `KeyHash` is the SHA-1 of
/// the responder's subjectPublicKey BIT STRING value.
#[derive(asn1::Asn1Read, Clone)]
pub enum ResponderId<'a> {
    #[explicit(1)]
    ByName(Tlv<'a>),
    #[explicit(2)]
    ByKey(&'a [u8]),
}

/// `SingleResponse` (RFC 6960 §4.2.1).
#[derive(asn1::Asn1Read)]
pub struct SingleResponse<'a> {
    pub cert_id: CertId<'a>,
    pub cert_status: CertStatus,
    pub this_update: GeneralizedTime,
    #[explicit(0)]
    pub next_update: Option<GeneralizedTime>,
    #[explicit(1)]
    pub single_extensions: Option<SequenceOf<'a, Extension<'a>>>,
}

/// `CertStatus` (RFC 6960 §4.2.1); `UnknownInfo ::= NULL`.
#[derive(asn1::Asn1Read)]
pub enum CertStatus {
    #[implicit(0)]
    Good(()),
    #[implicit(1)]
    Revoked(RevokedInfo),
    #[implicit(2)]
    Unknown(()),
}

/// `RevokedInfo` (RFC 6960 §4.2.1); `CRLReason` is RFC 5280 §5.3.1's ENUMERATED.
#[derive(asn1::Asn1Read)]
pub struct RevokedInfo {
    pub revocation_time: GeneralizedTime,
    #[explicit(0)]
    pub revocation_reason: Option<Enumerated>,
}

/// `OCSPResponseStatus` values (RFC 6960 §4.2.1); 4 is not used.
pub mod response_status {
    pub const SUCCESSFUL: u32 = 0;
    pub const MALFORMED_REQUEST: u32 = 1;
    pub const INTERNAL_ERROR: u32 = 2;
    pub const TRY_LATER: u32 = 3;
    pub const SIG_REQUIRED: u32 = 5;
    pub const UNAUTHORIZED: u32 = 6;
}

/// Object identifiers of OCSP (RFC 6960 §4.2.1, §4.4; RFC 8954).
pub mod oid {
    use asn1::ObjectIdentifier;
    /// id-pkix-ocsp-basic: the only responseType RFC 6960 §4.2.1 requires.
    pub const BASIC: ObjectIdentifier = asn1::oid!(1, 3, 6, 1, 5, 5, 7, 48, 1, 1);
    /// id-pkix-ocsp-nonce (RFC 6960 §4.4.1, RFC 8954).
    pub const NONCE: ObjectIdentifier = asn1::oid!(1, 3, 6, 1, 5, 5, 7, 48, 1, 2);
    /// id-pkix-ocsp-crl (RFC 6960 §4.4.2).
    pub const CRL_REFERENCES: ObjectIdentifier = asn1::oid!(1, 3, 6, 1, 5, 5, 7, 48, 1, 3);
    /// id-pkix-ocsp-archive-cutoff (RFC 6960 §4.4.4).
    pub const ARCHIVE_CUTOFF: ObjectIdentifier = asn1::oid!(1, 3, 6, 1, 5, 5, 7, 48, 1, 6);
    /// id-pkix-ocsp-nocheck (RFC 6960 §4.2.2.2.1).
    pub const NO_CHECK: ObjectIdentifier = asn1::oid!(1, 3, 6, 1, 5, 5, 7, 48, 1, 5);
    /// id-pkix-ocsp-extended-revoke (RFC 6960 §4.4.8).
    pub const EXTENDED_REVOKE: ObjectIdentifier = asn1::oid!(1, 3, 6, 1, 5, 5, 7, 48, 1, 9);
    /// id-kp-OCSPSigning (RFC 6960 §4.2.2.2).
    pub const KP_OCSP_SIGNING: ObjectIdentifier = asn1::oid!(1, 3, 6, 1, 5, 5, 7, 3, 9);
    /// id-ad-ocsp, an accessMethod of authorityInfoAccess (RFC 5280 §4.2.2.1).
    pub const AD_OCSP: ObjectIdentifier = asn1::oid!(1, 3, 6, 1, 5, 5, 7, 48, 1);
    /// id-ad-caIssuers (RFC 5280 §4.2.2.1): where the issuer's certificates are published.
    pub const AD_CA_ISSUERS: ObjectIdentifier = asn1::oid!(1, 3, 6, 1, 5, 5, 7, 48, 2);
    /// invalidityDate, allowed in singleExtensions (RFC 6960 §4.4.7 via RFC 5280 §5.3.2).
    pub const INVALIDITY_DATE: ObjectIdentifier = asn1::oid!(2, 5, 29, 24);
}

/// `AccessDescription` of authorityInfoAccess (RFC 5280 §4.2.2.1); the location stays raw
/// and is read as a [`crate::x509::GeneralName`].
#[derive(asn1::Asn1Read, Clone)]
pub struct AccessDescription<'a> {
    pub access_method: ObjectIdentifier,
    pub access_location: Tlv<'a>,
}

/// `AuthorityInfoAccessSyntax ::= SEQUENCE SIZE (1..MAX) OF AccessDescription`.
pub type AuthorityInfoAccess<'a> = SequenceOf<'a, AccessDescription<'a>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cert_id_round_trips() {
        let alg = asn1::write_single(&crate::common::AlgorithmIdentifier {
            oid: asn1::oid!(1, 3, 14, 3, 2, 26),
            params: None,
        })
        .unwrap();
        let id = CertId {
            hash_algorithm: asn1::parse_single::<Tlv<'_>>(&alg).unwrap(),
            issuer_name_hash: &[1; 20],
            issuer_key_hash: &[2; 20],
            serial_number: BigInt::new(&[0x05]).unwrap(),
        };
        let der = asn1::write_single(&id).unwrap();
        assert_eq!(asn1::parse_single::<CertId<'_>>(&der).unwrap(), id);
    }

    #[test]
    fn cert_status_alternatives() {
        assert!(matches!(
            asn1::parse_single::<CertStatus>(&[0x80, 0x00]),
            Ok(CertStatus::Good(()))
        ));
        assert!(matches!(
            asn1::parse_single::<CertStatus>(&[0x82, 0x00]),
            Ok(CertStatus::Unknown(()))
        ));
        // revoked: [1] { GeneralizedTime 20240101000000Z, [0] { ENUMERATED 1 } }
        let mut rev = vec![0xa1, 0x16, 0x18, 0x0f];
        rev.extend_from_slice(b"20240101000000Z");
        rev.extend_from_slice(&[0xa0, 0x03, 0x0a, 0x01, 0x01]);
        match asn1::parse_single::<CertStatus>(&rev) {
            Ok(CertStatus::Revoked(r)) => assert_eq!(r.revocation_reason.map(|e| e.value()), Some(1)),
            _ => panic!("expected revoked"),
        }
        // A good status with content is not NULL.
        assert!(asn1::parse_single::<CertStatus>(&[0x80, 0x01, 0x00]).is_err());
    }

    #[test]
    fn explicit_default_version_is_refused() {
        // ResponseData { [0] { INTEGER 0 } ... } is not DER (DEFAULT v1 encoded).
        let mut rd = vec![0x30, 0x00, 0xa0, 0x03, 0x02, 0x01, 0x00];
        rd.extend_from_slice(&[0xa2, 0x16, 0x04, 0x14]);
        rd.extend_from_slice(&[0u8; 20]);
        rd.extend_from_slice(&[0x18, 0x0f]);
        rd.extend_from_slice(b"20240101000000Z");
        rd.extend_from_slice(&[0x30, 0x00]);
        let len = u8::try_from(rd.len() - 2).unwrap();
        rd[1] = len;
        assert!(asn1::parse_single::<ResponseData<'_>>(&rd).is_err());
        // Without the version it parses.
        let mut ok = vec![0x30, 0x00];
        ok.extend_from_slice(&rd[7..]);
        ok[1] = u8::try_from(ok.len() - 2).unwrap();
        let parsed = asn1::parse_single::<ResponseData<'_>>(&ok).unwrap();
        assert_eq!(parsed.version, 0);
        assert!(matches!(parsed.responder_id, ResponderId::ByKey(k) if k.len() == 20));
    }
}
