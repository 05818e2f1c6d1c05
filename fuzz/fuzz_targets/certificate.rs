//! X.509 certificates: `Certificate::from_der`, then what callers do with a parsed one —
//! describe it, read its subject's attributes and identifiers and its revocation pointers
//! (cRLDistributionPoints, authorityInfoAccess), build an OCSP request for it, and validate
//! paths with it as the leaf (against the test roots), as an untrusted intermediate, and as a
//! trust anchor. Every failure must be a result, never a panic.
//!
//! Seeds: every certificate in the repository (tests/data/cms, tests/scenarios, the
//! certificate bags of the test signatures) and a few with the extensions path validation
//! reads (fuzz/seed.py).
#![no_main]

use std::sync::Arc;

use govsig_core::crypto::DigestAlgorithm;
use govsig_core::revocation::crl::distribution_points;
use govsig_core::revocation::ocsp::{ocsp_urls, subject_public_key_bits, CertId, OcspRequest};
use govsig_core::x509::identifiers::identifiers_by_kind;
use govsig_core::x509::{Certificate, TrustStore};
use govsig_core::{Code, Engine};
use govsig_fuzz::{engine, pki, policy, RSA_INTERMEDIATE, RSA_LEAF};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(cert) = Certificate::from_der(data) else {
        return;
    };
    let cert = Arc::new(cert);
    let _ = (cert.describe(), cert.issuer.to_string(), format!("{cert:?}"));
    // What an inventory reads from the subject: its attributes and Vietnamese identifiers.
    let _ = (cert.subject.fields(), identifiers_by_kind(&cert.subject));
    let _ = (
        cert.is_self_issued(),
        cert.is_ca(),
        cert.tbs(),
        cert.hash_with(DigestAlgorithm::Sha256),
    );
    for bit in 0..16 {
        let _ = cert.has_key_usage(bit);
    }
    let _ = cert.effective_key(&|_| None);
    if let Ok(dps) = distribution_points(&cert) {
        for dp in &dps {
            let _ = dp.uris();
        }
    }
    let _ = ocsp_urls(&cert);
    let _ = subject_public_key_bits(&cert);
    let p = pki();
    let _ = CertId::new(&cert, &p.p256_root, DigestAlgorithm::Sha1).and_then(|id| id.to_der());
    let _ = OcspRequest::new(&cert, &cert, DigestAlgorithm::Sha256, Some(b"fuzz"));

    let eng = engine(Vec::new());
    // As a signer's certificate.
    let out = eng.verify_certificate(data, &[]);
    if out.code == Code::Ok {
        assert!(!out.chain.is_empty(), "a valid path without certificates");
    }
    // As an intermediate offered for a leaf of the test PKI.
    let _ = eng.verify_certificate(RSA_LEAF, &[data]);
    // As the only trust anchor.
    let anchored = Engine::new(policy(), Some(TrustStore::new(vec![cert])), Vec::new(), Vec::new());
    let _ = anchored.verify_certificate(RSA_LEAF, &[RSA_INTERMEDIATE]);
    let _ = anchored.verify_certificate(data, &[]);
});
