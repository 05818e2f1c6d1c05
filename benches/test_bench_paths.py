"""Path validation benches of the issue "Trust: complete RFC 5280 path validation with
CRLs", each side measured in the same run:

1. Bulk verification with revocation: 20,000 detached RSA-2048 / SHA-256 documents of 2 KiB
   (the corpus of test_bench_verify.py) through ``verify_many`` on 2 threads with a
   100,000-entry CRL and revocation hard-fail, against the same run with revocation off:
   target >= 80% of the throughput. "One 2-level chain" is read as test_bench_verify.py
   and benches/_common.py read it: a root and an RSA-2048 signer it issues directly, so the
   issuing CA is the root itself; the 100,000-entry CRL is the root's, signed with the root's
   key, and the signer is not on it. There is no intermediate in this reading, hence no
   second CRL: the signer is the only certificate whose status is checked (the anchor's
   never is, RFC 5280 §6.1.1 (d)).
2. Cold validation of distinct chains: root -> intermediate -> leaf, RSA-2048, every chain
   with its own intermediate and leaf certificates (nothing a validator could remember from
   an earlier chain), from DER bytes to verdict; the targets apply to this shape. The same
   with distinct leaves under one shared intermediate is reported beside it, without a
   target (govsig's Verifier then checks the intermediate once; cryptography has no cache). govsig ``verify_certificate`` (a fresh
   Verifier per round) against pyca/cryptography's x509.verification client verifier
   (``ExtensionPolicy.permit_all()`` for the end entity, as tests/reference_verifier.py
   uses it), target >= 2x; and against pyhanko-certvalidator, target >= 20x.

Counts shrink with GOVSIG_BENCH_SCALE. Each bench checks every verdict; nothing asserts on
time. Ratios are printed at the end of the run by conftest.py.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
from typing import Optional

import pytest
from asn1crypto import x509 as a_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.x509.verification import ExtensionPolicy, PolicyBuilder, Store
from pyhanko_certvalidator import CertificateValidator, ValidationContext

import govsig
import pki
from _common import (
    KIB,
    SESSION,
    THREADS,
    Corpus,
    CorpusSpec,
    CpuClock,
    Measurement,
    Ratio,
    bench_pki,
    load_corpus,
    scaled,
)
from crlgen import der_int, tlv, utc_time

N_DOCS = scaled(20_000)
CRL_ENTRIES = 100_000
N_CHAINS = scaled(2_000)
N_CHAINS_PYHANKO = scaled(200)

BULK_ROUNDS = 5
COLD_ROUNDS = 5
PYHANKO_ROUNDS = 3

# sha256WithRSAEncryption with NULL parameters (RFC 4055 §5).
_SHA256_RSA = bytes.fromhex("300d06092a864886f70d01010b0500")
_CRL_NUMBER_OID = bytes.fromhex("0603551d14")
_REASON_CODE_OID = bytes.fromhex("0603551d15")


def _us(seconds: Optional[float]) -> str:
    return "?" if seconds is None else f"{seconds * 1e6:,.1f} us"


def _cpu_note(ms: dict[str, Measurement], ours: str, theirs: str, units: str) -> str:
    a, b = ms[ours].cpu_per_unit, ms[theirs].cpu_per_unit
    if a is None or b is None:
        return ""
    return f"; CPU per {units}: govsig {_us(a)}, peer {_us(b)} -> {b / a:.1f}"


SESSION.add_ratio(Ratio(
    name="verify_many_crl_hardfail_vs_off",
    needs=("govsig_verify_many_crl_hardfail", "govsig_verify_many_revocation_off"),
    compute=lambda ms: (ms["govsig_verify_many_crl_hardfail"].per_second
                        / ms["govsig_verify_many_revocation_off"].per_second),
    target=0.80,
    explain=lambda ms: (
        f"{ms['govsig_verify_many_crl_hardfail'].per_second:,.0f} docs/s with a "
        f"{CRL_ENTRIES:,}-entry CRL, hard-fail, vs {ms['govsig_verify_many_revocation_off'].per_second:,.0f} "
        f"docs/s with revocation off ({N_DOCS} docs of 2 KiB, {THREADS} threads; Policy and Verifier "
        f"construction, CRL parse and index included on both sides)" + _steady_state(ms)),
))


def _steady_state(ms: dict[str, Measurement]) -> str:
    """The same ratio with the one-time CRL load taken out: what a long job converges to."""
    if "govsig_crl_load" not in ms:
        return ""
    load = ms["govsig_crl_load"].median_s
    hard = ms["govsig_verify_many_crl_hardfail"]
    off = ms["govsig_verify_many_revocation_off"]
    per_doc = max(hard.median_s - load, 1e-9) / hard.units
    return (f"; of which loading the CRL (Policy + Verifier) {load * 1e3:,.1f} ms -> "
            f"{off.seconds_per_unit / per_doc:.2f} once it is loaded")
SESSION.add_ratio(Ratio(
    name="cold_chains_vs_cryptography",
    needs=("govsig_cold_chains", "cryptography_cold_chains"),
    compute=lambda ms: ms["govsig_cold_chains"].per_second / ms["cryptography_cold_chains"].per_second,
    target=2.0,
    explain=lambda ms: (
        f"govsig {ms['govsig_cold_chains'].per_second:,.0f} chains/s, cryptography x509.verification "
        f"{ms['cryptography_cold_chains'].per_second:,.0f} chains/s (root -> intermediate -> leaf, "
        f"RSA-2048, {N_CHAINS} distinct chains, one thread, DER in, verdict out)"
        + _cpu_note(ms, "govsig_cold_chains", "cryptography_cold_chains", "chain")),
))
SESSION.add_ratio(Ratio(
    name="cold_chains_shared_intermediate_vs_cryptography",
    needs=("govsig_cold_chains_shared_intermediate", "cryptography_cold_chains_shared_intermediate"),
    compute=lambda ms: (ms["govsig_cold_chains_shared_intermediate"].per_second
                        / ms["cryptography_cold_chains_shared_intermediate"].per_second),
    target=None,
    explain=lambda ms: (
        f"reported only: distinct leaves under one intermediate (govsig checks the "
        f"intermediate once per Verifier, cryptography once per chain): govsig "
        f"{ms['govsig_cold_chains_shared_intermediate'].per_second:,.0f} chains/s, cryptography "
        f"{ms['cryptography_cold_chains_shared_intermediate'].per_second:,.0f} chains/s"
        + _cpu_note(ms, "govsig_cold_chains_shared_intermediate", "cryptography_cold_chains_shared_intermediate", "chain")),
))
SESSION.add_ratio(Ratio(
    name="cold_chains_vs_pyhanko",
    needs=("govsig_cold_chains", "pyhanko_cold_chains"),
    compute=lambda ms: ms["govsig_cold_chains"].per_second / ms["pyhanko_cold_chains"].per_second,
    target=20.0,
    explain=lambda ms: (
        f"govsig {ms['govsig_cold_chains'].per_second:,.0f} chains/s, pyhanko-certvalidator "
        f"{ms['pyhanko_cold_chains'].per_second:,.0f} chains/s ({N_CHAINS_PYHANKO} distinct chains "
        f"for pyhanko, {N_CHAINS} for govsig; per-chain rates compared)"
        + _cpu_note(ms, "govsig_cold_chains", "pyhanko_cold_chains", "chain")),
))


# --------------------------------------------------------------------------------------------
# 1. Bulk verification with a 100,000-entry CRL
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def at() -> dt.datetime:
    # The corpus is signed "now" (pyca/cryptography stamps the current signingTime); the CRL
    # is issued around the same moment.
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


def root_crl(at: dt.datetime, entries: int, extra_serials: tuple[int, ...] = ()) -> bytes:
    """A v2 CRL of the bench root with ``entries`` revoked serials (random, 1..20 octets,
    every third with a reasonCode), thisUpdate a day before ``at``, nextUpdate a week after,
    signed with the root's RSA key. The bench signer is never among the random serials."""
    p = bench_pki()
    rng = random.Random(20_000)
    avoid = {p.leaf.cert.serial_number}
    serials: list[int] = list(extra_serials)
    seen = set(serials) | avoid
    while len(serials) < entries + len(extra_serials):
        octets = rng.choice((20, 20, 19, 16, 16, 8, 3))
        s = rng.getrandbits(octets * 8 - 1) or 1
        if s not in seen:
            seen.add(s)
            serials.append(s)
    start = (at - dt.timedelta(days=3 * 365)).replace(tzinfo=None)
    parts = []
    for i, s in enumerate(serials):
        when = utc_time(start + dt.timedelta(seconds=rng.randrange(3 * 365 * 86400)))
        if i % 3 == 0:
            ext = tlv(0x30, _REASON_CODE_OID + tlv(0x04, tlv(0x0A, bytes((1,)))))
            parts.append(tlv(0x30, der_int(s) + when + tlv(0x30, ext)))
        else:
            parts.append(tlv(0x30, der_int(s) + when))
    naive = at.replace(tzinfo=None)
    tbs = tlv(0x30, b"".join((
        der_int(1),
        _SHA256_RSA,
        p.root.cert.subject.public_bytes(),
        utc_time(naive - dt.timedelta(days=1)),
        utc_time(naive + dt.timedelta(days=7)),
        tlv(0x30, b"".join(parts)),
        tlv(0xA0, tlv(0x30, tlv(0x30, _CRL_NUMBER_OID + tlv(0x04, der_int(77))))),
    )))
    sig = p.root.key.sign(tbs, padding.PKCS1v15(), hashes.SHA256())  # type: ignore[call-arg,union-attr]
    return tlv(0x30, tbs + _SHA256_RSA + tlv(0x03, b"\x00" + sig))


@pytest.fixture(scope="module")
def big_root_crl(at: dt.datetime) -> bytes:
    der = root_crl(at, CRL_ENTRIES)
    crl = govsig.Crl.from_der(der)
    assert len(crl) == CRL_ENTRIES
    # cryptography agrees that the root signed it and that it is well formed.
    parsed = x509.load_der_x509_crl(der)
    assert parsed.is_signature_valid(bench_pki().root.cert.public_key())  # type: ignore[arg-type]
    assert parsed.get_revoked_certificate_by_serial_number(bench_pki().leaf.cert.serial_number) is None
    return der


@pytest.fixture(scope="module")
def small_corpus() -> Corpus:
    return load_corpus(CorpusSpec(size=2 * KIB, count=N_DOCS, distinct_contents=N_DOCS))


def _policy(at: dt.datetime, crls: list[bytes], revocation: str) -> govsig.Policy:
    return govsig.Policy(trust=govsig.TrustStore.from_der([bench_pki().root.der]), at=at, crls=crls,
                         revocation=revocation)


def test_crl_is_consulted(at: dt.datetime, small_corpus: Corpus) -> None:
    """The CRL of the bench is really evidence: listing the signer revokes every document,
    leaving it out gives a "good" status from that CRL."""
    sig, content = small_corpus.items()[0]
    leaf_serial = bench_pki().leaf.cert.serial_number
    revoked = govsig.Verifier(_policy(at, [root_crl(at, 1_000, (leaf_serial,))], "hard-fail"))
    r = revoked.verify(sig, content)
    assert r.code == "cert_revoked", r.reason
    good = govsig.Verifier(_policy(at, [root_crl(at, 1_000)], "hard-fail")).verify(sig, content)
    assert good.code == "ok", good.reason
    (evidence,) = good.signers[0].revocation
    assert evidence["status"] == "good" and evidence["crl_issuer"] is not None


@pytest.mark.benchmark(group="verify_many 2 KiB, revocation")
def test_govsig_crl_load(benchmark, at: dt.datetime, big_root_crl: bytes) -> None:
    """The one-time part of the hard-fail run: Policy (parses the CRL) and Verifier (builds
    the engine's CRL set) for the 100,000-entry CRL, no document."""
    cpu = CpuClock()
    v = benchmark.pedantic(cpu.wrap(lambda: govsig.Verifier(_policy(at, [big_root_crl], "hard-fail"))),
                           rounds=BULK_ROUNDS, warmup_rounds=1)
    assert isinstance(v, govsig.Verifier)
    SESSION.record("govsig_crl_load", benchmark, 1, cpu)


@pytest.mark.benchmark(group="verify_many 2 KiB, revocation")
@pytest.mark.parametrize("mode", ["hard-fail", "off"])
def test_govsig_verify_many_revocation(benchmark, at: dt.datetime, big_root_crl: bytes,
                                       small_corpus: Corpus, mode: str) -> None:
    items = small_corpus.items()
    crls = [big_root_crl] if mode == "hard-fail" else []

    # Policy and Verifier are built inside the round: a bulk job loads its CRL and
    # verifies its archive once, so parsing and indexing the CRL belong in the measurement.
    def run() -> govsig.BatchResult:
        return govsig.Verifier(_policy(at, crls, mode)).verify_many(items, threads=THREADS)

    cpu = CpuClock()
    batch = benchmark.pedantic(cpu.wrap(run), rounds=BULK_ROUNDS, warmup_rounds=1)
    assert batch.counts() == {"ok": N_DOCS}, batch.counts()
    if mode == "hard-fail":
        assert batch[0].signers[0].revocation[0]["status"] == "good"
    name = "govsig_verify_many_crl_hardfail" if mode == "hard-fail" else "govsig_verify_many_revocation_off"
    SESSION.record(name, benchmark, N_DOCS, cpu)


# --------------------------------------------------------------------------------------------
# 2. Cold validation of distinct chains
# --------------------------------------------------------------------------------------------

CHAIN_FROM = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
CHAIN_UNTIL = dt.datetime(2034, 1, 1, tzinfo=dt.timezone.utc)
CHAIN_AT = dt.datetime(2026, 3, 1, tzinfo=dt.timezone.utc)


def _ku(ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(digital_signature=not ca, content_commitment=not ca, key_encipherment=False,
                         data_encipherment=False, key_agreement=False, key_cert_sign=ca, crl_sign=ca,
                         encipher_only=False, decipher_only=False)


def distinct_chains(n: int, shared_intermediate: bool = False) -> list[tuple[bytes, bytes]]:
    """``n`` (intermediate DER, leaf DER) pairs under the bench root, every certificate its
    own (own subject, serial and signature). Keys are shared (one intermediate key, one leaf
    key): generating thousands of RSA keys would measure nothing more, and no validator here
    caches by key. With ``shared_intermediate`` every leaf hangs under the first
    intermediate instead: one CA, many signers, as a portal sees them."""
    p = bench_pki()
    inter_key = pki.derive_key("rsa2048", "govsig-bench-paths|intermediate")
    leaf_key = p.leaf.key
    root_aki = x509.AuthorityKeyIdentifier.from_issuer_public_key(p.root.key.public_key())  # type: ignore[arg-type]
    inter_ski = x509.SubjectKeyIdentifier.from_public_key(inter_key.public_key())  # type: ignore[arg-type]
    inter_aki = x509.AuthorityKeyIdentifier.from_issuer_public_key(inter_key.public_key())  # type: ignore[arg-type]
    leaf_ski = x509.SubjectKeyIdentifier.from_public_key(leaf_key.public_key())  # type: ignore[arg-type]
    out = []
    for i in range(n):
        ca_index = 0 if shared_intermediate else i
        inter_name = pki.vn_name(f"CA cấp dưới đo hiệu năng {ca_index}", "Trung tâm Chứng thực điện tử thử nghiệm")
        inter = (x509.CertificateBuilder()
                 .subject_name(inter_name).issuer_name(p.root.cert.subject)
                 .public_key(inter_key.public_key())  # type: ignore[arg-type]
                 .serial_number(0x10_0000 + ca_index).not_valid_before(CHAIN_FROM).not_valid_after(CHAIN_UNTIL)
                 .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                 .add_extension(_ku(True), critical=True)
                 .add_extension(inter_ski, critical=False)
                 .add_extension(root_aki, critical=False)
                 .sign(p.root.key, hashes.SHA256()))  # type: ignore[arg-type]
        leaf = (x509.CertificateBuilder()
                .subject_name(pki.vn_name(f"Người ký {i}", "Ủy ban nhân dân tỉnh Hà Giang"))
                .issuer_name(inter_name)
                .public_key(leaf_key.public_key())  # type: ignore[arg-type]
                .serial_number(0x20_0000 + i).not_valid_before(CHAIN_FROM).not_valid_after(CHAIN_UNTIL)
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                .add_extension(_ku(False), critical=True)
                .add_extension(leaf_ski, critical=False)
                .add_extension(inter_aki, critical=False)
                .add_extension(x509.SubjectAlternativeName([x509.RFC822Name(f"nguoi.ky.{i}@bench.invalid")]),
                               critical=False)
                .sign(inter_key, hashes.SHA256()))  # type: ignore[arg-type]
        out.append((inter.public_bytes(serialization.Encoding.DER), leaf.public_bytes(serialization.Encoding.DER)))
    return out


SHAPES = ("distinct", "shared_intermediate")


@pytest.fixture(scope="module")
def all_chains() -> dict[str, list[tuple[bytes, bytes]]]:
    return {
        "distinct": distinct_chains(max(N_CHAINS, N_CHAINS_PYHANKO)),
        "shared_intermediate": distinct_chains(N_CHAINS, shared_intermediate=True),
    }


@pytest.fixture(scope="module")
def chains(all_chains: dict[str, list[tuple[bytes, bytes]]]) -> list[tuple[bytes, bytes]]:
    return all_chains["distinct"]


def _record_name(side: str, shape: str) -> str:
    return f"{side}_cold_chains" if shape == "distinct" else f"{side}_cold_chains_{shape}"


@pytest.mark.benchmark(group="cold chains")
@pytest.mark.parametrize("shape", SHAPES)
def test_govsig_cold_chains(benchmark, all_chains: dict[str, list[tuple[bytes, bytes]]], shape: str) -> None:
    work = all_chains[shape][:N_CHAINS]
    policy = govsig.Policy(trust=govsig.TrustStore.from_der([bench_pki().root.der]), at=CHAIN_AT,
                           revocation="off")

    def setup():
        # A fresh Verifier per round: no certificate or edge is known before the round.
        return (govsig.Verifier(policy),), {}

    def run(v: govsig.Verifier) -> int:
        ok = 0
        for inter, leaf in work:
            ok += v.verify_certificate(leaf, [inter]).ok
        return ok

    cpu = CpuClock()
    assert benchmark.pedantic(cpu.wrap(run), setup=setup, rounds=COLD_ROUNDS, warmup_rounds=1) == N_CHAINS
    SESSION.record(_record_name("govsig", shape), benchmark, N_CHAINS, cpu)


@pytest.mark.benchmark(group="cold chains")
@pytest.mark.parametrize("shape", SHAPES)
def test_cryptography_cold_chains(benchmark, all_chains: dict[str, list[tuple[bytes, bytes]]], shape: str) -> None:
    work = all_chains[shape][:N_CHAINS]
    root = bench_pki().root.cert

    def setup():
        verifier = (PolicyBuilder().store(Store([root])).time(CHAIN_AT)
                    .extension_policies(ca_policy=ExtensionPolicy.webpki_defaults_ca(),
                                        ee_policy=ExtensionPolicy.permit_all())
                    .build_client_verifier())
        return (verifier,), {}

    def run(verifier) -> int:
        ok = 0
        for inter, leaf in work:
            verifier.verify(x509.load_der_x509_certificate(leaf), [x509.load_der_x509_certificate(inter)])
            ok += 1  # verify raises VerificationError on failure
        return ok

    cpu = CpuClock()
    assert benchmark.pedantic(cpu.wrap(run), setup=setup, rounds=COLD_ROUNDS, warmup_rounds=1) == N_CHAINS
    SESSION.record(_record_name("cryptography", shape), benchmark, N_CHAINS, cpu)


@pytest.mark.benchmark(group="cold chains")
def test_pyhanko_cold_chains(benchmark, chains: list[tuple[bytes, bytes]]) -> None:
    work = chains[:N_CHAINS_PYHANKO]
    root = a_x509.Certificate.load(bench_pki().root.der)

    async def validate_all(ctx: ValidationContext) -> int:
        ok = 0
        for inter, leaf in work:
            v = CertificateValidator(a_x509.Certificate.load(leaf),
                                     intermediate_certs=[a_x509.Certificate.load(inter)],
                                     validation_context=ctx)
            await v.async_validate_usage({"digital_signature"})  # raises on failure
            ok += 1
        return ok

    def setup():
        # No CRL distribution points in these certificates: pyhanko's soft-fail checks none.
        return (ValidationContext(trust_roots=[root], moment=CHAIN_AT, allow_fetching=False,
                                  revocation_mode="soft-fail"),), {}

    def run(ctx: ValidationContext) -> int:
        return asyncio.run(validate_all(ctx))

    cpu = CpuClock()
    assert benchmark.pedantic(cpu.wrap(run), setup=setup, rounds=PYHANKO_ROUNDS) == N_CHAINS_PYHANKO
    SESSION.record("pyhanko_cold_chains", benchmark, N_CHAINS_PYHANKO, cpu)
