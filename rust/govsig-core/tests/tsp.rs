//! RFC 3161 token verification in the core, with no Python and no OpenSSL: a small Ed25519
//! PKI (root, TSA certificates with the EKU right and wrong) built here from fixed seeds,
//! TSTInfos written byte by byte, and tokens signed with govsig's own CMS signer (which
//! writes ESS signing-certificate-v2). The interop with `openssl ts` is tested from Python
//! (tests/test_timestamps.py); this file pins each rule of RFC 3161 to its outcome code.

use std::sync::Arc;

use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair};
use govsig_core::cms::sign::{CmsSigner, SignOptions, SoftwareKey};
use govsig_core::crypto::DigestAlgorithm;
use govsig_core::revocation::RevocationMode;
use govsig_core::tsp::Stamped;
use govsig_core::x509::{Certificate, TrustStore};
use govsig_core::{Code, Engine, Policy};

// --- a minimal DER writer and certificate factory ------------------------------------------

fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else if len < 0x100 {
        out.extend_from_slice(&[0x81, len as u8]);
    } else {
        out.extend_from_slice(&[0x82, (len >> 8) as u8, len as u8]);
    }
    out.extend_from_slice(content);
    out
}

fn seq(parts: &[&[u8]]) -> Vec<u8> {
    tlv(0x30, &parts.concat())
}

const ED25519_ALG: &[u8] = &[0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70];
const SHA256_ALG: &[u8] = &[
    0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00,
];
const OID_TIME_STAMPING: &[u8] = &[0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x08];
const OID_EMAIL_PROTECTION: &[u8] = &[0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x04];
const TST_INFO: asn1::ObjectIdentifier = asn1::oid!(1, 2, 840, 113549, 1, 9, 16, 1, 4);

fn name(cn: &str) -> Vec<u8> {
    let atv = seq(&[&[0x06, 0x03, 0x55, 0x04, 0x03], &tlv(0x0c, cn.as_bytes())]);
    seq(&[&tlv(0x31, &atv)])
}

fn extension(oid_body: &[u8], critical: bool, value: &[u8]) -> Vec<u8> {
    let oid = tlv(0x06, oid_body);
    let crit: &[u8] = if critical { &[0x01, 0x01, 0xff] } else { &[] };
    seq(&[&oid, crit, &tlv(0x04, value)])
}

struct Issued {
    der: Vec<u8>,
    key: Ed25519KeyPair,
    subject: Vec<u8>,
}

/// EKU of a TSA certificate: the purposes, and whether the extension is critical.
type Eku<'a> = Option<(&'a [&'a [u8]], bool)>;

fn issue(cn: &str, seed: u8, serial: u8, issuer: Option<&Issued>, ca: bool, eku: Eku<'_>) -> Issued {
    let key = Ed25519KeyPair::from_seed_unchecked(&[seed; 32]).expect("seed");
    let subject = name(cn);
    let issuer_name = issuer.map(|i| i.subject.clone()).unwrap_or_else(|| subject.clone());
    let spki = seq(&[
        ED25519_ALG,
        &tlv(0x03, &[&[0u8][..], key.public_key().as_ref()].concat()),
    ]);
    // 2025-01-01 .. 2035-01-01, UTCTime (RFC 5280 §4.1.2.5.1).
    let validity = seq(&[&tlv(0x17, b"250101000000Z"), &tlv(0x17, b"350101000000Z")]);
    let mut exts = Vec::new();
    if ca {
        exts.push(extension(&[0x55, 0x1d, 0x13], true, &seq(&[&[0x01, 0x01, 0xff]])));
        // keyCertSign | cRLSign
        exts.push(extension(&[0x55, 0x1d, 0x0f], true, &[0x03, 0x02, 0x01, 0x06]));
    } else {
        // digitalSignature | nonRepudiation
        exts.push(extension(&[0x55, 0x1d, 0x0f], true, &[0x03, 0x02, 0x06, 0xc0]));
    }
    if let Some((purposes, critical)) = eku {
        exts.push(extension(&[0x55, 0x1d, 0x25], critical, &seq(purposes)));
    }
    let tbs = seq(&[
        &[0xa0, 0x03, 0x02, 0x01, 0x02],
        &[0x02, 0x01, serial],
        ED25519_ALG,
        &issuer_name,
        &validity,
        &subject,
        &spki,
        &tlv(0xa3, &seq(&exts.iter().map(Vec::as_slice).collect::<Vec<_>>())),
    ]);
    let signing_key = issuer.map(|i| &i.key).unwrap_or(&key);
    let sig = signing_key.sign(&tbs);
    let der = seq(&[&tbs, ED25519_ALG, &tlv(0x03, &[&[0u8][..], sig.as_ref()].concat())]);
    Issued { der, key, subject }
}

struct Fixture {
    root: Issued,
    tsa: Issued,
}

fn fixture() -> Fixture {
    let root = issue("Gốc thử nghiệm", 1, 1, None, true, None);
    let tsa = issue(
        "TSA thử nghiệm",
        2,
        2,
        Some(&root),
        false,
        Some((&[OID_TIME_STAMPING], true)),
    );
    Fixture { root, tsa }
}

fn engine(root: &Issued, at: i64) -> Engine {
    let anchor = Arc::new(Certificate::from_der(&root.der).expect("root parses"));
    let policy = Policy {
        at: Some(at),
        revocation: RevocationMode::Off,
        ..Policy::default()
    };
    Engine::new(policy, Some(TrustStore::new(vec![anchor])), Vec::new(), Vec::new())
}

/// 2026-06-01T00:00:00Z
const AT: i64 = 1_780_272_000;

struct Tst<'a> {
    version: u8,
    data: &'a [u8],
    gen_time: &'a [u8],
    millis: u16,
    tsa_name: Option<Vec<u8>>,
}

impl Default for Tst<'_> {
    fn default() -> Self {
        Tst {
            version: 1,
            data: b"van ban",
            gen_time: b"20260101120000.25Z",
            millis: 500,
            tsa_name: None,
        }
    }
}

fn tst_info(t: &Tst<'_>) -> Vec<u8> {
    let digest = DigestAlgorithm::Sha256.digest(t.data);
    let imprint = seq(&[SHA256_ALG, &tlv(0x04, &digest)]);
    // policy 1.3.6.1.4.1.99999.3161.1
    let policy = tlv(
        0x06,
        &[0x2b, 0x06, 0x01, 0x04, 0x01, 0x86, 0x8d, 0x1f, 0x98, 0x59, 0x01],
    );
    let millis = t.millis;
    let millis_der = if millis < 0x80 {
        vec![0x80, 0x01, millis as u8]
    } else {
        vec![0x80, 0x02, (millis >> 8) as u8, millis as u8]
    };
    let accuracy = seq(&[&[0x02, 0x01, 0x01], &millis_der]);
    let tsa = t
        .tsa_name
        .as_ref()
        .map(|n| tlv(0xa0, &tlv(0xa4, n)))
        .unwrap_or_default();
    seq(&[
        &[0x02, 0x01, t.version],
        &policy,
        &imprint,
        &[0x02, 0x02, 0x30, 0x39],
        &tlv(0x18, t.gen_time),
        &accuracy,
        &[0x02, 0x02, 0x12, 0x34],
        &tsa,
    ])
}

fn token(tst: &[u8], signer: &Issued, chain: &[&Issued]) -> Vec<u8> {
    let pkcs8 = signer.key.to_pkcs8v1().expect("pkcs8");
    let key = SoftwareKey::from_pkcs8(pkcs8.as_ref(), signer.der.clone()).expect("key matches");
    let cms = CmsSigner::new(Arc::new(key), chain.iter().map(|c| c.der.clone()).collect()).expect("signer");
    let opts = SignOptions {
        detached: false,
        content_type: TST_INFO,
        ..SignOptions::default()
    };
    cms.sign(tst, &opts).expect("signs")
}

// --- the rules, one by one -----------------------------------------------------------------

#[test]
fn a_good_token_reports_what_it_says() {
    let f = fixture();
    let tok = token(&tst_info(&Tst::default()), &f.tsa, &[]);
    let out = engine(&f.root, AT).verify_timestamp(&tok, Stamped::Data(b"van ban"));
    assert_eq!((out.code, out.reason.as_str()), (Code::Ok, ""));
    let g = out.gen_time.expect("genTime");
    assert_eq!((g.seconds, g.nanos), (1_767_268_800, 250_000_000));
    assert_eq!(g.to_rfc3339(), "2026-01-01T12:00:00.25Z");
    assert_eq!(out.accuracy.map(|a| a.total_micros()), Some(1_500_000));
    assert_eq!(out.serial.as_deref(), Some(&[0x30, 0x39][..]));
    assert_eq!(out.nonce.as_deref(), Some(&[0x12, 0x34][..]));
    assert_eq!(out.policy_oid.as_deref(), Some("1.3.6.1.4.1.99999.3161.1"));
    assert_eq!(out.hash_algorithm, Some("sha256"));
    assert_eq!(out.tsa_subject().as_deref(), Some("CN=TSA thử nghiệm"));
    assert_eq!(out.chain.len(), 2);
    // The same token checked against a digest computed elsewhere.
    let d = DigestAlgorithm::Sha256.digest(b"van ban");
    let by_digest = engine(&f.root, AT).verify_timestamp(
        &tok,
        Stamped::Digest {
            algorithm: DigestAlgorithm::Sha256,
            digest: &d,
        },
    );
    assert_eq!(by_digest.code, Code::Ok);
}

#[test]
fn imprint_of_other_data() {
    let f = fixture();
    let tok = token(&tst_info(&Tst::default()), &f.tsa, &[]);
    let out = engine(&f.root, AT).verify_timestamp(&tok, Stamped::Data(b"van ban khac"));
    assert_eq!(out.code, Code::TimestampImprintMismatch);
    assert!(out.reason.starts_with("the token stamps other data"), "{}", out.reason);
}

#[test]
fn tsa_eku_must_be_timestamping_alone_and_critical() {
    let f = fixture();
    let tst = tst_info(&Tst::default());
    let cases: [(Eku<'_>, &str); 3] = [
        (Some((&[OID_TIME_STAMPING], false)), "non-critical"),
        (
            Some((&[OID_TIME_STAMPING, OID_EMAIL_PROTECTION], true)),
            "other purposes too",
        ),
        (None, "has no extendedKeyUsage"),
    ];
    for (i, (eku, why)) in cases.into_iter().enumerate() {
        let bad = issue("TSA sai", 10 + i as u8, 10 + i as u8, Some(&f.root), false, eku);
        let out = engine(&f.root, AT).verify_timestamp(&token(&tst, &bad, &[]), Stamped::Data(b"van ban"));
        assert_eq!(out.code, Code::TimestampTsaUnauthorized, "{why}");
        assert_eq!(out.cause, Some(Code::KeyUsageInvalid));
        assert!(out.reason.contains(why), "{why}: {}", out.reason);
    }
}

#[test]
fn untrusted_tsa() {
    let f = fixture();
    let other_root = issue("Gốc khác", 20, 20, None, true, None);
    let tsa = issue(
        "TSA khác",
        21,
        21,
        Some(&other_root),
        false,
        Some((&[OID_TIME_STAMPING], true)),
    );
    let tok = token(&tst_info(&Tst::default()), &tsa, &[]);
    let out = engine(&f.root, AT).verify_timestamp(&tok, Stamped::Data(b"van ban"));
    assert_eq!(
        (out.code, out.cause),
        (Code::TimestampUntrusted, Some(Code::ChainUntrusted))
    );
    assert_eq!(
        engine(&other_root, AT)
            .verify_timestamp(&tok, Stamped::Data(b"van ban"))
            .code,
        Code::Ok
    );
}

#[test]
fn broken_token_signature() {
    let f = fixture();
    let mut tok = token(&tst_info(&Tst::default()), &f.tsa, &[]);
    // The Ed25519 signature value is the last 64 bytes of the SignerInfo (no unsigned attrs).
    let n = tok.len();
    tok[n - 10] ^= 1;
    let out = engine(&f.root, AT).verify_timestamp(&tok, Stamped::Data(b"van ban"));
    assert_eq!(
        (out.code, out.cause),
        (Code::TimestampInvalid, Some(Code::SignatureInvalid))
    );
    assert!(out.reason.starts_with("the token's own signature is not intact"));
}

#[test]
fn a_twin_tsa_certificate_is_refused_by_the_ess_binding() {
    // The same key, issuer and serial under another subject (same length, so it can replace
    // the TSA's certificate in the token byte for byte): the signature verifies with it, but
    // ESS signing-certificate-v2 names the real one (RFC 5035 §5.4, certificate substitution).
    let f = fixture();
    let twin = issue(
        "TSA thử nghiệM",
        2,
        2,
        Some(&f.root),
        false,
        Some((&[OID_TIME_STAMPING], true)),
    );
    assert_eq!(twin.der.len(), f.tsa.der.len());
    let tok = token(&tst_info(&Tst::default()), &f.tsa, &[]);
    let at = tok
        .windows(f.tsa.der.len())
        .position(|w| w == f.tsa.der.as_slice())
        .expect("the token carries its TSA certificate");
    let mut swapped = tok.clone();
    swapped[at..at + twin.der.len()].copy_from_slice(&twin.der);
    let e = engine(&f.root, AT);
    // The engine has seen the real certificate first: the twin is not taken for it.
    assert_eq!(e.verify_timestamp(&tok, Stamped::Data(b"van ban")).code, Code::Ok);
    let out = e.verify_timestamp(&swapped, Stamped::Data(b"van ban"));
    assert_eq!(
        (out.code, out.cause),
        (Code::TimestampInvalid, Some(Code::SigningCertificateMismatch)),
        "{}",
        out.reason
    );
    assert_eq!(out.tsa_subject().as_deref(), Some("CN=TSA thử nghiệM"));
}

#[test]
fn the_interner_never_takes_one_certificate_for_another_with_the_same_tail() {
    // Certificates are looked up by their length and last bytes (the signature value's end),
    // then compared whole: a certificate altered before its signature (here its serial) has
    // the same length and tail, and must come back as itself.
    let f = fixture();
    let interner = govsig_core::x509::CertInterner::with_limit(0);
    let real = interner.get_or_parse(&f.tsa.der).expect("parses");
    assert!(Arc::ptr_eq(&real, &interner.get_or_parse(&f.tsa.der).expect("parses")));
    // version [0] v3, then serialNumber INTEGER 2.
    let serial_at = f
        .tsa
        .der
        .windows(8)
        .position(|w| w == [0xa0, 0x03, 0x02, 0x01, 0x02, 0x02, 0x01, 2])
        .expect("serial 2")
        + 7;
    let mut altered = f.tsa.der.clone();
    altered[serial_at] = 3;
    let other = interner.get_or_parse(&altered).expect("parses");
    assert_eq!(other.der(), altered.as_slice());
    assert_eq!(
        (real.serial.as_slice(), other.serial.as_slice()),
        (&[2u8][..], &[3u8][..])
    );
    // Both stay interned, each under its own bytes.
    assert!(Arc::ptr_eq(&other, &interner.get_or_parse(&altered).expect("parses")));
    assert!(Arc::ptr_eq(&real, &interner.get_or_parse(&f.tsa.der).expect("parses")));
    assert_eq!(interner.len(), 2);
    // ESS certHash by SHA-256 is the fingerprint; by SHA-1 it is computed.
    assert_eq!(
        &*real.hash_with(DigestAlgorithm::Sha256),
        DigestAlgorithm::Sha256.digest(&f.tsa.der).as_slice()
    );
    assert_eq!(
        &*real.hash_with(DigestAlgorithm::Sha1),
        DigestAlgorithm::Sha1.digest(&f.tsa.der).as_slice()
    );
}

#[test]
fn tstinfo_rules() {
    let f = fixture();
    let check = |t: Tst<'_>, reason_part: &str| {
        let out = engine(&f.root, AT).verify_timestamp(&token(&tst_info(&t), &f.tsa, &[]), Stamped::Data(b"van ban"));
        assert_eq!(out.code, Code::TimestampInvalid, "{reason_part}: {}", out.reason);
        assert!(out.reason.contains(reason_part), "{reason_part}: {}", out.reason);
    };
    check(
        Tst {
            version: 2,
            ..Tst::default()
        },
        "TSTInfo version 2 is not v1 (RFC 3161 §2.4.2)",
    );
    check(
        Tst {
            millis: 1000,
            ..Tst::default()
        },
        "accuracy millis is 1000, outside 1..999",
    );
    check(
        Tst {
            tsa_name: Some(name("Một TSA khác")),
            ..Tst::default()
        },
        "the TSTInfo names the TSA 'CN=Một TSA khác'",
    );
    check(
        Tst {
            gen_time: b"20240101000000Z",
            ..Tst::default()
        },
        "is outside the validity of the TSA certificate",
    );
    check(
        Tst {
            gen_time: b"20260601001000Z",
            ..Tst::default()
        },
        "is after the validation time 2026-06-01T00:00:00Z",
    );
    // A fractional genTime with a trailing zero is not DER (RFC 3161 §2.4.2).
    check(
        Tst {
            gen_time: b"20260101120000.50Z",
            ..Tst::default()
        },
        "not an RFC 3161 time-stamp token: TSTInfo is not valid DER",
    );
    // The tsa field naming the real TSA is fine, and a genTime within the skew allowance too.
    let ok = Tst {
        tsa_name: Some(name("TSA thử nghiệm")),
        gen_time: b"20260601000100Z",
        ..Tst::default()
    };
    let out = engine(&f.root, AT).verify_timestamp(&token(&tst_info(&ok), &f.tsa, &[]), Stamped::Data(b"van ban"));
    assert_eq!((out.code, out.reason.as_str()), (Code::Ok, ""));
    assert_eq!(out.tsa_name.as_deref(), Some("CN=TSA thử nghiệm"));
}

#[test]
fn garbage_never_panics() {
    let f = fixture();
    let e = engine(&f.root, AT);
    let tok = token(&tst_info(&Tst::default()), &f.tsa, &[]);
    // Every truncation and a byte flip at every position: always a result, never a panic,
    // and never ok.
    for cut in 0..tok.len() {
        let out = e.verify_timestamp(&tok[..cut], Stamped::Data(b"van ban"));
        assert_ne!(out.code, Code::Ok, "truncated at {cut}");
    }
    // SignedData.digestAlgorithms is an unprotected hint (each SignerInfo names its own
    // digest, RFC 5652 §5.1): a changed OID in it is no reason to refuse. Everything else is.
    // SignedData { version 3, digestAlgorithms SET {...}, ... }: the SET follows `02 01 03`.
    let set = 3 + tok
        .windows(4)
        .position(|w| w == [0x02, 0x01, 0x03, 0x31])
        .expect("digestAlgorithms");
    let hint = set + 2..set + 2 + usize::from(tok[set + 1]);
    for i in (0..tok.len()).step_by(7) {
        let mut t = tok.clone();
        t[i] ^= 0x80;
        let out = e.verify_timestamp(&t, Stamped::Data(b"van ban"));
        assert!(out.code != Code::Ok || hint.contains(&i), "flip at {i} accepted");
    }
}

#[test]
fn signature_timestamps_are_added_without_touching_signed_bytes() {
    use govsig_core::cms::unsigned::{add_signature_timestamps, signature_values};
    let f = fixture();
    let signer = issue("Người ký", 30, 30, Some(&f.root), false, None);
    let pkcs8 = signer.key.to_pkcs8v1().expect("pkcs8");
    let key = SoftwareKey::from_pkcs8(pkcs8.as_ref(), signer.der.clone()).expect("key");
    let cms = CmsSigner::new(Arc::new(key), Vec::new()).expect("signer");
    let doc = b"quyet dinh";
    let sig = cms.sign(doc, &SignOptions::default()).expect("signs");
    let values = signature_values(&sig).expect("values");
    assert_eq!(values.len(), 1);
    let stamp = token(
        &tst_info(&Tst {
            data: &values[0],
            ..Tst::default()
        }),
        &f.tsa,
        &[],
    );
    let stamped = add_signature_timestamps(&sig, &[vec![stamp.clone()]]).expect("adds");
    let e = engine(&f.root, AT);
    assert_eq!(e.verify(&stamped, Some(doc)).code, Code::Ok);
    assert_eq!(signature_values(&stamped).expect("values"), values);
    // The attribute holds the token byte for byte, after everything the signer wrote.
    let pos = stamped
        .windows(stamp.len())
        .position(|w| w == stamp.as_slice())
        .expect("token inside");
    assert!(pos > sig.len() - 100);
    assert_eq!(e.verify_timestamp(&stamp, Stamped::Data(&values[0])).code, Code::Ok);
    // Adding again keeps the first attribute; a count that does not match is refused.
    let twice = add_signature_timestamps(&stamped, &[vec![stamp.clone()]]).expect("adds");
    assert_eq!(twice.windows(stamp.len()).filter(|w| *w == stamp.as_slice()).count(), 2);
    assert_eq!(e.verify(&twice, Some(doc)).code, Code::Ok);
    let err = add_signature_timestamps(&sig, &[]).expect_err("count");
    assert_eq!(err, "0 sets of attribute values for 1 SignerInfos");
}
