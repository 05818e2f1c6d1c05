//! Unit tests: every scheme against keys made here with aws-lc-rs, the error paths and
//! their messages, and the exact-bytes table.

use std::sync::OnceLock;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{self as lcsig, EcdsaKeyPair, Ed25519KeyPair, KeyPair, RsaKeyPair};

use super::*;

#[path = "testdata/fixtures.rs"]
mod fixtures;

const MSG: &[u8] = b"govsig: dossier 2024/ND-CP/0042";

fn rsa2048() -> &'static (RsaKeyPair, PublicKey) {
    static K: OnceLock<(RsaKeyPair, PublicKey)> = OnceLock::new();
    K.get_or_init(|| {
        let kp = RsaKeyPair::generate(KeySize::Rsa2048).expect("RSA keygen");
        let spki = kp.public_key().as_der().expect("SPKI").as_ref().to_vec();
        let pk = PublicKey::from_spki(&spki).expect("parse RSA SPKI");
        (kp, pk)
    })
}

fn rsa_sign(enc: &'static dyn lcsig::RsaEncoding, msg: &[u8]) -> Vec<u8> {
    let (kp, _) = rsa2048();
    let mut sig = vec![0u8; kp.public_modulus_len()];
    kp.sign(enc, &SystemRandom::new(), msg, &mut sig).expect("RSA sign");
    sig
}

fn ec_key(alg: &'static lcsig::EcdsaSigningAlgorithm) -> (EcdsaKeyPair, PublicKey) {
    let kp = EcdsaKeyPair::generate(alg).expect("EC keygen");
    let spki = kp.public_key().as_der().expect("SPKI").as_ref().to_vec();
    let pk = PublicKey::from_spki(&spki).expect("parse EC SPKI");
    (kp, pk)
}

fn ed_key() -> (Ed25519KeyPair, PublicKey) {
    let kp = Ed25519KeyPair::generate().expect("Ed25519 keygen");
    let spki = kp.public_key().as_der().expect("SPKI").as_ref().to_vec();
    let pk = PublicKey::from_spki(&spki).expect("parse Ed25519 SPKI");
    (kp, pk)
}

fn ai(hex_der: &str) -> Vec<u8> {
    hex::decode(hex_der).expect("test hex")
}

const SHA256_RSA_NULL: &str = "300d06092a864886f70d01010b0500";
const SHA256_RSA_ABSENT: &str = "300b06092a864886f70d01010b";
const SHA1_RSA_NULL: &str = "300d06092a864886f70d0101050500";
const SHA384_RSA_NULL: &str = "300d06092a864886f70d01010c0500";
const ECDSA_SHA256: &str = "300a06082a8648ce3d040302";
const ECDSA_SHA384: &str = "300a06082a8648ce3d040303";
const ECDSA_SHA224: &str = "300a06082a8648ce3d040301";
const ED25519_AI: &str = "300506032b6570";
const PSS_SHA256: &str = "304106092a864886f70d01010a3034a00f300d06096086480165030402010500a11c301a06092a864886f70d010108300d06096086480165030402010500a203020120";

fn scheme(hex_der: &str) -> SignatureScheme {
    SignatureScheme::from_algorithm_identifier(&ai(hex_der)).expect("scheme in table")
}

#[test]
fn rsa_pkcs1_sha256_verifies_and_rejects_tampering() {
    let (_, pk) = rsa2048();
    assert_eq!(pk.key_type(), KeyType::Rsa);
    assert_eq!(pk.bits(), 2048);
    let sig = rsa_sign(&lcsig::RSA_PKCS1_SHA256, MSG);
    for form in [SHA256_RSA_NULL, SHA256_RSA_ABSENT] {
        let s = scheme(form);
        assert_eq!(s.name(), "sha256WithRSAEncryption");
        assert_eq!(s.digest(), Some(DigestAlgorithm::Sha256));
        assert!(!s.is_legacy());
        assert_eq!(s.verify(pk, MSG, &sig, false, 2048), Ok(()));
        assert_eq!(
            s.verify(pk, b"other", &sig, false, 2048),
            Err(CryptoError::BadSignature)
        );
    }
    let mut bad = sig.clone();
    bad[10] ^= 1;
    assert_eq!(
        scheme(SHA256_RSA_NULL).verify(pk, MSG, &bad, false, 0),
        Err(CryptoError::BadSignature)
    );
    // Wrong hash in the AlgorithmIdentifier.
    assert_eq!(
        scheme(SHA384_RSA_NULL).verify(pk, MSG, &sig, false, 0),
        Err(CryptoError::BadSignature)
    );
    // Truncated and empty signatures.
    assert_eq!(
        scheme(SHA256_RSA_NULL).verify(pk, MSG, &sig[1..], false, 0),
        Err(CryptoError::BadSignature)
    );
    assert_eq!(
        scheme(SHA256_RSA_NULL).verify(pk, MSG, &[], false, 0),
        Err(CryptoError::BadSignature)
    );
}

#[test]
fn rsa_pkcs1_sha384_and_sha512() {
    let (_, pk) = rsa2048();
    let sig = rsa_sign(&lcsig::RSA_PKCS1_SHA384, MSG);
    assert_eq!(scheme(SHA384_RSA_NULL).verify(pk, MSG, &sig, false, 0), Ok(()));
    let sig = rsa_sign(&lcsig::RSA_PKCS1_SHA512, MSG);
    assert_eq!(
        scheme("300d06092a864886f70d01010d0500").verify(pk, MSG, &sig, false, 0),
        Ok(())
    );
}

#[test]
fn rsa_pkcs1_fallback_agrees_with_aws_lc() {
    // The pure-Rust path must accept exactly what aws-lc accepts for the same key.
    let (_, pk) = rsa2048();
    let sig = rsa_sign(&lcsig::RSA_PKCS1_SHA256, MSG);
    let key::Material::Rsa(rsa) = pk.material() else {
        panic!("RSA key expected")
    };
    let h = DigestAlgorithm::Sha256.digest(MSG);
    assert_eq!(
        fallback::rsa_pkcs1_verify(rsa, DigestAlgorithm::Sha256, &h, &sig),
        Ok(())
    );
    let h2 = DigestAlgorithm::Sha256.digest(b"x");
    assert_eq!(
        fallback::rsa_pkcs1_verify(rsa, DigestAlgorithm::Sha256, &h2, &sig),
        Err(CryptoError::BadSignature)
    );
    assert_eq!(
        fallback::rsa_pkcs1_verify(rsa, DigestAlgorithm::Sha512, &h, &sig),
        Err(CryptoError::BadSignature)
    );
}

#[test]
fn rsa_pss_sha256_via_table_and_fallback() {
    let (_, pk) = rsa2048();
    let sig = rsa_sign(&lcsig::RSA_PSS_SHA256, MSG);
    let s = scheme(PSS_SHA256);
    assert_eq!(s.name(), "rsassa-pss");
    assert_eq!(s.pss_salt_length(), Some(32));
    assert_eq!(s.verify(pk, MSG, &sig, false, 0), Ok(()));
    assert_eq!(
        s.verify(pk, b"tampered", &sig, false, 0),
        Err(CryptoError::BadSignature)
    );
    let key::Material::Rsa(rsa) = pk.material() else {
        panic!("RSA key expected")
    };
    let h = DigestAlgorithm::Sha256.digest(MSG);
    assert_eq!(
        fallback::rsa_pss_verify(rsa, DigestAlgorithm::Sha256, &h, 32, &sig),
        Ok(())
    );
    // The salt length is part of the scheme: the same signature under salt 20 must fail.
    assert_eq!(
        fallback::rsa_pss_verify(rsa, DigestAlgorithm::Sha256, &h, 20, &sig),
        Err(CryptoError::BadSignature)
    );
    // PKCS#1 v1.5 scheme on a PSS signature.
    assert_eq!(
        scheme(SHA256_RSA_NULL).verify(pk, MSG, &sig, false, 0),
        Err(CryptoError::BadSignature)
    );
}

#[test]
fn ecdsa_all_curves_native_hashes() {
    for (alg, ai_hex, kt, bits) in [
        (
            &lcsig::ECDSA_P256_SHA256_ASN1_SIGNING,
            ECDSA_SHA256,
            KeyType::EcP256,
            256,
        ),
        (
            &lcsig::ECDSA_P384_SHA384_ASN1_SIGNING,
            ECDSA_SHA384,
            KeyType::EcP384,
            384,
        ),
        (
            &lcsig::ECDSA_P521_SHA512_ASN1_SIGNING,
            "300a06082a8648ce3d040304",
            KeyType::EcP521,
            521,
        ),
    ] {
        let (kp, pk) = ec_key(alg);
        assert_eq!(pk.key_type(), kt);
        assert_eq!(pk.bits(), bits);
        let sig = kp.sign(&SystemRandom::new(), MSG).expect("sign");
        let s = scheme(ai_hex);
        assert_eq!(s.verify(&pk, MSG, sig.as_ref(), false, 4096), Ok(()), "{kt:?}");
        assert_eq!(
            s.verify(&pk, b"x", sig.as_ref(), false, 0),
            Err(CryptoError::BadSignature)
        );
        // Trailing garbage after the DER signature is a malformed encoding.
        let mut long = sig.as_ref().to_vec();
        long.push(0);
        assert_eq!(s.verify(&pk, MSG, &long, false, 0), Err(CryptoError::BadSignature));
        // Raw r||s (IEEE P1363) is not what X.509/CMS carry.
        assert_eq!(s.verify(&pk, MSG, &[0u8; 64], false, 0), Err(CryptoError::BadSignature));
    }
}

#[test]
fn ecdsa_hash_not_native_to_curve() {
    // aws-lc signs P-521 with SHA-224/SHA-256 natively; we verify through the one parsed
    // P-521 key and the padded-digest path, which must agree.
    for (alg, d, ai_hex) in [
        (
            &lcsig::ECDSA_P521_SHA224_ASN1_SIGNING,
            DigestAlgorithm::Sha224,
            ECDSA_SHA224,
        ),
        (
            &lcsig::ECDSA_P521_SHA256_ASN1_SIGNING,
            DigestAlgorithm::Sha256,
            ECDSA_SHA256,
        ),
        (
            &lcsig::ECDSA_P521_SHA384_ASN1_SIGNING,
            DigestAlgorithm::Sha384,
            ECDSA_SHA384,
        ),
    ] {
        let (kp, pk) = ec_key(alg);
        let sig = kp.sign(&SystemRandom::new(), MSG).expect("sign");
        let s = scheme(ai_hex);
        assert_eq!(s.digest(), Some(d));
        assert_eq!(s.verify(&pk, MSG, sig.as_ref(), false, 0), Ok(()));
        assert_eq!(
            scheme("300a06082a8648ce3d040304").verify(&pk, MSG, sig.as_ref(), false, 0),
            Err(CryptoError::BadSignature)
        );
    }
    // P-256 with a SHA-512 signature made through aws-lc's digest signing of the leftmost
    // 256 bits, i.e. what a SHA-512 ECDSA signer computes on P-256.
    let (kp, pk) = ec_key(&lcsig::ECDSA_P256_SHA256_ASN1_SIGNING);
    let h = DigestAlgorithm::Sha512.digest(MSG);
    let d = aws_lc_rs::digest::Digest::import_less_safe(&h[..32], &aws_lc_rs::digest::SHA256).expect("digest");
    let sig = kp.sign_digest(&d).expect("sign digest");
    assert_eq!(
        scheme("300a06082a8648ce3d040304").verify(&pk, MSG, sig.as_ref(), false, 0),
        Ok(())
    );
    assert_eq!(
        scheme(ECDSA_SHA384).verify(&pk, MSG, sig.as_ref(), false, 0),
        Err(CryptoError::BadSignature)
    );
}

#[test]
fn ed25519_verifies() {
    let (kp, pk) = ed_key();
    assert_eq!(pk.key_type(), KeyType::Ed25519);
    let sig = kp.sign(MSG);
    let s = scheme(ED25519_AI);
    assert_eq!(s.name(), "ed25519");
    assert_eq!(s.digest(), None);
    assert_eq!(s.verify(&pk, MSG, sig.as_ref(), false, 0), Ok(()));
    assert_eq!(
        s.verify(&pk, b"y", sig.as_ref(), false, 0),
        Err(CryptoError::BadSignature)
    );
    assert_eq!(
        s.verify(&pk, MSG, &sig.as_ref()[..63], false, 0),
        Err(CryptoError::BadSignature)
    );
}

#[test]
fn key_algorithm_mismatch_is_reported() {
    let (_, rsa) = rsa2048();
    let (_, ec) = ec_key(&lcsig::ECDSA_P256_SHA256_ASN1_SIGNING);
    let (_, ed) = ed_key();
    let err = scheme(ECDSA_SHA256).verify(rsa, MSG, &[0x30, 0], false, 0).unwrap_err();
    match &err {
        CryptoError::KeyAlgorithmMismatch(m) => {
            assert!(m.contains("ecdsa-with-SHA256") && m.contains("RSA"), "{m}")
        }
        other => panic!("expected mismatch, got {other:?}"),
    }
    assert!(matches!(
        scheme(SHA256_RSA_NULL).verify(&ec, MSG, &[1], false, 0),
        Err(CryptoError::KeyAlgorithmMismatch(_))
    ));
    assert!(matches!(
        scheme(ED25519_AI).verify(&ec, MSG, &[1], false, 0),
        Err(CryptoError::KeyAlgorithmMismatch(_))
    ));
    assert!(matches!(
        scheme(ECDSA_SHA256).verify(&ed, MSG, &[1], false, 0),
        Err(CryptoError::KeyAlgorithmMismatch(_))
    ));
    assert!(err
        .to_string()
        .starts_with("key does not match the signature algorithm"));
}

#[test]
fn legacy_gate_and_weak_key() {
    let (_, pk) = rsa2048();
    let sig = rsa_sign(&lcsig::RSA_PKCS1_SHA256, MSG);
    let sha1 = scheme(SHA1_RSA_NULL);
    assert!(sha1.is_legacy());
    match sha1.verify(pk, MSG, &sig, false, 0) {
        Err(CryptoError::LegacyNotAllowed(m)) => {
            assert!(m.contains("sha1WithRSAEncryption"), "{m}")
        }
        other => panic!("expected legacy refusal, got {other:?}"),
    }
    // Allowed: it is then simply a bad signature (signed with SHA-256).
    assert_eq!(sha1.verify(pk, MSG, &sig, true, 0), Err(CryptoError::BadSignature));
    match scheme(SHA256_RSA_NULL).verify(pk, MSG, &sig, false, 3072) {
        Err(CryptoError::WeakKey(m)) => assert!(m.contains("2048") && m.contains("3072"), "{m}"),
        other => panic!("expected weak key, got {other:?}"),
    }
    assert!(scheme("300906072a8648ce380403").is_legacy(), "DSA is legacy");
}

#[test]
fn unsupported_algorithms_name_themselves_and_list_supported() {
    // md5WithRSAEncryption: known, and refused by policy rather than unsupported.
    let err = SignatureScheme::from_algorithm_identifier(&ai("300d06092a864886f70d0101040500")).unwrap_err();
    let CryptoError::LegacyNotAllowed(m) = &err else {
        panic!("{err:?}")
    };
    assert!(
        m.contains("1.2.840.113549.1.1.4") && m.contains("md5WithRSAEncryption") && m.contains("never allowed"),
        "{m}"
    );
    // sha512-224WithRSAEncryption: not supported, and the message lists what is.
    let err = SignatureScheme::from_algorithm_identifier(&ai("300d06092a864886f70d01010f0500")).unwrap_err();
    let CryptoError::UnsupportedAlgorithm(m) = &err else {
        panic!("{err:?}")
    };
    assert!(m.contains("1.2.840.113549.1.1.15"), "{m}");
    assert!(
        m.contains("sha256WithRSAEncryption") && m.contains("ed25519") && m.contains("rsassa-pss"),
        "{m}"
    );
    // ecdsa-with-SHA256 with NULL parameters: the OID is known, the encoding is not allowed.
    let err = SignatureScheme::from_algorithm_identifier(&ai("300c06082a8648ce3d0403020500")).unwrap_err();
    let CryptoError::UnsupportedAlgorithm(m) = &err else {
        panic!("{err:?}")
    };
    assert!(m.contains("ecdsa-with-SHA256") && m.contains("absent"), "{m}");
    // Garbage and trailing bytes.
    assert!(matches!(
        SignatureScheme::from_algorithm_identifier(&[0x30]),
        Err(CryptoError::UnsupportedAlgorithm(_))
    ));
    let mut trailing = ai(SHA256_RSA_NULL);
    trailing.push(0);
    assert!(matches!(
        SignatureScheme::from_algorithm_identifier(&trailing),
        Err(CryptoError::UnsupportedAlgorithm(_))
    ));
    assert!(SignatureScheme::from_algorithm_identifier(&[]).is_err());
    assert_eq!(supported_signature_algorithms().len(), 21);
}

#[test]
fn table_bytes_match_their_oids() {
    // Every hard-coded encoding parses as an AlgorithmIdentifier whose OID is the one its
    // name says, so a typo in the table cannot silently map bytes to the wrong scheme.
    let known: std::collections::HashMap<&str, &str> = [
        ("sha1WithRSAEncryption", "1.2.840.113549.1.1.5"),
        ("sha224WithRSAEncryption", "1.2.840.113549.1.1.14"),
        ("sha256WithRSAEncryption", "1.2.840.113549.1.1.11"),
        ("sha384WithRSAEncryption", "1.2.840.113549.1.1.12"),
        ("sha512WithRSAEncryption", "1.2.840.113549.1.1.13"),
        ("rsassa-pss", "1.2.840.113549.1.1.10"),
        ("ecdsa-with-SHA1", "1.2.840.10045.4.1"),
        ("ecdsa-with-SHA224", "1.2.840.10045.4.3.1"),
        ("ecdsa-with-SHA256", "1.2.840.10045.4.3.2"),
        ("ecdsa-with-SHA384", "1.2.840.10045.4.3.3"),
        ("ecdsa-with-SHA512", "1.2.840.10045.4.3.4"),
        ("ed25519", "1.3.101.112"),
        ("dsa-with-sha1", "1.2.840.10040.4.3"),
        ("dsa-with-sha224", "2.16.840.1.101.3.4.3.1"),
        ("dsa-with-sha256", "2.16.840.1.101.3.4.3.2"),
        // NIST CSOR sigAlgs (checked against pyca/cryptography's and OpenSSL's OID tables).
        ("id-rsassa-pkcs1-v1_5-with-sha3-256", "2.16.840.1.101.3.4.3.14"),
        ("id-rsassa-pkcs1-v1_5-with-sha3-384", "2.16.840.1.101.3.4.3.15"),
        ("id-rsassa-pkcs1-v1_5-with-sha3-512", "2.16.840.1.101.3.4.3.16"),
        ("id-ecdsa-with-sha3-256", "2.16.840.1.101.3.4.3.10"),
        ("id-ecdsa-with-sha3-384", "2.16.840.1.101.3.4.3.11"),
        ("id-ecdsa-with-sha3-512", "2.16.840.1.101.3.4.3.12"),
    ]
    .into_iter()
    .collect();
    for (bytes, s) in scheme::table_for_tests() {
        let (oid_val, params) = der::parse_algorithm_identifier(bytes).expect("table entry is DER");
        assert_eq!(
            known.get(s.name()).copied(),
            Some(oid_val.to_string().as_str()),
            "{}",
            s.name()
        );
        if s.name() == "rsassa-pss" {
            let p = scheme::parse_pss_params(params.expect("PSS params")).expect("PSS params parse");
            assert_eq!(Some(p.digest), s.digest());
            assert_eq!(Some(p.salt_len), s.pss_salt_length());
        }
    }
}

#[test]
fn pss_params_beyond_the_table() {
    // SHA-256, MGF1-SHA-256, salt 20: not in the table, parsed generically.
    let hash = DigestAlgorithm::Sha256.algorithm_identifier_der_with_null();
    let mgf = der::algorithm_identifier(oid::MGF1, Some(&hash));
    let mut body = der::tlv(0xa0, &hash);
    body.extend(der::tlv(0xa1, &mgf));
    body.extend(der::tlv(0xa2, &[0x02, 0x01, 0x14]));
    let full = der::algorithm_identifier(oid::RSASSA_PSS, Some(&der::tlv(0x30, &body)));
    let s = SignatureScheme::from_algorithm_identifier(&full).expect("PSS salt 20");
    assert_eq!(
        (s.digest(), s.pss_salt_length()),
        (Some(DigestAlgorithm::Sha256), Some(20))
    );
    // Empty params: all defaults, SHA-1 / salt 20, legacy.
    let defaults = der::algorithm_identifier(oid::RSASSA_PSS, Some(&[0x30, 0x00]));
    let s = SignatureScheme::from_algorithm_identifier(&defaults).expect("PSS defaults");
    assert_eq!(
        (s.digest(), s.pss_salt_length(), s.is_legacy()),
        (Some(DigestAlgorithm::Sha1), Some(20), true)
    );
    // MGF1 hash differing from the message hash.
    let mgf1_sha1 = der::algorithm_identifier(
        oid::MGF1,
        Some(&DigestAlgorithm::Sha1.algorithm_identifier_der_with_null()),
    );
    let mut body = der::tlv(0xa0, &hash);
    body.extend(der::tlv(0xa1, &mgf1_sha1));
    let mixed = der::algorithm_identifier(oid::RSASSA_PSS, Some(&der::tlv(0x30, &body)));
    let err = SignatureScheme::from_algorithm_identifier(&mixed).unwrap_err();
    assert!(
        matches!(&err, CryptoError::UnsupportedAlgorithm(m) if m.contains("MGF1 hash sha1")),
        "{err:?}"
    );
    // trailerField 2.
    let bad_trailer = der::algorithm_identifier(
        oid::RSASSA_PSS,
        Some(&der::tlv(0x30, &der::tlv(0xa3, &[0x02, 0x01, 0x02]))),
    );
    assert!(
        matches!(SignatureScheme::from_algorithm_identifier(&bad_trailer), Err(CryptoError::UnsupportedAlgorithm(m)) if m.contains("trailerField"))
    );
    // Absent params.
    let absent = der::algorithm_identifier(oid::RSASSA_PSS, None);
    assert!(SignatureScheme::from_algorithm_identifier(&absent).is_err());
}

#[test]
fn cms_bare_key_algorithms_take_the_digest_algorithm() {
    let (_, pk) = rsa2048();
    let sig = rsa_sign(&lcsig::RSA_PKCS1_SHA256, MSG);
    for rsa_enc in ["300d06092a864886f70d0101010500", "300b06092a864886f70d010101"] {
        let s = SignatureScheme::for_cms(&ai(rsa_enc), DigestAlgorithm::Sha256).expect("rsaEncryption");
        assert_eq!(s, scheme(SHA256_RSA_NULL));
        assert_eq!(s.verify(pk, MSG, &sig, false, 0), Ok(()));
    }
    let ec = SignatureScheme::for_cms(&ai("300906072a8648ce3d0201"), DigestAlgorithm::Sha384).expect("id-ecPublicKey");
    assert_eq!(ec.name(), "ecdsa-with-SHA384");
    let dsa = SignatureScheme::for_cms(&ai("300906072a8648ce380401"), DigestAlgorithm::Sha256).expect("id-dsa");
    assert_eq!(dsa.name(), "dsa-with-sha256");
    assert!(SignatureScheme::for_cms(&ai("300906072a8648ce380401"), DigestAlgorithm::Sha512).is_err());
    // Full algorithm whose hash disagrees with digestAlgorithm.
    let err = SignatureScheme::for_cms(&ai(SHA256_RSA_NULL), DigestAlgorithm::Sha384).unwrap_err();
    assert!(
        matches!(&err, CryptoError::UnsupportedAlgorithm(m) if m.contains("sha256") && m.contains("sha384")),
        "{err:?}"
    );
    assert!(SignatureScheme::for_cms(&ai(SHA256_RSA_NULL), DigestAlgorithm::Sha256).is_ok());
    // RFC 8419: Ed25519 with digestAlgorithm SHA-512 only.
    assert!(SignatureScheme::for_cms(&ai(ED25519_AI), DigestAlgorithm::Sha512).is_ok());
    assert!(SignatureScheme::for_cms(&ai(ED25519_AI), DigestAlgorithm::Sha256).is_err());
}

#[test]
fn digest_algorithm_identifiers() {
    for d in [
        DigestAlgorithm::Sha1,
        DigestAlgorithm::Sha224,
        DigestAlgorithm::Sha256,
        DigestAlgorithm::Sha384,
        DigestAlgorithm::Sha512,
    ] {
        let canonical = d.algorithm_identifier_der();
        assert_eq!(DigestAlgorithm::from_algorithm_identifier(&canonical), Ok(d));
        assert_eq!(
            DigestAlgorithm::from_algorithm_identifier(&d.algorithm_identifier_der_with_null()),
            Ok(d)
        );
        assert_eq!(DigestAlgorithm::from_oid_dotted(d.oid_dotted()), Some(d));
        assert_eq!(d.digest(b"abc").len(), d.output_len());
        let mut h = d.hasher();
        h.update(b"a");
        h.update(b"bc");
        assert_eq!(h.finish(), d.digest(b"abc"));
    }
    assert_eq!(
        hex::encode(DigestAlgorithm::Sha256.digest(b"abc")),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" // FIPS 180-2 B.1
    );
    assert_eq!(
        DigestAlgorithm::Sha256.algorithm_identifier_der(),
        ai("300b0609608648016503040201")
    );
    assert_eq!(DigestAlgorithm::Sha256.name(), "sha256");
    assert!(DigestAlgorithm::Sha1.is_legacy() && !DigestAlgorithm::Sha256.is_legacy());
    // SHA-3 (FIPS 202 known answers for "abc").
    let sha3_256 = DigestAlgorithm::from_algorithm_identifier(&ai("300b0609608648016503040208")).expect("sha3-256");
    assert_eq!(sha3_256, DigestAlgorithm::Sha3_256);
    assert_eq!(
        hex::encode(sha3_256.digest(b"abc")),
        "3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532"
    );
    assert_eq!(
        hex::encode(DigestAlgorithm::Sha3_512.digest(b"abc")),
        "b751850b1a57168a5693cd924b6b096e08f621827444f70d884f5d0240d2712e10e116e9192af3c91a7ec57647e3934057340b4cf408d5a56592f8274eec53f0"
    );
    // sha3-224: recognised, refused, and the backend named.
    let err = DigestAlgorithm::from_algorithm_identifier(&ai("300b0609608648016503040207")).unwrap_err();
    assert!(
        matches!(&err, CryptoError::UnsupportedAlgorithm(m) if m.contains("2.16.840.1.101.3.4.2.7") && m.contains("sha3-224") && m.contains("aws-lc-rs")),
        "{err:?}"
    );
    // Parameters other than absent/NULL.
    assert!(DigestAlgorithm::from_algorithm_identifier(&ai("300f06096086480165030402010402abcd")).is_err());
}

#[test]
fn bad_keys_are_invalid_not_panics() {
    assert!(matches!(PublicKey::from_spki(&[]), Err(CryptoError::InvalidKey(_))));
    assert!(matches!(
        PublicKey::from_spki(&[0x30, 0x03, 0x02, 0x01, 0x00]),
        Err(CryptoError::InvalidKey(_))
    ));
    // P-256 SPKI whose point is not on the curve.
    let (_, good) = ec_key(&lcsig::ECDSA_P256_SHA256_ASN1_SIGNING);
    let mut spki = good.spki_der().to_vec();
    let last = spki.len() - 1;
    spki[last] ^= 1;
    assert!(matches!(PublicKey::from_spki(&spki), Err(CryptoError::InvalidKey(_))));
    // Ed25519 SPKI with a 31-byte key.
    let mut bits = vec![0u8];
    bits.extend([7u8; 31]);
    let mut body = ai(ED25519_AI);
    body.extend(der::tlv(0x03, &bits));
    assert!(matches!(
        PublicKey::from_spki(&der::tlv(0x30, &body)),
        Err(CryptoError::InvalidKey(_))
    ));
    // secp256k1 key: unsupported curve, named.
    let k1 = ai("3056301006072a8648ce3d020106052b8104000a034200");
    let mut k1 = k1;
    k1.extend([4u8; 65]);
    match PublicKey::from_spki(&k1) {
        Err(CryptoError::UnsupportedAlgorithm(m)) => {
            assert!(m.contains("secp256k1") && m.contains("P-256"), "{m}")
        }
        other => panic!("expected unsupported curve, got {other:?}"),
    }
    // RSA with an even exponent (a real 2048-bit modulus, e = 2).
    let (_, rsa) = rsa2048();
    let parts = spki_parts(rsa.spki_der());
    let n = rsa_modulus(&parts.key);
    let mut rpk = der::tlv(0x02, &n);
    rpk.extend(der::tlv(0x02, &[2]));
    let even = make_spki(&parts.algorithm, &der::tlv(0x30, &rpk));
    match PublicKey::from_spki(&even) {
        Err(CryptoError::InvalidKey(m)) => assert!(m.contains("exponent"), "{m}"),
        other => panic!("expected invalid key, got {other:?}"),
    }
}

#[test]
fn public_key_is_shared_and_reports_itself() {
    fn assert_send_sync<T: Send + Sync + Clone>() {}
    assert_send_sync::<PublicKey>();
    let (_, pk) = rsa2048();
    let clone = pk.clone();
    assert_eq!(clone.spki_der(), pk.spki_der());
    assert!(format!("{pk:?}").contains("RSA, 2048 bits"));
    assert_eq!(pk.dsa_params_der(), None);
    assert!(!PublicKey::has_dsa_params(pk.spki_der()));
}

// ---- helpers for taking SubjectPublicKeyInfos apart ----

struct SpkiParts {
    /// Full AlgorithmIdentifier TLV.
    algorithm: Vec<u8>,
    /// subjectPublicKey BIT STRING contents without the unused-bits octet.
    key: Vec<u8>,
}

#[derive(asn1::Asn1Read)]
struct TestSpki<'a> {
    algorithm: asn1::Tlv<'a>,
    key: asn1::BitString<'a>,
}

#[derive(asn1::Asn1Read)]
struct TestRsaPublicKey<'a> {
    n: asn1::BigUint<'a>,
    _e: asn1::BigUint<'a>,
}

fn spki_parts(spki: &[u8]) -> SpkiParts {
    let s: TestSpki<'_> = asn1::parse_single(spki).expect("test SPKI");
    SpkiParts {
        algorithm: s.algorithm.full_data().to_vec(),
        key: s.key.as_bytes().to_vec(),
    }
}

fn rsa_modulus(rsa_public_key: &[u8]) -> Vec<u8> {
    let k: TestRsaPublicKey<'_> = asn1::parse_single(rsa_public_key).expect("RSAPublicKey");
    k.n.as_bytes().to_vec()
}

fn make_spki(algorithm: &[u8], key: &[u8]) -> Vec<u8> {
    let mut bits = vec![0u8];
    bits.extend_from_slice(key);
    let mut body = algorithm.to_vec();
    body.extend(der::tlv(0x03, &bits));
    der::tlv(0x30, &body)
}

fn pss_ai(d: DigestAlgorithm, salt: Option<u8>) -> Vec<u8> {
    let hash = d.algorithm_identifier_der_with_null();
    let mgf = der::algorithm_identifier(oid::MGF1, Some(&hash));
    let mut body = der::tlv(0xa0, &hash);
    body.extend(der::tlv(0xa1, &mgf));
    if let Some(salt) = salt {
        body.extend(der::tlv(0xa2, &der::tlv(0x02, &[salt])));
    }
    der::algorithm_identifier(oid::RSASSA_PSS, Some(&der::tlv(0x30, &body)))
}

fn fx(hex_str: &str) -> Vec<u8> {
    hex::decode(hex_str).expect("fixture hex")
}

// ---- fallback paths against signatures made by OpenSSL (pyca/cryptography) ----

#[test]
fn dsa_signatures_verify_behind_the_legacy_gate() {
    let pk = PublicKey::from_spki(&fx(fixtures::DSA_2048_SPKI)).expect("DSA SPKI");
    assert_eq!((pk.key_type(), pk.bits()), (KeyType::Dsa, 2048));
    assert!(PublicKey::has_dsa_params(pk.spki_der()));
    for (ai_hex, sig) in [
        ("300b0609608648016503040302", fixtures::DSA_SHA256_SIG),
        ("300b0609608648016503040301", fixtures::DSA_SHA224_SIG),
        ("300906072a8648ce380403", fixtures::DSA_SHA1_SIG),
    ] {
        let s = scheme(ai_hex);
        let sig = fx(sig);
        assert_eq!(s.verify(&pk, fixtures::MSG, &sig, true, 0), Ok(()), "{}", s.name());
        assert_eq!(s.verify(&pk, b"other", &sig, true, 0), Err(CryptoError::BadSignature));
        match s.verify(&pk, fixtures::MSG, &sig, false, 0) {
            Err(CryptoError::LegacyNotAllowed(m)) => {
                assert!(m.contains(s.name()) && m.contains("DSA"), "{m}")
            }
            other => panic!("expected legacy refusal, got {other:?}"),
        }
    }
    // A signature under one hash does not verify under another.
    assert_eq!(
        scheme("300b0609608648016503040302").verify(&pk, fixtures::MSG, &fx(fixtures::DSA_SHA224_SIG), true, 0),
        Err(CryptoError::BadSignature)
    );
    // BER-ish encodings: trailing byte, and an extra leading zero in r.
    let mut sig = fx(fixtures::DSA_SHA256_SIG);
    sig.push(0);
    assert_eq!(
        scheme("300b0609608648016503040302").verify(&pk, fixtures::MSG, &sig, true, 0),
        Err(CryptoError::BadSignature)
    );
}

#[test]
fn dsa_parameters_are_inherited_from_the_issuer() {
    let issuer = PublicKey::from_spki(&fx(fixtures::DSA_2048_SPKI)).expect("DSA SPKI");
    let parts = spki_parts(issuer.spki_der());
    // The same key with parameters omitted (RFC 3279 §2.3.2 allows it for subordinates).
    let bare = make_spki(&der::algorithm_identifier(oid::ID_DSA, None), &parts.key);
    assert!(PublicKey::needs_inherited_dsa_params(&bare));
    assert!(!PublicKey::has_dsa_params(&bare));
    match PublicKey::from_spki(&bare) {
        Err(CryptoError::InvalidKey(m)) => assert!(m.contains("inherit"), "{m}"),
        other => panic!("expected a request for inherited params, got {other:?}"),
    }
    let params = issuer.dsa_params_der().expect("DSA params");
    let inherited = PublicKey::from_spki_with_inherited_dsa_params(&bare, &params).expect("inherit");
    assert_eq!(inherited.dsa_params_der(), Some(params.clone()));
    assert_eq!(inherited.spki_der(), bare.as_slice());
    let sig = fx(fixtures::DSA_SHA256_SIG);
    assert_eq!(
        scheme("300b0609608648016503040302").verify(&inherited, fixtures::MSG, &sig, true, 0),
        Ok(())
    );
    // Own parameters win over the issuer's; non-DSA keys ignore the issuer's.
    let own = PublicKey::from_spki_with_inherited_dsa_params(issuer.spki_der(), b"junk").expect("own params");
    assert_eq!(own.dsa_params_der(), Some(params));
    let (_, rsa) = rsa2048();
    assert!(PublicKey::from_spki_with_inherited_dsa_params(rsa.spki_der(), b"junk").is_ok());
    // Garbage issuer parameters are an invalid key, not a panic.
    assert!(matches!(
        PublicKey::from_spki_with_inherited_dsa_params(&bare, &[0x30, 0x00]),
        Err(CryptoError::InvalidKey(_))
    ));
}

#[test]
fn dsa_domain_relations_are_checked() {
    // y replaced by 1: in the subgroup trivially, and would accept r = 1 forgeries.
    let issuer = PublicKey::from_spki(&fx(fixtures::DSA_2048_SPKI)).expect("DSA SPKI");
    let parts = spki_parts(issuer.spki_der());
    let y_one = make_spki(&parts.algorithm, &der::tlv(0x02, &[1]));
    assert!(matches!(PublicKey::from_spki(&y_one), Err(CryptoError::InvalidKey(_))));
    // y = 2 lies in (1, p) but not in the order-q subgroup.
    let y_two = make_spki(&parts.algorithm, &der::tlv(0x02, &[2]));
    match PublicKey::from_spki(&y_two) {
        Err(CryptoError::InvalidKey(m)) => assert!(m.contains("subgroup"), "{m}"),
        other => panic!("expected subgroup rejection, got {other:?}"),
    }
}

#[test]
fn rsa_outside_aws_lc_parameter_sets_uses_the_fallback() {
    let k1024 = PublicKey::from_spki(&fx(fixtures::RSA_1024_SPKI)).expect("RSA 1024");
    assert_eq!(k1024.bits(), 1024);
    let sig = fx(fixtures::RSA_1024_PKCS1_SHA384_SIG);
    assert_eq!(
        scheme(SHA384_RSA_NULL).verify(&k1024, fixtures::MSG, &sig, false, 0),
        Ok(())
    );
    assert_eq!(
        scheme(SHA384_RSA_NULL).verify(&k1024, b"x", &sig, false, 0),
        Err(CryptoError::BadSignature)
    );
    assert!(matches!(
        scheme(SHA384_RSA_NULL).verify(&k1024, fixtures::MSG, &sig, false, 2048),
        Err(CryptoError::WeakKey(_))
    ));

    let k2048 = PublicKey::from_spki(&fx(fixtures::RSA_2048_SPKI)).expect("RSA 2048");
    let sig = fx(fixtures::RSA_2048_PKCS1_SHA224_SIG);
    let sha224 = scheme("300d06092a864886f70d01010e0500");
    assert_eq!(sha224.name(), "sha224WithRSAEncryption");
    assert_eq!(sha224.verify(&k2048, fixtures::MSG, &sig, false, 2048), Ok(()));
    assert_eq!(
        sha224.verify(&k2048, b"x", &sig, false, 2048),
        Err(CryptoError::BadSignature)
    );
    assert_eq!(
        scheme(SHA256_RSA_NULL).verify(&k2048, fixtures::MSG, &sig, false, 2048),
        Err(CryptoError::BadSignature)
    );
}

#[test]
fn rsa_pss_salt_lengths_and_hashes_beyond_aws_lc() {
    let k2048 = PublicKey::from_spki(&fx(fixtures::RSA_2048_SPKI)).expect("RSA 2048");
    let k1024 = PublicKey::from_spki(&fx(fixtures::RSA_1024_SPKI)).expect("RSA 1024");
    let cases: [(&PublicKey, Vec<u8>, &str, bool); 4] = [
        (
            &k2048,
            pss_ai(DigestAlgorithm::Sha256, Some(20)),
            fixtures::RSA_2048_PSS_SHA256_SALT20_SIG,
            false,
        ),
        (
            &k2048,
            pss_ai(DigestAlgorithm::Sha256, Some(0)),
            fixtures::RSA_2048_PSS_SHA256_SALT0_SIG,
            false,
        ),
        // All defaults: RSASSA-PSS-params is an empty SEQUENCE.
        (
            &k2048,
            der::algorithm_identifier(oid::RSASSA_PSS, Some(&[0x30, 0x00])),
            fixtures::RSA_2048_PSS_SHA1_SALT20_SIG,
            true,
        ),
        (
            &k1024,
            pss_ai(DigestAlgorithm::Sha256, Some(32)),
            fixtures::RSA_1024_PSS_SHA256_SALT32_SIG,
            false,
        ),
    ];
    for (key, ai_der, sig_hex, legacy) in cases {
        let s = SignatureScheme::from_algorithm_identifier(&ai_der).expect("PSS scheme");
        let sig = fx(sig_hex);
        assert_eq!(s.verify(key, fixtures::MSG, &sig, true, 0), Ok(()), "{s:?}");
        assert_eq!(
            s.verify(key, b"x", &sig, true, 0),
            Err(CryptoError::BadSignature),
            "{s:?}"
        );
        assert_eq!(s.is_legacy(), legacy);
        let mut flipped = sig.clone();
        flipped[5] ^= 0x40;
        assert_eq!(
            s.verify(key, fixtures::MSG, &flipped, true, 0),
            Err(CryptoError::BadSignature)
        );
    }
    // The salt length is enforced: a salt-20 signature is not a salt-32 one.
    let s32 = SignatureScheme::from_algorithm_identifier(&pss_ai(DigestAlgorithm::Sha256, Some(32))).expect("PSS 32");
    assert_eq!(
        s32.verify(
            &k2048,
            fixtures::MSG,
            &fx(fixtures::RSA_2048_PSS_SHA256_SALT20_SIG),
            true,
            0
        ),
        Err(CryptoError::BadSignature)
    );
    // A salt longer than the encoding can hold fails cleanly, up to the largest INTEGER the
    // parameters can carry (no arithmetic overflow on attacker-chosen lengths).
    let huge =
        SignatureScheme::from_algorithm_identifier(&pss_ai(DigestAlgorithm::Sha256, Some(0x7f))).expect("PSS 127");
    assert!(huge
        .verify(
            &k1024,
            fixtures::MSG,
            &fx(fixtures::RSA_1024_PSS_SHA256_SALT32_SIG),
            true,
            0
        )
        .is_err());
    let hash = DigestAlgorithm::Sha256.algorithm_identifier_der_with_null();
    let mut body = der::tlv(0xa0, &hash);
    body.extend(der::tlv(0xa1, &der::algorithm_identifier(oid::MGF1, Some(&hash))));
    body.extend(der::tlv(
        0xa2,
        &der::tlv(0x02, &[0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
    ));
    let max = der::algorithm_identifier(oid::RSASSA_PSS, Some(&der::tlv(0x30, &body)));
    let s = SignatureScheme::from_algorithm_identifier(&max).expect("PSS with a huge salt parses");
    assert_eq!(
        s.verify(
            &k1024,
            fixtures::MSG,
            &fx(fixtures::RSA_1024_PSS_SHA256_SALT32_SIG),
            true,
            0
        ),
        Err(CryptoError::BadSignature)
    );
}

#[test]
fn rsassa_pss_keys_are_restricted_to_pss() {
    let plain = PublicKey::from_spki(&fx(fixtures::RSA_2048_SPKI)).expect("RSA 2048");
    let parts = spki_parts(plain.spki_der());
    // id-RSASSA-PSS key bound to SHA-256 and salt >= 32 (RFC 4055 §3.3).
    let ai32 = pss_ai(DigestAlgorithm::Sha256, Some(32));
    let (_, params) = der::parse_algorithm_identifier(&ai32).expect("ai");
    let restricted = make_spki(&der::algorithm_identifier(oid::RSASSA_PSS, params), &parts.key);
    let pk = PublicKey::from_spki(&restricted).expect("PSS key");
    assert_eq!(pk.key_type(), KeyType::Rsa);
    let salt20 =
        SignatureScheme::from_algorithm_identifier(&pss_ai(DigestAlgorithm::Sha256, Some(20))).expect("PSS 20");
    let sig20 = fx(fixtures::RSA_2048_PSS_SHA256_SALT20_SIG);
    match salt20.verify(&pk, fixtures::MSG, &sig20, true, 0) {
        Err(CryptoError::KeyAlgorithmMismatch(m)) => assert!(m.contains("salt"), "{m}"),
        other => panic!("expected PSS restriction, got {other:?}"),
    }
    assert!(matches!(
        scheme(SHA224_RSA_NULL_HEX).verify(&pk, fixtures::MSG, &fx(fixtures::RSA_2048_PKCS1_SHA224_SIG), true, 0),
        Err(CryptoError::KeyAlgorithmMismatch(_))
    ));
    // Without parameters the key is PSS-only but otherwise unrestricted.
    let unrestricted = make_spki(&der::algorithm_identifier(oid::RSASSA_PSS, None), &parts.key);
    let pk = PublicKey::from_spki(&unrestricted).expect("PSS key without params");
    assert_eq!(salt20.verify(&pk, fixtures::MSG, &sig20, true, 0), Ok(()));
}

const SHA224_RSA_NULL_HEX: &str = "300d06092a864886f70d01010e0500";

#[test]
fn corrupted_encodings_give_errors_not_panics() {
    // Every single-octet corruption of real keys, algorithm identifiers and signatures must
    // come back as a typed result: these bytes arrive from documents anyone can craft.
    let (_, rsa) = rsa2048();
    let (ec_kp, ec) = ec_key(&lcsig::ECDSA_P384_SHA384_ASN1_SIGNING);
    let (_, ed) = ed_key();
    let dsa_spki = fx(fixtures::DSA_2048_SPKI);
    let ec_sig = ec_kp.sign(&SystemRandom::new(), MSG).expect("sign").as_ref().to_vec();
    let dsa = PublicKey::from_spki(&dsa_spki).expect("DSA");
    let dsa_sig = fx(fixtures::DSA_SHA256_SIG);
    let inputs: Vec<Vec<u8>> = vec![
        rsa.spki_der().to_vec(),
        ec.spki_der().to_vec(),
        ed.spki_der().to_vec(),
        dsa_spki,
    ];
    for (n, input) in inputs.iter().enumerate() {
        // The DSA key is last and costs two modular exponentiations per parse: one value.
        let values: &[u8] = if n + 1 == inputs.len() {
            &[0xff]
        } else {
            &[0x00, 0x80, 0xff]
        };
        for i in 0..input.len() {
            for &v in values {
                let mut m = input.clone();
                m[i] = v;
                let _ = PublicKey::from_spki(&m);
                let _ = PublicKey::needs_inherited_dsa_params(&m);
            }
        }
    }
    let pss = pss_ai(DigestAlgorithm::Sha384, Some(48));
    for i in 0..pss.len() {
        for v in [0x00u8, 0x80, 0xff] {
            let mut m = pss.clone();
            m[i] = v;
            if let Ok(s) = SignatureScheme::from_algorithm_identifier(&m) {
                let _ = s.verify(rsa, MSG, &[0u8; 256], true, 0);
            }
            let _ = SignatureScheme::for_cms(&m, DigestAlgorithm::Sha384);
            let _ = DigestAlgorithm::from_algorithm_identifier(&m);
        }
    }
    for (key, ai_hex, sig) in [
        (&ec, ECDSA_SHA384, &ec_sig),
        (&dsa, "300b0609608648016503040302", &dsa_sig),
    ] {
        let s = scheme(ai_hex);
        for i in 0..sig.len() {
            for v in [0x00u8, 0x80, 0xff] {
                let mut m = sig.clone();
                if m[i] == v {
                    continue;
                }
                m[i] = v;
                assert!(
                    s.verify(key, MSG, &m, true, 0).is_err(),
                    "{} accepted a corrupted signature",
                    s.name()
                );
            }
        }
    }
}

/// Found by fuzz/fuzz_targets/signature.rs: a 512-bit RSA key (emLen 64) with RSASSA-PSS
/// over SHA-512 (hLen 64) and salt 0, and a signature whose encoded message ends in 0xbc,
/// underflowed `emLen - hLen - 1` in the fallback. RFC 8017 §9.1.2 step 3: emLen < hLen +
/// sLen + 2 is "inconsistent", a bad signature. Reachable with `legacy=True` and
/// `min_rsa_bits` lowered to 512, which archives of old government CAs need.
#[test]
fn pss_with_a_hash_longer_than_the_key_allows_is_a_bad_signature() {
    let spki = ai(concat!(
        "305c300d06092a864886f70d0101010500034b003048024100dafe9cb6a7c34bcff055fb0a6045f27f935a091b",
        "d3fb382ad583b7c6365337abb888af2f1ab06e51b4044903e14be171e7c6882ab0a299fdff4db9942e97001902",
        "03010001"
    ));
    let pss_sha512_salt0 = scheme(concat!(
        "304106092a864886f70d01010a3034a00f300d06096086480165030402030500a11c301a06092a864886f70d01",
        "0108300d06096086480165030402030500a203020100"
    ));
    let sig = ai(concat!(
        "5f59a5bc373d84e928199b53655664c623ee61918ed7694ae81411fdec2de3b6b28e3c43e9ba71144c641d538d",
        "5ca54ba318be583967775a2015527a665b08da"
    ));
    let key = PublicKey::from_spki(&spki).expect("512-bit RSA key");
    assert_eq!(key.bits(), 512);
    let msg = ai("0143e1bb98492043204e47e1a62000");
    assert_eq!(
        pss_sha512_salt0.verify(&key, &msg, &sig, true, 0),
        Err(CryptoError::BadSignature)
    );
    // Under the default minimum the key is refused before any arithmetic.
    assert!(matches!(
        pss_sha512_salt0.verify(&key, &msg, &sig, true, 2048),
        Err(CryptoError::WeakKey(_))
    ));
}

#[test]
fn rsa_pss_on_keys_too_short_for_the_hash_is_a_bad_signature_not_a_panic() {
    // A 512..520-bit modulus has emLen <= hLen + 1 for SHA-512, so EMSA-PSS-VERIFY step 3
    // must say "inconsistent" before any length is subtracted. The signature is searched so
    // that the recovered block passes the checks that come first (leading zero octets,
    // trailer 0xbc): the attacker controls both the key (in a certificate) and the
    // signature, so these bytes reach the length arithmetic.
    use num_bigint_dig::BigUint;
    let salt0 = SignatureScheme::from_algorithm_identifier(&pss_ai(DigestAlgorithm::Sha512, Some(0)))
        .expect("PSS/SHA-512/salt 0 parses");
    for bits in 512..=520usize {
        let k = bits.div_ceil(8);
        // An odd modulus of exactly `bits` bits: top bit set, the rest 0x5a filler.
        let mut n_bytes = vec![0x5au8; k];
        n_bytes[0] = 1u8 << ((bits - 1) % 8);
        n_bytes[k - 1] |= 1;
        // DER INTEGER: a leading zero octet only when the top bit is set.
        let sign: &[u8] = if n_bytes[0] & 0x80 != 0 { &[0] } else { &[] };
        let mut rpk = der::tlv(0x02, &[sign, &n_bytes].concat());
        rpk.extend(der::tlv(0x02, &[0x03]));
        let spki = make_spki(&ai("300d06092a864886f70d0101010500"), &der::tlv(0x30, &rpk));
        let pk = PublicKey::from_spki(&spki).expect("test RSA key parses");
        assert_eq!(pk.bits(), bits);
        let n = BigUint::from_bytes_be(&n_bytes);
        let em_len = (bits - 1).div_ceil(8);
        // Starting at n/2 makes s^3 wrap mod n; small s would give exact cubes, and 0xbc is
        // no cube mod 256.
        let half = &n >> 1usize;
        let sig = (0u32..)
            .map(|i| &half + BigUint::from(i))
            .find(|s| {
                let m = s.modpow(&BigUint::from(3u32), &n).to_bytes_be();
                m.len() <= em_len && m.last() == Some(&0xbc)
            })
            .expect("a signature whose block ends in 0xbc");
        let mut sig_bytes = vec![0u8; k];
        let raw = sig.to_bytes_be();
        sig_bytes[k - raw.len()..].copy_from_slice(&raw);
        assert_eq!(
            salt0.verify(&pk, MSG, &sig_bytes, true, 0),
            Err(CryptoError::BadSignature),
            "{bits}-bit key"
        );
    }
}

#[test]
fn sha3_in_cms_conventions() {
    // A bare key algorithm takes SHA-3 from digestAlgorithm (RFC 9688 §4, §5).
    let rsa = SignatureScheme::for_cms(&ai("300d06092a864886f70d0101010500"), DigestAlgorithm::Sha3_256).expect("rsa");
    assert_eq!(rsa.name(), "id-rsassa-pkcs1-v1_5-with-sha3-256");
    let ec = SignatureScheme::for_cms(
        &ai("301306072a8648ce3d020106082a8648ce3d030107"),
        DigestAlgorithm::Sha3_384,
    );
    // id-ecPublicKey with parameters is not a CMS signatureAlgorithm form we accept.
    assert!(ec.is_err());
    let ec = SignatureScheme::for_cms(&ai("300906072a8648ce3d0201"), DigestAlgorithm::Sha3_384).expect("ec");
    assert_eq!(ec.name(), "id-ecdsa-with-sha3-384");
    // A full SHA-3 signature OID must agree with digestAlgorithm.
    let full = ai("300b0609608648016503040310");
    assert!(SignatureScheme::for_cms(&full, DigestAlgorithm::Sha3_512).is_ok());
    assert!(matches!(
        SignatureScheme::for_cms(&full, DigestAlgorithm::Sha512),
        Err(CryptoError::UnsupportedAlgorithm(m)) if m.contains("must match")
    ));
    // SHA3-224 signature OIDs are refused by name.
    assert!(matches!(
        SignatureScheme::from_algorithm_identifier(&ai("300b0609608648016503040309")),
        Err(CryptoError::UnsupportedAlgorithm(m)) if m.contains("id-ecdsa-with-sha3-224") && m.contains("aws-lc-rs")
    ));
    // SHA-3 is not legacy.
    assert!(!ec.is_legacy() && !DigestAlgorithm::Sha3_256.is_legacy());
}
