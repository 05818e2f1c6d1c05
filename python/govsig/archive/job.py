"""The archive job runner: walk, read, verify in chunks, journal, report.

Three stages overlap: a reader thread walks the archive, drops what the journal already holds,
and reads and hashes the next chunk while the main thread verifies the current one (on govsig's
own threads, GIL released) and commits its lines to the journal in one transaction.
"""
from __future__ import annotations

import hashlib
import logging
import queue
import sqlite3
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Optional, TextIO, Union

from govsig._verifier import Verifier
from govsig.archive.journal import Journal
from govsig._govsig import BatchResult, PdfResult
from govsig.archive.report import LineMaker
from govsig.archive.walk import Entry, ReadRefused, read_document, walk

__all__ = ["ArchiveJob", "JobSummary", "JobProgress", "ReportRow"]

log = logging.getLogger("govsig.archive")

# (seq, entry, size, sha256 hex, signature, content) for a document read; for an entry not
# verified: (seq, entry, size, sha256 or None, None, None) with the entry carrying the code.
def _is_pdf(path: bytes) -> bool:
    return path.lower().endswith(b".pdf")


_Item = tuple[int, Entry, Optional[int], Optional[str], Optional[bytes], Optional[bytes]]

#: One entry's report row as :meth:`ArchiveJob.run` hands it to ``row_sink``: (path, sequence
#: number, code, ok, revocation_status, line).
ReportRow = tuple[bytes, int, str, bool, str, str]


@dataclass
class JobSummary:
    """What a job (or the part of it done so far) found."""

    counts: dict[str, int] = field(default_factory=dict)
    revocation: dict[str, int] = field(default_factory=dict)
    total: int = 0
    this_run: int = 0
    elapsed: float = 0.0
    interrupted: bool = False

    @property
    def all_ok(self) -> bool:
        return self.total > 0 and self.counts.get("ok", 0) == self.total


class JobProgress:
    """Progress of a long job: a redrawn counter on a terminal, otherwise an INFO log line
    every ``interval`` seconds (a log file or a CI console gets lines, not carriage returns)."""

    def __init__(self, stream: Optional[TextIO] = None, *, enabled: bool = True, interval: float = 10.0) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.tty = enabled and self.stream.isatty()
        self.enabled = enabled
        self.interval = interval
        self.start = time.monotonic()
        self._last = self.start
        self.done = 0

    def update(self, n: int, skipped: int = 0) -> None:
        self.done += n
        if not self.enabled:
            return
        now = time.monotonic()
        rate = self.done / max(now - self.start, 1e-9)
        if self.tty:
            if now - self._last >= 0.1:
                self._last = now
                self.stream.write(f"\r{self.done:,} entries  {rate:,.0f}/s")
                self.stream.flush()
        elif now - self._last >= self.interval:
            self._last = now
            log.info("%d entries done in this run (%.0f/s)", self.done, rate)

    def close(self) -> None:
        if self.enabled and self.tty:
            self.stream.write("\n")
            self.stream.flush()


class _Stop(Exception):
    pass


class ArchiveJob:
    """Verifies every document under ``roots`` (bytes paths), one report line per entry.

    ``sink(text)`` receives each line in walk order when there is no journal;
    with a journal, lines go to it and :meth:`lines` gives them back in order at the end.
    ``row_sink(rows)`` receives each chunk's :data:`ReportRow` list, in order, as made (for a
    caller that wants the code and status of each line without parsing it again).
    ``line_maker`` makes the lines (default: ``LineMaker(context, policy.revocation)``).
    ``digests=False`` skips the SHA-256 of each document read (its line's ``sha256`` is then
    empty): for a caller that keeps only verdicts.
    """

    def __init__(self, verifier: Verifier, roots: list[bytes], *, context: dict[str, Any],
                 journal: Optional[Journal] = None, follow_symlinks: bool = False,
                 max_size: Optional[int] = None, workers: Optional[int] = None, chunk_size: int = 512,
                 progress: Optional[JobProgress] = None,
                 sink: Optional[Callable[[str], None]] = None,
                 row_sink: Optional[Callable[[list[ReportRow]], None]] = None,
                 line_maker: Optional[LineMaker] = None, digests: bool = True) -> None:
        self.verifier = verifier
        self.roots = roots
        self.context = context
        self.journal = journal
        self.follow = follow_symlinks
        self.max_size = max_size
        self.workers = workers
        self.chunk_size = chunk_size
        self.progress = progress
        self.sink = sink
        self.row_sink = row_sink
        self.digests = digests
        self.mode = verifier.policy.revocation
        self.lines = line_maker if line_maker is not None else LineMaker(context, self.mode)

    # -- reader thread ---------------------------------------------------------------------

    def _read(self, e: Entry) -> tuple[Optional[int], Optional[str], Optional[bytes], Optional[bytes], Entry]:
        try:
            sig, content = read_document(e.path, self.max_size, self.follow)
        except ReadRefused as r:
            if r.signature is not None:  # the signature was read, its detached content not
                digest = hashlib.sha256(r.signature).hexdigest() if self.digests else ""
                return len(r.signature), digest, None, None, Entry(e.path, r.code, r.reason)
            return r.size if r.size is not None else e.size, None, None, None, Entry(e.path, r.code, r.reason)
        return len(sig), hashlib.sha256(sig).hexdigest() if self.digests else "", sig, content, e

    def _chunks(self, stop: threading.Event, entries: Optional[Iterable[Entry]]) -> Iterator[list[_Item]]:
        conn = None
        if self.journal is not None:
            conn = sqlite3.connect(self.journal.path, check_same_thread=False)
        if entries is None:
            entries = walk(self.roots, follow_symlinks=self.follow)
        try:
            group: list[tuple[int, Entry]] = []
            for seq, e in enumerate(entries):
                group.append((seq, e))
                if len(group) >= self.chunk_size:
                    yield self._prepare(group, conn, stop)
                    group = []
            if group:
                yield self._prepare(group, conn, stop)
        finally:
            if conn is not None:
                conn.close()

    def _prepare(self, group: list[tuple[int, Entry]], conn: Optional[sqlite3.Connection],
                 stop: threading.Event) -> list[_Item]:
        if conn is not None:
            q = "SELECT path FROM results WHERE path IN (%s)" % ",".join("?" * len(group))
            done = {bytes(r[0]) for r in conn.execute(q, [e.path for _, e in group])}
            if done:
                group = [(s, e) for s, e in group if e.path not in done]
        out: list[_Item] = []
        for seq, e in group:
            if stop.is_set():
                raise _Stop()
            if e.code is not None:
                out.append((seq, e, e.size, None, None, None))
            else:
                size, digest, sig, content, e2 = self._read(e)
                out.append((seq, e2, size, digest, sig, content))
        return out

    def _reader(self, q: "queue.Queue[Union[list[_Item], BaseException, None]]", stop: threading.Event,
                entries: Optional[Iterable[Entry]]) -> None:
        try:
            for chunk in self._chunks(stop, entries):
                while not stop.is_set():
                    try:
                        q.put(chunk, timeout=0.2)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            q.put(None)
        except _Stop:
            return
        except BaseException as e:  # handed to the main thread, which raises it
            q.put(e)

    # -- main thread -------------------------------------------------------------------------

    def run(self, entries: Optional[Iterable[Entry]] = None) -> JobSummary:
        """Run to the end, or until interrupted (KeyboardInterrupt): the summary says which.
        Lines of chunks committed before an interrupt stay in the journal.

        ``entries``: verify these, in this order (numbered from 0), instead of walking
        ``roots``: for a caller that has its own list (a Dask partition, a walk done
        elsewhere). Entries carrying a ``code`` get their line without being read, as in a
        walk; the iterable is consumed by the reader thread, so it may be a generator."""
        summary = JobSummary()
        t0 = time.monotonic()
        q: queue.Queue[Union[list[_Item], BaseException, None]] = queue.Queue(maxsize=2)
        # Verified chunks on their way to the writer, which makes and records their lines while
        # the next chunk is verified (with the GIL released).
        out: queue.Queue[Optional[tuple[list[_Item], Any]]] = queue.Queue(maxsize=2)
        failed: list[BaseException] = []
        stop = threading.Event()
        reader = threading.Thread(target=self._reader, args=(q, stop, entries), name="govsig-archive-reader", daemon=True)
        writer = threading.Thread(target=self._writer, args=(out, summary, failed, stop),
                                  name="govsig-archive-writer", daemon=True)
        reader.start()
        writer.start()
        try:
            while not failed:
                got = q.get()
                if got is None:
                    break
                if isinstance(got, BaseException):
                    raise got
                verified = (got, self._verify(got))
                while not failed:
                    try:
                        out.put(verified, timeout=0.2)
                        break
                    except queue.Full:
                        continue
            if not failed:
                out.put(None)
            writer.join()
        except KeyboardInterrupt:
            summary.interrupted = True
            stop.set()
            try:
                out.put_nowait(None)
            except queue.Full:
                pass
            writer.join(timeout=30)
        finally:
            stop.set()
            reader.join(timeout=5)
            if self.progress is not None:
                self.progress.close()
        if failed:
            raise failed[0]
        summary.elapsed = time.monotonic() - t0
        if self.journal is not None:
            summary.counts, summary.revocation = self.journal.counts()
            summary.total = sum(summary.counts.values())
        return summary

    def _writer(self, out: "queue.Queue[Optional[tuple[list[_Item], Any]]]", summary: JobSummary,
                failed: list[BaseException], stop: threading.Event) -> None:
        try:
            while True:
                got = out.get()
                if got is None or stop.is_set():
                    return
                self._record(got[0], got[1], summary)
        except BaseException as e:  # raised again by run() in the main thread
            failed.append(e)
            stop.set()

    def _verify(self, chunk: list[_Item]) -> tuple[Optional[BatchResult], dict[int, PdfResult]]:
        """The results of the chunk's documents: CMS files verified together (a batch, in
        chunk order), signed PDFs (``*.pdf``) one by one, by their index in the chunk."""
        docs = [(it[4], it[5]) for it in chunk if it[4] is not None and not _is_pdf(it[1].path)]
        batch = self.verifier.verify_many(docs, threads=self.workers, chunk_size=len(docs)) if docs else None
        pdfs = {i: self.verifier.verify_pdf(it[4]) for i, it in enumerate(chunk)
                if it[4] is not None and _is_pdf(it[1].path)}
        return batch, pdfs

    def _record(self, chunk: list[_Item], verified: tuple[Optional[BatchResult], dict[int, PdfResult]],
                summary: JobSummary) -> None:
        batch, pdfs = verified
        make = self.lines
        cms = [it for i, it in enumerate(chunk) if it[4] is not None and i not in pdfs]
        # A document read has its size and digest (see _read).
        sizes = [it[2] or 0 for it in cms]
        digests = [it[3] or "" for it in cms]
        made = iter(make.documents(batch, [it[1].path for it in cms], sizes, digests)) if batch is not None else iter(())
        rows: list[tuple[bytes, int, str, bool, str, str]] = []
        for i, (seq, e, size, digest, sig, _content) in enumerate(chunk):
            if sig is None:
                text, code, ok, rev = make.entry(e.path, size, e.code or "file_unreadable", e.reason, digest)
            elif i in pdfs:
                assert size is not None and digest is not None
                text, code, ok, rev = make.pdf_document(e.path, size, digest, pdfs[i])
            else:
                text, code, ok, rev = next(made)
            rows.append((e.path, seq, code, ok, rev, text))
            if self.sink is not None:
                self.sink(text)
        if self.row_sink is not None:
            self.row_sink(rows)
        if self.journal is not None:
            self.journal.record(rows)
        else:
            for _p, _s, code, _ok, rev, _t in rows:
                summary.counts[code] = summary.counts.get(code, 0) + 1
                summary.revocation[rev] = summary.revocation.get(rev, 0) + 1
            summary.total += len(rows)
        summary.this_run += len(rows)
        if self.progress is not None:
            self.progress.update(len(rows))
