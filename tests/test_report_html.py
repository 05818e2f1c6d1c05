"""The archive job's HTML report: totals, charts, the searchable failing table, Vietnamese
and English, escaping of untrusted text, a capped table, and what a person sees in
headless Chromium."""
from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.name import _ASN1Type
from cryptography.x509.oid import NameOID
from hypothesis import given
from hypothesis import strategies as st

import chromium
import pki
from govsig._govsig import parse_certificate
from govsig._html import split_dn
from govsig.report_html import ReportTotals, default_lang, write_html

EVIL = "<script>document.title='pwned'</script>"
CA_GOV = "CN=CA ký số chuyên dùng Chính phủ, O=Ban Cơ yếu Chính phủ, C=VN"
CA_VNPT = "CN=VNPT-CA, O=VNPT Group, C=VN"


def _signer(subject: str, issuer: str, signing_time: str | None, code: str = "ok") -> dict[str, Any]:
    return {"subject": subject, "issuer": issuer, "serial": "0a1b", "cert_sha256": "ab" * 32,
            "chain_sha256": ["ab" * 32, "cd" * 32], "signing_time": signing_time,
            "signature_time": signing_time or "2026-12-01T00:00:00Z",
            "signature_time_source": "signing_time" if signing_time else "validation_time",
            "code": code, "reason": "", "revocation": []}


def _row(path: str, code: str, reason: str, signers: list[dict[str, Any]],
         revocation_status: str = "proven") -> dict[str, Any]:
    return {"schema": "govsig.report/1", "path": path, "size": 1234, "sha256": "00" * 32, "ok": code == "ok",
            "code": code, "reason": reason, "revocation_status": revocation_status,
            "validated_at": "2026-12-06T00:00:00Z", "policy": {"revocation": "soft-fail"},
            "govsig_version": "0.1.0", "signers": signers, "an_extra_key": {"ignored": True}}


def _archive_rows() -> Iterator[dict[str, Any]]:
    """20 documents: 14 ok (10 Sở Tư pháp, 4 from a company whose name has a comma), 3 revoked,
    2 expired, 1 unreadable file; one failing document named and signed by '<script>'."""
    for i in range(10):
        yield _row(f"/kho/2026/stp-{i:02d}.p7s", "ok", "", [_signer(
            "CN=Nguyễn Văn An, OU=Phòng Hành chính, O=Sở Tư pháp tỉnh Hà Giang, C=VN", CA_GOV,
            f"2026-{1 + i % 3:02d}-15T08:00:00Z")])
    for i in range(4):
        yield _row(f"/kho/2026/cty-{i}.p7s", "ok", "", [_signer(
            "CN=Trần Thị Bình, O=Công ty TNHH Hải Âu\\, chi nhánh Hà Nội, C=VN", CA_VNPT,
            "2026-03-02T08:00:00Z")], revocation_status="unknown")
    for i in range(3):
        yield _row(f"/kho/2026/thu-hoi-{i}.p7s", "cert_revoked",
                   f"certificate 'CN=Lê Văn Cường' was revoked on 2026-0{i + 1}-01 (keyCompromise)",
                   [_signer("CN=Lê Văn Cường, OU=Văn phòng, O=Sở Tư pháp tỉnh Hà Giang, C=VN", CA_GOV,
                            "2026-04-01T00:00:00Z", "cert_revoked")])
    yield _row("/kho/2025/het-han-1.p7s", "cert_expired", "certificate 'CN=Đỗ Văn Hùng' expired on 2025-12-31",
               [_signer("CN=Đỗ Văn Hùng, O=Ủy ban nhân dân tỉnh Hà Giang, C=VN", CA_GOV, None, "cert_expired")],
               revocation_status="not_checked")
    yield _row(f"/kho/2025/{EVIL}.p7s", "cert_expired", f"reason with {EVIL}",
               [_signer(f"CN={EVIL}, O=Ủy ban nhân dân tỉnh Hà Giang, C=VN", CA_GOV, None, "cert_expired")],
               revocation_status="not_checked")
    yield _row("/kho/hong.p7s", "file_unreadable", "permission denied", [], revocation_status="not_checked")


def test_default_language_follows_the_locale() -> None:
    assert default_lang({"LANG": "vi_VN.UTF-8"}) == "vi"
    assert default_lang({"LANG": "vi"}) == "vi"
    assert default_lang({"LC_ALL": "vi_VN.utf8", "LANG": "en_US.UTF-8"}) == "vi"
    # LC_ALL, then LC_MESSAGES, then LANG: the first one set decides.
    assert default_lang({"LC_ALL": "en_US.UTF-8", "LANG": "vi_VN.UTF-8"}) == "en"
    assert default_lang({"LC_ALL": "", "LC_MESSAGES": "vi_VN", "LANG": "C"}) == "vi"
    assert default_lang({"LANG": "C.UTF-8"}) == "en"
    assert default_lang({"LANG": "vietnam"}) == "en", "only a vi locale name counts, not a prefix of a word"
    assert default_lang({}) == "en"


def test_totals_are_counted_in_one_pass_over_a_stream() -> None:
    rows = _archive_rows()  # a generator: it can be read once only
    t = ReportTotals()
    for r in rows:
        t.add(r)
    assert (t.documents, t.ok, t.signatures, t.failures_total) == (20, 14, 19, 6)
    assert t.by_outcome == {"ok": 14, "cert_revoked": 3, "cert_expired": 2, "file_unreadable": 1}
    assert t.by_revocation == {"proven": 13, "unknown": 4, "not_checked": 3}
    assert t.by_ca == {"CA ký số chuyên dùng Chính phủ": 15, "VNPT-CA": 4}
    # O and OU from the subject; an escaped comma stays inside the organisation's name.
    assert t.by_org[("Sở Tư pháp tỉnh Hà Giang", "Phòng Hành chính")] == 10
    assert t.by_org[("Công ty TNHH Hải Âu, chi nhánh Hà Nội", "")] == 4
    assert t.by_org[("Sở Tư pháp tỉnh Hà Giang", "Văn phòng")] == 3
    assert t.by_month == {"2026-01": 4, "2026-02": 3, "2026-03": 7, "2026-04": 3, None: 2}


def test_the_same_unit_written_composed_or_decomposed_counts_once() -> None:
    import unicodedata

    nfd = unicodedata.normalize("NFD", "Sở Tư pháp tỉnh Hà Giang")
    assert nfd != "Sở Tư pháp tỉnh Hà Giang"
    t = ReportTotals()
    for org in ("Sở Tư pháp tỉnh Hà Giang", nfd):
        t.add(_row("/a.p7s", "ok", "", [_signer(f"CN=A, O={org}, C=VN", CA_GOV, None)]))
    assert t.by_org == {("Sở Tư pháp tỉnh Hà Giang", ""): 2}


def test_untrusted_text_is_escaped_never_markup(tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    write_html(_archive_rows(), out, lang="en")
    page = out.read_text(encoding="utf-8")
    assert EVIL not in page
    assert "&lt;script&gt;document.title=&#x27;pwned&#x27;&lt;/script&gt;" in page
    # The page's own script is the only one.
    assert len(re.findall(r"<script", page)) == 1
    # Nothing is fetched when the page is opened.
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)


def test_control_and_bidi_characters_in_a_path_are_made_visible(tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    write_html([_row("/kho/evil\u202egnp.exe\x1b[2J.p7s", "cert_expired", "r", [])], out, lang="en")
    page = out.read_text(encoding="utf-8")
    assert "\u202e" not in page and "\x1b" not in page
    assert "evil\\u202egnp.exe\\x1b[2J.p7s" in page


def test_the_failing_table_is_capped_and_says_so(tmp_path: Path) -> None:
    def many() -> Iterator[dict[str, Any]]:
        for i in range(100_000):
            code = "ok" if i % 4 else "cert_revoked"
            yield _row(f"/kho/{i:06d}.p7s", code, "" if code == "ok" else f"revoked {i}",
                       [_signer("CN=Nguyễn Văn An, O=Sở Tư pháp, C=VN", CA_GOV, "2026-05-01T00:00:00Z", code)])

    out = tmp_path / "big.html"
    totals = write_html(many(), out, lang="en", max_failures=500)
    assert (totals.documents, totals.failures_total, len(totals.failures)) == (100_000, 25_000, 500)
    page = out.read_text(encoding="utf-8")
    assert "showing 500 of 25,000 documents that are not valid" in page
    assert page.count("<tr>") == 501  # the header row and 500 rows
    assert out.stat().st_size < 400_000


def test_a_report_in_a_missing_folder_raises_and_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        write_html(_archive_rows(), tmp_path / "missing" / "r.html")
    with pytest.raises(ValueError, match="lang must be one of vi, en"):
        write_html(_archive_rows(), tmp_path / "r.html", lang="fr")
    assert list(tmp_path.iterdir()) == []


def _card(dom: str, ident: str) -> str:
    m = re.search(rf'id="{ident}"><div class="n">([^<]*)</div><div class="l">([^<]*)</div>', dom)
    assert m, f"card {ident} not in the page"
    return f"{m.group(1)}|{m.group(2)}"


@pytest.mark.slow
def test_what_a_person_sees_in_chromium(tmp_path: Path) -> None:
    page = tmp_path / "báo cáo.html"
    write_html(_archive_rows(), page, lang="vi")
    dom = chromium.dump_dom(page)
    # The numbers, with their Vietnamese labels (diacritics intact).
    assert _card(dom, "total-documents") == "20|Tổng số tài liệu"
    assert _card(dom, "total-ok") == "14|Hợp lệ"
    assert _card(dom, "total-not-ok") == "6|Không hợp lệ"
    assert _card(dom, "total-unknown") == "4|Chưa rõ tình trạng thu hồi"
    assert "Chữ ký theo cơ quan, đơn vị ký" in dom and "Tài liệu không hợp lệ" in dom
    # The charts: SVG bars with their labels and numbers.
    month = re.search(r'<svg class="chart" id="chart-month".*?</svg>', dom, re.S)
    assert month and month.group().count("<rect") == 5
    assert ">2026-03</text>" in month.group() and ">7</text>" in month.group()
    org = re.search(r'<svg class="chart" id="chart-org".*?</svg>', dom, re.S)
    # A long name is shortened on its bar and given whole in the bar's tooltip.
    assert org and "<title>Công ty TNHH Hải Âu, chi nhánh Hà Nội: 4</title>" in org.group()
    # The failing table: six rows, the script shown as text and never run.
    assert dom.count('<td class="path">') == 6
    assert "<title>Báo cáo kiểm tra chữ ký số</title>" in dom
    assert "pwned" not in re.search(r"<title>.*?</title>", dom).group()  # type: ignore[union-attr]
    assert 'id="failures-count">6<' in dom

    # The search box filters as a person types; '#q=' pre-fills it. Diacritics and case are
    # ignored: "le van cuong" finds "Lê Văn Cường".
    filtered = chromium.dump_dom(page, "#q=le%20van%20cuong")
    assert 'id="failures-count">3<' in filtered
    assert filtered.count("<tr hidden") == 3
    visible = [r for r in re.findall(r"<tr(?: hidden=\"\")?>.*?</tr>", filtered, re.S)
               if not r.startswith("<tr hidden") and "<td" in r]
    assert len(visible) == 3 and all("Lê Văn Cường" in r for r in visible)
    assert 'id="failures-count">0<' in chromium.dump_dom(page, "#q=kh%C3%B4ng-c%C3%B3-g%C3%AC")

    shot = tmp_path / "report.png"
    chromium.screenshot(page, shot)
    width, height, distinct = chromium.png_summary(shot)
    assert (width, height) == (1280, 1400)
    assert shot.stat().st_size > 20_000 and distinct > 100, "the screenshot is a rendered page, not a blank one"


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "govsig", *args], capture_output=True, text=True, timeout=120)


def test_cli_renders_a_jsonl_job_even_with_a_truncated_last_line(tmp_path: Path) -> None:
    jsonl = tmp_path / "job.jsonl"
    lines = [json.dumps(r, ensure_ascii=False) for r in _archive_rows()]
    # A job killed mid-write leaves half a line.
    jsonl.write_text("\n".join(lines) + "\n" + lines[0][:40], encoding="utf-8")
    out = tmp_path / "r.html"
    done = _cli("report", str(jsonl), "--html", str(out), "--lang", "en")
    assert done.returncode == 0, done.stderr
    assert "1 line(s) were not JSON objects and were skipped (first: line 21)" in done.stderr
    assert "20 documents, 14 valid, 6 not valid (6 listed)" in done.stdout
    page = out.read_text(encoding="utf-8")
    assert "1 report lines could not be read and were skipped." in page
    assert "Documents by outcome" in page


def test_cli_mistakes_are_one_line_and_status_2(tmp_path: Path) -> None:
    jsonl = tmp_path / "job.jsonl"
    jsonl.write_text("", encoding="utf-8")
    missing = _cli("report", str(tmp_path / "nope.jsonl"), "--html", str(tmp_path / "r.html"))
    assert missing.returncode == 2 and missing.stderr.startswith("govsig: cannot read the report:")
    assert "Traceback" not in missing.stderr
    no_folder = _cli("report", str(jsonl), "--html", str(tmp_path / "no" / "r.html"))
    assert no_folder.returncode == 2 and "does its folder exist?" in no_folder.stderr
    assert len(no_folder.stderr.strip().splitlines()) == 1
    bad_lang = _cli("report", str(jsonl), "--html", str(tmp_path / "r.html"), "--lang", "fr")
    # The refused value is not quoted back (it could be a secret typed in the wrong place);
    # the choices are.
    assert bad_lang.returncode == 2 and "--lang: invalid choice" in bad_lang.stderr
    assert "(choose from 'vi', 'en')" in bad_lang.stderr and "'fr'" not in bad_lang.stderr



_KEY = pki.derive_key("p256", "report subject text")
_OIDS = {"CN": NameOID.COMMON_NAME, "O": NameOID.ORGANIZATION_NAME, "OU": NameOID.ORGANIZATIONAL_UNIT_NAME,
         "UID": NameOID.USER_ID, "ST": NameOID.STATE_OR_PROVINCE_NAME}
_VALUE = st.text(alphabet=st.sampled_from(list(',+"\\<>;=# ') + list("aZ09:-ễđƯ")), min_size=1, max_size=40)


def _core_subject_text(attrs: list[tuple[str, str]]) -> str:
    """The core's RFC 4514 text of a certificate subject made of these attributes."""
    name = x509.Name([x509.NameAttribute(_OIDS[k], v, _type=_ASN1Type.UTF8String) for k, v in attrs])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(_KEY.public_key())
            .serial_number(1).not_valid_before(dt.datetime(2025, 1, 1)).not_valid_after(dt.datetime(2026, 1, 1))
            .sign(_KEY, hashes.SHA256()))
    return parse_certificate(cert.public_bytes(Encoding.DER)).subject


@given(st.lists(st.tuples(st.sampled_from(sorted(_OIDS)), _VALUE), min_size=1, max_size=5))
def test_subject_text_from_a_report_line_splits_back_into_its_attributes(attrs: list[tuple[str, str]]) -> None:
    # A report line may carry the subject as RFC 4514 text only: the report reads O and OU
    # back from it, whatever commas, plus signs, quotes or spaces the values hold.
    assert split_dn(_core_subject_text(attrs)) == list(reversed(attrs))
