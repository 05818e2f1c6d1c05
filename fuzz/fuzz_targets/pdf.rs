//! Signed PDFs as `Verifier.verify_pdf` receives them: every revision read by the lazy reader
//! (pdf/lazy.rs: cross-reference chains, object streams, single objects by pdf-rs), the
//! signature fields, /ByteRange and /Contents checks, the CMS over the ranges, and the
//! classification of later revisions. Beyond "never panics" (a caught panic would show as
//! `internal_error`, which fails here): a document is ok only with signatures that are all
//! ok and changes after them that are permitted, and every refusal says why.
//!
//! Seeds: PDFs signed by pyHanko with the fuzz PKI, and updated after signing (fuzz/seed.py).
#![no_main]

use govsig_core::outcome::Code;
use govsig_core::pdf::Modification;
use govsig_fuzz::{engine, VALIDATION_TIME};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let engine = engine(Vec::new());
    let out = engine.verify_pdf_at(data, VALIDATION_TIME);
    assert_ne!(out.code, Code::InternalError, "{}", out.reason);
    if out.ok() {
        assert!(!out.signatures.is_empty(), "ok without a signature");
        for s in &out.signatures {
            assert_eq!(s.code, Code::Ok, "ok with a failed signature");
            assert!(s.modification < Modification::Other, "ok after an `other` change");
            assert_eq!(s.byte_range.first(), Some(&0));
        }
    } else {
        assert!(!out.reason.is_empty(), "{:?} without a reason", out.code);
    }
    for s in &out.signatures {
        let _ = (s.field.len(), s.modification.name(), s.cms.needs());
    }
});
