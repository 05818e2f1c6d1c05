"""govsig.dask on a real distributed.LocalCluster (issue 16): worker processes, not threads,
so everything that travels is pickled and every worker builds its own Verifier."""
from __future__ import annotations

import datetime as dt
import os
import pickle
import re
import signal
import time
from pathlib import Path
from typing import Any

import cloudpickle
import pyarrow.parquet as pq
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding
from distributed import Client, LocalCluster

import govsig
import govsig.dask
import pdfsign
import pki as P
from archive_util import CONTENT
from govsig.archive.walk import Entry
from http_servers import LoopbackServer, Reply

# The size: 5,000 documents over 2 worker processes of 1 thread each (a few seconds
# of verification on 2 cores; most of the test's time is making the cluster and the files).
N = 5000
NOW = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


def _crl(issuer: P.Issued, revoked: tuple[int, ...] = (), number: int = 7) -> bytes:
    b = (x509.CertificateRevocationListBuilder().issuer_name(issuer.cert.subject)
         .last_update(NOW - dt.timedelta(hours=1)).next_update(NOW + dt.timedelta(days=7))
         .add_extension(x509.CRLNumber(number), critical=False))
    for serial in revoked:
        b = b.add_revoked_certificate(x509.RevokedCertificateBuilder().serial_number(serial)
                                      .revocation_date(NOW - dt.timedelta(days=1)).build())
    return b.sign(issuer.key, hashes.SHA256()).public_bytes(Encoding.DER)


def _cdp(url: str) -> tuple[x509.ExtensionType, bool]:
    return x509.CRLDistributionPoints(
        [x509.DistributionPoint([x509.UniformResourceIdentifier(url)], None, None, None)]), False


@pytest.fixture(scope="module")
def archive(pki, tmp_path_factory) -> tuple[Path, list[str], govsig.Policy, dict[str, str]]:
    """N documents, 100 to a folder, in turn: detached, attached, tampered (detached content
    changed), expired signer, revoked signer (by a CRL in the policy), signed PDF. Returns the
    root, the paths in walk order, the policy and the verdict each kind must get."""
    revoked = P.make_leaf("Người ký đã bị thu hồi", pki.p256_root, "p256", seed="dask-revoked")
    crl = _crl(pki.p256_root, (revoked.cert.serial_number,))
    pdf = pdfsign.sign(pdfsign.base_pdf("Quyết định lưu trữ phân tán"), pki.p256_leaf)
    kinds: list[tuple[str, bytes, bytes | None]] = [
        ("det.txt.p7s", P.sign_cms(CONTENT, pki.p256_leaf), CONTENT),
        ("att.p7m", P.sign_cms(CONTENT, pki.rsa_leaf, detached=False), None),
        ("tam.txt.p7s", P.sign_cms(CONTENT, pki.p256_leaf), CONTENT + " (sửa)".encode()),
        ("exp.p7m", P.sign_cms(CONTENT, pki.expired_leaf, detached=False), None),
        ("rev.p7m", P.sign_cms(CONTENT, revoked, detached=False), None),
        ("doc.pdf", pdf, None),
    ]
    root = tmp_path_factory.mktemp("dask-archive")
    paths = []
    for i in range(N):
        d = root / f"unit{i // 100:03d}"
        d.mkdir(exist_ok=True)
        name, sig, content = kinds[i % len(kinds)]
        p = d / f"{i:05d}-{name}"
        p.write_bytes(sig)
        if content is not None:
            (d / p.name[: -len(".p7s")]).write_bytes(content)
        paths.append(str(p))
    policy = govsig.Policy(trust=[r.cert for r in pki.roots], intermediates=[pki.rsa_intermediate.cert],
                           crls=[crl], at=NOW)
    expected = {"det": "ok", "att": "ok", "tam": "digest_mismatch", "exp": "cert_expired", "rev": "cert_revoked",
                "doc": "ok"}
    return root, sorted(paths), policy, expected


@pytest.fixture(scope="module")
def client():
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                      silence_logs=40) as cluster, Client(cluster) as c:
        yield c


def _codes_in_process(paths: list[str], policy: govsig.Policy) -> list[str]:
    return [r.code for r in govsig.Verifier(policy).verify_files(paths, threads=2)]


@pytest.mark.slow
def test_same_verdicts_as_in_process_verify_files(client, archive) -> None:
    root, paths, policy, expected = archive
    ddf = govsig.dask.verify_paths(paths, policy, client=client, partition_size=400)
    assert ddf.npartitions == (N + 399) // 400
    assert list(ddf.columns) == list(govsig.dask.report_meta().columns)
    df = ddf.compute()
    assert len(df) == N
    assert list(df["path"]) == paths
    reference = _codes_in_process(paths, policy)
    assert list(df["code"]) == reference
    assert list(df["ok"]) == [c == "ok" for c in reference]
    # And the verdicts are the ones each kind of document deserves (not merely equal).
    for p, code in zip(paths, df["code"]):
        assert code == expected[Path(p).name.split("-")[1].split(".")[0]], p
    rev = df[df["code"] == "cert_revoked"]
    assert set(rev["revocation_status"]) == {"proven"}
    # Both workers verified, each with one Verifier built once for the whole job.
    states = client.run(govsig.dask.worker_state)
    assert len(states) == 2 and all(s["partitions"] > 0 for s in states.values())
    assert all(s["verifiers_built"] == 1 for s in states.values()), states
    # The policy reached each worker once (a plugin), not inside each of the 13 tasks.
    assert all(s["jobs_decoded"] == 1 for s in states.values()), states
    # A selection of columns is computed on the workers from the same verdicts.
    sel = ddf[["path", "code", "revocation_status"]].compute()
    assert list(sel.columns) == ["path", "code", "revocation_status"]
    assert list(sel["path"]) == paths and list(sel["code"]) == reference
    assert list(sel["revocation_status"]) == list(df["revocation_status"])
    counts = ddf["code"].value_counts().compute()
    assert dict(counts) == {c: reference.count(c) for c in set(reference)}


@pytest.mark.slow
def test_verify_archive_writes_the_parquet_report_and_counts(client, archive, tmp_path) -> None:
    root, paths, policy, expected = archive
    out = tmp_path / "out.parquet"
    summary = govsig.dask.verify_archive(root, policy, client=client, report=out, partition_size=1000)
    table = pq.read_table(out)
    assert table.num_rows == N
    assert table.schema.equals(govsig.archive.report.arrow_schema(), check_metadata=False)
    # Walk order is the report's order; every line carries the job's context.
    assert table.column("path").to_pylist() == paths
    assert set(table.column("validated_at").to_pylist()) == {NOW.strftime("%Y-%m-%dT%H:%M:%SZ")}
    assert summary.total == N
    per_kind = N // 6
    assert summary.counts["cert_revoked"] in (per_kind, per_kind + 1)
    assert summary.counts["ok"] == sum(1 for p in paths if expected[Path(p).name.split("-")[1].split(".")[0]] == "ok")
    assert sum(summary.revocation.values()) == N
    # The same lines as the archive job itself writes for this folder (its Parquet columns).
    from govsig.archive import ArchiveJob
    from govsig.archive.report import LineMaker  # noqa: F401  (the line maker both use)

    lines: list[str] = []
    job = govsig.dask._job(policy, None, None, None, False)
    ArchiveJob(govsig.Verifier(policy), [os.fsencode(root)], context=job.context, workers=2,
               sink=lines.append).run()
    import json

    local = [json.loads(t) for t in lines]
    assert [(r["path"], r["code"], r["revocation_status"]) for r in local] == list(
        zip(paths, table.column("code").to_pylist(), table.column("revocation_status").to_pylist()))
    assert [r["signers"][0]["cert_sha256"] if r["signers"] else None for r in local] == [
        s[0]["cert_sha256"] if s else None for s in table.column("signers").to_pylist()]


@pytest.mark.slow
def test_verify_archive_walks_the_folders_on_the_workers(client, archive, tmp_path) -> None:
    root, paths, policy, _expected = archive
    # The client lists the root only: one task per top-level folder, no document path in the graph.
    parts = govsig.dask._walk_parts([os.fsencode(root)], False, 2000, 1)
    assert [os.path.basename(p.path) for p in parts] == sorted(os.fsencode(d.name) for d in root.iterdir())
    before = {w: s["partitions"] for w, s in client.run(govsig.dask.worker_state).items()}
    plugins = client.run(_govsig_plugins)
    on_workers = govsig.dask.verify_archive(root, policy, client=client, report=tmp_path / "w.parquet")
    # The job's plugin is gone from every worker once the job is done.
    assert client.run(_govsig_plugins) == plugins
    done = sum(s["partitions"] - before.get(w, 0) for w, s in client.run(govsig.dask.worker_state).items())
    assert done == len(parts)  # the report and the counts shared each task's run
    on_client = govsig.dask.verify_archive(root, policy, client=client, report=tmp_path / "c.parquet",
                                           split_depth=None, partition_size=700)
    assert on_workers.counts == on_client.counts and on_workers.total == N
    a, b = pq.read_table(tmp_path / "w.parquet"), pq.read_table(tmp_path / "c.parquet")
    assert a.column("path").to_pylist() == paths
    assert a.to_pylist() == b.to_pylist()
    with pytest.raises(ValueError, match="split_depth must be a positive int or None"):
        govsig.dask.verify_archive(root, policy, split_depth=0)


def _govsig_plugins(dask_worker: Any) -> list[str]:
    return sorted(n for n in dask_worker.plugins if n.startswith("govsig-job-"))


def test_a_job_known_by_key_on_another_cluster_is_refused_with_a_way_out(archive) -> None:
    _root, paths, policy, _expected = archive
    job = govsig.dask._job(policy, None, 1, None, False)
    ref = pickle.loads(pickle.dumps(govsig.dask._JobRef("ab" * 32, None)))
    with pytest.raises(RuntimeError, match="build the DataFrame again with this cluster's client"):
        ref.job()
    # Carried whole (no client), the job is decoded from the task and kept by key.
    carried = pickle.loads(pickle.dumps(govsig.dask._JobRef(job.key, job.blob)))
    assert carried.job().policy == job.policy and carried.job() is carried.job()
    with pytest.raises(RuntimeError, match="does not match its key"):
        govsig.dask._JobRef("00" * 32, job.blob).job()


@pytest.mark.slow
def test_a_worker_killed_mid_job_every_document_exactly_once(client, archive) -> None:
    root, paths, policy, _expected = archive
    reference = _codes_in_process(paths, policy)
    ddf = govsig.dask.verify_paths(paths, policy, partition_size=25)
    before = {w: s["partitions"] for w, s in client.run(govsig.dask.worker_state).items()}
    future = client.compute(ddf)
    pids = client.run(os.getpid)
    victim = None
    deadline = time.monotonic() + 120
    while victim is None and time.monotonic() < deadline:
        # Kill a worker while it is running a partition and some are already done.
        done = sum(s["partitions"] - before.get(w, 0) for w, s in client.run(govsig.dask.worker_state).items())
        busy = {w: ks for w, ks in client.processing().items() if ks}
        if done >= 10 and busy:
            victim = next(iter(busy))
        else:
            time.sleep(0.02)
    assert victim is not None, "the job never got under way"
    assert not future.done(), "the job finished before the kill; make the archive larger"
    os.kill(pids[victim], signal.SIGKILL)
    df = future.result(timeout=300)
    assert len(df) == N and df["path"].is_unique
    assert list(df["path"]) == paths
    assert list(df["code"]) == reference
    # The killed process is gone (the nanny started another in its place).
    client.wait_for_workers(2, timeout=60)
    assert pids[victim] not in client.run(os.getpid).values()


def _govsig_pool_threads() -> list[int]:
    """Indexes of govsig's verification threads alive in this process (named govsig-N)."""
    found = []
    for task in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{task}/comm", encoding="utf-8") as f:
                m = re.fullmatch(r"govsig-(\d+)", f.read().strip())
        except OSError:
            continue
        if m:
            found.append(int(m.group(1)))
    return sorted(found)


def _set_env(name: str, value: str | None) -> None:
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value


@pytest.mark.slow
def test_govsig_threads_inside_workers_are_capped(archive) -> None:
    root, paths, policy, _expected = archive
    some = paths[:600]
    # A fresh cluster: its processes hold no pools from other tests.
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                      silence_logs=40) as cluster, Client(cluster) as c:
        # Default: as many govsig threads as the Dask worker has (1), not one per core.
        govsig.dask.verify_paths(some, policy, partition_size=100).compute()
        states = c.run(govsig.dask.worker_state)
        assert {s["threads"] for s in states.values()} == {1}
        assert set(map(tuple, c.run(_govsig_pool_threads).values())) == {(0,)}
        # GOVSIG_THREADS in the worker's environment comes next...
        c.run(_set_env, "GOVSIG_THREADS", "3")
        govsig.dask.verify_paths(some, policy, partition_size=100).compute()
        assert {s["threads"] for s in c.run(govsig.dask.worker_state).values()} == {3}
        assert {max(t) for t in c.run(_govsig_pool_threads).values()} == {2}
        # ...and threads_per_worker wins over it.
        govsig.dask.verify_paths(some, policy, partition_size=100, threads_per_worker=2).compute()
        assert {s["threads"] for s in c.run(govsig.dask.worker_state).values()} == {2}
        c.run(_set_env, "GOVSIG_THREADS", "many")
        with pytest.raises(ValueError, match="GOVSIG_THREADS='many'"):
            govsig.dask.verify_paths(some[:10], policy).compute()
        c.run(_set_env, "GOVSIG_THREADS", None)
    with pytest.raises(ValueError, match="more than govsig.MAX_THREADS"):
        govsig.dask.verify_paths(some, policy, threads_per_worker=govsig.MAX_THREADS + 1)


def test_everything_that_travels_pickles(pki, archive, tmp_path) -> None:
    root, paths, policy, _expected = archive
    crl = govsig.Crl.from_der(_crl(pki.p256_root, (5,)))
    trust = govsig.TrustStore([r.cert for r in pki.roots])
    fetcher = govsig.HttpFetcher(timeout=3.0, cache_dir=tmp_path / "cache", max_bytes=1 << 20, max_workers=3)
    job = govsig.dask._job(policy.replace(crls=[crl], trust=trust), fetcher, 2, 1 << 20, True)
    for dumps in (pickle.dumps, cloudpickle.dumps):
        assert pickle.loads(dumps(trust)) == trust
        assert pickle.loads(dumps(policy)) == policy
        back = pickle.loads(dumps(crl))
        assert back.der == crl.der and [e.serial for e in back] == [5]
        f = pickle.loads(dumps(fetcher))
        assert (f.timeout, f.cache_dir, f.max_bytes, f.max_workers) == (3.0, tmp_path / "cache", 1 << 20, 3)
        j = pickle.loads(dumps(job))
        assert j.key == job.key and j.context == job.context and j.policy == job.policy
        assert pickle.loads(dumps(Entry(b"/a/b.p7s"))) == Entry(b"/a/b.p7s")
        # Results of CMS documents (what a user may send back from a worker; govsig.dask itself
        # returns report rows, which are plain Arrow data).
        results = govsig.Verifier(policy).verify_files([p for p in paths[:12] if not p.endswith(".pdf")])
        again = pickle.loads(dumps(results))
        assert [r.code for r in again] == [r.code for r in results]
        assert [r.to_dict() for r in again] == [r.to_dict() for r in results]
        one = pickle.loads(dumps(results[0]))
        assert one.to_dict() == results[0].to_dict()
        part = govsig.dask._partition([Entry(os.fsencode(p)) for p in paths[:12]], job)
        assert pickle.loads(dumps(part)).equals(part)


@pytest.mark.slow
def test_a_crl_is_fetched_once_per_cache_by_two_worker_processes(pki, tmp_path) -> None:
    with LoopbackServer() as server:
        root = P.make_root("Root CA phân tán", "p256", seed="dask-fetch-root")
        leaf = P.make_leaf("Người ký (CRL chung)", root, "p256", seed="dask-fetch-leaf",
                           extra_extensions=[_cdp(server.url("/root.crl"))])
        crl = _crl(root, number=9)

        def slow(_seen: Any) -> Reply:
            # Slow enough that the second process asks while the first is still fetching.
            server.sleep(1.5)
            return Reply(crl, content_type="application/pkix-crl")

        server.route("/root.crl", slow)
        docs = tmp_path / "docs"
        docs.mkdir()
        sig = P.sign_cms(CONTENT, leaf, detached=False)
        paths = []
        for i in range(40):
            (docs / f"{i:02d}.p7m").write_bytes(sig)
            paths.append(str(docs / f"{i:02d}.p7m"))
        policy = govsig.Policy(trust=[root.cert], revocation="hard-fail", at=NOW)
        fetcher = govsig.HttpFetcher(timeout=10, cache_dir=tmp_path / "shared-cache")
        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                          silence_logs=40) as cluster, Client(cluster) as c:
            df = govsig.dask.verify_paths(paths, policy, fetcher=fetcher, partition_size=20).compute()
            states = c.run(govsig.dask.worker_state)
        assert set(df["code"]) == {"ok"} and set(df["revocation_status"]) == {"proven"}
        # Both processes verified (each needed the CRL), one fetch served them both.
        assert sorted(s["partitions"] for s in states.values()) == [1, 1]
        assert server.requests("/root.crl") == 1


@pytest.mark.slow
def test_an_ocsp_answer_is_fetched_once_per_cache_by_two_worker_processes(pki, tmp_path, openssl) -> None:
    from cryptography.x509.oid import AuthorityInformationAccessOID

    from ocsp_responder import IndexEntry, OcspResponder

    class SlowResponder(OcspResponder):
        def answer(self, request: bytes, method: str = "POST") -> bytes:
            time.sleep(1.5)  # the second process asks while the first waits for this answer
            return super().answer(request, method)

    root = P.make_root("Root CA OCSP phân tán", "p256", seed="dask-ocsp-root")
    with SlowResponder(tmp_path / "responder", openssl, ca=root, signer=root, entries=[]) as responder:
        aia = x509.AuthorityInformationAccess([x509.AccessDescription(
            AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(responder.url))])
        leaf = P.make_leaf("Người ký (OCSP chung)", root, "p256", seed="dask-ocsp-leaf",
                           extra_extensions=[(aia, False)])
        responder.set_entries([IndexEntry(leaf)])
        docs = tmp_path / "docs"
        docs.mkdir()
        sig = P.sign_cms(CONTENT, leaf, detached=False)
        paths = []
        for i in range(40):
            (docs / f"{i:02d}.p7m").write_bytes(sig)
            paths.append(str(docs / f"{i:02d}.p7m"))
        policy = govsig.Policy(trust=[root.cert], revocation="hard-fail", at=NOW)
        fetcher = govsig.HttpFetcher(timeout=10, cache_dir=tmp_path / "shared-cache")
        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                          silence_logs=40) as cluster, Client(cluster) as c:
            df = govsig.dask.verify_paths(paths, policy, fetcher=fetcher, partition_size=20).compute()
            states = c.run(govsig.dask.worker_state)
    assert set(df["code"]) == {"ok"} and set(df["revocation_status"]) == {"proven"}
    assert {r["signers"][0]["revocation"][0]["kind"] for r in df.to_dict("records")} == {"ocsp"}
    # Both processes verified (each needed the answer); the responder was asked once.
    assert sorted(s["partitions"] for s in states.values()) == [1, 1]
    assert responder.requests == 1
