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
