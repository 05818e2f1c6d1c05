"""Reading a file a user named, refusing what is not a regular file before any read: a FIFO
(opening it would wait for a writer) or a device (/dev/zero: a read that never ends)."""
from __future__ import annotations

import errno
import os
import stat

__all__ = ["read_regular_file"]


def read_regular_file(path: "str | os.PathLike[str]", what: str) -> bytes:
    """The bytes of the regular file at ``path``. ``what`` names the file's role in the
    message (``"a PDF"``, ``"a signature"``). A directory raises IsADirectoryError; a FIFO,
    a device or any other kind of file raises ValueError saying which."""
    # O_NONBLOCK: opening a FIFO would wait for a writer. It changes nothing for a regular
    # file's reads.
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    with open(fd, "rb") as f:
        mode = os.fstat(f.fileno()).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), os.fsdecode(path))
        if not stat.S_ISREG(mode):
            kind = "a FIFO" if stat.S_ISFIFO(mode) else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) \
                else "not a regular file"
            raise ValueError(f"{os.fsdecode(path)!r} is {kind}; {what} is read from a regular file only")
        return f.read()
