//! The canonical manifest: entries sorted by the UTF-8 bytes of their NFC relpaths, the
//! BagIt `manifest-<alg>.txt` text, and the Merkle tree over its lines.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use super::algorithm::HashAlgorithm;
use super::error::DossierError;
use rayon::prelude::*;

use super::merkle::{leaf_hash, InclusionProof, MerkleTree};

/// Below this many entries, spreading leaf hashing over threads costs more than it saves.
const PARALLEL_LEAVES: usize = 4096;
use super::relpath::{decode_manifest_path, encode_manifest_path, normalize_relpath};

/// One payload file: its relative path, size, digest and (when hashed from disk) the
/// file-system path it was read from, which may be spelled NFD.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ManifestEntry {
    pub relpath: String,
    pub size: u64,
    pub digest: Vec<u8>,
    pub source: Option<PathBuf>,
}

/// Where the entries of a manifest were read from.
#[derive(Clone, Debug)]
pub(crate) enum Sources {
    /// One path per entry.
    Listed(Vec<PathBuf>),
    /// `root/<relpath>` for every entry but the few spelled differently on disk (a name
    /// written NFD), given as (entry index, relpath as on disk). Kept this way because a
    /// path per entry is 100,000 allocations on a dossier of small files.
    Rooted {
        root: PathBuf,
        respelled: Vec<(usize, Box<str>)>,
    },
}

/// The canonical manifest of a dossier. Immutable; the Merkle tree is built on first use.
#[derive(Clone, Debug)]
pub struct Manifest {
    algorithm: HashAlgorithm,
    paths: Vec<String>,
    sizes: Vec<u64>,
    /// len() * output_len bytes, in path order.
    digests: Vec<u8>,
    /// Present when every entry was hashed from disk.
    sources: Option<Sources>,
    tree: OnceLock<MerkleTree>,
}

/// The manifest line of an entry, as RFC 9162 leaf input and as written to
/// manifest-<alg>.txt: `<lowercase hex> data/<encoded relpath>`, one space, no line ending.
pub(crate) fn entry_line(digest: &[u8], relpath: &str) -> String {
    let mut line = String::with_capacity(digest.len() * 2 + 6 + relpath.len());
    line.push_str(&hex::encode(digest));
    line.push_str(" data/");
    encode_manifest_path(relpath, &mut line);
    line
}

impl Manifest {
    /// Builds the canonical manifest: relpaths normalised, entries sorted by UTF-8 bytes.
    /// Two relpaths that normalise alike are an error, as is a digest of the wrong length.
    pub fn from_entries(algorithm: HashAlgorithm, mut entries: Vec<ManifestEntry>) -> Result<Self, DossierError> {
        let w = algorithm.output_len();
        for e in &mut entries {
            e.relpath = normalize_relpath(&e.relpath)?;
            if e.digest.len() != w {
                return Err(DossierError::DigestLength {
                    expected: w,
                    found: e.digest.len(),
                });
            }
        }
        entries.sort_unstable_by(|a, b| a.relpath.as_bytes().cmp(b.relpath.as_bytes()));
        if let Some(pair) = entries.windows(2).find(|p| p[0].relpath == p[1].relpath) {
            return Err(DossierError::DuplicatePath {
                path: pair[0].relpath.clone(),
            });
        }
        let all_sourced = entries.iter().all(|e| e.source.is_some());
        let mut paths = Vec::with_capacity(entries.len());
        let mut sizes = Vec::with_capacity(entries.len());
        let mut digests = Vec::with_capacity(entries.len() * w);
        let mut sources = Vec::with_capacity(if all_sourced { entries.len() } else { 0 });
        for e in entries {
            paths.push(e.relpath);
            sizes.push(e.size);
            digests.extend_from_slice(&e.digest);
            if let (true, Some(s)) = (all_sourced, e.source) {
                sources.push(s);
            }
        }
        Ok(Self {
            algorithm,
            paths,
            sizes,
            digests,
            sources: all_sourced.then_some(Sources::Listed(sources)),
            tree: OnceLock::new(),
        })
    }

    /// A manifest from parts already canonical, as the directory walk makes them: relpaths
    /// valid and NFC (built component by component from directory entries), sorted by UTF-8
    /// bytes and unique; `digests` holds one digest per path. Skips the re-normalising and
    /// re-sorting of [`Manifest::from_entries`], which for 100,000 files is a measurable
    /// share of the whole hash.
    pub(crate) fn from_canonical(
        algorithm: HashAlgorithm,
        paths: Vec<String>,
        sizes: Vec<u64>,
        digests: Vec<u8>,
        sources: Option<Sources>,
    ) -> Self {
        debug_assert!(paths.windows(2).all(|p| p[0].as_bytes() < p[1].as_bytes()));
        debug_assert!(paths.iter().all(|p| normalize_relpath(p).as_deref() == Ok(p.as_str())));
        debug_assert_eq!(sizes.len(), paths.len());
        debug_assert_eq!(digests.len(), paths.len() * algorithm.output_len());
        debug_assert!(match &sources {
            Some(Sources::Listed(s)) => s.len() == paths.len(),
            Some(Sources::Rooted { respelled, .. }) => respelled.iter().all(|(i, _)| *i < paths.len()),
            None => true,
        });
        Self {
            algorithm,
            paths,
            sizes,
            digests,
            sources,
            tree: OnceLock::new(),
        }
    }

    /// Parses a BagIt payload manifest (RFC 8493 §2.1.3) written by any tool: checksum, one
    /// or more spaces or tabs, `data/<path>`; CR, LF or CRLF line ends; percent-decoding of
    /// `%25`, `%0A`, `%0D`. Sizes are read from `payload_dir` when given (the manifest does
    /// not record them); a listed file that is absent there gets size 0.
    pub fn parse(algorithm: HashAlgorithm, text: &[u8], payload_dir: Option<&Path>) -> Result<Self, DossierError> {
        let mut entries = Vec::new();
        for (line_no, path, digest) in parse_lines(algorithm, text)? {
            let rel = path.strip_prefix("data/").ok_or_else(|| DossierError::Manifest {
                line: line_no,
                reason: format!("path {path:?} is not under data/"),
            })?;
            let relpath = normalize_relpath(rel).map_err(|e| DossierError::Manifest {
                line: line_no,
                reason: e.to_string(),
            })?;
            let size = payload_dir
                .and_then(|d| fs::metadata(d.join(&relpath)).ok())
                .map_or(0, |m| m.len());
            entries.push(ManifestEntry {
                relpath,
                size,
                digest,
                source: None,
            });
        }
        Self::from_entries(algorithm, entries)
    }

    pub fn algorithm(&self) -> HashAlgorithm {
        self.algorithm
    }
    pub fn len(&self) -> usize {
        self.paths.len()
    }
    pub fn is_empty(&self) -> bool {
        self.paths.is_empty()
    }
    /// NFC relpaths, sorted by UTF-8 bytes.
    pub fn paths(&self) -> &[String] {
        &self.paths
    }
    pub fn sizes(&self) -> &[u64] {
        &self.sizes
    }
    /// All digests back to back, in path order.
    pub fn digests(&self) -> &[u8] {
        &self.digests
    }
    /// File-system paths the entries were read from (one per entry, in order), when hashed
    /// from disk.
    pub fn sources(&self) -> Option<Vec<PathBuf>> {
        match self.sources.as_ref()? {
            Sources::Listed(paths) => Some(paths.clone()),
            Sources::Rooted { root, respelled } => {
                let mut out: Vec<PathBuf> = self.paths.iter().map(|p| root.join(p)).collect();
                for (i, disk) in respelled {
                    if let Some(slot) = out.get_mut(*i) {
                        *slot = root.join(&**disk);
                    }
                }
                Some(out)
            }
        }
    }
    pub fn total_bytes(&self) -> u64 {
        self.sizes.iter().fold(0u64, |a, s| a.saturating_add(*s))
    }

    /// Digest of entry `i`.
    pub fn digest(&self, i: usize) -> Option<&[u8]> {
        let w = self.algorithm.output_len();
        let start = i.checked_mul(w)?;
        self.digests.get(start..start.checked_add(w)?)
    }

    /// Index of `relpath` (normalised first, so NFD input finds its NFC entry).
    pub fn index_of(&self, relpath: &str) -> Result<usize, DossierError> {
        let rel = normalize_relpath(relpath)?;
        self.paths
            .binary_search_by(|p| p.as_bytes().cmp(rel.as_bytes()))
            .map_err(|_| DossierError::NotInDossier { path: rel })
    }

    /// The manifest line of entry `i` (the Merkle leaf input).
    pub fn line(&self, i: usize) -> Option<String> {
        Some(entry_line(self.digest(i)?, self.paths.get(i)?))
    }

    /// The bytes of manifest-<alg>.txt: every line followed by LF.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = String::with_capacity(self.len() * (self.algorithm.output_len() * 2 + 48));
        for (i, path) in self.paths.iter().enumerate() {
            if let Some(d) = self.digest(i) {
                out.push_str(&entry_line(d, path));
                out.push('\n');
            }
        }
        out.into_bytes()
    }

    /// The RFC 9162 tree over the manifest lines, in manifest order.
    pub fn tree(&self) -> &MerkleTree {
        self.tree.get_or_init(|| {
            let w = self.algorithm.output_len();
            let mut leaves = vec![0u8; self.len() * w];
            let hash_leaf = |(i, out): (usize, &mut [u8])| {
                if let Some(line) = self.line(i) {
                    out.copy_from_slice(&leaf_hash(self.algorithm, line.as_bytes()));
                }
            };
            // Leaf hashing dominates for big dossiers and is independent per entry.
            if self.len() >= PARALLEL_LEAVES {
                leaves.par_chunks_mut(w).enumerate().for_each(hash_leaf);
            } else {
                leaves.chunks_mut(w).enumerate().for_each(hash_leaf);
            }
            // `leaves` is len() whole hashes by construction.
            MerkleTree::build(self.algorithm, leaves)
        })
    }

    /// The dossier root: the Merkle tree head.
    pub fn root(&self) -> Vec<u8> {
        self.tree().root()
    }

    /// The inclusion proof of `relpath`.
    pub fn proof(&self, relpath: &str) -> Result<InclusionProof, DossierError> {
        self.tree().proof(self.index_of(relpath)?)
    }
}

/// Parses `<hex checksum><ws+><path>` lines; returns (1-based line, decoded path, digest).
pub(crate) fn parse_lines(
    algorithm: HashAlgorithm,
    text: &[u8],
) -> Result<Vec<(usize, String, Vec<u8>)>, DossierError> {
    let text = std::str::from_utf8(text).map_err(|e| DossierError::Manifest {
        line: 1 + text[..e.valid_up_to()].iter().filter(|b| **b == b'\n').count(),
        reason: "not valid UTF-8 (RFC 8493 manifests are UTF-8)".to_owned(),
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let w = algorithm.output_len();
    let mut out = Vec::new();
    // RFC 8493 §2.1.3: lines end with LF, CR or CRLF; paths carry CR and LF percent-encoded.
    for (i, raw) in text.split('\n').enumerate() {
        for line in raw.split('\r') {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let bad = |reason: String| DossierError::Manifest { line: i + 1, reason };
            let (checksum, rest) = line
                .split_once([' ', '\t'])
                .ok_or_else(|| bad(format!("expected '<checksum> <path>', found {line:?}")))?;
            let path = rest.trim_start_matches([' ', '\t']);
            // sha256sum's binary-mode marker, which some writers leave in.
            let path = path.strip_prefix('*').unwrap_or(path);
            if path.is_empty() {
                return Err(bad("the line has no path".to_owned()));
            }
            if checksum.len() != 2 * w {
                return Err(bad(format!(
                    "checksum has {} hex digits; {} needs {}",
                    checksum.len(),
                    algorithm.name(),
                    2 * w
                )));
            }
            let digest = hex::decode(checksum).map_err(|_| bad(format!("checksum {checksum:?} is not hexadecimal")))?;
            out.push((i + 1, decode_manifest_path(path), digest));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: HashAlgorithm = HashAlgorithm::Sha256;

    fn entry(path: &str, content: &[u8]) -> ManifestEntry {
        ManifestEntry {
            relpath: path.to_owned(),
            size: u64::try_from(content.len()).unwrap(),
            digest: A.digest(content),
            source: None,
        }
    }

    #[test]
    fn sorted_by_utf8_bytes_and_round_trips() {
        let m = Manifest::from_entries(
            A,
            vec![
                entry("b.pdf", b"b"),
                entry("\u{00e9}.pdf", b"e"),
                entry("B/a.pdf", b"a"),
                entry("a b.pdf", b""),
            ],
        )
        .unwrap();
        assert_eq!(m.paths(), ["B/a.pdf", "a b.pdf", "b.pdf", "\u{00e9}.pdf"]);
        let text = m.to_bytes();
        let again = Manifest::parse(A, &text, None).unwrap();
        assert_eq!(again.paths(), m.paths());
        assert_eq!(again.digests(), m.digests());
        assert_eq!(again.root(), m.root());
        let first = String::from_utf8(text).unwrap().lines().next().unwrap().to_owned();
        assert_eq!(first, m.line(0).unwrap());
        assert!(first.ends_with(" data/B/a.pdf"));
    }

    #[test]
    fn duplicates_after_nfc_are_rejected() {
        let nfc = "h\u{1ed3}.pdf";
        let nfd = "ho\u{0302}\u{0300}.pdf";
        let err = Manifest::from_entries(A, vec![entry(nfc, b"1"), entry(nfd, b"2")]).unwrap_err();
        assert_eq!(err, DossierError::DuplicatePath { path: nfc.to_owned() });
    }

    #[test]
    fn foreign_manifest_forms_are_read() {
        let d = hex::encode(A.digest(b"x")).to_uppercase();
        let text = format!("{d}  data/a%25b.txt\r\n{d}\t*data/sub/c.txt\r\n\r\n");
        let m = Manifest::parse(A, text.as_bytes(), None).unwrap();
        assert_eq!(m.paths(), ["a%b.txt", "sub/c.txt"]);
        assert!(m.line(0).unwrap().starts_with(&d.to_lowercase()));
    }

    #[test]
    fn malformed_manifests_are_rejected() {
        let d = hex::encode(A.digest(b"x"));
        for (text, line) in [
            (format!("{d} data/a\n{d}\n"), 2),
            (format!("{d} other/a\n"), 1),
            (format!("{} data/a\n", &d[..62]), 1),
            (format!("{d} data/../etc/passwd\n"), 1),
            (format!("{}zz data/a\n", &d[..62]), 1),
        ] {
            match Manifest::parse(A, text.as_bytes(), None) {
                Err(DossierError::Manifest { line: l, .. }) => assert_eq!(l, line, "{text}"),
                other => panic!("{text:?} gave {other:?}"),
            }
        }
        let dup = format!("{d} data/a\n{d} data/a\n");
        assert!(matches!(
            Manifest::parse(A, dup.as_bytes(), None),
            Err(DossierError::DuplicatePath { .. })
        ));
        assert!(Manifest::parse(A, b"\xff\xfe", None).is_err());
    }

    #[test]
    fn empty_manifest_root_is_hash_of_empty_string() {
        let m = Manifest::from_entries(A, vec![]).unwrap();
        assert_eq!(m.root(), A.digest(b""));
        assert!(m.to_bytes().is_empty());
        assert!(matches!(m.proof("a"), Err(DossierError::NotInDossier { .. })));
    }
}
