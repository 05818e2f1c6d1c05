"""What session 24's review left open on one signer identifier matching several certificates:
a keyCompromise revocation told by OCSP (not a CRL) must condemn the key as the CRL one does,
and a signer none of whose candidates verifies must be reported the same whatever the bag's
order.

The attacker holds one validly signed document and reorders or extends its unsigned
certificate bag. Fixtures: tests/test_attack_s24b.py's ``Twice`` (one CA that certified one
key twice) and OCSP responses built with ``cryptography``, signed by that CA.
"""
from __future__ import annotations

import datetime as dt
import itertools

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp as c_ocsp

import cmsgen as G
import govsig
import pki as P
from test_attack_s24 import AT, CONTENT, _ski_sid_info
from test_attack_s24b import REVOKED_ON, Twice
from test_cms_quirks import _impostor

NEXT = AT + dt.timedelta(days=7)


def _ocsp(t: Twice, leaf: P.Issued, reason: x509.ReasonFlags | None) -> bytes:
    """The CA's own OCSP answer on ``leaf``: good when ``reason`` is None, else revoked on
    REVOKED_ON for that reason."""
    status = c_ocsp.OCSPCertStatus.GOOD if reason is None else c_ocsp.OCSPCertStatus.REVOKED
    b = c_ocsp.OCSPResponseBuilder().add_response(
        cert=leaf.cert, issuer=t.root.cert, algorithm=hashes.SHA1(), cert_status=status,
        this_update=AT - dt.timedelta(hours=1), next_update=NEXT,
        revocation_time=None if reason is None else REVOKED_ON, revocation_reason=reason)
    b = b.responder_id(c_ocsp.OCSPResponderEncoding.HASH, t.root.cert)
    return b.sign(t.root.key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)  # type: ignore[arg-type]


def _ocsp_verifier(t: Twice, responses: list[bytes]) -> govsig.Verifier:
    return govsig.Verifier(govsig.Policy(trust=[t.root.der], at=AT, ocsp_responses=responses,
                                         revocation_sources=("ocsp",), revocation="hard-fail"))


@pytest.fixture(scope="module")
def twice() -> Twice:
    return Twice("s25-ocsp")


def test_key_compromise_told_by_ocsp_condemns_the_key_in_every_order(twice) -> None:
    """A1 revoked for keyCompromise by OCSP, A2 (the same key) good by OCSP: a signature by
    that key after the compromise date stays cert_revoked whichever certificate the bag
    offers first, and whichever answer comes first."""
    revoked = _ocsp(twice, twice.a1, x509.ReasonFlags.key_compromise)
    good = _ocsp(twice, twice.a2, None)
    for answers in ([revoked, good], [good, revoked]):
        v = _ocsp_verifier(twice, answers)
        assert v.verify(twice.doc([twice.a2])).code == "ok"
        for bag in ([twice.a1, twice.a2], [twice.a2, twice.a1]):
            r = v.verify(twice.doc(bag))
            assert r.code == "cert_revoked", (bag.index(twice.a1), r.reason)
            assert "key_compromise" in r.reason, r.reason
            assert r.signers[0].certificate == twice.a1.der


def test_superseded_told_by_ocsp_lets_the_live_twin_verify(twice) -> None:
    """The benign case: A1 revoked as superseded (by OCSP), A2 good. The document is A2's,
    ok in both orders, with the ambiguity reported."""
    v = _ocsp_verifier(twice, [_ocsp(twice, twice.a1, x509.ReasonFlags.superseded),
                               _ocsp(twice, twice.a2, None)])
    assert v.verify(twice.doc([twice.a1])).code == "cert_revoked"
    for bag in ([twice.a1, twice.a2], [twice.a2, twice.a1]):
        r = v.verify(twice.doc(bag))
        assert r.code == "ok", r.reason
        assert r.signers[0].certificate == twice.a2.der
        assert r.signers[0].warnings == ["signer_identifier_ambiguous"]


def test_no_candidate_verifies_the_same_certificate_is_named_in_every_order(pki) -> None:
    """Three certificates under the signer's issuer and serial, none holding the key that
    signed: the code, the certificate named on the signer and the set of failures listed
    are the same in all six orders of the bag (before, the first in bag order was named)."""
    leaf = pki.rsa_leaf
    decoys = [_impostor(leaf, f"s25-none-{i}") for i in range(3)]
    forger = _impostor(leaf, "s25-none-forger")
    info = G.signer_info(CONTENT, leaf, sign_with=forger)
    v = govsig.Verifier(govsig.Policy(trust=[r.der for r in pki.roots], at=AT))
    seen = set()
    for bag in itertools.permutations(decoys):
        r = v.verify(G.signed_data([info], [*bag, pki.rsa_intermediate], econtent=G.octets(CONTENT)))
        assert r.code == "signature_invalid", r.reason
        assert "is ambiguous: it matches 3 certificates" in r.reason
        listed_text = r.reason.split("none verified the signature (", 1)[1].removesuffix(")")
        listed = frozenset(part.split(": ", 1)[1] for part in listed_text.split("; "))
        seen.add((r.signers[0].certificate, listed))
    assert len(seen) == 1, seen
    assert next(iter(seen))[0] in {d.der for d in decoys}


def test_no_candidate_verifies_by_ski_the_same_certificate_is_named_in_every_order() -> None:
    """The same with the signer named by subjectKeyIdentifier: two certificates carry the
    SKI, neither holds the signing key."""
    t = Twice("s25-ski")
    other = Twice("s25-ski-other")
    info = _ski_sid_info(CONTENT, t.a1, sign_with=other.a1)
    v = t.verifier()
    named = {v.verify(G.signed_data([info], bag, econtent=G.octets(CONTENT))).signers[0].certificate
             for bag in ([t.a1, t.a2], [t.a2, t.a1])}
    assert len(named) == 1
