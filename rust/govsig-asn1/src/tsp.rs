//! RFC 3161 Time-Stamp Protocol: the TSTInfo a time-stamp token signs (§2.4.2), and the
//! request and response a client exchanges with a TSA (§2.4.1, §2.4.2).
//!
//! A TimeStampToken itself is a CMS ContentInfo carrying SignedData (§2.4.2) and is read with
//! the types of [`crate::cms`]; only its eContent, the TSTInfo, is defined here.

use asn1::{BigInt, BitString, ObjectIdentifier, Tlv};

use crate::common::AlgorithmIdentifier;

/// `MessageImprint` (RFC 3161 §2.4.1): the hash of the data stamped.
#[derive(asn1::Asn1Read, Clone, Debug, PartialEq, Eq)]
pub struct MessageImprint<'a> {
    pub hash_algorithm: AlgorithmIdentifier<'a>,
    pub hashed_message: &'a [u8],
}

/// `Accuracy` (RFC 3161 §2.4.2): how far genTime may be from UTC. `millis` and `micros` are
/// 1..999 when present (checked by the core, which reports a violation as a bad token).
#[derive(asn1::Asn1Read, Clone, Debug, PartialEq, Eq)]
pub struct Accuracy {
    pub seconds: Option<u64>,
    #[implicit(0)]
    pub millis: Option<u64>,
    #[implicit(1)]
    pub micros: Option<u64>,
}

/// `TSTInfo` (RFC 3161 §2.4.2).
///
/// `ordering` is read as an OPTIONAL BOOLEAN rather than DEFAULT FALSE: a TSA that writes
/// the default explicitly breaks DER, but the token's signature covers those bytes as sent,
/// so refusing it would reject a genuine token for an encoding nit.
#[derive(asn1::Asn1Read, Clone)]
pub struct TstInfo<'a> {
    pub version: u8,
    pub policy: ObjectIdentifier,
    pub message_imprint: MessageImprint<'a>,
    pub serial_number: BigInt<'a>,
    /// With fractional seconds (RFC 3161 §2.4.2: trailing zeros omitted, `Z` required).
    pub gen_time: asn1::GeneralizedTime,
    pub accuracy: Option<Accuracy>,
    pub ordering: Option<bool>,
    pub nonce: Option<BigInt<'a>>,
    /// A GeneralName, EXPLICIT because GeneralName is a CHOICE (X.680 §31.2.7).
    #[explicit(0)]
    pub tsa: Option<crate::x509::GeneralName<'a>>,
    #[implicit(1)]
    pub extensions: Option<asn1::SequenceOf<'a, crate::x509::Extension<'a>>>,
}

/// `PKIStatusInfo` (RFC 3161 §2.4.2, from RFC 2510).
#[derive(asn1::Asn1Read, Clone)]
pub struct PkiStatusInfo<'a> {
    pub status: u8,
    /// `PKIFreeText ::= SEQUENCE SIZE (1..MAX) OF UTF8String`.
    pub status_string: Option<asn1::SequenceOf<'a, asn1::Utf8String<'a>>>,
    pub fail_info: Option<BitString<'a>>,
}

/// `TimeStampResp` (RFC 3161 §2.4.2). The token stays raw: it is verified as CMS.
#[derive(asn1::Asn1Read, Clone)]
pub struct TimeStampResp<'a> {
    pub status: PkiStatusInfo<'a>,
    pub time_stamp_token: Option<Tlv<'a>>,
}

/// `MessageImprint`, for writing a request.
#[derive(asn1::Asn1Write)]
pub struct MessageImprintWrite<'a> {
    /// A pre-encoded AlgorithmIdentifier, written byte for byte.
    pub hash_algorithm: Tlv<'a>,
    pub hashed_message: &'a [u8],
}

/// `TimeStampReq` (RFC 3161 §2.4.1). `cert_req` DEFAULT FALSE: `None` for false, as DER omits
/// a value equal to its default (X.690 §11.5). No extensions are ever requested.
#[derive(asn1::Asn1Write)]
pub struct TimeStampReqWrite<'a> {
    pub version: u8,
    pub message_imprint: MessageImprintWrite<'a>,
    pub req_policy: Option<ObjectIdentifier>,
    pub nonce: Option<BigInt<'a>>,
    pub cert_req: Option<bool>,
}

/// `PKIStatus` values (RFC 3161 §2.4.2).
pub mod status {
    pub const GRANTED: u8 = 0;
    pub const GRANTED_WITH_MODS: u8 = 1;
    pub const REJECTION: u8 = 2;
    pub const WAITING: u8 = 3;
    pub const REVOCATION_WARNING: u8 = 4;
    pub const REVOCATION_NOTIFICATION: u8 = 5;
}

/// `PKIFailureInfo` bit names (RFC 3161 §2.4.2), indexed by bit number.
pub const FAILURE_INFO_NAMES: &[(usize, &str)] = &[
    (0, "badAlg"),
    (2, "badRequest"),
    (5, "badDataFormat"),
    (14, "timeNotAvailable"),
    (15, "unacceptedPolicy"),
    (16, "unacceptedExtension"),
    (17, "addInfoNotAvailable"),
    (25, "systemFailure"),
];

/// Object identifiers of RFC 3161 and its CMS attributes.
pub mod oid {
    use asn1::ObjectIdentifier;
    /// id-ct-TSTInfo (RFC 3161 §2.4.2).
    pub const TST_INFO: ObjectIdentifier = asn1::oid!(1, 2, 840, 113549, 1, 9, 16, 1, 4);
    /// id-kp-timeStamping (RFC 3161 §2.3).
    pub const KP_TIME_STAMPING: ObjectIdentifier = asn1::oid!(1, 3, 6, 1, 5, 5, 7, 3, 8);
    /// id-aa-signatureTimeStampToken (RFC 3161 Appendix A).
    pub const SIGNATURE_TIME_STAMP_TOKEN: ObjectIdentifier = asn1::oid!(1, 2, 840, 113549, 1, 9, 16, 2, 14);
    /// id-aa-ets-contentTimestamp (RFC 5126 §5.11.4, ETSI EN 319 122-1 §5.2.8): a signed
    /// attribute holding a time-stamp token over the content.
    pub const CONTENT_TIME_STAMP: ObjectIdentifier = asn1::oid!(1, 2, 840, 113549, 1, 9, 16, 2, 20);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_encodes_as_rfc3161_says() {
        // SHA-256 AlgorithmIdentifier with NULL parameters.
        let alg = [
            0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00,
        ];
        let digest = [0xabu8; 32];
        let req = TimeStampReqWrite {
            version: 1,
            message_imprint: MessageImprintWrite {
                hash_algorithm: asn1::parse_single(&alg).expect("tlv"),
                hashed_message: &digest,
            },
            req_policy: None,
            nonce: BigInt::new(&[0x01, 0x02]),
            cert_req: Some(true),
        };
        let der = asn1::write_single(&req).expect("encodes");
        // SEQUENCE { INTEGER 1, SEQUENCE { alg, OCTET STRING }, INTEGER nonce, BOOLEAN TRUE }
        assert_eq!(&der[..5], &[0x30, 0x3d, 0x02, 0x01, 0x01]);
        assert!(der.ends_with(&[0x02, 0x02, 0x01, 0x02, 0x01, 0x01, 0xff]));
    }
}
