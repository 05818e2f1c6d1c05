"""Signed PDFs in batches: the marker that tells a batch "this item is a PDF", and the
dispatch that sends runs of PDFs and runs of CMS signatures to their core entry points while
keeping results in input order."""
from __future__ import annotations

import os
from typing import Any, Callable, Optional

from govsig import _govsig
from govsig._govsig import BatchResult, PdfResult
from govsig._regular import FileTooLarge, read_regular_file


class PdfDocument:
    """A signed PDF as an item of a batch: its bytes, or (``verify_files`` makes these for
    ``*.pdf``) its path, read by the core's worker that verifies it."""

    __slots__ = ("data", "path")

    def __init__(self, data: Optional[bytes] = None, path: Optional[str] = None) -> None:
        self.data = data
        self.path = path

    def __repr__(self) -> str:
        if self.data is None:
            return f"PdfDocument({self.path!r})"
        return f"PdfDocument({len(self.data)} bytes)"


def is_pdf_path(path: str) -> bool:
    return path.lower().endswith(".pdf")


def read_pdf(pdf: "bytes | bytearray | memoryview | str | os.PathLike[str]") -> bytes:
    """The bytes of ``pdf``: bytes as given, or the regular file at a path, refused before it
    is read when it is larger than the core reads (:class:`FileTooLarge`)."""
    if isinstance(pdf, (bytes, bytearray, memoryview)):
        return bytes(pdf)
    if isinstance(pdf, (str, os.PathLike)):
        return read_regular_file(pdf, "a PDF", _govsig.PDF_MAX_BYTES)
    raise TypeError(f"verify_pdf takes the PDF's bytes or a path, not {type(pdf).__name__}")


def verify_chunk_mixed(engine: Any, chunk: list[Any], into: BatchResult, threads: Optional[int],
                       at: Optional[int], verify_cms: Callable[[list[Any], BatchResult], None]) -> None:
    """Verify a chunk where some items are PdfDocument: each run of one kind (PDFs by path,
    read by the core's workers within its bounds; PDFs as bytes; CMS items) goes to its entry
    point, so results stay in input order."""
    def kind(item: Any) -> str:
        if not isinstance(item, PdfDocument):
            return "cms"
        return "path" if item.data is None and item.path is not None else "bytes"

    i = 0
    while i < len(chunk):
        k = kind(chunk[i])
        j = i
        while j < len(chunk) and kind(chunk[j]) == k:
            j += 1
        run = chunk[i:j]
        if k == "path":
            _govsig.pdf_verify_paths_chunk(engine, [d.path for d in run], into, threads, at)
        elif k == "bytes":
            _govsig.pdf_verify_chunk(engine, [d.data if d.data is not None else read_pdf(d.path)
                                              for d in run], into, threads, at)
        else:
            verify_cms(run, into)
        i = j


def pdf_record(r: PdfResult, path: Optional[str] = None) -> dict[str, Any]:
    """A JSON-ready summary of one PDF result."""
    rec: dict[str, Any] = {} if path is None else {"path": path}
    rec.update(
        ok=r.ok, code=r.code, reason=r.reason, revisions=r.revisions,
        signatures=[
            {
                "field": s.field, "code": s.code, "reason": s.reason, "subfilter": s.subfilter,
                "revision": s.revision, "byte_range": s.byte_range,
                "covers_whole_document": s.covers_whole_document,
                "modification": s.modification, "docmdp": s.docmdp,
                "is_doc_timestamp": s.is_doc_timestamp, "signing_reason": s.signing_reason,
                "location": s.location,
                "signer": None if s.signer is None else s.signer.subject,
            }
            for s in r.signatures
        ],
    )
    return rec
