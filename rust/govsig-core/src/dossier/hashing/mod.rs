//! Listing a dossier and hashing its files on all cores. This module schedules the work;
//! [`walk`] lists the directories and [`read`] opens and reads each file safely.
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
use std::fs::{self, File, Metadata, OpenOptions};
use std::io;
use std::os::fd::OwnedFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::thread;

use aws_lc_rs::digest::Digest;
use rayon::slice::ParallelSliceMut;

mod read;
mod walk;

use read::*;
use walk::*;

use super::algorithm::HashAlgorithm;
use super::error::{DossierError, FileError, FileErrorCode};
use super::manifest::{Manifest, Sources};
use super::relpath::push_nfc;

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
    let job = DirJob {
        path: canonical,
        prefix: Rel::default(),
    };
    lister.walk(job, true, &hasher)?;
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
    let before = fstat_of(&file).map_err(|e| err(FileErrorCode::of_io(&e), format!("cannot stat: {e}")))?;
    if !is_regular(&before) {
        return Err(err(FileErrorCode::SpecialFile, "is not a regular file".to_owned()));
    }
    let listed = FileStamp::of_stat(&before);
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

/// A file left for the largest-first pass after the walk.
#[derive(Debug)]
struct Pending {
    /// For a symlink, its (canonical, in-dossier) target, which is what is opened.
    target: Option<PathBuf>,
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

/// A file of the dossier and what became of it. Its path on disk is the root joined with
/// `rel.disk()`.
#[derive(Debug)]
struct Item {
    rel: Rel,
    state: State,
}

impl Item {
    fn failed(rel: Rel, code: FileErrorCode, message: String) -> Self {
        let error = FileError::new(rel.nfc.clone(), code, message);
        Self {
            rel,
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

    /// Hashes regular files the walk found in the directory `dir`.
    fn hash_found(&self, dir: &OwnedFd, files: Vec<Rel>, out: &mut Vec<Item>) {
        let mut tally = Tally::new(self.progress);
        self.with_buffer(|buf| {
            out.extend(
                files
                    .into_iter()
                    .map(|rel| self.hash_one_found(dir, rel, buf, &mut tally)),
            );
        });
    }

    /// Opens a file the walk found (relative to its directory), takes its identity from the
    /// open fd and hashes it now when it fits one buffer; a larger one is left for the
    /// largest-first pass.
    fn hash_one_found(&self, dir: &OwnedFd, rel: Rel, buf: &mut [u8], tally: &mut Tally<'_>) -> Item {
        use rustix::fs::{Mode, OFlags};
        // No final symlink followed (a file swapped for a symlink after listing must not
        // redirect the read), no blocking (a file swapped for a FIFO must not hang a worker).
        let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC;
        let file = match rustix::fs::openat(dir, rel.disk_name(), flags, Mode::empty()) {
            Ok(fd) => File::from(fd),
            Err(e) => {
                let error = open_error(&rel.nfc, &e.into());
                return Item {
                    rel,
                    state: State::Failed(error),
                };
            }
        };
        let st = match fstat_of(&file) {
            Ok(st) => st,
            Err(e) => return Item::failed(rel, FileErrorCode::of_io(&e), format!("cannot stat: {e}")),
        };
        if !is_regular(&st) {
            return Item::failed(
                rel,
                FileErrorCode::SpecialFile,
                "is no longer a regular file (it was replaced after it was listed)".to_owned(),
            );
        }
        let listed = FileStamp::of_stat(&st);
        if !usize::try_from(listed.size).is_ok_and(|s| s <= buf.len()) {
            // Counted in the totals when the walk is over.
            let state = State::Pending(Pending { target: None, listed });
            return Item { rel, state };
        }
        let state = match read_and_check(&rel.nfc, &listed, file, self.algorithm, buf, tally) {
            Ok(digest) => State::Hashed {
                size: listed.size,
                digest,
            },
            Err(e) => State::Failed(e),
        };
        tally.add_total(listed.size);
        tally.add_file();
        Item { rel, state }
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
        }
    }

    fn error(&mut self, relpath: impl Into<String>, code: FileErrorCode, message: String) {
        self.listing.error(relpath, code, message);
    }

    /// Walks the directory `job`, hashing the files that fit one buffer on the way.
    /// Unreadable subdirectories are per-file errors; an unreadable top is fatal when `fatal`.
    fn walk(&mut self, job: DirJob, fatal: bool, hasher: &Hasher<'_>) -> Result<(), DossierError> {
        let top = match open_directory(&job.path) {
            Ok(fd) => fd,
            Err(e) if fatal => return Err(DossierError::io(&job.path, &e)),
            Err(e) => {
                self.listing.dir_error(&job.prefix.nfc, &e);
                return Ok(());
            }
        };
        let root = self.root.as_path();
        match &self.pool {
            Some(pool) => {
                let walk = Walk {
                    root,
                    sink: Mutex::new(Listing::default()),
                    chunks: Mutex::new(Vec::new()),
                    hasher,
                };
                pool.scope(|scope| visit(scope, &walk, job, top));
                let found = walk
                    .sink
                    .into_inner()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                let chunks = walk
                    .chunks
                    .into_inner()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                let items = &mut self.listing.items;
                items.reserve_exact(chunks.iter().map(Vec::len).sum::<usize>() + found.items.len());
                chunks.into_iter().for_each(|c| items.extend(c));
                self.listing.append(found);
            }
            None => {
                let mut dirents = Vec::with_capacity(DIRENT_BUFFER);
                let mut stack = vec![(job, Some(top))];
                while let Some((job, fd)) = stack.pop() {
                    let fd = match fd.map_or_else(|| open_directory(&job.path), Ok) {
                        Ok(fd) => fd,
                        Err(e) => {
                            self.listing.dir_error(&job.prefix.nfc, &e);
                            continue;
                        }
                    };
                    let found = self.listing.list_dir(root, &fd, &job, &mut dirents);
                    hasher.hash_found(&fd, found.files, &mut self.listing.items);
                    stack.extend(found.subdirs.into_iter().map(|sub| (sub, None)));
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
        let mut rel = Rel::default();
        for component in rel_parent.iter().chain(std::iter::once(name)) {
            let Some(c) = component.to_str() else {
                return self.error(
                    shown,
                    FileErrorCode::InvalidName,
                    "the path is not valid UTF-8, so BagIt cannot record it".to_owned(),
                );
            };
            if !rel.nfc.is_empty() {
                rel = rel.into_dir();
            }
            rel = rel.child(c);
        }
        let path = parent.join(name);
        match fs::symlink_metadata(&path) {
            Ok(m) if m.is_dir() => {
                // The listed directory exists; a failure to read it is this entry's error.
                let nfc = rel.nfc.clone();
                let job = DirJob {
                    path,
                    prefix: rel.into_dir(),
                };
                if let Err(e) = self.walk(job, false, hasher) {
                    self.error(nfc, FileErrorCode::IoError, e.to_string());
                }
            }
            Ok(m) => self.listing.add_entry(&self.root, &path, rel, &m),
            Err(e) => self.error(rel.nfc, FileErrorCode::of_io(&e), format!("cannot stat: {e}")),
        }
    }

    /// Rejects names that normalise alike, hashes the pending files largest first and
    /// assembles the canonical manifest.
    fn finish(mut self, hasher: &Hasher<'_>) -> Result<HashReport, DossierError> {
        let mut items = std::mem::take(&mut self.listing.items);
        // Sorting indices, not the items themselves: an item is ~128 bytes and a sort moves
        // each one about log2(n) times.
        let mut order: Vec<usize> = (0..items.len()).collect();
        {
            let key = |i: &usize| items.get(*i).map_or(&[][..], |it| it.rel.nfc.as_bytes());
            let by_relpath = |a: &usize, b: &usize| key(a).cmp(key(b));
            match &self.pool {
                Some(pool) => pool.install(|| order.par_sort_unstable_by(by_relpath)),
                None => order.sort_unstable_by(by_relpath),
            }
        }
        // Names that normalise alike: every one of them is an error, none is hashed.
        let mut start = 0;
        while start < order.len() {
            let name = &items[order[start]].rel.nfc;
            let end = start
                + order[start..]
                    .iter()
                    .take_while(|&&i| items[i].rel.nfc == *name)
                    .count();
            if end - start > 1 {
                let sources: Vec<String> = order[start..end]
                    .iter()
                    .map(|&i| format!("{:?}", self.root.join(items[i].rel.disk()).display().to_string()))
                    .collect();
                let message = format!(
                    "{} name the same entry after Unicode NFC normalisation; rename all but one",
                    sources.join(" and ")
                );
                for &i in &order[start..end] {
                    let error = FileError::new(items[i].rel.nfc.clone(), FileErrorCode::DuplicateName, message.clone());
                    items[i].state = State::Failed(error);
                }
            }
            start = end.max(start + 1);
        }
        hash_pending(&self.root, &mut items, hasher, self.pool.as_ref(), self.threads);

        let mut errors = std::mem::take(&mut self.listing.errors);
        let w = hasher.algorithm.output_len();
        let mut paths = Vec::with_capacity(items.len());
        let mut sizes = Vec::with_capacity(items.len());
        let mut digests = Vec::with_capacity(items.len() * w);
        let mut respelled = Vec::new();
        let mut slots: Vec<Option<Item>> = items.into_iter().map(Some).collect();
        for i in order {
            let Some(item) = slots.get_mut(i).and_then(Option::take) else {
                continue;
            };
            match item.state {
                State::Hashed { size, digest } => {
                    if let Some(disk) = item.rel.disk {
                        respelled.push((paths.len(), disk));
                    }
                    paths.push(item.rel.nfc);
                    sizes.push(size);
                    digests.extend_from_slice(digest.as_ref());
                }
                State::Failed(e) => errors.push(e),
                State::Pending(_) => errors.push(FileError::new(
                    item.rel.nfc,
                    FileErrorCode::IoError,
                    "a hashing worker failed before reaching this file".to_owned(),
                )),
            }
        }
        errors.sort_by(|a, b| a.relpath.as_bytes().cmp(b.relpath.as_bytes()));
        let sources = Sources::Rooted {
            root: self.root,
            respelled,
        };
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
fn hash_pending(
    root: &Path,
    items: &mut [Item],
    hasher: &Hasher<'_>,
    pool: Option<&rayon::ThreadPool>,
    threads: usize,
) {
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
                        let source = root.join(item.rel.disk());
                        let r = hash_listed(&item.rel.nfc, &source, p, hasher.algorithm, buf, &mut tally);
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
    let file = open_nofollow(p.target.as_deref().unwrap_or(source)).map_err(|e| open_error(relpath, &e))?;
    read_and_check(relpath, &p.listed, file, algorithm, buf, tally)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dossier::relpath::to_nfc;
    use rustix::fs::FileType as RawFileType;
    use std::io::Read;
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
        let (code, _) = check_unchanged(&listed, &fstat_of(&file).unwrap(), got).unwrap_err();
        assert_eq!(code, FileErrorCode::ChangedWhileHashing);
    }

    #[test]
    fn growth_deletion_and_replacement_after_listing_are_detected() {
        let d = TempDir::new();
        let p = d.write("f", b"0123456789");
        let pending = Pending {
            target: None,
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
        let f = open_nofollow(&p).unwrap();
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

    /// A flat directory of more files than one chunk, sizes on both sides of the buffer:
    /// any thread count gives the same manifest, every digest is the file's, and the
    /// progress totals end equal to what was hashed.
    #[test]
    fn flat_directories_are_spread_over_workers_alike() {
        let d = TempDir::new();
        let n = 3 * FILES_PER_TASK + 7;
        let mut expected = Vec::new();
        for i in 0..n {
            let content: Vec<u8> = (0..(i * 97) % 9000).map(|b| (b % 251) as u8).collect();
            let name = format!("f{i:04}.bin");
            d.write(&name, &content);
            expected.push((name, HashAlgorithm::Sha256.digest(&content)));
        }
        expected.sort();
        for threads in [1, 2, 3] {
            let progress = HashProgress::default();
            let r = hash_directory(&d.0, &opts(threads), &progress).unwrap();
            assert!(r.errors.is_empty(), "{:?}", r.errors);
            let got: Vec<(String, Vec<u8>)> = (0..r.manifest.len())
                .map(|i| (r.manifest.paths()[i].clone(), r.manifest.digest(i).unwrap().to_vec()))
                .collect();
            assert_eq!(got, expected, "threads={threads}");
            let (files_done, files_total, bytes_done, bytes_total) = progress.snapshot();
            assert_eq!((files_done, files_total), (n as u64, n as u64));
            assert_eq!(
                (bytes_done, bytes_total),
                (r.manifest.total_bytes(), r.manifest.total_bytes())
            );
        }
    }

    /// Directories are opened when their turn comes, not all at once: a wide tree does not
    /// run out of file descriptors, and each file is reported where it is on disk.
    #[test]
    fn wide_trees_and_nfd_names_are_walked() {
        let d = TempDir::new();
        for i in 0..1200 {
            d.write(&format!("d{i:04}/x.txt"), format!("{i}").as_bytes());
        }
        // "hồ sơ" decomposed on disk, in a decomposed directory name too.
        let nfd_dir = "th\u{01b0}\u{0309}";
        let nfd_file = "ho\u{0302}\u{0300} so\u{031b}.pdf";
        d.write(&format!("{nfd_dir}/{nfd_file}"), b"nfd");
        for threads in [1, 2] {
            let r = hash_directory(&d.0, &opts(threads), &HashProgress::default()).unwrap();
            assert!(r.errors.is_empty(), "{:?}", r.errors);
            assert_eq!(r.manifest.len(), 1201);
            let rel = "th\u{1b0}\u{309}/h\u{1ed3} s\u{1a1}.pdf";
            let rel = to_nfc(rel);
            let i = r.manifest.index_of(&rel).unwrap();
            let sources = r.manifest.sources().unwrap();
            assert_eq!(sources[i], d.0.join(nfd_dir).join(nfd_file));
            assert_eq!(fs::read(&sources[i]).unwrap(), b"nfd");
            let j = r.manifest.index_of("d0042/x.txt").unwrap();
            assert_eq!(sources[j], d.0.join("d0042/x.txt"));
        }
    }

    /// The getdents reader and the portable one see the same entries with the same types.
    #[test]
    fn both_directory_readers_agree() {
        let d = TempDir::new();
        d.write("file.txt", b"x");
        d.write("sub/inner.txt", b"y");
        std::os::unix::fs::symlink("file.txt", d.0.join("link")).unwrap();
        std::os::unix::net::UnixListener::bind(d.0.join("sock")).unwrap();
        for i in 0..300 {
            d.write(&format!("many-{i:03}"), b"");
        }
        let collect = |use_std: bool| {
            let mut seen: Vec<(Vec<u8>, String)> = Vec::new();
            let mut push = |name: &[u8], t: io::Result<RawFileType>| seen.push((name.to_vec(), format!("{t:?}")));
            if use_std {
                read_entries_std(&d.0, &mut push).unwrap();
            } else {
                let fd = open_directory(&d.0).unwrap();
                // A small buffer: several getdents calls.
                read_entries(&fd, &d.0, &mut Vec::with_capacity(1024), &mut push).unwrap();
            }
            seen.sort();
            seen
        };
        let fast = collect(false);
        assert_eq!(fast, collect(true));
        assert_eq!(fast.len(), 304);
        let kind = |n: &str| fast.iter().find(|(k, _)| k == n.as_bytes()).map(|(_, t)| t.clone());
        assert_eq!(kind("sub").as_deref(), Some("Ok(Directory)"));
        assert_eq!(kind("link").as_deref(), Some("Ok(Symlink)"));
        assert_eq!(kind("sock").as_deref(), Some("Ok(Socket)"));
        assert_eq!(kind("file.txt").as_deref(), Some("Ok(RegularFile)"));
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
