#!/usr/bin/env python3
"""Run one libFuzzer target until it has used a budget of CPU time, not wall time.

libFuzzer's ``-max_total_time`` counts wall-clock seconds; on a shared machine (where other
builds take the cores) an hour of wall time can be ten minutes of fuzzing. This runner starts
the target niced, reads its CPU time from /proc every few seconds, and stops it with SIGINT
(libFuzzer then prints its final stats) once the budget is spent. A crash, leak or timeout the
target finds ends the run early with the target's own exit status, and the input is kept in
fuzz/artifacts/<target>/.

Usage: fuzz/cpu_budget.py TARGET [CPU_SECONDS] (default 3600), from the repository root, after
the targets are built (``make fuzz-smoke`` builds them). The summary line goes to stdout and
the libFuzzer log to fuzz/artifacts/<target>.log.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path


def cpu_seconds(pid: int) -> float:
    """User plus system CPU seconds of a live process, from /proc/<pid>/stat."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def host_triple() -> str:
    out = subprocess.run(["rustc", "-vV"], capture_output=True, text=True, check=True).stdout
    return next(line.split(": ", 1)[1] for line in out.splitlines() if line.startswith("host: "))


def main() -> int:
    if len(sys.argv) not in (2, 3):
        print(__doc__.strip().splitlines()[-4], file=sys.stderr)
        return 2
    target = sys.argv[1]
    budget = float(sys.argv[2]) if len(sys.argv) == 3 else 3600.0
    binary = Path("fuzz/target") / host_triple() / "release" / target
    if not binary.is_file():
        print(f"cpu_budget: no built target {binary} (run make fuzz-smoke first)", file=sys.stderr)
        return 2
    corpus = Path("fuzz/corpus") / target
    artifacts = Path("fuzz/artifacts") / target
    corpus.mkdir(parents=True, exist_ok=True)
    artifacts.mkdir(parents=True, exist_ok=True)
    log = Path("fuzz/artifacts") / f"{target}.log"
    started = time.monotonic()
    with log.open("wb") as out:
        proc = subprocess.Popen(
            ["nice", "-n", "19", str(binary), str(corpus), "-timeout=30",
             f"-artifact_prefix={artifacts}/", "-print_final_stats=1"],
            stdout=out, stderr=subprocess.STDOUT,
        )
        used = 0.0
        while proc.poll() is None:
            try:
                used = cpu_seconds(proc.pid)
            except (FileNotFoundError, ProcessLookupError):
                break
            if used >= budget:
                proc.send_signal(signal.SIGINT)
                try:
                    proc.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    proc.kill()
                break
            time.sleep(5)
        rc = proc.wait()
    wall = time.monotonic() - started
    stats = {}
    for line in log.read_text(errors="replace").splitlines():
        if line.startswith("stat::"):
            key, _, value = line[len("stat::") :].partition(":")
            stats[key.strip()] = value.strip()
    finding = rc not in (0, -signal.SIGINT, 130, 72) or any(artifacts.iterdir())
    print(
        f"{target}: cpu {used:.0f} s of {budget:.0f} s, wall {wall:.0f} s, "
        f"execs {stats.get('number_of_executed_units', '?')}, "
        f"exec/s {stats.get('average_exec_per_sec', '?')}, "
        f"corpus {sum(1 for _ in corpus.iterdir())} inputs, exit {rc}"
        + (f", FINDING in {artifacts}/" if finding else "")
    )
    return 1 if finding else 0


if __name__ == "__main__":
    sys.exit(main())
