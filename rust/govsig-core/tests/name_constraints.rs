//! Name constraints (RFC 5280 §4.2.1.10, §6.1.3 (b)/(c), §6.1.4 (g)) on whole certificates:
//! hand-made certificates for the certificate-level rules, and the NIST PKITS 4.13 cases
//! (name-constraints dimension only: no signatures, validity, revocation or policies).

use std::path::Path;

use govsig_core::x509::name_constraints::{NameConstraints, NameConstraintsState, NcViolation};
use govsig_core::x509::Certificate;

mod common;
use common::conformance_dir;

const NAME_CONSTRAINTS_OID: &str = "2.5.29.30";

/// DER TLV with a one-octet tag (test inputs are far below 64 KiB).
fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    match content.len() {
        n if n < 0x80 => out.push(u8::try_from(n).expect("short form")),
        n if n <= 0xff => out.extend([0x81, u8::try_from(n).expect("one octet")]),
        n => {
            out.push(0x82);
            out.extend(u16::try_from(n).expect("test TLV under 64 KiB").to_be_bytes());
        }
    }
    out.extend_from_slice(content);
    out
}

const OID_C: &[u8] = &[0x55, 4, 6];
const OID_O: &[u8] = &[0x55, 4, 10];
const OID_CN: &[u8] = &[0x55, 4, 3];
const OID_EMAIL: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01];

/// A Name from (attribute OID body, string tag, value), one attribute per RDN, most general first.
fn name(attrs: &[(&[u8], u8, &str)]) -> Vec<u8> {
    let rdns: Vec<u8> = attrs
        .iter()
        .flat_map(|(oid, tag, v)| tlv(0x31, &tlv(0x30, &[tlv(0x06, oid), tlv(*tag, v.as_bytes())].concat())))
        .collect();
    tlv(0x30, &rdns)
}

/// A v3 certificate with the given names and extensions ((OID body, value) pairs). The
/// signature and key are placeholders: name constraints never look at them.
fn cert(issuer: &[u8], subject: &[u8], extensions: &[(&[u8], Vec<u8>)]) -> Certificate {
    let sig_alg = tlv(
        0x30,
        &tlv(0x06, &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b]),
    );
    let validity = tlv(
        0x30,
        &[tlv(0x17, b"110101000000Z"), tlv(0x17, b"310101000000Z")].concat(),
    );
    let spki = tlv(
        0x30,
        &[tlv(0x30, &tlv(0x06, &[0x2b, 0x65, 0x70])), tlv(0x03, &[0; 33])].concat(),
    );
    let exts: Vec<u8> = extensions
        .iter()
        .flat_map(|(oid, value)| tlv(0x30, &[tlv(0x06, oid), tlv(0x04, value)].concat()))
        .collect();
    let mut tbs = [
        tlv(0xa0, &tlv(0x02, &[2])),
        tlv(0x02, &[1]),
        sig_alg.clone(),
        issuer.to_vec(),
        validity,
    ]
    .concat();
    tbs.extend(subject);
    tbs.extend(spki);
    if !extensions.is_empty() {
        tbs.extend(tlv(0xa3, &tlv(0x30, &exts)));
    }
    let der = tlv(0x30, &[tlv(0x30, &tbs), sig_alg, tlv(0x03, &[0, 0])].concat());
    Certificate::from_der(&der).expect("hand-made certificate parses")
}

const SAN: &[u8] = &[0x55, 29, 17];

fn san(names: &[Vec<u8>]) -> (&'static [u8], Vec<u8>) {
    (SAN, tlv(0x30, &names.concat()))
}

fn constraints(permitted: &[Vec<u8>], excluded: &[Vec<u8>]) -> NameConstraints {
    let wrap = |names: &[Vec<u8>]| -> Vec<u8> { names.iter().flat_map(|n| tlv(0x30, n)).collect() };
    let mut body = Vec::new();
    if !permitted.is_empty() {
        body.extend(tlv(0xa0, &wrap(permitted)));
    }
    if !excluded.is_empty() {
        body.extend(tlv(0xa1, &wrap(excluded)));
    }
    NameConstraints::from_der(&tlv(0x30, &body)).expect("valid nameConstraints")
}

fn ca_name() -> Vec<u8> {
    name(&[(OID_C, 0x13, "US"), (OID_O, 0x13, "Example")])
}

#[test]
fn san_dns_names_are_checked_on_the_leaf() {
    let mut state = NameConstraintsState::new();
    state.apply(&constraints(&[tlv(0x82, b"example.com")], &[]));
    let subject = name(&[(OID_C, 0x13, "US"), (OID_CN, 0x0c, "leaf")]);
    let good = cert(&ca_name(), &subject, &[san(&[tlv(0x82, b"www.example.com")])]);
    assert_eq!(state.check(&good, true, &mut 100), Ok(()));
    let bad = cert(
        &ca_name(),
        &subject,
        &[san(&[tlv(0x82, b"www.example.com"), tlv(0x82, b"badexample.com")])],
    );
    match state.check(&bad, true, &mut 100) {
        Err(NcViolation::Violated { name, constraint }) => {
            assert_eq!(name, "dNSName \"badexample.com\"");
            assert!(constraint.contains("dNSName \"example.com\""), "{constraint}");
        }
        other => panic!("expected a violation, got {other:?}"),
    }
}

#[test]
fn self_issued_intermediates_are_exempt_but_not_a_self_issued_leaf() {
    let mut state = NameConstraintsState::new();
    state.apply(&constraints(
        &[tlv(0xa4, &name(&[(OID_C, 0x13, "US"), (OID_O, 0x13, "Allowed")]))],
        &[],
    ));
    let outside = ca_name();
    let self_issued = cert(&outside, &outside, &[]);
    assert!(self_issued.is_self_issued());
    assert_eq!(state.check(&self_issued, false, &mut 100), Ok(()));
    assert!(matches!(
        state.check(&self_issued, true, &mut 100),
        Err(NcViolation::Violated { .. })
    ));
    let inside = name(&[(OID_C, 0x13, "us"), (OID_O, 0x0c, "ALLOWED"), (OID_CN, 0x0c, "x")]);
    assert_eq!(state.check(&cert(&outside, &inside, &[]), true, &mut 100), Ok(()));
}

#[test]
fn subject_email_address_is_an_rfc822_name() {
    let mut state = NameConstraintsState::new();
    state.apply(&constraints(&[], &[tlv(0x81, b".evil.example")]));
    let subject = name(&[(OID_C, 0x13, "US"), (OID_EMAIL, 0x16, "boss@mail.evil.example")]);
    let e = state
        .check(&cert(&ca_name(), &subject, &[]), true, &mut 100)
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "rfc822Name \"boss@mail.evil.example\" violates name constraints: within excluded rfc822Name \".evil.example\""
    );
}

#[test]
fn empty_subject_is_not_checked_against_directory_constraints() {
    let mut state = NameConstraintsState::new();
    state.apply(&constraints(&[tlv(0xa4, &ca_name())], &[]));
    let empty = tlv(0x30, &[]);
    let leaf = cert(&ca_name(), &empty, &[san(&[tlv(0x82, b"anything.test")])]);
    assert_eq!(state.check(&leaf, true, &mut 100), Ok(()));
    // A directoryName in the subjectAltName is still checked.
    let outside = name(&[(OID_C, 0x13, "FR")]);
    let leaf = cert(&ca_name(), &empty, &[san(&[tlv(0xa4, &outside)])]);
    assert!(matches!(
        state.check(&leaf, true, &mut 100),
        Err(NcViolation::Violated { .. })
    ));
}

#[test]
fn uri_without_host_is_refused_and_bad_san_is_malformed() {
    let mut state = NameConstraintsState::new();
    state.apply(&constraints(&[], &[tlv(0x86, b".evil.example")]));
    let subject = name(&[(OID_C, 0x13, "US")]);
    let urn = cert(&ca_name(), &subject, &[san(&[tlv(0x86, b"urn:x:y")])]);
    assert!(matches!(
        state.check(&urn, true, &mut 100),
        Err(NcViolation::Violated { .. })
    ));
    let broken = cert(&ca_name(), &subject, &[(SAN, vec![0x30, 0x05, 0x82, 0x01])]);
    assert!(matches!(
        state.check(&broken, true, &mut 100),
        Err(NcViolation::Malformed(_))
    ));
}

fn load(pkits: &Path, file: &str) -> Certificate {
    let der = std::fs::read(pkits.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
    Certificate::from_der(&der).unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// Runs the name-constraints dimension of one path (TA first): the verdict on the first
/// certificate that fails, if any.
fn run_path(pkits: &Path, path: &[String]) -> Result<(), NcViolation> {
    let (anchor, rest) = path.split_first().expect("non-empty path");
    // The anchor is a name and a key (RFC 5280 §6.1.1 (d)); none of PKITS's has constraints.
    assert!(load(pkits, anchor).extension(NAME_CONSTRAINTS_OID).is_none());
    let mut state = NameConstraintsState::new();
    let mut budget = 10_000usize;
    for (i, file) in rest.iter().enumerate() {
        let cert = load(pkits, file);
        let is_leaf = i + 1 == rest.len();
        state.check(&cert, is_leaf, &mut budget)?;
        if !is_leaf {
            if let Some(ext) = cert.extension(NAME_CONSTRAINTS_OID) {
                state.apply(&NameConstraints::from_der(&ext.value).unwrap_or_else(|e| panic!("{file}: {e}")));
            }
        }
    }
    Ok(())
}

#[test]
fn pkits_4_13_name_constraints() {
    let pkits = conformance_dir().join("pkits");
    let text = std::fs::read_to_string(pkits.join("cases.json")).expect("pkits/cases.json");
    let doc: serde_json::Value = serde_json::from_str(&text).expect("cases.json is JSON");
    let cases = doc["cases"].as_array().expect("cases array");
    let mut ran = 0;
    let mut failures = Vec::new();
    for case in cases {
        let features = case["features"].as_array().expect("features");
        if !features.iter().any(|f| f == "name-constraints") {
            continue;
        }
        let id = case["id"].as_str().expect("id");
        let expected_invalid = match case["expected"]["result"].as_str() {
            Some("invalid") => true,
            Some("valid") => false,
            other => panic!("{id}: unexpected expected.result {other:?}"),
        };
        let path: Vec<String> = case["path"]
            .as_array()
            .expect("path")
            .iter()
            .map(|p| p.as_str().expect("path entry").to_owned())
            .collect();
        ran += 1;
        let verdict = run_path(&pkits, &path);
        println!(
            "{id}: expected {}, got {verdict:?}",
            if expected_invalid { "invalid" } else { "valid" }
        );
        match (&verdict, expected_invalid) {
            (Ok(()), false) | (Err(NcViolation::Violated { .. }), true) => {}
            _ => failures.push(format!("{id}: expected_invalid={expected_invalid}, got {verdict:?}")),
        }
    }
    println!("PKITS name constraints: {}/{ran} agree", ran - failures.len());
    assert_eq!(ran, 38, "PKITS 4.13 has 38 name-constraints cases");
    assert!(
        failures.is_empty(),
        "PKITS name-constraints disagreements:\n{}",
        failures.join("\n")
    );
}
