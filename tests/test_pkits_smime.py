"""The 224 PKITS S/MIME messages: each CMS parses and its signature verifies over the signed
MIME entity. (Trust and CRL semantics of PKITS are the path-validation suite's job.)"""
from __future__ import annotations

import datetime as dt
import json

import pytest

import govsig
from pkits_smime import load_smime


def _cases(conformance_dir):
    return json.loads((conformance_dir / "pkits" / "cases.json").read_text())


def test_all_smime_messages_parse_and_their_signatures_check(conformance_dir):
    smime = sorted((conformance_dir / "pkits" / "smime").glob("*.eml"))
    assert len(smime) == 224, "the PKITS corpus should hold 224 S/MIME messages"
    integrity = govsig.Verifier(govsig.Policy(trust=None, legacy=True, min_rsa_bits=1024))
    bad = {}
    for p in smime:
        content, cms = load_smime(p)
        r = integrity.verify(cms, content)
        if not r.integrity_ok or r.code != "integrity_only":
            bad[p.name] = (r.code, r.reason)
    assert not bad, f"{len(bad)} messages failed: {bad}"


def test_tampered_smime_content_is_caught(conformance_dir):
    p = conformance_dir / "pkits" / "smime" / "SignedValidSignaturesTest1.eml"
    if not p.exists():
        p = sorted((conformance_dir / "pkits" / "smime").glob("SignedValid*.eml"))[0]
    content, cms = load_smime(p)
    v = govsig.Verifier(govsig.Policy(trust=None, legacy=True))
    assert v.verify(cms, content.replace(b"sample", b"simple")).code == "digest_mismatch"


SECTIONS_WITHOUT_REVOCATION_OR_POLICY = ("4.1.", "4.2.", "4.3.")


def test_smime_verdicts_for_signature_validity_and_name_chaining(conformance_dir):
    """PKITS 4.1 (signatures), 4.2 (validity periods) and 4.3 (name chaining) through the
    S/MIME form, at the PKITS validation time: their verdicts do not depend on CRLs or
    policies, which the path-validation suite covers."""
    base = conformance_dir / "pkits"
    anchor = (base / "certs" / "TrustAnchorRootCertificate.crt").read_bytes()
    at = dt.datetime(2011, 4, 15, tzinfo=dt.timezone.utc)
    wrong = {}
    checked = 0
    for case in _cases(conformance_dir)["cases"]:
        if not case["id"].startswith(SECTIONS_WITHOUT_REVOCATION_OR_POLICY):
            continue
        inter = [(base / f).read_bytes() for f in case.get("intermediates", []) + case.get("other_certs", [])]
        v = govsig.Verifier(govsig.Policy(trust=[anchor], intermediates=inter, at=at, key_usage=(), legacy=True))
        content, cms = load_smime(base / case["smime"])
        r = v.verify(cms, content)
        verdict = "valid" if r.ok else "invalid"
        if verdict != case["expected"]["result"]:
            wrong[case["id"]] = (case["expected"]["result"], r.code, r.reason)
        checked += 1
    assert checked >= 25
    assert not wrong, wrong
