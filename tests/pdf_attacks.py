"""The corpus of attacked (and honestly updated) signed PDFs, each with the verdict govsig
must give. Run as a script to write the corpus to a folder:

    PYTHONPATH=python:tests python tests/pdf_attacks.py OUT_DIR

Documents are signed by pyHanko (tests/pdfsign.py) with the deterministic test PKI; the
attacks are made with pyHanko's incremental writer or by editing bytes, as an attacker would.
The attacks follow the published PDF signature attack classes (incremental saving attack,
signature wrapping, shadow attacks "hide and replace") and the structural checks of ISO
32000-1 §12.8.1 (/ByteRange and /Contents).
"""

from __future__ import annotations

import io
import re
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import pdfsign

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter


@dataclass(frozen=True)
class Case:
    name: str
    data: bytes
    code: str                     # the document's code govsig must give
    modification: Optional[str]   # the first signature's modification, when it is defined
    why: str


_BR = re.compile(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]")


def _rewrite_byte_range(pdf: bytes, f: "callable[[list[int]], list[int]]") -> bytes:  # type: ignore[valid-type]
    """Rewrites the last /ByteRange in place with the same width (so no offset moves)."""
    m = list(_BR.finditer(pdf))[-1]
    old = m.group(0)
    nums = f([int(m.group(i)) for i in range(1, 5)])
    new = b"/ByteRange [" + b" ".join(str(n).encode() for n in nums) + b"]"
    if len(new) > len(old):
        raise ValueError("the new /ByteRange does not fit")
    new = new[:-1] + b" " * (len(old) - len(new)) + b"]"
    return pdf[: m.start()] + new + pdf[m.end():]


def _flip_signed_byte(pdf: bytes) -> bytes:
    i = pdf.index(b"page 1 of")
    return pdf[:i] + b"P" + pdf[i + 1:]


def _replace_signature_contents(pdf: bytes) -> bytes:
    """An incremental update that rewrites the signature dictionary with another /Contents
    (a second /Contents for the same /ByteRange)."""
    w = IncrementalPdfFileWriter(io.BytesIO(pdf))
    field = next(f.get_object() for f in w.root["/AcroForm"]["/Fields"] if f.get_object().get("/FT") == "/Sig")
    sig_ref = field.raw_get("/V")
    sig = sig_ref.get_object()
    old = bytes(sig["/Contents"])
    sig["/Contents"] = generic.ByteStringObject(b"\x30\x03\x02\x01\x01" + b"\x00" * (len(old) - 5))
    w.mark_update(sig_ref)
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()


def _hidden_object_document() -> tuple[bytes, int]:
    """A document carrying an unreferenced content stream (what a shadow attacker plants
    before the signing), and that object's number."""
    w = IncrementalPdfFileWriter(io.BytesIO(pdfsign.base_pdf()))
    ref = w.add_object(generic.StreamObject(stream_data=b"BT /F1 30 Tf 72 400 Td (DA THANH TOAN) Tj ET"))
    out = io.BytesIO()
    w.write(out)
    return out.getvalue(), ref.idnum


def _reveal_hidden_object(pdf: bytes, idnum: int) -> bytes:
    """The shadow attack's reveal: the page now draws the planted stream."""
    w = IncrementalPdfFileWriter(io.BytesIO(pdf))
    page_ref = w.root["/Pages"]["/Kids"].raw_get(0)
    page = page_ref.get_object()
    page["/Contents"] = generic.ArrayObject([page.raw_get("/Contents"), generic.IndirectObject(idnum, 0, w)])
    w.mark_update(page_ref)
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()


def build(pki: object) -> list[Case]:
    leaf = pki.rsa_leaf  # type: ignore[attr-defined]
    other = pki.p256_leaf  # type: ignore[attr-defined]
    form = pdfsign.base_pdf(text_field=True)
    signed = pdfsign.sign(form, leaf, reason="Phê duyệt")
    cert1 = pdfsign.sign(form, leaf, certify=1)
    cert2 = pdfsign.sign(form, leaf, certify=2)
    cert3 = pdfsign.sign(form, leaf, certify=3)
    hidden, hidden_id = _hidden_object_document()
    hidden_signed = pdfsign.sign(hidden, leaf)
    cases = [
        # Honest updates: the verdict stays ok, the modification says what happened.
        Case("signed", signed, "ok", "none", "a plain approval signature"),
        Case("form_fill_after_approval", pdfsign.fill_text_field(signed, "15/QĐ"), "ok", "form_fill",
             "filling a field after an approval signature is permitted"),
        Case("second_signature", pdfsign.sign(signed, other, field="Signature2"), "ok", "form_fill",
             "a second signature is the signing kind of form fill"),
        Case("annotation_after_approval", pdfsign.add_annotation(signed), "ok", "annotations",
             "a comment after an approval signature is permitted"),
        Case("certified_p2_then_signed", pdfsign.sign(cert2, other, field="Signature2"), "ok", "form_fill",
             "DocMDP P=2 permits signing"),
        Case("certified_p3_then_annotated", pdfsign.add_annotation(cert3), "ok", "annotations",
             "DocMDP P=3 permits annotations"),
        # Attacks.
        Case("byte_changed_in_signed_range", _flip_signed_byte(signed), "digest_mismatch", "none",
             "one byte of the signed page content changed"),
        Case("incremental_page_content", pdfsign.add_page_content(signed), "modified_after_signing", "other",
             "incremental saving attack: new text drawn over the signed page"),
        Case("page_replaced", pdfsign.replace_page(signed), "modified_after_signing", "other",
             "a revision that replaces the signed page"),
        Case("shadow_hide_and_replace", _reveal_hidden_object(hidden_signed, hidden_id),
             "modified_after_signing", "other",
             "shadow attack: a stream planted before signing is drawn by a later revision"),
        Case("byte_range_shifted", _rewrite_byte_range(signed, lambda r: [0, r[1] - 2, r[2] - 2, r[3] + 2]),
             "byte_range_invalid", "none", "signature wrapping: the gap no longer is exactly /Contents"),
        Case("byte_ranges_overlap", _rewrite_byte_range(signed, lambda r: [0, r[2], r[1], r[3]]),
             "byte_range_invalid", "none", "the ranges overlap (a > b)"),
        Case("byte_range_out_of_file", _rewrite_byte_range(signed, lambda r: [0, r[1], r[2], 10 ** len(str(r[3])) - 1]),
             "byte_range_invalid", "none", "the second range runs past the end of the file"),
        Case("byte_range_not_from_zero", _rewrite_byte_range(signed, lambda r: [1, r[1], r[2], r[3]]),
             "byte_range_invalid", "none", "the first range does not start at 0"),
        Case("second_contents", _replace_signature_contents(signed), "modified_after_signing", "other",
             "a later revision gives the signature dictionary another /Contents"),
        Case("certified_p1_then_form_fill", pdfsign.fill_text_field(cert1, "x"), "modified_after_signing",
             "form_fill", "DocMDP P=1 forbids every change"),
        Case("fieldmdp_locked_field_filled",
             pdfsign.fill_text_field(pdfsign.sign(form, leaf, lock_fields=["so_van_ban"]), "x"),
             "modified_after_signing", "form_fill", "a FieldMDP lock forbids changing the locked field"),
        Case("certified_p2_then_annotated", pdfsign.add_annotation(cert2), "modified_after_signing",
             "annotations", "DocMDP P=2 forbids annotations"),
        Case("truncated", signed[: len(signed) // 2], "pdf_malformed", None, "half a file"),
        Case("unsigned", form, "no_signature", None, "a document without a signature"),
    ]
    return cases


def main(argv: list[str]) -> int:
    import conftest

    if len(argv) != 2:
        print("usage: pdf_attacks.py OUT_DIR", file=sys.stderr)
        return 2
    out = Path(argv[1])
    out.mkdir(parents=True, exist_ok=True)
    for c in build(conftest.build_standard_pki()):
        (out / f"{c.name}.pdf").write_bytes(c.data)
        print(f"{c.name}.pdf: expect {c.code} ({c.why})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
