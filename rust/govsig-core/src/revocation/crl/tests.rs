//! CRLs built here byte by byte (DER written by hand, signed with a fixed Ed25519 key), so
//! every field the index reads can be set, broken or omitted on purpose.

use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair};

use super::*;
use crate::crypto::PublicKey;
use crate::x509::Certificate;

// ---- DER writing -----------------------------------------------------------------------

use crate::crypto::der::tlv;

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

fn seq(parts: &[&[u8]]) -> Vec<u8> {
    tlv(0x30, &cat(parts))
}

fn int(content: &[u8]) -> Vec<u8> {
    tlv(0x02, content)
}

fn oid(o: &asn1::ObjectIdentifier) -> Vec<u8> {
    asn1::write_single(o).unwrap()
}

fn utc(s: &str) -> Vec<u8> {
    tlv(0x17, s.as_bytes())
}

fn gen_time(s: &str) -> Vec<u8> {
    tlv(0x18, s.as_bytes())
}

fn boolean_true() -> Vec<u8> {
    vec![0x01, 0x01, 0xff]
}

/// A Name of one or more RDNs, each `(oid, UTF8String value)`; most significant first.
fn dn(rdns: &[(&asn1::ObjectIdentifier, &str)]) -> Vec<u8> {
    let parts: Vec<Vec<u8>> = rdns
        .iter()
        .map(|(o, v)| tlv(0x31, &seq(&[&oid(o), &tlv(0x0c, v.as_bytes())])))
        .collect();
    tlv(0x30, &parts.concat())
}

const CN: asn1::ObjectIdentifier = asn1::oid!(2, 5, 4, 3);
const O: asn1::ObjectIdentifier = asn1::oid!(2, 5, 4, 10);
const C: asn1::ObjectIdentifier = asn1::oid!(2, 5, 4, 6);

fn ca_name(cn: &str) -> Vec<u8> {
    dn(&[(&C, "VN"), (&O, "Ban Cơ yếu Chính phủ"), (&CN, cn)])
}

fn ext(o: &asn1::ObjectIdentifier, critical: bool, value: &[u8]) -> Vec<u8> {
    if critical {
        seq(&[&oid(o), &boolean_true(), &tlv(0x04, value)])
    } else {
        seq(&[&oid(o), &tlv(0x04, value)])
    }
}

fn reason_ext(code: u8) -> Vec<u8> {
    ext(&govsig_asn1::crl::oid::REASON_CODE, false, &tlv(0x0a, &[code]))
}

fn crl_number_ext(n: u8) -> Vec<u8> {
    ext(&govsig_asn1::crl::oid::CRL_NUMBER, false, &int(&[n]))
}

fn delta_ext(base: u8) -> Vec<u8> {
    ext(&govsig_asn1::crl::oid::DELTA_CRL_INDICATOR, true, &int(&[base]))
}

fn idp_ext(content: &[&[u8]]) -> Vec<u8> {
    ext(&govsig_asn1::crl::oid::ISSUING_DISTRIBUTION_POINT, true, &seq(content))
}

fn uri(u: &str) -> Vec<u8> {
    tlv(0x86, u.as_bytes())
}

fn dir_name(name: &[u8]) -> Vec<u8> {
    tlv(0xa4, name)
}

/// `[0] { [0] GeneralNames }`: a distributionPoint field holding a fullName.
fn dp_full_name(names: &[&[u8]]) -> Vec<u8> {
    tlv(0xa0, &tlv(0xa0, &cat(names)))
}

fn entry(serial: &[u8], exts: &[&[u8]]) -> Vec<u8> {
    if exts.is_empty() {
        seq(&[&int(serial), &utc("240101000000Z")])
    } else {
        seq(&[&int(serial), &utc("240101000000Z"), &seq(exts)])
    }
}

fn key() -> Ed25519KeyPair {
    Ed25519KeyPair::from_seed_unchecked(&[7u8; 32]).unwrap()
}

fn other_key() -> Ed25519KeyPair {
    Ed25519KeyPair::from_seed_unchecked(&[9u8; 32]).unwrap()
}

fn spki(k: &Ed25519KeyPair) -> Vec<u8> {
    seq(&[
        &seq(&[&oid(&asn1::oid!(1, 3, 101, 112))]),
        &tlv(0x03, &cat(&[&[0], k.public_key().as_ref()])),
    ])
}

fn ed25519_alg() -> Vec<u8> {
    seq(&[&oid(&asn1::oid!(1, 3, 101, 112))])
}

struct Spec {
    version: Option<u8>,
    issuer: Vec<u8>,
    this_update: String,
    next_update: Option<String>,
    entries: Vec<Vec<u8>>,
    exts: Vec<Vec<u8>>,
}

impl Spec {
    fn new(issuer: Vec<u8>) -> Spec {
        Spec {
            version: Some(1),
            issuer,
            this_update: "240101000000Z".into(),
            next_update: Some("240201000000Z".into()),
            entries: Vec::new(),
            exts: vec![crl_number_ext(5)],
        }
    }

    fn tbs(&self) -> Vec<u8> {
        let mut parts: Vec<Vec<u8>> = Vec::new();
        if let Some(v) = self.version {
            parts.push(int(&[v]));
        }
        parts.push(ed25519_alg());
        parts.push(self.issuer.clone());
        parts.push(utc(&self.this_update));
        if let Some(n) = &self.next_update {
            parts.push(utc(n));
        }
        if !self.entries.is_empty() {
            parts.push(tlv(0x30, &self.entries.concat()));
        }
        if !self.exts.is_empty() {
            parts.push(tlv(0xa0, &tlv(0x30, &self.exts.concat())));
        }
        tlv(0x30, &parts.concat())
    }

    fn sign(&self, k: &Ed25519KeyPair) -> Vec<u8> {
        let tbs = self.tbs();
        let sig = k.sign(&tbs);
        seq(&[&tbs, &ed25519_alg(), &tlv(0x03, &cat(&[&[0], sig.as_ref()]))])
    }

    fn build(&self) -> Vec<u8> {
        self.sign(&key())
    }

    fn index(&self) -> CrlIndex {
        CrlIndex::from_der(&self.build()).unwrap()
    }

    fn error(&self) -> CrlError {
        CrlIndex::from_der(&self.build()).unwrap_err()
    }
}

/// A certificate (unsigned: the index never checks certificate signatures) with the given
/// names and extensions.
fn cert(issuer: &[u8], subject: &[u8], serial: &[u8], exts: &[&[u8]]) -> Certificate {
    let mut parts: Vec<Vec<u8>> = vec![
        tlv(0xa0, &int(&[2])),
        int(serial),
        ed25519_alg(),
        issuer.to_vec(),
        seq(&[&utc("230101000000Z"), &utc("300101000000Z")]),
        subject.to_vec(),
        spki(&key()),
    ];
    if !exts.is_empty() {
        parts.push(tlv(0xa3, &seq(exts)));
    }
    let tbs = tlv(0x30, &parts.concat());
    let der = seq(&[&tbs, &ed25519_alg(), &tlv(0x03, &[0, 1, 2, 3])]);
    Certificate::from_der(&der).unwrap()
}

fn ca_ext() -> Vec<u8> {
    ext(
        &govsig_asn1::x509::oid::BASIC_CONSTRAINTS,
        true,
        &seq(&[&boolean_true()]),
    )
}

fn key_usage_ext(bits: &[u8]) -> Vec<u8> {
    ext(&govsig_asn1::x509::oid::KEY_USAGE, true, &tlv(0x03, bits))
}

fn cdp_ext(dps: &[&[u8]]) -> Vec<u8> {
    ext(&govsig_asn1::x509::oid::CRL_DISTRIBUTION_POINTS, false, &seq(dps))
}

fn issuer_a() -> Vec<u8> {
    ca_name("CA A")
}

fn issuer_b() -> Vec<u8> {
    ca_name("CA B")
}

fn name(der: &[u8]) -> Name {
    Name::from_der(der).unwrap()
}

// ---- parsing and look-up ---------------------------------------------------------------

#[test]
fn index_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<CrlIndex>();
}

#[test]
fn header_entries_and_lookup() {
    let mut s = Spec::new(issuer_a());
    let hold = ext(
        &govsig_asn1::crl::oid::HOLD_INSTRUCTION_CODE,
        false,
        &oid(&asn1::oid!(1, 2, 840, 10040, 2, 2)),
    );
    let inval = ext(
        &govsig_asn1::crl::oid::INVALIDITY_DATE,
        false,
        &gen_time("20231231120000Z"),
    );
    s.entries = vec![
        entry(&[0x01], &[&reason_ext(1), &inval]),
        entry(&[0x00, 0x80], &[&reason_ext(6), &hold]),
        entry(&[0x7f, 0xff, 0xff], &[]),
        entry(&[0x05], &[&reason_ext(8)]),
    ];
    let crl = s.index();
    assert_eq!(crl.version, 2);
    assert_eq!(crl.issuer.to_string(), "CN=CA A, O=Ban Cơ yếu Chính phủ, C=VN");
    assert_eq!(crate::time::to_rfc3339(crl.this_update), "2024-01-01T00:00:00Z");
    assert_eq!(
        crl.next_update.map(crate::time::to_rfc3339).as_deref(),
        Some("2024-02-01T00:00:00Z")
    );
    assert_eq!(crl.crl_number.as_ref().and_then(CrlNumber::to_u128), Some(5));
    assert!(!crl.is_delta());
    assert_eq!(crl.len(), 4);
    let a = name(&issuer_a());
    let e = crl.lookup(&a, &[0x01]).unwrap();
    assert_eq!(e.reason, Some(Reason::KeyCompromise));
    assert_eq!(
        e.invalidity_date.map(crate::time::to_rfc3339).as_deref(),
        Some("2023-12-31T12:00:00Z")
    );
    assert!(e.certificate_issuer.is_none());
    let h = crl.lookup(&a, &[0x00, 0x80]).unwrap();
    assert_eq!(h.reason, Some(Reason::CertificateHold));
    assert_eq!(h.hold_instruction, Some(HoldInstruction::CallIssuer));
    assert_eq!(crl.lookup(&a, &[0x7f, 0xff, 0xff]).unwrap().reason, None);
    assert!(crl.lookup(&a, &[0x05]).unwrap().is_removal());
    // A serial that is not listed, and a listed serial under another issuer.
    assert!(crl.lookup(&a, &[0x02]).is_none());
    assert!(crl.lookup(&name(&issuer_b()), &[0x01]).is_none());
    // A non-minimal caller encoding finds the DER entry.
    assert!(crl.lookup(&a, &[0x00, 0x01]).is_some());
    assert_eq!(
        crl.entries().iter().map(|e| e.serial.to_hex()).collect::<Vec<_>>(),
        ["01", "0080", "7fffff", "05"]
    );
}

#[test]
fn serial_keys_normalise_and_spill_to_heap() {
    assert_eq!(SerialKey::from_integer_bytes(&[0x00, 0x00, 0x7f]).as_bytes(), &[0x7f]);
    assert_eq!(SerialKey::from_integer_bytes(&[0xff, 0xff, 0x80]).as_bytes(), &[0x80]);
    assert_eq!(SerialKey::from_integer_bytes(&[0x00, 0x80]).as_bytes(), &[0x00, 0x80]);
    assert!(SerialKey::from_integer_bytes(&[0xff, 0x7f]).is_negative());
    let long: Vec<u8> = (1..=40).collect();
    let k = SerialKey::from_integer_bytes(&long);
    assert_eq!(k.as_bytes(), &long[..]);
    assert_eq!(k, SerialKey::from_integer_bytes(&[&[0x00][..], &long[..]].concat()));

    let mut s = Spec::new(issuer_a());
    s.entries = vec![entry(&long, &[]), entry(&[0xff, 0x01], &[])];
    let crl = s.index();
    let a = name(&issuer_a());
    assert!(crl.lookup(&a, &long).is_some());
    assert!(crl.lookup(&a, &[0xff, 0x01]).unwrap().serial.is_negative());
}

#[test]
fn crl_numbers_compare_by_value() {
    let n = |b: &[u8]| CrlNumber::from_integer_bytes(b).unwrap();
    assert!(n(&[0x00, 0x80]) > n(&[0x7f]));
    assert!(n(&[0x01, 0x00]) > n(&[0x00, 0xff]));
    assert_eq!(n(&[0x00, 0x05]), n(&[0x05]));
    assert_eq!(n(&[0x00]).to_string(), "0");
    assert!(CrlNumber::from_integer_bytes(&[0x80]).is_none());
}

#[test]
fn v1_crl_without_extensions_is_accepted() {
    let mut s = Spec::new(issuer_a());
    s.version = None;
    s.exts.clear();
    s.entries = vec![entry(&[0x01], &[])];
    let crl = s.index();
    assert_eq!(crl.version, 1);
    assert!(crl.crl_number.is_none());
    assert_eq!(crl.len(), 1);
}

#[test]
fn version_rules() {
    let mut s = Spec::new(issuer_a());
    s.version = None;
    assert!(s.error().reason.contains("CRL extensions in a v1 CRL"), "{}", s.error());
    s.exts.clear();
    s.entries = vec![entry(&[0x01], &[&reason_ext(1)])];
    assert!(s.error().reason.contains("has extensions in a v1 CRL"), "{}", s.error());
    let mut s = Spec::new(issuer_a());
    s.version = Some(2);
    let e = s.error();
    assert_eq!(e.code, crate::Code::CrlInvalid);
    assert!(e.reason.contains("bad version: 3"), "{e}");
    assert!(e.reason.contains("CRL of 'CN=CA A"), "{e}");
}

#[test]
fn unknown_critical_extensions_make_the_crl_unusable() {
    let unknown = asn1::oid!(1, 3, 6, 1, 4, 1, 99999, 1);
    let mut s = Spec::new(issuer_a());
    s.exts.push(ext(&unknown, false, &[0x05, 0x00]));
    assert!(
        CrlIndex::from_der(&s.build()).is_ok(),
        "non-critical unknown extensions are ignored"
    );
    s.exts.pop();
    s.exts.push(ext(&unknown, true, &[0x05, 0x00]));
    let e = s.error();
    assert_eq!(e.code, crate::Code::CrlInvalid);
    assert!(
        e.reason.contains("unknown critical CRL extension 1.3.6.1.4.1.99999.1"),
        "{e}"
    );

    let mut s = Spec::new(issuer_a());
    s.entries = vec![
        entry(&[0x01], &[]),
        entry(&[0x02], &[&ext(&unknown, true, &[0x05, 0x00])]),
    ];
    let e = s.error();
    assert!(
        e.reason
            .contains("entry 1 (serial 02): unknown critical CRL entry extension 1.3.6.1.4.1.99999.1"),
        "{e}"
    );
}

#[test]
fn duplicate_entries_and_extensions_are_refused() {
    let mut s = Spec::new(issuer_a());
    s.entries = vec![
        entry(&[0x01], &[]),
        entry(&[0x02], &[]),
        entry(&[0x01], &[&reason_ext(1)]),
    ];
    let e = s.error();
    assert!(
        e.reason
            .contains("duplicate entries for serial 01 of certificate issuer 'CN=CA A"),
        "{e}"
    );

    let mut s = Spec::new(issuer_a());
    s.exts.push(crl_number_ext(6));
    assert!(
        s.error().reason.contains("duplicate CRL extension 2.5.29.20"),
        "{}",
        s.error()
    );

    let mut s = Spec::new(issuer_a());
    s.entries = vec![entry(&[0x01], &[&reason_ext(1), &reason_ext(2)])];
    assert!(
        s.error().reason.contains("duplicate extension 2.5.29.21"),
        "{}",
        s.error()
    );
}

#[test]
fn bad_reason_codes_and_times_are_refused() {
    let mut s = Spec::new(issuer_a());
    s.entries = vec![entry(&[0x01], &[&reason_ext(7)])];
    assert!(
        s.error().reason.contains("reasonCode 7 is not a CRLReason"),
        "{}",
        s.error()
    );
    let mut s = Spec::new(issuer_a());
    s.next_update = Some("231201000000Z".into());
    assert!(
        s.error().reason.contains("nextUpdate is before thisUpdate"),
        "{}",
        s.error()
    );
}

#[test]
fn signature_algorithm_fields_must_agree() {
    let s = Spec::new(issuer_a());
    let tbs = s.tbs();
    let sig = key().sign(&tbs);
    let other_alg = seq(&[&oid(&asn1::oid!(1, 2, 840, 10045, 4, 3, 2))]);
    let der = seq(&[&tbs, &other_alg, &tlv(0x03, &cat(&[&[0], sig.as_ref()]))]);
    let e = CrlIndex::from_der(&der).unwrap_err();
    assert!(e.reason.contains("signatureAlgorithm differs"), "{e}");
}

#[test]
fn every_truncation_is_an_error_not_a_panic() {
    let mut s = Spec::new(issuer_a());
    s.entries = vec![entry(&[0x01], &[&reason_ext(1)]), entry(&[0x02], &[])];
    let der = s.build();
    for cut in 0..der.len() {
        let e = CrlIndex::from_der(&der[..cut]).unwrap_err();
        assert_eq!(e.code, crate::Code::CrlInvalid);
        if cut > 0 {
            assert!(e.reason.contains("truncated"), "cut {cut}: {e}");
        }
    }
    let mut extra = der.clone();
    extra.push(0);
    assert!(CrlIndex::from_der(&extra).unwrap_err().reason.contains("trailing data"));
}

#[test]
fn every_single_byte_corruption_is_handled() {
    let mut s = Spec::new(issuer_a());
    s.entries = vec![entry(&[0x01], &[&reason_ext(1)])];
    s.exts.push(idp_ext(&[&tlv(0x81, &[0xff])]));
    let der = s.build();
    for i in 0..der.len() {
        for v in [0x00u8, 0xff, 0x80] {
            let mut d = der.clone();
            d[i] = v;
            // Either outcome is fine; what matters is no panic and a reason when refused.
            if let Err(e) = CrlIndex::from_der(&d) {
                assert!(!e.reason.is_empty());
            }
        }
    }
}

// ---- signature -------------------------------------------------------------------------

#[test]
fn signature_verifies_with_the_signer_key_only() {
    let mut s = Spec::new(issuer_a());
    s.entries = vec![entry(&[0x01], &[])];
    let crl = s.index();
    let good = PublicKey::from_spki(&spki(&key())).unwrap();
    let bad = PublicKey::from_spki(&spki(&other_key())).unwrap();
    crl.verify_signature(&good, false, 2048).unwrap();
    let e = crl.verify_signature(&bad, false, 2048).unwrap_err();
    assert_eq!(e.code, crate::Code::CrlInvalid);
    assert!(e.reason.contains("signature of CRL #5 of 'CN=CA A"), "{e}");

    let mut der = s.build();
    let pos = der.len() - 10;
    der[pos] ^= 1;
    let tampered = CrlIndex::from_der(&der).unwrap();
    assert!(tampered.verify_signature(&good, false, 2048).is_err());
    assert_eq!(crl.signature_algorithm_name(), "ed25519");
}

#[test]
fn crl_signer_checks() {
    let s = Spec::new(issuer_a());
    let crl = s.index();
    let root = issuer_b();
    let signer = cert(&root, &issuer_a(), &[0x10], &[&ca_ext(), &key_usage_ext(&[0x01, 0x06])]); // keyCertSign|cRLSign
    crl.check_signer(&signer).unwrap();
    crl.verify_signed_by(&signer, false, 2048).unwrap();
    assert!(crl.is_signer_candidate(&signer));
    let no_crl_sign = cert(&root, &issuer_a(), &[0x11], &[&ca_ext(), &key_usage_ext(&[0x02, 0x04])]); // keyCertSign
    assert!(crl
        .check_signer(&no_crl_sign)
        .unwrap_err()
        .reason
        .contains("lacks cRLSign"));
    let other = cert(&root, &issuer_b(), &[0x12], &[&ca_ext()]);
    assert!(crl
        .check_signer(&other)
        .unwrap_err()
        .reason
        .contains("not the CRL issuer"));
    assert!(!crl.is_signer_candidate(&other));
}

// ---- freshness -------------------------------------------------------------------------

#[test]
fn freshness_window() {
    let crl = Spec::new(issuer_a()).index();
    let t = |s: &str| {
        let dt = asn1::parse_single::<asn1::UtcTime>(&utc(s)).unwrap();
        crate::time::from_asn1(dt.as_datetime())
    };
    crl.check_freshness(t("240115000000Z"), 0).unwrap();
    let stale = crl.check_freshness(t("240301000000Z"), 0).unwrap_err();
    assert!(
        stale
            .reason
            .contains("is stale at 2024-03-01T00:00:00Z: nextUpdate was 2024-02-01T00:00:00Z"),
        "{stale}"
    );
    let early = crl.check_freshness(t("231231235900Z"), 0).unwrap_err();
    assert!(early.reason.contains("not yet valid"), "{early}");
    crl.check_freshness(t("231231235900Z"), 300).unwrap();
}

// ---- indirect CRLs ---------------------------------------------------------------------

fn cert_issuer_ext(names: &[&[u8]]) -> Vec<u8> {
    ext(&govsig_asn1::crl::oid::CERTIFICATE_ISSUER, true, &seq(names))
}

#[test]
fn certificate_issuer_applies_to_following_entries() {
    let mut s = Spec::new(issuer_a());
    s.exts.push(idp_ext(&[&tlv(0x84, &[0xff])]));
    s.entries = vec![
        entry(&[0x01], &[]),
        entry(&[0x02], &[&cert_issuer_ext(&[&dir_name(&issuer_b())])]),
        entry(&[0x03], &[]),
        entry(&[0x01], &[]), // same serial, other issuer: not a duplicate
        entry(&[0x04], &[&cert_issuer_ext(&[&dir_name(&issuer_a())])]),
    ];
    let crl = s.index();
    assert!(crl.is_indirect());
    let (a, b) = (name(&issuer_a()), name(&issuer_b()));
    assert!(crl.lookup(&a, &[0x01]).unwrap().certificate_issuer.is_none());
    for serial in [[0x02u8], [0x03], [0x01]] {
        let e = crl.lookup(&b, &serial).unwrap();
        assert!(e.certificate_issuer.as_ref().unwrap().matches(&b));
    }
    assert!(crl.lookup(&a, &[0x02]).is_none());
    assert!(crl.lookup(&a, &[0x04]).is_some());
    assert!(crl.lookup(&b, &[0x04]).is_none());
    assert_eq!(crl.lookup_any_issuer(&[0x01]).len(), 2);
    assert_eq!(crl.certificate_issuers().len(), 2);

    s.entries
        .push(entry(&[0x03], &[&cert_issuer_ext(&[&dir_name(&issuer_b())])]));
    assert!(s
        .error()
        .reason
        .contains("duplicate entries for serial 03 of certificate issuer 'CN=CA B"));
}

#[test]
fn certificate_issuer_outside_indirect_crl_is_refused() {
    let mut s = Spec::new(issuer_a());
    s.entries = vec![entry(&[0x02], &[&cert_issuer_ext(&[&dir_name(&issuer_b())])])];
    assert!(s
        .error()
        .reason
        .contains("certificateIssuer entry extension in a CRL that is not indirect"));
    let mut s = Spec::new(issuer_a());
    s.exts.push(idp_ext(&[&tlv(0x84, &[0xff])]));
    s.entries = vec![entry(&[0x02], &[&cert_issuer_ext(&[&uri("http://x")])])];
    assert!(s.error().reason.contains("names no directoryName"));
}

// ---- scope -----------------------------------------------------------------------------

fn leaf(issuer: &[u8], exts: &[&[u8]]) -> Certificate {
    cert(issuer, &dn(&[(&C, "VN"), (&CN, "Nguyễn Văn An")]), &[0x01], exts)
}

#[test]
fn plain_crl_covers_its_issuers_certificates_for_all_reasons() {
    let crl = Spec::new(issuer_a()).index();
    let c = leaf(&issuer_a(), &[]);
    assert_eq!(crl.scope_covers(&c, &[]).unwrap(), ReasonMask::ALL);
    let other = leaf(&issuer_b(), &[]);
    assert!(crl
        .scope_covers(&other, &[])
        .unwrap_err()
        .0
        .contains("is not from the issuer 'CN=CA B"));
}

#[test]
fn only_contains_user_or_ca_certs() {
    let mut s = Spec::new(issuer_a());
    s.exts.push(idp_ext(&[&tlv(0x81, &[0xff])]));
    let user_only = s.index();
    let ee = leaf(&issuer_a(), &[]);
    let ca = cert(&issuer_a(), &issuer_b(), &[0x02], &[&ca_ext()]);
    user_only.scope_covers(&ee, &[]).unwrap();
    assert!(user_only.scope_covers(&ca, &[]).unwrap_err().0.contains("(b)(2)(ii)"));

    let mut s = Spec::new(issuer_a());
    s.exts.push(idp_ext(&[&tlv(0x82, &[0xff])]));
    let ca_only = s.index();
    ca_only.scope_covers(&ca, &[]).unwrap();
    assert!(ca_only.scope_covers(&ee, &[]).unwrap_err().0.contains("(b)(2)(iii)"));

    let mut s = Spec::new(issuer_a());
    s.exts.push(idp_ext(&[&tlv(0x85, &[0xff])]));
    assert!(s
        .index()
        .scope_covers(&ee, &[])
        .unwrap_err()
        .0
        .contains("attribute certificates"));

    let mut s = Spec::new(issuer_a());
    s.exts.push(idp_ext(&[&tlv(0x81, &[0xff]), &tlv(0x82, &[0xff])]));
    assert!(s.error().reason.contains("more than one of onlyContainsUserCerts"));
    let mut s = Spec::new(issuer_a());
    s.exts.push(idp_ext(&[]));
    assert!(s.error().reason.contains("empty sequence"));
}

#[test]
fn distribution_point_names_must_match() {
    let mut s = Spec::new(issuer_a());
    s.exts
        .push(idp_ext(&[&dp_full_name(&[&uri("http://crl.example.vn/a.crl")])]));
    let crl = s.index();
    let matching = leaf(
        &issuer_a(),
        &[&cdp_ext(&[&seq(&[&dp_full_name(&[&uri(
            "http://crl.example.vn/a.crl",
        )])])])],
    );
    let dps = distribution_points(&matching).unwrap();
    assert_eq!(dps[0].uris(), ["http://crl.example.vn/a.crl"]);
    assert_eq!(crl.scope_covers(&matching, &dps).unwrap(), ReasonMask::ALL);

    let other = leaf(
        &issuer_a(),
        &[&cdp_ext(&[&seq(&[&dp_full_name(&[&uri(
            "http://crl.example.vn/b.crl",
        )])])])],
    );
    let e = crl
        .scope_covers(&other, &distribution_points(&other).unwrap())
        .unwrap_err();
    assert!(e.0.contains("(b)(2)(i)"), "{e}");
    // No cRLDistributionPoints: a CRL scoped to a named distribution point does not cover it.
    let bare = leaf(&issuer_a(), &[]);
    assert!(crl.scope_covers(&bare, &[]).is_err());
}

#[test]
fn name_relative_to_crl_issuer_is_appended_to_the_issuer() {
    let ou = asn1::oid!(2, 5, 4, 11);
    let rdn = tlv(0x31, &seq(&[&oid(&ou), &tlv(0x0c, b"CRL1")]));
    // IDP: [0] { [1] RDN-content }
    let rel = tlv(0xa0, &tlv(0xa1, &rdn[2..]));
    let mut s = Spec::new(issuer_a());
    s.exts.push(idp_ext(&[&rel]));
    let crl = s.index();
    // The certificate names the same point as a full directory name.
    let full = dn(&[(&C, "VN"), (&O, "Ban Cơ yếu Chính phủ"), (&CN, "CA A"), (&ou, "CRL1")]);
    let c = leaf(&issuer_a(), &[&cdp_ext(&[&seq(&[&dp_full_name(&[&dir_name(&full)])])])]);
    crl.scope_covers(&c, &distribution_points(&c).unwrap()).unwrap();
    // ... and as a relative name (relative to the certificate issuer).
    let c2 = leaf(&issuer_a(), &[&cdp_ext(&[&seq(&[&rel])])]);
    crl.scope_covers(&c2, &distribution_points(&c2).unwrap()).unwrap();
    let wrong = dn(&[(&C, "VN"), (&O, "Ban Cơ yếu Chính phủ"), (&CN, "CA A"), (&ou, "CRL2")]);
    let c3 = leaf(
        &issuer_a(),
        &[&cdp_ext(&[&seq(&[&dp_full_name(&[&dir_name(&wrong)])])])],
    );
    assert!(crl.scope_covers(&c3, &distribution_points(&c3).unwrap()).is_err());
}

#[test]
fn crl_issuer_in_the_distribution_point_needs_an_indirect_crl() {
    // The certificate is issued by B; its DP says A issues the CRL.
    let dp = seq(&[&tlv(0xa2, &dir_name(&issuer_a()))]);
    let c = leaf(&issuer_b(), &[&cdp_ext(&[&dp])]);
    let dps = distribution_points(&c).unwrap();
    let direct = Spec::new(issuer_a()).index();
    assert!(direct
        .scope_covers(&c, &dps)
        .unwrap_err()
        .0
        .contains("not an indirect CRL"));
    let mut s = Spec::new(issuer_a());
    s.exts.push(idp_ext(&[&tlv(0x84, &[0xff])]));
    let indirect = s.index();
    assert_eq!(indirect.scope_covers(&c, &dps).unwrap(), ReasonMask::ALL);
    // Not the named cRLIssuer.
    let mut s = Spec::new(ca_name("CA C"));
    s.exts.push(idp_ext(&[&tlv(0x84, &[0xff])]));
    assert!(s
        .index()
        .scope_covers(&c, &dps)
        .unwrap_err()
        .0
        .contains("not from the cRLIssuer"));
}

#[test]
fn reasons_masks_intersect() {
    // IDP onlySomeReasons = keyCompromise | cACompromise (bits 1, 2).
    let mut s = Spec::new(issuer_a());
    s.exts.push(idp_ext(&[&tlv(0x83, &[0x05, 0x60])]));
    let crl = s.index();
    let c = leaf(&issuer_a(), &[]);
    assert_eq!(crl.scope_covers(&c, &[]).unwrap(), ReasonMask(0b110));
    assert_eq!(
        crl.scope_covers(&c, &[]).unwrap().names(),
        ["key_compromise", "ca_compromise"]
    );
    // DP reasons = keyCompromise | superseded (bits 1, 4); with a cRLIssuer so it is valid.
    let dp = seq(&[&tlv(0x81, &[0x03, 0x48]), &tlv(0xa2, &dir_name(&issuer_a()))]);
    let mut s2 = Spec::new(issuer_a());
    s2.exts.push(idp_ext(&[&tlv(0x83, &[0x05, 0x60]), &tlv(0x84, &[0xff])]));
    let c2 = leaf(&issuer_b(), &[&cdp_ext(&[&dp])]);
    let m = s2
        .index()
        .scope_covers(&c2, &distribution_points(&c2).unwrap())
        .unwrap();
    assert_eq!(m, ReasonMask(0b10));
}

// ---- delta CRLs ------------------------------------------------------------------------

fn complete_and_delta() -> (Spec, Spec) {
    let mut base = Spec::new(issuer_a());
    base.exts = vec![crl_number_ext(10)];
    base.entries = vec![entry(&[0x01], &[&reason_ext(6)]), entry(&[0x02], &[&reason_ext(1)])];
    let mut delta = Spec::new(issuer_a());
    delta.exts = vec![crl_number_ext(11), delta_ext(10)];
    delta.entries = vec![entry(&[0x01], &[&reason_ext(8)]), entry(&[0x03], &[&reason_ext(6)])];
    (base, delta)
}

#[test]
fn delta_crl_status() {
    let (base, delta) = complete_and_delta();
    let (base, delta) = (base.index(), delta.index());
    assert!(delta.is_delta());
    assert_eq!(
        delta.delta_crl_indicator.as_ref().and_then(CrlNumber::to_u128),
        Some(10)
    );
    delta.delta_applies_to(&base).unwrap();
    let a = name(&issuer_a());
    // On hold in the base, removed by the delta.
    assert_eq!(base.lookup(&a, &[0x01]).unwrap().reason, Some(Reason::CertificateHold));
    assert!(revocation_status(&base, Some(&delta), &a, &[0x01]).unwrap().is_none());
    assert!(revocation_status(&base, None, &a, &[0x01]).unwrap().is_some());
    // Revoked in the base only.
    assert_eq!(
        revocation_status(&base, Some(&delta), &a, &[0x02])
            .unwrap()
            .unwrap()
            .reason,
        Some(Reason::KeyCompromise)
    );
    // Put on hold by the delta.
    assert_eq!(
        revocation_status(&base, Some(&delta), &a, &[0x03])
            .unwrap()
            .unwrap()
            .reason,
        Some(Reason::CertificateHold)
    );
    assert!(revocation_status(&base, Some(&delta), &a, &[0x04]).unwrap().is_none());
    // A delta is not a complete CRL.
    assert!(delta
        .scope_covers(&leaf(&issuer_a(), &[]), &[])
        .unwrap_err()
        .0
        .contains("delta CRL"));
}

#[test]
fn crl_number_profile_rules_refuse_as_evidence() {
    // RFC 5280 §5.2.3: a v2 CRL MUST carry cRLNumber, non-critical.
    let mut s = Spec::new(issuer_a());
    s.exts = vec![idp_ext(&[&tlv(0x84, &[0xff])])];
    let e = s.error();
    assert_eq!(e.code, Code::CrlInvalid);
    assert!(
        e.reason.contains("a v2 CRL without a cRLNumber (RFC 5280 §5.2.3"),
        "{e}"
    );
    let kept = CrlIndex::from_der_as_evidence(&s.build()).unwrap();
    assert_eq!(kept.defect.as_ref().map(|d| d.reason.clone()), Some(e.reason));
    s.exts = vec![ext(&govsig_asn1::crl::oid::CRL_NUMBER, true, &int(&[5]))];
    assert!(
        s.error().reason.contains("cRLNumber is marked critical"),
        "{}",
        s.error()
    );
}

#[test]
fn delta_must_fit_its_base() {
    let (base, mut delta) = complete_and_delta();
    let b = base.index();
    delta.exts = vec![crl_number_ext(12), delta_ext(11)];
    assert!(delta
        .index()
        .delta_applies_to(&b)
        .unwrap_err()
        .0
        .contains("below the BaseCRLNumber"));
    delta.exts = vec![crl_number_ext(10), delta_ext(9)];
    assert!(delta.index().delta_applies_to(&b).unwrap_err().0.contains("not above"));
    // A delta without a cRLNumber is refused before any base is considered (RFC 5280
    // §5.2.3: every CRL MUST carry one); it is kept as evidence that says why.
    delta.exts = vec![delta_ext(10)];
    assert!(
        delta.error().reason.contains("without a cRLNumber"),
        "{}",
        delta.error()
    );
    let kept = CrlIndex::from_der_as_evidence(&delta.build()).unwrap();
    assert!(kept.defect.is_some() && kept.is_empty());
    delta.exts = vec![crl_number_ext(11), delta_ext(10), idp_ext(&[&tlv(0x81, &[0xff])])];
    assert!(delta
        .index()
        .delta_applies_to(&b)
        .unwrap_err()
        .0
        .contains("issuingDistributionPoint differs"));
    let (_, mut other_issuer) = complete_and_delta();
    other_issuer.issuer = issuer_b();
    assert!(other_issuer
        .index()
        .delta_applies_to(&b)
        .unwrap_err()
        .0
        .contains("different issuers"));
    assert!(b.delta_applies_to(&b).unwrap_err().0.contains("not a delta CRL"));
    let a = name(&issuer_a());
    let bad_delta = delta.index();
    assert!(revocation_status(&b, Some(&bad_delta), &a, &[0x01]).is_err());
}

#[test]
fn freshest_crl_locations_are_read() {
    let mut s = Spec::new(issuer_a());
    s.exts.push(ext(
        &govsig_asn1::crl::oid::FRESHEST_CRL,
        false,
        &seq(&[&seq(&[&dp_full_name(&[&uri("http://crl.example.vn/delta.crl")])])]),
    ));
    let crl = s.index();
    let f = crl.freshest_crl.as_ref().unwrap();
    assert_eq!(f[0].uris(), ["http://crl.example.vn/delta.crl"]);
}

#[test]
fn bad_certificate_distribution_points_are_cert_malformed() {
    let only_reasons = seq(&[&tlv(0x81, &[0x07, 0x80])]);
    let c = leaf(&issuer_a(), &[&cdp_ext(&[&only_reasons])]);
    let e = distribution_points(&c).unwrap_err();
    assert_eq!(e.code, crate::Code::CertMalformed);
    assert!(e.reason.contains("neither distributionPoint nor cRLIssuer"), "{e}");
}

// ---- what a long-running engine may forget (revocation::prune) -------------------------

mod prune {
    use super::*;
    use crate::revocation::prune::prune_fetched;
    use crate::revocation::{CrlSet, OcspStore};

    /// CRL #`n` of one CA, issued on day `day` of January 2024 and valid for one day.
    fn daily(n: u8, day: u8, entries: Vec<Vec<u8>>) -> Arc<CrlIndex> {
        let mut s = Spec::new(ca_name("CA cắt tỉa"));
        s.this_update = format!("2401{day:02}000000Z");
        s.next_update = Some(format!("2401{:02}000000Z", day + 1));
        s.exts = vec![crl_number_ext(n)];
        s.entries = entries;
        Arc::new(s.index())
    }

    fn prune(set: &[Arc<CrlIndex>], clock: UnixTime) -> (Vec<[u8; 32]>, usize) {
        let mut crls = CrlSet::new(set.iter().cloned());
        let mut ocsp = OcspStore::default();
        let n = prune_fetched(
            &mut crls,
            &mut ocsp,
            &CrlSet::default(),
            &OcspStore::default(),
            clock,
            0,
        );
        let mut kept: Vec<[u8; 32]> = crls.iter().map(|c| c.fingerprint()).collect();
        kept.sort();
        (kept, n)
    }

    fn fps(set: &[&Arc<CrlIndex>]) -> Vec<[u8; 32]> {
        let mut v: Vec<[u8; 32]> = set.iter().map(|c| c.fingerprint()).collect();
        v.sort();
        v
    }

    fn after(c: &CrlIndex) -> UnixTime {
        c.next_update.unwrap_or(c.this_update) + 1
    }

    #[test]
    fn a_stale_crl_whose_entries_a_newer_one_lists_is_forgotten() {
        let a = daily(1, 1, vec![entry(&[1], &[])]);
        let b = daily(2, 2, vec![entry(&[1], &[]), entry(&[2], &[])]);
        assert_eq!(prune(&[a.clone(), b.clone()], after(&a)), (fps(&[&b]), 1));
        // Not yet stale at the latest validation time: kept.
        assert_eq!(prune(&[a.clone(), b.clone()], a.this_update).1, 0);
    }

    #[test]
    fn a_crl_listing_what_the_newer_one_dropped_is_kept() {
        // #1 lists serial 7; #2 no longer does (a CA may drop an expired certificate): the
        // revocation #1 shows at past times must not be lost.
        let a = daily(1, 1, vec![entry(&[1], &[]), entry(&[7], &[&reason_ext(1)])]);
        let b = daily(2, 2, vec![entry(&[1], &[])]);
        assert_eq!(prune(&[a.clone(), b.clone()], after(&b)).1, 0);
        // Another reason for the same serial is not the same revocation either.
        let c = daily(3, 3, vec![entry(&[1], &[]), entry(&[7], &[&reason_ext(4)])]);
        assert_eq!(prune(&[a.clone(), c], after(&b)).1, 0);
    }

    #[test]
    fn the_first_release_of_a_hold_is_kept() {
        // #1 holds serial 9 (certificateHold, 6); #2 releases it; #3 and #4 follow.
        let held = daily(1, 1, vec![entry(&[9], &[&reason_ext(6)])]);
        let released = daily(2, 2, vec![]);
        let third = daily(3, 3, vec![]);
        let fourth = daily(4, 4, vec![]);
        let all = [held.clone(), released.clone(), third.clone(), fourth.clone()];
        let (kept, n) = prune(&all, after(&fourth));
        assert_eq!(kept, fps(&[&held, &released, &fourth]));
        assert_eq!(n, 1);
    }

    #[test]
    fn crls_of_another_scope_do_not_supersede() {
        let a = daily(1, 1, vec![]);
        let mut s = Spec::new(ca_name("CA khác"));
        s.this_update = "240102000000Z".into();
        s.next_update = Some("240103000000Z".into());
        s.exts = vec![crl_number_ext(2)];
        let other = Arc::new(s.index());
        assert_eq!(prune(&[a.clone(), other], after(&a) + 86_400).1, 0);
    }
}
