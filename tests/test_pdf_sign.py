"""Signing PDFs with govsig.sign_pdf (PAdES B-B / B-T, an incremental update): documents by
reportlab and pikepdf, signed by govsig with a key file or a SoftHSM2 token, then validated
by govsig and by pyHanko; pyHanko signing on top of govsig and govsig on top of pyHanko;
poppler's pdftoppm renders every signed PDF."""

from __future__ import annotations

import datetime as dt
import io
import logging
import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest

import govsig
import pdfsign
import pki as P
from softhsm import USER_PIN, WRONG_PIN, SoftHsm
from tsa_server import Tsa, make_tsa_certificate

ROOT = Path(__file__).resolve().parent.parent
ENV = {"PYTHONPATH": str(ROOT / "python"), "PATH": os.environ.get("PATH", "")}

logging.getLogger("pyhanko").setLevel(logging.CRITICAL)
logging.getLogger("pyhanko_certvalidator").setLevel(logging.CRITICAL)

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from asn1crypto import cms as a_cms
    from pyhanko.pdf_utils.reader import PdfFileReader


@pytest.fixture(scope="module")
def verifier(pki) -> govsig.Verifier:  # type: ignore[no-untyped-def]
    return govsig.Verifier(govsig.Policy(trust=govsig.TrustStore.from_der([pki.rsa_root.der, pki.p256_root.der])))


@pytest.fixture(scope="module")
def form() -> bytes:
    return pdfsign.base_pdf(text_field=True)


def key_signer(leaf: P.Issued) -> govsig.KeySigner:
    return govsig.KeySigner(leaf.key, leaf.cert, [c.cert for c in leaf.path[1:] if not c.is_root])


def pyhanko_vc(pki) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return {"trust_roots": [pdfsign._asn1_cert(pki.rsa_root), pdfsign._asn1_cert(pki.p256_root)],
            "allow_fetching": False}


def renders(pdf: bytes, tmp_path: Path) -> None:
    exe = shutil.which("pdftoppm")
    if exe is None:
        pytest.fail("pdftoppm not on PATH (Debian: apt-get install poppler-utils)", pytrace=False)
    src = tmp_path / "render.pdf"
    src.write_bytes(pdf)
    proc = subprocess.run([exe, "-r", "20", "-png", str(src), str(tmp_path / "page")],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "Error" not in proc.stderr, proc.stderr
    assert list(tmp_path.glob("page*.png"))


def signed_attributes(pdf: bytes, index: int = -1) -> set[str]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        emb = PdfFileReader(io.BytesIO(pdf)).embedded_signatures[index]
        info = emb.signer_info
        return {a["type"].native for a in info["signed_attrs"]}


@pytest.mark.parametrize("leaf_name", ["rsa_leaf", "p256_leaf"])
def test_govsig_signature_verifies_in_govsig_and_pyhanko(verifier: govsig.Verifier, pki, form: bytes,  # type: ignore[no-untyped-def]
                                                         leaf_name: str, tmp_path: Path) -> None:
    leaf = getattr(pki, leaf_name)
    pdf = govsig.sign_pdf(form, key_signer(leaf), reason="Phê duyệt hồ sơ", location="Hà Giang")
    # An incremental update: every byte of the original comes first, unchanged.
    assert pdf[:len(form)] == form and len(pdf) > len(form)
    r = verifier.verify_pdf(pdf)
    assert (r.ok, r.code) == (True, "ok"), r.reason
    assert r.revisions == 2
    (s,) = r.signatures
    assert (s.field, s.subfilter, s.revision, s.covers_whole_document, s.modification) == (
        "Signature1", "ETSI.CAdES.detached", 1, True, "none")
    assert (s.signing_reason, s.location) == ("Phê duyệt hồ sơ", "Hà Giang")
    assert s.claimed_time is not None and s.claimed_time.startswith("D:")
    assert s.signer is not None and s.signer.certificate == leaf.der
    # PAdES B-B (ETSI EN 319 142-1 §6.3): ESS signing-certificate-v2, no signingTime.
    attrs = signed_attributes(pdf)
    assert "signing_certificate_v2" in attrs and "signing_time" not in attrs
    ((field, intact_valid, bottom, _level),) = pdfsign.pyhanko_verdicts(pdf, pyhanko_vc(pki))
    assert (field, intact_valid, bottom) == ("Signature1", True, True)
    renders(pdf, tmp_path)


def test_path_input_and_xref_streams(verifier: govsig.Verifier, pki, form: bytes, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    base = pdfsign.with_object_streams(form)
    assert b"/ObjStm" in base
    src = tmp_path / "in.pdf"
    src.write_bytes(base)
    pdf = govsig.sign_pdf(src, key_signer(pki.p256_leaf), field="Ky_so")
    assert pdf.startswith(base)
    r = verifier.verify_pdf(pdf)
    assert r.ok, r.reason
    assert r.signatures[0].field == "Ky_so"
    assert [v[:3] for v in pdfsign.pyhanko_verdicts(pdf, pyhanko_vc(pki))] == [("Ky_so", True, True)]
    renders(pdf, tmp_path)


def test_govsig_on_top_of_pyhanko_keeps_both_valid(verifier: govsig.Verifier, pki, form: bytes,  # type: ignore[no-untyped-def]
                                                   tmp_path: Path) -> None:
    first = pdfsign.sign(form, pki.rsa_leaf)
    pdf = govsig.sign_pdf(first, key_signer(pki.p256_leaf), field="Signature2")
    assert pdf[:len(first)] == first
    r = verifier.verify_pdf(pdf)
    assert r.ok, r.reason
    a, b = r.signatures
    assert (a.field, a.revision, a.covers_whole_document, a.modification) == ("Signature1", 1, False, "form_fill")
    assert (b.field, b.revision, b.covers_whole_document, b.modification) == ("Signature2", 2, True, "none")
    verdicts = pdfsign.pyhanko_verdicts(pdf, pyhanko_vc(pki))
    assert [v[:3] for v in verdicts] == [("Signature1", True, True), ("Signature2", True, True)]
    # pyHanko judges what govsig's revision did to the first signature: a signature added.
    assert verdicts[0][3] in ("LTA_UPDATES", "FORM_FILLING")
    renders(pdf, tmp_path)


def test_pyhanko_on_top_of_govsig_keeps_both_valid(verifier: govsig.Verifier, pki, form: bytes) -> None:  # type: ignore[no-untyped-def]
    first = govsig.sign_pdf(form, key_signer(pki.rsa_leaf))
    pdf = pdfsign.sign(first, pki.p256_leaf, field="Signature2")
    r = verifier.verify_pdf(pdf)
    assert r.ok, r.reason
    assert [(s.field, s.modification) for s in r.signatures] == [("Signature1", "form_fill"), ("Signature2", "none")]
    assert [v[:3] for v in pdfsign.pyhanko_verdicts(pdf, pyhanko_vc(pki))] == [
        ("Signature1", True, True), ("Signature2", True, True)]


def test_a_changed_byte_after_signing_is_caught(verifier: govsig.Verifier, pki, form: bytes) -> None:  # type: ignore[no-untyped-def]
    pdf = bytearray(govsig.sign_pdf(form, key_signer(pki.rsa_leaf)))
    r = verifier.verify_pdf(bytes(pdf))
    a, b, c = r.signatures[0].byte_range[1:]
    # One byte of the page content (in the first range), and one in the second range.
    at = bytes(pdf).index(b"page 1 of 1")
    assert at < a
    for pos in (at, b + c // 2):
        bad = bytearray(pdf)
        bad[pos] ^= 0x01
        out = verifier.verify_pdf(bytes(bad))
        assert not out.ok, pos
        assert out.code in ("signature_invalid", "digest_mismatch", "pdf_malformed", "byte_range_invalid"), out.code
    bad = bytearray(pdf)
    bad[at] ^= 0x01
    assert pdfsign.pyhanko_verdicts(bytes(bad), pyhanko_vc(pki))[0][1] is False


@pytest.mark.parametrize("level,after_fill", [(1, "modified_after_signing"), (2, "ok"), (3, "ok")])
def test_certification(verifier: govsig.Verifier, pki, form: bytes, level: int, after_fill: str) -> None:  # type: ignore[no-untyped-def]
    pdf = govsig.sign_pdf(form, key_signer(pki.rsa_leaf), certify=level)
    r = verifier.verify_pdf(pdf)
    assert r.ok, r.reason
    assert r.signatures[0].docmdp == level
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        emb = PdfFileReader(io.BytesIO(pdf)).embedded_signatures[0]
        assert emb.docmdp_level is not None and emb.docmdp_level.value == level
    assert pdfsign.pyhanko_verdicts(pdf, pyhanko_vc(pki))[0][:3] == ("Signature1", True, True)
    assert verifier.verify_pdf(pdfsign.fill_text_field(pdf, "42/QĐ")).code == after_fill


def test_signature_timestamp_from_a_tsa(verifier: govsig.Verifier, pki, form: bytes, openssl: str,  # type: ignore[no-untyped-def]
                                        tmp_path: Path) -> None:
    with Tsa(tmp_path / "tsa", openssl, signer=make_tsa_certificate("TSA ký PDF", pki.rsa_intermediate)) as tsa:
        by_url = govsig.sign_pdf(form, key_signer(pki.rsa_leaf), tsa=tsa.url)
        by_client = govsig.sign_pdf(form, key_signer(pki.p256_leaf), tsa=govsig.TsaClient(tsa.url))
    timed = govsig.Verifier(govsig.Policy(trust=[pki.rsa_root.der, pki.p256_root.der], tsa_trust=[pki.rsa_root.der],
                                          intermediates=[pki.rsa_intermediate.der], signature_time="timestamp"))
    for pdf in (by_url, by_client):
        assert verifier.verify_pdf(pdf).ok
        r = timed.verify_pdf(pdf)
        assert r.ok, r.reason
        signer = r.signatures[0].signer
        assert signer is not None, r.reason
        assert signer.signature_time_source == "timestamp"
        assert [t.ok for t in signer.timestamps] == [True]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            emb = PdfFileReader(io.BytesIO(pdf)).embedded_signatures[0]
            unsigned = {a["type"].native for a in emb.signer_info["unsigned_attrs"]}
        assert "signature_time_stamp_token" in unsigned
        (_, intact_valid, _, _), = pdfsign.pyhanko_verdicts(pdf, pyhanko_vc(pki))
        assert intact_valid


def test_token_signature(verifier: govsig.Verifier, hsm: SoftHsm, pki, form: bytes, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with govsig.pkcs11.Token.open(hsm.module, token_label="govsig-test", pin=USER_PIN) as tok:
        signer = tok.signer(key_label="p256-key", sessions=1)
        pdf = govsig.sign_pdf(form, signer, reason="Ký bằng token")
    assert pdf.startswith(form)
    r = verifier.verify_pdf(pdf)
    assert r.ok, r.reason
    assert r.signatures[0].signer.certificate == hsm.certificates[("govsig-test", "p256-key")].public_bytes(  # type: ignore[union-attr]
        P.serialization.Encoding.DER)
    assert pdfsign.pyhanko_verdicts(pdf, pyhanko_vc(pki))[0][:3] == ("Signature1", True, True)
    renders(pdf, tmp_path)


# -- refusals --------------------------------------------------------------------------------


def test_bad_input_is_a_typed_error(pki, form: bytes) -> None:  # type: ignore[no-untyped-def]
    import pikepdf

    s = key_signer(pki.rsa_leaf)
    cases: list[tuple[Any, dict[str, Any], str]] = [
        (b"not a pdf", {}, "malformed"),
        (form[: len(form) // 2], {}, "malformed"),
        (govsig.sign_pdf(form, s), {}, "field_exists"),
        (form, {"field": "so_van_ban"}, "field_exists"),
        (form, {"field": "a.b"}, "invalid_argument"),
        (form, {"contents_size": 100}, "placeholder_too_small"),
        (form, {"certify": 4}, "invalid_argument"),
        (govsig.sign_pdf(form, s), {"field": "S2", "certify": 2}, "invalid_argument"),
    ]
    enc = io.BytesIO()
    with pikepdf.open(io.BytesIO(form)) as doc:
        doc.save(enc, encryption=pikepdf.Encryption(user="", owner="chu-so-huu"))
    cases.append((enc.getvalue(), {}, "encrypted"))
    for data, kw, kind in cases:
        with pytest.raises(govsig.PdfSigningError) as info:
            govsig.sign_pdf(data, s, **kw)
        assert info.value.kind == kind, (kind, str(info.value))
        assert isinstance(info.value, govsig.SigningError)
        assert str(info.value)
    with pytest.raises(govsig.PdfSigningError, match="contents_size=") as info:
        govsig.sign_pdf(form, s, contents_size=100)
    with pytest.raises(TypeError):
        govsig.sign_pdf(form, object())
    with pytest.raises(TypeError):
        govsig.sign_pdf(12, s)  # type: ignore[arg-type]


def test_signing_fills_an_empty_field_prepared_by_pyhanko(verifier: govsig.Verifier, pki, form: bytes,  # type: ignore[no-untyped-def]
                                                        tmp_path: Path) -> None:
    prepared = pdfsign.empty_signature_field(form, "Ky_so_lanh_dao")
    assert pdfsign.signature_field_names(prepared) == [("Ky_so_lanh_dao", False)]
    pdf = govsig.sign_pdf(prepared, key_signer(pki.rsa_leaf), field="Ky_so_lanh_dao")
    assert pdf[:len(prepared)] == prepared
    # The field is filled, not doubled.
    assert pdfsign.signature_field_names(pdf) == [("Ky_so_lanh_dao", True)]
    r = verifier.verify_pdf(pdf)
    assert r.ok, r.reason
    (s,) = r.signatures
    assert (s.field, s.revision, s.covers_whole_document, s.modification) == ("Ky_so_lanh_dao", 2, True, "none")
    assert [v[:3] for v in pdfsign.pyhanko_verdicts(pdf, pyhanko_vc(pki))] == [("Ky_so_lanh_dao", True, True)]
    renders(pdf, tmp_path)
    # The other way round: pyHanko fills the same empty field, govsig verifies it.
    theirs = pdfsign.sign(prepared, pki.p256_leaf, field="Ky_so_lanh_dao")
    r = verifier.verify_pdf(theirs)
    assert r.ok and [s.field for s in r.signatures] == ["Ky_so_lanh_dao"], r.reason
    # A field that is signed already is not signed over.
    for signed in (pdf, theirs):
        with pytest.raises(govsig.PdfSigningError) as info:
            govsig.sign_pdf(signed, key_signer(pki.rsa_leaf), field="Ky_so_lanh_dao")
        assert info.value.kind == "field_exists", str(info.value)


def _nested_signature_field(form: bytes) -> bytes:
    # A form whose empty signature field sits under a parent field (fully qualified name
    # "Ky.Lanh_dao"); the field type /Sig is the parent's, inherited (ISO 32000-1 §12.7.3.1).
    import pikepdf

    with pikepdf.open(io.BytesIO(form)) as doc:
        page = doc.pages[0].obj
        parent = doc.make_indirect(pikepdf.Dictionary(T=pikepdf.String("Ky"), FT=pikepdf.Name.Sig,
                                                      Kids=pikepdf.Array()))
        kid = doc.make_indirect(pikepdf.Dictionary(
            Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Widget, T=pikepdf.String("Lanh_dao"),
            Parent=parent, Rect=pikepdf.Array([0, 0, 0, 0]), F=132, P=page))
        parent.Kids.append(kid)
        doc.Root.AcroForm.Fields.append(parent)
        if "/Annots" not in page:
            page.Annots = pikepdf.Array()
        page.Annots.append(kid)
        out = io.BytesIO()
        doc.save(out)
        return out.getvalue()


def test_signing_fills_a_nested_field_by_its_qualified_name(verifier: govsig.Verifier, pki,  # type: ignore[no-untyped-def]
                                                            form: bytes, tmp_path: Path) -> None:
    prepared = _nested_signature_field(form)
    pdf = govsig.sign_pdf(prepared, key_signer(pki.rsa_leaf), field="Ky.Lanh_dao")
    assert pdf[:len(prepared)] == prepared
    r = verifier.verify_pdf(pdf)
    assert r.ok, r.reason
    (s,) = r.signatures
    assert (s.field, s.revision, s.covers_whole_document) == ("Ky.Lanh_dao", 1, True)
    assert [v[:3] for v in pdfsign.pyhanko_verdicts(pdf, pyhanko_vc(pki))] == [("Ky.Lanh_dao", True, True)]
    renders(pdf, tmp_path)
    # Filled once: the same name again, the parent itself, or a part that does not exist are
    # refused, each with its kind.
    for field, kind in (("Ky.Lanh_dao", "field_exists"), ("Ky", "field_exists"),
                        ("Ky.Khac", "invalid_argument"), ("Ky..Lanh_dao", "invalid_argument")):
        with pytest.raises(govsig.PdfSigningError) as info:
            govsig.sign_pdf(pdf, key_signer(pki.rsa_leaf), field=field)
        assert info.value.kind == kind, (field, str(info.value))


@pytest.mark.parametrize("action", ["include", "exclude", "all"])
def test_filling_a_locked_field_writes_its_fieldmdp(verifier: govsig.Verifier, pki, form: bytes,  # type: ignore[no-untyped-def]
                                                    action: str) -> None:
    # A form prepared by pyHanko whose signature field locks the text field so_van_ban
    # (ISO 32000-1 §12.7.4.5 /Lock). The signature govsig writes into it carries the lock as
    # its FieldMDP transform, which is where other validators read it (pyHanko does).
    prepared = pdfsign.empty_signature_field(form, "Ky_duyet", lock=(action, ["so_van_ban"]))
    pdf = govsig.sign_pdf(prepared, key_signer(pki.rsa_leaf), field="Ky_duyet")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        (emb,) = PdfFileReader(io.BytesIO(pdf)).embedded_signatures
        spec = emb.fieldmdp
    assert spec is not None and spec.action.name.lower() == action
    assert spec.fields == (None if action == "all" else ["so_van_ban"])
    assert verifier.verify_pdf(pdf).ok
    # A later fill of so_van_ban: forbidden by an Include or All lock, allowed by Exclude, and
    # both validators say the same.
    filled = pdfsign.fill_text_field(pdf, "1234/QD-UBND")
    r = verifier.verify_pdf(filled)
    forbidden = action != "exclude"
    assert r.ok is not forbidden, r.reason
    if forbidden:
        assert r.code == "modified_after_signing" and "so_van_ban" in r.reason
    else:
        assert r.signatures[0].modification == "form_fill"
    ((field, intact, bottom, _),) = pdfsign.pyhanko_verdicts(filled, pyhanko_vc(pki))
    assert (field, intact, bottom) == ("Ky_duyet", True, not forbidden)


@pytest.mark.parametrize("p", [1, 2])
def test_a_lock_with_p_bounds_later_changes(verifier: govsig.Verifier, pki, form: bytes, p: int) -> None:  # type: ignore[no-untyped-def]
    # PDF 2.0 (ISO 32000-2 Table 236): a /Lock with /P gives the document that DocMDP level
    # once the field is signed. The lock here leaves so_van_ban free (Exclude), so only /P
    # decides whether filling it later is allowed: not at P=1 (no changes), yes at P=2.
    prepared = pdfsign.empty_signature_field(form, "Ky_duyet", lock=("exclude", ["so_van_ban"]), lock_p=p)
    for pdf in (govsig.sign_pdf(prepared, key_signer(pki.rsa_leaf), field="Ky_duyet"),
                pdfsign.sign(prepared, pki.rsa_leaf, field="Ky_duyet")):
        assert verifier.verify_pdf(pdf).ok
        filled = pdfsign.fill_text_field(pdf, "1234/QD-UBND")
        r = verifier.verify_pdf(filled)
        ((_, intact, bottom, _),) = pdfsign.pyhanko_verdicts(filled, pyhanko_vc(pki))
        assert intact and bottom is (p != 1)
        if p == 1:
            assert r.code == "modified_after_signing" and "/Lock (P=1)" in r.reason, r.reason
        else:
            assert r.ok and r.signatures[0].modification == "form_fill", r.reason


def test_a_lock_that_cannot_be_honoured_is_refused(pki, form: bytes) -> None:  # type: ignore[no-untyped-def]
    import pikepdf

    prepared = pdfsign.empty_signature_field(form, "Ky_duyet", lock=("include", ["so_van_ban"]))
    for action in ("Bogus", None):
        with pikepdf.open(io.BytesIO(prepared)) as p:
            (field,) = [f for f in p.Root.AcroForm.Fields if str(f.T) == "Ky_duyet"]
            if action is None:
                del field.Lock.Action
            else:
                field.Lock.Action = pikepdf.Name("/" + action)
            out = io.BytesIO()
            p.save(out)
        with pytest.raises(govsig.PdfSigningError) as info:
            govsig.sign_pdf(out.getvalue(), key_signer(pki.rsa_leaf), field="Ky_duyet")
        assert info.value.kind == "malformed" and "/Lock" in str(info.value), str(info.value)


def test_adbe_pkcs7_detached_subfilter(verifier: govsig.Verifier, pki, form: bytes, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    when = dt.datetime(2026, 3, 1, 8, 30, tzinfo=dt.timezone.utc)
    pdf = govsig.sign_pdf(form, key_signer(pki.p256_leaf), subfilter="adbe.pkcs7.detached", signing_time=when)
    r = verifier.verify_pdf(pdf)
    assert r.ok, r.reason
    (s,) = r.signatures
    assert (s.subfilter, s.modification, s.covers_whole_document) == ("adbe.pkcs7.detached", "none", True)
    # A CMS as readers before PAdES expect it: signingTime (the time of /M) is there.
    assert "signing_time" in signed_attributes(pdf)
    assert s.signer is not None and s.signer.signing_time == when
    assert [v[:3] for v in pdfsign.pyhanko_verdicts(pdf, pyhanko_vc(pki))] == [("Signature1", True, True)]
    renders(pdf, tmp_path)
    with pytest.raises(govsig.PdfSigningError) as info:
        govsig.sign_pdf(form, key_signer(pki.p256_leaf), subfilter="adbe.pkcs7.sha1")
    assert info.value.kind == "invalid_argument" and "adbe.pkcs7.detached" in str(info.value)
    with pytest.raises(TypeError):
        govsig.sign_pdf(form, key_signer(pki.p256_leaf), subfilter=None)  # type: ignore[arg-type]


# -- the command line ------------------------------------------------------------------------


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "govsig", *args], capture_output=True, text=True,
                          env={**ENV, **(env or {})}, timeout=120, stdin=subprocess.DEVNULL)


def test_cli_sign_pdf_with_key_files(pki, form: bytes, tmp_pki_dir: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    src = tmp_path / "quyet-dinh.pdf"
    src.write_bytes(form)
    key = ["--key", str(tmp_pki_dir / "rsa_leaf.key.pem"), "--cert", str(tmp_pki_dir / "rsa_leaf.pem"),
           "--chain", str(tmp_pki_dir / "rsa_intermediate.pem")]
    done = run_cli("sign-pdf", str(src), *key, "--reason", "Đồng ý", "--json")
    assert done.returncode == 0, done.stderr
    out = tmp_path / "quyet-dinh-signed.pdf"
    assert out.read_bytes().startswith(form)
    ok = run_cli("verify", str(out), "--trust", str(tmp_pki_dir / "rsa_root.pem"))
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "Signature1 (revision 1, ETSI.CAdES.detached): ok" in ok.stdout
    # Refusals: one line, own exit status, no traceback.
    again = run_cli("sign-pdf", str(src), *key)
    assert again.returncode == 2 and "--force" in again.stderr
    clash = run_cli("sign-pdf", str(out), *key, "-o", str(tmp_path / "twice.pdf"))
    assert clash.returncode == 1 and "Signature1" in clash.stderr
    (tmp_path / "junk.pdf").write_bytes(b"junk")
    junk = run_cli("sign-pdf", str(tmp_path / "junk.pdf"), *key)
    assert junk.returncode == 1
    small = run_cli("sign-pdf", str(src), *key, "--contents-size", "80", "-o", str(tmp_path / "s.pdf"))
    assert small.returncode == 1 and "contents_size" in small.stderr
    for p in (clash, junk, small):
        assert "Traceback" not in p.stderr and len(p.stderr.strip().splitlines()) == 1, p.stderr
    adbe = run_cli("sign-pdf", str(src), *key, "--subfilter", "adbe.pkcs7.detached", "-o", str(tmp_path / "a.pdf"))
    assert adbe.returncode == 0, adbe.stderr
    ok = run_cli("verify", str(tmp_path / "a.pdf"), "--trust", str(tmp_pki_dir / "rsa_root.pem"))
    assert "Signature1 (revision 1, adbe.pkcs7.detached): ok" in ok.stdout, ok.stdout + ok.stderr


def test_cli_sign_pdf_with_a_token(hsm: SoftHsm, pki, form: bytes, tmp_pki_dir: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    src = tmp_path / "doc.pdf"
    src.write_bytes(form)
    tok = ["--pkcs11-module", hsm.module, "--token-label", "govsig-test", "--key-label", "p256-key",
           "--pin-env", "GOVSIG_TEST_PIN"]
    done = run_cli("sign-pdf", str(src), *tok, "-o", str(tmp_path / "out.pdf"), env={"GOVSIG_TEST_PIN": USER_PIN, "SOFTHSM2_CONF": str(hsm.conf)})
    assert done.returncode == 0, done.stderr
    ok = run_cli("verify", str(tmp_path / "out.pdf"), "--trust", str(tmp_pki_dir / "p256_root.pem"))
    assert ok.returncode == 0, ok.stdout + ok.stderr
    wrong = run_cli("sign-pdf", str(src), *tok, "-o", str(tmp_path / "w.pdf"), env={"GOVSIG_TEST_PIN": WRONG_PIN, "SOFTHSM2_CONF": str(hsm.conf)})
    assert wrong.returncode == 1 and "Traceback" not in wrong.stderr
    assert len(wrong.stderr.strip().splitlines()) == 1
    for p in (done, wrong):
        assert USER_PIN not in p.stdout + p.stderr and WRONG_PIN not in p.stdout + p.stderr
    assert not (tmp_path / "w.pdf").exists()


def test_verify_files_reads_pdfs_in_the_core(verifier: govsig.Verifier, pki, form: bytes, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    good = govsig.sign_pdf(form, key_signer(pki.rsa_leaf))
    bad = bytearray(good)
    bad[bytes(good).index(b"page 1 of 1")] ^= 1
    for i, data in enumerate([good, bytes(bad), good, b"%PDF-1.7 junk"] * 3):
        (tmp_path / f"{i:02d}.pdf").write_bytes(data)
    paths = sorted(tmp_path.glob("*.pdf"))
    b = verifier.verify_files(paths, threads=2, chunk_size=5)
    assert [b[i].code for i in range(len(paths))] == [verifier.verify_pdf(p).code for p in paths]
    assert [b[i].code for i in range(4)] == ["ok", b[1].code, "ok", "pdf_malformed"] and b[1].code != "ok"
    with pytest.raises(FileNotFoundError):
        verifier.verify_files([paths[0], tmp_path / "missing.pdf"])


def test_batch_records_of_pdfs(verifier: govsig.Verifier, pki, form: bytes, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import pickle

    two = pdfsign.sign(govsig.sign_pdf(form, key_signer(pki.rsa_leaf)), pki.p256_leaf, field="Signature2")
    (tmp_path / "a.pdf").write_bytes(two)
    (tmp_path / "b.p7m").write_bytes(P.sign_cms(b"van ban", pki.rsa_leaf, detached=False))
    (tmp_path / "c.pdf").write_bytes(pdfsign.add_page_content(two))
    b = verifier.verify_files([tmp_path / n for n in ("a.pdf", "b.p7m", "c.pdf")])
    recs = b.to_records()
    assert [r["code"] for r in recs] == ["ok", "ok", "modified_after_signing"]
    a = recs[0]
    assert (a["ok"], a["detached"], a["pdf"]["revisions"]) == (True, True, 3)
    assert [s["subject"] for s in a["signers"]] == [b[0].signatures[0].signer.subject,  # type: ignore[union-attr]
                                                    b[0].signatures[1].signer.subject]  # type: ignore[union-attr]
    assert [(s["field"], s["revision"], s["modification"], s["subfilter"]) for s in a["pdf"]["signatures"]] == [
        ("Signature1", 1, "form_fill", "ETSI.CAdES.detached"), ("Signature2", 2, "none", "ETSI.CAdES.detached")]
    assert "pdf" not in recs[1]
    assert recs[2]["pdf"]["signatures"][0]["modification"] == "other"
    assert pickle.loads(pickle.dumps(b)).to_records() == recs
    table = b.to_arrow()
    assert table.num_rows == 3 and "pdf" in table.column_names
