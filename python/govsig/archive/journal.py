"""The job journal: every entry's report line in SQLite, one transaction per chunk.

SQLite in WAL mode with ``synchronous=FULL``: a chunk's lines are either all committed or
none, whatever kills the process (SIGKILL, a crash, power loss after commit), so a resumed
job redoes at most the chunk that was in flight. Lines are keyed by the entry's exact path
bytes, so no entry is counted twice; the walk position (``seq``) orders the final report as an
uninterrupted run would.
"""
from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator, Sequence
from typing import Any, Optional

__all__ = ["Journal", "JournalError"]

_FORMAT = "govsig.journal/1"


class JournalError(Exception):
    """The journal cannot be used as asked (exists without --resume, another job's...)."""


class Journal:
    def __init__(self, path: str, *, resume: bool, job: dict[str, Any]) -> None:
        if os.path.islink(path):
            # SQLite follows a link: a dangling one planted at the journal's name would have the
            # journal, every report line of the job, created where whoever planted it chose.
            raise JournalError(f"{path}: is a symbolic link; give the journal's own path, not a link to it")
        exists = os.path.exists(path)
        if resume and not exists:
            raise JournalError(f"{path}: no such journal to resume; start the job without --resume")
        folder = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(folder):
            raise JournalError(f"{path}: folder {folder} does not exist; create it or choose another journal path")
        try:
            self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS results (path BLOB PRIMARY KEY, seq INTEGER NOT NULL, "
                "code TEXT NOT NULL, ok INTEGER NOT NULL, revocation_status TEXT NOT NULL, line TEXT NOT NULL)"
            )
            self._db.execute("CREATE INDEX IF NOT EXISTS results_seq ON results (seq)")
            stored = dict(self._db.execute("SELECT key, value FROM meta").fetchall())
        except sqlite3.DatabaseError as e:
            raise JournalError(f"{path}: not a usable govsig journal ({e})") from None
        want = json.dumps(job, sort_keys=True)
        if stored:
            if stored.get("format") != _FORMAT:
                raise JournalError(f"{path}: not a govsig job journal")
            if not resume:
                raise JournalError(f"{path}: a journal of an earlier job exists; pass --resume to continue it, "
                                   "or remove it to start again")
            if stored.get("job") != want:
                raise JournalError(f"{path}: this journal is of a job with other folders or options; "
                                   "resume with the same arguments, or use a new journal")
        else:
            with self._db:
                self._db.execute("BEGIN")
                self._db.executemany("INSERT INTO meta VALUES (?, ?)", [("format", _FORMAT), ("job", want)])
        self.path = path

    def meta(self, key: str) -> Optional[str]:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta_once(self, key: str, value: str) -> str:
        """Store ``value`` under ``key`` unless a value is there; return the stored one."""
        self._db.execute("INSERT OR IGNORE INTO meta VALUES (?, ?)", (key, value))
        got = self.meta(key)
        assert got is not None
        return got

    def record(self, rows: Sequence[tuple[bytes, int, str, bool, str, str]]) -> None:
        """One chunk's lines (path, seq, code, ok, revocation_status, line), atomically."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            # OR IGNORE: folders given that nest (A and A/b) list an entry twice; it counts once.
            # ok goes in as given: a bool is an int to SQLite (stored 0 or 1).
            self._db.executemany("INSERT OR IGNORE INTO results VALUES (?, ?, ?, ?, ?, ?)", rows)
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def counts(self) -> tuple[dict[str, int], dict[str, int]]:
        """({code: n}, {revocation_status: n}) over every line recorded."""
        codes = {str(c): int(n) for c, n in self._db.execute("SELECT code, COUNT(*) FROM results GROUP BY code")}
        rev = {str(c): int(n) for c, n in
               self._db.execute("SELECT revocation_status, COUNT(*) FROM results GROUP BY revocation_status")}
        return codes, rev

    def lines(self) -> Iterator[str]:
        """Every line, in walk order."""
        for (t,) in self._db.execute("SELECT line FROM results ORDER BY seq, path"):
            yield str(t)

    def close(self) -> None:
        self._db.close()
