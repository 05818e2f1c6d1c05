"""The certificate inventory as one self-contained HTML page: totals (certificates, renewal
due, expired, revoked), charts by issuing CA, by organisation/unit and by month of expiry,
and the searchable table of certificates, soonest expiry first."""
from __future__ import annotations

import datetime as _dt
from collections import Counter
from typing import TYPE_CHECKING, Optional

from govsig import _html
from govsig._html import text

if TYPE_CHECKING:
    from govsig._inventory import Inventory

LABELS: dict[str, dict[str, str]] = {
    "vi": {
        "title": "Danh mục chứng thư số",
        "subtitle": "Tạo lúc {when} · {docs} tài liệu đã đọc · gia hạn trước {days} ngày",
        "certificates": "Chứng thư số",
        "renewal_due": "Cần gia hạn trong {days} ngày",
        "expired": "Đã hết hạn",
        "revoked": "Đã bị thu hồi / tạm dừng",
        "rev_unknown": "Chưa rõ tình trạng thu hồi",
        "documents": "Tài liệu đã đọc",
        "skipped": "Mục bỏ qua (không đọc được hoặc không phải tệp thường)",
        "totals": "Tổng hợp",
        "by_ca": "Chứng thư số theo tổ chức cung cấp dịch vụ chứng thực (CA)",
        "by_org": "Chứng thư số theo cơ quan, đơn vị",
        "by_expiry": "Chứng thư số theo tháng hết hạn",
        "expired_bucket": "đã hết hạn",
        "later": "sau đó",
        "others": "Khác",
        "none": "(không ghi)",
        "table": "Danh sách chứng thư số",
        "search": "Tìm theo họ tên, đơn vị, CCCD, MST…",
        "matching": "Khớp tìm kiếm",
        "shown": "đang hiển thị {n} trên tổng số {m} chứng thư số",
        "holder": "Người giữ",
        "org": "Cơ quan / đơn vị",
        "ids": "Định danh",
        "ca": "CA phát hành",
        "serial": "Số hiệu",
        "valid": "Hiệu lực",
        "days": "Số ngày còn lại",
        "revocation": "Thu hồi",
        "signed": "Số tài liệu đã ký",
        "signing": "Ký lần đầu / lần cuối",
        "good": "còn hiệu lực",
        "revoked_s": "đã thu hồi",
        "on_hold": "tạm dừng",
        "unknown": "chưa rõ",
        "not_checked": "không kiểm tra",
    },
    "en": {
        "title": "Certificate inventory",
        "subtitle": "Generated {when} · {docs} documents read · renewal due within {days} days",
        "certificates": "Certificates",
        "renewal_due": "Renewal due within {days} days",
        "expired": "Expired",
        "revoked": "Revoked / on hold",
        "rev_unknown": "Revocation status unknown",
        "documents": "Documents read",
        "skipped": "Entries skipped (unreadable or not a regular file)",
        "totals": "Totals",
        "by_ca": "Certificates by issuing certification authority (CA)",
        "by_org": "Certificates by organisation / unit",
        "by_expiry": "Certificates by month of expiry",
        "expired_bucket": "expired",
        "later": "later",
        "others": "Others",
        "none": "(none given)",
        "table": "Certificates",
        "search": "Search by name, unit, CCCD, tax code…",
        "matching": "Matching",
        "shown": "showing {n} of {m} certificates",
        "holder": "Holder",
        "org": "Organisation / unit",
        "ids": "Identifiers",
        "ca": "Issuing CA",
        "serial": "Serial",
        "valid": "Valid",
        "days": "Days to expiry",
        "revocation": "Revocation",
        "signed": "Documents signed",
        "signing": "First / last signing",
        "good": "good",
        "revoked_s": "revoked",
        "on_hold": "on hold",
        "unknown": "unknown",
        "not_checked": "not checked",
    },
}


def _day(t: Optional[_dt.datetime]) -> str:
    return "" if t is None else t.strftime("%Y-%m-%d")


def _months_ahead(now: _dt.datetime, n: int) -> list[str]:
    y, m = now.year, now.month
    out = []
    for _ in range(n):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def render(inv: "Inventory", lang: str, title: Optional[str], max_rows: int) -> str:
    L = LABELS[lang]
    now = inv.generated_at
    days = inv.renewal_days
    n_due = sum(1 for r in inv if r["renewal_due"] and not r["expired"])
    n_expired = sum(1 for r in inv if r["expired"])
    n_revoked = sum(1 for r in inv if r["revocation_status"] in ("revoked", "on_hold"))
    n_unknown = sum(1 for r in inv if r["revocation_status"] == "unknown")
    body = [f'<section id="totals"><h2>{text(L["totals"])}</h2>']
    body.append(_html.cards([
        ("total-certificates", L["certificates"], len(inv), ""),
        ("total-renewal-due", L["renewal_due"].format(days=days), n_due, "warn"),
        ("total-expired", L["expired"], n_expired, "bad"),
        ("total-revoked", L["revoked"], n_revoked, "bad"),
        ("total-revocation-unknown", L["rev_unknown"], n_unknown, "warn"),
        ("total-documents", L["documents"], inv.documents, ""),
        ("total-skipped", L["skipped"], len(inv.skipped), ""),
    ]))
    body.append("</section>")
    none = L["none"]
    by_ca = Counter(r["issuing_ca"] or none for r in inv)
    by_org = Counter(" — ".join(x for x in (r["organisation"], r["unit"]) if x) or none for r in inv)
    ahead = _months_ahead(now, 12)
    expiry: Counter[str] = Counter()
    for r in inv:
        month = r["not_after"].strftime("%Y-%m")
        expiry[L["expired_bucket"] if r["expired"] else month if month in ahead else L["later"]] += 1
    order = [L["expired_bucket"], *ahead, L["later"]]
    body.append('<div class="grid">')
    body.append("<section>" + _html.bar_chart("chart-ca", L["by_ca"], list(by_ca.items()), others=L["others"])
                + "</section>")
    body.append("<section>" + _html.bar_chart("chart-org", L["by_org"], list(by_org.items()), others=L["others"],
                                             limit=15) + "</section>")
    body.append("<section>"
                + _html.column_chart("chart-expiry", L["by_expiry"], [(k, expiry.get(k, 0)) for k in order])
                + "</section>")
    body.append("</div>")
    status = {"good": L["good"], "revoked": L["revoked_s"], "on_hold": L["on_hold"], "unknown": L["unknown"],
              "not_checked": L["not_checked"]}

    def cells(r: dict[str, object]) -> list[str]:
        ids = r["identifiers"]
        assert isinstance(ids, dict)
        id_text = "<br>".join(f"{text(k)}: {text(', '.join(v))}" for k, v in ids.items())
        org = " — ".join(x for x in (str(r["organisation"]), str(r["unit"])) if x)
        cls = "expired" if r["expired"] else "due" if r["renewal_due"] else ""
        rev = str(r["revocation_status"])
        rev_cls = "revoked" if rev in ("revoked", "on_hold") else ""
        return [
            text(r["holder"]), text(org), id_text, text(r["issuing_ca"]),
            f'<span class="code">{text(r["serial"])}</span>',
            f'{_day(r["not_before"])} → {_day(r["not_after"])}',  # type: ignore[arg-type]
            f'<span class="{cls}">{r["days_to_expiry"]}</span>',
            f'<span class="{rev_cls}" title="{text(r["revocation_reason"])}">{text(status.get(rev, rev))}</span>',
            str(r["documents_signed"]),
            f'{_day(r["first_signing_time"])} / {_day(r["last_signing_time"])}',  # type: ignore[arg-type]
        ]

    shown = inv[:max_rows]
    body.append(_html.search_table(
        "certificates", L["table"],
        [L["holder"], L["org"], L["ids"], L["ca"], L["serial"], L["valid"], L["days"], L["revocation"], L["signed"],
         L["signing"]],
        (cells(r) for r in shown), shown_n=len(shown), total=len(inv), placeholder=L["search"],
        shown_label=L["shown"], matching=L["matching"], classes=["", "", "", "", "wrap", "", "", "", "", ""]))
    subtitle = L["subtitle"].format(when=now.strftime("%Y-%m-%d %H:%M UTC"), docs=f"{inv.documents:,}", days=days)
    return _html.page(title or L["title"], subtitle, lang, "\n".join(body))
