"""`threads=` is bounded everywhere (issue 11, item 14): at most govsig.MAX_THREADS, a few per
core, with a ValueError naming the limit beyond it; the pools behind it are shared (see the
Rust test threads::tests::pools_are_capped_shared_and_released)."""
from __future__ import annotations

import os

import pytest

import govsig
import pki as P


def test_max_threads_is_a_few_per_core() -> None:
    cores = len(os.sched_getaffinity(0))
    assert govsig.MAX_THREADS == 4 * cores


def test_every_threads_argument_is_bounded(pki, tmp_path) -> None:
    too_many = govsig.MAX_THREADS + 1
    folder = tmp_path / "ho-so"
    folder.mkdir()
    (folder / "a.txt").write_bytes(b"a")
    signer = govsig.KeySigner(pki.p256_leaf.key, pki.p256_leaf.cert)
    sig = govsig.sign(b"x", signer)
    v = govsig.Verifier()
    calls = [
        lambda n: v.verify_many([(sig, None)], threads=n),
        lambda n: govsig.Dossier.hash(folder, threads=n),
        lambda n: govsig.sign_many([b"x"], signer, threads=n),
    ]
    for call in calls:
        with pytest.raises(ValueError, match=rf"threads={too_many} is more than govsig.MAX_THREADS={too_many - 1}"):
            call(too_many)
        with pytest.raises(ValueError, match="more than govsig.MAX_THREADS"):
            call(10**6)
        with pytest.raises(ValueError, match="positive int"):
            call(0)
        call(govsig.MAX_THREADS)


def test_a_verifier_cycling_through_thread_counts_keeps_working(pki) -> None:
    signer = govsig.KeySigner(pki.p256_leaf.key, pki.p256_leaf.cert)
    sigs = [(govsig.sign(b"doc %d" % i, signer, detached=False), None) for i in range(6)]
    v = govsig.Verifier(govsig.Policy(trust=[pki.p256_root.cert]))
    for n in range(1, govsig.MAX_THREADS + 1):
        assert [r.code for r in v.verify_many(sigs, threads=n)] == ["ok"] * 6
