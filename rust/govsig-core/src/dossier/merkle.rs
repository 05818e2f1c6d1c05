//! The Merkle tree of RFC 9162 §2.1 over manifest lines, and its inclusion proofs.
//!
//! leaf = H(0x00 || line), node = H(0x01 || left || right) (§2.1.1). For a size that is not
//! a power of two the RFC splits at the largest power of two below n; building level by level
//! and carrying an unpaired last node up unchanged yields exactly that tree, since every left
//! subtree of the RFC's split is perfect.

use aws_lc_rs::digest::Context;

use super::algorithm::HashAlgorithm;
use super::error::DossierError;
use super::manifest::entry_line;
use super::relpath::normalize_relpath;

/// A tree of at most 2^64 - 1 leaves has an audit path of at most 64 hashes.
pub const MAX_PROOF_LEN: usize = 64;

const PROOF_ENCODING_VERSION: u8 = 1;
const PROOF_HEADER_LEN: usize = 1 + 1 + 8 + 8 + 1;

/// RFC 9162 §2.1.1 leaf hash: H(0x00 || line).
pub fn leaf_hash(algorithm: HashAlgorithm, line: &[u8]) -> Vec<u8> {
    let mut ctx = Context::new(algorithm.aws());
    ctx.update(&[0x00]);
    ctx.update(line);
    ctx.finish().as_ref().to_vec()
}

/// RFC 9162 §2.1.1 interior node hash: H(0x01 || left || right).
pub fn node_hash(algorithm: HashAlgorithm, left: &[u8], right: &[u8]) -> Vec<u8> {
    let mut ctx = Context::new(algorithm.aws());
    ctx.update(&[0x01]);
    ctx.update(left);
    ctx.update(right);
    ctx.finish().as_ref().to_vec()
}

/// All levels of the tree, kept so that every proof is a walk up without rehashing.
#[derive(Clone, Debug)]
pub struct MerkleTree {
    algorithm: HashAlgorithm,
    /// levels[0] holds the leaf hashes back to back; the last level holds the root alone.
    levels: Vec<Vec<u8>>,
}

impl MerkleTree {
    /// Builds the tree from leaf hashes laid back to back (n * output_len bytes).
    pub fn from_leaf_hashes(algorithm: HashAlgorithm, leaves: Vec<u8>) -> Result<Self, DossierError> {
        let w = algorithm.output_len();
        // A let binding, not is_multiple_of: that needs Rust 1.87, above our rust-version.
        let partial = leaves.len() % w;
        if partial != 0 {
            return Err(DossierError::DigestLength {
                expected: w,
                found: partial,
            });
        }
        Ok(Self::build(algorithm, leaves))
    }

    /// Builds the tree from leaf inputs (manifest lines), hashing each as a leaf.
    pub fn from_lines<'a>(algorithm: HashAlgorithm, lines: impl Iterator<Item = &'a [u8]>) -> Self {
        let mut leaves = Vec::new();
        for line in lines {
            leaves.extend_from_slice(&leaf_hash(algorithm, line));
        }
        Self::build(algorithm, leaves)
    }

    /// `leaves` must be a whole number of hashes.
    pub(crate) fn build(algorithm: HashAlgorithm, leaves: Vec<u8>) -> Self {
        let w = algorithm.output_len();
        let mut levels = vec![leaves];
        while let Some(prev) = levels.last().filter(|p| p.len() > w) {
            let mut next = Vec::with_capacity(prev.len().div_ceil(2 * w) * w);
            for pair in prev.chunks(2 * w) {
                if pair.len() == 2 * w {
                    next.extend_from_slice(&node_hash(algorithm, &pair[..w], &pair[w..]));
                } else {
                    next.extend_from_slice(pair);
                }
            }
            levels.push(next);
        }
        Self { algorithm, levels }
    }

    pub fn algorithm(&self) -> HashAlgorithm {
        self.algorithm
    }

    /// Number of leaves.
    pub fn size(&self) -> usize {
        self.levels.first().map_or(0, |l| l.len() / self.algorithm.output_len())
    }

    /// The tree head. RFC 9162 §2.1.1: the hash of an empty list is the hash of the empty
    /// string.
    pub fn root(&self) -> Vec<u8> {
        match self.levels.last() {
            Some(top) if !top.is_empty() => top.clone(),
            _ => self.algorithm.digest(b""),
        }
    }

    /// The audit path of leaf `index` (RFC 9162 §2.1.3.1), ordered from the leaf up.
    pub fn proof(&self, index: usize) -> Result<InclusionProof, DossierError> {
        let size = self.size();
        if index >= size {
            return Err(DossierError::Proof {
                reason: format!("leaf index {index} is outside a tree of {size} leaves"),
            });
        }
        let w = self.algorithm.output_len();
        let mut path = Vec::new();
        let mut i = index;
        for level in self.levels.iter().take(self.levels.len().saturating_sub(1)) {
            let sibling = i ^ 1;
            if let Some(h) = level.get(sibling * w..(sibling + 1) * w) {
                path.push(h.to_vec());
            }
            i >>= 1;
        }
        InclusionProof::new(self.algorithm, to_u64(index), to_u64(size), path)
    }
}

fn to_u64(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

/// An RFC 9162 inclusion proof for one manifest line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InclusionProof {
    algorithm: HashAlgorithm,
    leaf_index: u64,
    tree_size: u64,
    path: Vec<Vec<u8>>,
}

impl InclusionProof {
    /// Checks the structure: a leaf inside the tree, at most 64 hashes, each of the
    /// algorithm's length. Whether it proves anything is for [`InclusionProof::verify_leaf`].
    pub fn new(
        algorithm: HashAlgorithm,
        leaf_index: u64,
        tree_size: u64,
        path: Vec<Vec<u8>>,
    ) -> Result<Self, DossierError> {
        if leaf_index >= tree_size {
            return Err(DossierError::Proof {
                reason: format!("leaf_index {leaf_index} is not below tree_size {tree_size}"),
            });
        }
        if path.len() > MAX_PROOF_LEN {
            return Err(DossierError::Proof {
                reason: format!("{} path hashes; no tree has more than {MAX_PROOF_LEN}", path.len()),
            });
        }
        let w = algorithm.output_len();
        if let Some((i, h)) = path.iter().enumerate().find(|(_, h)| h.len() != w) {
            return Err(DossierError::Proof {
                reason: format!(
                    "path hash {i} is {} bytes; {} hashes are {w}",
                    h.len(),
                    algorithm.name()
                ),
            });
        }
        Ok(Self {
            algorithm,
            leaf_index,
            tree_size,
            path,
        })
    }

    pub fn algorithm(&self) -> HashAlgorithm {
        self.algorithm
    }
    pub fn leaf_index(&self) -> u64 {
        self.leaf_index
    }
    pub fn tree_size(&self) -> u64 {
        self.tree_size
    }
    pub fn path(&self) -> &[Vec<u8>] {
        &self.path
    }

    /// The root this proof leads to from `leaf`, per the verification algorithm of
    /// RFC 9162 §2.1.3.2; None when the path length does not fit (leaf_index, tree_size).
    pub fn root_from_leaf(&self, leaf: &[u8]) -> Option<Vec<u8>> {
        let mut fn_ = self.leaf_index;
        let mut sn = self.tree_size.checked_sub(1)?;
        let mut r = leaf.to_vec();
        for p in &self.path {
            if sn == 0 {
                return None;
            }
            if fn_ & 1 == 1 || fn_ == sn {
                r = node_hash(self.algorithm, p, &r);
                if fn_ & 1 == 0 {
                    while fn_ & 1 == 0 && fn_ != 0 {
                        fn_ >>= 1;
                        sn >>= 1;
                    }
                }
            } else {
                r = node_hash(self.algorithm, &r, p);
            }
            fn_ >>= 1;
            sn >>= 1;
        }
        (sn == 0).then_some(r)
    }

    /// True when the proof leads from `leaf` (a leaf hash) to `root`.
    pub fn verify_leaf(&self, leaf: &[u8], root: &[u8]) -> bool {
        self.root_from_leaf(leaf).is_some_and(|r| r == root)
    }

    /// Binary form: version (1), algorithm code (1 = sha256, 2 = sha384, 3 = sha512),
    /// tree_size (u64 big-endian), leaf_index (u64 big-endian), path count (u8), then the
    /// path hashes back to back, leaf first. The field order follows RFC 9162 §4.12's
    /// InclusionProofDataV2 (tree_size before leaf_index).
    pub fn to_bytes(&self) -> Vec<u8> {
        let w = self.algorithm.output_len();
        let mut out = Vec::with_capacity(PROOF_HEADER_LEN + self.path.len() * w);
        out.push(PROOF_ENCODING_VERSION);
        out.push(self.algorithm.code());
        out.extend_from_slice(&self.tree_size.to_be_bytes());
        out.extend_from_slice(&self.leaf_index.to_be_bytes());
        // new() bounds the path to 64 entries, so this never saturates.
        out.push(u8::try_from(self.path.len()).unwrap_or(u8::MAX));
        for h in &self.path {
            out.extend_from_slice(h);
        }
        out
    }

    /// Parses [`InclusionProof::to_bytes`]; any trailing or missing byte is an error.
    pub fn from_bytes(data: &[u8]) -> Result<Self, DossierError> {
        let bad = |reason: String| DossierError::Proof { reason };
        let header = data.get(..PROOF_HEADER_LEN).ok_or_else(|| {
            bad(format!(
                "{} bytes is shorter than the {PROOF_HEADER_LEN}-byte header",
                data.len()
            ))
        })?;
        if header[0] != PROOF_ENCODING_VERSION {
            return Err(bad(format!("unsupported encoding version {}", header[0])));
        }
        let algorithm =
            HashAlgorithm::from_code(header[1]).ok_or_else(|| bad(format!("unknown algorithm code {}", header[1])))?;
        let mut u = [0u8; 8];
        u.copy_from_slice(&header[2..10]);
        let tree_size = u64::from_be_bytes(u);
        u.copy_from_slice(&header[10..18]);
        let leaf_index = u64::from_be_bytes(u);
        let count = usize::from(header[18]);
        let w = algorithm.output_len();
        let body = &data[PROOF_HEADER_LEN..];
        if body.len() != count * w {
            return Err(bad(format!(
                "{count} path hashes need {} bytes after the header, found {}",
                count * w,
                body.len()
            )));
        }
        let path = body.chunks(w).map(<[u8]>::to_vec).collect();
        Self::new(algorithm, leaf_index, tree_size, path)
    }
}

/// Verifies that the file with digest `file_digest`, at `relpath` (normalised to NFC here,
/// so the caller may pass either form), is the leaf `proof` names under `root`, the root of
/// a tree of `root_tree_size` entries.
///
/// The size is bound because the root hash alone does not fix it: the path of leaf 0 is
/// the same two hashes in trees of 3 and 4 entries, so a proof claiming another size (and
/// with it another leaf count and position) can lead to the same root. A proof whose
/// tree_size is not the size the root was signed for proves nothing about that dossier.
pub fn verify_entry(
    proof: &InclusionProof,
    file_digest: &[u8],
    relpath: &str,
    root: &[u8],
    root_tree_size: u64,
) -> Result<bool, DossierError> {
    let w = proof.algorithm.output_len();
    for len in [file_digest.len(), root.len()] {
        if len != w {
            return Err(DossierError::DigestLength {
                expected: w,
                found: len,
            });
        }
    }
    let relpath = normalize_relpath(relpath)?;
    if proof.tree_size != root_tree_size {
        return Ok(false);
    }
    let line = entry_line(file_digest, &relpath);
    let leaf = leaf_hash(proof.algorithm, line.as_bytes());
    Ok(proof.verify_leaf(&leaf, root))
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: HashAlgorithm = HashAlgorithm::Sha256;

    /// MTH and PATH written straight from RFC 9162 §2.1.1 and §2.1.3.1 (recursive split at
    /// the largest power of two smaller than n).
    fn mth(leaves: &[Vec<u8>]) -> Vec<u8> {
        match leaves.len() {
            0 => A.digest(b""),
            1 => leaves[0].clone(),
            n => {
                let k = split(n);
                node_hash(A, &mth(&leaves[..k]), &mth(&leaves[k..]))
            }
        }
    }
    fn split(n: usize) -> usize {
        let mut k = 1;
        while k * 2 < n {
            k *= 2;
        }
        k
    }
    fn path(m: usize, leaves: &[Vec<u8>]) -> Vec<Vec<u8>> {
        let n = leaves.len();
        if n <= 1 {
            return vec![];
        }
        let k = split(n);
        if m < k {
            let mut p = path(m, &leaves[..k]);
            p.push(mth(&leaves[k..]));
            p
        } else {
            let mut p = path(m - k, &leaves[k..]);
            p.push(mth(&leaves[..k]));
            p
        }
    }

    #[test]
    fn matches_the_rfc_recursion_for_small_sizes() {
        for n in 0..70usize {
            let lines: Vec<Vec<u8>> = (0..n).map(|i| format!("line {i}").into_bytes()).collect();
            let leaves: Vec<Vec<u8>> = lines.iter().map(|l| leaf_hash(A, l)).collect();
            let tree = MerkleTree::from_lines(A, lines.iter().map(Vec::as_slice));
            assert_eq!(tree.root(), mth(&leaves), "root, n={n}");
            for m in 0..n {
                let proof = tree.proof(m).unwrap();
                assert_eq!(proof.path(), path(m, &leaves).as_slice(), "path m={m} n={n}");
                assert!(proof.verify_leaf(&leaves[m], &tree.root()));
                let round = InclusionProof::from_bytes(&proof.to_bytes()).unwrap();
                assert_eq!(round, proof);
                if let Some(other) = leaves.get(m + 1) {
                    assert!(!proof.verify_leaf(other, &tree.root()));
                }
            }
            assert!(tree.proof(n).is_err());
        }
    }

    #[test]
    fn leaf_hashes_and_lines_build_the_same_tree() {
        let lines: Vec<Vec<u8>> = (0..13).map(|i| vec![i; 3]).collect();
        let mut leaves = Vec::new();
        for l in &lines {
            leaves.extend(leaf_hash(A, l));
        }
        let a = MerkleTree::from_leaf_hashes(A, leaves).unwrap();
        let b = MerkleTree::from_lines(A, lines.iter().map(Vec::as_slice));
        assert_eq!(a.root(), b.root());
        assert!(MerkleTree::from_leaf_hashes(A, vec![0; 33]).is_err());
    }

    #[test]
    fn malformed_proofs_are_rejected_or_fail() {
        let lines: Vec<Vec<u8>> = (0..5u8).map(|i| vec![i]).collect();
        let tree = MerkleTree::from_lines(A, lines.iter().map(Vec::as_slice));
        let proof = tree.proof(4).unwrap();
        let leaf = leaf_hash(A, &lines[4]);
        assert!(proof.verify_leaf(&leaf, &tree.root()));
        // Wrong tree size or index with the same path must not verify.
        for (idx, size) in [(3, 5), (4, 6), (4, 8), (0, 1)] {
            let p = InclusionProof::new(A, idx, size, proof.path().to_vec()).unwrap();
            assert!(!p.verify_leaf(&leaf, &tree.root()), "idx {idx} size {size}");
        }
        // A truncated or extended path.
        let mut longer = proof.path().to_vec();
        longer.push(vec![0; 32]);
        assert!(!InclusionProof::new(A, 4, 5, longer)
            .unwrap()
            .verify_leaf(&leaf, &tree.root()));
        assert!(!InclusionProof::new(A, 4, 5, vec![])
            .unwrap()
            .verify_leaf(&leaf, &tree.root()));
        // Structural errors.
        assert!(InclusionProof::new(A, 5, 5, vec![]).is_err());
        assert!(InclusionProof::new(A, 0, 2, vec![vec![0; 31]]).is_err());
        assert!(InclusionProof::new(A, 0, u64::MAX, vec![vec![0; 32]; 65]).is_err());
        let bytes = proof.to_bytes();
        for cut in 0..bytes.len() {
            assert!(InclusionProof::from_bytes(&bytes[..cut]).is_err(), "cut {cut}");
        }
        let mut extra = bytes.clone();
        extra.push(0);
        assert!(InclusionProof::from_bytes(&extra).is_err());
        let mut bad_alg = bytes;
        bad_alg[1] = 9;
        assert!(InclusionProof::from_bytes(&bad_alg).is_err());
    }

    #[test]
    fn verify_entry_normalises_the_relpath() {
        let digest = A.digest(b"content");
        let nfc = "h\u{1ed3} s\u{01a1}.pdf";
        let line = entry_line(&digest, nfc);
        let tree = MerkleTree::from_lines(A, std::iter::once(line.as_bytes()));
        let proof = tree.proof(0).unwrap();
        let nfd: String = unicode_normalization::UnicodeNormalization::nfd(nfc).collect();
        assert!(verify_entry(&proof, &digest, &nfd, &tree.root(), 1).unwrap());
        assert!(!verify_entry(&proof, &digest, "other.pdf", &tree.root(), 1).unwrap());
        assert!(verify_entry(&proof, &digest[..31], nfc, &tree.root(), 1).is_err());
    }

    #[test]
    fn a_proof_replayed_with_another_tree_size_does_not_verify() {
        // Leaf 0's path in a 4-entry tree also leads to the 4-entry root when the proof
        // claims 3 entries (the RFC 9162 walk has the same shape): only the size the root
        // was made for may verify.
        let digests: Vec<Vec<u8>> = (0..4u8).map(|i| A.digest(&[i])).collect();
        let lines: Vec<String> = digests
            .iter()
            .enumerate()
            .map(|(i, d)| entry_line(d, &format!("f{i}")))
            .collect();
        let tree = MerkleTree::from_lines(A, lines.iter().map(|l| l.as_bytes()));
        let proof = tree.proof(0).unwrap();
        assert_eq!(proof.tree_size(), 4);
        let replayed = InclusionProof::new(A, 0, 3, proof.path().to_vec()).unwrap();
        let leaf = leaf_hash(A, lines[0].as_bytes());
        assert!(
            replayed.verify_leaf(&leaf, &tree.root()),
            "the walk alone does not bind the size"
        );
        assert!(verify_entry(&proof, &digests[0], "f0", &tree.root(), 4).unwrap());
        assert!(!verify_entry(&replayed, &digests[0], "f0", &tree.root(), 4).unwrap());
        assert!(!verify_entry(&proof, &digests[0], "f0", &tree.root(), 3).unwrap());
    }
}
