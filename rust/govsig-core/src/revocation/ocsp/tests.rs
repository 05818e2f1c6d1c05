//! Certificates and OCSP responses written here byte by byte (DER by hand, Ed25519 keys
//! from fixed seeds), so the path-context mode the revocation checker uses is tested
//! without Python, and every field can be broken on purpose.

use std::sync::Arc;

use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair};

use super::*;
use crate::policy::{KeyUsageRule, Policy};
use crate::revocation::checker::{EdgeCache, PathContext};
use crate::revocation::{CrlSet, RevocationMode};
use crate::time::UnixTime;
use crate::x509::{CertPool, CertRef, Certificate, TrustStore};

// ---- DER writing -----------------------------------------------------------------------

use crate::crypto::der::tlv;

fn seq(parts: &[&[u8]]) -> Vec<u8> {
    tlv(0x30, &parts.concat())
}

fn oid(o: &asn1::ObjectIdentifier) -> Vec<u8> {
    asn1::write_single(o).unwrap()
}

fn octets(v: &[u8]) -> Vec<u8> {
    tlv(0x04, v)
}

fn gen_time(s: &str) -> Vec<u8> {
    tlv(0x18, s.as_bytes())
}

fn name(cn: &str) -> Vec<u8> {
    let cn_oid = asn1::oid!(2, 5, 4, 3);
    seq(&[&tlv(0x31, &seq(&[&oid(&cn_oid), &tlv(0x0c, cn.as_bytes())]))])
}

fn ext(o: &asn1::ObjectIdentifier, critical: bool, value: &[u8]) -> Vec<u8> {
    if critical {
        seq(&[&oid(o), &[0x01, 0x01, 0xff], &octets(value)])
    } else {
        seq(&[&oid(o), &octets(value)])
    }
}

fn ed25519_alg() -> Vec<u8> {
    seq(&[&oid(&asn1::oid!(1, 3, 101, 112))])
}

fn key(seed: u8) -> Ed25519KeyPair {
    Ed25519KeyPair::from_seed_unchecked(&[seed; 32]).unwrap()
}

fn spki(k: &Ed25519KeyPair) -> Vec<u8> {
    seq(&[
        &ed25519_alg(),
        &tlv(0x03, &[&[0u8][..], k.public_key().as_ref()].concat()),
    ])
}

fn signed(tbs: &[u8], k: &Ed25519KeyPair) -> Vec<u8> {
    let sig = k.sign(tbs);
    seq(&[tbs, &ed25519_alg(), &tlv(0x03, &[&[0u8][..], sig.as_ref()].concat())])
}

const BC: asn1::ObjectIdentifier = asn1::oid!(2, 5, 29, 19);
const KU: asn1::ObjectIdentifier = asn1::oid!(2, 5, 29, 15);
const EKU: asn1::ObjectIdentifier = asn1::oid!(2, 5, 29, 37);
const AIA: asn1::ObjectIdentifier = asn1::oid!(1, 3, 6, 1, 5, 5, 7, 1, 1);

fn ca_exts() -> Vec<Vec<u8>> {
    vec![
        ext(&BC, true, &seq(&[&[0x01, 0x01, 0xff]])),
        ext(&KU, true, &[0x03, 0x02, 0x01, 0x06]),
    ]
}

fn responder_exts(nocheck: bool) -> Vec<Vec<u8>> {
    let mut v = vec![
        ext(&KU, true, &[0x03, 0x02, 0x07, 0x80]),
        ext(&EKU, false, &seq(&[&oid(&govsig_asn1::ocsp::oid::KP_OCSP_SIGNING)])),
    ];
    if nocheck {
        v.push(ext(&govsig_asn1::ocsp::oid::NO_CHECK, false, &[0x05, 0x00]));
    }
    v
}

struct CertSpec<'a> {
    serial: u8,
    issuer: &'a str,
    subject: &'a str,
    key: &'a Ed25519KeyPair,
    signer: &'a Ed25519KeyPair,
    not_after: &'a str,
    exts: Vec<Vec<u8>>,
}

fn cert(s: CertSpec<'_>) -> CertRef {
    let validity = seq(&[&tlv(0x17, b"230101000000Z"), &tlv(0x17, s.not_after.as_bytes())]);
    let mut parts: Vec<Vec<u8>> = vec![
        tlv(0xa0, &tlv(0x02, &[2])),
        tlv(0x02, &[s.serial]),
        ed25519_alg(),
        name(s.issuer),
        validity,
        name(s.subject),
        spki(s.key),
    ];
    if !s.exts.is_empty() {
        parts.push(tlv(0xa3, &tlv(0x30, &s.exts.concat())));
    }
    let tbs = tlv(0x30, &parts.concat());
    Arc::new(Certificate::from_der(&signed(&tbs, s.signer)).unwrap())
}

/// 2025-01-01T00:00:00Z
const AT: UnixTime = 1_735_689_600;

struct World {
    root_key: Ed25519KeyPair,
    root: CertRef,
    leaf: CertRef,
    other_root: CertRef,
    responder_key: Ed25519KeyPair,
}

fn world() -> World {
    let root_key = key(1);
    let root = cert(CertSpec {
        serial: 1,
        issuer: "Root",
        subject: "Root",
        key: &root_key,
        signer: &root_key,
        not_after: "300101000000Z",
        exts: ca_exts(),
    });
    let leaf = cert(CertSpec {
        serial: 0x42,
        issuer: "Root",
        subject: "Leaf",
        key: &key(2),
        signer: &root_key,
        not_after: "300101000000Z",
        exts: vec![],
    });
    let other_key = key(3);
    let other_root = cert(CertSpec {
        serial: 1,
        issuer: "Other",
        subject: "Other",
        key: &other_key,
        signer: &other_key,
        not_after: "300101000000Z",
        exts: ca_exts(),
    });
    World {
        root_key,
        root,
        leaf,
        other_root,
        responder_key: key(4),
    }
}

fn responder(w: &World, serial: u8, not_after: &str, exts: Vec<Vec<u8>>) -> CertRef {
    cert(CertSpec {
        serial,
        issuer: "Root",
        subject: "Responder",
        key: &w.responder_key,
        signer: &w.root_key,
        not_after,
        exts,
    })
}

/// `certStatus` encodings.
const GOOD: &[u8] = &[0x80, 0x00];
const UNKNOWN: &[u8] = &[0x82, 0x00];

struct ResponseSpec<'a> {
    responder_id: Vec<u8>,
    single_cert: &'a Certificate,
    single_issuer: &'a Certificate,
    status: Vec<u8>,
    this_update: &'a str,
    next_update: Option<&'a str>,
    response_exts: Vec<Vec<u8>>,
    certs: Vec<CertRef>,
    signer: &'a Ed25519KeyPair,
}

impl<'a> ResponseSpec<'a> {
    fn new(w: &'a World, signer: &'a Ed25519KeyPair) -> ResponseSpec<'a> {
        ResponseSpec {
            responder_id: tlv(0xa1, &name("Root")),
            single_cert: &w.leaf,
            single_issuer: &w.root,
            status: GOOD.to_vec(),
            this_update: "20241231230000Z",
            next_update: Some("20250102000000Z"),
            response_exts: Vec::new(),
            certs: Vec::new(),
            signer,
        }
    }

    fn build(&self) -> Vec<u8> {
        let id = CertId::new(
            self.single_cert,
            self.single_issuer,
            crate::crypto::DigestAlgorithm::Sha1,
        )
        .unwrap()
        .to_der()
        .unwrap();
        let mut single: Vec<Vec<u8>> = vec![id, self.status.clone(), gen_time(self.this_update)];
        if let Some(n) = self.next_update {
            single.push(tlv(0xa0, &gen_time(n)));
        }
        let mut data: Vec<Vec<u8>> = vec![
            self.responder_id.clone(),
            gen_time("20250101000000Z"),
            seq(&[&tlv(0x30, &single.concat())]),
        ];
        if !self.response_exts.is_empty() {
            data.push(tlv(0xa1, &tlv(0x30, &self.response_exts.concat())));
        }
        let tbs = tlv(0x30, &data.concat());
        let sig = self.signer.sign(&tbs);
        let mut basic: Vec<Vec<u8>> = vec![tbs, ed25519_alg(), tlv(0x03, &[&[0u8][..], sig.as_ref()].concat())];
        if !self.certs.is_empty() {
            let ders: Vec<&[u8]> = self.certs.iter().map(|c| c.der()).collect();
            basic.push(tlv(0xa0, &tlv(0x30, &ders.concat())));
        }
        let basic = tlv(0x30, &basic.concat());
        seq(&[
            &[0x0a, 0x01, 0x00],
            &tlv(0xa0, &seq(&[&oid(&govsig_asn1::ocsp::oid::BASIC), &octets(&basic)])),
        ])
    }
}

struct Ctx {
    policy: Policy,
    anchors: TrustStore,
    pool: CertPool,
    edges: EdgeCache,
    rule: KeyUsageRule,
    crls: CrlSet,
    ocsp: crate::revocation::OcspStore,
    failures: crate::revocation::FetchFailures,
}

impl Ctx {
    fn new(anchors: Vec<CertRef>) -> Ctx {
        Ctx {
            policy: Policy::default(),
            anchors: TrustStore::new(anchors),
            pool: CertPool::new(),
            edges: EdgeCache::default(),
            rule: KeyUsageRule::cms_signer_default(),
            crls: CrlSet::default(),
            ocsp: crate::revocation::OcspStore::default(),
            failures: crate::revocation::FetchFailures::default(),
        }
    }

    fn checker(&self, mode: RevocationMode, depth: usize) -> crate::revocation::RevocationChecker<'_> {
        crate::revocation::RevocationChecker {
            crls: &self.crls,
            ocsp: &self.ocsp,
            sources: &[
                crate::revocation::RevocationSource::Ocsp,
                crate::revocation::RevocationSource::Crl,
            ],
            ocsp_skew: 300,
            fetch_failures: &self.failures,
            mode,
            depth,
        }
    }

    fn path<'s>(&'s self, checker: &'s crate::revocation::RevocationChecker<'s>) -> PathContext<'s> {
        PathContext {
            policy: &self.policy,
            at: AT,
            anchors: &self.anchors,
            pool: &self.pool,
            edges: &self.edges,
            leaf_key_usage: &self.rule,
            revocation: checker,
        }
    }
}

fn on_path(der: &[u8], w: &World, revocation: RevocationMode, depth: usize) -> Result<OcspStatus, OcspError> {
    let ctx = Ctx::new(vec![Arc::clone(&w.root)]);
    let checker = ctx.checker(revocation, depth);
    let path = ctx.path(&checker);
    validate_response(
        der,
        &w.leaf,
        &w.root,
        &OcspCheck::new(AT),
        ResponderAuthority::OnPath {
            ctx: &path,
            anchor: &w.root,
            revocation: &checker,
        },
    )
}

// ---- tests ---------------------------------------------------------------------------------

#[test]
fn ca_signed_good_in_every_mode() {
    let w = world();
    let der = ResponseSpec::new(&w, &w.root_key).build();
    let s = on_path(&der, &w, RevocationMode::SoftFail, 0).unwrap();
    assert_eq!(s.status, CertStatus::Good);
    assert_eq!(s.code(), crate::Code::Ok);
    assert!(!s.delegated);
    assert_eq!(s.responder.fingerprint, w.root.fingerprint);
    let vouched = validate_response(
        &der,
        &w.leaf,
        &w.root,
        &OcspCheck::new(AT),
        ResponderAuthority::IssuerVouched,
    )
    .unwrap();
    assert_eq!(vouched.status, CertStatus::Good);
    let anchors = TrustStore::new(vec![Arc::clone(&w.root)]);
    let est = validate_response_with_anchors(&der, &w.leaf, &w.root, &OcspCheck::new(AT), Some(&anchors)).unwrap();
    assert_eq!(est.status, CertStatus::Good);
    let other = TrustStore::new(vec![Arc::clone(&w.other_root)]);
    let e = validate_response_with_anchors(&der, &w.leaf, &w.root, &OcspCheck::new(AT), Some(&other)).unwrap_err();
    assert_eq!(e.code, crate::Code::OcspUnauthorizedResponder, "{}", e.reason);
}

#[test]
fn responder_by_key_hash() {
    let w = world();
    let bits = subject_public_key_bits(&w.root).unwrap();
    let mut spec = ResponseSpec::new(&w, &w.root_key);
    spec.responder_id = tlv(0xa2, &octets(&crate::crypto::DigestAlgorithm::Sha1.digest(&bits)));
    spec.status = UNKNOWN.to_vec();
    let s = on_path(&spec.build(), &w, RevocationMode::Off, 0).unwrap();
    assert_eq!(s.status, CertStatus::Unknown);
    assert_eq!(s.code(), crate::Code::RevocationUnknown);
}

#[test]
fn delegated_responder_on_the_path() {
    let w = world();
    let r = responder(&w, 7, "300101000000Z", responder_exts(true));
    let mut spec = ResponseSpec::new(&w, &w.responder_key);
    spec.responder_id = tlv(0xa1, &name("Responder"));
    spec.certs = vec![Arc::clone(&r)];
    let s = on_path(&spec.build(), &w, RevocationMode::HardFail, 0).unwrap();
    assert!(s.delegated);
    assert_eq!(s.responder.fingerprint, r.fingerprint);
}

#[test]
fn delegated_responder_without_nocheck_has_its_revocation_checked() {
    let w = world();
    let r = responder(&w, 8, "300101000000Z", responder_exts(false));
    let mut spec = ResponseSpec::new(&w, &w.responder_key);
    spec.responder_id = tlv(0xa1, &name("Responder"));
    spec.certs = vec![Arc::clone(&r)];
    let der = spec.build();
    // No CRL for the responder: hard-fail refuses it, soft-fail accepts it.
    let e = on_path(&der, &w, RevocationMode::HardFail, 0).unwrap_err();
    assert_eq!(e.code, crate::Code::OcspUnauthorizedResponder);
    assert!(e.reason.contains("revocation status"), "{}", e.reason);
    assert!(on_path(&der, &w, RevocationMode::SoftFail, 0).is_ok());
    // Nested too deeply to check at all.
    let e = on_path(&der, &w, RevocationMode::SoftFail, 2).unwrap_err();
    assert!(e.reason.contains("nested too deeply"), "{}", e.reason);
}

#[test]
fn delegated_responder_refusals() {
    let w = world();
    let cases: Vec<(CertRef, &str)> = vec![
        (
            responder(&w, 9, "300101000000Z", vec![ext(&KU, true, &[0x03, 0x02, 0x07, 0x80])]),
            "lacks id-kp-OCSPSigning",
        ),
        (
            responder(&w, 10, "240601000000Z", responder_exts(true)),
            "not at the validation time",
        ),
        (
            {
                let mut exts = responder_exts(true);
                exts[0] = ext(&KU, true, &[0x03, 0x02, 0x02, 0x04]);
                responder(&w, 11, "300101000000Z", exts)
            },
            "neither digitalSignature nor nonRepudiation",
        ),
        (
            cert(CertSpec {
                serial: 12,
                issuer: "Root",
                subject: "Responder",
                key: &w.responder_key,
                signer: &key(5),
                not_after: "300101000000Z",
                exts: responder_exts(true),
            }),
            "not signed by the issuer's key",
        ),
    ];
    for (r, needle) in cases {
        let mut spec = ResponseSpec::new(&w, &w.responder_key);
        spec.responder_id = tlv(0xa1, &name("Responder"));
        spec.certs = vec![r];
        let e = on_path(&spec.build(), &w, RevocationMode::Off, 0).unwrap_err();
        assert_eq!(e.code, crate::Code::OcspUnauthorizedResponder, "{}", e.reason);
        assert!(e.reason.contains(needle), "{needle}: {}", e.reason);
    }
}

#[test]
fn stale_and_future_answers() {
    let w = world();
    let mut spec = ResponseSpec::new(&w, &w.root_key);
    spec.next_update = Some("20241231235000Z");
    let e = on_path(&spec.build(), &w, RevocationMode::Off, 0).unwrap_err();
    assert_eq!(e.code, crate::Code::OcspStale);
    spec.next_update = Some("20241231235600Z"); // within the default 300 s of skew
    assert!(on_path(&spec.build(), &w, RevocationMode::Off, 0).is_ok());
    spec.this_update = "20250101001000Z";
    spec.next_update = Some("20250102000000Z");
    let e = on_path(&spec.build(), &w, RevocationMode::Off, 0).unwrap_err();
    assert_eq!(e.code, crate::Code::OcspStale);
    spec.next_update = Some("20250101000000Z"); // before thisUpdate
    let e = on_path(&spec.build(), &w, RevocationMode::Off, 0).unwrap_err();
    assert_eq!(e.code, crate::Code::OcspInvalid);
    assert!(e.reason.contains("before thisUpdate"), "{}", e.reason);
}

#[test]
fn nonce_forms() {
    let w = world();
    let nonce = b"0123456789abcdef";
    let mut check = OcspCheck::new(AT);
    check.nonce = Some(nonce);
    for value in [octets(nonce), nonce.to_vec()] {
        let mut spec = ResponseSpec::new(&w, &w.root_key);
        spec.response_exts = vec![ext(&govsig_asn1::ocsp::oid::NONCE, false, &value)];
        assert!(validate_response(
            &spec.build(),
            &w.leaf,
            &w.root,
            &check,
            ResponderAuthority::IssuerVouched
        )
        .is_ok());
    }
    let mut spec = ResponseSpec::new(&w, &w.root_key);
    spec.response_exts = vec![ext(&govsig_asn1::ocsp::oid::NONCE, false, &octets(b"another"))];
    let e = validate_response(
        &spec.build(),
        &w.leaf,
        &w.root,
        &check,
        ResponderAuthority::IssuerVouched,
    )
    .unwrap_err();
    assert_eq!(e.code, crate::Code::OcspNonceMismatch);
    let twice = vec![ext(&govsig_asn1::ocsp::oid::NONCE, false, &octets(nonce)); 2];
    spec.response_exts = twice;
    let e = validate_response(
        &spec.build(),
        &w.leaf,
        &w.root,
        &check,
        ResponderAuthority::IssuerVouched,
    )
    .unwrap_err();
    assert_eq!(e.code, crate::Code::OcspInvalid);
}

#[test]
fn truncations_and_bit_flips_never_change_the_answer() {
    let w = world();
    let r = responder(&w, 7, "300101000000Z", responder_exts(true));
    let mut spec = ResponseSpec::new(&w, &w.responder_key);
    spec.responder_id = tlv(0xa1, &name("Responder"));
    spec.certs = vec![r];
    let der = spec.build();
    let check = OcspCheck::new(AT);
    for cut in 0..der.len() {
        let e =
            validate_response(&der[..cut], &w.leaf, &w.root, &check, ResponderAuthority::IssuerVouched).unwrap_err();
        assert_eq!(e.code, crate::Code::OcspInvalid, "cut {cut}: {}", e.reason);
    }
    for i in 0..der.len() {
        for mask in [0x01u8, 0x80] {
            let mut bad = der.clone();
            bad[i] ^= mask;
            if let Ok(s) = validate_response(&bad, &w.leaf, &w.root, &check, ResponderAuthority::IssuerVouched) {
                // Only bytes outside what is signed may change (the wrapper's own, none that
                // alter the status): the answer stays the signed one.
                assert_eq!(s.status, CertStatus::Good, "flip {i}");
            }
        }
    }
}

#[test]
fn request_carries_the_cert_id_and_nonce() {
    let w = world();
    let req = OcspRequest::new(&w.leaf, &w.root, crate::crypto::DigestAlgorithm::Sha256, Some(b"nonce")).unwrap();
    let id = CertId::new(&w.leaf, &w.root, crate::crypto::DigestAlgorithm::Sha256)
        .unwrap()
        .to_der()
        .unwrap();
    let nonce_ext = ext(&govsig_asn1::ocsp::oid::NONCE, false, &octets(b"nonce"));
    let expected = seq(&[&seq(&[&seq(&[&seq(&[&id])]), &tlv(0xa2, &seq(&[&nonce_ext]))])]);
    assert_eq!(req, expected);
    assert!(OcspRequest::new(&w.leaf, &w.root, crate::crypto::DigestAlgorithm::Sha1, Some(&[0u8; 33])).is_err());
    assert!(OcspRequest::new(&w.leaf, &w.other_root, crate::crypto::DigestAlgorithm::Sha1, None).is_err());
}

#[test]
fn urls_from_authority_info_access() {
    let w = world();
    let ad = |method: &asn1::ObjectIdentifier, uri: &str| seq(&[&oid(method), &tlv(0x86, uri.as_bytes())]);
    let ca_issuers = asn1::oid!(1, 3, 6, 1, 5, 5, 7, 48, 2);
    let aia = seq(&[
        &ad(&ca_issuers, "http://ca/x.crt"),
        &ad(&govsig_asn1::ocsp::oid::AD_OCSP, "http://ocsp/"),
    ]);
    let c = cert(CertSpec {
        serial: 3,
        issuer: "Root",
        subject: "AIA",
        key: &key(6),
        signer: &w.root_key,
        not_after: "300101000000Z",
        exts: vec![ext(&AIA, false, &aia)],
    });
    assert_eq!(ocsp_urls(&c).unwrap(), vec!["http://ocsp/".to_owned()]);
    assert!(ocsp_urls(&w.leaf).unwrap().is_empty());
}

/// caIssuers (RFC 5280 §4.2.2.1): a leaf whose issuer no one supplied names the URL as a
/// need; the certificate fetched from it completes the path as an untrusted intermediate;
/// what is not a certificate is refused with why; a self-signed certificate fetched so
/// never becomes an anchor; a URL the caller could not fetch is named in the reason.
#[test]
fn missing_issuer_is_named_by_ca_issuers_and_what_came_completes_the_path() {
    let w = world();
    let ca_key = key(7);
    let ca = cert(CertSpec {
        serial: 7,
        issuer: "Root",
        subject: "Issuing CA",
        key: &ca_key,
        signer: &w.root_key,
        not_after: "300101000000Z",
        exts: ca_exts(),
    });
    let ad = |uri: &str| {
        seq(&[
            &oid(&asn1::oid!(1, 3, 6, 1, 5, 5, 7, 48, 2)),
            &tlv(0x86, uri.as_bytes()),
        ])
    };
    let leaf = |serial: u8, url: &str| {
        cert(CertSpec {
            serial,
            issuer: "Issuing CA",
            subject: "Signer",
            key: &key(8),
            signer: &ca_key,
            not_after: "300101000000Z",
            exts: vec![ext(&AIA, false, &seq(&[&ad(url)]))],
        })
    };
    let policy = Policy {
        revocation: RevocationMode::Off,
        signer_key_usage: KeyUsageRule { any_of: Vec::new() },
        ..Policy::default()
    };
    let e = crate::batch::Engine::new(
        policy,
        Some(TrustStore::new(vec![Arc::clone(&w.root)])),
        Vec::new(),
        Vec::new(),
    );
    let at = 1_800_000_000;
    let good = leaf(1, "http://ca.example/issuing.crt");
    let o = e.verify_certificate_at(good.der(), &[], at);
    assert_eq!(o.code, Code::ChainUntrusted);
    assert_eq!(
        o.needs,
        vec![crate::need::EvidenceNeed::Issuer {
            url: "http://ca.example/issuing.crt".into()
        }]
    );
    // Bytes that are no certificate are refused, with why; a self-signed stranger is taken
    // as an intermediate and nothing more.
    let (added, errors) = e.add_fetched_issuers(&[b"<html>", w.other_root.der()]);
    assert_eq!((added, errors.len(), errors[0].0), (1, 1, 0));
    assert!(
        errors[0].1.contains("neither a DER certificate nor a PKCS#7"),
        "{errors:?}"
    );
    assert_eq!(
        e.verify_certificate_at(w.other_root.der(), &[], at).code,
        Code::ChainUntrusted
    );
    // The issuer's certificate completes the path.
    assert_eq!(e.add_fetched_issuers(&[ca.der()]), (1, Vec::new()));
    let o = e.verify_certificate_at(good.der(), &[], at);
    assert_eq!((o.code, o.chain.len(), o.needs.len()), (Code::Ok, 3, 0));
    // A URL the caller could not fetch leaves the needs and joins the reason.
    let e2 = crate::batch::Engine::new(
        Policy {
            revocation: RevocationMode::Off,
            signer_key_usage: KeyUsageRule { any_of: Vec::new() },
            ..Policy::default()
        },
        Some(TrustStore::new(vec![Arc::clone(&w.root)])),
        Vec::new(),
        Vec::new(),
    );
    e2.add_fetch_failures(
        vec![("http://ca.example/issuing.crt".into(), "HTTP 404 Not Found".into())],
        true,
    );
    let o = e2.verify_certificate_at(good.der(), &[], at);
    assert_eq!((o.code, o.needs.len()), (Code::ChainUntrusted, 0));
    assert!(
        o.reason.contains("http://ca.example/issuing.crt: HTTP 404 Not Found"),
        "{}",
        o.reason
    );
}

// ---- the engine: cache expiry and order, with OCSP evidence given up front ----------------

const REVOKED_KEY_COMPROMISE: fn(&str) -> Vec<u8> = |when| {
    // [1] RevokedInfo { revocationTime, [0] EXPLICIT CRLReason keyCompromise }
    tlv(0xa1, &[gen_time(when), tlv(0xa0, &[0x0a, 0x01, 0x01])].concat())
};

fn engine(w: &World, responses: &[&[u8]]) -> crate::batch::Engine {
    let policy = Policy {
        revocation: RevocationMode::HardFail,
        signer_key_usage: KeyUsageRule { any_of: Vec::new() },
        ..Policy::default()
    };
    crate::batch::Engine::new(
        policy,
        Some(TrustStore::new(vec![Arc::clone(&w.root)])),
        Vec::new(),
        Vec::new(),
    )
    .with_ocsp_responses(responses)
    .unwrap()
}

#[test]
fn cached_path_expires_with_the_ocsp_answer_that_decided_it() {
    let w = world();
    // nextUpdate 2025-01-02T00:00:00Z, skew 300 s.
    let good = ResponseSpec::new(&w, &w.root_key).build();
    let e = engine(&w, &[&good]);
    let next_update: UnixTime = AT + 86_400;
    let first = e.validate_path(&w.leaf, &[], &[], AT).unwrap();
    assert_eq!(first.valid_until, next_update + 300);
    assert!(first.revocation[0].ocsp.is_some());
    // Within the window the cached verdict is reused.
    let again = e.validate_path(&w.leaf, &[], &[], next_update + 300).unwrap();
    assert!(Arc::ptr_eq(&first, &again));
    // Past it, the verdict is recomputed: the answer is stale, and hard-fail refuses.
    let late = e.validate_path(&w.leaf, &[], &[], next_update + 301).unwrap_err();
    assert_eq!(late.code, Code::RevocationUnknown);
    assert!(
        late.reason
            .contains("is stale at the validation time 2025-01-02T00:05:01Z"),
        "{}",
        late.reason
    );
}

#[test]
fn cached_path_without_next_update_lives_only_the_skew() {
    let w = world();
    let mut spec = ResponseSpec::new(&w, &w.root_key);
    spec.this_update = "20241231235900Z";
    spec.next_update = None;
    let e = engine(&w, &[&spec.build()]);
    let p = e.validate_path(&w.leaf, &[], &[], AT).unwrap();
    // RFC 6960 §4.2.2.1: without nextUpdate, newer information is always available.
    assert_eq!(p.valid_until, AT - 60 + 300);
}

#[test]
fn older_good_and_newer_revoked_answers_revoke_in_either_order() {
    let w = world();
    let mut good = ResponseSpec::new(&w, &w.root_key);
    good.this_update = "20241230000000Z";
    let good = good.build();
    let mut revoked = ResponseSpec::new(&w, &w.root_key);
    revoked.status = REVOKED_KEY_COMPROMISE("20241231000000Z");
    let revoked = revoked.build();
    for order in [[&good[..], &revoked[..]], [&revoked[..], &good[..]]] {
        let err = engine(&w, &order).validate_path(&w.leaf, &[], &[], AT).unwrap_err();
        assert_eq!(err.code, Code::CertRevoked);
        assert!(
            err.reason
                .starts_with("'CN=Leaf' (serial 42) was revoked on 2024-12-31T00:00:00Z (key_compromise)"),
            "{}",
            err.reason
        );
    }
}

#[test]
fn an_answer_issued_after_t_speaks_for_t() {
    let w = world();
    // Issued four days after the validation time: revoked, but only from 2025-01-03.
    let mut later = ResponseSpec::new(&w, &w.root_key);
    later.this_update = "20250105000000Z";
    later.next_update = Some("20250112000000Z");
    later.status = REVOKED_KEY_COMPROMISE("20250103000000Z");
    let later = later.build();
    let e = engine(&w, &[&later]);
    let p = e.validate_path(&w.leaf, &[], &[], AT).unwrap();
    assert_eq!(p.revocation[0].status, crate::revocation::RevocationStatus::Good);
    // At a time after that revocation date, the same answer revokes.
    let err = e.validate_path(&w.leaf, &[], &[], AT + 5 * 86_400).unwrap_err();
    assert_eq!(err.code, Code::CertRevoked);
    assert!(
        err.reason
            .contains("was revoked on 2025-01-03T00:00:00Z (key_compromise)"),
        "{}",
        err.reason
    );
}
