"""Bench session hooks: refuse a debug build, print the table of ratios at the end, and fail
the run on a missed target only under GOVSIG_BENCH_STRICT=1. Shared code is in _common.py."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import pytest
from pytest_benchmark.session import PerformanceRegression

# The benches build their corpora with the test PKI (tests/pki.py). Only tests/ joins the path,
# never python/: a `pip install`ed govsig is measured as installed.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from _common import SCALE, SESSION, STRICT, THREADS, load_average  # noqa: E402

_SESSION: Optional[pytest.Session] = None


def pytest_sessionstart(session: pytest.Session) -> None:
    global _SESSION
    _SESSION = session
    SESSION.load_at_start = load_average()


@pytest.fixture(scope="session", autouse=True)
def _release_build() -> None:
    import govsig

    # A debug build is 10-50x slower in the crypto: its numbers would mislead anyone.
    if govsig.BUILD_PROFILE != "release":
        pytest.fail(f"govsig extension is a {govsig.BUILD_PROFILE!r} build; benches measure "
                    f"release builds only (run `make dev`)", pytrace=False)


def pytest_benchmark_update_machine_info(config: pytest.Config, machine_info: dict) -> None:
    machine_info["govsig_bench"] = {"scale": SCALE, "threads": THREADS}


def pytest_benchmark_compare_machine_info(config, benchmarksession, machine_info: dict,
                                          compared_benchmark: dict) -> None:
    # Bulk benches time a whole corpus per round, so a baseline taken at another scale
    # would "regress" or "improve" by the ratio of corpus sizes; refuse rather than compare.
    saved = compared_benchmark.get("machine_info", {}).get("govsig_bench")
    current = machine_info["govsig_bench"]
    if saved != current:
        raise pytest.UsageError(
            f"the baseline was saved with {saved or 'no recorded bench settings'}, this run uses "
            f"{current}: run with GOVSIG_BENCH_SCALE={saved['scale'] if saved else '<its scale>'} "
            f"or save a new baseline (make bench-save)")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if STRICT and SESSION.misses() and exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def _fail_run() -> None:
    if _SESSION is not None and _SESSION.exitstatus == pytest.ExitCode.OK:
        _SESSION.exitstatus = pytest.ExitCode.TESTS_FAILED


# A wrapper so that the ratios close the output, after pytest-benchmark's tables, and are
# printed even when its --benchmark-compare-fail check raises.
@pytest.hookimpl(wrapper=True)
def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config):
    regressed = False
    try:
        yield
    except PerformanceRegression:
        # pytest-benchmark has already listed what regressed; a traceback adds nothing.
        regressed = True
    tr = terminalreporter
    if SESSION.ratios:
        tr.write_sep("=", "govsig vs peers (medians of this run)")
        if not SESSION.measurements:
            tr.write_line("benchmarks were disabled: run with --benchmark-enable (make bench)")
        for line in SESSION.table():
            tr.write_line(line)
        misses = SESSION.misses()
        if misses and STRICT:
            tr.write_line(f"FAILED: target missed by {', '.join(misses)} (GOVSIG_BENCH_STRICT=1)",
                          red=True, bold=True)
    if regressed:
        tr.write_line("FAILED: a median regressed beyond the --benchmark-compare-fail threshold "
                      "against the baseline (listed above)", red=True, bold=True)
        _fail_run()


# --- fixtures for benches that compute their ratio themselves (dossier, CRL) ---------------

@pytest.fixture(scope="session")
def bench_scale() -> float:
    """GOVSIG_BENCH_SCALE (default 1.0): shrinks every dataset; the issues' sizes are 1.0."""
    return SCALE


@pytest.fixture(scope="session")
def bench_dir(tmp_path_factory: pytest.TempPathFactory):
    """One temp dir per session, under which benches generate their data once."""
    return tmp_path_factory.mktemp("bench-data")


@pytest.fixture(scope="session")
def report_ratio():
    """``report_ratio(name, value, target, higher_is_better=True)``: prints the RATIO line
    now and adds it to the closing table (never asserts: timing is reported, not tested)."""
    from _common import Ratio

    def report(name: str, value: float, target: float, higher_is_better: bool = True) -> bool:
        ok = value >= target if higher_is_better else value <= target
        op = ">=" if higher_is_better else "<="
        print(f"RATIO {name} {value:.2f} (target {op} {target:.2f}) {'PASS' if ok else 'FAIL'}", flush=True)
        if higher_is_better:
            SESSION.add_ratio(Ratio(name, (), lambda _m, v=value: v, target, lambda _m: "measured by the bench itself"))
        return ok

    return report
