//! Listing a dossier and hashing its files on all cores.
//!
//! The walk reads each directory and hands its regular files, in chunks, to the worker
//! threads. A worker opens a file (relative to its directory's fd, so the kernel does not
//! walk the whole path again), takes its identity (device, inode, size, mtime) from the open
//! fd and, when the file fits in one read buffer, hashes it at once: most files of a dossier
//! are small, and handling them as they are found costs one path lookup per file instead of
//! two. Larger files (and symlinked and caller-listed ones) are hashed after the walk,
//! largest first from a shared cursor, so the big ones do not end up alone at the tail.
//! Every read goes through one reusable buffer per worker (memory stays flat whatever the
//! file sizes), and every file's identity is compared after hashing with the one taken
//! before: a file that changed in between gets a per-file error instead of a digest of no
//! real state.

use std::cmp::Reverse;
use std::fs::{self, File, FileType, Metadata, OpenOptions};
use std::io::{self, Read};
use std::os::fd::OwnedFd;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;

use aws_lc_rs::digest::{Context, Digest};
use rayon::slice::ParallelSliceMut;

use super::algorithm::HashAlgorithm;
use super::error::{DossierError, FileError, FileErrorCode};
use super::manifest::Manifest;
use super::relpath::{push_nfc, to_nfc};

/// Per-worker read buffer: large enough that syscalls are a small share of the time, small
/// enough to stay in a core's L2 cache while it is hashed. Files up to this size are hashed
/// as the walk finds them.
pub const DEFAULT_BUFFER_SIZE: usize = 256 * 1024;

/// Progress counters are flushed to the shared atomics at most this often, so thousands of
/// tiny files do not turn into a contended cache line.
const FLUSH_BYTES: u64 = 4 << 20;
const FLUSH_FILES: u64 = 256;

/// Regular files of one directory are handed to the workers in chunks of this many: a flat
/// dossier of 100,000 files in one directory still spreads over every core, and a chunk is
/// long enough that the hand-over costs nothing next to its syscalls.
const FILES_PER_TASK: usize = 128;

/// How to hash.
#[derive(Clone, Copy, Debug)]
pub struct HashOptions {
    pub algorithm: HashAlgorithm,
    /// Worker threads; 0 means one per available core.
    pub threads: usize,
    pub buffer_size: usize,
}

impl Default for HashOptions {
    fn default() -> Self {
        Self {
            algorithm: HashAlgorithm::Sha256,
            threads: 0,
            buffer_size: DEFAULT_BUFFER_SIZE,
        }
    }
}

/// Counters another thread can read while hashing runs (for a progress bar). The totals grow
/// while the walk finds files and are final once it ends; `done` never passes `total` by more
/// than the counts one worker holds back between flushes.
#[derive(Debug, Default)]
pub struct HashProgress {
    pub files_total: AtomicU64,
    pub bytes_total: AtomicU64,
    pub files_done: AtomicU64,
    pub bytes_done: AtomicU64,
}

impl HashProgress {
    /// (files_done, files_total, bytes_done, bytes_total)
    pub fn snapshot(&self) -> (u64, u64, u64, u64) {
        (
            self.files_done.load(Ordering::Relaxed),
            self.files_total.load(Ordering::Relaxed),
            self.bytes_done.load(Ordering::Relaxed),
            self.bytes_total.load(Ordering::Relaxed),
        )
    }
}

/// The outcome of hashing: the manifest of every file that hashed, and one error per file
/// that did not (sorted by relpath).
#[derive(Clone, Debug)]
pub struct HashReport {
    pub manifest: Manifest,
    pub errors: Vec<FileError>,
}

/// Hashes every file under `root`. Symlinks are followed only to regular files inside the
/// dossier; directories are never followed through symlinks.
pub fn hash_directory(root: &Path, options: &HashOptions, progress: &HashProgress) -> Result<HashReport, DossierError> {
    let canonical = canonical_dir(root)?;
    let hasher = Hasher::new(options, progress);
    let mut lister = Lister::new(canonical.clone(), options);
    lister.walk(&canonical, String::new(), true, &hasher)?;
    lister.finish(&hasher)
}

/// Hashes the listed files (directories among them are walked), named relative to `base`.
/// Relative entries of `paths` are taken relative to `base`.
pub fn hash_paths(
    base: &Path,
    paths: &[PathBuf],
    options: &HashOptions,
    progress: &HashProgress,
) -> Result<HashReport, DossierError> {
    let canonical = canonical_dir(base)?;
    let hasher = Hasher::new(options, progress);
    let mut lister = Lister::new(canonical, options);
    for p in paths {
        let p = if p.is_absolute() { p.clone() } else { base.join(p) };
        lister.add_listed(&p, &hasher);
    }
    lister.finish(&hasher)
}

/// Hashes one file (following symlinks: the caller named it), refusing special files.
/// Returns (digest, size).
pub fn hash_file(path: &Path, algorithm: HashAlgorithm) -> Result<(Vec<u8>, u64), FileError> {
    let name = path.display().to_string();
    let err = |code, message: String| FileError::new(name.clone(), code, message);
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| err(FileErrorCode::of_io(&e), format!("cannot open: {e}")))?;
    let before = file
        .metadata()
        .map_err(|e| err(FileErrorCode::of_io(&e), format!("cannot stat: {e}")))?;
    if !before.file_type().is_file() {
        return Err(err(FileErrorCode::SpecialFile, "is not a regular file".to_owned()));
    }
    let listed = FileStamp::of(&before);
    let mut buf = vec![0u8; DEFAULT_BUFFER_SIZE];
    let progress = HashProgress::default();
    let mut tally = Tally::new(&progress);
    let digest = read_and_check(&name, &listed, file, algorithm, &mut buf, &mut tally)?;
    Ok((digest.as_ref().to_vec(), listed.size))
}

fn canonical_dir(root: &Path) -> Result<PathBuf, DossierError> {
    let canonical = fs::canonicalize(root).map_err(|e| DossierError::io(root, &e))?;
    let meta = fs::metadata(&canonical).map_err(|e| DossierError::io(root, &e))?;
    if !meta.is_dir() {
        return Err(DossierError::NotADirectory {
            path: root.display().to_string(),
        });
    }
    Ok(canonical)
}

/// What identifies a file's state: if any of these differ after hashing, the bytes read
/// may not be one version of the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct FileStamp {
    dev: u64,
    ino: u64,
    size: u64,
    mtime: i64,
    mtime_nsec: i64,
}

impl FileStamp {
    fn of(m: &Metadata) -> Self {
        Self {
            dev: m.dev(),
            ino: m.ino(),
            size: m.len(),
            mtime: m.mtime(),
            mtime_nsec: m.mtime_nsec(),
        }
    }
}

/// A file left for the largest-first pass after the walk.
#[derive(Debug)]
struct Pending {
    /// For a symlink, its (canonical, in-dossier) target, which is what is opened.
    target: Option<PathBuf>,
    /// The listing's fd of the file's directory, when one was kept: opening relative to it
    /// spares the kernel a walk of the whole path.
    dir: Option<Arc<OwnedFd>>,
    /// The identity taken when the file was listed.
    listed: FileStamp,
}

#[derive(Debug)]
enum State {
    Hashed {
        size: u64,
        digest: Digest,
    },
    Pending(Pending),
    /// The file itself could not be hashed (a listing-level problem such as a special file
    /// or a symlink out of the dossier is a [`Listing::errors`] entry instead).
    Failed(FileError),
}

/// A file of the dossier and what became of it.
#[derive(Debug)]
struct Item {
    /// NFC relpath.
    relpath: String,
    /// The path as listed (reported to the caller, e.g. to copy the payload).
    source: PathBuf,
    state: State,
}

impl Item {
    fn failed(relpath: String, source: PathBuf, error: FileError) -> Self {
        Self {
            relpath,
            source,
            state: State::Failed(error),
        }
    }
}

/// What hashing shares between workers: the algorithm, the progress counters and a stack of
/// read buffers (at most one per worker is ever in use, and each is reused).
struct Hasher<'a> {
    algorithm: HashAlgorithm,
    buffer_size: usize,
    progress: &'a HashProgress,
    buffers: Mutex<Vec<Vec<u8>>>,
}

impl<'a> Hasher<'a> {
    fn new(options: &HashOptions, progress: &'a HashProgress) -> Self {
        Self {
            algorithm: options.algorithm,
            buffer_size: options.buffer_size.max(4096),
            progress,
            buffers: Mutex::new(Vec::new()),
        }
    }

    fn with_buffer<R>(&self, f: impl FnOnce(&mut [u8]) -> R) -> R {
        let mut buf = lock(&self.buffers).pop().unwrap_or_else(|| vec![0u8; self.buffer_size]);
        let r = f(&mut buf);
        lock(&self.buffers).push(buf);
        r
    }

    /// Hashes regular files the walk found in one directory (`dir` is its fd, when kept).
    fn hash_found(&self, dir: Option<&Arc<OwnedFd>>, files: Vec<(PathBuf, String)>, out: &mut Vec<Item>) {
        let mut tally = Tally::new(self.progress);
        self.with_buffer(|buf| {
            out.extend(
                files
                    .into_iter()
                    .map(|(source, relpath)| self.hash_one_found(dir, source, relpath, buf, &mut tally)),
            );
        });
    }

    /// Opens a file the walk found, takes its identity from the open fd and hashes it now
    /// when it fits one buffer; a larger one is left for the largest-first pass.
    fn hash_one_found(
        &self,
        dir: Option<&Arc<OwnedFd>>,
        source: PathBuf,
        relpath: String,
        buf: &mut [u8],
        tally: &mut Tally<'_>,
    ) -> Item {
        let file = match open_nofollow(dir.map(Arc::as_ref), None, &source) {
            Ok(f) => f,
            Err(e) => {
                let error = open_error(&relpath, &e);
                return Item::failed(relpath, source, error);
            }
        };
        let meta = match file.metadata() {
            Ok(m) => m,
            Err(e) => {
                let error = FileError::new(relpath.clone(), FileErrorCode::of_io(&e), format!("cannot stat: {e}"));
                return Item::failed(relpath, source, error);
            }
        };
        if !meta.file_type().is_file() {
            let error = FileError::new(
                relpath.clone(),
                FileErrorCode::SpecialFile,
                "is no longer a regular file (it was replaced after it was listed)".to_owned(),
            );
            return Item::failed(relpath, source, error);
        }
        let listed = FileStamp::of(&meta);
        if !usize::try_from(listed.size).is_ok_and(|s| s <= buf.len()) {
            // Counted in the totals when the walk is over.
            let state = State::Pending(Pending {
                target: None,
                dir: dir.cloned(),
                listed,
            });
            return Item { relpath, source, state };
        }
        let state = match read_and_check(&relpath, &listed, file, self.algorithm, buf, tally) {
            Ok(digest) => State::Hashed {
                size: listed.size,
                digest,
            },
            Err(e) => State::Failed(e),
        };
        tally.add_total(listed.size);
        tally.add_file();
        Item { relpath, source, state }
    }
}

/// What listing found: files (hashed, failed or pending) and entries that cannot be files
/// of the dossier.
#[derive(Default)]
struct Listing {
    items: Vec<Item>,
    errors: Vec<FileError>,
}

/// The regular files and subdirectories of one listed directory, for the caller to hash and
/// to visit.
#[derive(Default)]
struct Found {
    files: Vec<(PathBuf, String)>,
    subdirs: Vec<(PathBuf, String)>,
}

impl Listing {
    fn error(&mut self, relpath: impl Into<String>, code: FileErrorCode, message: String) {
        self.errors.push(FileError::new(relpath, code, message));
    }

    fn append(&mut self, mut other: Listing) {
        self.items.append(&mut other.items);
        self.errors.append(&mut other.errors);
    }

    fn dir_error(&mut self, prefix: &str, e: &io::Error) {
        let rel = prefix.trim_end_matches('/').to_owned();
        self.error(rel, FileErrorCode::of_io(e), format!("cannot list this directory: {e}"));
    }

    fn listing_error(&mut self, rel: String, e: &io::Error) {
        let code = match e.kind() {
            io::ErrorKind::NotFound => FileErrorCode::DeletedWhileHashing,
            _ => FileErrorCode::of_io(e),
        };
        self.error(rel, code, format!("cannot stat: {e}"));
    }

    /// Lists one directory (relpath `prefix`, with a trailing `/` or empty for the root).
    /// Symlinks and special entries are settled here; regular files and subdirectories are
    /// returned. The entry type comes from the directory itself (no stat per file).
    fn list_dir(&mut self, root: &Path, entries: fs::ReadDir, prefix: &str) -> Found {
        let mut found = Found::default();
        for entry in entries {
            let entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    let rel = prefix.trim_end_matches('/').to_owned();
                    self.error(rel, FileErrorCode::IoError, format!("listing failed: {e}"));
                    break;
                }
            };
            let name = entry.file_name();
            let Some(name) = name.to_str() else {
                let rel = format!("{prefix}{}", name.to_string_lossy());
                self.error(
                    rel,
                    FileErrorCode::InvalidName,
                    "the name is not valid UTF-8, so BagIt cannot record it; rename the file".to_owned(),
                );
                continue;
            };
            let mut rel = String::with_capacity(prefix.len() + name.len() + 1);
            rel.push_str(prefix);
            push_nfc(&mut rel, name);
            match entry.file_type() {
                Ok(t) if t.is_dir() => {
                    rel.push('/');
                    found.subdirs.push((entry.path(), rel));
                }
                Ok(t) if t.is_file() => found.files.push((entry.path(), rel)),
                Ok(t) => self.add_other(root, entry.path(), rel, t),
                Err(e) => self.listing_error(rel, &e),
            }
        }
        found
    }

    /// A caller-listed non-directory (`meta` is from lstat): hashed after the walk.
    fn add_entry(&mut self, root: &Path, path: PathBuf, relpath: String, meta: &Metadata) {
        let ftype = meta.file_type();
        if ftype.is_file() {
            self.items.push(Item {
                relpath,
                source: path,
                state: State::Pending(Pending {
                    target: None,
                    dir: None,
                    listed: FileStamp::of(meta),
                }),
            });
        } else {
            self.add_other(root, path, relpath, ftype);
        }
    }

    /// An entry that is neither a directory nor a regular file.
    fn add_other(&mut self, root: &Path, path: PathBuf, relpath: String, ftype: FileType) {
        if ftype.is_symlink() {
            self.add_symlink(root, path, relpath);
        } else {
            self.error(
                relpath,
                FileErrorCode::SpecialFile,
                "is a FIFO, socket or device, not a regular file; remove it from the dossier".to_owned(),
            );
        }
    }

    /// Follows a symlink only to a regular file inside the dossier: anything else could pull
    /// arbitrary files of the machine (or a loop) into the dossier.
    fn add_symlink(&mut self, root: &Path, path: PathBuf, relpath: String) {
        let target = match fs::canonicalize(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == io::ErrorKind::PermissionDenied => {
                return self.error(
                    relpath,
                    FileErrorCode::PermissionDenied,
                    format!("cannot resolve the symlink: {e}"),
                );
            }
            Err(e) => {
                return self.error(
                    relpath,
                    FileErrorCode::BrokenSymlink,
                    format!("the symlink target is missing or loops: {e}"),
                );
            }
        };
        if !target.starts_with(root) {
            return self.error(
                relpath,
                FileErrorCode::SymlinkOutside,
                format!(
                    "the symlink points outside the dossier (to {}); not followed",
                    target.display()
                ),
            );
        }
        match fs::metadata(&target) {
            Ok(m) if m.is_file() => self.items.push(Item {
                relpath,
                source: path,
                state: State::Pending(Pending {
                    target: Some(target),
                    dir: None,
                    listed: FileStamp::of(&m),
                }),
            }),
            Ok(m) if m.is_dir() => self.error(
                relpath,
                FileErrorCode::SymlinkToDirectory,
                "the symlink points to a directory; not followed".to_owned(),
            ),
            Ok(_) => self.error(
                relpath,
                FileErrorCode::SpecialFile,
                "the symlink points to a FIFO, socket or device".to_owned(),
            ),
            Err(e) => self.listing_error(relpath, &e),
        }
    }
}

/// An open directory: its entries and, while the budget lasts, an fd to open files by.
struct DirHandle {
    entries: fs::ReadDir,
    fd: Option<Arc<OwnedFd>>,
}

/// At most this many directory fds are kept for relative opens, far below the usual
/// 1024-fd soft limit; files in directories past it are opened by full path.
const DIR_FD_BUDGET: usize = 256;

fn open_dir(dir: &Path, budget: &AtomicUsize) -> io::Result<DirHandle> {
    let entries = fs::read_dir(dir)?;
    let take = budget
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |b| b.checked_sub(1))
        .is_ok();
    // O_DIRECTORY|O_NOFOLLOW: the fd must be this directory, not what a swapped-in symlink
    // points to. Failing to get one only costs speed.
    let fd = take
        .then(|| {
            OpenOptions::new()
                .read(true)
                .custom_flags(libc::O_DIRECTORY | libc::O_NOFOLLOW)
                .open(dir)
                .ok()
        })
        .flatten()
        .map(|f| Arc::new(OwnedFd::from(f)));
    Ok(DirHandle { entries, fd })
}

/// What the parallel walk shares.
struct Walk<'s> {
    root: &'s Path,
    sink: Mutex<Listing>,
    budget: &'s AtomicUsize,
    hasher: &'s Hasher<'s>,
}

/// Lists `dir` (the directory `prefix`), hands its files to the pool in chunks and, through
/// the pool, visits every directory below.
fn visit<'s>(scope: &rayon::Scope<'s>, walk: &'s Walk<'s>, dir: DirHandle, prefix: String) {
    let DirHandle { entries, fd } = dir;
    let mut local = Listing::default();
    let found = local.list_dir(walk.root, entries, &prefix);
    if !(local.items.is_empty() && local.errors.is_empty()) {
        lock(&walk.sink).append(local);
    }
    // Subdirectories first, so idle workers start listing them while this one hashes.
    for (path, prefix) in found.subdirs {
        scope.spawn(move |scope| match open_dir(&path, walk.budget) {
            Ok(dir) => visit(scope, walk, dir, prefix),
            Err(e) => lock(&walk.sink).dir_error(&prefix, &e),
        });
    }
    let mut files = found.files;
    while files.len() > FILES_PER_TASK {
        let chunk = files.split_off(files.len() - FILES_PER_TASK);
        let fd = fd.clone();
        scope.spawn(move |_| hash_chunk(walk, fd.as_ref(), chunk));
    }
    hash_chunk(walk, fd.as_ref(), files);
}

fn hash_chunk(walk: &Walk<'_>, dir: Option<&Arc<OwnedFd>>, files: Vec<(PathBuf, String)>) {
    if files.is_empty() {
        return;
    }
    let mut items = Vec::with_capacity(files.len());
    walk.hasher.hash_found(dir, files, &mut items);
    lock(&walk.sink).items.append(&mut items);
}

/// A poisoned lock only means another worker panicked mid-push; the data is still usable.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

struct Lister {
    root: PathBuf,
    listing: Listing,
    /// Worker threads for listing and hashing; None when one thread is asked for (or the
    /// threads cannot be created: the work then runs on the caller's thread).
    pool: Option<rayon::ThreadPool>,
    threads: usize,
    dir_fds: AtomicUsize,
}

impl Lister {
    fn new(root: PathBuf, options: &HashOptions) -> Self {
        let threads = match options.threads {
            0 => thread::available_parallelism().map_or(1, usize::from),
            t => t,
        };
        let pool = (threads > 1)
            .then(|| {
                rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .thread_name(|i| format!("govsig-hash-{i}"))
                    .build()
                    .ok()
            })
            .flatten();
        Self {
            root,
            listing: Listing::default(),
            pool,
            threads,
            dir_fds: AtomicUsize::new(DIR_FD_BUDGET),
        }
    }

    fn error(&mut self, relpath: impl Into<String>, code: FileErrorCode, message: String) {
        self.listing.error(relpath, code, message);
    }

    /// Walks `dir`, whose relpath (with a trailing `/`, or empty for the root) is `prefix`,
    /// hashing the files that fit one buffer on the way. Unreadable subdirectories are
    /// per-file errors; an unreadable top is fatal when `fatal`.
    fn walk(&mut self, dir: &Path, prefix: String, fatal: bool, hasher: &Hasher<'_>) -> Result<(), DossierError> {
        let budget = &self.dir_fds;
        let top = match open_dir(dir, budget) {
            Ok(it) => it,
            Err(e) if fatal => return Err(DossierError::io(dir, &e)),
            Err(e) => {
                self.listing.dir_error(&prefix, &e);
                return Ok(());
            }
        };
        let root = self.root.as_path();
        match &self.pool {
            Some(pool) => {
                let walk = Walk {
                    root,
                    sink: Mutex::new(Listing::default()),
                    budget,
                    hasher,
                };
                pool.scope(|scope| visit(scope, &walk, top, prefix));
                let found = walk
                    .sink
                    .into_inner()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                self.listing.append(found);
            }
            None => {
                let mut stack = vec![(top, prefix)];
                while let Some((DirHandle { entries, fd }, prefix)) = stack.pop() {
                    let found = self.listing.list_dir(root, entries, &prefix);
                    hasher.hash_found(fd.as_ref(), found.files, &mut self.listing.items);
                    for (dir, prefix) in found.subdirs {
                        match open_dir(&dir, budget) {
                            Ok(handle) => stack.push((handle, prefix)),
                            Err(e) => self.listing.dir_error(&prefix, &e),
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// One caller-listed path: named relative to the root through its canonical parent, so
    /// `..` or a symlinked parent cannot smuggle in a file from outside.
    fn add_listed(&mut self, path: &Path, hasher: &Hasher<'_>) {
        let shown = path.display().to_string();
        let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
            return self.error(
                shown,
                FileErrorCode::InvalidName,
                "the path does not name a file".to_owned(),
            );
        };
        let parent = match fs::canonicalize(parent) {
            Ok(p) => p,
            Err(e) => {
                return self.error(
                    shown,
                    FileErrorCode::of_io(&e),
                    format!("cannot resolve the parent directory: {e}"),
                )
            }
        };
        let Ok(rel_parent) = parent.strip_prefix(&self.root) else {
            return self.error(
                shown,
                FileErrorCode::OutsideDossier,
                format!("is not under the dossier root {}", self.root.display()),
            );
        };
        let mut rel = String::new();
        for component in rel_parent.iter().chain(std::iter::once(name)) {
            let Some(c) = component.to_str() else {
                return self.error(
                    shown,
                    FileErrorCode::InvalidName,
                    "the path is not valid UTF-8, so BagIt cannot record it".to_owned(),
                );
            };
            if !rel.is_empty() {
                rel.push('/');
            }
            rel.push_str(&to_nfc(c));
        }
        let path = parent.join(name);
        match fs::symlink_metadata(&path) {
            Ok(m) if m.is_dir() => {
                // The listed directory exists; a failure to read it is this entry's error.
                if let Err(e) = self.walk(&path, rel.clone() + "/", false, hasher) {
                    self.error(rel, FileErrorCode::IoError, e.to_string());
                }
            }
            Ok(m) => self.listing.add_entry(&self.root, path, rel, &m),
            Err(e) => self.error(rel, FileErrorCode::of_io(&e), format!("cannot stat: {e}")),
        }
    }

    /// Rejects names that normalise alike, hashes the pending files largest first and
    /// assembles the canonical manifest.
    fn finish(mut self, hasher: &Hasher<'_>) -> Result<HashReport, DossierError> {
        let mut items = std::mem::take(&mut self.listing.items);
        let by_relpath = |a: &Item, b: &Item| a.relpath.as_bytes().cmp(b.relpath.as_bytes());
        match &self.pool {
            Some(pool) => pool.install(|| items.par_sort_unstable_by(by_relpath)),
            None => items.sort_unstable_by(by_relpath),
        }
        let mut errors = std::mem::take(&mut self.listing.errors);
        let mut unique = Vec::with_capacity(items.len());
        let mut sorted = items.into_iter().peekable();
        while let Some(first) = sorted.next() {
            let Some(second) = sorted.next_if(|n| n.relpath == first.relpath) else {
                unique.push(first);
                continue;
            };
            let mut group = vec![first, second];
            while let Some(next) = sorted.next_if(|n| n.relpath == group[0].relpath) {
                group.push(next);
            }
            let sources: Vec<String> = group
                .iter()
                .map(|c| format!("{:?}", c.source.display().to_string()))
                .collect();
            for c in group {
                errors.push(FileError::new(
                    c.relpath,
                    FileErrorCode::DuplicateName,
                    format!(
                        "{} name the same entry after Unicode NFC normalisation; rename all but one",
                        sources.join(" and ")
                    ),
                ));
            }
        }
        hash_pending(&mut unique, hasher, self.pool.as_ref(), self.threads);

        let w = hasher.algorithm.output_len();
        let mut paths = Vec::with_capacity(unique.len());
        let mut sizes = Vec::with_capacity(unique.len());
        let mut digests = Vec::with_capacity(unique.len() * w);
        let mut sources = Vec::with_capacity(unique.len());
        for item in unique {
            match item.state {
                State::Hashed { size, digest } => {
                    paths.push(item.relpath);
                    sizes.push(size);
                    digests.extend_from_slice(digest.as_ref());
                    sources.push(item.source);
                }
                State::Failed(e) => errors.push(e),
                State::Pending(_) => errors.push(FileError::new(
                    item.relpath,
                    FileErrorCode::IoError,
                    "a hashing worker failed before reaching this file".to_owned(),
                )),
            }
        }
        errors.sort_by(|a, b| a.relpath.as_bytes().cmp(b.relpath.as_bytes()));
        Ok(HashReport {
            manifest: Manifest::from_canonical(hasher.algorithm, paths, sizes, digests, Some(sources)),
            errors,
        })
    }
}

/// Local progress, flushed to the shared counters in batches.
struct Tally<'a> {
    shared: &'a HashProgress,
    bytes: u64,
    files: u64,
    bytes_total: u64,
    files_total: u64,
}

impl<'a> Tally<'a> {
    fn new(shared: &'a HashProgress) -> Self {
        Self {
            shared,
            bytes: 0,
            files: 0,
            bytes_total: 0,
            files_total: 0,
        }
    }
    /// A file found, of `size` bytes.
    fn add_total(&mut self, size: u64) {
        self.files_total += 1;
        self.bytes_total = self.bytes_total.saturating_add(size);
    }
    fn add_bytes(&mut self, n: u64) {
        self.bytes = self.bytes.saturating_add(n);
        if self.bytes >= FLUSH_BYTES {
            self.flush();
        }
    }
    fn add_file(&mut self) {
        self.files += 1;
        if self.files >= FLUSH_FILES {
            self.flush();
        }
    }
    fn flush(&mut self) {
        // Totals first, so a reader never sees more done than found.
        if self.files_total > 0 || self.bytes_total > 0 {
            self.shared.files_total.fetch_add(self.files_total, Ordering::Relaxed);
            self.shared.bytes_total.fetch_add(self.bytes_total, Ordering::Relaxed);
            self.files_total = 0;
            self.bytes_total = 0;
        }
        if self.files > 0 || self.bytes > 0 {
            self.shared.bytes_done.fetch_add(self.bytes, Ordering::Relaxed);
            self.shared.files_done.fetch_add(self.files, Ordering::Relaxed);
            self.bytes = 0;
            self.files = 0;
        }
    }
}

impl Drop for Tally<'_> {
    fn drop(&mut self) {
        self.flush();
    }
}

/// Hashes the items still pending, largest first from a shared cursor.
fn hash_pending(items: &mut [Item], hasher: &Hasher<'_>, pool: Option<&rayon::ThreadPool>, threads: usize) {
    let mut order: Vec<(usize, u64)> = items
        .iter()
        .enumerate()
        .filter_map(|(i, item)| match &item.state {
            State::Pending(p) => Some((i, p.listed.size)),
            _ => None,
        })
        .collect();
    let n = order.len();
    if n == 0 {
        return;
    }
    order.sort_by_key(|&(_, size)| Reverse(size));
    {
        // The walk is over: these files complete the totals.
        let mut tally = Tally::new(hasher.progress);
        for &(_, size) in &order {
            tally.add_total(size);
        }
    }
    let cursor = AtomicUsize::new(0);
    let shared: &[Item] = items;

    let worker = || {
        let mut tally = Tally::new(hasher.progress);
        let mut done = Vec::new();
        hasher.with_buffer(|buf| {
            while let Some(&(i, _)) = order.get(cursor.fetch_add(1, Ordering::Relaxed)) {
                if let Some(item) = shared.get(i) {
                    if let State::Pending(p) = &item.state {
                        let r = hash_listed(&item.relpath, &item.source, p, hasher.algorithm, buf, &mut tally);
                        tally.add_file();
                        done.push((i, r));
                    }
                }
            }
        });
        done
    };

    let finished = Mutex::new(Vec::with_capacity(n));
    match pool {
        Some(pool) if n > 1 => pool.scope(|scope| {
            for _ in 0..threads.min(n) {
                scope.spawn(|_| {
                    let mut part = worker();
                    lock(&finished).append(&mut part);
                });
            }
        }),
        _ => lock(&finished).append(&mut worker()),
    }
    for (i, r) in finished.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner) {
        if let Some(item) = items.get_mut(i) {
            let size = match &item.state {
                State::Pending(p) => p.listed.size,
                _ => continue,
            };
            item.state = match r {
                Ok(digest) => State::Hashed { size, digest },
                Err(e) => State::Failed(e),
            };
        }
    }
}

/// Opens a listed file and hashes it, checking it is still the file listed.
fn hash_listed(
    relpath: &str,
    source: &Path,
    p: &Pending,
    algorithm: HashAlgorithm,
    buf: &mut [u8],
    tally: &mut Tally<'_>,
) -> Result<Digest, FileError> {
    let file = open_nofollow(p.dir.as_deref(), p.target.as_deref(), source).map_err(|e| open_error(relpath, &e))?;
    read_and_check(relpath, &p.listed, file, algorithm, buf, tally)
}

/// Opens without following a final symlink (a file swapped for a symlink after listing
/// must not redirect the read) and without blocking (a file swapped for a FIFO must not
/// hang the worker): relative to `dir` by the source's name when the directory's fd was
/// kept, else by full path (`target` for a followed symlink).
fn open_nofollow(dir: Option<&OwnedFd>, target: Option<&Path>, source: &Path) -> io::Result<File> {
    match (dir, target, source.file_name()) {
        (Some(dir), None, Some(name)) => {
            use rustix::fs::{Mode, OFlags};
            let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC;
            rustix::fs::openat(dir, name, flags, Mode::empty())
                .map(File::from)
                .map_err(io::Error::from)
        }
        _ => OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
            .open(target.unwrap_or(source)),
    }
}

fn open_error(relpath: &str, e: &io::Error) -> FileError {
    let (code, message) = match e.kind() {
        io::ErrorKind::NotFound => (
            FileErrorCode::DeletedWhileHashing,
            "was deleted after it was listed".to_owned(),
        ),
        _ if e.raw_os_error() == Some(libc::ELOOP) => (
            FileErrorCode::ChangedWhileHashing,
            "was replaced by a symlink after it was listed".to_owned(),
        ),
        _ => (FileErrorCode::of_io(e), format!("cannot open: {e}")),
    };
    FileError::new(relpath.to_owned(), code, message)
}

/// Hashes the open file and checks it is still the file listed, unmodified.
fn read_and_check(
    relpath: &str,
    listed: &FileStamp,
    mut file: File,
    algorithm: HashAlgorithm,
    buf: &mut [u8],
    tally: &mut Tally<'_>,
) -> Result<Digest, FileError> {
    let err = |code, message: String| FileError::new(relpath.to_owned(), code, message);
    let read = hash_stream(&mut file, listed.size, algorithm, buf, tally);
    let after = file
        .metadata()
        .map_err(|e| err(FileErrorCode::of_io(&e), format!("cannot stat after reading: {e}")))?;
    if !after.file_type().is_file() {
        return Err(err(
            FileErrorCode::SpecialFile,
            "is no longer a regular file".to_owned(),
        ));
    }
    let (digest, got) = read.map_err(|e| err(FileErrorCode::of_io(&e), format!("read failed: {e}")))?;
    check_unchanged(listed, &after, got).map_err(|(code, m)| err(code, m))?;
    Ok(digest)
}

/// Reads at most `limit` bytes (the listed size: a file growing forever cannot keep a worker
/// busy) into the digest. Returns (digest, bytes read).
fn hash_stream<R: Read>(
    reader: &mut R,
    limit: u64,
    algorithm: HashAlgorithm,
    buf: &mut [u8],
    tally: &mut Tally<'_>,
) -> io::Result<(Digest, u64)> {
    let mut ctx = Context::new(algorithm.aws());
    let mut total = 0u64;
    while total < limit {
        let want = usize::try_from(limit - total).map_or(buf.len(), |r| r.min(buf.len()));
        let chunk = match buf.get_mut(..want) {
            Some(c) => c,
            None => break,
        };
        let n = match reader.read(chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let data = chunk
            .get(..n)
            .ok_or_else(|| io::Error::other("read reported more bytes than asked"))?;
        ctx.update(data);
        let n = u64::try_from(n).unwrap_or(u64::MAX);
        total = total.saturating_add(n);
        tally.add_bytes(n);
    }
    Ok((ctx.finish(), total))
}

fn check_unchanged(listed: &FileStamp, after: &Metadata, read: u64) -> Result<(), (FileErrorCode, String)> {
    if after.nlink() == 0 {
        return Err((
            FileErrorCode::DeletedWhileHashing,
            "was deleted while it was being hashed".to_owned(),
        ));
    }
    let now = FileStamp::of(after);
    if (now.dev, now.ino) != (listed.dev, listed.ino) {
        return Err((
            FileErrorCode::ChangedWhileHashing,
            "was replaced by another file after it was listed".to_owned(),
        ));
    }
    if read != listed.size || now.size != listed.size {
        return Err((
            FileErrorCode::ChangedWhileHashing,
            format!(
                "its size changed while it was hashed (listed {} bytes, read {read}, now {})",
                listed.size, now.size
            ),
        ));
    }
    if (now.mtime, now.mtime_nsec) != (listed.mtime, listed.mtime_nsec) {
        return Err((
            FileErrorCode::ChangedWhileHashing,
            "was modified while it was hashed".to_owned(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::sync::atomic::AtomicU32;

    static COUNTER: AtomicU32 = AtomicU32::new(0);

    /// A fresh directory under the system temp dir, removed on drop.
    struct TempDir(PathBuf);
    impl TempDir {
        fn new() -> Self {
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let p = std::env::temp_dir().join(format!("govsig-dossier-{}-{n}", std::process::id()));
            let _ = fs::remove_dir_all(&p);
            fs::create_dir_all(&p).unwrap();
            Self(p)
        }
        fn write(&self, rel: &str, content: &[u8]) -> PathBuf {
            let p = self.0.join(rel);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(&p, content).unwrap();
            p
        }
    }
    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    fn opts(threads: usize) -> HashOptions {
        HashOptions {
            threads,
            buffer_size: 4096,
            ..HashOptions::default()
        }
    }

    #[test]
    fn hashes_a_tree_with_any_thread_count() {
        let d = TempDir::new();
        let big: Vec<u8> = (0..100_000u32).flat_map(|i| i.to_le_bytes()).collect();
        d.write("a.txt", b"hello");
        d.write("sub/dir/big.bin", &big);
        d.write("empty", b"");
        for threads in [1, 2, 7] {
            let progress = HashProgress::default();
            let r = hash_directory(&d.0, &opts(threads), &progress).unwrap();
            assert!(r.errors.is_empty(), "{:?}", r.errors);
            assert_eq!(r.manifest.paths(), ["a.txt", "empty", "sub/dir/big.bin"]);
            assert_eq!(
                r.manifest.digest(2).unwrap(),
                HashAlgorithm::Sha256.digest(&big).as_slice()
            );
            assert_eq!(r.manifest.sizes(), [5, 0, 400_000]);
            assert_eq!(progress.snapshot(), (3, 3, 400_005, 400_005));
        }
    }

    #[test]
    fn symlinks_and_special_files_are_per_file_errors() {
        let outside = TempDir::new();
        let secret = outside.write("secret", b"s");
        let d = TempDir::new();
        d.write("real.txt", b"r");
        std::os::unix::fs::symlink(&secret, d.0.join("out")).unwrap();
        std::os::unix::fs::symlink("real.txt", d.0.join("in")).unwrap();
        std::os::unix::fs::symlink("nowhere", d.0.join("dangling")).unwrap();
        fs::create_dir(d.0.join("sub")).unwrap();
        std::os::unix::fs::symlink("sub", d.0.join("dirlink")).unwrap();
        std::os::unix::net::UnixListener::bind(d.0.join("sock")).unwrap();
        let r = hash_directory(&d.0, &opts(2), &HashProgress::default()).unwrap();
        assert_eq!(r.manifest.paths(), ["in", "real.txt"]);
        assert_eq!(r.manifest.digest(0), r.manifest.digest(1));
        let codes: Vec<(&str, &str)> = r.errors.iter().map(|e| (e.relpath.as_str(), e.code.as_str())).collect();
        assert_eq!(
            codes,
            [
                ("dangling", "broken_symlink"),
                ("dirlink", "symlink_to_directory"),
                ("out", "symlink_outside"),
                ("sock", "special_file"),
            ]
        );
    }

    #[test]
    fn nfc_duplicates_are_reported_not_hashed() {
        let d = TempDir::new();
        d.write("h\u{1ed3}.pdf", b"nfc");
        d.write("ho\u{0302}\u{0300}.pdf", b"nfd");
        d.write("ok.pdf", b"ok");
        let r = hash_directory(&d.0, &opts(1), &HashProgress::default()).unwrap();
        assert_eq!(r.manifest.paths(), ["ok.pdf"]);
        assert_eq!(r.errors.len(), 2);
        assert!(r
            .errors
            .iter()
            .all(|e| e.code == FileErrorCode::DuplicateName && e.relpath == "h\u{1ed3}.pdf"));
    }

    #[test]
    fn listed_paths_are_named_relative_to_the_base() {
        let d = TempDir::new();
        let a = d.write("x/a.txt", b"a");
        d.write("x/y/b.txt", b"b");
        let outside = TempDir::new();
        let o = outside.write("o.txt", b"o");
        let paths = vec![a, PathBuf::from("x/y"), o, d.0.join("x/../x/missing")];
        let r = hash_paths(&d.0, &paths, &opts(2), &HashProgress::default()).unwrap();
        assert_eq!(r.manifest.paths(), ["x/a.txt", "x/y/b.txt"]);
        let codes: Vec<&str> = r.errors.iter().map(|e| e.code.as_str()).collect();
        assert!(
            codes.contains(&"outside_dossier") && codes.contains(&"not_found"),
            "{codes:?}"
        );
    }

    /// A reader that truncates the file it reads after the first chunk, standing in for
    /// another process truncating it mid-read.
    struct Truncating {
        file: File,
        victim: PathBuf,
        reads: u32,
    }
    impl Read for Truncating {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            self.reads += 1;
            if self.reads == 2 {
                OpenOptions::new().write(true).open(&self.victim)?.set_len(10)?;
            }
            self.file.read(buf)
        }
    }

    #[test]
    fn truncation_mid_read_is_detected() {
        let d = TempDir::new();
        let p = d.write("f", &[7u8; 100_000]);
        let file = File::open(&p).unwrap();
        let listed = FileStamp::of(&file.metadata().unwrap());
        let progress = HashProgress::default();
        let mut tally = Tally::new(&progress);
        let mut reader = Truncating {
            file: file.try_clone().unwrap(),
            victim: p.clone(),
            reads: 0,
        };
        let mut buf = vec![0u8; 4096];
        let (_, got) = hash_stream(&mut reader, listed.size, HashAlgorithm::Sha256, &mut buf, &mut tally).unwrap();
        assert_eq!(got, 4096);
        let (code, _) = check_unchanged(&listed, &file.metadata().unwrap(), got).unwrap_err();
        assert_eq!(code, FileErrorCode::ChangedWhileHashing);
    }

    #[test]
    fn growth_deletion_and_replacement_after_listing_are_detected() {
        let d = TempDir::new();
        let p = d.write("f", b"0123456789");
        let pending = Pending {
            target: None,
            dir: None,
            listed: FileStamp::of(&fs::metadata(&p).unwrap()),
        };
        let progress = HashProgress::default();
        let mut buf = vec![0u8; 4096];
        let mut tally = Tally::new(&progress);
        let a = HashAlgorithm::Sha256;
        // Grows: only the listed size is read, then the size check fails.
        OpenOptions::new()
            .append(true)
            .open(&p)
            .unwrap()
            .write_all(b"more")
            .unwrap();
        let e = hash_listed("f", &p, &pending, a, &mut buf, &mut tally).unwrap_err();
        assert_eq!(e.code, FileErrorCode::ChangedWhileHashing);
        // Deleted while open.
        let f = open_nofollow(None, None, &p).unwrap();
        fs::remove_file(&p).unwrap();
        let e = read_and_check("f", &pending.listed, f, a, &mut buf, &mut tally).unwrap_err();
        assert_eq!(e.code, FileErrorCode::DeletedWhileHashing);
        // Gone before opening.
        let e = hash_listed("f", &p, &pending, a, &mut buf, &mut tally).unwrap_err();
        assert_eq!(e.code, FileErrorCode::DeletedWhileHashing);
        // Replaced by a symlink: not followed.
        std::os::unix::fs::symlink("/etc/hostname", &p).unwrap();
        let e = hash_listed("f", &p, &pending, a, &mut buf, &mut tally).unwrap_err();
        assert_eq!(e.code, FileErrorCode::ChangedWhileHashing);
    }

    #[test]
    fn hash_file_refuses_special_files() {
        let d = TempDir::new();
        let p = d.write("f", b"abc");
        assert_eq!(
            hash_file(&p, HashAlgorithm::Sha384).unwrap(),
            (HashAlgorithm::Sha384.digest(b"abc"), 3)
        );
        assert_eq!(
            hash_file(&d.0, HashAlgorithm::Sha256).unwrap_err().code,
            FileErrorCode::SpecialFile
        );
        assert_eq!(
            hash_file(&d.0.join("nope"), HashAlgorithm::Sha256).unwrap_err().code,
            FileErrorCode::NotFound
        );
    }

    #[test]
    fn a_missing_root_is_an_error_of_the_whole_call() {
        let d = TempDir::new();
        let f = d.write("f", b"");
        assert!(matches!(
            hash_directory(&d.0.join("nope"), &opts(1), &HashProgress::default()),
            Err(DossierError::Io { .. })
        ));
        assert!(matches!(
            hash_directory(&f, &opts(1), &HashProgress::default()),
            Err(DossierError::NotADirectory { .. })
        ));
        let r = hash_directory(&d.0, &opts(1), &HashProgress::default()).unwrap();
        assert_eq!(r.manifest.paths(), ["f"]);
    }
}
