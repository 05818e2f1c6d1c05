//! CRLs: `CrlIndex::from_der`, then what the revocation checker does with one — lookups
//! by (issuer, serial) for every entry, freshness, scope against a certificate and its
//! distribution points, the signer checks and signature, delta application, and a full
//! path validation of the P-256 test leaf with the CRL as evidence.
//!
//! Beyond "never panics": every entry the index lists is found again by its serial (an
//! entry the index cannot find is a revocation silently lost).
//!
//! Seeds: CRLs issued by the P-256 test root (plain, with reasons and holds, delta,
//! indirect, with an issuingDistributionPoint; fuzz/seed.py).
#![no_main]

use std::sync::Arc;

use govsig_core::revocation::crl::{distribution_points, revocation_status, CrlIndex};
use govsig_fuzz::{engine, pki, VALIDATION_TIME};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(crl) = CrlIndex::from_der(data) else {
        return;
    };
    let _ = (crl.describe(), crl.signature_algorithm_name(), crl.fingerprint());
    let _ = (crl.is_delta(), crl.is_indirect(), crl.len(), crl.tbs(), crl.signature());
    for at in [
        VALIDATION_TIME,
        crl.this_update,
        crl.next_update.unwrap_or(crl.this_update),
    ] {
        let _ = crl.check_freshness(at, 300);
    }
    for issuer in crl.certificate_issuers() {
        let _ = issuer.to_string();
    }
    for e in crl.entries() {
        let found = crl.lookup_any_issuer(e.serial.as_bytes());
        assert!(
            found.iter().any(|f| std::ptr::eq(*f, e)),
            "entry for serial {} is not found by its serial",
            e.serial.to_hex()
        );
        if e.certificate_issuer.is_none() {
            assert!(crl
                .lookup(&crl.issuer, e.serial.as_bytes())
                .is_some_and(|f| std::ptr::eq(f, e)));
        }
        let _ = revocation_status(&crl, None, &crl.issuer, e.serial.as_bytes());
        let _ = revocation_status(&crl, Some(&crl), &crl.issuer, e.serial.as_bytes());
    }
    let p = pki();
    for cert in [&p.p256_leaf, &p.rsa_leaf] {
        let _ = crl.lookup(&cert.issuer, &cert.serial);
        let _ = revocation_status(&crl, None, &cert.issuer, &cert.serial);
        let _ = crl.scope_for(cert, None);
        if let Ok(dps) = distribution_points(cert) {
            let _ = crl.scope_covers(cert, &dps);
            for dp in &dps {
                let _ = crl.scope_for(cert, Some(dp));
            }
        }
    }
    for signer in [&p.p256_root, &p.rsa_intermediate] {
        let _ = crl.is_signer_candidate(signer);
        let _ = crl.verify_signed_by(signer, false, 2048);
        let _ = crl.verify_signed_by(signer, true, 1024);
    }
    // The revocation checker on a real path: the CRL as the engine's evidence.
    let crl = Arc::new(crl);
    let _ = engine(vec![Arc::clone(&crl)]).verify_certificate(govsig_fuzz::P256_LEAF, &[]);
});
