//! The safe reads: how a file of the dossier is opened and read so that what is hashed is
//! one real state of one regular file inside the dossier.
//!
//! - Opened without following a final symlink and without blocking: a file swapped for a
//!   symlink after listing cannot redirect the read, one swapped for a FIFO cannot hang a
//!   worker.
//! - Its identity (device, inode, size, mtime) is taken from the open fd before the read and
//!   compared after it: a file changed, truncated or replaced while hashed gets a per-file
//!   error, never a digest of no real state.

use std::fs::{File, Metadata, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::Path;

use aws_lc_rs::digest::{Context, Digest};
use rustix::fs::{FileType as RawFileType, Stat};

use super::*;

/// What identifies a file's state: if any of these differ after hashing, the bytes read
/// may not be one version of the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct FileStamp {
    pub(super) dev: u64,
    pub(super) ino: u64,
    pub(super) size: u64,
    pub(super) mtime: i64,
    pub(super) mtime_nsec: i64,
}

impl FileStamp {
    pub(super) fn of(m: &Metadata) -> Self {
        Self {
            dev: m.dev(),
            ino: m.ino(),
            size: m.len(),
            mtime: m.mtime(),
            mtime_nsec: m.mtime_nsec(),
        }
    }

    // The field types of `struct stat` differ between architectures.
    #[allow(clippy::useless_conversion, clippy::unnecessary_fallible_conversions)]
    pub(super) fn of_stat(st: &Stat) -> Self {
        Self {
            dev: u64::try_from(st.st_dev).unwrap_or(u64::MAX),
            ino: u64::try_from(st.st_ino).unwrap_or(u64::MAX),
            size: u64::try_from(st.st_size).unwrap_or(u64::MAX),
            mtime: i64::try_from(st.st_mtime).unwrap_or(i64::MAX),
            mtime_nsec: i64::try_from(st.st_mtime_nsec).unwrap_or(i64::MAX),
        }
    }
}

/// fstat(2) on an open file. Cheaper than `File::metadata` (statx with more fields), which
/// matters at two calls per file on dossiers of small files.
pub(super) fn fstat_of(file: &File) -> io::Result<Stat> {
    rustix::fs::fstat(file).map_err(io::Error::from)
}

pub(super) fn is_regular(st: &Stat) -> bool {
    RawFileType::from_raw_mode(st.st_mode) == RawFileType::RegularFile
}

/// Opens by full path without following a final symlink (a file swapped for a symlink after
/// listing must not redirect the read; a swapped parent is caught by the identity check)
/// and without blocking (a file swapped for a FIFO must not hang the worker).
pub(super) fn open_nofollow(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path)
}

pub(super) fn open_error(relpath: &str, e: &io::Error) -> FileError {
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
pub(super) fn read_and_check(
    relpath: &str,
    listed: &FileStamp,
    mut file: File,
    algorithm: HashAlgorithm,
    buf: &mut [u8],
    tally: &mut Tally<'_>,
) -> Result<Digest, FileError> {
    let err = |code, message: String| FileError::new(relpath.to_owned(), code, message);
    let read = hash_stream(&mut file, listed.size, algorithm, buf, tally);
    let after =
        fstat_of(&file).map_err(|e| err(FileErrorCode::of_io(&e), format!("cannot stat after reading: {e}")))?;
    if !is_regular(&after) {
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
pub(super) fn hash_stream<R: Read>(
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

pub(super) fn check_unchanged(listed: &FileStamp, after: &Stat, read: u64) -> Result<(), (FileErrorCode, String)> {
    if after.st_nlink == 0 {
        return Err((
            FileErrorCode::DeletedWhileHashing,
            "was deleted while it was being hashed".to_owned(),
        ));
    }
    let now = FileStamp::of_stat(after);
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
