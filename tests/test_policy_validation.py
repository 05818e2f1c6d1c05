"""Policy(...) refuses what it cannot mean, at construction and naming the knob (issue 11,
item 5); verify_many refuses items that are not (signature, content) pairs."""
from __future__ import annotations

import pytest

import govsig
from govsig import Policy, Verifier


def test_empty_extended_key_usage_is_refused_with_the_fix() -> None:
    with pytest.raises(ValueError, match=r"extended_key_usage=\(\) accepts no certificate; use None for unchecked"):
        Policy(extended_key_usage=())
    with pytest.raises(ValueError, match="use None for unchecked"):
        Policy(extended_key_usage=[])
    assert Policy(extended_key_usage=None).extended_key_usage is None
    assert Policy(extended_key_usage="1.3.6.1.5.5.7.3.4").extended_key_usage == ("1.3.6.1.5.5.7.3.4",)


@pytest.mark.parametrize("bad", [
    "id-kp-emailProtection", "1.3.6.1.5.5.7.3.04", "1", "3.1", "1.40", "1.3..6", "1.3.6.", " 1.3.6", "1.3.6\n", 13614,
])
def test_oid_text_is_validated_at_policy(bad) -> None:
    with pytest.raises(ValueError, match=r"extended_key_usage entries must be dotted OIDs such as 1\.3\.6\.1\.5\.5\.7\.3\.4, got"):
        Policy(extended_key_usage=[bad])
    with pytest.raises(ValueError, match="user_initial_policy_set entries must be dotted OIDs"):
        Policy(user_initial_policy_set=[bad])


def test_well_formed_oids_are_accepted() -> None:
    for oid in ("1.3.6.1.5.5.7.3.4", "2.5.29.32.0", "0.9.2342.19200300.100.1.1", "2.25.329800735698586629295641978511506172918", "1.39"):
        assert Policy(extended_key_usage=[oid], user_initial_policy_set=[oid]).extended_key_usage == (oid,)


@pytest.mark.parametrize(("knob", "value", "message"), [
    ("ocsp_skew", 2**70, r"ocsp_skew must be between 0 and 604800 \(seconds \(a week\)\), got 1180591620717411303424"),
    ("ocsp_skew", -1, "ocsp_skew must be between 0 and 604800"),
    ("max_chain_depth", 2**64, "max_chain_depth must be between 0 and 64"),
    ("min_rsa_bits", 10**6, "min_rsa_bits must be between 0 and 16384"),
    ("max_signature_checks", 2**70, "max_signature_checks must be between 0 and 1000000"),
    ("max_paths", -5, "max_paths must be between 0 and 1000000"),
])
def test_numeric_knobs_out_of_range_raise_at_policy_naming_the_knob(knob, value, message) -> None:
    with pytest.raises(ValueError, match=message):
        Policy(**{knob: value})
    with pytest.raises(ValueError, match=message):
        Policy().replace(**{knob: value})


@pytest.mark.parametrize(("knob", "value"), [("max_paths", 3.0), ("ocsp_skew", True), ("max_chain_depth", "8")])
def test_numeric_knobs_of_another_type_are_type_errors_naming_the_knob(knob, value) -> None:
    with pytest.raises(TypeError, match=f"^{knob} must be an int$"):
        Policy(**{knob: value})


def test_knobs_at_their_limits_build_a_verifier() -> None:
    p = Policy(ocsp_skew=7 * 86400, max_chain_depth=64, min_rsa_bits=16384,
               max_signature_checks=1_000_000, max_paths=1_000_000)
    assert Verifier(p).policy.ocsp_skew == 604800


@pytest.mark.parametrize(("item", "what"), [
    (b"\x30\x03\x02\x01\x01", r"got bytes \(a signature alone\? pass \(signature, None\)\)"),
    (b"\x30\x00", r"got bytes"),
    ("ab", "got str"),
    ((b"\x30\x00",), "got a tuple of 1"),
    ((b"\x30\x00", None, b"extra"), "got a tuple of 3"),
    (None, "got NoneType"),
])
def test_verify_many_refuses_items_that_are_not_pairs(item, what) -> None:
    good = (b"\x30\x00", None)
    with pytest.raises(TypeError, match=r"verify_many items must be \(signature, content-or-None\) pairs, " + what):
        Verifier().verify_many([good, item])
    # Pairs given as lists and buffers still verify (as malformed input here).
    assert [r.code for r in Verifier().verify_many([[bytearray(b"\x30\x00"), None], good])] == ["malformed"] * 2
