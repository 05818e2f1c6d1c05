//! Comparing a dossier's recorded manifest with the files as they are now.

use std::collections::{BTreeMap, VecDeque};

use super::error::DossierError;
use super::manifest::Manifest;

/// Per-file outcome of a comparison. Every list is sorted by UTF-8 bytes of the relpath.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DossierDiff {
    pub unchanged: Vec<String>,
    /// Same path, different digest.
    pub modified: Vec<String>,
    /// Recorded, no longer present (and not found elsewhere under another name).
    pub missing: Vec<String>,
    /// Present, not recorded (and not a recorded file under a new name).
    pub added: Vec<String>,
    /// (recorded path, current path): a file that vanished from one path while a file with
    /// the same digest appeared at a new one.
    pub renamed: Vec<(String, String)>,
}

impl DossierDiff {
    /// True when the current files are exactly the recorded ones.
    pub fn is_unchanged(&self) -> bool {
        self.modified.is_empty() && self.missing.is_empty() && self.added.is_empty() && self.renamed.is_empty()
    }
}

/// Compares `recorded` (e.g. a bag's manifest) with `current` (the files hashed now).
pub fn compare(recorded: &Manifest, current: &Manifest) -> Result<DossierDiff, DossierError> {
    if recorded.algorithm() != current.algorithm() {
        return Err(DossierError::AlgorithmMismatch {
            expected: recorded.algorithm().name(),
            found: current.algorithm().name(),
        });
    }
    let mut diff = DossierDiff::default();
    let mut missing: Vec<usize> = Vec::new();
    let mut added: Vec<usize> = Vec::new();
    let (old, new) = (recorded.paths(), current.paths());
    let (mut i, mut j) = (0, 0);
    // Both lists are sorted by the same byte order: one merge pass.
    while i < old.len() || j < new.len() {
        let order = match (old.get(i), new.get(j)) {
            (Some(a), Some(b)) => a.as_bytes().cmp(b.as_bytes()),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, _) => std::cmp::Ordering::Greater,
        };
        match order {
            std::cmp::Ordering::Less => {
                missing.push(i);
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                added.push(j);
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                let path = old[i].clone();
                if recorded.digest(i) == current.digest(j) {
                    diff.unchanged.push(path);
                } else {
                    diff.modified.push(path);
                }
                i += 1;
                j += 1;
            }
        }
    }
    // A digest that left one path and appeared at another is a rename; identical files
    // pair up in path order so the pairing is deterministic.
    let mut by_digest: BTreeMap<&[u8], VecDeque<usize>> = BTreeMap::new();
    for &m in &missing {
        if let Some(d) = recorded.digest(m) {
            by_digest.entry(d).or_default().push_back(m);
        }
    }
    let mut renamed_from = vec![false; old.len()];
    for &a in &added {
        let paired = current
            .digest(a)
            .and_then(|d| by_digest.get_mut(d))
            .and_then(VecDeque::pop_front);
        match paired {
            Some(m) => {
                renamed_from[m] = true;
                diff.renamed.push((old[m].clone(), new[a].clone()));
            }
            None => diff.added.push(new[a].clone()),
        }
    }
    diff.missing = missing
        .into_iter()
        .filter(|m| !renamed_from[*m])
        .map(|m| old[m].clone())
        .collect();
    diff.renamed.sort();
    Ok(diff)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dossier::{HashAlgorithm, ManifestEntry};

    fn manifest(files: &[(&str, &str)]) -> Manifest {
        let a = HashAlgorithm::Sha256;
        Manifest::from_entries(
            a,
            files
                .iter()
                .map(|(p, c)| ManifestEntry {
                    relpath: (*p).to_owned(),
                    size: 0,
                    digest: a.digest(c.as_bytes()),
                    source: None,
                })
                .collect(),
        )
        .unwrap()
    }

    #[test]
    fn classifies_every_change() {
        let old = manifest(&[("a", "1"), ("b", "2"), ("c", "3"), ("d", "4"), ("e", "5")]);
        let new = manifest(&[("a", "1"), ("b", "changed"), ("d2", "4"), ("e", "5"), ("f", "6")]);
        let d = compare(&old, &new).unwrap();
        assert_eq!(d.unchanged, ["a", "e"]);
        assert_eq!(d.modified, ["b"]);
        assert_eq!(d.missing, ["c"]);
        assert_eq!(d.added, ["f"]);
        assert_eq!(d.renamed, [("d".to_owned(), "d2".to_owned())]);
        assert!(!d.is_unchanged());
        assert!(compare(&old, &old).unwrap().is_unchanged());
    }

    #[test]
    fn identical_copies_pair_once() {
        let old = manifest(&[("x1", "same"), ("x2", "same")]);
        let new = manifest(&[("y1", "same")]);
        let d = compare(&old, &new).unwrap();
        assert_eq!(d.renamed, [("x1".to_owned(), "y1".to_owned())]);
        assert_eq!(d.missing, ["x2"]);
        assert!(d.added.is_empty());
    }
}
