//! The walk: listing a dossier's directories (getdents into a reusable buffer on Linux), each
//! opened relative to its parent and only when its turn comes, handing each directory's
//! regular files to the workers in chunks as they are found.

use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rustix::fs::FileType as RawFileType;

use super::*;

/// A relpath in its canonical (NFC) form and, when it differs, as spelled on disk (a name
/// written decomposed, NFD, somewhere along it). Directory prefixes end with `/`; the root's
/// is empty.
#[derive(Clone, Debug, Default)]
pub(super) struct Rel {
    pub(super) nfc: String,
    pub(super) disk: Option<Box<str>>,
}

impl Rel {
    pub(super) fn disk(&self) -> &str {
        self.disk.as_deref().unwrap_or(&self.nfc)
    }

    /// The entry `name` of the directory whose prefix this is.
    pub(super) fn child(&self, name: &str) -> Rel {
        let mut nfc = String::with_capacity(self.nfc.len() + name.len() + 1);
        nfc.push_str(&self.nfc);
        push_nfc(&mut nfc, name);
        let respelled = self.disk.is_some() || nfc.get(self.nfc.len()..) != Some(name);
        let disk = respelled.then(|| format!("{}{name}", self.disk()).into_boxed_str());
        Rel { nfc, disk }
    }

    /// This entry as the prefix of its own entries.
    pub(super) fn into_dir(mut self) -> Rel {
        self.nfc.push('/');
        self.disk = self.disk.map(|d| format!("{d}/").into_boxed_str());
        self
    }

    /// The last component as spelled on disk (what `openat` relative to the directory takes).
    pub(super) fn disk_name(&self) -> &str {
        let d = self.disk();
        d.rsplit('/').next().unwrap_or(d)
    }
}

/// What listing found: files (hashed, failed or pending) and entries that cannot be files
/// of the dossier.
#[derive(Default)]
pub(super) struct Listing {
    pub(super) items: Vec<Item>,
    pub(super) errors: Vec<FileError>,
}

/// A directory to list: where it is and the relpath prefix of its entries.
pub(super) struct DirJob {
    pub(super) path: PathBuf,
    pub(super) prefix: Rel,
}

/// The regular files and subdirectories of one listed directory, for the caller to hash and
/// to visit.
#[derive(Default)]
pub(super) struct Found {
    pub(super) files: Vec<Rel>,
    pub(super) subdirs: Vec<DirJob>,
}

/// Room for the entries one getdents(2) call returns; any single entry fits.
pub(super) const DIRENT_BUFFER: usize = 32 * 1024;

impl Listing {
    pub(super) fn error(&mut self, relpath: impl Into<String>, code: FileErrorCode, message: String) {
        self.errors.push(FileError::new(relpath, code, message));
    }

    pub(super) fn append(&mut self, mut other: Listing) {
        self.items.append(&mut other.items);
        self.errors.append(&mut other.errors);
    }

    pub(super) fn dir_error(&mut self, prefix: &str, e: &io::Error) {
        let rel = prefix.trim_end_matches('/').to_owned();
        self.error(rel, FileErrorCode::of_io(e), format!("cannot list this directory: {e}"));
    }

    pub(super) fn listing_error(&mut self, rel: String, e: &io::Error) {
        let code = match e.kind() {
            io::ErrorKind::NotFound => FileErrorCode::DeletedWhileHashing,
            _ => FileErrorCode::of_io(e),
        };
        self.error(rel, code, format!("cannot stat: {e}"));
    }

    /// Lists the directory `job` (open as `fd`). Symlinks and special entries are settled
    /// here; regular files and subdirectories are returned. Entry types come from the
    /// directory itself (a stat only on file systems that do not record them).
    pub(super) fn list_dir(&mut self, root: &Path, fd: &OwnedFd, job: &DirJob, dirents: &mut Vec<u8>) -> Found {
        let mut found = Found::default();
        let listed = read_entries(fd, &job.path, dirents, |bytes, ftype| {
            let Ok(name) = std::str::from_utf8(bytes) else {
                let rel = format!("{}{}", job.prefix.nfc, String::from_utf8_lossy(bytes));
                self.error(
                    rel,
                    FileErrorCode::InvalidName,
                    "the name is not valid UTF-8, so BagIt cannot record it; rename the file".to_owned(),
                );
                return;
            };
            let rel = job.prefix.child(name);
            match ftype {
                Ok(RawFileType::Directory) => found.subdirs.push(DirJob {
                    path: job.path.join(name),
                    prefix: rel.into_dir(),
                }),
                Ok(RawFileType::RegularFile) => found.files.push(rel),
                Ok(RawFileType::Symlink) => self.add_symlink(root, &job.path.join(name), rel),
                Ok(_) => self.special(rel),
                Err(e) => self.listing_error(rel.nfc, &e),
            }
        });
        if let Err(e) = listed {
            let rel = job.prefix.nfc.trim_end_matches('/').to_owned();
            self.error(rel, FileErrorCode::IoError, format!("listing failed: {e}"));
        }
        found
    }

    pub(super) fn special(&mut self, rel: Rel) {
        self.error(
            rel.nfc,
            FileErrorCode::SpecialFile,
            "is a FIFO, socket or device, not a regular file; remove it from the dossier".to_owned(),
        );
    }

    /// A caller-listed non-directory (`meta` is from lstat): hashed after the walk.
    pub(super) fn add_entry(&mut self, root: &Path, path: &Path, rel: Rel, meta: &Metadata) {
        let ftype = meta.file_type();
        if ftype.is_file() {
            let listed = FileStamp::of(meta);
            self.items.push(Item {
                rel,
                state: State::Pending(Pending { target: None, listed }),
            });
        } else if ftype.is_symlink() {
            self.add_symlink(root, path, rel);
        } else {
            self.special(rel);
        }
    }

    /// Follows a symlink only to a regular file inside the dossier: anything else could pull
    /// arbitrary files of the machine (or a loop) into the dossier.
    pub(super) fn add_symlink(&mut self, root: &Path, path: &Path, rel: Rel) {
        let target = match fs::canonicalize(path) {
            Ok(t) => t,
            Err(e) if e.kind() == io::ErrorKind::PermissionDenied => {
                return self.error(
                    rel.nfc,
                    FileErrorCode::PermissionDenied,
                    format!("cannot resolve the symlink: {e}"),
                );
            }
            Err(e) => {
                return self.error(
                    rel.nfc,
                    FileErrorCode::BrokenSymlink,
                    format!("the symlink target is missing or loops: {e}"),
                );
            }
        };
        if !target.starts_with(root) {
            return self.error(
                rel.nfc,
                FileErrorCode::SymlinkOutside,
                format!(
                    "the symlink points outside the dossier (to {}); not followed",
                    target.display()
                ),
            );
        }
        match fs::metadata(&target) {
            Ok(m) if m.is_file() => self.items.push(Item {
                rel,
                state: State::Pending(Pending {
                    target: Some(target),
                    listed: FileStamp::of(&m),
                }),
            }),
            Ok(m) if m.is_dir() => self.error(
                rel.nfc,
                FileErrorCode::SymlinkToDirectory,
                "the symlink points to a directory; not followed".to_owned(),
            ),
            Ok(_) => self.error(
                rel.nfc,
                FileErrorCode::SpecialFile,
                "the symlink points to a FIFO, socket or device".to_owned(),
            ),
            Err(e) => self.listing_error(rel.nfc, &e),
        }
    }
}

/// Calls `each` with the name and type of every entry of the directory open as `fd` (at
/// `path`), `.` and `..` left out. On Linux: getdents(2) into `dirents`, names borrowed from
/// it, types from the directory itself (a stat only on file systems that do not record
/// them).
#[cfg(any(target_os = "linux", target_os = "android"))]
pub(super) fn read_entries(
    fd: &OwnedFd,
    _path: &Path,
    dirents: &mut Vec<u8>,
    mut each: impl FnMut(&[u8], io::Result<RawFileType>),
) -> io::Result<()> {
    let mut raw = rustix::fs::RawDir::new(fd, dirents.spare_capacity_mut());
    while let Some(entry) = raw.next() {
        let entry = entry.map_err(io::Error::from)?;
        let cname = entry.file_name();
        let bytes = cname.to_bytes();
        if bytes == b"." || bytes == b".." {
            continue;
        }
        let ftype = match entry.file_type() {
            RawFileType::Unknown => rustix::fs::statat(fd, cname, rustix::fs::AtFlags::SYMLINK_NOFOLLOW)
                .map(|st| RawFileType::from_raw_mode(st.st_mode))
                .map_err(io::Error::from),
            t => Ok(t),
        };
        each(bytes, ftype);
    }
    Ok(())
}

/// Elsewhere: the standard library's directory reader (one allocation per entry).
#[cfg(not(any(target_os = "linux", target_os = "android")))]
pub(super) fn read_entries(
    _fd: &OwnedFd,
    path: &Path,
    _dirents: &mut Vec<u8>,
    each: impl FnMut(&[u8], io::Result<RawFileType>),
) -> io::Result<()> {
    read_entries_std(path, each)
}

/// The portable reader; on Linux only the tests use it, to hold the two to the same answers.
#[cfg_attr(any(target_os = "linux", target_os = "android"), allow(dead_code))]
pub(super) fn read_entries_std(path: &Path, mut each: impl FnMut(&[u8], io::Result<RawFileType>)) -> io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::fs::FileTypeExt;
    for entry in fs::read_dir(path)? {
        let entry = entry?;
        let name = entry.file_name();
        // std falls back to lstat where the directory does not record types.
        let ftype = entry.file_type().map(|t| {
            if t.is_dir() {
                RawFileType::Directory
            } else if t.is_file() {
                RawFileType::RegularFile
            } else if t.is_symlink() {
                RawFileType::Symlink
            } else if t.is_fifo() {
                RawFileType::Fifo
            } else if t.is_socket() {
                RawFileType::Socket
            } else if t.is_block_device() {
                RawFileType::BlockDevice
            } else {
                RawFileType::CharacterDevice
            }
        });
        each(name.as_bytes(), ftype);
    }
    Ok(())
}

/// Opens a directory to list it and to open its files relative to it. O_NOFOLLOW: the fd
/// must be this directory, not what a swapped-in symlink points to.
pub(super) fn open_directory(path: &Path) -> io::Result<OwnedFd> {
    use rustix::fs::{Mode, OFlags};
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    rustix::fs::open(path, flags, Mode::empty()).map_err(io::Error::from)
}

/// What the parallel walk shares.
pub(super) struct Walk<'s> {
    pub(super) root: &'s Path,
    pub(super) sink: Mutex<Listing>,
    /// Each chunk's items, concatenated once at the end (appending to one growing vector
    /// would copy them again at every doubling).
    pub(super) chunks: Mutex<Vec<Vec<Item>>>,
    pub(super) hasher: &'s Hasher<'s>,
}

/// Lists the open directory `job`, hands its files to the pool in chunks and, through the
/// pool, visits every directory below (each opened only when its turn comes, so the number
/// of open directories stays small however wide the tree).
pub(super) fn visit<'s>(scope: &rayon::Scope<'s>, walk: &'s Walk<'s>, job: DirJob, fd: OwnedFd) {
    let mut local = Listing::default();
    let mut dirents = Vec::with_capacity(DIRENT_BUFFER);
    let found = local.list_dir(walk.root, &fd, &job, &mut dirents);
    drop(dirents);
    if !(local.items.is_empty() && local.errors.is_empty()) {
        lock(&walk.sink).append(local);
    }
    // Subdirectories first, so idle workers start listing them while this one hashes.
    for sub in found.subdirs {
        scope.spawn(move |scope| match open_directory(&sub.path) {
            Ok(fd) => visit(scope, walk, sub, fd),
            Err(e) => lock(&walk.sink).dir_error(&sub.prefix.nfc, &e),
        });
    }
    let fd = Arc::new(fd);
    let mut files = found.files;
    while files.len() > FILES_PER_TASK {
        let chunk = files.split_off(files.len() - FILES_PER_TASK);
        let fd = fd.clone();
        scope.spawn(move |_| hash_chunk(walk, &fd, chunk));
    }
    hash_chunk(walk, &fd, files);
}

pub(super) fn hash_chunk(walk: &Walk<'_>, dir: &OwnedFd, files: Vec<Rel>) {
    if files.is_empty() {
        return;
    }
    let mut items = Vec::with_capacity(files.len());
    walk.hasher.hash_found(dir, files, &mut items);
    lock(&walk.chunks).push(items);
}
