"""The archive walk: a stream of entries in a deterministic order, in flat memory.

Each defensive choice here stops a way an archive can break or fool a long job:

- Names are handled as bytes (``os.scandir`` on a bytes path), so a name that is not UTF-8,
  or holds a newline, is listed, read and reported like any other instead of aborting.
- The walk is depth-first with one sorted directory listing per level on a stack: memory grows
  with the depth and the widest directory, never with the size of the archive, and two runs
  over the same tree list the same entries in the same order (what resume relies on).
- Symbolic links are not followed unless asked; when they are, a link back into a folder being
  walked is reported (``file_symlink_loop``) instead of recursing forever, and a folder is
  entered through links once (``file_skipped`` the other times): links can make 2**n paths to
  n folders without any loop. A folder is still walked by its own path, and once through a
  link. (A subtree walked apart, on a Dask worker, remembers the links it followed itself.)
- Nothing that is not a regular file is read: FIFOs (an open would block), devices
  (``/dev/zero`` never ends), sockets. They still come out as entries with a code, so nothing
  disappears from the report silently.
- Reading opens with ``O_NONBLOCK | O_NOFOLLOW`` and checks ``fstat`` is a regular file before
  reading, so an entry swapped for a FIFO or a link between listing and reading cannot make
  the job block or read somewhere else.
"""
from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from typing import NamedTuple, Optional, Union, cast

from govsig._files import SIGNATURE_SUFFIXES


__all__ = ["Entry", "Subtree", "walk", "walk_split", "walk_subtree", "read_regular", "read_document",
           "ReadRefused"]


class Entry(NamedTuple):
    """One archive entry: a document to read (``code is None``) or an entry that will not be
    read, with the outcome code and reason its report line carries."""

    path: bytes
    code: Optional[str] = None
    reason: str = ""
    size: Optional[int] = None


class Subtree(NamedTuple):
    """A folder :func:`walk_split` did not descend into: :func:`walk_subtree` lists the
    entries the whole walk would have listed there, in the same order, elsewhere (on a
    Dask worker). ``ancestors`` are the (device, inode) of the folders above it and of itself,
    so a symbolic link back into any of them is still reported as a loop."""

    path: bytes
    ancestors: frozenset[tuple[int, int]]


# Names treated as signed documents (govsig._files.is_signature_file, as bytes).
_SUFFIXES = tuple(s.encode() for s in SIGNATURE_SUFFIXES)


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISDIR(mode):
        return "a directory"
    return "not a regular file"


def _listing(d: bytes) -> list[os.DirEntry[bytes]]:
    with os.scandir(d) as it:
        return sorted(it, key=lambda e: e.name)


def walk(roots: list[bytes], *, follow_symlinks: bool = False) -> Iterator[Entry]:
    """Entries under each root in turn, names sorted bytewise within each folder. A root that
    is a file is itself a document."""
    return cast(Iterator[Entry], _walk(roots, follow_symlinks, None))


def walk_split(roots: list[bytes], *, follow_symlinks: bool = False, depth: int = 1) -> Iterator[Union[Entry, Subtree]]:
    """The walk down to ``depth`` levels of folders below each root: the entries found on the
    way, and a :class:`Subtree` in place of each folder ``depth`` levels down, in walk order.
    The entries of each subtree (:func:`walk_subtree`) spliced in place of it give
    :func:`walk` exactly. Memory and time grow with the folders listed, not the archive."""
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 1:
        raise ValueError(f"depth must be a positive int, not {depth!r}")
    return _walk(roots, follow_symlinks, depth)


def walk_subtree(sub: Subtree, *, follow_symlinks: bool = False) -> Iterator[Entry]:
    """The entries :func:`walk` lists inside ``sub`` (the folder itself excluded), in order.
    The folder may have changed since it was listed: gone, it is one ``file_vanished`` entry,
    as a folder disappearing during the walk is."""
    path = sub.path
    try:
        st = os.stat(path) if follow_symlinks else os.lstat(path)
        if not stat.S_ISDIR(st.st_mode):
            raise FileNotFoundError(errno.ENOENT, "not a folder any more")
        listing = _listing(path)
    except FileNotFoundError:
        yield Entry(path, "file_vanished", "the folder disappeared while it was walked")
        return
    except OSError as err:
        yield Entry(path, "file_unreadable", f"cannot list the folder: {err.strerror}")
        return
    yield from cast(Iterator[Entry], _walk_dir(path, st, follow_symlinks, None, listing, sub.ancestors))


def _walk(roots: list[bytes], follow_symlinks: bool, depth: Optional[int]) -> Iterator[Union[Entry, Subtree]]:
    for root in roots:
        try:
            st = os.stat(root)
        except OSError as e:
            yield Entry(root, "file_unreadable", f"cannot open the folder: {e.strerror}")
            continue
        if stat.S_ISREG(st.st_mode):
            yield Entry(root, size=st.st_size)
            continue
        if not stat.S_ISDIR(st.st_mode):
            yield Entry(root, "file_skipped", f"{_kind(st.st_mode)}, not read")
            continue
        try:
            first = _listing(root)
        except OSError as e:
            yield Entry(root, "file_unreadable", f"cannot list the folder: {e.strerror}")
            continue
        yield from _walk_dir(root, st, follow_symlinks, depth, first, frozenset())


def _is_document(name: bytes, path: bytes) -> bool:
    """A signature file, or a signed PDF unless it is the detached content of an X.pdf.p7s
    beside it (then it is read only as that signature's content)."""
    low = name.lower()
    if not low.endswith(_SUFFIXES):
        return False
    return not (low.endswith(b".pdf") and os.path.lexists(path + b".p7s"))


def _walk_dir(root: bytes, root_st: os.stat_result, follow: bool, depth: Optional[int],
              first: list[os.DirEntry[bytes]], above: frozenset[tuple[int, int]]) -> Iterator[Union[Entry, Subtree]]:
    # (listing iterator, the folder's (dev, inode)); the set holds the folders on the stack,
    # and those above the root when it is a subtree walked on its own.
    stack: list[tuple[Iterator[os.DirEntry[bytes]], tuple[int, int]]] = [
        (iter(first), (root_st.st_dev, root_st.st_ino))
    ]
    ancestors = set(above) | {(root_st.st_dev, root_st.st_ino)}
    # The folders entered through a link so far: two links to the next folder in each of n
    # folders make 2**n paths without any loop; each folder is entered through links once.
    linked: set[tuple[int, int]] = set()
    while stack:
        it, key = stack[-1]
        nxt = next(it, None)
        if nxt is None:
            stack.pop()
            ancestors.discard(key)
            continue
        de = nxt
        path = de.path
        # The common case, from the directory entry's type alone (no stat call).
        if de.is_file(follow_symlinks=False) and not de.is_symlink():
            if _is_document(de.name, path):
                yield Entry(path)
            continue
        try:
            if de.is_symlink():
                if not follow:
                    yield Entry(path, "file_skipped", "a symbolic link, not followed (pass --follow-symlinks)")
                    continue
                try:
                    st = os.stat(path)
                except FileNotFoundError:
                    yield Entry(path, "file_unreadable", "a dangling symbolic link (its target does not exist)")
                    continue
                except OSError as err:
                    if err.errno == errno.ELOOP:
                        yield Entry(path, "file_symlink_loop", "a symbolic link that loops")
                    else:
                        yield Entry(path, "file_unreadable", f"cannot follow the symbolic link: {err.strerror}")
                    continue
            else:
                st = de.stat(follow_symlinks=False)
        except FileNotFoundError:
            yield Entry(path, "file_vanished", "disappeared while the folder was walked")
            continue
        except OSError as err:
            yield Entry(path, "file_unreadable", f"cannot stat: {err.strerror}")
            continue
        mode = st.st_mode
        if stat.S_ISDIR(mode):
            dkey = (st.st_dev, st.st_ino)
            if dkey in ancestors:
                yield Entry(path, "file_symlink_loop", "a symbolic link back into a folder being walked")
                continue
            if de.is_symlink():
                if dkey in linked:
                    yield Entry(path, "file_skipped",
                                "a symbolic link to a folder already walked through another link, not walked again")
                    continue
                linked.add(dkey)
            if depth is not None and len(stack) >= depth:
                yield Subtree(path, frozenset(ancestors | {dkey}))
                continue
            try:
                listing = _listing(path)
            except FileNotFoundError:
                yield Entry(path, "file_vanished", "the folder disappeared while it was walked")
                continue
            except OSError as err:
                yield Entry(path, "file_unreadable", f"cannot list the folder: {err.strerror}")
                continue
            stack.append((iter(listing), dkey))
            ancestors.add(dkey)
        elif stat.S_ISREG(mode):
            # Other regular files (detached content beside X.p7s, anything else) are not
            # documents; they are read only as the content of their signature.
            if _is_document(de.name, path):
                yield Entry(path, size=st.st_size)
        else:
            yield Entry(path, "file_skipped", f"{_kind(mode)}, not read")


class ReadRefused(Exception):
    """An entry that was listed as a regular file but cannot be read as one."""

    def __init__(self, code: str, reason: str, size: Optional[int] = None,
                 signature: Optional[bytes] = None) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason
        self.size = size
        # For a detached signature whose content could not be read: the signature, which was.
        self.signature = signature


_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)


def read_regular(path: bytes, max_size: Optional[int], follow_symlinks: bool) -> bytes:
    """The bytes of the regular file at ``path``, or ReadRefused with the entry's code."""
    flags = _OPEN_FLAGS | (0 if follow_symlinks else getattr(os, "O_NOFOLLOW", 0))
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise ReadRefused("file_vanished", "disappeared before it could be read") from None
    except OSError as e:
        if e.errno == errno.ELOOP:
            if follow_symlinks:
                raise ReadRefused("file_symlink_loop", "a symbolic link that loops") from None
            raise ReadRefused("file_vanished", "replaced by a symbolic link before it could be read") from None
        raise ReadRefused("file_unreadable", f"cannot open: {e.strerror}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise ReadRefused("file_skipped", f"{_kind(st.st_mode)} (changed since it was listed), not read")
        if max_size is not None and st.st_size > max_size:
            raise ReadRefused("file_too_large", f"{st.st_size} bytes, more than --max-size {max_size}", st.st_size)
        limit = st.st_size + 1 if max_size is None else max_size + 1
        parts = []
        got = 0
        while True:
            b = os.read(fd, max(1 << 16, min(limit - got, 1 << 24)))
            if not b:
                break
            parts.append(b)
            got += len(b)
            if max_size is not None and got > max_size:
                raise ReadRefused("file_too_large", f"grew past --max-size {max_size} while read", got)
        return b"".join(parts)
    except OSError as e:
        raise ReadRefused("file_unreadable", f"cannot read: {e.strerror}") from None
    finally:
        os.close(fd)


def read_document(path: bytes, max_size: Optional[int], follow_symlinks: bool) -> tuple[bytes, Optional[bytes]]:
    """(signature, detached content or None) of the document at ``path``: ``X.p7s`` with a
    regular file ``X`` beside it is a detached signature over ``X``, read with the same
    rules. ReadRefused (its code and reason) when either cannot be read."""
    sig = read_regular(path, max_size, follow_symlinks)
    if not path.lower().endswith(b".p7s"):
        return sig, None
    base = path[:-4]
    try:
        st = os.stat(base) if follow_symlinks else os.lstat(base)
    except OSError:
        return sig, None
    if not stat.S_ISREG(st.st_mode):
        return sig, None
    try:
        return sig, read_regular(base, max_size, follow_symlinks)
    except ReadRefused as r:
        raise ReadRefused(r.code, f"detached content {os.fsdecode(base)!r}: {r.reason}", len(sig), sig) from None
