"""Shared bench helpers (fixtures any bench module can use; add yours beside these).

- ``bench_scale``: GOVSIG_BENCH_SCALE (default 1.0) shrinks every dataset, e.g. 0.01 for a
  quick smoke run; the issue's full sizes are the default.
- ``bench_dir``: one temp dir per session, under which benches generate their data once.
- ``report_ratio``: prints ``RATIO <name> <value> (target >= <t>) PASS|FAIL`` (never asserts:
  timing is reported, not tested).
"""
from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest


def _scale() -> float:
    raw = os.environ.get("GOVSIG_BENCH_SCALE", "1")
    try:
        value = float(raw)
    except ValueError:
        raise pytest.UsageError(f"GOVSIG_BENCH_SCALE={raw!r} is not a number") from None
    if not 0 < value <= 1:
        raise pytest.UsageError(f"GOVSIG_BENCH_SCALE={raw!r} must be in (0, 1]")
    return value


@pytest.fixture(scope="session")
def bench_scale() -> float:
    return _scale()


@pytest.fixture(scope="session")
def bench_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("bench-data")


@pytest.fixture(scope="session")
def report_ratio() -> Callable[..., bool]:
    def report(name: str, value: float, target: float, higher_is_better: bool = True) -> bool:
        ok = value >= target if higher_is_better else value <= target
        op = ">=" if higher_is_better else "<="
        print(f"RATIO {name} {value:.2f} (target {op} {target:.2f}) {'PASS' if ok else 'FAIL'}", flush=True)
        return ok

    return report
