"""CRL load + index: govsig.Crl.from_der against cryptography's load_der_x509_crl plus a set
of its serials (the usual Python way to get O(1) look-ups), on a 100,000-entry CRL.

Both are measured in the same run; the ratio of medians is printed as
``RATIO crl_load_index_vs_cryptography X (target >= 10)``.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from cryptography import x509

import crlgen
import govsig

N_ENTRIES = 100_000
_medians: dict[str, float] = {}


@pytest.fixture(scope="module")
def big() -> crlgen.BigCrl:
    return crlgen.big_crl(N_ENTRIES)


def _govsig_load(der: bytes) -> Any:
    return govsig.Crl.from_der(der)


def _cryptography_load(der: bytes) -> Any:
    return {r.serial_number for r in x509.load_der_x509_crl(der)}


IMPLS: dict[str, Callable[[bytes], Any]] = {"govsig": _govsig_load, "cryptography": _cryptography_load}


def _median_seconds(benchmark: Any, fn: Callable[[bytes], Any], der: bytes) -> float:
    stats = getattr(benchmark, "stats", None)
    if stats is not None:
        return float(stats.stats.median)
    # --benchmark-disable (the default outside `make bench`): time a few rounds directly so
    # the ratio is still printed.
    rounds = []
    for _ in range(5):
        t = time.perf_counter()
        fn(der)
        rounds.append(time.perf_counter() - t)
    return statistics.median(rounds)


@pytest.fixture(scope="module", autouse=True)
def _report() -> Iterator[None]:
    yield
    if set(_medians) == set(IMPLS):
        ratio = _medians["cryptography"] / _medians["govsig"]
        print(f"\nRATIO crl_load_index_vs_cryptography {ratio:.1f} (target >= 10)"
              f"  [govsig {_medians['govsig'] * 1e3:.2f} ms, cryptography {_medians['cryptography'] * 1e3:.2f} ms,"
              f" {N_ENTRIES} entries, build {govsig.BUILD_PROFILE}]")


@pytest.mark.parametrize("impl", list(IMPLS))
def test_crl_load_index(benchmark: Any, big: crlgen.BigCrl, impl: str) -> None:
    fn = IMPLS[impl]
    benchmark.group = "crl-load-index-100k"
    result = benchmark(fn, big.der)
    # Both sides produce the full serial index.
    assert len(result) == N_ENTRIES
    _medians[impl] = _median_seconds(benchmark, fn, big.der)
