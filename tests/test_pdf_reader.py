"""The lazy PDF reader (rust/govsig-core/src/pdf/lazy.rs) against real-world file shapes made
by qpdf (pikepdf) and signed by govsig and pyHanko, and against hostile incremental updates
appended by hand: every hostile file ends in a clear non-ok result, never internal_error."""

from __future__ import annotations

import io
import logging
import re
import zlib
from pathlib import Path
from typing import Any

import pikepdf
import pytest

import govsig
import pdf_attacks
import pdfsign

logging.getLogger("pyhanko").setLevel(logging.CRITICAL)
logging.getLogger("pyhanko_certvalidator").setLevel(logging.CRITICAL)

REFUSED = {"pdf_malformed", "byte_range_invalid", "modified_after_signing"}


def key_signer(leaf: Any) -> govsig.KeySigner:
    return govsig.KeySigner(leaf.key, leaf.cert, [c.cert for c in leaf.path[1:] if not c.is_root])


@pytest.fixture(scope="module")
def verifier(pki) -> govsig.Verifier:  # type: ignore[no-untyped-def]
    return govsig.Verifier(govsig.Policy(trust=govsig.TrustStore.from_der([pki.rsa_root.der, pki.p256_root.der])))


def reshape(pdf: bytes, shape: str) -> bytes:
    """The document rewritten by qpdf in one of the shapes seen in the wild."""
    out = io.BytesIO()
    with pikepdf.open(io.BytesIO(pdf)) as p:
        if shape == "objstm":
            p.save(out, object_stream_mode=pikepdf.ObjectStreamMode.generate)
        elif shape == "linearized":
            p.save(out, linearize=True)
        else:
            p.save(out, object_stream_mode=pikepdf.ObjectStreamMode.disable)
    return out.getvalue()


def _last_startxref(pdf: bytes) -> int:
    return int(re.findall(rb"startxref\s+(\d+)", pdf)[-1])


def _root_and_size(pdf: bytes) -> tuple[int, int, int]:
    with pikepdf.open(io.BytesIO(pdf)) as p:
        return p.Root.objgen[0], p.Root.Pages.objgen[0], int(p.trailer.Size)


def append_update(pdf: bytes, objects: dict[int, bytes], *, prev: int | None = None,
                  xref_offsets: dict[int, int] | None = None, trailer_extra: bytes = b"") -> bytes:
    """An incremental update: ``objects`` (number -> body, written as ``N 0 obj body endobj``),
    a classic xref section for them and a trailer with /Prev. ``xref_offsets`` overrides the
    offset the xref gives for an object (to point it somewhere else)."""
    root, _, size = _root_and_size(pdf)
    out = bytearray(pdf if pdf.endswith(b"\n") else pdf + b"\n")
    offsets: dict[int, int] = {}
    for num, body in objects.items():
        offsets[num] = len(out)
        out += b"%d 0 obj\n" % num + body + b"\nendobj\n"
    offsets.update(xref_offsets or {})
    xref_at = len(out)
    out += b"xref\n"
    for num in sorted(offsets):
        out += b"%d 1\n%010d 00000 n \n" % (num, offsets[num])
    size = max([size] + [n + 1 for n in offsets])
    p = _last_startxref(pdf) if prev is None else prev
    out += b"trailer\n<< /Size %d /Root %d 0 R /Prev %d %s>>\nstartxref\n%d\n%%%%EOF\n" % (
        size, root, p, trailer_extra, xref_at)
    return bytes(out)


def append_xref_stream(pdf: bytes, dict_body: bytes, data: bytes) -> bytes:
    """An incremental update that is only a cross-reference stream object (its dictionary
    entries given, /Type /Root /Prev /Length filled in)."""
    root, _, size = _root_and_size(pdf)
    out = bytearray(pdf if pdf.endswith(b"\n") else pdf + b"\n")
    at = len(out)
    out += (b"%d 0 obj\n<< /Type /XRef /Root %d 0 R /Prev %d /Length %d %s >>\nstream\n"
            % (size, root, _last_startxref(pdf), len(data), dict_body))
    out += data + b"\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n" % at
    return bytes(out)


@pytest.fixture(scope="module")
def signed(pki) -> bytes:  # type: ignore[no-untyped-def]
    """A base by reportlab (classic xref), signed by pyHanko (wide /ByteRange reserve)."""
    return pdfsign.sign(pdfsign.base_pdf(), pki.rsa_leaf)


def refused(verifier: govsig.Verifier, data: bytes) -> Any:
    r = verifier.verify_pdf(data)
    assert not r.ok
    assert r.code in REFUSED, (r.code, r.reason)
    assert r.reason
    return r


# 1. Real-world shapes ----------------------------------------------------------------------


@pytest.mark.parametrize("shape", ["objstm", "linearized", "classic"])
@pytest.mark.parametrize("times", [1, 2])
def test_real_world_shapes_verify_and_agree_with_pyhanko(pki, verifier: govsig.Verifier,  # type: ignore[no-untyped-def]
                                                         shape: str, times: int) -> None:
    base = reshape(pdfsign.base_pdf(pages=2), shape)
    pdf = govsig.sign_pdf(base, key_signer(pki.rsa_leaf), field="Signature1")
    if times == 2:
        pdf = pdfsign.sign(pdf, pki.p256_leaf, field="Signature2")
    r = verifier.verify_pdf(pdf)
    assert r.code == "ok", r.reason
    assert len(r.signatures) == times
    vc = {"trust_roots": [pdfsign._asn1_cert(pki.rsa_root), pdfsign._asn1_cert(pki.p256_root)],
          "allow_fetching": False}
    theirs = pdfsign.pyhanko_verdicts(pdf, vc)
    assert len(theirs) == times
    assert all(intact for _, intact, _, _ in theirs), theirs


def test_pyhanko_signed_objstm_base_verifies(pki, verifier: govsig.Verifier) -> None:  # type: ignore[no-untyped-def]
    pdf = pdfsign.sign(reshape(pdfsign.base_pdf(), "objstm"), pki.rsa_leaf)
    assert verifier.verify_pdf(pdf).code == "ok"


# 2. Hostile structure ----------------------------------------------------------------------


def test_xref_stream_with_zero_widths_and_huge_size(verifier: govsig.Verifier, signed: bytes) -> None:
    refused(verifier, append_xref_stream(signed, b"/W [0 0 0] /Size 2147483647", b""))
    refused(verifier, append_xref_stream(signed, b"/W [0 0 0] /Size 5 /Index [0 2147483647]", b""))
    refused(verifier, append_xref_stream(signed, b"/W [0 0 0] /Size 5 /Index [0 9223372036854775807]", b""))
    # Non-zero widths, a huge /Index count and three bytes of data: no allocation by the count.
    refused(verifier, append_xref_stream(signed, b"/W [1 1 1] /Size 5 /Index [0 2147483647]", b"\x01\x00\x00"))
    refused(verifier, append_xref_stream(signed, b"/W [1 1 1] /Size 2147483647", b"\x01\x00\x00"))


def test_prev_pointing_at_itself(verifier: govsig.Verifier, signed: bytes) -> None:
    n = len(signed) + 1 if not signed.endswith(b"\n") else len(signed)
    # The xref section starts right after the (empty) body: /Prev is its own offset.
    data = append_update(signed, {}, prev=n)
    assert _last_startxref(data) == n
    refused(verifier, data)


def test_prev_loop_between_two_sections(verifier: govsig.Verifier, signed: bytes) -> None:
    first = append_update(signed, {})
    a = _last_startxref(first)
    second = append_update(first, {}, prev=a)
    b = _last_startxref(second)
    # Rewrite the first section's /Prev (same width) to point at the second section.
    old = b"/Prev %d " % _last_startxref(signed)
    new = (b"/Prev %d" % b).ljust(len(old))
    assert len(new) == len(old)
    i = second.index(old, a)
    looped = second[:i] + new + second[i + len(old):]
    refused(verifier, looped)


def test_flate_bomb_as_xref_stream(verifier: govsig.Verifier, signed: bytes) -> None:
    bomb = zlib.compress(b"\x01" + b"\x00" * (64 * 1024 * 1024), 9)
    refused(verifier, append_xref_stream(signed, b"/W [1 2 1] /Size 5 /Filter /FlateDecode", bomb))


def test_flate_bomb_as_object_stream(verifier: govsig.Verifier, signed: bytes) -> None:
    root, pages, size = _root_and_size(signed)
    bomb = zlib.compress(b"%d 0 " % root + b" " * (64 * 1024 * 1024), 9)
    objstm = size
    out = bytearray(signed)
    at = len(out)
    out += (b"%d 0 obj\n<< /Type /ObjStm /N 1 /First 8 /Filter /FlateDecode /Length %d >>\nstream\n"
            % (objstm, len(bomb))) + bomb + b"\nendstream\nendobj\n"
    # xref stream: objstm at `at` (type 1), the catalog in the object stream (type 2, index 0)
    rows = bytes([1]) + at.to_bytes(4, "big") + b"\x00" + bytes([2]) + objstm.to_bytes(4, "big") + b"\x00"
    xref_at = len(out)
    out += (b"%d 0 obj\n<< /Type /XRef /Root %d 0 R /Prev %d /Size %d /W [1 4 1] /Index [%d 1 %d 1] /Length %d >>\nstream\n"
            % (objstm + 1, root, _last_startxref(signed), objstm + 2, objstm, root, len(rows)))
    out += rows + b"\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n" % xref_at
    refused(verifier, bytes(out))


def test_object_stream_header_names_another_object(verifier: govsig.Verifier, signed: bytes) -> None:
    """The xref puts the catalog at index 0 of an object stream whose header says index 0 is
    another object: the catalog must not be read from it."""
    root, pages, size = _root_and_size(signed)
    body = b"<< /Type /Catalog /Pages %d 0 R >>" % pages
    refused(verifier, append_in_object_stream(signed, root, body, header_num=size + 7))


def test_xref_entry_pointing_at_another_object(verifier: govsig.Verifier, signed: bytes) -> None:
    root, pages, size = _root_and_size(signed)
    # The xref says the catalog is here, but the object there is numbered differently.
    tmp = append_update(signed, {size + 5: b"<< /Type /Catalog /Pages %d 0 R /Lie true >>" % pages})
    at = tmp.index(b"%d 0 obj" % (size + 5), len(signed))
    data = append_update(signed, {size + 5: b"<< /Type /Catalog /Pages %d 0 R /Lie true >>" % pages},
                         xref_offsets={root: at})
    refused(verifier, data)


def test_encrypted_document_is_refused_with_a_clear_message(verifier: govsig.Verifier, signed: bytes) -> None:
    out = io.BytesIO()
    with pikepdf.open(io.BytesIO(signed)) as p:
        p.save(out, encryption=pikepdf.Encryption(owner="o", user="", R=6))
    r = verifier.verify_pdf(out.getvalue())
    assert not r.ok
    assert r.code == "pdf_malformed", (r.code, r.reason)
    assert "encrypt" in r.reason.lower()


def _sig_object(pdf: bytes) -> tuple[int, bytes]:
    """The last signature dictionary's object number and its body (``<< ... >>``)."""
    t = pdf.rindex(b"/Type /Sig")
    m = list(re.finditer(rb"(\d+) 0 obj\s*", pdf[:t]))[-1]
    end = pdf.index(b"endobj", t)
    return int(m.group(1)), pdf[m.end():end].rstrip()


def test_byte_range_integer_beyond_32_bits(verifier: govsig.Verifier, signed: bytes) -> None:
    """In place (same width: the last length becomes a 10-digit value past 2**32) and in an
    update rewriting the signature dictionary with 64-bit and larger values."""
    m = list(re.finditer(pdf_attacks._BR.pattern + rb" *", signed))[-1]
    old = m.group(0)
    nums = [int(m.group(i)) for i in range(1, 5)]
    new = b"/ByteRange [0 %d %d 4294967301]" % (nums[1], nums[2])
    assert len(new) <= len(old)
    data = signed[:m.start()] + new[:-1] + b" " * (len(old) - len(new)) + b"]" + signed[m.end():]
    r = verifier.verify_pdf(data)
    assert not r.ok and r.code in {"byte_range_invalid", "pdf_malformed"}, (r.code, r.reason)
    num, body = _sig_object(signed)
    for big in (2**32 + 5, 2**63 + 5, 10**30):
        upd = pdf_attacks._BR.sub(b"/ByteRange [0 %d %d %d]" % (nums[1], nums[2], big), body)
        r = verifier.verify_pdf(append_update(signed, {num: upd}))
        assert not r.ok and r.code in REFUSED, (r.code, r.reason)


def test_deep_nesting_in_an_appended_catalog(verifier: govsig.Verifier, signed: bytes) -> None:
    root, pages, _ = _root_and_size(signed)
    deep = b"[" * 10_000 + b"]" * 10_000
    data = append_update(signed, {root: b"<< /Type /Catalog /Pages %d 0 R /X %s >>" % (pages, deep)})
    r = verifier.verify_pdf(data)
    assert not r.ok
    assert r.code in REFUSED, (r.code, r.reason)
    unclosed = append_update(signed, {root: b"<< /Type /Catalog /Pages %d 0 R /X %s >>" % (pages, b"[" * 10_000)})
    refused(verifier, unclosed)


def _contents_span(pdf: bytes) -> tuple[int, int]:
    m = list(re.finditer(rb"/Contents\s*<([0-9A-Fa-f]+)>", pdf))[-1]
    return m.start(1), m.end(1)


def test_contents_hex_with_whitespace_and_odd_count(verifier: govsig.Verifier, signed: bytes) -> None:
    """/Contents sits in the gap; whitespace and an odd digit count are legal hex-string forms
    (ISO 32000-1 §7.3.4.3), but the gap must be exactly the signer's hex string: govsig refuses
    them as byte_range_invalid (pinned), never an error."""
    s, e = _contents_span(signed)
    assert signed[e - 2:e] == b"00"
    ws = signed[:e - 2] + b"\n " + signed[e:]
    odd = signed[:e - 1] + b" " + signed[e:]
    for data in (ws, odd):
        r = verifier.verify_pdf(data)
        assert r.code == "byte_range_invalid", (r.code, r.reason)


def test_contents_bad_hex_digit_is_refused(verifier: govsig.Verifier, signed: bytes) -> None:
    s, e = _contents_span(signed)
    data = signed[:e - 1] + b"g" + signed[e:]
    r = verifier.verify_pdf(data)
    assert not r.ok and r.code != "internal_error", (r.code, r.reason)


def test_two_contents_keys_in_one_signature_dictionary(verifier: govsig.Verifier, signed: bytes) -> None:
    """An update rewrites the signature dictionary with a second /Contents before the one in
    the gap: never ok."""
    num, body = _sig_object(signed)
    two = body.replace(b"/Contents", b"/Contents <3003020101> /Contents", 1)
    r = verifier.verify_pdf(append_update(signed, {num: two}))
    assert not r.ok and r.code != "internal_error", (r.code, r.reason)
    after = body[:-2] + b" /Contents <3003020101> >>"
    r = verifier.verify_pdf(append_update(signed, {num: after}))
    assert not r.ok and r.code != "internal_error", (r.code, r.reason)


# 3. Order independence ---------------------------------------------------------------------


def _summary(r: Any) -> tuple[Any, ...]:
    return (r.ok, r.code, r.reason, len(r.signatures))


def test_bytes_path_and_bulk_agree(pki, verifier: govsig.Verifier, signed: bytes, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    two = pdfsign.sign(signed, pki.p256_leaf, field="Signature2")
    cases = [signed, two, append_update(signed, {}, prev=len(signed))]
    paths = []
    for i, data in enumerate(cases):
        p = tmp_path / f"d{i}.pdf"
        p.write_bytes(data)
        paths.append(p)
    by_bytes = [_summary(verifier.verify_pdf(d)) for d in cases]
    by_path = [_summary(verifier.verify_pdf(str(p))) for p in paths]
    bulk = verifier.verify_files([str(p) for p in reversed(paths)])
    assert by_bytes == by_path
    assert by_bytes[0][1] == "ok"
    again = [_summary(verifier.verify_pdf(d)) for d in reversed(cases)]
    assert list(reversed(again)) == by_bytes
    assert len(bulk) == len(paths)
    assert [_summary(bulk[i]) for i in range(len(paths))] == list(reversed(by_bytes))


def append_in_object_stream(pdf: bytes, num: int, body: bytes, *, header_num: int | None = None) -> bytes:
    """An update with an object stream holding object ``num`` at index 0 (its header names
    ``header_num``, by default ``num``) and a cross-reference stream pointing at it."""
    root, _, size = _root_and_size(pdf)
    header = b"%d 0 " % (num if header_num is None else header_num)
    raw = header + body
    objstm = size
    out = bytearray(pdf)
    at = len(out)
    out += (b"%d 0 obj\n<< /Type /ObjStm /N 1 /First %d /Length %d >>\nstream\n" % (objstm, len(header), len(raw))
            + raw + b"\nendstream\nendobj\n")
    rows = bytes([1]) + at.to_bytes(4, "big") + b"\x00" + bytes([2]) + objstm.to_bytes(4, "big") + b"\x00"
    xref_at = len(out)
    out += (b"%d 0 obj\n<< /Type /XRef /Root %d 0 R /Prev %d /Size %d /W [1 4 1] /Index [%d 1 %d 1] /Length %d >>\nstream\n"
            % (objstm + 1, root, _last_startxref(pdf), objstm + 2, objstm, num, len(rows)))
    out += rows + b"\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n" % xref_at
    return bytes(out)


def test_object_stream_control_a_matching_header_is_read(verifier: govsig.Verifier, signed: bytes) -> None:
    """The control for the header-mismatch case: the same catalog in an object stream whose
    header names it is read (the document is not malformed)."""
    root, pages, _ = _root_and_size(signed)
    body = b"<< /Type /Catalog /Pages %d 0 R >>" % pages
    r = verifier.verify_pdf(append_in_object_stream(signed, root, body))
    assert r.code != "pdf_malformed" and r.code != "internal_error", (r.code, r.reason)
    r = verifier.verify_pdf(append_in_object_stream(signed, root, body, header_num=root + 50))
    assert r.code == "pdf_malformed", (r.code, r.reason)


def test_signature_dictionary_in_an_object_stream_of_a_later_revision(verifier: govsig.Verifier,
                                                                      signed: bytes) -> None:
    """A later revision moves the signature dictionary into an object stream, with a bogus
    /Contents: the gap's /Contents is judged and the change is seen, never ok."""
    num, body = _sig_object(signed)
    moved = re.sub(rb"/Contents\s*<[0-9A-Fa-f]+>", b"/Contents <3003020101>", body)
    r = verifier.verify_pdf(append_in_object_stream(signed, num, moved))
    assert not r.ok and r.code in REFUSED, (r.code, r.reason)
    wrong_header = append_in_object_stream(signed, num, body, header_num=num + 50)
    r = verifier.verify_pdf(wrong_header)
    assert not r.ok and r.code in REFUSED, (r.code, r.reason)


def test_reasons_do_not_leak_parser_source_paths(verifier: govsig.Verifier, signed: bytes) -> None:
    """A refusal is one actionable line; it must not carry the dependency's source location
    (seen: 'Try at /root/.cargo/registry/.../pdf-0.10.0/src/parser/parse_xref.rs:78')."""
    bomb = zlib.compress(b"\x01" + b"\x00" * (64 * 1024 * 1024), 9)
    for data in (append_xref_stream(signed, b"/W [1 2 1] /Size 5 /Filter /FlateDecode", bomb),
                 append_xref_stream(signed, b"/W [0 0 0] /Size 5 /Index [0 9223372036854775807]", b"")):
        r = verifier.verify_pdf(data)
        assert r.code == "pdf_malformed"
        assert ".cargo" not in r.reason and ".rs:" not in r.reason, r.reason
        assert "\n" not in r.reason, r.reason
