"""govsig.dask bench: ``verify_paths`` on a LocalCluster (2 worker processes x 1 thread)
against in-process ``Verifier.verify_files(threads=2)`` over the same files in the same run.

    make dev && python3 -m pytest benches/test_bench_dask.py -s -p no:cacheprovider
    GOVSIG_BENCH_SCALE=0.05 python3 -m pytest benches/test_bench_dask.py -s   # quick

Target (issue 16): 50,000 documents (scale 1.0) at >= 0.8x the throughput of verify_files.

The cluster does more per document than verify_files: each worker reads and hashes (SHA-256)
its files and makes a report line per document (the archive job's), as Arrow rows. Two
figures are reported: the rows reduced on the cluster (counts by code: what a job writing its
report to shared storage ships), and the rows gathered to the client (``.compute()``).
A third figure isolates the engine: the in-process archive job (the same read, hash, verify
and line per document, on 2 threads) against the cluster.
Scheduler overhead per partition is the wall time the workers were not running a task,
divided by the partitions: (wall x workers - time inside tasks) / partitions.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

import govsig
import govsig.dask
import pki
from _common import THREADS, scaled

CONTENT = "Công văn số 16/UBND-VP".encode()
PARTITION = 2000


@pytest.fixture(scope="session")
def dask_archive(bench_dir: Path) -> tuple[list[str], govsig.Policy]:
    """Copies of four signed documents (attached and detached, RSA and P-256), 1,000 a folder."""
    root = bench_dir / "dask-archive"
    rsa_root = pki.make_root("Root CA bench phân tán", "rsa2048", seed="bench-dask-root")
    rsa_int = pki.make_intermediate("CA bench phân tán", rsa_root, "rsa2048", seed="bench-dask-int")
    leaves = [pki.make_leaf("Người ký bench RSA", rsa_int, "rsa2048", seed="bench-dask-rsa"),
              pki.make_leaf("Người ký bench ECC", rsa_root, "p256", seed="bench-dask-p256")]
    kinds = []
    for i, leaf in enumerate(leaves):
        content = CONTENT + b" #%d" % i
        kinds.append((f"att{i}.p7m", pki.sign_cms(content, leaf, detached=False), None))
        kinds.append((f"det{i}.pdf.p7s", pki.sign_cms(content, leaf), content))
    n = scaled(50_000, minimum=2000)
    paths = []
    for i in range(n):
        d = root / f"unit{i // 1000:04d}"
        if i % 1000 == 0:
            d.mkdir(parents=True, exist_ok=True)
        name, sig, content = kinds[i % len(kinds)]
        p = d / f"{i:06d}-{name}"
        p.write_bytes(sig)
        if content is not None:
            (d / p.name[: -len(".p7s")]).write_bytes(content)
        paths.append(str(p))
    policy = govsig.Policy(trust=[rsa_root.cert], intermediates=[rsa_int.cert], revocation="off")
    return paths, policy


def _in_process(paths: list[str], policy: govsig.Policy) -> tuple[float, list[str]]:
    t = time.perf_counter()
    codes = [r.code for r in govsig.Verifier(policy).verify_files(paths, threads=THREADS)]
    return time.perf_counter() - t, codes


def _archive_job(paths: list[str], policy: govsig.Policy) -> float:
    """The same work as a partition (read, hash, verify, a report line each), in process."""
    from govsig.archive.job import ArchiveJob

    root = os.fsencode(os.path.commonpath(paths))
    ctx = govsig.dask._job(policy, None, None, None, False).context
    lines: list[str] = []
    t = time.perf_counter()
    ArchiveJob(govsig.Verifier(policy), [root], context=ctx, workers=THREADS, sink=lines.append).run()
    elapsed = time.perf_counter() - t
    assert len(lines) == len(paths)
    return elapsed


def test_bench_dask_local_cluster_vs_verify_files(dask_archive, report_ratio) -> None:
    from distributed import Client, LocalCluster, get_task_stream

    paths, policy = dask_archive
    n = len(paths)
    _, reference = _in_process(paths, policy)  # warm the page cache
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                      silence_logs=40) as cluster, Client(cluster) as client:
        # Warm the workers: imports, and the Verifier each process keeps.
        govsig.dask.verify_paths(paths[:200], policy, partition_size=50).compute()
        peers, jobs, reduced, gathered, overheads = [], [], [], [], []
        for _ in range(3):  # interleaved, best of three each: the machine's load is not ours
            t, codes = _in_process(paths, policy)
            peers.append(t)
            jobs.append(_archive_job(paths, policy))
            ddf = govsig.dask.verify_paths(paths, policy, partition_size=PARTITION)
            with get_task_stream(client) as ts:
                t0 = time.perf_counter()
                counts = ddf["code"].value_counts().compute()
                wall = time.perf_counter() - t0
            reduced.append(wall)
            inside = sum(stop - start for task in ts.data for ss in task["startstops"]
                         if ss["action"] == "compute" for start, stop in [(ss["start"], ss["stop"])])
            overheads.append((wall * 2 - inside) / ddf.npartitions)
            assert dict(counts) == {c: reference.count(c) for c in set(reference)}
            t0 = time.perf_counter()
            df = ddf.compute()
            gathered.append(time.perf_counter() - t0)
            assert list(df["code"]) == codes == reference
    ratio = min(peers) / min(reduced)
    print(f"\n{n:,} documents, partitions of {PARTITION}: verify_files(threads={THREADS}) "
          f"{n / min(peers):,.0f} docs/s; in-process archive job (same work as the cluster's, threads={THREADS}) "
          f"{n / min(jobs):,.0f} docs/s; LocalCluster 2x1 {n / min(reduced):,.0f} docs/s (counts on the "
          f"cluster), {n / min(gathered):,.0f} docs/s (rows gathered to the client); scheduler overhead "
          f"{1000 * min(overheads):.1f} ms per partition ({1000 * min(overheads) / PARTITION:.3f} ms per document)")
    report_ratio("dask_local_cluster_vs_verify_files", ratio, 0.8)
    report_ratio("dask_gathered_rows_vs_verify_files", min(peers) / min(gathered), 0.0)
    # The engine's own cost: the cluster against the same work done in one process.
    report_ratio("dask_local_cluster_vs_in_process_archive_job", min(jobs) / min(reduced), 0.0)
