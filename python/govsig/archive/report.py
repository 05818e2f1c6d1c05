"""Report lines of an archive job: one JSON object per document (schema ``govsig.report/1``,
shipped as ``report.schema.json`` beside this module), written as JSON Lines or Parquet."""
from __future__ import annotations

import base64
import hashlib
import importlib
import io
import json
import os
from collections.abc import Iterable, Iterator
from typing import IO, Any, Optional, Union

from govsig._cli_text import inert_json, inert_json_text
from govsig._govsig import BatchResult, PdfResult, VerifyResult
from govsig._regular import open_output_file

__all__ = ["SCHEMA", "SCHEMA_PATH", "load_schema", "LineMaker", "job_context", "revocation_status",
           "JsonlWriter", "ParquetWriter", "arrow_schema"]

SCHEMA = "govsig.report/1"
SCHEMA_PATH = os.path.join(os.path.dirname(__file__), "report.schema.json")

def load_schema() -> dict[str, Any]:
    """The JSON Schema of one report line."""
    with open(SCHEMA_PATH, encoding="utf-8") as f:
        schema: dict[str, Any] = json.load(f)
    return schema


def _path_fields(path: bytes) -> dict[str, Any]:
    # A name that is not UTF-8 stays exact in path_bytes; `path` shows it readably.
    try:
        return {"path": path.decode("utf-8"), "path_bytes": None}
    except UnicodeDecodeError:
        return {"path": path.decode("utf-8", "backslashreplace"),
                "path_bytes": base64.b64encode(path).decode("ascii")}


def job_context(policy: Any, *, at: Optional[str], validated_at: str, fetch: bool, max_size: Optional[int],
                follow_symlinks: bool) -> dict[str, Any]:
    """The part of every report line that is the same for the whole job (``LineMaker``'s
    ``context``): ``at`` is the validation time the user asked for (None: the job's start,
    which ``validated_at`` records)."""
    from govsig import __version__

    trust = [] if policy.trust is None else sorted(hashlib.sha256(c).hexdigest() for c in policy.trust.certificates)
    return {
        "validated_at": validated_at,
        "policy": {
            "at": at,
            "revocation": policy.revocation,
            "legacy": policy.legacy,
            "trust_sha256": trust,
            "crls": len(policy.crls),
            "ocsp_responses": len(policy.ocsp_responses),
            "fetch": bool(fetch),
            "max_size": max_size,
            "follow_symlinks": bool(follow_symlinks),
        },
        "govsig_version": __version__,
    }


def revocation_status(result: Union[VerifyResult, PdfResult], mode: str) -> str:
    """``proven`` when the status of every certificate that needed one was established
    (good, or revoked/on hold), ``unknown`` when some could not be, ``not_checked`` when
    revocation is off or no signer got as far as a checked path (for a signed PDF, over
    the signer of each signature). The rule lives in the core, beside the line builder."""
    return result.revocation_summary(mode)


class LineMaker:
    """Report lines of one job. ``context`` holds ``validated_at``, ``policy`` and
    ``govsig_version``, the same on every line: encoded once, spliced into each line."""

    def __init__(self, context: dict[str, Any], mode: str) -> None:
        self.context = context
        self.mode = mode
        self._ctx = "," + dumps(context)[1:-1]

    def _head(self, path: bytes, size: Optional[int], sha256: Optional[str], ok: bool, code: str, reason: str,
              rev: str) -> str:
        head: dict[str, Any] = {"schema": SCHEMA}
        head.update(_path_fields(path))
        head.update(size=size, sha256=sha256, ok=ok, code=code, reason=reason, revocation_status=rev)
        return dumps(head)[:-1] + self._ctx

    def documents(self, batch: BatchResult, paths: list[bytes], sizes: list[int],
                  digests: list[str]) -> list[tuple[str, str, bool, str]]:
        """(line, code, ok, revocation_status) of each document of a batch of CMS results,
        read and verified: the lines are built by the core, without Python objects per
        field (``BatchResult.report_lines``), then made inert (``inert_json_text``: C1
        controls, line separators and bidi overrides escaped; a printable line is kept as is)."""
        return [(inert_json_text(line), code, ok, rev)
                for line, code, ok, rev in batch.report_lines(paths, sizes, digests, self._ctx, self.mode)]

    def pdf_document(self, path: bytes, size: int, sha256: str, result: Any) -> tuple[str, str, bool, str]:
        """The same for a signed PDF (a ``PdfResult``): ``signers`` are the signers of its
        signatures in file order, and ``pdf`` says per signature what it covers and what
        changed after it."""
        signers = [s.signer for s in result.signatures if s.signer is not None]
        rev = revocation_status(result, self.mode)
        pdf = {"revisions": result.revisions, "signatures": [
            {"field": s.field, "subfilter": s.subfilter, "revision": s.revision, "code": s.code,
             "reason": s.reason, "covers_whole_document": s.covers_whole_document,
             "modification": s.modification, "docmdp": s.docmdp, "is_doc_timestamp": s.is_doc_timestamp}
            for s in result.signatures]}
        text = (self._head(path, size, sha256, result.ok, result.code, result.reason, rev)
                + ',"detached":true,"pdf":' + dumps(pdf)
                + ',"signers":' + dumps([s.to_dict() for s in signers]) + "}")
        return text, result.code, result.ok, rev

    def entry(self, path: bytes, size: Optional[int], code: str, reason: str,
              sha256: Optional[str] = None) -> tuple[str, str, bool, str]:
        """The same for an entry that was not verified (skipped, unreadable, too large...)."""
        text = self._head(path, size, sha256, False, code, reason, "not_checked") + ',"detached":false,"signers":[]}'
        return text, code, False, "not_checked"


def dumps(line: Any) -> str:
    """One JSONL line (no newline), its control, separator and bidi characters escaped
    (``inert_json``): a crafted name or subject never splits a line or reaches a terminal raw.
    Lone surrogates cannot occur: paths are decoded above."""
    return inert_json(line, separators=(",", ":"))


class JsonlWriter:
    """Writes report lines to a file, or to standard output for ``-``."""

    def __init__(self, path: str) -> None:
        self._own = path != "-"
        self._f: IO[str]
        if self._own:
            # Never through a link to a file, never blocked by a FIFO nobody reads.
            self._f = io.TextIOWrapper(open_output_file(path, "a report"), encoding="utf-8", newline="\n")
        else:
            import sys

            self._f = sys.stdout

    def write(self, text: str) -> None:
        self._f.write(text)
        self._f.write("\n")

    def close(self) -> None:
        if self._own:
            self._f.close()
        else:
            self._f.flush()


def _pyarrow() -> Any:
    try:
        pyarrow = importlib.import_module("pyarrow")
        importlib.import_module("pyarrow.parquet")
    except ImportError as e:
        raise ImportError(f"Parquet reports need pyarrow, which is not installed ({e}); "
                          "install it with: pip install 'govsig[arrow]'") from e
    return pyarrow


# Levels of countersigners below a signer in a report line: the core's
# MAX_COUNTERSIGNATURE_DEPTH (4) verified levels plus the one budget_exceeded entry below them.
_COUNTERSIGNER_LEVELS = 5


def arrow_schema() -> Any:
    """The Arrow schema of the Parquet report: the JSONL keys as columns, ``signers`` a
    list of structs, ``policy`` a struct."""
    pa = _pyarrow()
    s = pa.string()
    evidence = pa.struct([
        ("kind", s), ("subject", s), ("serial", s), ("status", s), ("reason", s), ("sha256", s),
        ("issuer", s), ("crl_number", s), ("produced_at", s), ("this_update", s), ("next_update", s),
    ])
    timestamp = pa.struct([
        ("kind", s), ("code", s), ("reason", s), ("gen_time", s), ("serial", s), ("policy_oid", s),
        ("hash_algorithm", s), ("tsa_subject", s), ("chain_sha256", pa.list_(s)),
    ])
    # Arrow types cannot refer to themselves, so countersigners nest to the depth the core
    # produces: 4 verified levels below the signer, then one budget_exceeded entry, whose own
    # countersigners are always empty (a list of nulls, so anything deeper fails loudly).
    countersigners = pa.list_(pa.null())
    signer = None
    for _ in range(_COUNTERSIGNER_LEVELS + 1):
        signer = pa.struct([
            ("subject", s), ("issuer", s), ("serial", s), ("cert_sha256", s), ("chain_sha256", pa.list_(s)),
            ("sid", s), ("signing_time", s), ("signature_time", s), ("signature_time_source", s),
            ("digest_algorithm", s), ("signature_algorithm", s), ("code", s), ("reason", s),
            ("revocation", pa.list_(evidence)), ("timestamps", pa.list_(timestamp)),
            ("countersigners", countersigners),
        ])
        countersigners = pa.list_(signer)
    policy = pa.struct([
        ("at", s), ("revocation", s), ("legacy", pa.bool_()), ("trust_sha256", pa.list_(s)),
        ("crls", pa.int64()), ("ocsp_responses", pa.int64()), ("fetch", pa.bool_()),
        ("max_size", pa.int64()), ("follow_symlinks", pa.bool_()),
    ])
    return pa.schema([
        ("schema", s), ("path", s), ("path_bytes", s), ("size", pa.int64()), ("sha256", s), ("ok", pa.bool_()),
        ("code", s), ("reason", s), ("revocation_status", s), ("validated_at", s), ("policy", policy),
        ("govsig_version", s), ("detached", pa.bool_()), ("signers", pa.list_(signer)),
    ])


class ParquetWriter:
    """Writes report lines (dicts) to a Parquet file in row groups."""

    def __init__(self, path: str, rows_per_group: int = 8192) -> None:
        pa = _pyarrow()
        self._pa = pa
        self._schema = arrow_schema()
        self._file = open_output_file(path, "a Parquet report")
        try:
            self._writer = pa.parquet.ParquetWriter(self._file, self._schema)
        except BaseException:
            self._file.close()
            raise
        self._rows: list[dict[str, Any]] = []
        self._n = rows_per_group

    def write(self, line: dict[str, Any]) -> None:
        self._rows.append(line)
        if len(self._rows) >= self._n:
            self._flush()

    def _flush(self) -> None:
        if self._rows:
            self._writer.write_table(self._pa.Table.from_pylist(self._rows, schema=self._schema))
            self._rows = []

    def close(self) -> None:
        try:
            self._flush()
            self._writer.close()
        finally:
            self._file.close()


def read_jsonl(lines: Iterable[str], source: str = "the report") -> Iterator[dict[str, Any]]:
    """The report lines (dicts) of ``lines``; ValueError naming ``source`` and the line number
    for a line that is not a JSON object (cut off, edited, or nested deeper than the json
    module recurses)."""
    for n, text in enumerate(lines, 1):
        if not text.strip():
            continue
        try:
            row = json.loads(text)
        except (ValueError, RecursionError) as e:
            why = "nested too deeply" if isinstance(e, RecursionError) else str(e)
            raise ValueError(f"line {n} of {source} is not a report line ({why})") from None
        if not isinstance(row, dict):
            raise ValueError(f"line {n} of {source} is not a report line (a JSON {type(row).__name__}, "
                             f"not an object)")
        yield row
