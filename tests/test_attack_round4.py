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


@pytest.mark.parametrize("ending", [b"", b"\r", b"\r\n", b"\n% trailing comment without newline"])
def test_sign_pdf_finds_its_placeholders_whatever_the_input_ends_with(signer_pki, pdf_verifier, ending: bytes) -> None:  # type: ignore[no-untyped-def]
    assert_signed_ok(pdf_verifier, govsig.sign_pdf(raw_pdf().rstrip(b"\n") + ending, signer_pki[2]))


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


# Hostile structures of the input document: the verdict each gets (held).
def build_pdf(objs: list[bytes], root_ref: bytes = b"1 0 R") -> bytes:
    out = bytearray(b"%PDF-1.7\n")
    offs = []
    for i, body in enumerate(objs, 1):
        offs.append(len(out)); out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    x = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs)+1)
    for o in offs: out += b"%010d 00000 n \n" % o
    out += b"trailer\n<< /Size %d /Root %s >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs)+1, root_ref, x)
    return bytes(out)

HOSTILE_INPUTS = {
 "utf16_same_name": build_pdf([b"<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [5 0 R] >> >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
   b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Annots [5 0 R] >>", b"<< >>",
   b"<< /FT /Tx /T <FEFF005300690067006E0061007400750072006500310029> /Type /Annot /Subtype /Widget /Rect [0 0 1 1] /P 3 0 R >>"]),
 "utf16_exact": build_pdf([b"<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [5 0 R] >> >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
   b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Annots [5 0 R] >>", b"<< >>",
   b"<< /FT /Tx /T <FEFF005300690067006E006100740075007200650031> /Type /Annot /Subtype /Widget /Rect [0 0 1 1] /P 3 0 R >>"]),
 "pages_cycle": build_pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [2 0 R 3 0 R] /Count 1 >>",
   b"<< /Type /Pages /Parent 2 0 R /Kids [2 0 R] /Count 1 >>"]),
 "fields_cycle": build_pdf([b"<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [4 0 R] >> >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
   b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>", b"<< /T (A) /Kids [4 0 R 5 0 R] >>", b"<< /T (B) /Parent 4 0 R /Kids [4 0 R] >>"]),
 "root_not_dict": build_pdf([b"[1 2 3]", b"<< >>"]),
 "annots_not_array": build_pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
   b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Annots 1 0 R >>"]),
 "deep_nesting": build_pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
   b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /X " + b"[" * 5000 + b"]" * 5000 + b" >>"]),
}


@pytest.mark.parametrize("name", sorted(HOSTILE_INPUTS))
def test_sign_pdf_hostile_structures_sign_correctly_or_are_refused_with_a_kind(signer_pki, pdf_verifier, name: str) -> None:  # type: ignore[no-untyped-def]
    expected = {
        "utf16_same_name": None,  # "Signature1)" is another name
        "utf16_exact": "field_exists",  # /T as UTF-16 is the same name as the literal
        "pages_cycle": "malformed",
        "fields_cycle": None,
        "root_not_dict": "malformed",
        "annots_not_array": "malformed",
        "deep_nesting": "malformed",
    }[name]
    if expected is None:
        assert_signed_ok(pdf_verifier, govsig.sign_pdf(HOSTILE_INPUTS[name], signer_pki[2]))
    else:
        with pytest.raises(govsig.PdfSigningError) as e:
            govsig.sign_pdf(HOSTILE_INPUTS[name], signer_pki[2])
        assert e.value.kind == expected, str(e.value)


def test_sign_pdf_cli_never_echoes_a_pin_given_on_the_command_line(tmp_path: Path) -> None:
    pdf = tmp_path / "in.pdf"
    pdf.write_bytes(raw_pdf())
    for argv in (["--pin", "731942"], ["--pin=731942"], ["--user-pin", "731942"], ["--pi", "731942"]):
        p = subprocess.run([sys.executable, "-m", "govsig", "sign-pdf", str(pdf), "--pkcs11-module", "/nonexistent.so",
                            *argv], capture_output=True, text=True, env=ENV, timeout=120)
        assert p.returncode == 2 and "731942" not in p.stdout + p.stderr, (argv, p.stderr)
        assert p.stderr.splitlines()[-1].count(": error: ") == 1, p.stderr


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


# --- countersignatures (RFC 5652 §11.4): unsigned, so anyone may add, widen or nest them -------

import countersign as C  # noqa: E402
from asn1crypto import cms as a_cms  # noqa: E402

SIGNATURE_TIME_STAMP_TOKEN = "1.2.840.113549.1.9.16.2.14"


class Counter:
    def __init__(self) -> None:
        self.root = P.make_root("Gốc phản ký R4", seed="r4-cs-root")
        self.official = P.make_leaf("Cán bộ R4", self.root, seed="r4-cs-official")
        self.notary = P.make_leaf("Công chứng R4", self.root, seed="r4-cs-notary")
        self.stranger_root = P.make_root("Gốc lạ R4", seed="r4-cs-stranger-root")
        self.stranger = P.make_leaf("Người lạ R4", self.stranger_root, seed="r4-cs-stranger")
        self.signed = P.sign_cms(CONTENT, self.official)

    def verify(self, sig: bytes, **kw: object) -> govsig.VerifyResult:
        return govsig.Verifier(govsig.Policy(trust=[self.root.der], **kw)).verify(sig, CONTENT)  # type: ignore[arg-type]


CONTENT = "Văn bản phản ký R4".encode()


@pytest.fixture(scope="module")
def cs() -> Counter:
    return Counter()


def with_raw_countersignature_values(cms_der: bytes, values: bytes) -> bytes:
    """``cms_der`` with one id-countersignature attribute whose SET OF holds ``values`` (raw
    TLVs) on signer 0."""
    attribute = C._tlv(0x30, a_cms.CMSAttributeType(C.COUNTER_SIGNATURE).dump() + C._tlv(0x31, values))
    ci = a_cms.ContentInfo.load(cms_der)
    ci["content"]["signer_infos"][0]["unsigned_attrs"] = a_cms.CMSAttributes.load(C._tlv(0x31, attribute))
    return bytes(ci.dump())


def test_a_flood_of_countersignature_values_gives_one_budget_result_not_one_per_value(cs: Counter) -> None:
    # 300,000 two-byte values (600 KB) used to give 300,000 results (hundreds of MB, a
    # report line of tens of MB).
    one = C.counter_signer_info(C.signature_value_of(cs.signed), cs.notary).dump()
    sig = with_raw_countersignature_values(cs.signed, one * 9 + b"\x05\x00" * 300_000)
    r = cs.verify(sig, intermediates=[cs.notary.der])
    (s,) = r.signers
    assert (r.code, s.code, s.warnings) == ("ok", "ok", ["countersignature_invalid"])
    assert [c.code for c in s.countersigners] == ["ok"] * 8 + ["budget_exceeded"]
    last = s.countersigners[-1]
    assert last.reason.startswith("300001 countersignature(s) not verified")
    # It names the first countersignature it stands for, not the signer it counter-signs.
    assert last.sid == s.countersigners[0].sid != s.sid
    assert len(r.to_json()) < 100_000


def test_a_countersignature_moved_from_another_signer_covers_other_bytes_and_fails(cs: Counter) -> None:
    two = P.sign_cms(CONTENT, cs.official, extra_signers=[cs.notary])
    moved = C.counter_signer_info(C.signature_value_of(two, 1), cs.notary)
    r = cs.verify(C.with_countersignatures(two, 0, [moved]))
    # (SET OF SignerInfo is re-sorted when written: find the one that got it.)
    (s0,) = [s for s in r.signers if s.countersigners]
    assert (r.code, s0.code, s0.warnings) == ("ok", "ok", ["countersignature_invalid"])
    (c,) = s0.countersigners
    assert c.code == "digest_mismatch" and not c.ok, (c.code, c.reason)


def test_a_trusted_countersigner_never_makes_an_untrusted_signer_look_better(cs: Counter) -> None:
    signed = P.sign_cms(CONTENT, cs.stranger)
    good = C.counter_signer_info(C.signature_value_of(signed), cs.notary)
    r = cs.verify(C.with_countersignatures(signed, 0, [good], certs=[cs.notary]))
    (s,) = r.signers
    assert (r.ok, r.code, s.code) == (False, "chain_untrusted", "chain_untrusted")
    assert [c.code for c in s.countersigners] == ["ok"]
    # And the reverse: an untrusted countersigner leaves a good signer good, with a warning.
    bad = C.counter_signer_info(C.signature_value_of(cs.signed), cs.stranger)
    r = cs.verify(C.with_countersignatures(cs.signed, 0, [bad], certs=[cs.stranger]))
    assert (r.ok, r.code, r.signers[0].warnings) == (True, "ok", ["countersignature_invalid"])
    assert [c.code for c in r.signers[0].countersigners] == ["chain_untrusted"]


def with_unsigned_tokens(info: a_cms.SignerInfo, tokens: list[bytes]) -> a_cms.SignerInfo:
    """A copy of ``info`` whose unsigned attributes carry ``tokens`` as signature time-stamps."""
    info = a_cms.SignerInfo.load(info.dump())
    attr = a_cms.CMSAttribute({"type": SIGNATURE_TIME_STAMP_TOKEN, "values": [a_cms.ContentInfo.load(t) for t in tokens]})
    info["unsigned_attrs"] = [attr]
    return info


def test_time_stamps_inside_a_countersignature_never_move_the_signers_time(openssl: str, tmp_path: Path) -> None:
    import archive_decade as ad
    from test_signature_time import World
    w = World(tmp_path, openssl)
    try:
        # The signer's certificate expired years before `today`; its signature carries no
        # time-stamp. A countersignature (anyone may add one) carries a valid token over its
        # own signature value and a valid token over the *signer's* signature value.
        csi = C.counter_signer_info(ad.signature_value(w.bare), w.signer)
        csi = with_unsigned_tokens(csi, [w.tsa.stamp(csi["signature"].native), w.stamp(w.bare)])
        s = w.verify(C.with_countersignatures(w.bare, 0, [csi]))
        assert (s.code, s.signature_time_source, s.signature_time) == ("cert_expired", "at", w.today)
        assert s.timestamps == []
        (c,) = s.countersigners
        assert sorted((t.kind, t.code) for t in c.timestamps) == [("signature", "ok"), ("signature", "timestamp_imprint_mismatch")]
        assert (c.code, c.signature_time_source) == ("ok", "timestamp")
    finally:
        w.close()


# --- a long-lived Verifier with a fetcher: evidence carried by one document -----------------------

import datetime as dt  # noqa: E402

from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402

UTC = dt.timezone.utc
CRL_URL = "http://crl.r4.invalid/leaf.crl"


def make_crl(issuer: P.Issued, revoked: list[int], this_update: dt.datetime, number: int) -> bytes:
    b = (x509.CertificateRevocationListBuilder().issuer_name(issuer.cert.subject)
         .last_update(this_update).next_update(this_update + dt.timedelta(days=7))
         .add_extension(x509.CRLNumber(number), critical=False))
    for serial in revoked:
        b = b.add_revoked_certificate(x509.RevokedCertificateBuilder().serial_number(serial)
                                      .revocation_date(this_update - dt.timedelta(days=1)).build())
    return b.sign(issuer.key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def with_crls(cms_der: bytes, crls: list[bytes]) -> bytes:
    from asn1crypto import crl as a_crl
    ci = a_cms.ContentInfo.load(cms_der)
    ci["content"]["crls"] = [a_cms.RevocationInfoChoice({"crl": a_crl.CertificateList.load(c)}) for c in crls]
    return bytes(ci.dump(force=True))


class Fetcher:
    def __init__(self) -> None:
        self.answer: bytes | None = None
        self.calls: list[str] = []

    def __call__(self, url: str, request: bytes | None = None) -> bytes:
        self.calls.append(url)
        if self.answer is None:
            raise OSError("the CRL server is down")
        return self.answer


@pytest.mark.parametrize("carried", ["good", "revoking"])
@pytest.mark.parametrize("online", [False, True])
def test_a_crl_carried_by_one_document_never_decides_another(carried: str, online: bool) -> None:
    root = P.make_root("Gốc CRL R4", "p256", seed="r4-crl-root")
    leaf = P.make_leaf("Người ký CRL R4", root, "p256", seed="r4-crl-leaf",
                       extra_extensions=[(x509.CRLDistributionPoints(
                           [x509.DistributionPoint([x509.UniformResourceIdentifier(CRL_URL)], None, None, None)]), False)])
    t = dt.datetime.now(UTC).replace(microsecond=0)
    serial = leaf.cert.serial_number
    carried_crl = make_crl(root, [serial] if carried == "revoking" else [], t - dt.timedelta(hours=1), 7)
    content = b"tai lieu"
    plain = P.sign_cms(content, leaf, detached=False)
    carrying = with_crls(plain, [carried_crl])
    fetcher = Fetcher()
    if online:
        # The CA's own CRL, published earlier: it says the opposite of the carried one.
        fetcher.answer = make_crl(root, [] if carried == "revoking" else [serial], t - dt.timedelta(hours=2), 6)
    policy = govsig.Policy(trust=[root.der], revocation="hard-fail")

    def fresh(sig: bytes) -> str:
        f = Fetcher()
        f.answer = fetcher.answer
        return govsig.Verifier(policy, fetcher=f).verify(sig).code

    want_plain, want_carrying = fresh(plain), fresh(carrying)
    # A current CRL in the document decides it (nothing is fetched for it).
    assert want_carrying == ("cert_revoked" if carried == "revoking" else "ok")
    assert want_plain == ("cert_revoked" if online and carried == "good" else "ok" if online else "fetch_failed")
    v = govsig.Verifier(policy, fetcher=fetcher)
    assert v.verify(carrying).code == want_carrying
    # The carried CRL never decides the document without one, in either direction.
    assert v.verify(plain).code == want_plain
    # Fetched evidence is the Verifier's, for every document (DESIGN: fetched once per URL):
    # once the CA's CRL revoking the signer is known, the carried "good" no longer wins
    # (revoked at or before T wins over any good). The verdict only ever gets stricter.
    if online and carried == "good":
        want_carrying = "cert_revoked"
    assert v.verify(carrying).code == want_carrying
    assert v.verify(plain).code == want_plain
    codes = v.verify_many([(carrying, None), (plain, None), (carrying, None)], threads=2).codes
    assert [govsig.codes()[c] for c in codes] == [want_carrying, want_plain, want_carrying]
    # A batch on a fresh Verifier: the carried CRL of items 0 and 2 never decides item 1.
    f = Fetcher()
    f.answer = fetcher.answer
    codes = govsig.Verifier(policy, fetcher=f).verify_many([(carrying, None), (plain, None), (carrying, None)],
                                                            threads=2).codes
    assert govsig.codes()[codes[1]] == fresh(plain)


# --- govsig timestamp: what a hostile (or intercepted, plain-HTTP) TSA says reaches the terminal --


def der(tag: int, body: bytes) -> bytes:
    n = len(body)
    head = bytes([n]) if n < 0x80 else b"\x81" + bytes([n]) if n < 0x100 else b"\x82" + n.to_bytes(2, "big")
    return bytes([tag]) + head + body


def test_timestamp_cli_prints_a_tsa_status_text_inert(cs: Counter, tmp_path: Path) -> None:
    from http_servers import LoopbackServer
    text = "busy\nOK: 10 files stamped\x1b[2J\u202eevil\x85".encode()
    status = der(0x30, der(0x02, b"\x02") + der(0x30, der(0x0c, text)))
    sig = tmp_path / "a\x1b[31m.p7s"
    sig.write_bytes(cs.signed)
    with LoopbackServer() as srv:
        srv.serve("/tsa", der(0x30, status), content_type="application/timestamp-reply")
        p = subprocess.run([sys.executable, "-m", "govsig", "timestamp", str(sig), "--tsa", srv.url("/tsa")],
                           capture_output=True, text=True, env=ENV, timeout=120)
    assert p.returncode == 1
    lines = p.stderr.splitlines()
    assert len(lines) == 2 and "timestamp_rejected" in lines[0], p.stderr
    assert not [c for c in p.stderr if c in "\x1b\u202e\x85"], p.stderr
    assert lines[1] == "time-stamped 0 files, 1 failed"


# --- govsig.dask: paths handed to the cluster ---------------------------------------------------


def test_dask_paths_fifos_devices_links_and_newlines_each_get_one_row(cs: Counter, tmp_path: Path) -> None:
    import govsig.dask
    root = tmp_path / "archive"
    root.mkdir()
    good = root / "a\nOK: forged\u2028.p7m"
    good.write_bytes(P.sign_cms(CONTENT, cs.official, detached=False))
    fifo = root / "fifo.p7s"
    os.mkfifo(fifo)
    outside = tmp_path / "outside.p7m"
    outside.write_bytes(P.sign_cms(CONTENT, cs.official, detached=False))
    link = root / "link.p7m"
    link.symlink_to(outside)
    policy = govsig.Policy(trust=[cs.root.der])
    paths = [str(good), str(fifo), "/dev/zero", str(link), str(root / "missing.p7s"), str(root)]
    df = govsig.dask.verify_paths(paths, policy, partition_size=2).compute()
    assert list(df["path"]) == paths
    codes = dict(zip(df["path"], df["code"]))
    assert codes[str(good)] == "ok"
    assert codes[str(fifo)] == codes["/dev/zero"] == codes[str(root)] == "file_skipped"
    assert codes[str(root / "missing.p7s")] == "file_vanished"
    # A link named explicitly is not followed either (verify_paths has no follow_symlinks);
    # its code is the one of a file swapped for a link after listing (archive/walk.py).
    reasons = dict(zip(df["path"], df["reason"]))
    assert codes[str(link)] == "file_vanished" and "symbolic link" in reasons[str(link)]
    summary = govsig.dask.verify_archive(root, policy, report=tmp_path / "r.parquet")
    assert summary.total == 3 and summary.counts == {"ok": 1, "file_skipped": 2}


def test_sign_pdf_refuses_to_sign_over_a_docmdp_p1_certification(signer_pki, pdf_verifier) -> None:  # type: ignore[no-untyped-def]
    # P = 1 permits no change: a second signature would turn the certified document into
    # modified_after_signing. P = 2 permits signing.
    certified = govsig.sign_pdf(raw_pdf(), signer_pki[2], certify=1)
    with pytest.raises(govsig.PdfSigningError) as e:
        govsig.sign_pdf(certified, signer_pki[2], field="Second")
    assert e.value.kind == "invalid_argument" and "DocMDP level 1" in str(e.value)
    twice = govsig.sign_pdf(govsig.sign_pdf(raw_pdf(), signer_pki[2], certify=2), signer_pki[2], field="Second")
    r = pdf_verifier.verify_pdf(twice)
    assert (r.ok, [s.field for s in r.signatures]) == (True, ["Signature1", "Second"])


def test_sign_pdf_cli_output_never_writes_through_a_planted_link_or_fifo(signer_pki, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _, leaf, _ = signer_pki
    (tmp_path / "k.pem").write_bytes(leaf.key_pem)
    (tmp_path / "c.pem").write_bytes(leaf.pem)
    src = tmp_path / "in.pdf"
    src.write_bytes(raw_pdf())
    victim = tmp_path / "victim.txt"
    victim.write_bytes(b"keep me")

    def run(out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "govsig", "sign-pdf", str(src), "-o", str(out), "--key",
                               str(tmp_path / "k.pem"), "--cert", str(tmp_path / "c.pem"), *extra],
                              capture_output=True, text=True, env=ENV, timeout=120)

    link = tmp_path / "out.pdf"
    link.symlink_to(victim)
    assert run(link).returncode == 2 and victim.read_bytes() == b"keep me"
    dangling = tmp_path / "dangling.pdf"
    dangling.symlink_to(tmp_path / "created-through-link.pdf")
    p = run(dangling)
    assert p.returncode == 2 and not (tmp_path / "created-through-link.pdf").exists(), p.stderr
    # --force replaces the link itself, never the file it names.
    assert run(link, "--force").returncode == 0
    assert victim.read_bytes() == b"keep me" and not link.is_symlink() and link.read_bytes().startswith(b"%PDF-")
    fifo = tmp_path / "fifo.pdf"
    os.mkfifo(fifo)
    assert run(fifo).returncode == 2
    # The input may not be a FIFO either (the CLI checks before reading).
    p = subprocess.run([sys.executable, "-m", "govsig", "sign-pdf", str(fifo), "-o", str(tmp_path / "x.pdf"), "--key",
                        str(tmp_path / "k.pem"), "--cert", str(tmp_path / "c.pem")],
                       capture_output=True, text=True, env=ENV, timeout=120)
    assert p.returncode == 2 and "not a file" in p.stderr


# --- report files: a link planted at the temporary name -----------------------------------------


def test_html_and_csv_reports_never_write_through_a_link_at_a_predictable_temporary_name(tmp_path: Path) -> None:
    from govsig import _html, _inventory
    victim = tmp_path / "victim"
    victim.write_bytes(b"keep me")
    for name, write in (("report.html", lambda p: _html.write_page(p, "<p>x</p>")),
                        ("inventory.csv", lambda p: _inventory.write_csv([], p))):
        target = tmp_path / name
        # The name the writers used: target + ".tmp" + the writer's pid.
        (tmp_path / f"{name}.tmp{os.getpid()}").symlink_to(victim)
        write(target)
        assert victim.read_bytes() == b"keep me"
        assert target.is_file() and not target.is_symlink()
        assert oct(target.stat().st_mode & 0o777) == oct(0o666 & ~current_umask())
    assert sorted(p.name for p in tmp_path.iterdir() if not p.is_symlink()) == ["inventory.csv", "report.html", "victim"]


def current_umask() -> int:
    mask = os.umask(0o077)
    os.umask(mask)
    return mask


# --- content time-stamps: only valid tokens take part in the order rule --------------------------


def test_invalid_later_content_timestamps_never_trigger_the_order_failure(openssl: str, tmp_path: Path) -> None:
    import archive_decade as ad
    from test_content_timestamps import _shifted, content_stamped
    from test_signature_time import DAY, World, forge, tst_info_of
    w = World(tmp_path, openssl)
    try:
        # Dated a day after the signature time-stamp, each invalid in its own way: over other
        # content (the trusted TSA's key), and from a TSA nobody trusts.
        other = forge(_shifted(tst_info_of(w.tsa.stamp(b"another document")), DAY), w.p.tsa)
        stranger = w.stranger.stamp(w.content)
        valid = w.tsa.stamp(w.content)
        sig = content_stamped(w, [other, stranger, valid])
        sig = ad.with_tokens(sig, [w.stamp(sig)])
        s = w.verify(sig)
        assert (s.code, s.signature_time_source) == ("ok", "timestamp")
        assert sorted((t.kind, t.code) for t in s.timestamps) == [
            ("content", "ok"), ("content", "timestamp_imprint_mismatch"), ("content", "timestamp_untrusted"),
            ("signature", "ok")]
        (sig_ts,) = [t for t in s.timestamps if t.kind == "signature"]
        assert s.signature_time == sig_ts.gen_time.replace(microsecond=0)
    finally:
        w.close()
