//! Wycheproof (C2SP/wycheproof, testvectors_v1) signature-verification vectors, run through
//! govsig's dispatch exactly as certificate and CMS code uses it: the public key from the
//! group's SubjectPublicKeyInfo, the signature algorithm as AlgorithmIdentifier DER, then
//! `SignatureScheme::verify`. `valid` must verify, `invalid` must not, `acceptable` may do
//! either. Every file listed in the suite's index.json is accounted for: run, or declared
//! out of scope below with the reason, in which case we must answer UnsupportedAlgorithm.

use std::collections::BTreeMap;
use std::path::Path;

use govsig_core::crypto::{CryptoError, PublicKey, SignatureScheme};
use serde_json::Value;

mod common;
use common::conformance_dir;

/// Whole files we deliberately do not support, and why.
const OUT_OF_SCOPE_FILES: &[(&str, &str)] = &[(
    "ed448_test.json",
    "Ed448 is not in govsig's algorithm set (aws-lc-rs has no Ed448; no e-government profile we serve uses it)",
)];

/// Groups inside in-scope files that we deliberately do not support.
const OUT_OF_SCOPE_PSS_MGF_HASH: &str =
    "RSASSA-PSS with an MGF1 hash different from the message hash (RFC 4055 §3.1 recommends equal hashes; no PKIX or CMS profile we serve uses distinct ones)";

fn hex_field(v: &Value, key: &str) -> Vec<u8> {
    let s = v[key].as_str().unwrap_or_else(|| panic!("missing hex field {key}"));
    hex::decode(s).unwrap_or_else(|e| panic!("field {key} is not hex: {e}"))
}

fn str_field<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or_else(|| panic!("missing string field {key}"))
}

// ---- AlgorithmIdentifier construction (DER by hand, so the test does not reuse the code
// under test to build its inputs) ----

fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(u8::try_from(len).expect("short length"));
    } else {
        let bytes: Vec<u8> = len.to_be_bytes().into_iter().skip_while(|b| *b == 0).collect();
        out.push(0x80 | u8::try_from(bytes.len()).expect("length of length"));
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}

fn oid(dotted: &str) -> Vec<u8> {
    let arcs: Vec<u64> = dotted.split('.').map(|a| a.parse().expect("OID arc")).collect();
    let mut body = vec![u8::try_from(arcs[0] * 40 + arcs[1]).expect("first arcs")];
    for &arc in &arcs[2..] {
        let mut chunk = vec![u8::try_from(arc & 0x7f).expect("7 bits")];
        let mut rest = arc >> 7;
        while rest > 0 {
            chunk.push(0x80 | u8::try_from(rest & 0x7f).expect("7 bits"));
            rest >>= 7;
        }
        chunk.reverse();
        body.extend(chunk);
    }
    tlv(0x06, &body)
}

fn algorithm_identifier(dotted: &str, params: Option<&[u8]>) -> Vec<u8> {
    let mut inner = oid(dotted);
    if let Some(p) = params {
        inner.extend_from_slice(p);
    }
    tlv(0x30, &inner)
}

fn hash_oid(sha: &str) -> Option<&'static str> {
    Some(match sha {
        "SHA-1" => "1.3.14.3.2.26",
        "SHA-224" => "2.16.840.1.101.3.4.2.4",
        "SHA-256" => "2.16.840.1.101.3.4.2.1",
        "SHA-384" => "2.16.840.1.101.3.4.2.2",
        "SHA-512" => "2.16.840.1.101.3.4.2.3",
        "SHA-512/224" => "2.16.840.1.101.3.4.2.5",
        "SHA-512/256" => "2.16.840.1.101.3.4.2.6",
        "SHA3-224" => "2.16.840.1.101.3.4.2.7",
        "SHA3-256" => "2.16.840.1.101.3.4.2.8",
        "SHA3-384" => "2.16.840.1.101.3.4.2.9",
        "SHA3-512" => "2.16.840.1.101.3.4.2.10",
        _ => return None,
    })
}

fn pkcs1_oid(sha: &str) -> &'static str {
    match sha {
        "SHA-1" => "1.2.840.113549.1.1.5",
        "SHA-224" => "1.2.840.113549.1.1.14",
        "SHA-256" => "1.2.840.113549.1.1.11",
        "SHA-384" => "1.2.840.113549.1.1.12",
        "SHA-512" => "1.2.840.113549.1.1.13",
        "SHA-512/224" => "1.2.840.113549.1.1.15",
        "SHA-512/256" => "1.2.840.113549.1.1.16",
        "SHA3-224" => "2.16.840.1.101.3.4.3.13",
        "SHA3-256" => "2.16.840.1.101.3.4.3.14",
        "SHA3-384" => "2.16.840.1.101.3.4.3.15",
        "SHA3-512" => "2.16.840.1.101.3.4.3.16",
        other => panic!("no RSA PKCS#1 OID known for {other}"),
    }
}

fn ecdsa_oid(sha: &str) -> &'static str {
    match sha {
        "SHA-1" => "1.2.840.10045.4.1",
        "SHA-224" => "1.2.840.10045.4.3.1",
        "SHA-256" => "1.2.840.10045.4.3.2",
        "SHA-384" => "1.2.840.10045.4.3.3",
        "SHA-512" => "1.2.840.10045.4.3.4",
        "SHA3-224" => "2.16.840.1.101.3.4.3.9",
        "SHA3-256" => "2.16.840.1.101.3.4.3.10",
        "SHA3-384" => "2.16.840.1.101.3.4.3.11",
        "SHA3-512" => "2.16.840.1.101.3.4.3.12",
        other => panic!("no ECDSA OID known for {other}"),
    }
}

fn dsa_oid(sha: &str) -> &'static str {
    match sha {
        "SHA-1" => "1.2.840.10040.4.3",
        "SHA-224" => "2.16.840.1.101.3.4.3.1",
        "SHA-256" => "2.16.840.1.101.3.4.3.2",
        other => panic!("no DSA OID known for {other}"),
    }
}

const NULL: &[u8] = &[0x05, 0x00];

/// RSASSA-PSS AlgorithmIdentifier per RFC 4055 §3.1 from the group's declared parameters,
/// with hash parameters NULL as RFC 4055 §2.1 prefers.
fn pss_ai(sha: &str, mgf_sha: &str, salt: u64) -> Vec<u8> {
    let h = algorithm_identifier(hash_oid(sha).expect("PSS hash OID"), Some(NULL));
    let mh = algorithm_identifier(hash_oid(mgf_sha).expect("MGF hash OID"), Some(NULL));
    let mgf = algorithm_identifier("1.2.840.113549.1.1.8", Some(&mh));
    let mut body = tlv(0xa0, &h);
    body.extend(tlv(0xa1, &mgf));
    let mut salt_int = salt
        .to_be_bytes()
        .into_iter()
        .skip_while(|b| *b == 0)
        .collect::<Vec<u8>>();
    if salt_int.first().is_none_or(|b| b & 0x80 != 0) {
        salt_int.insert(0, 0);
    }
    body.extend(tlv(0xa2, &tlv(0x02, &salt_int)));
    algorithm_identifier("1.2.840.113549.1.1.10", Some(&tlv(0x30, &body)))
}

/// The AlgorithmIdentifier TLV at the start of a SubjectPublicKeyInfo.
fn spki_algorithm(spki: &[u8]) -> Vec<u8> {
    fn read_tlv(b: &[u8]) -> (usize, usize) {
        // (header length, content length) of a DER TLV with a one-octet tag.
        let first = b[1];
        if first < 0x80 {
            (2, usize::from(first))
        } else {
            let n = usize::from(first & 0x7f);
            let len = b[2..2 + n].iter().fold(0usize, |acc, x| (acc << 8) | usize::from(*x));
            (2 + n, len)
        }
    }
    let (outer_hdr, _) = read_tlv(spki);
    let inner = &spki[outer_hdr..];
    let (hdr, len) = read_tlv(inner);
    inner[..hdr + len].to_vec()
}

// ---- running ----

#[derive(Default)]
struct FileCounts {
    tests: usize,
    valid_ok: usize,
    invalid_rejected: usize,
    acceptable_accepted: usize,
    acceptable_rejected: usize,
    out_of_scope: usize,
    failures: Vec<String>,
}

/// How a group is to be judged.
enum GroupPlan {
    /// Verify with this key result and this AlgorithmIdentifier.
    Run { spki: Vec<u8>, ai: Vec<u8> },
    /// Out of scope: key parsing or the scheme must say UnsupportedAlgorithm.
    Unsupported {
        spki: Vec<u8>,
        ai: Vec<u8>,
        reason: &'static str,
    },
}

fn plan_group(schema: &str, g: &Value) -> GroupPlan {
    let spki = hex_field(g, "publicKeyDer");
    match schema {
        "rsassa_pkcs1_verify_schema_v1.json" => GroupPlan::Run {
            ai: algorithm_identifier(pkcs1_oid(str_field(g, "sha")), Some(NULL)),
            spki,
        },
        "rsassa_pss_verify_schema_v1.json" | "rsassa_pss_with_parameters_verify_schema.json" => {
            assert_eq!(str_field(g, "mgf"), "MGF1", "only MGF1 exists in these files");
            let (sha, mgf_sha) = (str_field(g, "sha"), str_field(g, "mgfSha"));
            let salt = g["sLen"].as_u64().expect("sLen");
            // With parameters in the key, the signature's AlgorithmIdentifier is the key's
            // (RFC 4055 §3.3); otherwise it is built from the declared parameters.
            let ai = if schema.contains("with_parameters") {
                spki_algorithm(&spki)
            } else {
                pss_ai(sha, mgf_sha, salt)
            };
            if sha != mgf_sha {
                GroupPlan::Unsupported {
                    spki,
                    ai,
                    reason: OUT_OF_SCOPE_PSS_MGF_HASH,
                }
            } else {
                GroupPlan::Run { spki, ai }
            }
        }
        "ecdsa_verify_schema_v1.json" => GroupPlan::Run {
            ai: algorithm_identifier(ecdsa_oid(str_field(g, "sha")), None),
            spki,
        },
        "eddsa_verify_schema_v1.json" => GroupPlan::Run {
            ai: spki_algorithm(&spki),
            spki,
        },
        "dsa_verify_schema_v1.json" => GroupPlan::Run {
            ai: algorithm_identifier(dsa_oid(str_field(g, "sha")), None),
            spki,
        },
        other => panic!("schema {other} has no handler: decide whether it is in scope"),
    }
}

fn verify_one(
    key: &Result<PublicKey, CryptoError>,
    scheme: &Result<SignatureScheme, CryptoError>,
    t: &Value,
) -> Result<(), CryptoError> {
    let key = key.as_ref().map_err(Clone::clone)?;
    let scheme = scheme.as_ref().map_err(Clone::clone)?;
    // Legacy allowed and no RSA minimum: the vectors test the primitives, not the policy.
    scheme.verify(key, &hex_field(t, "msg"), &hex_field(t, "sig"), true, 0)
}

fn run_file(path: &Path, schema: &str, counts: &mut FileCounts, unsupported_reason: Option<&str>) {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let doc: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("parse {}: {e}", path.display()));
    assert_eq!(
        doc["schema"].as_str(),
        Some(schema),
        "{} schema differs from index.json",
        path.display()
    );
    let groups = doc["testGroups"].as_array().expect("testGroups");
    for g in groups {
        let plan = plan_group(schema, g);
        let tests = g["tests"].as_array().expect("tests");
        match (plan, unsupported_reason) {
            (GroupPlan::Run { spki, ai }, None) => {
                let key = PublicKey::from_spki(&spki);
                let scheme = SignatureScheme::from_algorithm_identifier(&ai);
                for t in tests {
                    counts.tests += 1;
                    let id = t["tcId"].as_u64().expect("tcId");
                    let outcome = verify_one(&key, &scheme, t);
                    match (str_field(t, "result"), &outcome) {
                        ("valid", Ok(())) => counts.valid_ok += 1,
                        ("invalid", Err(_)) => counts.invalid_rejected += 1,
                        ("acceptable", Ok(())) => counts.acceptable_accepted += 1,
                        ("acceptable", Err(_)) => counts.acceptable_rejected += 1,
                        (expected, got) => counts.failures.push(format!(
                            "tcId {id} ({}; flags {}): expected {expected}, got {got:?}",
                            str_field(t, "comment"),
                            t["flags"]
                        )),
                    }
                }
            }
            (GroupPlan::Unsupported { spki, ai, reason }, _) | (GroupPlan::Run { spki, ai }, Some(reason)) => {
                let key = PublicKey::from_spki(&spki);
                let scheme = SignatureScheme::from_algorithm_identifier(&ai);
                let unsupported = matches!(key, Err(CryptoError::UnsupportedAlgorithm(_)))
                    || matches!(scheme, Err(CryptoError::UnsupportedAlgorithm(_)));
                for t in tests {
                    counts.tests += 1;
                    counts.out_of_scope += 1;
                    let id = t["tcId"].as_u64().expect("tcId");
                    let outcome = verify_one(&key, &scheme, t);
                    if !unsupported || outcome.is_ok() {
                        counts.failures.push(format!(
                            "tcId {id}: out of scope ({reason}), expected UnsupportedAlgorithm, got key {:?} / scheme {:?} / verify {outcome:?}",
                            key.as_ref().map(|_| "ok"),
                            scheme.as_ref().map(|s| s.name())
                        ));
                    }
                }
            }
        }
    }
}

#[test]
fn wycheproof_signature_vectors() {
    let root = conformance_dir().join("wycheproof");
    let index_text = std::fs::read_to_string(root.join("index.json"))
        .unwrap_or_else(|e| panic!("read {}/index.json: {e}", root.display()));
    let index: Value = serde_json::from_str(&index_text).expect("index.json is JSON");
    let entries = index.as_array().expect("index.json is a list of files");
    assert!(!entries.is_empty(), "index.json lists no files");

    let mut all: BTreeMap<String, FileCounts> = BTreeMap::new();
    for e in entries {
        let file = str_field(e, "file");
        let schema = str_field(e, "schema");
        let declared = e["tests"]
            .as_u64()
            .and_then(|n| usize::try_from(n).ok())
            .expect("tests count");
        let reason = OUT_OF_SCOPE_FILES.iter().find(|(f, _)| *f == file).map(|(_, r)| *r);
        let mut counts = FileCounts::default();
        run_file(&root.join("testvectors_v1").join(file), schema, &mut counts, reason);
        assert_eq!(
            counts.tests, declared,
            "{file}: ran {} tests, index.json declares {declared}",
            counts.tests
        );
        all.insert(file.to_string(), counts);
    }

    let mut failed = Vec::new();
    let (mut total, mut total_oos) = (0, 0);
    println!(
        "{:<48} {:>6} {:>6} {:>8} {:>11} {:>6} {:>5}",
        "file", "tests", "valid", "invalid", "accept(y/n)", "n/a", "FAIL"
    );
    for (file, c) in &all {
        println!(
            "{file:<48} {:>6} {:>6} {:>8} {:>5}/{:<5} {:>6} {:>5}",
            c.tests,
            c.valid_ok,
            c.invalid_rejected,
            c.acceptable_accepted,
            c.acceptable_rejected,
            c.out_of_scope,
            c.failures.len()
        );
        total += c.tests;
        total_oos += c.out_of_scope;
        for f in &c.failures {
            failed.push(format!("{file}: {f}"));
        }
    }
    println!("total {total} vectors, {total_oos} out of scope (UnsupportedAlgorithm asserted)");
    for (f, r) in OUT_OF_SCOPE_FILES {
        println!("out of scope: {f}: {r}");
    }
    println!("out of scope: groups of RSASSA-PSS files: {OUT_OF_SCOPE_PSS_MGF_HASH}");
    assert!(
        failed.is_empty(),
        "{} Wycheproof vectors judged wrongly:\n{}",
        failed.len(),
        failed.join("\n")
    );
}
