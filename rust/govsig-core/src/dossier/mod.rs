//! Dossiers: parallel hashing, canonical manifest, BagIt, Merkle tree and proofs.
//!
//! A dossier is a set of payload files named by relative paths. Its canonical form is the
//! BagIt (RFC 8493) manifest: one line `<lowercase hex digest> data/<relpath>` per file, the
//! relpaths Unicode NFC, sorted by their UTF-8 bytes. The Merkle tree (RFC 9162 §2.1) has one
//! leaf per manifest line, in that order, so a single file can be proven part of a dossier
//! whose root was signed, without revealing the other files.

mod algorithm;
mod bag;
mod diff;
mod error;
mod hashing;
mod manifest;
mod merkle;
mod relpath;

pub use algorithm::HashAlgorithm;
pub use bag::{
    bag_info_fields, bagit_txt, parse_tag_file, parse_tagmanifest, tag_file_bytes, tagmanifest_bytes, BAGIT_VERSION,
    ROOT_LABEL,
};
pub use diff::{compare, DossierDiff};
pub use error::{DossierError, FileError, FileErrorCode, IoKind};
pub use hashing::{hash_directory, hash_file, hash_paths, HashOptions, HashProgress, HashReport, DEFAULT_BUFFER_SIZE};
pub use manifest::{Manifest, ManifestEntry};
pub use merkle::{leaf_hash, node_hash, verify_entry, InclusionProof, MerkleTree, MAX_PROOF_LEN};
pub use relpath::{decode_manifest_path, encode_manifest_path, normalize_relpath};
