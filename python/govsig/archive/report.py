"""Report lines of an archive job: one JSON object per document (schema ``govsig.report/1``,
shipped as ``report.schema.json`` beside this module), written as JSON Lines or Parquet."""
from __future__ import annotations

import base64
import importlib
import json
import os
from collections.abc import Iterable, Iterator
from typing import IO, Any, Optional

from govsig._cli_text import inert_json, inert_json_text
from govsig._govsig import VerifyResult

__all__ = ["SCHEMA", "SCHEMA_PATH", "load_schema", "LineMaker", "revocation_status",
           "JsonlWriter", "ParquetWriter", "arrow_schema"]

SCHEMA = "govsig.report/1"
SCHEMA_PATH = os.path.join(os.path.dirname(__file__), "report.schema.json")

# Codes that prove the status of a certificate on the path (it was revoked or on hold).
_PROVEN_BAD = ("cert_revoked", "cert_on_hold")


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


def revocation_status(result: VerifyResult, mode: str) -> str:
    """``proven`` when the status of every certificate that needed one was established
    (good, or revoked/on hold), ``unknown`` when some could not be, ``not_checked`` when
    revocation is off or no signer got as far as a checked path."""
    return _status(mode, result.code, result.signer_codes(), result.revocation_statuses())


def _pdf_revocation_status(result: Any, signers: list[Any], mode: str) -> str:
    """:func:`revocation_status` of a signed PDF, over the signers of all its signatures."""
    return _status(mode, result.code, [s.code for s in signers],
                   [[e["status"] for e in s.revocation] for s in signers])


def _status(mode: str, code: str, signer_codes: list[str], statuses: list[list[str]]) -> str:
    if mode == "off":
        return "not_checked"
    if code in _PROVEN_BAD or any(c in _PROVEN_BAD for c in signer_codes):
        return "proven"
    if not any(statuses):
        return "not_checked"
    # "revoked" here is a certificate revoked after the signature time: its status is known.
    if all(st and all(x in ("good", "revoked") for x in st) for st in statuses):
        return "proven"
    return "unknown"


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

    def document(self, path: bytes, size: int, sha256: str, result: VerifyResult) -> tuple[str, str, bool, str]:
        """(line, code, ok, revocation_status) of a document that was read and verified; the
        signers part is ``VerifyResult.to_json()``'s."""
        code, ok = result.code, result.ok
        rev = revocation_status(result, self.mode)
        text = (self._head(path, size, sha256, ok, code, result.reason, rev)
                + (',"detached":true' if result.detached else ',"detached":false')
                + ',"signers":' + inert_json_text(result.signers_json()) + "}")
        return text, code, ok, rev

    def pdf_document(self, path: bytes, size: int, sha256: str, result: Any) -> tuple[str, str, bool, str]:
        """The same for a signed PDF (a ``PdfResult``): ``signers`` are the signers of its
        signatures in file order, and ``pdf`` says per signature what it covers and what
        changed after it."""
        signers = [s.signer for s in result.signatures if s.signer is not None]
        rev = _pdf_revocation_status(result, signers, self.mode)
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
            self._f = open(path, "w", encoding="utf-8", newline="\n")
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


def arrow_schema() -> Any:
    """The Arrow schema of the Parquet report: the JSONL keys as columns, ``signers`` a
    list of structs, ``policy`` a struct."""
    pa = _pyarrow()
    s = pa.string()
    evidence = pa.struct([
        ("kind", s), ("subject", s), ("serial", s), ("status", s), ("reason", s), ("sha256", s),
        ("issuer", s), ("crl_number", s), ("produced_at", s), ("this_update", s), ("next_update", s),
    ])
    signer = pa.struct([
        ("subject", s), ("issuer", s), ("serial", s), ("cert_sha256", s), ("chain_sha256", pa.list_(s)),
        ("sid", s), ("signing_time", s), ("signature_time", s), ("signature_time_source", s),
        ("digest_algorithm", s), ("signature_algorithm", s), ("code", s), ("reason", s),
        ("revocation", pa.list_(evidence)),
    ])
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
        self._writer = pa.parquet.ParquetWriter(path, self._schema)
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
        self._flush()
        self._writer.close()


def read_jsonl(lines: Iterable[str]) -> Iterator[dict[str, Any]]:
    for text in lines:
        if text.strip():
            yield json.loads(text)
