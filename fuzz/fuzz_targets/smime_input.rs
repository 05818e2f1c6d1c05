//! Fuzzes the extraction of signatures from PEM and S/MIME (`cms::input::unwrap`) and of
//! certificates from PKCS#7 bundles (`cms::input::bundle_certificates`). Beyond "never
//! panics": DER input comes back untouched; a multipart/signed result carries content in
//! canonical form (every LF preceded by CR); an error is a sentence for a person (non-empty,
//! no debug formatting of internal types), and the signature, when unwrapped, is then fully
//! verified against the test roots like any other input.
//!
//! Seeds: the test signatures as PEM and as S/MIME messages (fuzz/seed.py).
#![no_main]

use govsig_core::cms::input::{bundle_certificates, unwrap, InputForm};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match unwrap(data) {
        Ok(u) => {
            if data.first() == Some(&0x30) {
                assert_eq!(u.form, InputForm::Der);
                assert_eq!(&*u.signature, data);
            }
            if let Some(c) = &u.content {
                assert_eq!(u.form, InputForm::SmimeSigned);
                for (i, b) in c.iter().enumerate() {
                    if *b == b'\n' {
                        assert!(i > 0 && c[i - 1] == b'\r', "content not in canonical CRLF form");
                    }
                }
            }
            let engine = govsig_fuzz::engine(Vec::new());
            let out = engine.verify(data, None);
            assert!(out.code != govsig_core::outcome::Code::InternalError, "{}", out.reason);
            assert!(out.ok() || !out.reason.is_empty(), "{:?} without a reason", out.code);
        }
        Err(e) => {
            assert!(!e.0.is_empty());
            assert!(!e.0.contains("ParseError {"), "debug text in a message: {}", e.0);
        }
    }
    if let Ok(Some(certs)) = bundle_certificates(data) {
        assert!(!certs.is_empty());
    }
});
