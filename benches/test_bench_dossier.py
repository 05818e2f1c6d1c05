"""Dossier hashing benches: govsig against the SHA-256 ceiling and against hashlib, side by
side in one run (warm page cache), printing RATIO lines.

    make dev && python3 -m pytest benches/test_bench_dossier.py --benchmark-enable -s -p no:cacheprovider
    GOVSIG_BENCH_SCALE=0.05 python3 -m pytest benches/test_bench_dossier.py -s   # quick

Targets (issue 5): 2,000 files / 1 GiB at >= 90% of (per-core SHA-256 bytes/s x cores) and
>= 1.0x hashlib with a 2-thread pool; 100,000 files of 4 KiB (walk included) >= 3x the faster
of a plain hashlib loop and a 2-thread hashlib pool; peak RSS growth < 64 MiB on the 1 GiB
dossier.

Where the time goes (perf, 2 cores, warm cache): on the
1 GiB dossier SHA-256 runs at the ceiling rate and the gap to it is read(2) copying page-cache
pages into the read buffer (~6% of CPU; mapping the files instead would turn a file truncated
mid-hash into SIGBUS). On 100,000 small files the kernel's five calls per file (openat, fstat,
read, fstat, close: the two fstats are the changed-while-hashed check the Python references do
not make) plus SHA-256 of 4 KiB are ~90% of govsig's CPU.
"""
from __future__ import annotations

import hashlib
import json
import os
import random
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

import govsig
from govsig import Dossier, _govsig

GIB = 1 << 30
CHUNK = 1 << 20


def cores() -> int:
    return len(os.sched_getaffinity(0))


def write_files(root: Path, sizes: list[int], per_dir: int, seed: int) -> None:
    """Files of the given sizes with pseudo-random content (slices of one random block)."""
    rnd = random.Random(seed)
    block = rnd.randbytes(64 << 20)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
    for i, size in enumerate(sizes):
        d = root / f"dir{i // per_dir:04d}"
        if i % per_dir == 0:
            d.mkdir(parents=True)
        fd = os.open(d / f"doc{i:06d}.bin", flags, 0o644)
        try:
            left, off = size, rnd.randrange(len(block))
            while left:
                n = min(left, len(block) - off, 8 << 20)
                os.write(fd, block[off : off + n])
                left -= n
                off = (off + n) % len(block)
        finally:
            os.close(fd)


@pytest.fixture(scope="session")
def big_dossier(bench_dir: Path, bench_scale: float) -> Path:
    """2,000 files totalling 1 GiB (scaled), sizes skewed like real dossiers: many small
    forms, a few large scans."""
    root = bench_dir / "dossier-1gib"
    n = max(2, round(2000 * bench_scale))
    total = max(n, round(GIB * bench_scale))
    rnd = random.Random(5)
    weights = [rnd.paretovariate(1.2) for _ in range(n)]
    scale = total / sum(weights)
    sizes = [int(w * scale) for w in weights]
    sizes[0] += total - sum(sizes)
    write_files(root, sizes, per_dir=100, seed=1)
    return root


@pytest.fixture(scope="session")
def small_files_dossier(bench_dir: Path, bench_scale: float) -> Path:
    """100,000 files of 4 KiB (scaled), 1,000 per directory."""
    root = bench_dir / "dossier-100k"
    n = max(10, round(100_000 * bench_scale))
    write_files(root, [4096] * n, per_dir=1000, seed=2)
    return root


# --- the Python references ------------------------------------------------------------------


def py_walk(root: Path) -> list[str]:
    return [os.path.join(dp, f) for dp, _, files in os.walk(root) for f in files]


_BUFFERS = threading.local()


def py_hash_file(path: str) -> bytes:
    """Streams the file through one reusable 1 MiB buffer per thread. (Reading with
    f.read(CHUNK) would allocate a fresh 1 MiB bytes per file, whose cost depends on what the
    process allocated before: glibc serves it by mmap or from the heap depending on earlier
    frees, which moved this reference by 2.5x between processes.)"""
    buf = getattr(_BUFFERS, "buf", None)
    if buf is None:
        buf = _BUFFERS.buf = bytearray(CHUNK)
    view = memoryview(buf)
    with open(path, "rb", buffering=0) as f:
        n = f.readinto(buf)
        h = hashlib.sha256(view[:n])
        if n == CHUNK:  # a short first read is the whole file; else stream the rest
            while n := f.readinto(buf):
                h.update(view[:n])
    return h.digest()


def py_loop(root: Path) -> dict[str, bytes]:
    return {p: py_hash_file(p) for p in py_walk(root)}


def py_pool(root: Path) -> dict[str, bytes]:
    paths = py_walk(root)
    with ThreadPoolExecutor(2) as pool:
        return dict(zip(paths, pool.map(py_hash_file, paths)))


_CEILING_BLOCK = os.urandom(CHUNK)


def sha256_per_core_ceiling(total: int = 256 << 20) -> float:
    """Bytes/s of SHA-256 on one core over data already in cache: the faster of hashlib
    (OpenSSL) and govsig's own aws-lc, so the ceiling is the machine's, not one library's."""
    count = total // CHUNK
    t = time.perf_counter()
    h = hashlib.sha256()
    for _ in range(count):
        h.update(_CEILING_BLOCK)
    hashlib_rate = count * CHUNK / (time.perf_counter() - t)
    t = time.perf_counter()
    for _ in range(count):
        _govsig.dossier_hash_bytes(_CEILING_BLOCK, "sha256")
    awslc_rate = count * CHUNK / (time.perf_counter() - t)
    return max(hashlib_rate, awslc_rate)


def best_times(runs: dict[str, Callable[[], Any]], rounds: int) -> tuple[dict[str, float], dict[str, Any]]:
    """Interleaved rounds (A B C A B C ...) so load from other processes hits all alike; the
    best time of each is kept."""
    best = {name: float("inf") for name in runs}
    last: dict[str, Any] = {}
    for _ in range(rounds):
        for name, fn in runs.items():
            t = time.perf_counter()
            last[name] = fn()
            best[name] = min(best[name], time.perf_counter() - t)
    return best, last


def warm(root: Path) -> None:
    """Read everything once so the page cache is warm for every contender."""
    Dossier.hash(root)


# --- benches --------------------------------------------------------------------------------


def test_bench_dossier_1gib(benchmark, big_dossier, report_ratio, bench_scale):
    warm(big_dossier)
    total = Dossier.hash(big_dossier).total_bytes
    ceilings: list[float] = []
    times, last = best_times(
        {
            "ceiling": lambda: ceilings.append(sha256_per_core_ceiling()),
            "govsig": lambda: Dossier.hash(big_dossier),
            "hashlib_pool2": lambda: py_pool(big_dossier),
        },
        rounds=3,
    )
    d: Dossier = last["govsig"]
    pool: dict[str, bytes] = last["hashlib_pool2"]
    # Same answers before comparing speed.
    by_rel = {os.path.relpath(p, big_dossier): dig for p, dig in pool.items()}
    assert {p: bytes(r) for p, r in zip(d.paths, d.digests)} == by_rel
    per_core = max(ceilings)
    govsig_rate = total / times["govsig"]
    print(
        f"\n1 GiB dossier x{bench_scale}: {len(d)} files, {total} bytes, {cores()} cores; "
        f"SHA-256 per core {per_core / 1e9:.2f} GB/s; govsig {govsig_rate / 1e9:.2f} GB/s "
        f"({times['govsig']:.3f} s); hashlib 2-thread pool {times['hashlib_pool2']:.3f} s"
    )
    report_ratio("dossier_1gib_vs_ceiling", govsig_rate / (per_core * cores()), 0.90)
    report_ratio("dossier_1gib_vs_hashlib_pool2", times["hashlib_pool2"] / times["govsig"], 1.0)
    benchmark.extra_info.update(bytes=total, files=len(d))
    benchmark.pedantic(Dossier.hash, args=(big_dossier,), rounds=1, iterations=1)


def test_bench_dossier_100k_small_files(benchmark, small_files_dossier, report_ratio, bench_scale):
    warm(small_files_dossier)
    times, last = best_times(
        {
            "govsig": lambda: Dossier.hash(small_files_dossier),
            "hashlib_loop": lambda: py_loop(small_files_dossier),
            "hashlib_pool2": lambda: py_pool(small_files_dossier),
        },
        rounds=3,
    )
    d: Dossier = last["govsig"]
    assert len(d) == len(last["hashlib_loop"]) and d.ok
    assert bytes(d.digests[0]) == last["hashlib_loop"][str(small_files_dossier / d.paths[0])]
    faster_py = min(times["hashlib_loop"], times["hashlib_pool2"])
    print(
        f"\n{len(d)} files of 4 KiB x{bench_scale} (walk included): govsig {times['govsig']:.3f} s, "
        f"hashlib loop {times['hashlib_loop']:.3f} s, hashlib 2-thread pool {times['hashlib_pool2']:.3f} s"
    )
    report_ratio("dossier_100k_vs_best_python", faster_py / times["govsig"], 3.0)
    benchmark.extra_info.update(files=len(d))
    benchmark.pedantic(Dossier.hash, args=(small_files_dossier,), rounds=1, iterations=1)


_RSS_PROBE = """
import json, sys
import govsig

def status(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])  # kB
    raise SystemExit(field + " not in /proc/self/status")

root = sys.argv[1]
govsig.Dossier.hash(root + "/dir0000")  # load everything and run the workers once
# ru_maxrss would keep the forking parent's peak across exec; VmHWM is this process's own,
# and writing 5 to clear_refs resets it to the current RSS (Linux >= 4.0).
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")
before = status("VmRSS")
d = govsig.Dossier.hash(root)
peak = status("VmHWM")
print(json.dumps({"before_kib": before, "peak_kib": peak, "files": len(d), "bytes": d.total_bytes}))
"""


def test_bench_dossier_1gib_peak_rss(big_dossier, report_ratio):
    """Peak RSS growth while hashing, in a fresh process (Linux /proc accounting)."""
    warm(big_dossier)
    package_parent = Path(govsig.__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(package_parent), os.environ.get("PYTHONPATH", "")])}
    out = subprocess.run(
        [sys.executable, "-c", _RSS_PROBE, str(big_dossier)], env=env, capture_output=True, text=True, check=True
    )
    probe = json.loads(out.stdout)
    growth_mib = (probe["peak_kib"] - probe["before_kib"]) / 1024
    print(f"\nRSS {probe['before_kib'] / 1024:.1f} MiB before, peak {probe['peak_kib'] / 1024:.1f} MiB while hashing {probe['bytes']} bytes")
    assert probe["files"] > 0
    report_ratio("dossier_1gib_rss_growth_mib", growth_mib, 64.0, higher_is_better=False)
