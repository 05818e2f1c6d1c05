//! Every failure a person can meet, typed, with its PKCS#11 name, and never showing the PIN.

mod common;

use common::{Hsm, KeySpec, USER_PIN};
use govsig_pkcs11::{DigestAlgorithm, KeySelector, Module, Pin, Pkcs11Error, SignScheme, TokenSelector};
use std::sync::OnceLock;

/// A PIN string that cannot appear in any message by accident.
const WRONG_PIN: &str = "80417529";

fn hsm() -> &'static Hsm {
    static HSM: OnceLock<Hsm> = OnceLock::new();
    HSM.get_or_init(|| {
        Hsm::new(&[
            ("errors", &[KeySpec::Rsa2048, KeySpec::P256]),
            ("wrong-pin", &[]),
            ("debug-pin", &[KeySpec::P256]),
            ("pin-tries", &[KeySpec::P256]),
            ("logout", &[KeySpec::P256]),
        ])
    })
}

fn module() -> Module {
    Module::load(&hsm().module).expect("load")
}

fn open(label: &str) -> govsig_pkcs11::Token {
    common::shared_token(hsm(), label)
}

/// Neither PIN appears in the Display or Debug of anything a caller may print.
fn assert_no_pin(what: &str, text: &str) {
    for pin in [USER_PIN, WRONG_PIN] {
        assert!(!text.contains(pin), "{what} shows a PIN: {text}");
    }
}

fn assert_error_clean(err: &Pkcs11Error) {
    assert_no_pin("Display", &err.to_string());
    assert_no_pin("Debug", &format!("{err:?}"));
    assert_no_pin("Debug (pretty)", &format!("{err:#?}"));
}

#[test]
fn wrong_pin_is_pin_incorrect_and_never_shown() {
    let err = module()
        .open_token(TokenSelector::Label("wrong-pin".into()), Pin::from(WRONG_PIN))
        .expect_err("wrong PIN");
    assert!(matches!(err, Pkcs11Error::PinIncorrect { .. }), "{err:?}");
    assert_eq!(err.ckr_name(), Some("CKR_PIN_INCORRECT"));
    assert_eq!(err.kind(), "pin_incorrect");
    assert!(
        err.to_string()
            .contains("the token rejected the PIN (CKR_PIN_INCORRECT)"),
        "{err}"
    );
    assert_error_clean(&err);
}

#[test]
fn pin_token_and_signer_never_show_the_pin() {
    let pin = Pin::new(USER_PIN.to_owned());
    assert_eq!(format!("{pin:?}"), "Pin(***)");
    assert_eq!(format!("{pin:#?}"), "Pin(***)");
    let token = module()
        .open_token(TokenSelector::Label("debug-pin".into()), pin)
        .expect("login");
    assert_no_pin("Token Debug", &format!("{token:?} {token:#?}"));
    let signer = token.signer(KeySelector::Label("p256-key".into()), 2).expect("signer");
    assert_no_pin("TokenSigner Debug", &format!("{signer:?} {signer:#?}"));
    assert_no_pin("Module Debug", &format!("{:?}", module()));
    assert!(format!("{token:?}").contains("debug-pin"));
}

/// A second login while the first is open cannot check its PIN (the token answers
/// CKR_USER_ALREADY_LOGGED_IN without looking at it), so it is refused, not accepted.
#[test]
fn second_login_while_logged_in_is_refused_not_trusted() {
    let _open = open("errors");
    for pin in [WRONG_PIN, USER_PIN] {
        let err = module()
            .open_token(TokenSelector::Label("errors".into()), Pin::from(pin))
            .expect_err("already logged in");
        assert!(matches!(err, Pkcs11Error::AlreadyLoggedIn { .. }), "{err:?}");
        assert_eq!(err.ckr_name(), Some("CKR_USER_ALREADY_LOGGED_IN"));
        assert!(err.to_string().contains("share that open token"), "{err}");
        assert_error_clean(&err);
    }
}

/// SoftHSM 2.6 never locks the user PIN: every wrong PIN is CKR_PIN_INCORRECT, and it raises
/// CKF_USER_PIN_COUNT_LOW after a failure (cleared by a good login) but never FINAL_TRY or
/// LOCKED. So CKR_PIN_LOCKED cannot be produced here; what is real is tested: the flag is
/// read into the error, the message warns, and the right PIN still works afterwards.
#[test]
fn repeated_wrong_pins_report_the_tries_flag_and_softhsm_does_not_lock() {
    let module = module();
    for attempt in 1..=12 {
        let err = module
            .open_token(TokenSelector::Label("pin-tries".into()), Pin::from(WRONG_PIN))
            .expect_err("wrong PIN");
        match &err {
            Pkcs11Error::PinIncorrect { count_low, final_try } => {
                assert!(
                    *count_low,
                    "attempt {attempt}: SoftHSM raises CKF_USER_PIN_COUNT_LOW after a failure"
                );
                assert!(!*final_try);
                assert!(err.to_string().contains("few tries remain"), "{err}");
            }
            other => panic!("attempt {attempt}: {other:?}"),
        }
        assert_error_clean(&err);
    }
    let info = module
        .tokens()
        .expect("tokens")
        .into_iter()
        .find(|t| t.label == "pin-tries")
        .expect("listed");
    assert!(info.flags.user_pin_count_low && !info.flags.user_pin_locked);
    let token = module
        .open_token(TokenSelector::Label("pin-tries".into()), Pin::from(USER_PIN))
        .expect("the right PIN still works");
    // A good login clears the low-count flag.
    let after = module
        .tokens()
        .expect("tokens")
        .into_iter()
        .find(|t| t.label == "pin-tries")
        .expect("listed");
    assert!(!after.flags.user_pin_count_low);
    drop(token);
}

#[test]
fn pin_locked_and_expired_messages_name_the_return_value() {
    // SoftHSM cannot lock a PIN (see above); the variants' contract is checked directly.
    for (err, ckr, hint) in [
        (Pkcs11Error::PinLocked, "CKR_PIN_LOCKED", "security officer"),
        (Pkcs11Error::PinExpired, "CKR_PIN_EXPIRED", "change it"),
        (
            Pkcs11Error::PinIncorrect {
                count_low: false,
                final_try: true,
            },
            "CKR_PIN_INCORRECT",
            "ONE more wrong PIN",
        ),
    ] {
        assert_eq!(err.ckr_name(), Some(ckr));
        assert!(err.to_string().contains(ckr) && err.to_string().contains(hint), "{err}");
    }
}

#[test]
fn unknown_token_label_lists_the_tokens_present() {
    let err = module()
        .open_token(TokenSelector::Label("no such token".into()), Pin::from(WRONG_PIN))
        .expect_err("no token");
    match &err {
        Pkcs11Error::TokenNotFound { selector, available } => {
            assert_eq!(selector, "label \"no such token\"");
            assert!(available.iter().any(|a| a.contains("\"errors\"")), "{available:?}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(err.ckr_name(), None);
    assert!(
        err.to_string().contains("no token matches label \"no such token\""),
        "{err}"
    );
    assert_error_clean(&err);

    let err = module()
        .open_token(TokenSelector::Slot(987_654_321), Pin::from(WRONG_PIN))
        .expect_err("no slot");
    assert!(matches!(err, Pkcs11Error::TokenNotFound { .. }), "{err:?}");
}

#[test]
fn unknown_key_label_lists_the_signing_keys() {
    let token = open("errors");
    let err = token
        .signer(KeySelector::Label("no such key".into()), 1)
        .expect_err("no key");
    match &err {
        Pkcs11Error::KeyNotFound { available, .. } => {
            assert!(
                available.contains(&"key \"rsa-key\" (id 01)".to_owned()),
                "{available:?}"
            );
            assert!(
                available.contains(&"key \"p256-key\" (id 02)".to_owned()),
                "{available:?}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(err.ckr_name(), None);
    assert!(
        err.to_string()
            .contains("no private signing key matches label \"no such key\""),
        "{err}"
    );
    let err = token
        .signer(KeySelector::LabelAndId("rsa-key".into(), vec![0x02]), 1)
        .expect_err("id of another key");
    assert!(matches!(err, Pkcs11Error::KeyNotFound { .. }), "{err:?}");
}

#[test]
fn scheme_that_does_not_fit_the_key_is_mechanism_not_supported() {
    let token = open("errors");
    let rsa = token.signer(KeySelector::Label("rsa-key".into()), 1).expect("signer");
    for scheme in [SignScheme::Ed25519, SignScheme::Ecdsa(DigestAlgorithm::Sha256)] {
        let err = rsa.sign(scheme, b"m").expect_err("RSA key");
        match &err {
            Pkcs11Error::MechanismNotSupported { offered, ckr, .. } => {
                assert!(offered.contains(&"CKM_SHA256_RSA_PKCS".to_owned()), "{offered:?}");
                assert_eq!(*ckr, None, "govsig refused before asking the token");
            }
            other => panic!("{other:?}"),
        }
        assert!(err.to_string().contains("is RSA-2048"), "{err}");
    }
    let ec = token.signer(KeySelector::Label("p256-key".into()), 1).expect("signer");
    let err = ec
        .sign(SignScheme::RsaPss(DigestAlgorithm::Sha256), b"m")
        .expect_err("EC key");
    assert!(
        err.to_string().contains("cannot sign with RSA-PSS with sha256"),
        "{err}"
    );
    assert!(err.to_string().contains("is EC P256"), "{err}");
}

#[test]
fn certificate_of_another_key_is_a_mismatch() {
    let hsm = hsm();
    let made = hsm.token("errors");
    let token = open("errors");
    let rsa_cert = made.cert(KeySpec::Rsa2048).to_vec();
    let ec_cert = made.cert(KeySpec::P256).to_vec();
    token
        .key_certificate_matches(&KeySelector::Label("rsa-key".into()), &rsa_cert)
        .expect("its own certificate matches");
    // Another algorithm.
    let err = token
        .key_certificate_matches(&KeySelector::Label("rsa-key".into()), &ec_cert)
        .expect_err("EC certificate for an RSA key");
    assert!(matches!(err, Pkcs11Error::KeyCertificateMismatch { .. }), "{err:?}");
    assert!(err.to_string().contains("another algorithm"), "{err}");
    // Same algorithm, another key: the certificates of the other test token's RSA key.
    let ca = common::make_ca(hsm.dir.path());
    let other_key = hsm.dir.path().join("other-rsa.der");
    common::run(
        std::process::Command::new("openssl")
            .args([
                "genpkey",
                "-algorithm",
                "RSA",
                "-pkeyopt",
                "rsa_keygen_bits:2048",
                "-outform",
                "DER",
                "-out",
            ])
            .arg(&other_key),
    );
    let other_spki = hsm.dir.path().join("other-rsa.spki.der");
    common::run(
        std::process::Command::new("openssl")
            .args(["pkey", "-inform", "DER", "-in"])
            .arg(&other_key)
            .args(["-pubout", "-outform", "DER", "-out"])
            .arg(&other_spki),
    );
    let other_cert = ca.issue(hsm.dir.path(), "other-rsa", &other_spki);
    let signer = token.signer(KeySelector::Label("rsa-key".into()), 1).expect("signer");
    let err = signer.with_certificate(other_cert).expect_err("another RSA key");
    match &err {
        Pkcs11Error::KeyCertificateMismatch { key, detail } => {
            assert_eq!(key, "key \"rsa-key\" (id 01)");
            assert_eq!(detail, "the certificate holds a different public key");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(err.kind(), "key_certificate_mismatch");
    // Not a certificate at all.
    let signer = token.signer(KeySelector::Label("rsa-key".into()), 1).expect("signer");
    let err = signer
        .with_certificate(vec![0x30, 0x03, 0x02, 0x01, 0x01])
        .expect_err("garbage");
    assert!(err.to_string().contains("not a DER X.509 certificate"), "{err}");
    // The matching certificate is accepted and then reported.
    let signer = token.signer(KeySelector::Label("rsa-key".into()), 1).expect("signer");
    let signer = signer.with_certificate(rsa_cert.clone()).expect("own certificate");
    assert_eq!(signer.certificate_der(), Some(rsa_cert.as_slice()));
}

#[test]
fn missing_or_foreign_module_is_module_load() {
    let hsm = hsm();
    let missing = hsm.dir.path().join("no-such-pkcs11.so");
    let err = Module::load(&missing).expect_err("missing");
    match &err {
        Pkcs11Error::ModuleLoad { path, ckr, .. } => {
            assert_eq!(path, &missing);
            assert_eq!(*ckr, None);
        }
        other => panic!("{other:?}"),
    }
    assert!(
        err.to_string().contains("no-such-pkcs11.so") && err.to_string().contains("cannot be opened"),
        "{err}"
    );
    // A file that is not a shared library at all.
    let bogus = hsm.dir.path().join("bogus-pkcs11.so");
    std::fs::write(&bogus, b"not an ELF file").expect("write");
    let err = Module::load(&bogus).expect_err("not a library");
    assert!(matches!(err, Pkcs11Error::ModuleLoad { .. }), "{err:?}");
    assert!(err.to_string().contains("dynamic loader refused it"), "{err}");
}

#[test]
fn zero_sessions_is_an_invalid_argument() {
    let token = open("errors");
    let err = token.signer(KeySelector::Label("rsa-key".into()), 0).expect_err("zero");
    assert!(matches!(err, Pkcs11Error::InvalidArgument { .. }), "{err:?}");
    assert_eq!(err.ckr_name(), None);
}

#[test]
fn signing_after_logout_is_a_typed_error() {
    let token = module()
        .open_token(TokenSelector::Label("logout".into()), Pin::from(USER_PIN))
        .expect("login");
    let signer = token.signer(KeySelector::Label("p256-key".into()), 1).expect("signer");
    signer
        .sign(SignScheme::Ecdsa(DigestAlgorithm::Sha256), b"before")
        .expect("logged in");
    token.logout().expect("logout");
    let err = signer
        .sign(SignScheme::Ecdsa(DigestAlgorithm::Sha256), b"after")
        .expect_err("logged out");
    // SoftHSM hides the private key from the now public session: CKR_OBJECT_HANDLE_INVALID
    // from C_SignInit, which govsig reports as the login having ended.
    match &err {
        Pkcs11Error::NotLoggedIn { ckr, function } => {
            assert!(
                [
                    "CKR_OBJECT_HANDLE_INVALID",
                    "CKR_KEY_HANDLE_INVALID",
                    "CKR_USER_NOT_LOGGED_IN"
                ]
                .contains(ckr),
                "{ckr}"
            );
            assert_eq!(function, "C_SignInit");
        }
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("open the token again"), "{err}");
    assert_error_clean(&err);
}
