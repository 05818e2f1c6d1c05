"""govsig.dask bench: ``verify_paths`` on a LocalCluster (2 worker processes x 1 thread)
against in-process ``Verifier.verify_files(threads=2)`` over the same files in the same run.

    make dev && python3 -m pytest benches/test_bench_dask.py -s -p no:cacheprovider
    GOVSIG_BENCH_SCALE=0.05 python3 -m pytest benches/test_bench_dask.py -s   # quick

Target (issue 16): 50,000 documents (scale 1.0) at >= 0.8x the throughput of verify_files.

Two cluster figures: the verdicts (the columns verify_files gives: code, ok, revocation
status; Dask pushes the selection down, so no report line is parsed), counted on the cluster;
and the whole report (every column: hashes, signers, chains) written as Parquet by the
workers, which verify_files does not make. A third isolates the engine: the in-process archive
job (the same read, hash, verify and line per document, on 2 threads) against the cluster.
A second bench measures what handing the policy to each worker once saves over carrying it
in every task, with a policy holding a large CRL.
Scheduler overhead per partition is the wall time the workers were not running a task,
divided by the partitions: (wall x workers - time inside tasks) / partitions.
"""
from __future__ import annotations

import os
import pickle
import time
from pathlib import Path

import pytest

import govsig
import govsig.dask
import pki
from _common import THREADS, scaled

CONTENT = "Công văn số 16/UBND-VP".encode()
# 25 tasks per worker: with fewer, the last round leaves a worker idle for a good part of
# a partition (a tail that a 50,000-document run feels and a 100-million one does not).
PARTITION = 1000


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


def _overhead(ts: list[dict], wall: float, workers: int, npartitions: int) -> float:
    """(wall x workers - time inside tasks) / partitions, in seconds."""
    inside = sum(ss["stop"] - ss["start"] for task in ts for ss in task["startstops"] if ss["action"] == "compute")
    return (wall * workers - inside) / npartitions


def test_bench_dask_local_cluster_vs_verify_files(dask_archive, report_ratio, tmp_path) -> None:
    from distributed import Client, LocalCluster, get_task_stream

    paths, policy = dask_archive
    n = len(paths)
    _, reference = _in_process(paths, policy)  # warm the page cache
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                      silence_logs=40) as cluster, Client(cluster) as client:
        # Warm the workers: imports, and the Verifier each process keeps.
        govsig.dask.verify_paths(paths[:200], policy, partition_size=50).compute()
        peers, jobs, verdicts, reports, overheads = [], [], [], [], []
        for r in range(3):  # interleaved, best of three each: the machine's load is not ours
            t, codes = _in_process(paths, policy)
            peers.append(t)
            jobs.append(_archive_job(paths, policy))
            ddf = govsig.dask.verify_paths(paths, policy, partition_size=PARTITION)
            # The verdicts (what verify_files gives): counts by code, reduced on the cluster.
            with get_task_stream(client) as ts:
                t0 = time.perf_counter()
                # split_out=1: a tree reduction (the default shuffles a handful of codes).
                counts = ddf[["code", "ok", "revocation_status"]]["code"].value_counts(split_out=1).compute()
                wall = time.perf_counter() - t0
            verdicts.append(wall)
            overheads.append(_overhead(ts.data, wall, 2, ddf.npartitions))
            assert dict(counts) == {c: reference.count(c) for c in set(reference)}
            # The whole report (every column, every row) written as Parquet by the workers.
            t0 = time.perf_counter()
            ddf.to_parquet(str(tmp_path / f"report{r}"), write_index=False)
            reports.append(time.perf_counter() - t0)
        df = ddf[["path", "code"]].compute()
        assert list(df["code"]) == codes == reference and list(df["path"]) == paths
    ratio = min(peers) / min(verdicts)
    print(f"\n{n:,} documents, partitions of {PARTITION}: verify_files(threads={THREADS}) "
          f"{n / min(peers):,.0f} docs/s; in-process archive job (read, hash, verify, a report line, "
          f"threads={THREADS}) {n / min(jobs):,.0f} docs/s; LocalCluster 2x1: verdicts {n / min(verdicts):,.0f} "
          f"docs/s, whole report to Parquet {n / min(reports):,.0f} docs/s; scheduler overhead "
          f"{1000 * min(overheads):.1f} ms per partition ({1000 * min(overheads) / PARTITION:.3f} ms per document)")
    report_ratio("dask_local_cluster_verdicts_vs_verify_files", ratio, 0.8)
    report_ratio("dask_local_cluster_parquet_report_vs_verify_files", min(peers) / min(reports), 0.0)
    # The engine's own cost: the whole report on the cluster against the same work in one process.
    report_ratio("dask_local_cluster_parquet_report_vs_in_process_archive_job", min(jobs) / min(reports), 0.0)


def test_bench_dask_policy_travels_once_per_worker(dask_archive, report_ratio, bench_dir: Path) -> None:
    """A policy carrying a large CRL (what a bulk job with revocation evidence given up front
    sends): tasks carrying the job's key (the job handed once to each worker by a plugin)
    against tasks carrying the job's pickle, over the same partitions."""
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.serialization import Encoding
    from distributed import Client, LocalCluster

    paths, policy = dask_archive
    paths = paths[: max(len(paths) // 5, 2000)]
    issuer = pki.make_root("Root CA bench CRL lớn", "p256", seed="bench-dask-crl-root")
    now = dt.datetime.now(dt.timezone.utc)
    b = (x509.CertificateRevocationListBuilder().issuer_name(issuer.cert.subject)
         .last_update(now - dt.timedelta(hours=1)).next_update(now + dt.timedelta(days=7)))
    when = now - dt.timedelta(days=2)
    for serial in range(1, scaled(60_000, minimum=5000)):
        b = b.add_revoked_certificate(x509.RevokedCertificateBuilder().serial_number(serial + 10**12)
                                      .revocation_date(when).build())
    crl = b.sign(issuer.key, hashes.SHA256()).public_bytes(Encoding.DER)
    big = policy.replace(crls=[crl], at=now)
    job = govsig.dask._job(big, None, None, None, False)
    parts = govsig.dask._partitions([govsig.dask.Entry(os.fsencode(p)) for p in paths], 200)
    carried = len(pickle.dumps(govsig.dask._JobRef(job.key, job.blob)))
    keyed = len(pickle.dumps(govsig.dask._JobRef(job.key, None)))
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                      silence_logs=40) as cluster, Client(cluster) as client:
        govsig.dask.verify_paths(paths[:20], policy).compute()
        by_key, in_task = [], []
        for _ in range(3):
            # A fresh key each round (a new validation time), so no worker has decoded it yet.
            job = govsig.dask._job(big.replace(at=now + dt.timedelta(seconds=len(by_key) + 1)), None, None, None,
                                   False)
            t0 = time.perf_counter()
            govsig.dask._frame(parts, job, client)[["code"]].compute()
            by_key.append(time.perf_counter() - t0)
            job = govsig.dask._job(big.replace(at=now - dt.timedelta(seconds=len(in_task) + 1)), None, None, None,
                                   False)
            ref = govsig.dask._JobRef(job.key, job.blob)
            t0 = time.perf_counter()
            govsig.dask._frame(parts, job, client, ref)[["code"]].compute()
            in_task.append(time.perf_counter() - t0)
        decoded = sum(s["jobs_decoded"] for s in client.run(govsig.dask.worker_state).values())
    print(f"\npolicy with a {len(crl) / 1e6:.1f} MB CRL, {len(paths):,} documents in {len(parts)} tasks: job in every "
          f"task ({carried / 1e6:.2f} MB a task) {min(in_task):.2f} s; job once per worker, tasks carry its key "
          f"({keyed} bytes) {min(by_key):.2f} s; jobs decoded by the 2 workers over the 6 runs: {decoded}")
    report_ratio("dask_job_by_key_vs_job_in_every_task", min(in_task) / min(by_key), 0.0)
