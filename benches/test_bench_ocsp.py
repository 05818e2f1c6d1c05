"""Bulk verification with OCSP fetched over loopback, against the same bulk run with revocation
off: what on-demand revocation costs a bulk job.

20,000 detached documents of 2 KiB (GOVSIG_BENCH_SCALE shrinks them; never fewer than one per
signer) signed by 100 distinct P-256 signers issued by one CA under one root. Every leaf names
its OCSP responder in authorityInfoAccess: a real ``openssl ocsp`` behind the loopback front
of tests/ocsp_responder.py (one openssl process per request). The CA's own status comes from
the root's CRL, served by a loopback HTTP server. Policy: revocation hard-fail, sources
("ocsp", "crl").

Each round builds a fresh HttpFetcher and a fresh Verifier, so every fetch (100 OCSP requests
and one CRL) is inside the measurement; the revocation-off round also gets a fresh Verifier
(and a fetcher, which it never uses). For the breakdown, a third run per round gets the same
evidence given up front in the Policy (ocsp_responses + crls): no fetching, printed only.
Rounds alternate (OCSP, off, given, OCSP, off, given, ...) so load from other processes hits
all alike; the ratio is of medians:

    RATIO ocsp_bulk_vs_revocation_off X (target >= 0.70)

The fetch count of every round is checked (a run that fetched too much or too little measured
something else); time is only reported. The corpus is signed at the start of the session with
P-256 keys (about 80 us a signature), not cached: the certificates carry the servers' ports,
which change from run to run.
"""

from __future__ import annotations

import hashlib
import statistics
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import AuthorityInformationAccessOID

import govsig
import pki
from govsig.ocsp import build_request
from _common import KIB, SESSION, THREADS, load_average, scaled
from http_servers import LoopbackServer
from ocsp_responder import IndexEntry, OcspResponder

N_SIGNERS = 100
N_DOCS = scaled(20_000, minimum=N_SIGNERS)
ROUNDS = 5
SEED = "govsig-bench-ocsp-v1"


@dataclass
class OcspBench:
    root: pki.Issued
    ca: pki.Issued
    signers: list[pki.Issued]
    crl: bytes
    responder: OcspResponder
    crl_server: LoopbackServer
    items: list[tuple[bytes, bytes]]


@pytest.fixture(scope="module")
def ocsp_bench(bench_dir: Path) -> Iterator[OcspBench]:
    import datetime as dt

    now = dt.datetime.now(dt.timezone.utc)
    root = pki.make_root("Root CA đo OCSP", "p256", seed=f"{SEED}|root")
    with LoopbackServer() as crl_server:
        ca_ext = [(x509.CRLDistributionPoints([x509.DistributionPoint(
            [x509.UniformResourceIdentifier(crl_server.url("/root.crl"))], None, None, None)]), False)]
        ca = pki.make_intermediate("CA đo OCSP", root, "p256", seed=f"{SEED}|ca", extra_extensions=ca_ext)
        crl = (x509.CertificateRevocationListBuilder().issuer_name(root.cert.subject)
               .last_update(now - dt.timedelta(hours=1)).next_update(now + dt.timedelta(days=7))
               .add_extension(x509.CRLNumber(1), critical=False)  # RFC 5280 §5.2.3
               .sign(root.key, hashes.SHA256()).public_bytes(Encoding.DER))
        crl_server.serve("/root.crl", crl)
        with OcspResponder(bench_dir / "ocsp-responder", pki.openssl_binary(), ca=ca, signer=ca,
                           entries=[]) as responder:
            aia = (x509.AuthorityInformationAccess([x509.AccessDescription(
                AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(responder.url))]), False)
            signers = [pki.make_leaf(f"Cán bộ ký số {i:03d}", ca, "p256", seed=f"{SEED}|leaf|{i}",
                                     extra_extensions=[aia]) for i in range(N_SIGNERS)]
            responder.set_entries([IndexEntry(s) for s in signers])
            t0 = time.perf_counter()
            items = []
            for k in range(N_DOCS):
                content = hashlib.shake_256(f"{SEED}|content|{k}".encode()).digest(2 * KIB)
                items.append((pki.sign_cms(content, signers[k % N_SIGNERS]), content))
            print(f"\n[bench] signed {N_DOCS} documents by {N_SIGNERS} P-256 signers in "
                  f"{time.perf_counter() - t0:.1f} s", flush=True)
            yield OcspBench(root, ca, signers, crl, responder, crl_server, items)


class _TimedFetcher:
    """The HttpFetcher the Verifier uses, with the wall time spent inside its fetch_many: the
    part of a round spent waiting on the servers (the Verifier calls nothing else)."""

    def __init__(self, fetcher: govsig.HttpFetcher) -> None:
        self.fetcher = fetcher
        self.seconds = 0.0

    def fetch_many(self, crl_urls=(), ocsp=()):  # noqa: ANN001, ANN201 - HttpFetcher's signature
        t = time.perf_counter()
        try:
            return self.fetcher.fetch_many(crl_urls=crl_urls, ocsp=ocsp)
        finally:
            self.seconds += time.perf_counter() - t


def _run(b: OcspBench, policy: govsig.Policy) -> tuple[govsig.BatchResult, dict[str, int], float]:
    """One round: a fresh fetcher and Verifier, the whole corpus."""
    with govsig.HttpFetcher(timeout=30) as fetcher:
        timed = _TimedFetcher(fetcher)
        batch = govsig.Verifier(policy, fetcher=timed).verify_many(b.items, threads=THREADS)
        return batch, fetcher.stats, timed.seconds


def test_bench_ocsp_bulk_vs_revocation_off(benchmark, ocsp_bench: OcspBench, report_ratio) -> None:
    b = ocsp_bench
    trust = govsig.TrustStore([b.root.der])
    ocsp_policy = govsig.Policy(trust=trust, revocation="hard-fail", revocation_sources=("ocsp", "crl"))
    off_policy = govsig.Policy(trust=trust, revocation="off")
    # For the breakdown only: the same evidence given up front (fetched once, here), so the
    # round does no fetching at all. Its time is printed, not part of the ratio.
    with govsig.HttpFetcher(timeout=30) as f:
        got = f.fetch_many(ocsp=[(b.responder.url, build_request(s.der, b.ca.der)) for s in b.signers])
    assert all(isinstance(v, bytes) for v in got.values()) and len(got) == N_SIGNERS
    given_policy = ocsp_policy.replace(ocsp_responses=list(got.values()), crls=[b.crl])
    load_before = load_average()

    times: dict[str, list[float]] = {"ocsp": [], "off": [], "given": []}
    responder_busy: list[float] = []
    waiting: list[float] = []
    fetches = ocsp_requests = crl_fetches = 0
    for _ in range(ROUNDS):
        requests_before, crl_before = b.responder.requests, b.crl_server.requests("/root.crl")
        busy_before = b.responder.busy_seconds
        t = time.perf_counter()
        batch, stats, waited = _run(b, ocsp_policy)
        times["ocsp"].append(time.perf_counter() - t)
        waiting.append(waited)
        responder_busy.append(b.responder.busy_seconds - busy_before)
        assert batch.counts() == {"ok": N_DOCS}, batch.counts()
        ocsp_requests = b.responder.requests - requests_before
        crl_fetches = b.crl_server.requests("/root.crl") - crl_before
        fetches = stats["fetches"]
        # Correctness, not speed: one OCSP request per signer, one CRL for the CA, every round.
        assert (ocsp_requests, crl_fetches, fetches) == (N_SIGNERS, 1, N_SIGNERS + 1)

        t = time.perf_counter()
        batch, stats, _ = _run(b, off_policy)
        times["off"].append(time.perf_counter() - t)
        assert batch.counts() == {"ok": N_DOCS}, batch.counts()
        assert stats["fetches"] == 0

        t = time.perf_counter()
        batch, stats, _ = _run(b, given_policy)
        times["given"].append(time.perf_counter() - t)
        assert batch.counts() == {"ok": N_DOCS}, batch.counts()
        assert stats["fetches"] == 0

    ocsp_s, off_s = statistics.median(times["ocsp"]), statistics.median(times["off"])
    print(f"\nOCSP bulk: {N_DOCS} docs of 2 KiB, {N_SIGNERS} P-256 signers under one CA, {THREADS} threads, "
          f"hard-fail, fresh HttpFetcher + Verifier per round, {ROUNDS} rounds, load {load_before} -> {load_average()}")
    print(f"fetches per round: {fetches} = {ocsp_requests} OCSP requests (one per signer) + "
          f"{crl_fetches} CRL (the CA's status, from the root's CRL)")
    print(f"median round: OCSP hard-fail {ocsp_s:.3f} s ({N_DOCS / ocsp_s:,.0f} docs/s), revocation off "
          f"{off_s:.3f} s ({N_DOCS / off_s:,.0f} docs/s)")
    print(f"the same evidence given up front in the Policy (no fetching): {statistics.median(times['given']):.3f} s")
    print(f"of the OCSP round: {statistics.median(waiting):.3f} s waiting in HttpFetcher.fetch_many; the "
          f"responder ran openssl ocsp for {statistics.median(responder_busy):.3f} s summed over its "
          f"{N_SIGNERS} requests (a process each, up to 8 at once)")
    report_ratio("ocsp_bulk_vs_revocation_off", off_s / ocsp_s, 0.70)

    # The OCSP round in pytest-benchmark's table too (and in saved baselines).
    benchmark.extra_info.update(documents=N_DOCS, signers=N_SIGNERS, fetches=fetches)
    batch, _stats, _ = benchmark.pedantic(_run, args=(b, ocsp_policy), rounds=1, iterations=1)
    assert batch.counts() == {"ok": N_DOCS}
    SESSION.record("govsig_verify_many_ocsp_hard_fail", benchmark, N_DOCS)
