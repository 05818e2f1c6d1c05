"""The attacked-PDF corpus (tests/pdf_attacks.py): every case gets the verdict it must get,
and pyHanko's own validation agrees with govsig on whether each document can be trusted."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import pytest

import govsig
import pdf_attacks
import pdfsign

ROOT = Path(__file__).resolve().parent.parent
logging.getLogger("pyhanko").setLevel(logging.CRITICAL)
logging.getLogger("pyhanko_certvalidator").setLevel(logging.CRITICAL)

# Where pyHanko's default diff policy and govsig differ, on purpose. pyHanko's policy does not
# whitelist a new sticky-note (non-widget) annotation and calls it OTHER; govsig classifies it
# `annotations`, which an approval signature (ISO 32000-1 §12.8: no DocMDP, no FieldMDP) and
# DocMDP P=3 permit, so the document stays ok with the change reported.
ARGUED = {"annotation_after_approval", "certified_p3_then_annotated"}


@pytest.fixture(scope="module")
def corpus(pki) -> dict[str, pdf_attacks.Case]:  # type: ignore[no-untyped-def]
    return {c.name: c for c in pdf_attacks.build(pki)}


@pytest.fixture(scope="module")
def verifier(pki) -> govsig.Verifier:  # type: ignore[no-untyped-def]
    return govsig.Verifier(govsig.Policy(trust=govsig.TrustStore.from_der([pki.rsa_root.der, pki.p256_root.der])))


def test_corpus_covers_the_attack_classes(corpus: dict[str, pdf_attacks.Case]) -> None:
    for name in ("byte_changed_in_signed_range", "incremental_page_content", "byte_range_shifted",
                 "second_contents", "byte_ranges_overlap", "byte_range_out_of_file", "page_replaced",
                 "certified_p1_then_form_fill", "shadow_hide_and_replace"):
        assert name in corpus


@pytest.mark.parametrize("name", [c for c in (
    "signed", "form_fill_after_approval", "second_signature", "annotation_after_approval",
    "certified_p2_then_signed", "certified_p3_then_annotated", "byte_changed_in_signed_range",
    "incremental_page_content", "page_replaced", "shadow_hide_and_replace", "byte_range_shifted",
    "byte_ranges_overlap", "byte_range_out_of_file", "byte_range_not_from_zero", "second_contents",
    "certified_p1_then_form_fill", "fieldmdp_locked_field_filled", "certified_p2_then_annotated", "truncated", "unsigned")])
def test_each_case_gets_its_verdict(verifier: govsig.Verifier, corpus: dict[str, pdf_attacks.Case], name: str) -> None:
    case = corpus[name]
    r = verifier.verify_pdf(case.data)
    assert r.code == case.code, (case.why, r.reason)
    assert r.ok == (case.code == "ok")
    if case.modification is not None:
        assert r.signatures[0].modification == case.modification, case.why
    if case.code != "ok":
        assert r.reason, "a refusal says why"


def test_no_attack_ends_in_a_clean_ok(verifier: govsig.Verifier, corpus: dict[str, pdf_attacks.Case]) -> None:
    for case in corpus.values():
        r = verifier.verify_pdf(case.data)
        if r.ok:
            # Only honest updates are ok, and each says what changed.
            assert case.code == "ok", case.name
            assert all(s.modification in {"none", "ltv_only", "form_fill", "annotations"} for s in r.signatures)


def test_pyhanko_agrees_on_the_verdict(pki, verifier: govsig.Verifier, corpus: dict[str, pdf_attacks.Case]) -> None:  # type: ignore[no-untyped-def]
    vc = dict(trust_roots=[pdfsign._asn1_cert(pki.rsa_root), pdfsign._asn1_cert(pki.p256_root)])
    compared = 0
    for case in corpus.values():
        if case.code in {"pdf_malformed", "no_signature"} or case.name in ARGUED:
            continue
        try:
            theirs = all(bottom for _, _, bottom, _ in pdfsign.pyhanko_verdicts(case.data, vc))
        except Exception:
            theirs = False  # pyHanko refuses the file outright
        ours = verifier.verify_pdf(case.data).ok
        assert ours == theirs, case.name
        compared += 1
    assert compared >= 15
    for name in ARGUED:
        r = verifier.verify_pdf(corpus[name].data)
        assert r.ok and r.signatures[0].modification == "annotations"


def test_corpus_script_writes_every_case(tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, str(ROOT / "tests" / "pdf_attacks.py"), str(tmp_path)],
                         capture_output=True, text=True, timeout=300,
                         env={"PYTHONPATH": f"{ROOT / 'python'}:{ROOT / 'tests'}"})
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "byte_range_shifted.pdf").read_bytes().startswith(b"%PDF-")
    assert len(list(tmp_path.glob("*.pdf"))) == len(out.stdout.splitlines())
