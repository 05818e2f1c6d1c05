//! A token deleted while a batch signs: SoftHSM2's stand-in for pulling a USB token out.
//!
//! SoftHSM 2.6 answers a sign on a deleted token with CKR_OBJECT_HANDLE_INVALID from
//! C_SignInit (the key object vanished with the token) and C_GetTokenInfo with
//! CKR_GENERAL_ERROR; hardware tokens answer CKR_DEVICE_REMOVED or CKR_TOKEN_NOT_PRESENT.
//! Whatever the code, the batch must end with a typed `TokenRemoved`, not hang or panic.

mod common;

use aws_lc_rs::signature as sig;
use common::{verify, Hsm, KeySpec, USER_PIN};
use govsig_pkcs11::{DigestAlgorithm, KeySelector, Module, Pin, Pkcs11Error, SignScheme, TokenSelector};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// What one worker signed (message, signature) and the error that ended it.
type Outcome = (Vec<(Vec<u8>, Vec<u8>)>, Pkcs11Error);

#[derive(Clone, Copy, PartialEq, Eq)]
enum Removal {
    /// `softhsm2-util --delete-token`: files go one by one.
    Delete,
    /// The token's directory moved out of the token store in one rename, as a USB token
    /// leaves all at once.
    Vanish,
}

fn remove(hsm: &Hsm, how: Removal) {
    match how {
        Removal::Delete => hsm.delete_token("removable"),
        Removal::Vanish => hsm.vanish_token("removable"),
    }
}

fn batch_with_removal(how: Removal) {
    let hsm = Hsm::new(&[("removable", &[KeySpec::P256]), ("stays", &[KeySpec::P256])]);
    let spki = hsm.token("removable").spki(KeySpec::P256).to_vec();
    let module = Module::load(&hsm.module).expect("load");
    let token = module
        .open_token(TokenSelector::Label("removable".into()), Pin::from(USER_PIN))
        .expect("login");
    let signer = token.signer(KeySelector::Label("p256-key".into()), 2).expect("signer");
    let signed = AtomicUsize::new(0);
    let scheme = SignScheme::Ecdsa(DigestAlgorithm::Sha256);

    let outcomes: Vec<Outcome> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..3)
            .map(|t| {
                let (signer, signed) = (&signer, &signed);
                s.spawn(move || {
                    let mut done = Vec::new();
                    let deadline = Instant::now() + Duration::from_secs(20);
                    for i in 0.. {
                        assert!(
                            Instant::now() < deadline,
                            "thread {t} still signing 20 s after the token was deleted"
                        );
                        let message = format!("thread {t} item {i}").into_bytes();
                        match signer.sign(scheme, &message) {
                            Ok(signature) => {
                                signed.fetch_add(1, Ordering::Relaxed);
                                done.push((message, signature));
                            }
                            Err(e) => return (done, e),
                        }
                    }
                    unreachable!("the loop only ends by returning")
                })
            })
            .collect();
        while signed.load(Ordering::Relaxed) < 150 {
            std::thread::yield_now();
        }
        remove(&hsm, how);
        workers.into_iter().map(|w| w.join().expect("worker")).collect()
    });

    for (t, (done, err)) in outcomes.iter().enumerate() {
        eprintln!("thread {t}: {} signatures, then {err:?}", done.len());
        match err {
            Pkcs11Error::TokenRemoved { .. } => {
                let ckr = err.ckr_name().expect("a return value name");
                assert!(
                    [
                        "CKR_OBJECT_HANDLE_INVALID",
                        "CKR_DEVICE_REMOVED",
                        "CKR_TOKEN_NOT_PRESENT",
                        "CKR_SESSION_HANDLE_INVALID",
                        "CKR_GENERAL_ERROR",
                        // SoftHSM mid-removal: the key's attributes are already gone.
                        "CKR_KEY_FUNCTION_NOT_PERMITTED"
                    ]
                    .contains(&ckr),
                    "{ckr}"
                );
                assert!(err.to_string().contains("reinsert"), "{err}");
            }
            // softhsm2-util deletes the key files before the token itself, so a thread that
            // signs in between finds the token present and its key gone.
            Pkcs11Error::KeyNotFound { selector, .. } if how == Removal::Delete => {
                assert!(
                    selector.contains("p256-key")
                        // The key vanishes between C_SignInit and C_Sign as often as before.
                        && (selector.contains("C_SignInit") || selector.contains("C_Sign ")),
                    "{selector}"
                );
                assert_eq!(err.ckr_name(), None);
            }
            other => {
                panic!("thread {t} ended with {other:?}, neither TokenRemoved nor KeyNotFound")
            }
        }
        for (message, signature) in done {
            verify(&sig::ECDSA_P256_SHA256_ASN1, &spki, message, signature);
        }
    }
    assert!(outcomes.iter().map(|(d, _)| d.len()).sum::<usize>() >= 150);

    // Once the deletion is complete every call fails with TokenRemoved, without waiting.
    let again = signer.sign(scheme, b"after").expect_err("the token is gone");
    assert!(matches!(again, Pkcs11Error::TokenRemoved { .. }), "{again:?}");

    // The module still lists the other token, and the deleted one cannot be opened.
    let labels: Vec<String> = module.tokens().expect("tokens").into_iter().map(|t| t.label).collect();
    assert!(
        labels.contains(&"stays".to_owned()) && !labels.contains(&"removable".to_owned()),
        "{labels:?}"
    );
    let reopen = module
        .open_token(TokenSelector::Label("removable".into()), Pin::from(USER_PIN))
        .expect_err("deleted");
    assert!(matches!(reopen, Pkcs11Error::TokenNotFound { .. }), "{reopen:?}");
    let other = module
        .open_token(TokenSelector::Label("stays".into()), Pin::from(USER_PIN))
        .expect("other token");
    other
        .signer(KeySelector::Label("p256-key".into()), 1)
        .expect("signer")
        .sign(scheme, b"still works")
        .expect("the other token signs");
}

// Both removals share one process-wide SOFTHSM2_CONF, so they run in one test, one after
// the other, each with its own token store.
#[test]
fn removing_the_token_mid_batch_ends_every_thread_with_a_typed_error() {
    batch_with_removal(Removal::Vanish);
    batch_with_removal(Removal::Delete);
}
