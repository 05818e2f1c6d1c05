//! OCSP responses: `OcspResponse::from_der`, then the judgement a revocation checker makes
//! for the P-256 test leaf — with the issuer vouched for, with and without a nonce, through
//! paths to the test roots, and as engine evidence during a full path validation.
//!
//! Beyond "never panics": a status judged valid is for the certificate asked about and is
//! one the response actually holds.
//!
//! Seeds: responses for the P-256 leaf signed by its root and by a delegated responder
//! (good, revoked, unknown, with nonce, by name and by key) and unsuccessful ones
//! (fuzz/seed.py).
#![no_main]

use std::sync::Arc;

use govsig_core::revocation::ocsp::{
    validate_parsed, validate_response_with_anchors, OcspCheck, OcspResponse, ResponderAuthority,
};
use govsig_core::x509::Certificate;
use govsig_core::Engine;
use govsig_fuzz::{anchors, pki, policy, P256_LEAF, VALIDATION_TIME};
use libfuzzer_sys::fuzz_target;

/// The nonce fuzz/seed.py puts in the seeds that carry one.
const NONCE: &[u8] = b"govsig-fuzz-nonce";

fuzz_target!(|data: &[u8]| {
    let Ok(resp) = OcspResponse::from_der(data) else {
        return;
    };
    let _ = resp.responder_id.to_string();
    for s in &resp.responses {
        let _ = (s.status.name(), &s.hash);
    }
    for c in &resp.certs {
        let _ = c.describe();
    }
    let p = pki();
    let (leaf, issuer) = (&p.p256_leaf, &p.p256_root);
    let store = anchors();
    let plain = OcspCheck::new(VALIDATION_TIME);
    let with_nonce = OcspCheck {
        nonce: Some(NONCE),
        ..OcspCheck::new(VALIDATION_TIME)
    };
    for check in [&plain, &with_nonce] {
        let vouched = validate_parsed(&resp, leaf, issuer, check, ResponderAuthority::IssuerVouched);
        let anchored = validate_response_with_anchors(data, leaf, issuer, check, Some(&store));
        for status in [vouched, anchored].into_iter().flatten() {
            let _ = (status.describe(leaf), status.code());
            assert!(
                resp.responses.iter().any(|s| s.serial == leaf.serial
                    && s.status == status.status
                    && s.this_update == status.this_update),
                "a valid status the response does not hold"
            );
        }
    }
    // A response about some other certificate than the one asked for must not be used.
    let other: Arc<Certificate> = Arc::clone(&p.rsa_leaf);
    let _ = validate_parsed(&resp, &other, issuer, &plain, ResponderAuthority::IssuerVouched);
    // The revocation checker on a real path: the response as the policy's evidence.
    if let Ok(eng) = Engine::new(policy(), Some(store), Vec::new(), Vec::new()).with_ocsp_responses(&[data]) {
        let _ = eng.verify_certificate(P256_LEAF, &[]);
    }
});
