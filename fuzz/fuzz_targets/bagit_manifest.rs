//! BagIt manifests: `Manifest::parse` (manifest-<alg>.txt, RFC 8493 §2.1.3, as written by
//! any tool) and `parse_tagmanifest`, for each algorithm, then what `dossier verify` does
//! with a parsed manifest: the Merkle root, the canonical bytes, lookups, proofs.
//!
//! Beyond "never panics": the canonical form re-reads to the same manifest and root, every
//! entry is found at its index, and every entry's inclusion proof verifies (and survives
//! its binary encoding).
//!
//! Seeds: manifests written by govsig and in the forms other tools write (fuzz/seed.py).
#![no_main]

use govsig_core::dossier::{compare, parse_tagmanifest, verify_entry, HashAlgorithm, InclusionProof, Manifest};
use libfuzzer_sys::fuzz_target;

/// Proofs are checked for the first entries only: each costs a walk up the tree, and the
/// fuzzer gains nothing from a thousand of them per input.
const PROVEN: usize = 16;

fuzz_target!(|data: &[u8]| {
    for alg in HashAlgorithm::ALL {
        let _ = parse_tagmanifest(alg, data);
        let Ok(m) = Manifest::parse(alg, data, None) else {
            continue;
        };
        let root = m.root();
        let canonical = m.to_bytes();
        let again = Manifest::parse(alg, &canonical, None).expect("the canonical manifest re-reads");
        assert_eq!(again.paths(), m.paths());
        assert_eq!(again.digests(), m.digests());
        assert_eq!(again.root(), root);
        assert_eq!(again.to_bytes(), canonical, "canonical form is not a fixed point");
        let diff = compare(&m, &again).expect("same algorithm");
        assert!(diff.is_unchanged(), "a manifest differs from its own canonical form");
        for (i, path) in m.paths().iter().enumerate().take(PROVEN) {
            assert_eq!(m.index_of(path).ok(), Some(i), "entry {path:?} not found at its index");
            let proof = m.proof(path).expect("a listed entry has a proof");
            let digest = m.digest(i).expect("a listed entry has a digest");
            let size = u64::try_from(m.paths().len()).expect("fits");
            assert_eq!(verify_entry(&proof, digest, path, &root, size), Ok(true), "proof of {path:?}");
            // The proof is bound to the size of the tree it was made in.
            assert_eq!(verify_entry(&proof, digest, path, &root, size + 1), Ok(false));
            assert_eq!(InclusionProof::from_bytes(&proof.to_bytes()).as_ref(), Ok(&proof));
        }
    }
});
