//! Inclusion proofs in their binary form (`InclusionProof::from_bytes`, as received from
//! whoever holds one file of a dossier), then the verification a receiver runs.
//!
//! Beyond "never panics": a proof that parses re-encodes to exactly its input; a proof that
//! leads from a leaf to a root verifies against that root through `verify_entry`; and a
//! tree of the proof's size and index gives a proof that verifies and round-trips.
//!
//! Seeds: proofs from trees of several sizes and each algorithm (fuzz/seed.py).
#![no_main]

use govsig_core::dossier::{leaf_hash, verify_entry, InclusionProof, Manifest, ManifestEntry, MerkleTree};
use libfuzzer_sys::fuzz_target;

/// Trees built from the proof's header are capped: the fuzzer controls tree_size.
const MAX_TREE: u64 = 300;

fuzz_target!(|data: &[u8]| {
    let Ok(proof) = InclusionProof::from_bytes(data) else {
        return;
    };
    assert_eq!(proof.to_bytes(), data, "a parsed proof re-encodes differently");
    let alg = proof.algorithm();
    // The entry a receiver holds: one file, its digest and relpath.
    let digest = alg.digest(data);
    let relpath = "hồ sơ/quyết định.pdf";
    let m = Manifest::from_entries(
        alg,
        vec![ManifestEntry {
            relpath: relpath.to_owned(),
            size: 0,
            digest: digest.clone(),
            source: None,
        }],
    )
    .expect("a one-entry manifest");
    let line = m.line(0).expect("entry 0");
    let leaf = leaf_hash(alg, line.as_bytes());
    match proof.root_from_leaf(&leaf) {
        Some(root) => {
            let size = proof.tree_size();
            assert_eq!(verify_entry(&proof, &digest, relpath, &root, size), Ok(true));
            // Replayed against a root of another size, the same path proves nothing.
            assert_eq!(verify_entry(&proof, &digest, relpath, &root, size ^ 1), Ok(false));
        }
        None => assert_eq!(
            verify_entry(&proof, &digest, relpath, &alg.digest(b""), proof.tree_size()),
            Ok(false)
        ),
    }
    // A real tree with this proof's shape.
    if proof.tree_size() <= MAX_TREE {
        let n = usize::try_from(proof.tree_size()).expect("small");
        let lines: Vec<Vec<u8>> = (0..n).map(|i| format!("line {i}").into_bytes()).collect();
        let tree = MerkleTree::from_lines(alg, lines.iter().map(Vec::as_slice));
        let index = usize::try_from(proof.leaf_index()).expect("below tree_size");
        let real = tree.proof(index).expect("index below size");
        assert!(real.verify_leaf(&leaf_hash(alg, &lines[index]), &tree.root()));
        assert_eq!(InclusionProof::from_bytes(&real.to_bytes()).as_ref(), Ok(&real));
        if real.path() != proof.path() {
            assert!(!proof.verify_leaf(&leaf_hash(alg, &lines[index]), &tree.root()));
        }
    }
});
