//! CMS SignedData as `Engine::verify` receives it from a caller: DER, or anything the BER
//! fallback accepts. Each input is verified as a detached signature over the fixture
//! content and as an attached one, against the test roots, with the default policy (soft-fail
//! revocation from the CRLs the document carries). Beyond "never panics": the verdict is
//! consistent with its signers, and the report a user would read can be written.
//!
//! Seeds: the signatures of tests/data/cms and variants carrying CRLs (fuzz/seed.py).
#![no_main]

use govsig_core::outcome::Code;
use govsig_fuzz::{engine, CONTENT};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let engine = engine(Vec::new());
    for content in [Some(CONTENT), None] {
        let out = engine.verify(data, content);
        if out.ok() {
            assert!(!out.signers.is_empty(), "ok without a signer");
            assert!(
                out.signers.iter().all(|s| s.code == Code::Ok),
                "ok with a failed signer"
            );
            assert!(out.integrity_ok(), "ok without every signature verified");
        } else {
            assert!(!out.reason.is_empty(), "{:?} without a reason", out.code);
        }
        // What a report prints for each signer.
        let _ = (out.code.name(), out.needs());
        for s in &out.signers {
            let _ = (s.sid_text(), s.certificate.as_ref().map(|c| c.describe()));
            for c in &s.chain {
                let _ = c.describe();
            }
        }
    }
});
