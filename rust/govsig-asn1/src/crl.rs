//! Certificate revocation lists (RFC 5280 §5) and the distribution point structures shared
//! with the certificate's cRLDistributionPoints extension (RFC 5280 §4.2.1.13).
//!
//! `revokedCertificates` stays a raw SEQUENCE: a CRL may hold hundreds of thousands of
//! entries, and the index in govsig-core walks them once with [`read_revoked_entry`]
//! instead of letting a `SequenceOf` validate them all and then parse them again.

use asn1::{BigInt, BitString, SequenceOf, Tlv};

use crate::common::{LenientSet, Time};
use crate::x509::{Extension, GeneralName};

/// `CertificateList` (RFC 5280 §5.1). The TBS part stays raw: its bytes are what the
/// signature covers.
#[derive(asn1::Asn1Read, Clone)]
pub struct CertificateList<'a> {
    pub tbs_cert_list: Tlv<'a>,
    pub signature_alg: Tlv<'a>,
    pub signature: BitString<'a>,
}

/// `TBSCertList` (RFC 5280 §5.1.2).
#[derive(asn1::Asn1Read, Clone)]
pub struct TbsCertList<'a> {
    /// `Version OPTIONAL`; if present it must be v2 (1).
    pub version: Option<u64>,
    pub signature_alg: Tlv<'a>,
    pub issuer: Tlv<'a>,
    pub this_update: Time,
    pub next_update: Option<Time>,
    /// `revokedCertificates`, read entry by entry with [`read_revoked_entry`].
    pub revoked_certificates: Option<RawSequence<'a>>,
    #[explicit(0)]
    pub crl_extensions: Option<SequenceOf<'a, Extension<'a>>>,
}

/// A SEQUENCE whose content is left unparsed; [`RawSequence::content`] gives the bytes, to
/// be walked with `asn1::parse`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RawSequence<'a> {
    data: &'a [u8],
}

impl<'a> asn1::SimpleAsn1Readable<'a> for RawSequence<'a> {
    const TAG: asn1::Tag = <asn1::Sequence<'a> as asn1::SimpleAsn1Readable<'a>>::TAG;
    fn parse_data(data: &'a [u8]) -> asn1::ParseResult<Self> {
        Ok(RawSequence { data })
    }
}

impl<'a> RawSequence<'a> {
    /// The content octets.
    pub fn content(&self) -> &'a [u8] {
        self.data
    }
}

/// One element of `revokedCertificates` (RFC 5280 §5.1.2.6), kept shallow for speed: the
/// date is a raw TLV (the caller checks it is a `Time`) and the extensions a raw SEQUENCE of
/// [`RawExtension`], so each entry is read once without copying OIDs.
#[derive(asn1::Asn1Read, Clone)]
pub struct RevokedCertificate<'a> {
    pub user_certificate: BigInt<'a>,
    pub revocation_date: Tlv<'a>,
    pub crl_entry_extensions: Option<RawSequence<'a>>,
}

/// `Extension` with the OID left as its raw TLV (compared by bytes against known
/// encodings; the caller checks the tag). `critical` DEFAULT FALSE is DER-strict.
#[derive(asn1::Asn1Read, Clone)]
pub struct RawExtension<'a> {
    pub extn_id: Tlv<'a>,
    #[default(false)]
    pub critical: bool,
    pub extn_value: &'a [u8],
}

/// Reads the next entry of a `revokedCertificates` content.
pub fn read_revoked_entry<'a>(p: &mut asn1::Parser<'a>) -> asn1::ParseResult<RevokedCertificate<'a>> {
    p.read_element::<RevokedCertificate<'a>>()
}

/// The parts of one `revokedCertificates` entry, as read by [`fast_revoked_entry`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RevokedEntryParts<'a> {
    /// INTEGER content octets (minimal two's complement).
    pub serial: &'a [u8],
    /// UTCTime content octets (the tag was checked).
    pub utc_time: &'a [u8],
    /// The content of `crlEntryExtensions`, when present.
    pub extensions: Option<&'a [u8]>,
}

/// Reads a definite, minimally encoded DER length at the start of `d`: (length, header size).
fn der_length(d: &[u8]) -> Option<(usize, usize)> {
    let first = *d.first()?;
    if first < 0x80 {
        return Some((usize::from(first), 1));
    }
    let n = usize::from(first & 0x7f);
    // 0x80 (indefinite) is not DER; more than 4 octets is beyond any CRL we accept.
    if n == 0 || n > 4 {
        return None;
    }
    let bytes = d.get(1..=n)?;
    if bytes.first() == Some(&0) {
        return None;
    }
    let len = bytes.iter().fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
    // X.690 §10.1: the short form must be used when it can be.
    if len < 0x80 {
        return None;
    }
    Some((len, 1 + n))
}

/// Splits one TLV with a single-octet `tag` off the front of `d`: (content, rest).
fn der_tlv(d: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    if *d.first()? != tag {
        return None;
    }
    let (len, hdr) = der_length(d.get(1..)?)?;
    let start = 1 + hdr;
    let end = start.checked_add(len)?;
    Some((d.get(start..end)?, d.get(end..)?))
}

/// Fast path for the common shape of a `revokedCertificates` entry:
/// `SEQUENCE { INTEGER, UTCTime, SEQUENCE OPTIONAL }`, strictly DER (definite minimal
/// lengths, minimal INTEGER). Returns the parts and the bytes after the entry, or `None`
/// for anything else: the caller then reads the entry with [`read_revoked_entry`], which
/// accepts the other valid forms (GeneralizedTime) and produces the error for invalid ones.
/// A large CRL is mostly this shape, and reading it without the generic parser's
/// bookkeeping is what makes indexing 100,000 entries take milliseconds.
pub fn fast_revoked_entry(d: &[u8]) -> Option<(RevokedEntryParts<'_>, &[u8])> {
    const SEQUENCE: u8 = 0x30;
    const INTEGER: u8 = 0x02;
    const UTC_TIME: u8 = 0x17;
    let (body, rest) = der_tlv(d, SEQUENCE)?;
    let (serial, after_serial) = der_tlv(body, INTEGER)?;
    match serial {
        [] => return None,
        [0x00, next, ..] if *next < 0x80 => return None,
        [0xff, next, ..] if *next >= 0x80 => return None,
        _ => {}
    }
    let (utc_time, after_time) = der_tlv(after_serial, UTC_TIME)?;
    let extensions = if after_time.is_empty() {
        None
    } else {
        let (exts, tail) = der_tlv(after_time, SEQUENCE)?;
        if !tail.is_empty() {
            return None;
        }
        Some(exts)
    };
    Some((
        RevokedEntryParts {
            serial,
            utc_time,
            extensions,
        },
        rest,
    ))
}

/// `GeneralNames` with each name kept as its raw TLV: distribution point names are compared
/// by exact encoding except directory names, so the caller needs the bytes; each element
/// still parses as a [`GeneralName`] (checked by [`general_name`]).
pub type GeneralNames<'a> = SequenceOf<'a, Tlv<'a>>;

/// Parses one raw element of [`GeneralNames`].
pub fn general_name<'a>(tlv: &Tlv<'a>) -> asn1::ParseResult<GeneralName<'a>> {
    asn1::parse_single::<GeneralName<'a>>(tlv.full_data())
}

/// `DistributionPointName` (RFC 5280 §4.2.1.13). A CHOICE inside an explicitly tagged field.
#[derive(asn1::Asn1Read, Clone)]
pub enum DistributionPointName<'a> {
    #[implicit(0)]
    FullName(GeneralNames<'a>),
    /// `RelativeDistinguishedName`, kept raw: it is appended to the issuer's name.
    #[implicit(1)]
    NameRelativeToCrlIssuer(LenientSet<'a>),
}

/// `DistributionPoint` (RFC 5280 §4.2.1.13).
#[derive(asn1::Asn1Read, Clone)]
pub struct DistributionPoint<'a> {
    #[explicit(0)]
    pub distribution_point: Option<DistributionPointName<'a>>,
    #[implicit(1)]
    pub reasons: Option<BitString<'a>>,
    #[implicit(2)]
    pub crl_issuer: Option<GeneralNames<'a>>,
}

/// `CRLDistributionPoints` and `FreshestCRL` (RFC 5280 §4.2.1.13, §4.2.1.15, §5.2.6).
pub type CrlDistributionPoints<'a> = SequenceOf<'a, DistributionPoint<'a>>;

/// `IssuingDistributionPoint` (RFC 5280 §5.2.5). Booleans are DEFAULT FALSE, DER-strict.
#[derive(asn1::Asn1Read, Clone)]
pub struct IssuingDistributionPoint<'a> {
    #[explicit(0)]
    pub distribution_point: Option<DistributionPointName<'a>>,
    #[implicit(1)]
    #[default(false)]
    pub only_contains_user_certs: bool,
    #[implicit(2)]
    #[default(false)]
    pub only_contains_ca_certs: bool,
    #[implicit(3)]
    pub only_some_reasons: Option<BitString<'a>>,
    #[implicit(4)]
    #[default(false)]
    pub indirect_crl: bool,
    #[implicit(5)]
    #[default(false)]
    pub only_contains_attribute_certs: bool,
}

/// Object identifiers of CRL and CRL entry extensions (RFC 5280 §5.2, §5.3).
pub mod oid {
    use asn1::ObjectIdentifier;
    pub const AUTHORITY_KEY_IDENTIFIER: ObjectIdentifier = asn1::oid!(2, 5, 29, 35);
    pub const ISSUER_ALT_NAME: ObjectIdentifier = asn1::oid!(2, 5, 29, 18);
    pub const CRL_NUMBER: ObjectIdentifier = asn1::oid!(2, 5, 29, 20);
    pub const DELTA_CRL_INDICATOR: ObjectIdentifier = asn1::oid!(2, 5, 29, 27);
    pub const ISSUING_DISTRIBUTION_POINT: ObjectIdentifier = asn1::oid!(2, 5, 29, 28);
    pub const FRESHEST_CRL: ObjectIdentifier = asn1::oid!(2, 5, 29, 46);
    pub const AUTHORITY_INFO_ACCESS: ObjectIdentifier = asn1::oid!(1, 3, 6, 1, 5, 5, 7, 1, 1);
    pub const REASON_CODE: ObjectIdentifier = asn1::oid!(2, 5, 29, 21);
    pub const HOLD_INSTRUCTION_CODE: ObjectIdentifier = asn1::oid!(2, 5, 29, 23);
    pub const INVALIDITY_DATE: ObjectIdentifier = asn1::oid!(2, 5, 29, 24);
    pub const CERTIFICATE_ISSUER: ObjectIdentifier = asn1::oid!(2, 5, 29, 29);

    /// Full DER TLVs of the entry extension OIDs, for [`super::RawExtension`].
    pub const REASON_CODE_DER: &[u8] = &[0x06, 0x03, 0x55, 0x1d, 0x15];
    pub const HOLD_INSTRUCTION_CODE_DER: &[u8] = &[0x06, 0x03, 0x55, 0x1d, 0x17];
    pub const INVALIDITY_DATE_DER: &[u8] = &[0x06, 0x03, 0x55, 0x1d, 0x18];
    pub const CERTIFICATE_ISSUER_DER: &[u8] = &[0x06, 0x03, 0x55, 0x1d, 0x1d];
}

/// `ReasonFlags` bit numbers (RFC 5280 §4.2.1.13).
pub mod reason_flag {
    pub const KEY_COMPROMISE: usize = 1;
    pub const CA_COMPROMISE: usize = 2;
    pub const AFFILIATION_CHANGED: usize = 3;
    pub const SUPERSEDED: usize = 4;
    pub const CESSATION_OF_OPERATION: usize = 5;
    pub const CERTIFICATE_HOLD: usize = 6;
    pub const PRIVILEGE_WITHDRAWN: usize = 7;
    pub const AA_COMPROMISE: usize = 8;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slow(d: &[u8]) -> Option<(Vec<u8>, Vec<u8>, Option<Vec<u8>>)> {
        let (tlv, _) = asn1::strip_tlv(d).ok()?;
        let e = asn1::parse_single::<RevokedCertificate<'_>>(tlv.full_data()).ok()?;
        if e.revocation_date.tag() != <asn1::UtcTime as asn1::SimpleAsn1Readable<'_>>::TAG {
            return None;
        }
        Some((
            e.user_certificate.as_bytes().to_vec(),
            e.revocation_date.data().to_vec(),
            e.crl_entry_extensions.map(|x| x.content().to_vec()),
        ))
    }

    #[test]
    fn fast_entry_reader_agrees_with_the_generic_parser() {
        let good: &[&[u8]] = &[
            &[
                0x30, 0x12, 0x02, 0x01, 0x05, 0x17, 0x0d, b'2', b'4', b'0', b'1', b'0', b'1', b'0', b'0', b'0', b'0',
                b'0', b'0', b'Z',
            ],
            &[
                0x30, 0x13, 0x02, 0x02, 0x00, 0x80, 0x17, 0x0d, b'2', b'4', b'0', b'1', b'0', b'1', b'0', b'0', b'0',
                b'0', b'0', b'0', b'Z',
            ],
            &[
                0x30, 0x14, 0x02, 0x01, 0x05, 0x17, 0x0d, b'2', b'4', b'0', b'1', b'0', b'1', b'0', b'0', b'0', b'0',
                b'0', b'0', b'Z', 0x30, 0x00,
            ],
        ];
        for g in good {
            let (parts, rest) = fast_revoked_entry(g).unwrap();
            assert!(rest.is_empty());
            let (serial, time, exts) = slow(g).unwrap();
            assert_eq!(parts.serial, &serial[..]);
            assert_eq!(parts.utc_time, &time[..]);
            assert_eq!(parts.extensions.map(<[u8]>::to_vec), exts);
        }
        // Non-minimal INTEGER, non-minimal length, indefinite length, trailing junk inside.
        let bad: &[&[u8]] = &[
            &[
                0x30, 0x13, 0x02, 0x02, 0x00, 0x05, 0x17, 0x0d, b'2', b'4', b'0', b'1', b'0', b'1', b'0', b'0', b'0',
                b'0', b'0', b'0', b'Z',
            ],
            &[
                0x30, 0x81, 0x12, 0x02, 0x01, 0x05, 0x17, 0x0d, b'2', b'4', b'0', b'1', b'0', b'1', b'0', b'0', b'0',
                b'0', b'0', b'0', b'Z',
            ],
            &[0x30, 0x80, 0x02, 0x01, 0x05, 0x00, 0x00],
            &[
                0x30, 0x14, 0x02, 0x01, 0x05, 0x17, 0x0d, b'2', b'4', b'0', b'1', b'0', b'1', b'0', b'0', b'0', b'0',
                b'0', b'0', b'Z', 0x05, 0x00,
            ],
        ];
        for b in bad {
            assert!(fast_revoked_entry(b).is_none(), "{b:02x?}");
            assert!(slow(b).is_none(), "{b:02x?}");
        }
        // Every truncation of a good entry is refused by both.
        for g in good {
            for cut in 0..g.len() {
                assert!(fast_revoked_entry(&g[..cut]).is_none());
            }
        }
    }

    #[test]
    fn raw_entry_extension_oids_match_the_named_oids() {
        for (raw, o) in [
            (oid::REASON_CODE_DER, oid::REASON_CODE),
            (oid::HOLD_INSTRUCTION_CODE_DER, oid::HOLD_INSTRUCTION_CODE),
            (oid::INVALIDITY_DATE_DER, oid::INVALIDITY_DATE),
            (oid::CERTIFICATE_ISSUER_DER, oid::CERTIFICATE_ISSUER),
        ] {
            assert_eq!(asn1::write_single(&o).unwrap(), raw);
        }
    }

    #[test]
    fn idp_defaults_and_flags() {
        // SEQUENCE { [1] TRUE, [4] TRUE }
        let der = [0x30, 0x06, 0x81, 0x01, 0xff, 0x84, 0x01, 0xff];
        let idp = asn1::parse_single::<IssuingDistributionPoint<'_>>(&der).unwrap();
        assert!(idp.only_contains_user_certs);
        assert!(!idp.only_contains_ca_certs);
        assert!(idp.indirect_crl);
        assert!(idp.distribution_point.is_none());
        // An explicitly encoded DEFAULT FALSE is not DER.
        let bad = [0x30, 0x03, 0x81, 0x01, 0x00];
        assert!(asn1::parse_single::<IssuingDistributionPoint<'_>>(&bad).is_err());
    }

    #[test]
    fn distribution_point_full_name_uri() {
        // SEQUENCE { SEQUENCE { [0] { [0] { [6] "http://x" } } } }
        let uri = b"http://x";
        let mut gn = vec![0x86, 0x08];
        gn.extend_from_slice(uri);
        let mut full = vec![0xa0, u8::try_from(gn.len()).unwrap()];
        full.extend_from_slice(&gn);
        let mut dpn = vec![0xa0, u8::try_from(full.len()).unwrap()];
        dpn.extend_from_slice(&full);
        let mut dp = vec![0x30, u8::try_from(dpn.len()).unwrap()];
        dp.extend_from_slice(&dpn);
        let mut seq = vec![0x30, u8::try_from(dp.len()).unwrap()];
        seq.extend_from_slice(&dp);
        let dps = asn1::parse_single::<CrlDistributionPoints<'_>>(&seq).unwrap();
        let first = dps.clone().next().unwrap();
        match first.distribution_point {
            Some(DistributionPointName::FullName(names)) => {
                let n: Vec<_> = names.collect();
                assert_eq!(n.len(), 1);
                let g = general_name(&n[0]).unwrap();
                assert!(matches!(g, GeneralName::UniformResourceIdentifier(u) if u.as_str() == "http://x"));
            }
            _ => panic!("expected fullName"),
        }
    }
}
