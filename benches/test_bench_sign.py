"""Signing benches of the signing issue, each beside its peer in the same run:

1. Bulk signing of 2 KiB documents through SoftHSM2 with an RSA-2048 key generated on the
   token: ``govsig.sign_many`` with a 2-session pool against the same with 1 session (target
   >= 1.6x: the pool lets the token sign on both cores), and against python-pkcs11 signing the
   same documents one after another (``key.sign`` with CKM_SHA256_RSA_PKCS, raw signatures
   with no CMS around them; target >= 1.3x).
2. Bulk signing of 2 KiB documents with a software key: ``govsig.sign_many`` on 2 threads
   against pyca/cryptography's ``PKCS7SignatureBuilder`` in a loop (detached, DER): ECDSA
   P-256 target >= 3x, RSA-2048 target >= 1.7x.

Every bench checks its output (each govsig signature verifies; the peers' outputs are
checked too). Counts shrink with GOVSIG_BENCH_SCALE; ratios are printed by conftest.py.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.serialization import pkcs7

import govsig
import pki
from _common import KIB, SESSION, THREADS, CpuClock, Measurement, Ratio, document_content, scaled
from govsig import pkcs11 as govsig_pkcs11
from softhsm import USER_PIN, SoftHsm

N_TOKEN = scaled(600)
N_SOFT = scaled(3000)
ROUNDS = 5
PEER_ROUNDS = 3
TOKEN = "bench"


def _per_s(ms: dict, name: str) -> float:
    return ms[name].per_second


def _ratio(name: str, ours: str, peer: str, target: float, what: str) -> Ratio:
    return Ratio(
        name=name, needs=(ours, peer),
        compute=lambda ms: _per_s(ms, ours) / _per_s(ms, peer),
        target=target,
        explain=lambda ms: (f"{what}: govsig {_per_s(ms, ours):,.0f}/s, "
                            f"peer {_per_s(ms, peer):,.0f}/s ({ms[ours].units} documents of 2 KiB)"))


SESSION.add_ratio(_ratio("sign_token_2_sessions_vs_1", "govsig_sign_token_2_sessions",
                         "govsig_sign_token_1_session", 1.6,
                         "SoftHSM2 RSA-2048, sign_many with a 2-session pool vs 1 session"))
SESSION.add_ratio(_ratio("sign_token_vs_python_pkcs11", "govsig_sign_token_2_sessions",
                         "python_pkcs11_sequential", 1.3,
                         "SoftHSM2 RSA-2048, govsig CMS on 2 sessions vs python-pkcs11 raw "
                         "signatures one by one"))
SESSION.add_ratio(_ratio("sign_many_p256_vs_cryptography", "govsig_sign_many_p256",
                         "cryptography_pkcs7_p256", 3.0,
                         f"ECDSA P-256, sign_many on {THREADS} threads vs PKCS7SignatureBuilder loop"))
SESSION.add_ratio(_ratio("sign_many_rsa_vs_cryptography", "govsig_sign_many_rsa",
                         "cryptography_pkcs7_rsa", 1.7,
                         f"RSA-2048, sign_many on {THREADS} threads vs PKCS7SignatureBuilder loop"))


@pytest.fixture(scope="module")
def ca() -> pki.Issued:
    return pki.make_root("Bench signing CA", "p256")


@pytest.fixture(scope="module")
def docs() -> list[bytes]:
    return [document_content(i, 2 * KIB) for i in range(max(N_TOKEN, N_SOFT))]


@pytest.fixture(scope="module")
def hsm(ca: pki.Issued, tmp_path_factory: pytest.TempPathFactory) -> SoftHsm:
    h = SoftHsm(tmp_path_factory.mktemp("bench-softhsm"))
    h.init_token(TOKEN)
    h.add_key(TOKEN, "rsa:2048", "rsa-key", "01", ca)
    return h


def _verify_all(sigs: list[bytes], docs: list[bytes], root: pki.Issued) -> None:
    batch = govsig.Verifier(govsig.Policy(trust=[root.cert])).verify_many(zip(sigs, docs))
    assert batch.counts() == {"ok": len(docs)}, batch.counts()


# --------------------------------------------------------------------------------------------
# 1. Through the token. python-pkcs11 runs in a child process: it initialises the library
#    without CKF_OS_LOCKING_OK, and PKCS#11 state is per process, so sharing this process
#    would make govsig sign one signature at a time (see govsig-pkcs11's module.rs) and
#    measure that instead of its session pool.
# --------------------------------------------------------------------------------------------

PEER = r"""
import hashlib, json, os, statistics, sys, time
import pkcs11
module, label, n, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
docs = [hashlib.shake_256(f"govsig-bench|content|2048|{i}".encode()).digest(2048) for i in range(n)]
lib = pkcs11.lib(module)
with lib.get_token(token_label=label).open(user_pin=os.environ["BENCH_PIN"]) as session:
    key = session.get_key(object_class=pkcs11.ObjectClass.PRIVATE_KEY, label="rsa-key")
    walls, cpus, sigs = [], [], []
    for r in range(rounds + 1):  # the first round warms up
        w, c = time.perf_counter(), time.process_time()
        sigs = [key.sign(d, mechanism=pkcs11.Mechanism.SHA256_RSA_PKCS) for d in docs]
        if r:
            walls.append(time.perf_counter() - w)
            cpus.append(time.process_time() - c)
print(json.dumps({"median": statistics.median(walls), "cpu": statistics.median(cpus),
                  "sample": [s.hex() for s in sigs[:20]]}))
"""


def test_python_pkcs11_sequential(hsm: SoftHsm, docs: list[bytes]) -> None:
    items = docs[:N_TOKEN]
    env = {**hsm.env, "BENCH_PIN": USER_PIN}
    proc = subprocess.run([sys.executable, "-c", PEER, hsm.module, TOKEN, str(len(items)), str(PEER_ROUNDS)],
                          env=env, capture_output=True, timeout=3600)
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    out = json.loads(proc.stdout)
    public = hsm.certificates[(TOKEN, "rsa-key")].public_key()
    for d, s in zip(items, out["sample"]):
        public.verify(bytes.fromhex(s), d, padding.PKCS1v15(), hashes.SHA256())  # type: ignore[union-attr]
    SESSION.measurements["python_pkcs11_sequential"] = Measurement(
        "python_pkcs11_sequential", out["median"], len(items), out["cpu"])
    print(f"\npython-pkcs11 sequential: {len(items) / out['median']:,.0f} signatures/s (median of {PEER_ROUNDS})")


@pytest.fixture(scope="module")
def token(hsm: SoftHsm):
    with govsig_pkcs11.Token.open(hsm.module, token_label=TOKEN, pin=USER_PIN) as tok:
        yield tok


@pytest.mark.benchmark(group="sign through SoftHSM2 RSA-2048")
@pytest.mark.parametrize("sessions", [1, 2], ids=lambda s: f"sessions={s}")
def test_govsig_sign_many_token(benchmark, token, ca: pki.Issued, docs: list[bytes], sessions: int) -> None:
    items = docs[:N_TOKEN]
    signer = token.signer(key_label="rsa-key", sessions=sessions)
    cpu = CpuClock()
    sigs = benchmark.pedantic(cpu.wrap(lambda: govsig.sign_many(items, signer)),
                              rounds=ROUNDS, warmup_rounds=1)
    _verify_all(sigs, items, ca)
    name = "govsig_sign_token_1_session" if sessions == 1 else "govsig_sign_token_2_sessions"
    SESSION.record(name, benchmark, len(items), cpu)


# --------------------------------------------------------------------------------------------
# 2. Software keys
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def leaves(ca: pki.Issued) -> dict[str, pki.Issued]:
    return {"p256": pki.make_leaf("Bench signer P-256", ca, "p256"),
            "rsa": pki.make_leaf("Bench signer RSA", ca, "rsa2048")}


@pytest.mark.benchmark(group="sign 2 KiB, software key")
@pytest.mark.parametrize("kind", ["p256", "rsa"])
def test_govsig_sign_many_software(benchmark, leaves, ca, docs: list[bytes], kind: str) -> None:
    leaf = leaves[kind]
    items = docs[:N_SOFT]
    signer = govsig.KeySigner(leaf.key, leaf.cert)
    cpu = CpuClock()
    sigs = benchmark.pedantic(cpu.wrap(lambda: govsig.sign_many(items, signer, threads=THREADS)),
                              rounds=ROUNDS, warmup_rounds=1)
    _verify_all(sigs, items, ca)
    SESSION.record(f"govsig_sign_many_{kind}", benchmark, len(items), cpu)


@pytest.mark.benchmark(group="sign 2 KiB, software key")
@pytest.mark.parametrize("kind", ["p256", "rsa"])
def test_cryptography_pkcs7_loop(benchmark, leaves, ca, docs: list[bytes], kind: str) -> None:
    leaf = leaves[kind]
    items = docs[:N_SOFT]
    options = [pkcs7.PKCS7Options.DetachedSignature, pkcs7.PKCS7Options.Binary]

    def run() -> list[bytes]:
        return [pkcs7.PKCS7SignatureBuilder().set_data(d).add_signer(leaf.cert, leaf.key, hashes.SHA256())
                .sign(serialization.Encoding.DER, options) for d in items]

    cpu = CpuClock()
    sigs = benchmark.pedantic(cpu.wrap(run), rounds=PEER_ROUNDS, warmup_rounds=1)
    # The peer's output is right too (checked on a sample: govsig's verifier is fast enough to
    # check all, but the sample keeps the bench about the signing).
    _verify_all(sigs[:50], items[:50], ca)
    SESSION.record(f"cryptography_pkcs7_{kind}", benchmark, len(items), cpu)


def test_release_build_measured() -> None:
    """The bench session refuses debug builds (conftest); this records the build measured."""
    SESSION.note(f"govsig {govsig.__version__} {govsig.BUILD_PROFILE}, measured "
                 f"{dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC")
