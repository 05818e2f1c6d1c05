"""Reading a file a user named, refusing what is not a regular file before any read: a FIFO
(opening it would wait for a writer) or a device (/dev/zero: a read that never ends)."""
from __future__ import annotations

import errno
import os
import stat
from typing import BinaryIO, Optional

__all__ = ["FileTooLarge", "open_output_file", "open_regular_file", "read_regular_file"]


class FileTooLarge(ValueError):
    """A regular file larger than the bound its reader sets (its size and the bound)."""

    def __init__(self, message: str, size: int, limit: int) -> None:
        super().__init__(message)
        self.size = size
        self.limit = limit


def open_regular_file(path: "str | os.PathLike[str]", what: str) -> BinaryIO:
    """The regular file at ``path``, open for reading in binary. ``what`` names the file's role
    in the message (``"a PDF"``, ``"a signature"``). A directory raises IsADirectoryError; a
    FIFO, a device or any other kind of file raises ValueError saying which."""
    # O_NONBLOCK: opening a FIFO would wait for a writer. It changes nothing for a regular
    # file's reads.
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    f = open(fd, "rb")
    try:
        mode = os.fstat(f.fileno()).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), os.fsdecode(path))
        if not stat.S_ISREG(mode):
            kind = "a FIFO" if stat.S_ISFIFO(mode) else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) \
                else "not a regular file"
            raise ValueError(f"{os.fsdecode(path)!r} is {kind}; {what} is read from a regular file only")
    except BaseException:
        f.close()
        raise
    return f


def read_regular_file(path: "str | os.PathLike[str]", what: str, max_bytes: Optional[int] = None) -> bytes:
    """The bytes of the regular file at ``path`` (see :func:`open_regular_file`). With
    ``max_bytes``, a larger file raises :class:`FileTooLarge` before it is read (and one that
    grows past the bound while being read, after ``max_bytes + 1`` bytes)."""
    with open_regular_file(path, what) as f:
        if max_bytes is None:
            return f.read()
        size = os.fstat(f.fileno()).st_size
        data = f.read(max_bytes + 1) if size <= max_bytes else b""
        if size > max_bytes or len(data) > max_bytes:
            size = max(size, len(data))
            raise FileTooLarge(f"{os.fsdecode(path)!r} is {size} bytes; govsig reads {what} of at most "
                               f"{max_bytes} bytes", size, max_bytes)
        return data


def open_output_file(path: "str | os.PathLike[str]", what: str) -> BinaryIO:
    """``path`` opened for writing (created, or emptied), for output that streams (a report):
    a regular file, or a pipe or terminal a link may name (``/dev/stdout``, a shell's
    ``>(gzip > r.gz)``). ``what`` names the output in messages. ValueError, before anything
    is written or emptied, for a symbolic link to a regular file or to nothing (writing
    through it would overwrite, or create, the file a third party chose) and for a FIFO that
    no process reads (opening it would wait for ever)."""
    name = os.fsdecode(path)
    try:
        linked = stat.S_ISLNK(os.lstat(path).st_mode)
    except FileNotFoundError:
        linked = False
    flags = os.O_WRONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    if not linked:
        # Not a link when looked at: it must not become one before the open. (A link is
        # opened without O_CREAT: a dangling one must not create the file it names.)
        flags |= os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags, 0o666)
    except OSError as exc:
        if exc.errno == errno.ENXIO:
            raise ValueError(f"{name!r} is a FIFO that no process reads; govsig would wait for ever "
                             f"to write {what} to it") from None
        if exc.errno == errno.ELOOP or (linked and exc.errno == errno.ENOENT):
            raise ValueError(f"{name!r} is a symbolic link; govsig does not write {what} through a link "
                             f"to a file (give the file's own name)") from None
        raise
    try:
        mode = os.fstat(fd).st_mode
        if linked and not (stat.S_ISFIFO(mode) or stat.S_ISCHR(mode) or stat.S_ISSOCK(mode)):
            raise ValueError(f"{name!r} is a symbolic link to {os.path.realpath(path)!r}; govsig does not "
                             f"write {what} through a link to a file (give the file's own name, or - "
                             f"for standard output)")
        if stat.S_ISBLK(mode):
            raise ValueError(f"{name!r} is a block device; govsig writes {what} to a file")
        if stat.S_ISREG(mode):
            os.ftruncate(fd, 0)
        os.set_blocking(fd, True)
        return open(fd, "wb")
    except BaseException:
        os.close(fd)
        raise
