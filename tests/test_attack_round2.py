"""Round-2 attacks on what was just built: Policy edge cases, exceptions, input forms,
reports. Each test states the attack and asserts what govsig must do."""

from __future__ import annotations

import datetime as dt
import pickle

import pytest

import govsig
from govsig import Policy


def test_policy_at_near_year_10000_is_refused_not_unpicklable() -> None:
    # 9999-12-31 23:59:59 at UTC-5 is year 10000 in UTC: accepted before, then repr, pickle
    # and replace raised OverflowError on the built policy.
    late = dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
    with pytest.raises(ValueError, match="^at must fall within years 1..9999 in UTC"):
        Policy(at=late)


def test_policy_at_datetime_max_reads_back_and_round_trips() -> None:
    # float timestamp() rounded .999999 up into year 10000; exact arithmetic keeps 9999.
    p = Policy(at=dt.datetime.max)
    assert p.at == dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=dt.timezone.utc)
    assert pickle.loads(pickle.dumps(p)) == p
    assert "9999" in repr(p)


def test_policy_at_ignores_overridden_timestamp() -> None:
    # A datetime subclass whose timestamp() is NaN used to become 1970-01-01.
    class Lying(dt.datetime):
        def timestamp(self) -> float:
            return float("nan")

    p = Policy(at=Lying(2020, 1, 1, 12, 0, 0))
    assert p.at == dt.datetime(2020, 1, 1, 12, 0, 0, tzinfo=dt.timezone.utc)


def test_policy_refused_huge_value_message_is_bounded() -> None:
    with pytest.raises(ValueError) as e:
        Policy(max_chain_depth=2**10000)
    msg = str(e.value)
    assert msg.startswith("max_chain_depth must be between 0 and 64")
    assert len(msg) < 300


def test_policy_iterable_that_raises_propagates_its_error() -> None:
    def names():  # type: ignore[no-untyped-def]
        yield "digital_signature"
        raise RuntimeError("from the iterable")

    with pytest.raises(RuntimeError, match="from the iterable"):
        Policy(key_usage=names())


def test_policy_str_subclass_is_read_as_its_text() -> None:
    class Liar(str):
        def __eq__(self, other: object) -> bool:
            return True

        __hash__ = str.__hash__

    # The core compares the text, not the object's __eq__.
    with pytest.raises(ValueError, match="revocation must be one of"):
        Policy(revocation=Liar("nope"))
    assert Policy(revocation=Liar("hard-fail")).revocation == "hard-fail"


def test_policy_subclass_pickle_keeps_class_and_knobs() -> None:
    p = _SubPolicy(revocation="hard-fail", max_chain_depth=3)
    q = pickle.loads(pickle.dumps(p))
    assert type(q) is _SubPolicy and q == p and hash(q) == hash(p)
    assert q.replace(max_chain_depth=4).max_chain_depth == 4


class _SubPolicy(Policy):
    pass


# --- S/MIME multipart/signed: what a mail reader shows must be what is signed -------------

def _signed_lf(pki, openssl: str, tmp_path) -> tuple[bytes, bytes]:  # type: ignore[no-untyped-def]
    import re

    from test_input_forms import TEXT, _smime

    msg = _smime(openssl, tmp_path, pki.rsa_leaf, TEXT, detached=True).replace(b"\r\n", b"\n")
    m = re.search(rb'boundary="([^"]+)"', msg)
    assert m is not None
    return msg, m.group(1)


def _verifier(pki) -> govsig.Verifier:  # type: ignore[no-untyped-def]
    from test_input_forms import AT

    return govsig.Verifier(Policy(trust=[r.der for r in pki.roots], at=AT))


def test_smime_third_unsigned_part_is_refused(pki, openssl, tmp_path) -> None:  # type: ignore[no-untyped-def]
    # RFC 1847: exactly two parts. A third (unsigned) part before the close delimiter was
    # ignored and the message reported ok, while a mail reader shows it.
    msg, b = _signed_lf(pki, openssl, tmp_path)
    v = _verifier(pki)
    assert v.verify(msg).code == "ok"
    close = b"--" + b + b"--"
    evil = b"--" + b + b"\nContent-Type: text/html\n\n<b>pay the attacker</b>\n"
    for bad in (msg.replace(close, evil + close), msg.replace(close, evil)):
        r = v.verify(bad)
        assert r.code == "malformed", r.reason
        assert "more than two parts" in r.reason


def test_smime_line_that_only_starts_with_the_boundary_is_content(pki, openssl, tmp_path) -> None:  # type: ignore[no-untyped-def]
    # "--<boundary>X" is not a delimiter (RFC 2046 §5.1.1): it stays in the first part, which
    # the signature then does not cover.
    msg, b = _signed_lf(pki, openssl, tmp_path)
    first = msg.index(b"--" + b + b"\n") + len(b) + 3
    bad = msg[:first] + b"--" + b + b"X\n" + msg[first:]
    r = _verifier(pki).verify(bad)
    assert r.code != "ok" and r.code != "malformed", (r.code, r.reason)


def test_smime_preamble_and_epilogue_are_not_content(pki, openssl, tmp_path) -> None:  # type: ignore[no-untyped-def]
    # Text outside the parts is ignored by mail readers too; content is only the signed part.
    msg, b = _signed_lf(pki, openssl, tmp_path)
    j = msg.index(b"--" + b + b"\n")
    bad = msg[:j] + b"PREAMBLE TEXT\n" + msg[j:] + b"\nEPILOGUE TEXT\n"
    r = _verifier(pki).verify(bad)
    assert r.code == "ok", r.reason
    assert r.content is not None
    assert b"PREAMBLE" not in r.content and b"EPILOGUE" not in r.content
