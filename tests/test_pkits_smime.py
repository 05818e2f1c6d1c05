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


INDIRECT_CRL_SIGNER_CASES = ("4.14.24", "4.14.25", "4.14.28", "4.14.29", "4.14.30", "4.14.33")


@pytest.mark.parametrize("case_id", INDIRECT_CRL_SIGNER_CASES)
def test_an_indirect_crl_signers_path_is_kept_as_evidence(conformance_dir, case_id):
    """PKITS indirect CRLs through the S/MIME form: the CRL that decided the signer's status
    was signed by another certificate than its issuer (RFC 5280 §6.3.3 (f)). That signer's
    path is part of what decided: the evidence holds it, and fed back as the only
    intermediates and CRLs (hard-fail, same time) it gives the same verdict."""
    base = conformance_dir / "pkits"
    (case,) = [c for c in _cases(conformance_dir)["cases"] if c["id"] == case_id]
    anchor = (base / case["trust_anchor"]).read_bytes()
    at = dt.datetime(2011, 4, 15, tzinfo=dt.timezone.utc)
    crl_signers = [(base / f).read_bytes() for f in case.get("other_certs", [])]
    inter = [(base / f).read_bytes() for f in case.get("intermediates", [])] + crl_signers
    crls = [(base / f).read_bytes() for f in case.get("crls", [])]

    def policy(intermediates, crls):
        return govsig.Policy(trust=[anchor], intermediates=intermediates, crls=crls, at=at, key_usage=(),
                             legacy=True, min_rsa_bits=1024, revocation="hard-fail")

    content, cms = load_smime(base / case["smime"])
    r = govsig.Verifier(policy(inter, crls)).verify(cms, content)
    assert r.code == "ok", r.reason
    ev = r.evidence
    assert set(crl_signers) <= set(ev.certificates)
    again = govsig.Verifier(policy(list(ev.certificates), list(ev.crls))).verify(cms, content)
    assert (again.code, again.reason) == ("ok", "")
