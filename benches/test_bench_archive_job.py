"""Archive job bench: ``govsig verify-archive`` with its journal against ``verify_files``
without one, over the same folder in the same run, plus the job's peak RSS growth and what a
resume over a finished journal costs.

    make dev && python3 -m pytest benches/test_bench_archive_job.py -s -p no:cacheprovider
    GOVSIG_BENCH_SCALE=0.05 python3 -m pytest benches/test_bench_archive_job.py -s   # quick

Targets (issue 15): 200,000 small signed documents (scale 1.0) at >= 0.85x the throughput of
``Verifier.verify_files`` with the journal on, and peak RSS growth < 100 MiB.

The job does more per document than verify_files: it hashes each file (SHA-256), makes and
writes one JSON report line, and commits each chunk to SQLite (fsync). Its three stages run on
three threads (walk+read, verify with the GIL released, lines+journal).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import govsig
import pki
from _common import THREADS, scaled

CONTENT = "Công văn số 15/UBND-VP".encode()


@pytest.fixture(scope="session")
def job_archive(bench_dir: Path) -> Path:
    """Copies of a few signed documents (attached and detached, RSA and P-256), 1,000 a folder."""
    root = bench_dir / "archive-job"
    if root.exists():
        return root
    rsa_root = pki.make_root("Root CA bench lưu trữ", "rsa2048", seed="bench-archive-root")
    rsa_int = pki.make_intermediate("CA bench lưu trữ", rsa_root, "rsa2048", seed="bench-archive-int")
    leaves = [pki.make_leaf("Người ký bench RSA", rsa_int, "rsa2048", seed="bench-archive-rsa"),
              pki.make_leaf("Người ký bench ECC", rsa_root, "p256", seed="bench-archive-p256")]
    kinds = []
    for i, leaf in enumerate(leaves):
        content = CONTENT + b" #%d" % i
        kinds.append((f"att{i}.p7m", pki.sign_cms(content, leaf, detached=False), None))
        kinds.append((f"det{i}.xml.p7s", pki.sign_cms(content, leaf), content))
    n = scaled(200_000, minimum=2000)
    for i in range(n):
        d = root / f"unit{i // 1000:04d}"
        if i % 1000 == 0:
            d.mkdir(parents=True)
        name, sig, content = kinds[i % len(kinds)]
        (d / f"{i:06d}-{name}").write_bytes(sig)
        if content is not None:
            (d / f"{i:06d}-{name}"[: -len(".p7s")]).write_bytes(content)
    (bench_dir / "archive-job-roots.pem").write_bytes(rsa_root.pem)
    return root


def _policy(bench_dir: Path) -> govsig.Policy:
    return govsig.Policy(trust=govsig.TrustStore.from_files([bench_dir / "archive-job-roots.pem"]))


def _job(root: Path, policy: govsig.Policy, journal_path: Path, resume: bool = False) -> tuple[float, int]:
    from govsig.archive import ArchiveJob, Journal

    if not resume:
        for p in journal_path.parent.glob(journal_path.name + "*"):
            p.unlink()
    journal = Journal(str(journal_path), resume=resume, job={"bench": True})
    ctx = {"validated_at": "2026-01-01T00:00:00Z", "policy": {}, "govsig_version": govsig.__version__}
    t = time.perf_counter()
    s = ArchiveJob(govsig.Verifier(policy), [os.fsencode(root)], context=ctx, journal=journal, workers=THREADS).run()
    elapsed = time.perf_counter() - t
    journal.close()
    return elapsed, s.total


def _verify_files(root: Path, policy: govsig.Policy) -> tuple[float, int]:
    from govsig._files import walk_signature_files

    t = time.perf_counter()
    b = govsig.Verifier(policy).verify_files(walk_signature_files(root), threads=THREADS)
    return time.perf_counter() - t, len(b)


def test_bench_archive_job_vs_verify_files(job_archive, bench_dir, report_ratio):
    policy = _policy(bench_dir)
    journal = bench_dir / "bench-job.sqlite"
    _verify_files(job_archive, policy)  # warm the page cache
    jobs, peers = [], []
    for _ in range(3):  # interleaved, best of three each: the machine's load is not ours
        t, n = _verify_files(job_archive, policy)
        peers.append(t)
        tj, nj = _job(job_archive, policy, journal)
        jobs.append(tj)
        assert nj == n
    ratio = min(peers) / min(jobs)
    print(f"\njob with journal {n / min(jobs):,.0f} docs/s, verify_files {n / min(peers):,.0f} docs/s over {n} documents")
    report_ratio("archive_job_journal_vs_verify_files", ratio, 0.85)
    # Resume over a finished journal: walk and skip, nothing verified again.
    tr, _ = _job(job_archive, policy, journal, resume=True)
    print(f"resume of a finished job: {tr:.2f} s ({100 * tr / min(jobs):.0f}% of a full run)")


_RSS_PROBE = """
import json, os, sys
import govsig
from govsig.archive import ArchiveJob, Journal

def status(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])  # kB
    raise SystemExit(field + " not in /proc/self/status")

root, roots_pem, journal = sys.argv[1], sys.argv[2], sys.argv[3]
policy = govsig.Policy(trust=govsig.TrustStore.from_files([roots_pem]))
ctx = {"validated_at": "2026-01-01T00:00:00Z", "policy": {}, "govsig_version": govsig.__version__}
# Load everything and run the pipeline once on one folder.
warm = Journal(journal + ".warm", resume=False, job={})
ArchiveJob(govsig.Verifier(policy), [os.fsencode(root + "/unit0000")], context=ctx, journal=warm, workers=2).run()
warm.close()
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")
before = status("VmRSS")
j = Journal(journal, resume=False, job={})
s = ArchiveJob(govsig.Verifier(policy), [os.fsencode(root)], context=ctx, journal=j, workers=2).run()
print(json.dumps({"before_kib": before, "peak_kib": status("VmHWM"), "documents": s.total}))
"""


def test_bench_archive_job_peak_rss(job_archive, bench_dir, report_ratio):
    package_parent = Path(govsig.__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(package_parent), os.environ.get("PYTHONPATH", "")])}
    journal = bench_dir / "rss-job.sqlite"
    for p in bench_dir.glob("rss-job.sqlite*"):
        p.unlink()
    out = subprocess.run([sys.executable, "-c", _RSS_PROBE, str(job_archive), str(bench_dir / "archive-job-roots.pem"),
                          str(journal)], env=env, capture_output=True, text=True, check=True)
    probe = json.loads(out.stdout)
    growth = (probe["peak_kib"] - probe["before_kib"]) / 1024
    print(f"\nRSS {probe['before_kib'] / 1024:.1f} MiB before, peak {probe['peak_kib'] / 1024:.1f} MiB "
          f"over {probe['documents']} documents")
    report_ratio("archive_job_rss_growth_mib", growth, 100.0, higher_is_better=False)
