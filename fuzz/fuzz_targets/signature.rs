//! Signature verification on outside keys and algorithm identifiers: `PublicKey::from_spki`
//! (RSA, EC, Ed25519, DSA SubjectPublicKeyInfo), `SignatureScheme::from_algorithm_identifier`
//! (RSASSA-PSS parameters included) and `SignatureScheme::for_cms`, then `verify` with the
//! most permissive policy a user can set (legacy algorithms, no RSA minimum), so the
//! pure-Rust fallback arithmetic for keys aws-lc-rs refuses is reached too. A certificate,
//! CRL or OCSP response reaches the same code only past a 2048-bit minimum.
//!
//! Input: `len(spki) u16 BE | spki | len(alg) u16 BE | alg | len(sig) u16 BE | sig | message`.
//! Seeds: (issuer key, signatureAlgorithm, signature, TBS) of the repository's certificates,
//! and RSASSA-PSS signatures (fuzz/seed.py).
#![no_main]

use govsig_core::crypto::{DigestAlgorithm, PublicKey, SignatureScheme};
use libfuzzer_sys::fuzz_target;

/// The next length-prefixed field of `data`, and what follows it.
fn field(data: &[u8]) -> Option<(&[u8], &[u8])> {
    let (len, rest) = data.split_first_chunk::<2>()?;
    let len = usize::from(u16::from_be_bytes(*len));
    (len <= rest.len()).then(|| rest.split_at(len))
}

const DIGESTS: [DigestAlgorithm; 5] = [
    DigestAlgorithm::Sha1,
    DigestAlgorithm::Sha224,
    DigestAlgorithm::Sha256,
    DigestAlgorithm::Sha384,
    DigestAlgorithm::Sha512,
];

fuzz_target!(|data: &[u8]| {
    let Some((spki, rest)) = field(data) else { return };
    let Some((alg, rest)) = field(rest) else { return };
    let Some((sig, message)) = field(rest) else { return };
    let key = PublicKey::from_spki(spki);
    if let Ok(k) = &key {
        let _ = (k.key_type().name(), k.bits(), k.dsa_params_der(), k.spki_der());
    }
    let mut schemes = Vec::new();
    if let Ok(s) = SignatureScheme::from_algorithm_identifier(alg) {
        let _ = (s.name(), s.digest(), s.pss_salt_length(), s.is_legacy());
        schemes.push(s);
    }
    for d in DIGESTS {
        if let Ok(s) = SignatureScheme::for_cms(alg, d) {
            schemes.push(s);
        }
    }
    let Ok(key) = key else { return };
    for s in &schemes {
        let _ = s.verify(&key, message, sig, true, 0);
        let _ = s.verify(&key, message, sig, false, 2048);
    }
});
