"""File shapes the lazy PDF reader meets in archives: a linearized base document (its
first-page cross-reference section at the start of the file, /Prev pointing forward), object
and cross-reference streams, two signatures by two signers, an encrypted document. Each is
verified by govsig and by pyHanko, which must agree; bytes, path and verify_files agree."""

from __future__ import annotations

import io
import logging
from pathlib import Path
from typing import Any

import pytest

import govsig
import pdfsign
import pki as P

logging.getLogger("pyhanko").setLevel(logging.CRITICAL)
logging.getLogger("pyhanko_certvalidator").setLevel(logging.CRITICAL)


@pytest.fixture(scope="module")
def verifier(pki) -> govsig.Verifier:  # type: ignore[no-untyped-def]
    return govsig.Verifier(govsig.Policy(trust=govsig.TrustStore.from_der([pki.rsa_root.der, pki.p256_root.der])))


def key_signer(leaf: P.Issued) -> govsig.KeySigner:
    return govsig.KeySigner(leaf.key, leaf.cert, [c.cert for c in leaf.path[1:] if not c.is_root])


def vc(pki) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return {"trust_roots": [pdfsign._asn1_cert(pki.rsa_root), pdfsign._asn1_cert(pki.p256_root)],
            "allow_fetching": False}


def saved(pdf: bytes, **kw: Any) -> bytes:
    import pikepdf

    out = io.BytesIO()
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        doc.save(out, deterministic_id=True, **kw)
    return out.getvalue()


def shapes() -> dict[str, bytes]:
    import pikepdf

    base = pdfsign.base_pdf(pages=3, text_field=True)
    return {
        "classic": base,
        "linearized": saved(base, linearize=True),
        "object_streams": saved(base, object_stream_mode=pikepdf.ObjectStreamMode.generate),
        "linearized_object_streams": saved(base, linearize=True,
                                           object_stream_mode=pikepdf.ObjectStreamMode.generate),
    }


@pytest.mark.parametrize("shape", ["classic", "linearized", "object_streams", "linearized_object_streams"])
def test_each_shape_signed_twice_verifies_as_pyhanko_says(verifier: govsig.Verifier, pki,  # type: ignore[no-untyped-def]
                                                          shape: str, tmp_path: Path) -> None:
    base = shapes()[shape]
    if shape.startswith("linearized"):
        assert b"/Linearized" in base[:1024]
    # govsig signs first, pyHanko signs on top (and the other way round).
    for first, second in ((lambda b: govsig.sign_pdf(b, key_signer(pki.rsa_leaf)),
                           lambda b: pdfsign.sign(b, pki.p256_leaf, field="Signature2")),
                          (lambda b: pdfsign.sign(b, pki.p256_leaf),
                           lambda b: govsig.sign_pdf(b, key_signer(pki.rsa_leaf), field="Signature2"))):
        once = first(base)
        twice = second(once)
        for pdf, n in ((once, 1), (twice, 2)):
            r = verifier.verify_pdf(pdf)
            assert r.ok, (shape, n, r.code, r.reason)
            assert [s.field for s in r.signatures] == ["Signature1", "Signature2"][:n]
            assert [s.modification for s in r.signatures] == (["none"] if n == 1 else ["form_fill", "none"])
            assert [v[:3] for v in pdfsign.pyhanko_verdicts(pdf, vc(pki))] == [
                (f, True, True) for f in ["Signature1", "Signature2"][:n]]
        # Bytes, a path and verify_files give the same verdicts.
        p = tmp_path / f"{shape}.pdf"
        p.write_bytes(twice)
        by_bytes, by_path = verifier.verify_pdf(twice), verifier.verify_pdf(p)
        (by_files,) = verifier.verify_files([p])
        for r in (by_path, by_files):
            assert (r.code, [(s.field, s.code, s.revision, s.modification) for s in r.signatures]) == (
                by_bytes.code, [(s.field, s.code, s.revision, s.modification) for s in by_bytes.signatures])


def test_a_change_to_a_linearized_documents_signed_bytes_is_caught(verifier: govsig.Verifier, pki) -> None:  # type: ignore[no-untyped-def]
    signed = govsig.sign_pdf(shapes()["linearized"], key_signer(pki.rsa_leaf))
    # A byte of the first-page cross-reference section, at the start of the file.
    at = signed.index(b"xref", 0, 4096) + 8
    tampered = signed[:at] + bytes([signed[at] ^ 0x01]) + signed[at + 1:]
    r = verifier.verify_pdf(tampered)
    assert not r.ok and r.code != "internal_error", r.reason


def test_an_encrypted_document_is_refused_saying_so(verifier: govsig.Verifier) -> None:
    import pikepdf

    out = io.BytesIO()
    with pikepdf.open(io.BytesIO(pdfsign.base_pdf())) as doc:
        doc.save(out, encryption=pikepdf.Encryption(user="", owner="chu-so-huu"))
    r = verifier.verify_pdf(out.getvalue())
    assert (r.ok, r.code) == (False, "pdf_malformed")
    assert "encrypted" in r.reason
