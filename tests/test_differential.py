"""Differential: on a generated corpus, govsig's verdict equals an independent reference
(asn1crypto + cryptography, tests/reference_verifier.py)."""
from __future__ import annotations

import datetime as dt
import random

import govsig
import pki as P
from reference_verifier import reference_verify

AT = dt.datetime(2026, 6, 1, tzinfo=dt.timezone.utc)


def _corpus(pki):
    rng = random.Random(20261121)
    leaves = [pki.rsa_leaf, pki.rsa3072_leaf, pki.p256_leaf, pki.p384_leaf, pki.p521_leaf,
              pki.expired_leaf, pki.not_yet_valid_leaf]
    out = []
    for i in range(160):
        leaf = rng.choice(leaves)
        content = f"Hồ sơ số {i}: ".encode() + rng.randbytes(rng.randint(1, 600))
        detached = rng.random() < 0.5
        attrs = rng.random() < 0.8
        sig = P.sign_cms(content, leaf, detached=detached, attrs=attrs,
                         engine="native", include_chain=rng.random() < 0.9)
        given = content if detached else None
        kind = rng.random()
        if kind < 0.15:
            given = P.tamper_content(content) if detached else None
            if not detached:
                sig = P.tamper_encapsulated(sig) if len(content) >= 24 else P.tamper_signature(sig)
        elif kind < 0.3:
            sig = P.tamper_signature(sig)
        out.append((sig, given))
    return out


def test_verdicts_match_reference(pki):
    roots = [r.cert for r in pki.roots]
    v = govsig.Verifier(govsig.Policy(trust=[r.der for r in pki.roots], at=AT))
    corpus = _corpus(pki)
    batch = v.verify_many(corpus, threads=2)
    disagreements = []
    for i, (sig, content) in enumerate(corpus):
        ours = bool(batch.ok[i])
        theirs = reference_verify(sig, content, roots, AT)
        if ours != theirs:
            disagreements.append((i, batch[i].code, batch[i].reason, theirs))
    oks = int(batch.ok.sum())
    assert 20 < oks < len(corpus) - 20, "the corpus should mix valid and invalid documents"
    assert not disagreements, disagreements
