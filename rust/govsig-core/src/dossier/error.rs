//! Errors: [`DossierError`] for misuse and malformed input of a whole operation, and
//! [`FileError`] for one payload file that could not be hashed (the batch goes on).

use std::fmt;
use std::io;

/// How an I/O failure should surface to a caller (Python maps these to `FileNotFoundError`,
/// `PermissionError`, `OSError`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IoKind {
    NotFound,
    PermissionDenied,
    Other,
}

impl IoKind {
    pub(crate) fn of(e: &io::Error) -> Self {
        match e.kind() {
            io::ErrorKind::NotFound => Self::NotFound,
            io::ErrorKind::PermissionDenied => Self::PermissionDenied,
            _ => Self::Other,
        }
    }
}

/// An error that stops a whole dossier operation.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DossierError {
    /// The algorithm name is not one of sha256, sha384, sha512.
    UnknownAlgorithm { name: String },
    /// A relative path that cannot name a payload file.
    InvalidRelpath { path: String, reason: &'static str },
    /// Two entries whose paths are equal after NFC normalisation.
    DuplicatePath { path: String },
    /// A digest of the wrong length for the algorithm.
    DigestLength { expected: usize, found: usize },
    /// A BagIt manifest line that cannot be parsed (1-based line number).
    Manifest { line: usize, reason: String },
    /// A BagIt tag file (bagit.txt, bag-info.txt) that cannot be parsed.
    TagFile { line: usize, reason: String },
    /// An inclusion proof that is structurally invalid.
    Proof { reason: String },
    /// Two dossiers (or a dossier and a proof) that use different algorithms.
    AlgorithmMismatch {
        expected: &'static str,
        found: &'static str,
    },
    /// The relative path is not an entry of the dossier.
    NotInDossier { path: String },
    /// The dossier root is not a directory.
    NotADirectory { path: String },
    /// An I/O error on the dossier itself (not on one payload file).
    Io {
        path: String,
        kind: IoKind,
        message: String,
    },
}

impl DossierError {
    pub(crate) fn io(path: &std::path::Path, e: &io::Error) -> Self {
        Self::Io {
            path: path.display().to_string(),
            kind: IoKind::of(e),
            message: e.to_string(),
        }
    }
}

impl fmt::Display for DossierError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownAlgorithm { name } => write!(
                f,
                "unknown digest algorithm {name:?}; supported: sha256, sha384, sha512"
            ),
            Self::InvalidRelpath { path, reason } => {
                write!(f, "invalid relative path {path:?}: {reason}")
            }
            Self::DuplicatePath { path } => write!(
                f,
                "two entries normalise to the same path {path:?} (Unicode NFC); rename one"
            ),
            Self::DigestLength { expected, found } => {
                write!(f, "digest is {found} bytes, the algorithm produces {expected}")
            }
            Self::Manifest { line, reason } => write!(f, "manifest line {line}: {reason}"),
            Self::TagFile { line, reason } => write!(f, "tag file line {line}: {reason}"),
            Self::Proof { reason } => write!(f, "malformed inclusion proof: {reason}"),
            Self::AlgorithmMismatch { expected, found } => {
                write!(f, "algorithm mismatch: expected {expected}, found {found}")
            }
            Self::NotInDossier { path } => write!(f, "{path:?} is not a file of this dossier"),
            Self::NotADirectory { path } => write!(f, "{path} is not a directory"),
            Self::Io { path, message, .. } => write!(f, "{path}: {message}"),
        }
    }
}

impl std::error::Error for DossierError {}

/// Why one payload file has no digest. The names are stable API (snake_case).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FileErrorCode {
    /// A listed path does not exist.
    NotFound,
    /// The file or directory cannot be opened for reading by this user.
    PermissionDenied,
    /// A FIFO, socket or device: never opened, since opening one can block or have effects.
    SpecialFile,
    /// A symlink whose target lies outside the dossier (not followed: it would let a dossier
    /// silently include arbitrary files of the machine).
    SymlinkOutside,
    /// A symlink whose target does not exist, or a symlink loop.
    BrokenSymlink,
    /// A symlink to a directory (not followed: loops and double counting).
    SymlinkToDirectory,
    /// The file was modified, truncated, extended or replaced between listing and the end of
    /// its hashing: its digest would describe no state the file was ever in as a whole.
    ChangedWhileHashing,
    /// The file was deleted between listing and the end of its hashing.
    DeletedWhileHashing,
    /// The name is not valid UTF-8, so it has no BagIt manifest form.
    InvalidName,
    /// Two names normalise alike under Unicode NFC (e.g. one NFC and one NFD spelling).
    DuplicateName,
    /// A listed path is not under the dossier root.
    OutsideDossier,
    /// Any other I/O error (the message has the operating system's words).
    IoError,
}

impl FileErrorCode {
    /// All codes, in a stable order.
    pub const ALL: [FileErrorCode; 12] = [
        Self::NotFound,
        Self::PermissionDenied,
        Self::SpecialFile,
        Self::SymlinkOutside,
        Self::BrokenSymlink,
        Self::SymlinkToDirectory,
        Self::ChangedWhileHashing,
        Self::DeletedWhileHashing,
        Self::InvalidName,
        Self::DuplicateName,
        Self::OutsideDossier,
        Self::IoError,
    ];

    /// The stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotFound => "not_found",
            Self::PermissionDenied => "permission_denied",
            Self::SpecialFile => "special_file",
            Self::SymlinkOutside => "symlink_outside",
            Self::BrokenSymlink => "broken_symlink",
            Self::SymlinkToDirectory => "symlink_to_directory",
            Self::ChangedWhileHashing => "changed_while_hashing",
            Self::DeletedWhileHashing => "deleted_while_hashing",
            Self::InvalidName => "invalid_name",
            Self::DuplicateName => "duplicate_name",
            Self::OutsideDossier => "outside_dossier",
            Self::IoError => "io_error",
        }
    }

    pub(crate) fn of_io(e: &io::Error) -> Self {
        match e.kind() {
            io::ErrorKind::NotFound => Self::NotFound,
            io::ErrorKind::PermissionDenied => Self::PermissionDenied,
            _ => Self::IoError,
        }
    }
}

impl fmt::Display for FileErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One payload file that could not be hashed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileError {
    /// The relative path (NFC when the name is valid UTF-8, else a lossy rendering).
    pub relpath: String,
    pub code: FileErrorCode,
    /// A sentence a person can act on.
    pub message: String,
}

impl FileError {
    pub(crate) fn new(relpath: impl Into<String>, code: FileErrorCode, message: impl Into<String>) -> Self {
        Self {
            relpath: relpath.into(),
            code,
            message: message.into(),
        }
    }
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} ({})", self.relpath, self.message, self.code)
    }
}
