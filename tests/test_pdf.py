"""Signed PDFs (PAdES): documents made by reportlab and pikepdf, signed by pyHanko (its own
signer, its own time-stamper against the loopback TSA, its own DSS), verified by govsig."""

from __future__ import annotations

import datetime as dt
import logging
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding

import govsig
import pdfsign
from tsa_server import Tsa, make_tsa_certificate

ROOT = Path(__file__).resolve().parent.parent
NOW = dt.datetime.now(dt.timezone.utc)

# pyHanko logs its own diagnostics (e.g. "fetching is not allowed"); they are not ours.
logging.getLogger("pyhanko").setLevel(logging.CRITICAL)
logging.getLogger("pyhanko_certvalidator").setLevel(logging.CRITICAL)


def make_crl(issuer) -> bytes:  # type: ignore[no-untyped-def]
    b = (x509.CertificateRevocationListBuilder().issuer_name(issuer.cert.subject)
         .last_update(NOW - dt.timedelta(hours=1)).next_update(NOW + dt.timedelta(days=7))
         .add_extension(x509.CRLNumber(1), critical=False))
    return b.sign(issuer.key, hashes.SHA256()).public_bytes(Encoding.DER)


@pytest.fixture(scope="module")
def verifier(pki) -> govsig.Verifier:  # type: ignore[no-untyped-def]
    return govsig.Verifier(govsig.Policy(trust=govsig.TrustStore.from_der([pki.rsa_root.der, pki.p256_root.der])))


@pytest.fixture(scope="module")
def form() -> bytes:
    return pdfsign.base_pdf(text_field=True)


@pytest.fixture(scope="module")
def signed(pki, form: bytes) -> bytes:  # type: ignore[no-untyped-def]
    return pdfsign.sign(form, pki.rsa_leaf, reason="Phê duyệt hồ sơ", location="Hà Giang")


@pytest.fixture(scope="module")
def tsa(pki, openssl: str, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    with Tsa(tmp_path_factory.mktemp("tsa"), openssl,
             signer=make_tsa_certificate("TSA PDF thử nghiệm", pki.rsa_intermediate)) as t:
        yield t


def test_pades_signature_by_pyhanko_is_found_and_verified(verifier: govsig.Verifier, signed: bytes, pki) -> None:  # type: ignore[no-untyped-def]
    r = verifier.verify_pdf(signed)
    assert (r.ok, r.code, r.reason) == (True, "ok", "")
    assert r.revisions == 2
    (s,) = r.signatures
    assert (s.field, s.subfilter, s.revision) == ("Signature1", "ETSI.CAdES.detached", 1)
    assert s.byte_range[0] == 0 and s.byte_range[2] + s.byte_range[3] == len(signed)
    assert s.covers_whole_document and s.modification == "none"
    assert s.docmdp is None and not s.is_doc_timestamp
    assert (s.signing_reason, s.location) == ("Phê duyệt hồ sơ", "Hà Giang")
    assert s.claimed_time is not None and s.claimed_time.startswith("D:")
    assert s.signer is not None and s.signer.ok
    assert s.signer.certificate == pki.rsa_leaf.der
    assert "Nguyễn Văn An" in (s.signer.subject or "")


def test_path_and_bytes_give_the_same_verdict(verifier: govsig.Verifier, signed: bytes, tmp_path: Path) -> None:
    p = tmp_path / "doc.pdf"
    p.write_bytes(signed)
    assert verifier.verify_pdf(p).code == verifier.verify_pdf(str(p)).code == "ok"


def test_adbe_pkcs7_detached_over_xref_and_object_streams(verifier: govsig.Verifier, pki, form: bytes) -> None:  # type: ignore[no-untyped-def]
    base = pdfsign.with_object_streams(form)
    assert b"/ObjStm" in base and b"/XRef" in base
    pdf = pdfsign.sign(base, pki.p256_leaf, subfilter="adbe")
    r = verifier.verify_pdf(pdf)
    assert r.code == "ok", r.reason
    assert r.signatures[0].subfilter == "adbe.pkcs7.detached"
    filled = pdfsign.fill_text_field(pdf, "42/QĐ")
    r = verifier.verify_pdf(filled)
    assert r.code == "ok"
    assert (r.signatures[0].modification, r.signatures[0].covers_whole_document) == ("form_fill", False)


def test_two_signatures_each_in_its_revision(verifier: govsig.Verifier, pki, signed: bytes) -> None:  # type: ignore[no-untyped-def]
    pdf = pdfsign.sign(signed, pki.p256_leaf, field="Signature2")
    r = verifier.verify_pdf(pdf)
    assert r.ok, r.reason
    first, second = r.signatures
    assert (first.field, first.revision, first.covers_whole_document, first.modification) == (
        "Signature1", 1, False, "form_fill")
    assert (second.field, second.revision, second.covers_whole_document, second.modification) == (
        "Signature2", 2, True, "none")
    assert "Trần Thị Bình" in (second.signer.subject or "")  # type: ignore[union-attr]


@pytest.mark.parametrize("level", [1, 2, 3])
def test_certification_reports_its_docmdp_level(verifier: govsig.Verifier, pki, form: bytes, level: int) -> None:  # type: ignore[no-untyped-def]
    r = verifier.verify_pdf(pdfsign.sign(form, pki.rsa_leaf, certify=level))
    assert r.ok
    assert r.signatures[0].docmdp == level


def test_untrusted_signer_and_no_trust_store(pki, signed: bytes) -> None:  # type: ignore[no-untyped-def]
    other = govsig.Verifier(govsig.Policy(trust=govsig.TrustStore.from_der([pki.p256_root.der])))
    assert other.verify_pdf(signed).code == "chain_untrusted"
    assert govsig.Verifier().verify_pdf(signed).code == "integrity_only"


def test_document_timestamp_by_pyhanko(verifier: govsig.Verifier, pki, signed: bytes, tsa: Tsa) -> None:  # type: ignore[no-untyped-def]
    pdf = pdfsign.timestamp_document(signed, tsa.url)
    r = verifier.verify_pdf(pdf)
    assert r.ok, r.reason
    sig, ts = r.signatures
    assert (sig.modification, ts.is_doc_timestamp, ts.subfilter) == ("ltv_only", True, "ETSI.RFC3161")
    assert "TSA PDF thử nghiệm" in (ts.signer.subject or "")  # type: ignore[union-attr]
    assert ts.covers_whole_document


def test_dss_is_revocation_evidence(pki, form: bytes, tsa: Tsa) -> None:  # type: ignore[no-untyped-def]
    crls = [make_crl(pki.rsa_intermediate), make_crl(pki.rsa_root)]
    vc = pdfsign.validation_context([pki.rsa_root], crls=crls)
    lta = pdfsign.sign(form, pki.rsa_leaf, tsa_url=tsa.url, embed_validation_info=True, vc=vc)
    plain = pdfsign.sign(form, pki.rsa_leaf)
    hard = govsig.Verifier(govsig.Policy(trust=govsig.TrustStore.from_der([pki.rsa_root.der]),
                                         revocation="hard-fail"))
    # Without the DSS nothing says the signer was not revoked; with it, the CRLs decide.
    assert hard.verify_pdf(plain).code == "revocation_unknown"
    r = hard.verify_pdf(lta)
    assert r.ok, r.reason
    assert r.signatures[0].modification == "ltv_only"
    assert r.signatures[-1].is_doc_timestamp
    evidence = r.signatures[0].signer.revocation  # type: ignore[union-attr]
    assert evidence and all(e["status"] == "good" and e["source"] == "crl" for e in evidence)


def test_vri_entry_is_evidence_for_its_signature_only(pki, form: bytes) -> None:  # type: ignore[no-untyped-def]
    crls = [make_crl(pki.rsa_intermediate), make_crl(pki.rsa_root)]
    two = pdfsign.sign(pdfsign.sign(form, pki.rsa_leaf), pki.rsa_leaf, field="Signature2")
    hard = govsig.Verifier(govsig.Policy(trust=govsig.TrustStore.from_der([pki.rsa_root.der]),
                                         revocation="hard-fail"))
    # The CRLs are only in the first signature's /VRI entry (no /CRLs in the DSS itself):
    # they decide that signature and no other.
    r = hard.verify_pdf(pdfsign.add_vri(two, crls=crls, for_signature=0))
    first, second = r.signatures
    assert first.ok and first.modification == "form_fill", first.reason
    evidence = first.signer.revocation  # type: ignore[union-attr]
    assert evidence and all(e["status"] == "good" and e["source"] == "crl" for e in evidence)
    assert second.code == "revocation_unknown"
    assert r.code == "revocation_unknown"
    # An entry named for the CMS alone (without the /Contents padding) names it too.
    import hashlib
    import io

    contents = pdfsign.PdfFileReader(io.BytesIO(two)).embedded_signatures[1].pkcs7_content
    n = contents[1] & 0x7F
    cms_len = 2 + n + int.from_bytes(contents[2:2 + n], "big")
    assert contents[cms_len:].strip(b"\0") == b""
    cms_key = hashlib.sha1(contents[:cms_len]).hexdigest().upper()
    r = hard.verify_pdf(pdfsign.add_vri(two, crls=crls, key=cms_key))
    assert [s.code for s in r.signatures] == ["revocation_unknown", "ok"]
    # An entry named for no signature is evidence for none.
    r = hard.verify_pdf(pdfsign.add_vri(two, crls=crls, key="00" * 20))
    assert [s.code for s in r.signatures] == ["revocation_unknown", "revocation_unknown"]


def test_a_signature_a_later_revision_removed_is_still_judged(verifier: govsig.Verifier, pki,  # type: ignore[no-untyped-def]
                                                               signed: bytes) -> None:
    # Signed, the field taken out of the form, then a second signature over that: the first
    # signature is no longer in the last revision, but it is found where it was made and
    # what followed it (its removal) is `other`.
    hidden = pdfsign.remove_signature_field(signed, "Signature1")
    pdf = pdfsign.sign(hidden, pki.p256_leaf, field="Signature2")
    r = verifier.verify_pdf(pdf)
    assert [(s.field, s.revision, s.modification) for s in r.signatures] == [
        ("Signature1", 1, "other"), ("Signature2", 3, "none")]
    assert r.code == "modified_after_signing", r.reason


def test_a_removed_signature_is_found_however_its_keys_are_spelled(verifier: govsig.Verifier, pki,  # type: ignore[no-untyped-def]
                                                                   signed: bytes) -> None:
    # `#74` spells `t` in a name (ISO 32000-1 §7.3.5): /By#74eRange is /ByteRange. Every
    # revision is read structurally, so a removed signature is found whatever the spelling of
    # its keys (a byte search for `/ByteRange` would miss it and leave the second signature
    # looking like the document's only one). The escape changes signed bytes, so the first
    # signature no longer verifies; what matters is that it is judged, with its removal.
    i = signed.index(b"/ByteRange [")
    j = signed.index(b"]", i) + 1
    assert signed[j:j + 2] == b"  "
    escaped = signed[:i] + b"/By#74eRange" + signed[i + len(b"/ByteRange"):j] + signed[j + 2:]
    assert len(escaped) == len(signed)
    pdf = pdfsign.sign(pdfsign.remove_signature_field(escaped, "Signature1"), pki.p256_leaf, field="Signature2")
    r = verifier.verify_pdf(pdf)
    assert [(s.field, s.revision, s.modification) for s in r.signatures] == [
        ("Signature1", 1, "other"), ("Signature2", 3, "none")]
    assert r.signatures[0].code != "ok" and r.signatures[1].code == "ok"
    assert not r.ok


@pytest.mark.parametrize("data,code", [
    (b"", "pdf_malformed"),
    (b"not a pdf at all", "pdf_malformed"),
    (b"%PDF-1.7\n" + b"[" * 100_000, "pdf_malformed"),
    (b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\nstartxref\n9\n%%EOF\n", "pdf_malformed"),
])
def test_bad_pdfs_are_results_not_exceptions(verifier: govsig.Verifier, data: bytes, code: str) -> None:
    r = verifier.verify_pdf(data)
    assert (r.ok, r.code) == (False, code)
    assert r.reason


def test_every_truncation_is_a_result(verifier: govsig.Verifier, signed: bytes) -> None:
    for n in range(0, len(signed), max(1, len(signed) // 97)):
        r = verifier.verify_pdf(signed[:n])
        assert r.code in {"pdf_malformed", "no_signature"}, (n, r.code)


def test_unsigned_document(verifier: govsig.Verifier, form: bytes) -> None:
    r = verifier.verify_pdf(form)
    assert (r.ok, r.code, r.signatures) == (False, "no_signature", [])


def test_verify_pdf_refuses_other_types(verifier: govsig.Verifier) -> None:
    with pytest.raises(TypeError, match="bytes or a path"):
        verifier.verify_pdf(42)  # type: ignore[arg-type]


def test_verify_files_handles_pdfs_natively(verifier: govsig.Verifier, pki, signed: bytes, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import pki as P

    (tmp_path / "a.pdf").write_bytes(signed)
    (tmp_path / "b.p7m").write_bytes(P.sign_cms(b"van ban", pki.rsa_leaf, detached=False))
    (tmp_path / "c.pdf").write_bytes(pdfsign.add_page_content(signed))
    (tmp_path / "d.PDF").write_bytes(b"%PDF-1.4 broken")
    paths = [tmp_path / n for n in ("a.pdf", "b.p7m", "c.pdf", "d.PDF")]
    b = verifier.verify_files(paths, chunk_size=3)
    assert [b[i].code for i in range(4)] == ["ok", "ok", "modified_after_signing", "pdf_malformed"]
    assert isinstance(b[0], govsig.PdfResult) and isinstance(b[1], govsig.VerifyResult)
    assert list(b.codes) == [govsig.codes().index(b[i].code) for i in range(4)]


def test_cli_verify_pdf(pki, signed: bytes, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "doc.pdf").write_bytes(signed)
    (tmp_path / "bad.pdf").write_bytes(pdfsign.add_page_content(signed))
    (tmp_path / "root.pem").write_bytes(pki.rsa_root.pem)
    env = {"PYTHONPATH": str(ROOT / "python")}

    def run(name: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "govsig", "verify", str(tmp_path / name),
                               "--trust", str(tmp_path / "root.pem")],
                              capture_output=True, text=True, env=env, timeout=60)

    ok = run("doc.pdf")
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.splitlines()[0].endswith("doc.pdf: ok")
    assert "Signature1 (revision 1, ETSI.CAdES.detached): ok" in ok.stdout
    bad = run("bad.pdf")
    assert bad.returncode == 1 and "modified_after_signing" in bad.stdout
    assert "Traceback" not in bad.stderr


def test_cli_verify_archive_picks_up_pdfs(pki, signed: bytes, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import json

    arch = tmp_path / "archive"
    arch.mkdir()
    (arch / "a.pdf").write_bytes(signed)
    (arch / "b.pdf").write_bytes(pdfsign.replace_page(signed))
    (tmp_path / "root.pem").write_bytes(pki.rsa_root.pem)
    report = tmp_path / "report.jsonl"
    out = subprocess.run([sys.executable, "-m", "govsig", "verify-archive", str(arch), "--trust",
                          str(tmp_path / "root.pem"), "--report", str(report), "--no-progress"],
                         capture_output=True, text=True, env={"PYTHONPATH": str(ROOT / "python")}, timeout=60)
    assert out.returncode == 1, out.stderr
    assert "modified_after_signing" in out.stdout  # the summary by outcome
    recs = [json.loads(line) for line in report.read_text(encoding="utf-8").splitlines()]
    assert [(Path(r["path"]).name, r["code"]) for r in recs] == [("a.pdf", "ok"), ("b.pdf", "modified_after_signing")]
    assert recs[1]["pdf"]["signatures"][0]["modification"] == "other"
    assert recs[0]["signers"][0]["code"] == "ok" and recs[0]["signers"][0]["subject"]
    # The lines of PDFs keep the report schema.
    import jsonschema

    from govsig.archive import load_schema

    for r in recs:
        jsonschema.validate(r, load_schema())


def test_fieldmdp_lock_covers_only_its_fields(verifier: govsig.Verifier, pki, form: bytes) -> None:  # type: ignore[no-untyped-def]
    elsewhere = pdfsign.sign(form, pki.rsa_leaf, lock_fields=["truong_khac"])
    r = verifier.verify_pdf(pdfsign.fill_text_field(elsewhere, "x"))
    assert r.ok and r.signatures[0].modification == "form_fill"
    locked = pdfsign.sign(form, pki.rsa_leaf, lock_fields=["so_van_ban"])
    r = verifier.verify_pdf(pdfsign.fill_text_field(locked, "x"))
    assert r.code == "modified_after_signing"
    assert "so_van_ban" in r.reason and "FieldMDP" in r.reason
