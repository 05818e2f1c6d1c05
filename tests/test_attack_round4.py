"""Attack pass, round 4: the attacker holds one valid signed document (or hands a PDF to be
signed) and controls everything unsigned around it: the input PDF's objects, the text a
portal passes as /Reason or /Location, countersignatures and time-stamp tokens in the
unsigned attributes, subjects and file names that reach report lines, paths handed to the
signing and Dask entry points.

Each test name says the attack; the oracle is a fixed expectation (a code, an exception
kind, a byte-exact property of the output) or a fresh Verifier.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import govsig
import pki as P

ROOT = Path(__file__).resolve().parent.parent
ENV = {"PYTHONPATH": str(ROOT / "python"), "PATH": os.environ.get("PATH", "")}


# --- hand-made input PDFs (classic xref table, offsets computed) --------------------------------


def raw_pdf(page_extra: bytes = b"", *, extra_objects: tuple[bytes, ...] = ()) -> bytes:
    """A one-page PDF whose page dictionary carries ``page_extra`` (attacker-chosen syntax);
    ``extra_objects`` become objects 5, 6, ... ."""
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R " + page_extra + b" >>",
        b"<< /Length 34 >>\nstream\nBT /F1 12 Tf 72 712 Td (x) Tj ET\nendstream",
        *extra_objects,
    ]
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objs, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return bytes(out)


@pytest.fixture(scope="module")
def signer_pki() -> tuple[P.Issued, P.Issued, govsig.KeySigner]:
    root = P.make_root("Gốc R4", "p256", seed="r4-root")
    leaf = P.make_leaf("Người ký R4", root, "p256", seed="r4-leaf")
    return root, leaf, govsig.KeySigner(leaf.key, leaf.cert, [])


@pytest.fixture(scope="module")
def pdf_verifier(signer_pki: tuple[P.Issued, P.Issued, govsig.KeySigner]) -> govsig.Verifier:
    return govsig.Verifier(govsig.Policy(trust=govsig.TrustStore.from_der([signer_pki[0].der])))


def assert_signed_ok(v: govsig.Verifier, signed: bytes) -> govsig.PdfResult:
    r = v.verify_pdf(signed)
    assert (r.ok, r.code) == (True, "ok"), r.reason
    assert len(r.signatures) == 1 and r.signatures[0].covers_whole_document
    return r


# --- sign_pdf: hostile input PDFs ----------------------------------------------------------------


def test_sign_pdf_page_with_a_decoy_byte_range_key_still_gets_a_valid_signature(signer_pki, pdf_verifier) -> None:  # type: ignore[no-untyped-def]
    # The page is copied into the signing revision: a /ByteRange key (or the text of one in a
    # string) written there before the signature dictionary must not receive the offsets.
    for decoy in (b"/ByteRange [0 0 0 0]", b"/ByteRange [0 1000000000000 1000000000000 1000000000000]",
                  b"/X (/ByteRange [)"):
        signed = govsig.sign_pdf(raw_pdf(decoy), signer_pki[2])
        assert_signed_ok(pdf_verifier, signed)


def test_sign_pdf_page_with_a_decoy_zero_hex_string_still_gets_a_valid_signature(signer_pki, pdf_verifier) -> None:  # type: ignore[no-untyped-def]
    # A hex string of exactly the placeholder's zeros in the copied page (the size is
    # predictable from the signer's public certificate, or given) must not receive the CMS.
    size = 8192
    decoy = b"/X <" + b"0" * (2 * size) + b">"
    signed = govsig.sign_pdf(raw_pdf(decoy), signer_pki[2], contents_size=size)
    assert_signed_ok(pdf_verifier, signed)


def test_sign_pdf_literal_string_of_backslashes_in_the_page_signs_in_linear_time(signer_pki, pdf_verifier) -> None:  # type: ignore[no-untyped-def]
    # lopdf escapes a literal string by looking each byte up in a list of the positions to
    # escape: quadratic. 1,500,000 backslashes in a page the signer copies took minutes.
    decoy = b"/X (" + b"\\\\" * 1_500_000 + b")"
    signed = govsig.sign_pdf(raw_pdf(decoy), signer_pki[2])
    assert_signed_ok(pdf_verifier, signed)


@pytest.mark.parametrize("text", [")", "\\", "(", "a)b(c", ") /Contents <00> >>", "line\nbreak", "\r", ">>",
                                  "/Name", "\\" * 300_000, "x\x00y", "\u202eevil", "Hà Nội (chi nhánh)"])
def test_sign_pdf_reason_location_name_and_field_never_break_the_pdf_syntax(signer_pki, pdf_verifier, text) -> None:  # type: ignore[no-untyped-def]
    field = text.replace(".", "_")[:255] or "f"
    signed = govsig.sign_pdf(raw_pdf(), signer_pki[2], reason=text, location=text, name=text, field=field)
    r = assert_signed_ok(pdf_verifier, signed)
    s = r.signatures[0]
    assert (s.signing_reason, s.location, s.field) == (text, text, field)


def test_sign_pdf_text_that_is_not_unicode_is_a_type_error_not_a_panic(signer_pki) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(UnicodeEncodeError):
        govsig.sign_pdf(raw_pdf(), signer_pki[2], reason="\udcff")


def test_sign_pdf_refuses_a_fifo_or_a_device_instead_of_blocking(signer_pki, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # open() of a FIFO waits for a writer forever; /dev/zero reads forever.
    fifo = tmp_path / "in.pdf"
    os.mkfifo(fifo)
    for path in (fifo, Path("/dev/zero")):
        with pytest.raises(ValueError, match="a PDF is read from a regular file only"):
            govsig.sign_pdf(path, signer_pki[2])
    with pytest.raises(IsADirectoryError):
        govsig.sign_pdf(tmp_path, signer_pki[2])


def test_verify_pdf_refuses_a_fifo_instead_of_blocking(pdf_verifier, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    fifo = tmp_path / "doc.pdf"
    os.mkfifo(fifo)
    with pytest.raises(ValueError, match="is a FIFO"):
        pdf_verifier.verify_pdf(fifo)


def test_sign_pdf_cli_prints_hostile_file_names_on_one_inert_line(signer_pki, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _, leaf, _ = signer_pki
    (tmp_path / "k.pem").write_bytes(leaf.key_pem)
    (tmp_path / "c.pem").write_bytes(leaf.pem)
    src = tmp_path / "a\nOK: forged\x1b[2J\u202e.pdf"
    src.write_bytes(raw_pdf())
    out = tmp_path / "out\nOK: forged.pdf"
    p = subprocess.run([sys.executable, "-m", "govsig", "sign-pdf", str(src), "-o", str(out), "--key",
                        str(tmp_path / "k.pem"), "--cert", str(tmp_path / "c.pem")],
                       capture_output=True, text=True, env=ENV, timeout=120)
    assert p.returncode == 0, p.stderr
    assert out.is_file()
    assert p.stderr.count("\n") == 1 and "\x1b" not in p.stderr and "\u202e" not in p.stderr, p.stderr
    assert p.stderr.startswith("signed ") and "\\x0a" in p.stderr


# --- report text: VerifyResult.to_json() and BatchResult.report_lines as the reports write them ---

HOSTILE = "Nguyễn\x85Văn\u2028A\u2029\u202eB\u200b\x9b31m\x7f\x1b]0:t\x07\ufeffC"
UNSAFE = ("Cc", "Cf", "Zl", "Zp", "Cs")


def strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in strings(v)]
    return []


def raw_unsafe(text: str) -> list[str]:
    import unicodedata
    return [c for c in text if c not in "\t\r\n" and unicodedata.category(c) in UNSAFE]


@pytest.fixture(scope="module")
def hostile_signed() -> tuple[P.Issued, bytes]:
    root = P.make_root("Gốc R4 báo cáo", "p256", seed="r4-report-root")
    leaf = P.make_leaf(HOSTILE, root, "p256", seed="r4-report-leaf", org=HOSTILE, locality=HOSTILE)
    return root, P.sign_cms(b"noi dung", leaf, detached=False)


@pytest.mark.parametrize("trusted", [True, False])
def test_verify_result_to_json_escapes_c1_separators_and_bidi_like_the_reports(hostile_signed, trusted) -> None:  # type: ignore[no-untyped-def]
    from govsig._cli_text import inert_json
    root, cms = hostile_signed
    trust = govsig.TrustStore.from_der([root.der]) if trusted else govsig.TrustStore.from_der([P.make_root("Khác R4", "p256", seed="r4-other").der])
    r = govsig.Verifier(govsig.Policy(trust=trust)).verify(cms)
    assert r.ok is trusted, r.reason
    text = r.to_json()
    assert raw_unsafe(text) == [] and len(text.splitlines()) == 1
    assert json.loads(text) == r.to_dict()
    # The same rule, byte for byte, as the Python writers of the CLI and the reports.
    assert text == inert_json(r.to_dict(), separators=(",", ":"))
    assert any(HOSTILE in s for s in strings(json.loads(text)))
    signers = r.signers_json()
    assert raw_unsafe(signers) == [] and json.loads(signers) == [s.to_dict() for s in r.signers]


def test_batch_report_lines_are_inert_before_any_python_pass(hostile_signed, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    root, cms = hostile_signed
    v = govsig.Verifier(govsig.Policy(trust=govsig.TrustStore.from_der([root.der])))
    batch = v.verify_many([(cms, None)])
    names = ["dir/a\nb\u2028c\u202e\x85.p7s".encode(), b"dir/\xff\x1b[2J.p7s"]
    batch2 = v.verify_many([(cms, None), (b"\x30\x03\x02\x01\x00", None)])
    del batch
    lines = batch2.report_lines(names, [1, 2], ["00" * 32, "11" * 32], "", "off")
    assert [(code, ok) for _, code, ok, _ in lines] == [("ok", True), ("malformed", False)]
    for (line, *_), name in zip(lines, names):
        assert raw_unsafe(line) == [] and len(line.splitlines()) == 1, line
        d = json.loads(line)
        assert d["path"] == name.decode("utf-8", "backslashreplace").replace("\\xff", "\\xff")
