"""The certificate inventory: subject attributes and Vietnamese identifiers read from real
certificates, the rows of ``govsig.inventory`` (expiry, renewal, revocation from a CRL, what
each certificate signed), CSV and pandas output, the CLI, and the HTML page in Chromium."""
from __future__ import annotations

import csv
import datetime as dt
import os
import re
import subprocess
import sys
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.name import _ASN1Type
from cryptography.x509.oid import NameOID

import chromium
import govsig
import pki as _pki
from conftest import StandardPki

UTC = dt.timezone.utc
AT = dt.datetime(2026, 6, 1, tzinfo=UTC)
ORG_NFC = "Công ty TNHH Hải Âu, chi nhánh Hà Nội"
ORG_NFD = unicodedata.normalize("NFD", ORG_NFC)
EVIL_CN = "<script>alert(1)</script>"
EVIL_OU = '=HYPERLINK("http://evil.example","xem")'


def _name(*attrs: tuple[x509.ObjectIdentifier, str]) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "VN", _type=_ASN1Type.PrintableString)]
                     + [x509.NameAttribute(oid, v, _type=_ASN1Type.UTF8String) for oid, v in attrs])


@dataclass
class Archive:
    root: Path
    trust: Path
    crl: Path
    leaves: dict[str, _pki.Issued]


def _leaf(key: str, issuer: _pki.Issued, subject: x509.Name, **kw: object) -> _pki.Issued:
    return _pki.make_leaf(f"inventory {key}", issuer, "p256", subject=subject, **kw)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def archive(pki: StandardPki, tmp_path_factory: pytest.TempPathFactory) -> Archive:
    ca = pki.rsa_intermediate
    leaves = {
        # Several UID identifiers; a comma inside the unit's name.
        "an": _leaf("an", ca, _name((NameOID.USER_ID, "CCCD:001085012345"), (NameOID.USER_ID, "CMND:012345678"),
                                   (NameOID.ORGANIZATION_NAME, "Sở Tư pháp tỉnh Hà Giang"),
                                   (NameOID.ORGANIZATIONAL_UNIT_NAME, "Phòng Hành chính, Tư pháp"),
                                   (NameOID.COMMON_NAME, "Nguyễn Văn An"))),
        # An older certificate: the tax code, with its branch suffix, in ST; the organisation
        # written decomposed (NFD).
        "company": _leaf("company", ca, _name((NameOID.STATE_OR_PROVINCE_NAME, "MST:0312345678-029"),
                                             (NameOID.ORGANIZATION_NAME, ORG_NFD),
                                             (NameOID.COMMON_NAME, "Công ty TNHH Hải Âu"))),
        # A civil servant's certificate: no identifier at all; it expires in 10 days.
        "binh": _leaf("binh", ca, _name((NameOID.ORGANIZATION_NAME, "Ủy ban nhân dân tỉnh Hà Giang"),
                                       (NameOID.COMMON_NAME, "Trần Thị Bình")),
                      not_after=AT + dt.timedelta(days=10)),
        # Several identifiers in one UID value; revoked by the CA's CRL.
        "cuong": _leaf("cuong", ca, _name((NameOID.USER_ID, "MST:8012345678, HC:B1234567"),
                                         (NameOID.ORGANIZATION_NAME, "Sở Tư pháp tỉnh Hà Giang"),
                                         (NameOID.COMMON_NAME, "Lê Văn Cường"))),
        "evil": _leaf("evil", ca, _name((NameOID.ORGANIZATION_NAME, "Ủy ban nhân dân tỉnh Hà Giang"),
                                       (NameOID.ORGANIZATIONAL_UNIT_NAME, EVIL_OU),
                                       (NameOID.COMMON_NAME, EVIL_CN))),
        "hung": _leaf("hung", ca, _name((NameOID.USER_ID, "CCCD:079201000123"),
                                       (NameOID.ORGANIZATION_NAME, "Ủy ban nhân dân tỉnh Hà Giang"),
                                       (NameOID.COMMON_NAME, "Đỗ Văn Hùng")),
                      not_after=AT - dt.timedelta(days=5)),
    }
    signed = {"an": [dt.datetime(2026, m, 10, tzinfo=UTC) for m in (3, 1, 2)], "company": [None],
              "binh": [dt.datetime(2026, 5, 1, tzinfo=UTC)] * 2, "cuong": [dt.datetime(2026, 5, 5, tzinfo=UTC)],
              "evil": [dt.datetime(2026, 4, 1, tzinfo=UTC)], "hung": [dt.datetime(2026, 1, 1, tzinfo=UTC)]}
    root = tmp_path_factory.mktemp("inventory") / "kho lưu trữ"
    (root / "2026" / "quý 2").mkdir(parents=True)
    for key, times in signed.items():
        for i, when in enumerate(times):
            # None: no signed attributes, so no signingTime at all.
            der = _pki.sign_cms(f"văn bản {key} {i}".encode(), leaves[key], detached=False, signing_time=when,
                                attrs=when is not None)
            (root / "2026" / ("quý 2" if i % 2 else "") / f"{key}-{i}.p7s").write_bytes(der)
    # A document signed by two of them counts once for each.
    (root / "2026" / "both.p7s").write_bytes(
        _pki.sign_cms(b"hai chu ky", leaves["an"], detached=False, extra_signers=[leaves["binh"]],
                      signing_time=dt.datetime(2026, 2, 20, tzinfo=UTC)))
    # What an inventory must never open or count.
    (root / "junk.p7s").write_bytes(b"not a signature")
    (root / "notes.txt").write_text("không phải chữ ký")
    os.mkfifo(root / "pipe.p7s")
    os.symlink(root / "gone.p7s", root / "dangling.p7s")
    os.symlink(root / "2026" / "an-0.p7s", root / "link.p7s")

    crl = (x509.CertificateRevocationListBuilder()
           .issuer_name(ca.cert.subject)
           .last_update(AT - dt.timedelta(days=3))
           .next_update(AT + dt.timedelta(days=7))
           .add_extension(x509.CRLNumber(7), critical=False)
           .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()),  # type: ignore[arg-type]
                          critical=False)
           .add_revoked_certificate(x509.RevokedCertificateBuilder()
                                    .serial_number(leaves["cuong"].cert.serial_number)
                                    .revocation_date(dt.datetime(2026, 5, 20, tzinfo=UTC)).build())
           .sign(ca.key, hashes.SHA256()))  # type: ignore[arg-type]
    out = root.parent
    (out / "root.pem").write_bytes(pki.rsa_root.pem)
    (out / "ca.crl").write_bytes(crl.public_bytes(serialization.Encoding.DER))
    return Archive(root=root, trust=out / "root.pem", crl=out / "ca.crl", leaves=leaves)


def _policy(a: Archive, **kw: object) -> govsig.Policy:
    return govsig.Policy(trust=govsig.TrustStore.from_files([a.trust]), at=AT, **kw)  # type: ignore[arg-type]


def _by_holder(inv: list[dict[str, object]]) -> dict[str, dict[str, object]]:
    return {str(r["holder"]): r for r in inv}


def test_signer_result_exposes_typed_subject_fields_and_identifiers(archive: Archive) -> None:
    r = govsig.Verifier(_policy(archive)).verify((archive.root / "2026" / "an-0.p7s").read_bytes())
    (s,) = r.signers
    assert s.subject_fields == [
        ("C", "VN"), ("UID", "CCCD:001085012345"), ("UID", "CMND:012345678"),
        ("O", "Sở Tư pháp tỉnh Hà Giang"), ("OU", "Phòng Hành chính, Tư pháp"), ("CN", "Nguyễn Văn An"),
    ]
    # The 12-digit CCCD is also the personal tax code.
    assert s.identifiers == {"CCCD": ["001085012345"], "MST": ["001085012345"], "CMND": ["012345678"]}

    company = govsig.Verifier(_policy(archive)).verify((archive.root / "2026" / "company-0.p7s").read_bytes())
    fields = company.signers[0].subject_fields
    assert ("O", ORG_NFD) in fields, "subject_fields keep the exact characters"
    assert company.signers[0].identifiers == {"MST": ["0312345678-029"]}


def test_a_document_without_a_certificate_has_no_fields(archive: Archive) -> None:
    der = _pki.sign_cms(b"x", archive.leaves["an"], detached=False, include_signer_cert=False, include_chain=False)
    (s,) = govsig.Verifier(_policy(archive)).verify(der).signers
    assert s.certificate is None and s.subject_fields == [] and s.identifiers == {}


def test_inventory_rows(archive: Archive) -> None:
    inv = govsig.inventory(archive.root, _policy(archive, crls=[archive.crl.read_bytes()]), renewal_days=30)
    assert isinstance(inv, govsig.Inventory) and isinstance(inv, list)
    rows = _by_holder(inv)
    assert set(rows) == {"Nguyễn Văn An", "Công ty TNHH Hải Âu", "Trần Thị Bình", "Lê Văn Cường", EVIL_CN,
                         "Đỗ Văn Hùng"}
    # Soonest expiry first.
    assert [r["holder"] for r in inv[:2]] == ["Đỗ Văn Hùng", "Trần Thị Bình"]

    an = rows["Nguyễn Văn An"]
    assert (an["organisation"], an["unit"]) == ("Sở Tư pháp tỉnh Hà Giang", "Phòng Hành chính, Tư pháp")
    assert an["identifiers"] == {"CCCD": ["001085012345"], "MST": ["001085012345"], "CMND": ["012345678"]}
    assert an["issuing_ca"] == "CA ký số chuyên dùng thử nghiệm"
    assert int(str(an["serial"]), 16) == archive.leaves["an"].cert.serial_number
    assert an["documents_signed"] == 4 and an["documents_not_ok"] == 0  # 3 alone, 1 with Bình
    assert an["first_signing_time"] == dt.datetime(2026, 1, 10, tzinfo=UTC)
    assert an["last_signing_time"] == dt.datetime(2026, 3, 10, tzinfo=UTC)
    assert an["not_after"] == _pki.NOT_AFTER and an["not_before"] == _pki.NOT_BEFORE
    assert an["revocation_status"] == "good" and an["renewal_due"] is False and an["expired"] is False
    assert an["days_to_expiry"] == (_pki.NOT_AFTER - AT).days

    company = rows["Công ty TNHH Hải Âu"]
    assert company["organisation"] == ORG_NFC, "names are shown NFC"
    assert company["identifiers"] == {"MST": ["0312345678-029"]}
    assert company["first_signing_time"] is None and company["last_signing_time"] is None

    binh = rows["Trần Thị Bình"]
    assert binh["identifiers"] == {}
    assert (binh["days_to_expiry"], binh["renewal_due"], binh["expired"]) == (10, True, False)
    assert binh["documents_signed"] == 3

    cuong = rows["Lê Văn Cường"]
    assert cuong["identifiers"] == {"MST": ["8012345678"], "HC": ["B1234567"]}
    assert cuong["revocation_status"] == "revoked" and "revoked" in str(cuong["revocation_reason"]), cuong["revocation_reason"]
    assert (cuong["documents_signed"], cuong["documents_not_ok"]) == (1, 1)

    hung = rows["Đỗ Văn Hùng"]
    assert (hung["days_to_expiry"], hung["renewal_due"], hung["expired"]) == (-5, True, True)
    assert hung["revocation_status"] == "unknown" and "expired" in str(hung["revocation_reason"])
    assert hung["documents_not_ok"] == 1

    # 11 documents read (9 signed alone, both.p7s, junk.p7s); the FIFO and both symlinks skipped.
    assert inv.documents == 11
    skipped = {Path(p).name: why for p, why in inv.skipped}
    # The archive job's walk: each entry not read says why, with its code.
    link = "file_skipped: a symbolic link, not followed (pass --follow-symlinks)"
    assert skipped == {"dangling.p7s": link, "link.p7s": link, "pipe.p7s": "file_skipped: a FIFO, not read"}


def test_inventory_walks_like_the_archive_job(archive: Archive) -> None:
    policy = _policy(archive, revocation="off")
    # Symlinks followed: the link is a document (An's count grows by one), the dangling link
    # is unreadable; the FIFO is still never opened.
    inv = govsig.inventory(archive.root, policy, follow_symlinks=True)
    assert inv.documents == 12 and _by_holder(inv)["Nguyễn Văn An"]["documents_signed"] == 5
    skipped = {Path(p).name: why.split(":")[0] for p, why in inv.skipped}
    assert skipped == {"dangling.p7s": "file_unreadable", "pipe.p7s": "file_skipped"}
    # A size cap: every signature is larger than 64 bytes; junk.p7s (15 bytes) is read.
    capped = govsig.inventory(archive.root, policy, max_size=64)
    assert capped.documents == 1 and list(capped) == []
    too_large = [why for _p, why in capped.skipped if why.startswith("file_too_large")]
    assert len(too_large) == 10 and "more than --max-size 64" in too_large[0]


def test_signers_of_signed_pdfs_are_in_the_inventory(pki: StandardPki, tmp_path: Path) -> None:
    import pdfsign

    dung = _leaf("dung", pki.rsa_intermediate, _name((NameOID.USER_ID, "CCCD:001190000777"),
                                                    (NameOID.ORGANIZATION_NAME, "Sở Nội vụ tỉnh Hà Giang"),
                                                    (NameOID.COMMON_NAME, "Phạm Thị Dung")))
    root = tmp_path / "hồ sơ"
    root.mkdir()
    (root / "quyết định.pdf").write_bytes(pdfsign.sign(pdfsign.base_pdf(), dung))
    (root / "công văn.p7s").write_bytes(_pki.sign_cms("công văn".encode(), dung, detached=False))
    # X.pdf beside X.pdf.p7s is that signature's content, not a signed PDF of its own.
    (root / "tờ trình.pdf").write_bytes(pdfsign.base_pdf("Tờ trình"))
    (root / "tờ trình.pdf.p7s").write_bytes(_pki.sign_cms((root / "tờ trình.pdf").read_bytes(), dung))
    (tmp_path / "root.pem").write_bytes(pki.rsa_root.pem)
    policy = govsig.Policy(trust=govsig.TrustStore.from_files([tmp_path / "root.pem"]), revocation="off")
    inv = govsig.inventory(root, policy)
    assert inv.documents == 3 and inv.skipped == []
    (row,) = inv
    assert row["holder"] == "Phạm Thị Dung" and row["organisation"] == "Sở Nội vụ tỉnh Hà Giang"
    assert row["identifiers"] == {"CCCD": ["001190000777"], "MST": ["001190000777"]}
    assert row["documents_signed"] == 3 and row["documents_not_ok"] == 0


def test_revocation_status_without_evidence_or_checking(archive: Archive) -> None:
    unknown = govsig.inventory(archive.root, _policy(archive))
    assert {r["holder"]: r["revocation_status"] for r in unknown}["Lê Văn Cường"] == "unknown"
    off = govsig.inventory(archive.root, _policy(archive, revocation="off"))
    assert {r["revocation_status"] for r in off} == {"not_checked"}


def test_bad_arguments_are_typed_errors(archive: Archive, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="renewal_days"):
        govsig.inventory(archive.root, _policy(archive), renewal_days=-1)
    with pytest.raises(ValueError, match="trust store"):
        govsig.inventory(archive.root, govsig.Policy())
    with pytest.raises(NotADirectoryError):
        govsig.inventory(tmp_path / "missing", _policy(archive))


def test_to_pandas_and_csv(archive: Archive, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    inv = govsig.inventory(archive.root, _policy(archive, crls=[archive.crl.read_bytes()]))
    df = inv.to_pandas()
    assert len(df) == 6
    an = df[df["holder"] == "Nguyễn Văn An"].iloc[0]
    assert (an["CCCD"], an["MST"], an["CMND"], an["HC"]) == ("001085012345", "001085012345", "012345678", "")
    assert df[df["holder"] == "Lê Văn Cường"].iloc[0]["revocation_status"] == "revoked"

    out = tmp_path / "inv.csv"
    inv.to_csv(out)
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "a BOM, so that Excel reads the Vietnamese as UTF-8"
    with out.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    by = {r["holder"]: r for r in rows}
    assert by["Công ty TNHH Hải Âu"]["MST"] == "0312345678-029"
    assert by["Công ty TNHH Hải Âu"]["organisation"] == ORG_NFC
    assert by["Trần Thị Bình"]["renewal_due"] == "True"
    assert by["Nguyễn Văn An"]["not_after"] == "2035-01-01T00:00:00Z"
    # A unit that a spreadsheet would run as a formula is neutralised.
    assert by[EVIL_CN]["unit"] == "'" + EVIL_OU

    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match="pip install pandas"):
        inv.to_pandas()


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "govsig", *args], capture_output=True, text=True, timeout=300)


def test_cli_inventory(archive: Archive, tmp_path: Path) -> None:
    common = [str(archive.root), "--trust", str(archive.trust), "--at", "2026-06-01T00:00:00Z"]
    done = _cli("inventory", *common, "--crl", str(archive.crl), "--csv", str(tmp_path / "i.csv"),
                "--html", str(tmp_path / "i.html"), "--lang", "en", "--renewal-days", "30")
    assert done.returncode == 0, done.stderr
    assert ("6 certificates in 11 documents: 1 due for renewal within 30 days, 1 expired, "
            "1 revoked or on hold, 1 with revocation status unknown; 3 entries skipped") in done.stderr
    assert "Certificate inventory" in (tmp_path / "i.html").read_text(encoding="utf-8")
    with (tmp_path / "i.csv").open(encoding="utf-8-sig", newline="") as f:
        assert len(list(csv.reader(f))) == 7

    # Without an output file: one line per certificate, untrusted text inert.
    text = _cli("inventory", *common, "--revocation", "off")
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    assert len(lines) == 6 and lines[0].startswith("2026-05-27  not_checked  Đỗ Văn Hùng")
    assert any("CCCD:001085012345 MST:001085012345 CMND:012345678" in ln for ln in lines)


@pytest.mark.parametrize("args, message", [
    (["--trust", "/nonexistent/root.pem"], "No such file"),
    (["--trust", "{trust}", "--html", "{tmp}/missing/i.html"], "does not exist; create it"),
    (["--trust", "{trust}", "--crl", "{tmp}/none.crl"], "No such file"),
    (["--trust", "{trust}", "--threads", "0"], "--threads must be 1 or more"),
    (["--trust", "{trust}", "--renewal-days", "-3"], "--renewal-days must be 0 or more"),
    (["--trust", "{trust}", "--at", "yesterday"], "not an ISO 8601 time"),
    (["--trust", "{trust}", "--cache-dir", "{tmp}"], "--cache-dir is where --fetch keeps"),
    (["--trust", "{trust}", "--revocation", "maybe"], "invalid choice"),
])
def test_cli_mistakes_are_a_short_message_and_status_2(archive: Archive, tmp_path: Path, args: list[str],
                                                       message: str) -> None:
    argv = [a.format(trust=archive.trust, tmp=tmp_path) for a in args]
    done = _cli("inventory", str(archive.root), *argv)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert message in lines[-1], "the last line says what is wrong"
    if not done.stderr.startswith("usage:"):  # argparse's own errors come after the usage
        assert len(lines) == 1


def _card(dom: str, ident: str) -> str:
    m = re.search(rf'id="{ident}"><div class="n">([^<]*)</div><div class="l">([^<]*)</div>', dom)
    assert m, f"card {ident} not in the page"
    return f"{m.group(1)}|{m.group(2)}"


@pytest.mark.slow
def test_inventory_page_in_chromium(archive: Archive, tmp_path: Path) -> None:
    inv = govsig.inventory(archive.root, _policy(archive, crls=[archive.crl.read_bytes()]))
    page = tmp_path / "danh mục.html"
    inv.to_html(page, lang="vi")
    assert EVIL_CN not in page.read_text(encoding="utf-8")
    dom = chromium.dump_dom(page)
    assert _card(dom, "total-certificates") == "6|Chứng thư số"
    assert _card(dom, "total-renewal-due") == "1|Cần gia hạn trong 30 ngày"
    assert _card(dom, "total-expired") == "1|Đã hết hạn"
    assert _card(dom, "total-revoked") == "1|Đã bị thu hồi / tạm dừng"
    assert _card(dom, "total-documents") == "11|Tài liệu đã đọc"
    ca = re.search(r'<svg class="chart" id="chart-ca".*?</svg>', dom, re.S)
    assert ca and "<title>CA ký số chuyên dùng thử nghiệm: 6</title>" in ca.group()
    expiry = re.search(r'<svg class="chart" id="chart-expiry".*?</svg>', dom, re.S)
    assert expiry and "<title>đã hết hạn: 1</title>" in expiry.group()
    assert "<title>2026-06: 1</title>" in expiry.group() and "<title>sau đó: 4</title>" in expiry.group()
    assert dom.count("<tbody><tr>") == 1 and 'id="certificates-count">6<' in dom
    assert "CCCD: 001085012345" in dom and "MST: 0312345678-029" in dom
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom

    # "tran thi binh" finds Trần Thị Bình; a tax code finds its holder.
    assert 'id="certificates-count">1<' in chromium.dump_dom(page, "#q=tran%20thi%20binh")
    found = chromium.dump_dom(page, "#q=0312345678-029")
    assert 'id="certificates-count">1<' in found
    visible = [r for r in re.findall(r"<tr>.*?</tr>", found, re.S) if "<td" in r]
    assert len(visible) == 1 and "Công ty TNHH Hải Âu" in visible[0]

    shot = tmp_path / "inventory.png"
    chromium.screenshot(page, shot)
    width, height, distinct = chromium.png_summary(shot)
    assert (width, height) == (1280, 1400) and distinct > 100


@pytest.mark.parametrize("cell", [
    "=HYPERLINK(\"http://x\")", "+1+1", "-1+1", "@SUM(A1)",
    " =1+1", "   +cmd|' /C calc'!A0", "\u00a0=1", "\u3000@x",
    "\t=1", "\tplain", "\rplain", "\nplain",
    "＝HYPERLINK(\"http://x\")", "＋1", "－1", "＠SUM(A1)", " ＝1",
])
def test_csv_cells_a_spreadsheet_would_run_are_neutralised(cell: str) -> None:
    from govsig._inventory import _csv_cell

    assert _csv_cell(cell) == "'" + cell


@pytest.mark.parametrize("cell", ["Nguyễn Văn An", "CN=An, O=Sở Tư pháp", "a=b", "2026-06-01", " An", ""])
def test_csv_cells_that_are_not_formulas_are_kept(cell: str) -> None:
    from govsig._inventory import _csv_cell

    assert _csv_cell(cell) == cell
