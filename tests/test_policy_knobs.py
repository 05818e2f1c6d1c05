"""Policy is defined once, in the Rust core (issue 12, item 3): every knob round-trips
through pickle, equality and replace(); every invalid value of every knob raises ValueError or
TypeError naming the knob; the enumerations come from the core.

The tables below must name every knob of ``govsig.policy_knobs()``: a knob added to the core
without a sample here fails ``test_the_tables_cover_every_knob``.
"""
from __future__ import annotations

import copy
import datetime as dt
import pickle

import pytest

import govsig
from govsig import Policy

UTC = dt.timezone.utc

# A valid value other than the default, for each knob.
CHANGED = {
    "at": dt.datetime(2024, 5, 1, 12, 30, tzinfo=UTC),
    "legacy": True,
    "max_chain_depth": 3,
    "min_rsa_bits": 1024,
    "key_usage": ("crl_sign", "key_cert_sign"),
    "extended_key_usage": ("1.3.6.1.5.5.7.3.4", "1.3.6.1.5.5.7.3.36"),
    "max_signature_checks": 7,
    "max_paths": 2,
    "user_initial_policy_set": ("2.16.704.1.2.3",),
    "initial_explicit_policy": True,
    "initial_policy_mapping_inhibit": True,
    "initial_any_policy_inhibit": True,
    "require_acceptable_policy": False,
    "revocation": "hard-fail",
    "revocation_sources": ("crl",),
    "ocsp_skew": 0,
    "anchor_constraints": False,
    "strict_profile": True,
    "legacy_certificates": True,
    "signature_time": "timestamp",
    "require_timestamp": True,
    "signing_time_tolerance": 7 * 3600,
    "tsa_validation": "gen_time",
}

# Values each knob must refuse, with the exception type.
# (A value of the wrong kind is a TypeError; one of the right kind the knob refuses, ValueError.)
INVALID = {
    "at": [("2024-05-01", TypeError), (1714566600, TypeError), (dt.date(2024, 5, 1), TypeError)],
    "legacy": [(1, TypeError), ("yes", TypeError), (None, TypeError)],
    "max_chain_depth": [(65, ValueError), (-1, ValueError), (2**64, ValueError), (3.0, TypeError), (True, TypeError)],
    "min_rsa_bits": [(16385, ValueError), ("2048", TypeError)],
    "key_usage": [(("sign_everything",), ValueError), (("crl_sign", "crl_sign"), ValueError), ((5,), ValueError),
                  (5, TypeError), (None, TypeError)],
    "extended_key_usage": [((), ValueError), (("id-kp-timeStamping",), ValueError), ((b"1.2.3",), ValueError),
                           (42, TypeError)],
    "max_signature_checks": [(1_000_001, ValueError), (None, TypeError)],
    "max_paths": [(-5, ValueError), (2**70, ValueError), (2**200, ValueError)],
    "user_initial_policy_set": [((), ValueError), (("3.1",), ValueError), (None, TypeError)],
    "initial_explicit_policy": [(0, TypeError), ("false", TypeError)],
    "initial_policy_mapping_inhibit": [(None, TypeError)],
    "initial_any_policy_inhibit": [(1.0, TypeError)],
    "require_acceptable_policy": [("", TypeError)],
    "revocation": [("strict", ValueError), ("HARD-FAIL", ValueError), (None, TypeError), (("off",), TypeError)],
    "revocation_sources": [((), ValueError), (("ocsp", "ocsp"), ValueError), (("ldap",), ValueError)],
    "ocsp_skew": [(7 * 86400 + 1, ValueError), (-1, ValueError), (True, TypeError)],
    "anchor_constraints": [(None, TypeError), (0, TypeError)],
    "strict_profile": [("yes", TypeError)],
    "legacy_certificates": [(1, TypeError)],
    "signature_time": [("now", ValueError), ("Timestamp", ValueError), (None, TypeError)],
    "require_timestamp": [(1, TypeError), ("yes", TypeError)],
    "signing_time_tolerance": [(-1, ValueError), (366 * 86400 + 1, ValueError), (3600.0, TypeError),
                               (dt.timedelta(seconds=-1), ValueError)],
    "tsa_validation": [("never", ValueError), ("gen-time", ValueError), (0, TypeError)],
}


def test_the_tables_cover_every_knob() -> None:
    knobs = list(govsig.policy_knobs())
    assert set(CHANGED) == set(knobs) == set(INVALID)
    assert list(govsig.policy_defaults()) == knobs
    assert all(govsig.policy_knobs()[k] for k in knobs), "every knob says what it does"


@pytest.mark.parametrize("knob", sorted(CHANGED))
def test_every_knob_round_trips(knob: str) -> None:
    default = Policy()
    p = Policy(**{knob: CHANGED[knob]})
    assert getattr(p, knob) == CHANGED[knob]
    assert getattr(default, knob) == govsig.policy_defaults()[knob]
    assert p != default
    for q in (pickle.loads(pickle.dumps(p)), copy.deepcopy(p), default.replace(**{knob: CHANGED[knob]})):
        assert type(q) is Policy
        assert q == p and hash(q) == hash(p)
        assert getattr(q, knob) == CHANGED[knob]
    # Only that knob moved.
    for other in CHANGED:
        if other != knob:
            assert getattr(p, other) == getattr(default, other), other
    assert f"{knob}=" in repr(p)


def test_all_knobs_at_once_and_evidence_round_trip() -> None:
    from test_bad_crls import Pki, crl

    w = Pki()
    p = Policy(trust=[w.root.der], intermediates=[w.ca.der], crls=[crl(w.root)], **CHANGED)
    q = pickle.loads(pickle.dumps(p))
    assert q == p and hash(q) == hash(p)
    assert q.trust == p.trust and q.intermediates == p.intermediates and q.crls == p.crls
    assert {k: getattr(q, k) for k in CHANGED} == CHANGED
    assert p != p.replace(crls=())
    assert p != p.replace(trust=None)
    assert p.replace(trust=None).trust is None


@pytest.mark.parametrize(("knob", "value", "kind"),
                         [(k, v, e) for k, cases in sorted(INVALID.items()) for v, e in cases])
def test_every_invalid_value_names_its_knob(knob: str, value: object, kind: type[Exception]) -> None:
    with pytest.raises(kind, match=rf"^{knob}\b"):
        Policy(**{knob: value})
    with pytest.raises(kind, match=rf"^{knob}\b"):
        Policy().replace(**{knob: value})


def test_an_unknown_knob_is_a_type_error_listing_the_knobs() -> None:
    with pytest.raises(TypeError, match=r'unknown Policy knob "legasy"; the knobs are: at, legacy'):
        Policy(legasy=True)
    with pytest.raises(TypeError, match="unknown Policy field"):
        Policy().replace(legasy=True)


def test_policy_is_immutable() -> None:
    p = Policy()
    with pytest.raises(AttributeError, match=r"immutable.*replace\(legacy=\.\.\.\)"):
        p.legacy = True  # type: ignore[misc]
    with pytest.raises(AttributeError):
        p.anything = 1  # type: ignore[attr-defined]
    with pytest.raises(AttributeError):
        del p.legacy  # type: ignore[misc]


def test_naive_at_is_utc_and_whole_seconds() -> None:
    p = Policy(at=dt.datetime(2024, 5, 1, 12, 30, 15, 999_999))
    assert p.at == dt.datetime(2024, 5, 1, 12, 30, 15, tzinfo=UTC)
    hanoi = dt.timezone(dt.timedelta(hours=7))
    assert Policy(at=dt.datetime(2024, 5, 1, 19, 30, tzinfo=hanoi)).at == dt.datetime(2024, 5, 1, 12, 30, tzinfo=UTC)


def test_single_names_are_accepted_where_a_sequence_is_expected() -> None:
    assert Policy(key_usage="crl_sign").key_usage == ("crl_sign",)
    assert Policy(revocation_sources="crl").revocation_sources == ("crl",)
    assert Policy(user_initial_policy_set="1.2.3").user_initial_policy_set == ("1.2.3",)


def test_enumerations_come_from_the_core() -> None:
    assert govsig.REVOCATION_MODES == ("off", "soft-fail", "hard-fail")
    assert govsig.KEY_USAGE_NAMES[:2] == ("digital_signature", "non_repudiation")
    assert len(govsig.KEY_USAGE_NAMES) == 9
    for mode in govsig.REVOCATION_MODES:
        assert Policy(revocation=mode).revocation == mode


def test_signing_time_tolerance_takes_a_timedelta() -> None:
    assert Policy(signing_time_tolerance=dt.timedelta(hours=7)).signing_time_tolerance == 7 * 3600
    assert Policy().signing_time_tolerance == 3600


def test_tsa_trust_is_evidence_carried_and_compared() -> None:
    import pki

    root = pki.make_root("TSA trust Root")
    p = Policy(tsa_trust=[root.der])
    assert isinstance(p.tsa_trust, govsig.TrustStore)
    assert list(p.tsa_trust.certificates) == [root.der]
    q = pickle.loads(pickle.dumps(p))
    assert q == p and hash(q) == hash(p) and q.tsa_trust is not None
    assert p != Policy() and Policy().tsa_trust is None
    assert p.replace(tsa_trust=None) == Policy()
    assert "tsa_trust=<TrustStore of 1>" in repr(p)


@pytest.mark.parametrize("name", ["max_paths", "revocation", "trust", "replace", "not_a_knob"])
def test_the_policy_class_is_immutable(name: str) -> None:
    # Replacing a knob's property on the class would change what every policy reads.
    with pytest.raises(TypeError, match="immutable"):
        setattr(Policy, name, property(lambda self: 1))
    with pytest.raises(TypeError, match="immutable"):
        delattr(Policy, name)
    assert Policy(max_paths=7).max_paths == 7


def test_a_property_replaced_on_the_compiled_base_changes_nothing() -> None:
    # PyO3 0.25 marks a class immutable (`immutable_type`) only for Python >= 3.14 under the
    # stable ABI; govsig builds abi3 for 3.11, so govsig._govsig.Policy stays a mutable type.
    # govsig.Policy holds its own descriptors, and the engine reads the core's policy, never a
    # Python attribute: replacing one on the base changes neither a reading nor a verdict.
    import pki as P

    root = P.make_root("Root CA lớp bất biến", "p256", seed="frozen-policy|root")
    leaf = P.make_leaf("Người ký lớp bất biến", root, "p256", seed="frozen-policy|leaf")
    base = govsig._govsig.Policy
    saved = {n: base.__dict__[n] for n in ("revocation", "max_paths")}
    try:
        base.revocation = property(lambda self: "off")
        base.max_paths = property(lambda self: 1_000_000)
        p = Policy(trust=[root.cert], revocation="hard-fail", max_paths=3)
        assert (p.revocation, p.max_paths) == ("hard-fail", 3)
        r = govsig.Verifier(p).verify_certificate(leaf.der, [])
        assert r.code == "revocation_unknown", (r.code, r.reason)
    finally:
        for n, d in saved.items():
            setattr(base, n, d)
