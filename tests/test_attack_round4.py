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
