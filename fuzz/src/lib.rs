//! What every fuzz target shares: the repository's own test PKI (tests/data/cms, generated
//! by tests/data/cms/generate.py) as trust anchors, signer and issuer, and one validation
//! time, so a target drives the same code a verification of real documents would, and a
//! crash reproduces from its input alone.
//!
//! Each target builds its `Engine` afresh per input: an engine caches paths and parsed
//! evidence across calls, and a verdict that depended on the inputs run before it would
//! make a crash found by the fuzzer irreproducible from its artifact.

use std::sync::{Arc, OnceLock};

use govsig_core::policy::Policy;
use govsig_core::revocation::crl::CrlIndex;
use govsig_core::time::UnixTime;
use govsig_core::x509::{CertRef, Certificate, TrustStore};
use govsig_core::Engine;

/// The detached content the test signatures cover.
pub const CONTENT: &[u8] = include_bytes!("../../tests/data/cms/content.txt");
pub const RSA_ROOT: &[u8] = include_bytes!("../../tests/data/cms/rsa_root.der");
pub const RSA_INTERMEDIATE: &[u8] = include_bytes!("../../tests/data/cms/rsa_intermediate.der");
pub const RSA_LEAF: &[u8] = include_bytes!("../../tests/data/cms/rsa_leaf.der");
pub const P256_ROOT: &[u8] = include_bytes!("../../tests/data/cms/p256_root.der");
pub const P256_LEAF: &[u8] = include_bytes!("../../tests/data/cms/p256_leaf.der");

/// 2026-06-01T00:00:00Z: tests/data/cms/manifest.json's validation_time, inside every
/// fixture's validity and the window of the seeds' CRLs and OCSP responses (fuzz/seed.py).
pub const VALIDATION_TIME: UnixTime = 1_780_272_000;

/// The parsed fixtures, parsed once per process (they are immutable and never the input).
pub struct Pki {
    pub rsa_root: CertRef,
    pub rsa_intermediate: CertRef,
    pub rsa_leaf: CertRef,
    pub p256_root: CertRef,
    pub p256_leaf: CertRef,
}

/// The fixtures; a fixture that does not parse is a broken build, not a finding.
pub fn pki() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(|| {
        let c = |der: &[u8]| Arc::new(Certificate::from_der(der).expect("fixture certificate parses"));
        Pki {
            rsa_root: c(RSA_ROOT),
            rsa_intermediate: c(RSA_INTERMEDIATE),
            rsa_leaf: c(RSA_LEAF),
            p256_root: c(P256_ROOT),
            p256_leaf: c(P256_LEAF),
        }
    })
}

/// tests/data/cms/roots.pem: the RSA and the P-256 root.
pub fn anchors() -> TrustStore {
    let p = pki();
    TrustStore::new(vec![Arc::clone(&p.rsa_root), Arc::clone(&p.p256_root)])
}

/// The default policy at [`VALIDATION_TIME`]: soft-fail revocation from OCSP then CRLs,
/// as a verifier configured with nothing but a trust store runs.
pub fn policy() -> Policy {
    Policy {
        at: Some(VALIDATION_TIME),
        ..Policy::default()
    }
}

/// A fresh engine over [`anchors`] with the given CRLs as policy evidence.
pub fn engine(crls: Vec<Arc<CrlIndex>>) -> Engine {
    Engine::new(policy(), Some(anchors()), Vec::new(), crls)
}
