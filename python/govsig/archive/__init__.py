"""Archive jobs: verify every signed document under folders, resumable from a SQLite
journal, with a report line per entry (JSON Lines, schema ``govsig.report/1``, or Parquet).

The command line is ``govsig verify-archive``; this package is its engine:
:mod:`~govsig.archive.walk` (the streaming walk and the safe read),
:mod:`~govsig.archive.journal`, :mod:`~govsig.archive.job` and :mod:`~govsig.archive.report`.
"""
from __future__ import annotations

from govsig.archive.job import ArchiveJob, JobProgress, JobSummary
from govsig.archive.journal import Journal, JournalError
from govsig.archive.report import SCHEMA, SCHEMA_PATH, load_schema
from govsig.archive.walk import Entry, walk

__all__ = ["ArchiveJob", "JobProgress", "JobSummary", "Journal", "JournalError", "SCHEMA", "SCHEMA_PATH",
           "load_schema", "Entry", "walk", "FILE_CODES"]

#: The outcome codes of entries that were not verified (see ``govsig.codes()``).
FILE_CODES = ("file_skipped", "file_unreadable", "file_too_large", "file_vanished", "file_symlink_loop")
