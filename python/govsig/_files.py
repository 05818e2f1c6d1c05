"""Signature files on disk: which names are signed documents, where a detached signature's
content is, and reading them in chunks ahead of the verifier."""
from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Optional

from govsig._pdf import PdfDocument, is_pdf_path
from govsig._regular import read_regular_file

__all__ = ["SIGNATURE_SUFFIXES", "detached_content_path", "is_signature_file", "read_chunks",
           "walk_signature_files"]

#: File names treated as signed documents when walking an archive.
SIGNATURE_SUFFIXES = (".p7s", ".p7m", ".p7", ".cms", ".pdf")


def detached_content_path(path: str) -> Optional[str]:
    """``X`` for ``X.p7s`` when ``X`` exists beside it."""
    if path.lower().endswith(".p7s"):
        base = path[: -len(".p7s")]
        if os.path.isfile(base):
            return base
    return None


def _read_one(path: str) -> Any:
    if is_pdf_path(path):
        # Read by the core's worker that verifies it, into a buffer it keeps.
        return PdfDocument(path=path)
    sig = read_regular_file(path, "a signature")
    cpath = detached_content_path(path)
    content = None
    if cpath is not None:
        content = read_regular_file(cpath, "a signature's content")
    return sig, content


def _ready(value: tuple[list[str], list[Any]]) -> Callable[[], tuple[list[str], list[Any]]]:
    return lambda: value


def read_chunks(
    paths: Iterable[str | os.PathLike[str]], chunk_size: int
) -> Iterator[tuple[list[str], list[Any]]]:
    """Chunks of (paths, items), the next chunk read while the caller works on this one."""

    def groups() -> Iterator[list[str]]:
        g: list[str] = []
        for p in paths:
            g.append(os.fspath(p))
            if len(g) >= chunk_size:
                yield g
                g = []
        if g:
            yield g

    def load(g: list[str]) -> tuple[list[str], list[Any]]:
        return g, [_read_one(p) for p in g]

    # The first chunk has nothing to be read ahead of, and a chunk of PDFs nothing to read
    # (the core's workers read PDFs): both are made here. The reading thread is started
    # only for a later chunk with other files: starting it and handing a chunk over cost
    # milliseconds, several per cent of verifying a chunk of small files.
    ex: Optional[ThreadPoolExecutor] = None
    try:
        pending: Optional[Callable[[], tuple[list[str], list[Any]]]] = None
        for g in groups():
            nxt: Callable[[], tuple[list[str], list[Any]]]
            if pending is None or all(is_pdf_path(p) for p in g):
                nxt = _ready(load(g))
            else:
                if ex is None:
                    ex = ThreadPoolExecutor(max_workers=1)
                nxt = ex.submit(load, g).result
            if pending is not None:
                yield pending()
            pending = nxt
        if pending is not None:
            yield pending()
    finally:
        if ex is not None:
            ex.shutdown(wait=True)


def is_signature_file(name: str) -> bool:
    """File names treated as signed documents when walking an archive."""
    return name.lower().endswith(SIGNATURE_SUFFIXES)


def walk_signature_files(root: str | os.PathLike[str]) -> list[str]:
    """Signature files under ``root``, sorted for a stable report order."""
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for n in sorted(filenames):
            if is_signature_file(n):
                found.append(os.path.join(dirpath, n))
    return found


