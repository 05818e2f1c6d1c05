//! Listing a dossier and hashing its files on all cores.
//!
//! Listing records each file's identity (device, inode, size, mtime). Workers then take files
//! largest first from a shared cursor (so the big ones do not end up alone at the tail), read
//! each through one reusable buffer per worker (memory stays flat whatever the file sizes)
//! and compare the file's identity after hashing with the one listed: a file that changed in
//! between gets a per-file error instead of a digest of no real state.

use std::cmp::Reverse;
use std::fs::{self, File, FileType, Metadata, OpenOptions};
use std::io::{self, Read};
use std::os::fd::OwnedFd;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;

use aws_lc_rs::digest::Context;

use super::algorithm::HashAlgorithm;
use super::error::{DossierError, FileError, FileErrorCode};
use super::manifest::{Manifest, ManifestEntry};
use super::relpath::to_nfc;

/// Per-worker read buffer: large enough that syscalls are a small share of the time, small
/// enough to stay in a core's L2 cache while it is hashed.
pub const DEFAULT_BUFFER_SIZE: usize = 256 * 1024;

/// Progress counters are flushed to the shared atomics at most this often, so thousands of
/// tiny files do not turn into a contended cache line.
const FLUSH_BYTES: u64 = 4 << 20;
const FLUSH_FILES: u64 = 256;

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

/// Counters another thread can read while hashing runs (for a progress bar). Totals are set
/// once listing is done.
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
    let mut lister = Lister::new(canonical.clone(), options);
    lister.walk(&canonical, String::new(), true)?;
    lister.hash(options, progress)
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
    let mut lister = Lister::new(canonical, options);
    for p in paths {
        let p = if p.is_absolute() { p.clone() } else { base.join(p) };
        lister.add_listed(&p);
    }
    lister.hash(options, progress)
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
    let candidate = Candidate {
        relpath: name.clone(),
        target: None,
        dir: None,
        source: path.to_path_buf(),
        listed,
    };
    let digest = read_and_check(&candidate, file, algorithm, &mut buf, &mut tally)?;
    Ok((digest, listed.size))
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

#[derive(Debug)]
struct Candidate {
    /// NFC relpath.
    relpath: String,
    /// For a symlink, its (canonical, in-dossier) target, which is what is opened.
    target: Option<PathBuf>,
    /// The listing's fd of the file's directory, when one was kept: opening relative to it
    /// spares the kernel a walk of the whole path for every small file.
    dir: Option<Arc<OwnedFd>>,
    /// The path as listed (reported to the caller, e.g. to copy the payload).
    source: PathBuf,
    listed: FileStamp,
}

/// What listing found: files to hash and entries that cannot be.
#[derive(Default)]
struct Listing {
    candidates: Vec<Candidate>,
    errors: Vec<FileError>,
}

impl Listing {
    fn error(&mut self, relpath: impl Into<String>, code: FileErrorCode, message: String) {
        self.errors.push(FileError::new(relpath, code, message));
    }

    fn append(&mut self, mut other: Listing) {
        self.candidates.append(&mut other.candidates);
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

    /// Lists one directory (relpath `prefix`, with a trailing `/` or empty for the root) and
    /// returns its subdirectories to visit.
    fn list_dir(&mut self, root: &Path, dir: DirHandle, prefix: &str) -> Vec<(PathBuf, String)> {
        let DirHandle { entries, fd } = dir;
        let mut subdirs = Vec::new();
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
            let rel = format!("{prefix}{}", to_nfc(name));
            match entry.file_type() {
                Ok(t) if t.is_dir() => subdirs.push((entry.path(), rel + "/")),
                // DirEntry::metadata is an fstatat relative to the directory: no path walk.
                Ok(t) => match entry.metadata() {
                    Ok(m) => self.add_entry(root, entry.path(), rel, t, &m, fd.clone()),
                    Err(e) => self.listing_error(rel, &e),
                },
                Err(e) => self.listing_error(rel, &e),
            }
        }
        subdirs
    }

    /// A non-directory entry (`meta` is from lstat).
    fn add_entry(
        &mut self,
        root: &Path,
        path: PathBuf,
        relpath: String,
        ftype: FileType,
        meta: &Metadata,
        dir: Option<Arc<OwnedFd>>,
    ) {
        if ftype.is_file() {
            self.candidates.push(Candidate {
                relpath,
                target: None,
                dir,
                source: path,
                listed: FileStamp::of(meta),
            });
        } else if ftype.is_symlink() {
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
            Ok(m) if m.is_file() => self.candidates.push(Candidate {
                relpath,
                target: Some(target),
                dir: None,
                source: path,
                listed: FileStamp::of(&m),
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

/// Lists `dir` (the directory `prefix`) and, through the pool, every directory below.
fn visit<'s>(
    scope: &rayon::Scope<'s>,
    root: &'s Path,
    sink: &'s Mutex<Listing>,
    budget: &'s AtomicUsize,
    dir: DirHandle,
    prefix: String,
) {
    let mut local = Listing::default();
    let subdirs = local.list_dir(root, dir, &prefix);
    lock(sink).append(local);
    for (path, prefix) in subdirs {
        scope.spawn(move |scope| match open_dir(&path, budget) {
            Ok(dir) => visit(scope, root, sink, budget, dir, prefix),
            Err(e) => lock(sink).dir_error(&prefix, &e),
        });
    }
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

    /// Walks `dir`, whose relpath (with a trailing `/`, or empty for the root) is `prefix`.
    /// Unreadable subdirectories are per-file errors; an unreadable top is fatal when `fatal`.
    fn walk(&mut self, dir: &Path, prefix: String, fatal: bool) -> Result<(), DossierError> {
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
                let sink = Mutex::new(Listing::default());
                pool.scope(|scope| visit(scope, root, &sink, budget, top, prefix));
                let found = sink.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner);
                self.listing.append(found);
            }
            None => {
                let mut stack = self.listing.list_dir(root, top, &prefix);
                while let Some((dir, prefix)) = stack.pop() {
                    match open_dir(&dir, budget) {
                        Ok(handle) => stack.extend(self.listing.list_dir(root, handle, &prefix)),
                        Err(e) => self.listing.dir_error(&prefix, &e),
                    }
                }
            }
        }
        Ok(())
    }

    /// One caller-listed path: named relative to the root through its canonical parent, so
    /// `..` or a symlinked parent cannot smuggle in a file from outside.
    fn add_listed(&mut self, path: &Path) {
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
                if let Err(e) = self.walk(&path, rel.clone() + "/", false) {
                    self.error(rel, FileErrorCode::IoError, e.to_string());
                }
            }
            Ok(m) => self.listing.add_entry(&self.root, path, rel, m.file_type(), &m, None),
            Err(e) => self.error(rel, FileErrorCode::of_io(&e), format!("cannot stat: {e}")),
        }
    }

    /// Rejects names that normalise alike, then hashes the rest.
    fn hash(mut self, options: &HashOptions, progress: &HashProgress) -> Result<HashReport, DossierError> {
        let mut candidates = std::mem::take(&mut self.listing.candidates);
        candidates.sort_unstable_by(|a, b| a.relpath.as_bytes().cmp(b.relpath.as_bytes()));
        let mut unique = Vec::with_capacity(candidates.len());
        let mut sorted = candidates.into_iter().peekable();
        while let Some(first) = sorted.next() {
            let mut group = vec![first];
            while let Some(next) = sorted.next_if(|n| n.relpath == group[0].relpath) {
                group.push(next);
            }
            if group.len() == 1 {
                unique.append(&mut group);
                continue;
            }
            let sources: Vec<String> = group
                .iter()
                .map(|c| format!("{:?}", c.source.display().to_string()))
                .collect();
            for c in group {
                self.listing.errors.push(FileError::new(
                    c.relpath,
                    FileErrorCode::DuplicateName,
                    format!(
                        "{} name the same entry after Unicode NFC normalisation; rename all but one",
                        sources.join(" and ")
                    ),
                ));
            }
        }
        let results = hash_candidates(&unique, options, progress, self.pool.as_ref(), self.threads);
        let mut entries = Vec::with_capacity(unique.len());
        for (c, r) in unique.into_iter().zip(results) {
            match r {
                Ok(digest) => entries.push(ManifestEntry {
                    relpath: c.relpath,
                    size: c.listed.size,
                    digest,
                    source: Some(c.source),
                }),
                Err(e) => self.listing.errors.push(e),
            }
        }
        let mut errors = self.listing.errors;
        errors.sort_by(|a, b| a.relpath.as_bytes().cmp(b.relpath.as_bytes()));
        Ok(HashReport {
            manifest: Manifest::from_entries(options.algorithm, entries)?,
            errors,
        })
    }
}

/// Local progress, flushed to the shared counters in batches.
struct Tally<'a> {
    shared: &'a HashProgress,
    bytes: u64,
    files: u64,
}

impl<'a> Tally<'a> {
    fn new(shared: &'a HashProgress) -> Self {
        Self {
            shared,
            bytes: 0,
            files: 0,
        }
    }
    fn add_bytes(&mut self, n: u64) {
        self.bytes += n;
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
        self.shared.bytes_done.fetch_add(self.bytes, Ordering::Relaxed);
        self.shared.files_done.fetch_add(self.files, Ordering::Relaxed);
        self.bytes = 0;
        self.files = 0;
    }
}

impl Drop for Tally<'_> {
    fn drop(&mut self) {
        self.flush();
    }
}

fn hash_candidates(
    candidates: &[Candidate],
    options: &HashOptions,
    progress: &HashProgress,
    pool: Option<&rayon::ThreadPool>,
    threads: usize,
) -> Vec<Result<Vec<u8>, FileError>> {
    let n = candidates.len();
    let total_bytes = candidates.iter().fold(0u64, |a, c| a.saturating_add(c.listed.size));
    progress
        .files_total
        .store(u64::try_from(n).unwrap_or(u64::MAX), Ordering::Relaxed);
    progress.bytes_total.store(total_bytes, Ordering::Relaxed);

    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by_key(|&i| Reverse(candidates[i].listed.size));
    let cursor = AtomicUsize::new(0);
    let buffer_size = options.buffer_size.max(4096);
    let algorithm = options.algorithm;

    let worker = || {
        let mut buf = vec![0u8; buffer_size];
        let mut tally = Tally::new(progress);
        let mut done = Vec::new();
        while let Some(&i) = order.get(cursor.fetch_add(1, Ordering::Relaxed)) {
            let c = &candidates[i];
            let r = open_payload(c).and_then(|f| read_and_check(c, f, algorithm, &mut buf, &mut tally));
            tally.add_file();
            done.push((i, r));
        }
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
    let mut slots: Vec<Option<Result<Vec<u8>, FileError>>> = (0..n).map(|_| None).collect();
    for (i, r) in finished.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner) {
        if let Some(slot) = slots.get_mut(i) {
            *slot = Some(r);
        }
    }
    slots
        .into_iter()
        .zip(candidates)
        .map(|(slot, c)| {
            slot.unwrap_or_else(|| {
                Err(FileError::new(
                    c.relpath.clone(),
                    FileErrorCode::IoError,
                    "a hashing worker failed before reaching this file".to_owned(),
                ))
            })
        })
        .collect()
}

/// Opens without following a final symlink (a file swapped for a symlink after listing
/// must not redirect the read) and without blocking (a file swapped for a FIFO must not
/// hang the worker).
fn open_payload(c: &Candidate) -> Result<File, FileError> {
    let err = |code, message: String| FileError::new(c.relpath.clone(), code, message);
    let opened = match (&c.dir, &c.target, c.source.file_name()) {
        (Some(dir), None, Some(name)) => {
            use rustix::fs::{Mode, OFlags};
            let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC;
            rustix::fs::openat(dir.as_ref(), name, flags, Mode::empty())
                .map(File::from)
                .map_err(io::Error::from)
        }
        _ => OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
            .open(c.target.as_ref().unwrap_or(&c.source)),
    };
    opened.map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => err(
            FileErrorCode::DeletedWhileHashing,
            "was deleted after it was listed".to_owned(),
        ),
        _ if e.raw_os_error() == Some(libc::ELOOP) => err(
            FileErrorCode::ChangedWhileHashing,
            "was replaced by a symlink after it was listed".to_owned(),
        ),
        _ => err(FileErrorCode::of_io(&e), format!("cannot open: {e}")),
    })
}

/// Hashes the open file and checks it is still the file listed, unmodified.
fn read_and_check(
    c: &Candidate,
    mut file: File,
    algorithm: HashAlgorithm,
    buf: &mut [u8],
    tally: &mut Tally<'_>,
) -> Result<Vec<u8>, FileError> {
    let err = |code, message: String| FileError::new(c.relpath.clone(), code, message);
    let read = hash_stream(&mut file, c.listed.size, algorithm, buf, tally);
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
    check_unchanged(&c.listed, &after, got).map_err(|(code, m)| err(code, m))?;
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
) -> io::Result<(Vec<u8>, u64)> {
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
    Ok((ctx.finish().as_ref().to_vec(), total))
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
        let listed = FileStamp::of(&fs::metadata(&p).unwrap());
        let c = Candidate {
            relpath: "f".into(),
            target: None,
            dir: None,
            source: p.clone(),
            listed,
        };
        let progress = HashProgress::default();
        let mut buf = vec![0u8; 4096];
        // Grows: only the listed size is read, then the size check fails.
        OpenOptions::new()
            .append(true)
            .open(&p)
            .unwrap()
            .write_all(b"more")
            .unwrap();
        let mut tally = Tally::new(&progress);
        let e = open_payload(&c)
            .and_then(|f| read_and_check(&c, f, HashAlgorithm::Sha256, &mut buf, &mut tally))
            .unwrap_err();
        assert_eq!(e.code, FileErrorCode::ChangedWhileHashing);
        // Deleted while open.
        let f = open_payload(&c).unwrap();
        fs::remove_file(&p).unwrap();
        let e = read_and_check(&c, f, HashAlgorithm::Sha256, &mut buf, &mut tally).unwrap_err();
        assert_eq!(e.code, FileErrorCode::DeletedWhileHashing);
        // Gone before opening.
        assert_eq!(open_payload(&c).unwrap_err().code, FileErrorCode::DeletedWhileHashing);
        // Replaced by a symlink: not followed.
        std::os::unix::fs::symlink("/etc/hostname", &p).unwrap();
        assert_eq!(open_payload(&c).unwrap_err().code, FileErrorCode::ChangedWhileHashing);
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
