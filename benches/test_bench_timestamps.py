"""Signature time-stamped CMS (issue 13): ``verify_many`` with ``signature_time="timestamp"``
over detached RSA-2048 signatures each carrying one signature time-stamp from one TSA (real
``openssl ts`` tokens), against pyHanko's ``async_validate_detached_cms`` of a sample of the
same signatures in the same run (one process, one after another). The ratio is per document.
N shrinks with GOVSIG_BENCH_SCALE (default 1: 1,000 documents, pyHanko on 100; each token is
one ``openssl ts -reply`` process, which bounds the corpus size a bench run can afford).
"""
from __future__ import annotations

import asyncio
import logging
import shutil
import time
import warnings
from pathlib import Path

import pytest

import govsig
import pki
from _common import SESSION, THREADS, CpuClock, Measurement, Ratio, scaled

N_DOCS = scaled(1000)
N_PEER = max(5, N_DOCS // 10)
ROUNDS = 3

logging.getLogger("pyhanko").setLevel(logging.CRITICAL)
logging.getLogger("pyhanko_certvalidator").setLevel(logging.CRITICAL)

SESSION.add_ratio(Ratio(
    name="verify_many_timestamped_vs_pyhanko",
    needs=("govsig_verify_many_timestamped", "pyhanko_validate_detached_cms_timestamped"),
    compute=lambda ms: (ms["govsig_verify_many_timestamped"].per_second
                        / ms["pyhanko_validate_detached_cms_timestamped"].per_second),
    target=50.0,
    explain=lambda ms: (f"time-stamped CMS: govsig verify_many (signature_time=timestamp) on {THREADS} threads "
                        f"{ms['govsig_verify_many_timestamped'].per_second:,.0f}/s over "
                        f"{ms['govsig_verify_many_timestamped'].units}, pyHanko validate_detached_cms "
                        f"{ms['pyhanko_validate_detached_cms_timestamped'].per_second:,.1f}/s over "
                        f"{ms['pyhanko_validate_detached_cms_timestamped'].units}")))


class Corpus:
    def __init__(self, tmp: Path, openssl: str) -> None:
        import archive_decade as ad
        from tsa_server import Tsa

        self.p = ad.make_pki(ad.now())
        self.signer = self.p.signers[0]
        with Tsa(tmp / "tsa", openssl, signer=self.p.tsa) as tsa:
            self.docs = []
            for i in range(N_DOCS):
                content = ad.document(i)
                sig = pki.sign_cms(content, self.signer, signing_time=self.p.signing_moment)
                self.docs.append((ad.with_tokens(sig, [tsa.stamp(ad.signature_value(sig))]), content))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    openssl = shutil.which("openssl")
    assert openssl, "the bench's TSA is openssl ts: install openssl"
    return Corpus(tmp_path_factory.mktemp("ts_bench"), openssl)


@pytest.mark.benchmark(group="time-stamped CMS")
def test_govsig_verify_many_timestamped(benchmark, corpus: Corpus) -> None:  # type: ignore[no-untyped-def]
    policy = govsig.Policy(trust=[corpus.p.root.der], tsa_trust=[corpus.p.tsa_root.der],
                           signature_time="timestamp")
    v = govsig.Verifier(policy)
    cpu = CpuClock()
    b = benchmark.pedantic(cpu.wrap(lambda: v.verify_many(corpus.docs, threads=THREADS)), rounds=ROUNDS,
                           iterations=1)
    assert b.counts() == {"ok": len(corpus.docs)}
    assert set(b.time_source) == {govsig.TIME_SOURCES.index("timestamp")}
    SESSION.record("govsig_verify_many_timestamped", benchmark, len(corpus.docs), cpu)


def test_pyhanko_validate_detached_cms_timestamped(corpus: Corpus) -> None:
    from asn1crypto import cms as a_cms

    import pdfsign

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pyhanko.sign.validation.generic_cms import async_validate_detached_cms

    sample = corpus.docs[:N_PEER]
    vc = pdfsign.validation_context([corpus.p.root, corpus.p.tsa_root])

    async def validate_all() -> list[bool]:
        out = []
        for sig, content in sample:
            st = await async_validate_detached_cms(content, a_cms.ContentInfo.load(sig)["content"],
                                                   signer_validation_context=vc, ts_validation_context=vc)
            out.append(bool(st.bottom_line and st.timestamp_validity is not None))
        return out

    times = []
    cpu0 = time.process_time()
    for _ in range(ROUNDS):
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            verdicts = asyncio.run(validate_all())
        times.append(time.perf_counter() - t0)
        assert all(verdicts)
    times.sort()
    SESSION.measurements["pyhanko_validate_detached_cms_timestamped"] = Measurement(
        "pyhanko_validate_detached_cms_timestamped", times[len(times) // 2], len(sample),
        (time.process_time() - cpu0) / ROUNDS)
