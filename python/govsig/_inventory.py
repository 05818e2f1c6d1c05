"""The certificate inventory of an archive: every signer certificate seen, who holds it, for
which organisation and unit, with which Vietnamese identifiers, from which CA, until when,
whether it is revoked, and what it signed. Provinces review their units' certificates
monthly and quarterly from this (expiring, revoked, who signed what).

One pass over the archive's signed documents with the archive job's walk
(``govsig.archive.walk``: names as bytes, regular files only, so a FIFO, a device or a symlink
not followed is never opened, and a size cap; every entry not read is listed in ``skipped``
with its code), CMS files verified with the caller's policy in chunks and signed PDFs one by
one (the signer of each signature; a document time-stamp's TSA is not a signer); then each distinct certificate (by SHA-256 fingerprint) is
checked once more on its own, at the policy's time, for its revocation status today: the
documents answer "was it good when it signed?", an inventory "can it still be relied on?".

Names are shown NFC-normalised (``holder``, ``organisation``, ``unit``, ``issuing_ca``), so a
unit written composed in one certificate and decomposed in another is one unit;
``subject_fields`` keeps the exact attributes.
"""
from __future__ import annotations

import csv
import datetime as _dt
import hashlib
import importlib
import io
import os
import unicodedata
from collections.abc import Iterable, Iterator
from typing import Any, Optional, Union

from govsig._html import write_text_atomically
from govsig._policy import Policy
from govsig._verifier import Verifier
from govsig._govsig import PdfResult, SignerResult, VerifyResult, parse_certificate
from govsig.archive.walk import ReadRefused, read_document, walk
from govsig.fetch import BulkFetcher, Fetcher

__all__ = ["inventory", "Inventory", "IDENTIFIER_KINDS", "write_csv", "write_inventory_html"]

IDENTIFIER_KINDS = ("CCCD", "MST", "CMND", "HC")

# What a certificate's revocation_status can be.
REVOCATION_STATUSES = ("good", "revoked", "on_hold", "unknown", "not_checked")

_CHUNK = 512


class Inventory(list[dict[str, Any]]):
    """The inventory rows (one dict per certificate, soonest expiry first), with what the
    run saw: ``documents`` read, ``skipped`` entries (path, why), ``renewal_days`` and
    ``generated_at``. :meth:`to_pandas` gives a DataFrame (pandas is optional)."""

    documents: int
    skipped: list[tuple[str, str]]
    renewal_days: int
    generated_at: _dt.datetime

    def to_pandas(self) -> Any:
        """A pandas DataFrame, one row per certificate; the identifiers as one column per
        kind (``CCCD``, ``MST``, ``CMND``, ``HC``), several values joined with ``"; "``."""
        try:
            pd = importlib.import_module("pandas")
        except ImportError as e:
            raise ImportError("Inventory.to_pandas needs pandas: pip install pandas "
                              "(or use the rows as they are: a list of dicts)") from e
        return pd.DataFrame([flat_row(r) for r in self], columns=list(_COLUMNS))

    def to_csv(self, path: Union[str, os.PathLike[str]]) -> None:
        """Write the rows as CSV (see :func:`write_csv`)."""
        write_csv(self, path)

    def to_html(self, path: Union[str, os.PathLike[str]], *, lang: Optional[str] = None,
                title: Optional[str] = None, max_rows: int = 20_000) -> None:
        """Write one self-contained HTML page (see :func:`write_inventory_html`)."""
        write_inventory_html(self, path, lang=lang, title=title, max_rows=max_rows)


_COLUMNS = ("holder", "organisation", "unit", *IDENTIFIER_KINDS, "issuing_ca", "serial", "not_before",
            "not_after", "days_to_expiry", "renewal_due", "expired", "revocation_status", "revocation_reason",
            "documents_signed", "documents_not_ok", "first_signing_time", "last_signing_time", "subject", "issuer",
            "cert_sha256")


def flat_row(row: dict[str, Any]) -> dict[str, Any]:
    """A row with the identifiers dict spread into one column per kind."""
    out = {k: row.get(k) for k in _COLUMNS if k not in IDENTIFIER_KINDS}
    for kind in IDENTIFIER_KINDS:
        out[kind] = "; ".join(row["identifiers"].get(kind, []))
    return {k: out[k] for k in _COLUMNS}


def _nfc(s: Optional[str]) -> str:
    return unicodedata.normalize("NFC", s or "")


def _first(fields: Iterable[tuple[str, str]], attr: str) -> str:
    return next((v for k, v in fields if k == attr), "")


def _utc(ts: int) -> _dt.datetime:
    return _dt.datetime.fromtimestamp(ts, _dt.timezone.utc)


class _Seen:
    """One certificate as the walk saw it."""

    __slots__ = ("der", "subject", "issuer", "fields", "identifiers", "serial", "not_before", "not_after",
                 "documents", "not_ok", "first", "last", "revoked_reason")

    def __init__(self, der: bytes, signer: Any) -> None:
        info = parse_certificate(der)
        self.der = der
        self.subject = info.subject
        self.issuer = info.issuer
        self.serial = info.serial_hex
        self.not_before = info.not_before
        self.not_after = info.not_after
        self.fields: list[tuple[str, str]] = list(signer.subject_fields)
        self.identifiers: dict[str, list[str]] = dict(signer.identifiers)
        self.documents = 0
        self.not_ok = 0
        self.first: Optional[_dt.datetime] = None
        self.last: Optional[_dt.datetime] = None
        # A document's verdict that the certificate (or one above it) was revoked when it
        # signed: revocation is final, so it still is.
        self.revoked_reason: Optional[str] = None


def inventory(
    root: Union[str, os.PathLike[str]],
    policy: Policy,
    *,
    renewal_days: int = 30,
    fetcher: Union[Fetcher, BulkFetcher, None] = None,
    threads: Optional[int] = None,
    max_size: Optional[int] = None,
    follow_symlinks: bool = False,
) -> Inventory:
    """Every signer certificate seen in the signed documents under ``root``.

    Each row: ``holder`` (CN), ``organisation`` (O), ``unit`` (OU), ``identifiers``
    (``{"CCCD"|"MST"|"CMND"|"HC": [values]}``, see ``SignerResult.identifiers``: a 12-digit
    CCCD also appears under MST, being the personal tax code), ``subject_fields``,
    ``issuing_ca`` (the issuer's CN), ``issuer``, ``serial`` (hex), ``cert_sha256``,
    ``not_before``/``not_after`` (aware datetimes), ``days_to_expiry`` (whole days from the
    policy's time, negative once expired), ``expired``, ``renewal_due`` (expires within
    ``renewal_days`` days, or already has), ``revocation_status`` (one of
    :data:`REVOCATION_STATUSES`; ``not_checked`` when the policy's revocation is ``"off"``)
    with ``revocation_reason``, ``documents_signed``, ``documents_not_ok`` (of those, the
    documents whose verdict was not ok), ``first_signing_time``/``last_signing_time`` (the
    claimed signingTime of its signatures; None when none carried one).

    ``fetcher`` fetches missing CRLs/OCSP as for a Verifier. ``max_size`` (bytes) and
    ``follow_symlinks`` are the archive job's walk options (``verify-archive --max-size``,
    ``--follow-symlinks``). Raises ``NotADirectoryError``
    when ``root`` is not a folder and ``ValueError`` for a policy without a trust store."""
    if isinstance(renewal_days, bool) or not isinstance(renewal_days, int) or renewal_days < 0:
        raise ValueError(f"renewal_days must be a whole number of days, 0 or more, not {renewal_days!r}")
    if not isinstance(policy, Policy):
        raise TypeError(f"policy must be a govsig.Policy, not {type(policy).__name__}")
    if policy.trust is None:
        raise ValueError("an inventory needs a Policy with a trust store (trust=...)")
    top = os.fspath(root)
    if not os.path.isdir(top):
        raise NotADirectoryError(f"{top!r} is not a directory")
    verifier = Verifier(policy, fetcher)
    now = (policy.at or _dt.datetime.now(_dt.timezone.utc)).astimezone(_dt.timezone.utc)
    seen: dict[bytes, _Seen] = {}
    # CA certificates of every validated chain: path candidates for each certificate's own
    # check, including those whose documents all failed (the CMS carried their CA, but a
    # failed result hands back no chain).
    pool: dict[bytes, None] = {}
    skipped: list[tuple[str, str]] = []
    documents = 0

    def count(signers: list[SignerResult], ok: bool) -> None:
        counted: set[bytes] = set()
        for s in signers:
            der = s.certificate
            if der is None:
                continue
            key = hashlib.sha256(der).digest()
            entry = seen.get(key)
            if entry is None:
                entry = seen[key] = _Seen(der, s)
            for c in s.chain[1:-1]:
                pool.setdefault(c)
            if s.code == "cert_revoked" and entry.revoked_reason is None:
                entry.revoked_reason = s.reason
            if key not in counted:
                counted.add(key)
                entry.documents += 1
                entry.not_ok += not ok
            t = s.signing_time
            if t is not None:
                entry.first = t if entry.first is None or t < entry.first else entry.first
                entry.last = t if entry.last is None or t > entry.last else entry.last

    def run(items: list[tuple[bytes, Optional[bytes]]]) -> None:
        batch = verifier.verify_many(items, threads=threads)
        for i in range(len(batch)):
            result = batch[i]
            assert isinstance(result, VerifyResult)  # verify_many of (signature, content) pairs
            count(result.signers, result.ok)

    def run_pdf(pdf: bytes) -> None:
        result: PdfResult = verifier.verify_pdf(pdf)
        count([g.signer for g in result.signatures if g.signer is not None and not g.is_doc_timestamp], result.ok)

    items: list[tuple[bytes, Optional[bytes]]] = []
    for e in walk([os.fsencode(top)], follow_symlinks=follow_symlinks):
        if e.code is not None:
            skipped.append((os.fsdecode(e.path), f"{e.code}: {e.reason}"))
            continue
        try:
            sig, content = read_document(e.path, max_size, follow_symlinks)
        except ReadRefused as r:
            skipped.append((os.fsdecode(e.path), f"{r.code}: {r.reason}"))
            continue
        documents += 1
        if e.path.lower().endswith(b".pdf"):
            run_pdf(sig)
            continue
        items.append((sig, content))
        if len(items) >= _CHUNK:
            run(items)
            items = []
    if items:
        run(items)

    out = Inventory()
    for key, cert in seen.items():
        out.append(_row(key, cert, verifier, policy, now, renewal_days, list(pool)))
    out.sort(key=lambda r: (r["not_after"], r["holder"], r["serial"]))
    out.documents = documents
    out.skipped = skipped
    out.renewal_days = renewal_days
    out.generated_at = now
    return out


def _revocation(e: _Seen, verifier: Verifier, policy: Policy, pool: list[bytes]) -> tuple[str, str]:
    if policy.revocation == "off":
        return "not_checked", "revocation checking is off in the policy"
    path = verifier.verify_certificate(e.der, pool)
    if path.code == "cert_revoked":
        return "revoked", path.reason
    if path.code == "cert_on_hold":
        return "on_hold", path.reason
    if e.revoked_reason is not None:
        return "revoked", e.revoked_reason
    if not path.ok:
        return "unknown", path.reason
    own = path.revocation[0] if path.revocation else None
    if own is not None and own.get("status") == "good":
        return "good", ""
    return "unknown", str(own.get("reason") or "") if own else "no revocation evidence"


def _row(key: bytes, e: _Seen, verifier: Verifier, policy: Policy, now: _dt.datetime,
         renewal_days: int, pool: list[bytes]) -> dict[str, Any]:
    not_after = _utc(e.not_after)
    days = (not_after - now) // _dt.timedelta(days=1)
    status, why = _revocation(e, verifier, policy, pool)
    issuer_fields = _split_issuer(e.issuer)
    return {
        "holder": _nfc(_first(e.fields, "CN")),
        "organisation": _nfc(_first(e.fields, "O")),
        "unit": _nfc(_first(e.fields, "OU")),
        "identifiers": e.identifiers,
        "subject": e.subject,
        "subject_fields": e.fields,
        "issuing_ca": _nfc(_first(issuer_fields, "CN") or _first(issuer_fields, "O") or e.issuer),
        "issuer": e.issuer,
        "serial": e.serial,
        "cert_sha256": key.hex(),
        "not_before": _utc(e.not_before),
        "not_after": not_after,
        "days_to_expiry": days,
        "expired": not_after <= now,
        "renewal_due": not_after <= now + _dt.timedelta(days=renewal_days),
        "revocation_status": status,
        "revocation_reason": why,
        "documents_signed": e.documents,
        "documents_not_ok": e.not_ok,
        "first_signing_time": e.first,
        "last_signing_time": e.last,
    }


def _split_issuer(dn: str) -> list[tuple[str, str]]:
    from govsig._html import split_dn

    return split_dn(dn)


# --- output --------------------------------------------------------------------------------

# A cell whose first visible character is one of these is a formula to Excel and LibreOffice:
# a subject such as CN==HYPERLINK("http://...") would run when a clerk opens the CSV (CSV
# injection). Spreadsheets skip leading spaces before a formula, and on import a full-width
# ＝＋－＠ (or another compatibility form) may be folded to its ASCII character, so both are
# looked through; a cell opening with a tab, CR or LF is neutralised outright (a cell break
# in some importers).
_FORMULA_CHARS = frozenset("=+-@")
_CONTROL_START = ("\t", "\r", "\n")
_LEADING_SPACE = " \t\r\n\u00a0\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u200b\u3000\ufeff"


def _is_formula(v: str) -> bool:
    if v.startswith(_CONTROL_START):
        return True
    first = v.lstrip(_LEADING_SPACE)[:1]
    return bool(first) and unicodedata.normalize("NFKC", first)[:1] in _FORMULA_CHARS


def _csv_cell(v: Any) -> Any:
    if isinstance(v, _dt.datetime):
        return v.isoformat().replace("+00:00", "Z")
    if isinstance(v, str) and _is_formula(v):
        return "'" + v
    return v


def write_csv(rows: Iterable[dict[str, Any]], path: Union[str, os.PathLike[str]]) -> None:
    """The inventory as CSV (UTF-8 with a byte-order mark, so Excel shows Vietnamese
    correctly), one column per identifier kind; cells that a spreadsheet would take for a
    formula are prefixed with ``'``."""
    buf = io.StringIO(newline="")
    w = csv.writer(buf)
    w.writerow(_COLUMNS)
    for r in rows:
        flat = flat_row(r)
        w.writerow([_csv_cell(flat[k]) for k in _COLUMNS])
    # Through a temporary file with a random name (a predictable one can be a planted link).
    write_text_atomically(path, buf.getvalue(), encoding="utf-8-sig", newline="")


def write_inventory_html(inv: Inventory, path: Union[str, os.PathLike[str]], *, lang: Optional[str] = None,
                         title: Optional[str] = None, max_rows: int = 20_000) -> None:
    """The inventory as one self-contained HTML page (see ``govsig.report_html``): totals,
    charts by CA, organisation and month of expiry, and the searchable certificate table
    (at most ``max_rows`` rows, the page saying how many there were)."""
    from govsig._inventory_html import render

    from govsig import _html

    lang = _html.check_lang(_html.default_lang() if lang is None else lang)
    _html.write_page(path, render(inv, lang, title, max_rows))
