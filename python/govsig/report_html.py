"""The archive job's report as one self-contained HTML page, for the clerk or the manager
who will never read JSONL: totals by outcome, by issuing CA, by signer organisation/unit
and by month of signing, with charts, and the searchable table of the documents that
failed and why. Vietnamese or English.

The input is the job's report lines (schema ``govsig.report/1``, as dicts; extra keys are
ignored), read once: the totals are counted as the lines stream by and only the first
``max_failures`` failing documents are kept for the table (the page says "N of M shown"), so
a job over millions of documents makes a page of a few megabytes, not a gigabyte.
"""
from __future__ import annotations

import datetime as _dt
import functools
import os
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any, Optional

from govsig import _html
from govsig._html import default_lang, text

__all__ = ["write_html", "default_lang", "ReportTotals", "LABELS"]

DEFAULT_MAX_FAILURES = 10_000

LABELS: dict[str, dict[str, str]] = {
    "vi": {
        "title": "Báo cáo kiểm tra chữ ký số",
        "subtitle": "Tạo lúc {when}{version} · {n} tài liệu",
        "documents": "Tổng số tài liệu",
        "ok": "Hợp lệ",
        "not_ok": "Không hợp lệ",
        "signatures": "Chữ ký",
        "proven": "Đã xác minh thu hồi",
        "unknown": "Chưa rõ tình trạng thu hồi",
        "not_checked": "Không kiểm tra thu hồi",
        "totals": "Tổng hợp",
        "by_outcome": "Tài liệu theo kết quả",
        "by_ca": "Chữ ký theo tổ chức cung cấp dịch vụ chứng thực (CA)",
        "by_org": "Chữ ký theo cơ quan, đơn vị ký",
        "by_month": "Chữ ký theo tháng ký",
        "others": "Khác",
        "none": "(không ghi)",
        "unknown_month": "không rõ",
        "failures": "Tài liệu không hợp lệ",
        "search": "Tìm theo tên tệp, người ký, lý do…",
        "matching": "Khớp tìm kiếm",
        "shown": "đang hiển thị {n} trên tổng số {m} tài liệu không hợp lệ",
        "path": "Tệp",
        "code": "Mã kết quả",
        "reason": "Lý do",
        "signer": "Người ký",
        "signing_time": "Thời điểm ký",
        "skipped_lines": "{n} dòng của báo cáo không đọc được và đã bị bỏ qua.",
    },
    "en": {
        "title": "Digital signature verification report",
        "subtitle": "Generated {when}{version} · {n} documents",
        "documents": "Documents",
        "ok": "Valid",
        "not_ok": "Not valid",
        "signatures": "Signatures",
        "proven": "Revocation status proven",
        "unknown": "Revocation status unknown",
        "not_checked": "Revocation not checked",
        "totals": "Totals",
        "by_outcome": "Documents by outcome",
        "by_ca": "Signatures by issuing certification authority (CA)",
        "by_org": "Signatures by signer organisation / unit",
        "by_month": "Signatures by month of signing",
        "others": "Others",
        "none": "(none given)",
        "unknown_month": "unknown",
        "failures": "Documents that are not valid",
        "search": "Search by file, signer, reason…",
        "matching": "Matching",
        "shown": "showing {n} of {m} documents that are not valid",
        "path": "File",
        "code": "Outcome code",
        "reason": "Reason",
        "signer": "Signer",
        "signing_time": "Signing time",
        "skipped_lines": "{n} report lines could not be read and were skipped.",
    },
}


def _nfc(s: Optional[str]) -> str:
    return unicodedata.normalize("NFC", s or "")


def signer_org_unit(signer: Mapping[str, Any]) -> tuple[str, str]:
    """(organisation, unit) from the signer's subject O and OU, NFC-normalised so that the
    same name written composed or decomposed counts once."""
    f = subject_fields(signer)
    if f is not None:
        return _nfc(_html.first(f, "O")), _nfc(_html.first(f, "OU"))
    return _org_unit_of(str(signer.get("subject") or ""))


def subject_fields(signer: Mapping[str, Any]) -> Optional[list[tuple[str, str]]]:
    """The signer's ``subject_fields`` as (type, value) pairs, or None when the line has none.
    A report file is input: an element that is not a pair is left out, not unpacked."""
    typed = signer.get("subject_fields")
    if not isinstance(typed, list):
        return None
    return [(str(p[0]), str(p[1])) for p in typed if isinstance(p, (list, tuple)) and len(p) == 2]


# A million documents are signed by a few thousand certificates: each distinct subject and
# issuer text is split once.
@functools.lru_cache(maxsize=1 << 16)
def _org_unit_of(subject: str) -> tuple[str, str]:
    f = _html.split_dn(subject)
    return _nfc(_html.first(f, "O")), _nfc(_html.first(f, "OU"))


@functools.lru_cache(maxsize=1 << 16)
def _common_name_of(subject: str) -> str:
    return _html.first(_html.split_dn(subject), "CN") or subject


@functools.lru_cache(maxsize=1 << 16)
def issuer_name(dn: Optional[str]) -> str:
    """The issuing CA as people call it: the issuer's CN (else O, else the whole name)."""
    if not dn or not isinstance(dn, str):
        return ""
    f = _html.split_dn(dn)
    return _nfc(_html.first(f, "CN") or _html.first(f, "O") or dn)


def _month(signer: Mapping[str, Any]) -> Optional[str]:
    # The claimed signingTime, else a signature time that a time-stamp proved; the
    # validation time ("now") says nothing about when the document was signed.
    when = signer.get("signing_time")
    if not when and "timestamp" in str(signer.get("signature_time_source") or ""):
        when = signer.get("signature_time")
    if not isinstance(when, str) or len(when) < 7 or when[4] != "-":
        return None
    return when[:7]


class ReportTotals:
    """The totals of a report, counted in one pass over its lines (:meth:`add`)."""

    def __init__(self, max_failures: int = DEFAULT_MAX_FAILURES) -> None:
        if max_failures < 0:
            raise ValueError(f"max_failures must be 0 or more, not {max_failures}")
        self.max_failures = max_failures
        self.documents = 0
        self.ok = 0
        self.signatures = 0
        self.by_outcome: Counter[str] = Counter()
        self.by_revocation: Counter[str] = Counter()
        self.by_ca: Counter[str] = Counter()
        self.by_org: Counter[tuple[str, str]] = Counter()
        self.by_month: Counter[Optional[str]] = Counter()
        self.failures: list[tuple[str, str, str, str, str]] = []
        self.failures_total = 0
        self.versions: Counter[str] = Counter()

    def add(self, row: Mapping[str, Any]) -> None:
        self.documents += 1
        code = str(row.get("code") or "")
        ok = row.get("ok") is True or (row.get("ok") is None and code == "ok")
        self.ok += ok
        self.by_outcome[code] += 1
        self.by_revocation[str(row.get("revocation_status") or "not_checked")] += 1
        if row.get("govsig_version"):
            self.versions[str(row["govsig_version"])] += 1
        signers = row.get("signers")
        if not isinstance(signers, list):  # a report file is input: a field of another type is ignored
            signers = []
        for s in signers:
            if not isinstance(s, Mapping):
                continue
            self.signatures += 1
            self.by_ca[issuer_name(s.get("issuer"))] += 1
            self.by_org[signer_org_unit(s)] += 1
            self.by_month[_month(s)] += 1
        if not ok:
            self.failures_total += 1
            if len(self.failures) < self.max_failures:
                first = next((s for s in signers if isinstance(s, Mapping)), {})
                typed = subject_fields(first)
                if typed is not None:
                    who = _html.first(typed, "CN") or ""
                else:
                    who = _common_name_of(str(first.get("subject") or ""))
                self.failures.append((str(row.get("path") or ""), code, str(row.get("reason") or ""),
                                      _nfc(who), str(first.get("signing_time") or "")))


def _render(t: ReportTotals, lang: str, title: Optional[str], skipped_lines: int) -> str:
    L = LABELS[lang]
    version = t.versions.most_common(1)[0][0] if t.versions else ""
    when = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    subtitle = L["subtitle"].format(when=when, version=f" · govsig {version}" if version else "", n=f"{t.documents:,}")
    body = ['<section id="totals"><h2>' + text(L["totals"]) + "</h2>"]
    body.append(_html.cards([
        ("total-documents", L["documents"], t.documents, ""),
        ("total-ok", L["ok"], t.ok, "ok"),
        ("total-not-ok", L["not_ok"], t.documents - t.ok, "bad"),
        ("total-signatures", L["signatures"], t.signatures, ""),
        ("total-proven", L["proven"], t.by_revocation.get("proven", 0), "ok"),
        ("total-unknown", L["unknown"], t.by_revocation.get("unknown", 0), "warn"),
        ("total-not-checked", L["not_checked"], t.by_revocation.get("not_checked", 0), "warn"),
    ]))
    if skipped_lines:
        body.append(f'<p class="note" id="skipped-lines">{text(L["skipped_lines"].format(n=skipped_lines))}</p>')
    body.append("</section>")
    colors = {code: ("#1b7f3b" if code == "ok" else "#9aa0a6" if code.startswith("file_") else "#b3261e")
              for code in t.by_outcome}
    none = L["none"]
    orgs: Counter[str] = Counter()
    for (o, ou), n in t.by_org.items():
        orgs[" — ".join(x for x in (o, ou) if x) or none] += n
    months = sorted(((m or L["unknown_month"]), n) for m, n in t.by_month.items() if m)
    months += [(L["unknown_month"], t.by_month[None])] if t.by_month.get(None) else []
    body.append('<div class="grid">')
    body.append("<section>" + _html.bar_chart("chart-outcome", L["by_outcome"], list(t.by_outcome.items()),
                                             others=L["others"], colors=colors) + "</section>")
    body.append("<section>" + _html.bar_chart("chart-ca", L["by_ca"], [(k or none, v) for k, v in t.by_ca.items()],
                                             others=L["others"]) + "</section>")
    body.append("<section>" + _html.bar_chart("chart-org", L["by_org"], list(orgs.items()),
                                             others=L["others"], limit=15) + "</section>")
    body.append("<section>" + _html.column_chart("chart-month", L["by_month"], months) + "</section>")
    body.append("</div>")
    rows = ([text(p), f'<span class="code">{text(c)}</span>', text(r), text(w), text(st)]
            for p, c, r, w, st in t.failures)
    body.append(_html.search_table(
        "failures", L["failures"], [L["path"], L["code"], L["reason"], L["signer"], L["signing_time"]], rows,
        shown_n=len(t.failures), total=t.failures_total, placeholder=L["search"], shown_label=L["shown"],
        matching=L["matching"],
        classes=["path", "", "wrap", "", ""]))
    return _html.page(title or L["title"], subtitle, lang, "\n".join(body))


def write_html(rows: Iterable[Mapping[str, Any]], path: str | os.PathLike[str], *, lang: Optional[str] = None,
               title: Optional[str] = None, max_failures: int = DEFAULT_MAX_FAILURES,
               skipped_lines: int = 0) -> ReportTotals:
    """Write the report page for ``rows`` (report lines as dicts) to ``path``; returns the
    totals. ``lang`` is ``"vi"`` or ``"en"`` (default: :func:`default_lang`, Vietnamese
    under a vi_VN locale). At most ``max_failures`` failing documents are listed, the page
    saying how many there were. ``skipped_lines``: report lines the caller could not read,
    shown as a note so the totals are not taken for complete."""
    lang = _html.check_lang(default_lang() if lang is None else lang)
    totals = ReportTotals(max_failures)
    for row in rows:
        totals.add(row)
    page = _render(totals, lang, title, skipped_lines)
    _html.write_page(path, page)
    return totals
