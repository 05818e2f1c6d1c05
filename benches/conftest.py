"""Bench session hooks: refuse a debug build, print the table of ratios at the end, and fail
the run on a missed target only under GOVSIG_BENCH_STRICT=1. Shared code is in _common.py."""

from __future__ import annotations

import pytest

from _common import SESSION, STRICT, load_average


def pytest_sessionstart(session: pytest.Session) -> None:
    SESSION.load_at_start = load_average()


@pytest.fixture(scope="session", autouse=True)
def _release_build() -> None:
    import govsig

    # A debug build is 10-50x slower in the crypto: its numbers would mislead anyone.
    if govsig.BUILD_PROFILE != "release":
        pytest.fail(f"govsig extension is a {govsig.BUILD_PROFILE!r} build; benches measure "
                    f"release builds only (run `make dev`)", pytrace=False)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if STRICT and SESSION.misses() and exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


# trylast: after pytest-benchmark's own tables, so the ratios close the output.
@pytest.hookimpl(trylast=True)
def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    if not SESSION.ratios:
        return
    tr = terminalreporter
    tr.write_sep("=", "govsig vs peers (medians of this run)")
    if not SESSION.measurements:
        tr.write_line("benchmarks were disabled: run with --benchmark-enable (make bench)")
    for line in SESSION.table():
        tr.write_line(line)
    misses = SESSION.misses()
    if misses and STRICT:
        tr.write_line(f"FAILED: target missed by {', '.join(misses)} (GOVSIG_BENCH_STRICT=1)",
                      red=True, bold=True)
