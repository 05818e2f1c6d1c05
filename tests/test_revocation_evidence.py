"""The status of a certificate at a time from the *set* of its revocation evidence (issue 10).

Same PKI as test_bad_crls (root -> CA -> signer, P-256, validated at 2026-03-01, the root's
CRL for the CA always good). Covered here:

- order independence: every order of the CRLs (given by the policy, carried in the CMS, or
  split between both) and OCSP responses gives the same verdict, checked by a hypothesis
  property against an oracle that applies the rules of ``revocation::decide`` in Python;
- the attacks that motivated the issue (an older CRL or OCSP "good" before a newer revoking
  one), each in both orders;
- CRLs as Vietnamese CAs publish them (cRLIssuer equal to the issuer, no indirectCRL);
- a document stuffed with CRLs named after its CA and same-named CA certificates with
  RSA-4096 keys: refused by count or bounded by the path budget, never tried at length.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509 import ocsp as c_ocsp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import govsig
import pki
from test_bad_crls import (AT, CONTENT, REVOKED_ON, UTC, Pki, check_cert, crl, dn, good_root_crl, leaf_evidence,
                           leaf_revoked, sign, unknown_prefix, with_crls)

BASE = dt.datetime(2026, 2, 1, tzinfo=UTC)
NEXT = dt.datetime(2026, 4, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def p() -> Pki:
    return Pki()


def ocsp_response(p: Pki, status: str, this_update: dt.datetime) -> bytes:
    """The CA's own OCSP answer about the signer: "good", "revoked" (keyCompromise) or "hold"."""
    cert_status = c_ocsp.OCSPCertStatus.GOOD if status == "good" else c_ocsp.OCSPCertStatus.REVOKED
    reason = {"good": None, "revoked": x509.ReasonFlags.key_compromise,
              "hold": x509.ReasonFlags.certificate_hold}[status]
    b = c_ocsp.OCSPResponseBuilder().add_response(
        cert=p.leaf.cert, issuer=p.ca.cert, algorithm=hashes.SHA1(), cert_status=cert_status,
        this_update=this_update, next_update=NEXT,
        revocation_time=None if status == "good" else REVOKED_ON, revocation_reason=reason)
    b = b.responder_id(c_ocsp.OCSPResponderEncoding.HASH, p.ca.cert)
    return b.sign(p.ca.key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)  # type: ignore[arg-type]


def verify(p: Pki, policy_crls: Sequence[bytes], carried: Sequence[bytes] = (), ocsp: Sequence[bytes] = (),
           mode: str = "hard-fail") -> govsig.VerifyResult:
    v = govsig.Verifier(govsig.Policy(trust=[p.root.der], at=AT, crls=[*policy_crls, good_root_crl(p)],
                                      ocsp_responses=list(ocsp), revocation=mode))
    cms = sign(p)
    if carried:
        cms = with_crls(cms, carried)
    return v.verify(cms, CONTENT)


def revoked_reason(p: Pki, by: str) -> str:
    return f"{p.describe(p.leaf)} was revoked on 2026-01-10T00:00:00Z (key_compromise) according to {by}"


# --------------------------------------------------------------------------------------------
# The attacks of the issue, in both orders
# --------------------------------------------------------------------------------------------

def test_newer_crl_listing_the_signer_wins_in_either_order_and_source(p: Pki) -> None:
    older = crl(p.ca, number=1, this_update=BASE)
    newer = crl(p.ca, leaf_revoked(p), number=2, this_update=BASE + dt.timedelta(days=7))
    want = revoked_reason(p, f"CRL #2 of '{dn(p.ca.cert.subject)}'")
    for crls in ([older, newer], [newer, older]):
        r = check_cert(p, [*crls, good_root_crl(p)], "hard-fail")
        assert (r.code, r.reason) == ("cert_revoked", want)
        assert check_cert(p, [*crls, good_root_crl(p)], "soft-fail").code == "cert_revoked"
    # The policy holds the older CRL, the SignedData carries the newer one (and the reverse).
    for policy_crls, carried in (([older], [newer]), ([newer], [older])):
        res = verify(p, policy_crls, carried)
        assert res.code == "cert_revoked" and want in res.reason, res.reason


def test_an_older_revoking_crl_is_not_outvoted_by_a_newer_good_one(p: Pki) -> None:
    older = crl(p.ca, leaf_revoked(p), number=1, this_update=BASE)
    newer = crl(p.ca, number=2, this_update=BASE + dt.timedelta(days=7))
    for crls in ([older, newer], [newer, older]):
        r = check_cert(p, [*crls, good_root_crl(p)], "hard-fail")
        assert (r.code, r.reason) == ("cert_revoked", revoked_reason(p, f"CRL #1 of '{dn(p.ca.cert.subject)}'"))


def test_older_ocsp_good_before_a_newer_revoked_answer(p: Pki) -> None:
    good = ocsp_response(p, "good", BASE)
    revoked = ocsp_response(p, "revoked", BASE + dt.timedelta(days=3))
    for answers in ([good, revoked], [revoked, good]):
        for sources in (("ocsp", "crl"), ("crl", "ocsp")):
            v = govsig.Verifier(govsig.Policy(trust=[p.root.der], at=AT, crls=[good_root_crl(p)],
                                              ocsp_responses=answers, revocation="hard-fail",
                                              revocation_sources=sources))
            r = v.verify_certificate(p.leaf.der, [p.ca.der])
            assert r.code == "cert_revoked", r.reason
            assert r.reason.startswith(f"{p.describe(p.leaf)} was revoked on 2026-01-10T00:00:00Z (key_compromise) "
                                       f"according to an OCSP response signed by its issuer {p.describe(p.ca)}"), r.reason
            assert "(producedAt " in r.reason


def test_ocsp_revoked_beats_a_good_crl_and_names_the_crl_when_crl_decides_good(p: Pki) -> None:
    good_crl = crl(p.ca, number=3)
    r = check_cert(p, [good_crl, good_root_crl(p)], "hard-fail")
    e = leaf_evidence(r.revocation, p)
    assert (r.code, e["source"], e["crl_number"]) == ("ok", "crl", 3)
    v = govsig.Verifier(govsig.Policy(trust=[p.root.der], at=AT, crls=[good_crl, good_root_crl(p)],
                                      ocsp_responses=[ocsp_response(p, "revoked", BASE)], revocation="soft-fail",
                                      revocation_sources=("crl", "ocsp")))
    assert v.verify_certificate(p.leaf.der, [p.ca.der]).code == "cert_revoked"


def test_unsuccessful_ocsp_response_is_refused_evidence_not_an_exception(p: Pki) -> None:
    try_later = c_ocsp.OCSPResponseBuilder.build_unsuccessful(c_ocsp.OCSPResponseStatus.TRY_LATER)
    der = try_later.public_bytes(serialization.Encoding.DER)
    v = govsig.Verifier(govsig.Policy(trust=[p.root.der], at=AT, crls=[good_root_crl(p)], ocsp_responses=[der],
                                      revocation="hard-fail"))
    r = v.verify_certificate(p.leaf.der, [p.ca.der])
    assert r.code == "revocation_unknown"
    assert ("OCSP: an OCSP response was refused: the OCSP responder answered tryLater (responseStatus 3) "
            "instead of a status") in r.reason, r.reason
    with pytest.raises(ValueError, match=r"^ocsp_responses\[1\] is not an OCSP response: not a DER OCSPResponse"):
        govsig.Policy(trust=[p.root.der], ocsp_responses=[der, b"\x30\x03\x02\x01\x05"])


# --------------------------------------------------------------------------------------------
# Order independence, by property
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Evidence:
    kind: str          # "crl", "ocsp" or "forged" (a CRL signed by an impostor key)
    status: str        # "absent"/"good", "revoked", "hold"
    number: int        # cRLNumber (CRLs)
    this_update: dt.datetime
    der: bytes


def _pool(p: Pki) -> list[Evidence]:
    out: list[Evidence] = []
    reasons = {"absent": None, "revoked": x509.ReasonFlags.key_compromise, "hold": x509.ReasonFlags.certificate_hold}
    for n in range(1, 5):
        t = BASE + dt.timedelta(days=n)
        for status, reason in reasons.items():
            revoked = [] if reason is None else [(p.leaf.cert.serial_number, reason)]
            out.append(Evidence("crl", status, n, t, crl(p.ca, revoked, number=n, this_update=t)))
    out.append(Evidence("forged", "revoked", 9, BASE, crl(p.ca, leaf_revoked(p), number=9,
                                                          signing_key=p.impostor_key)))
    for k in range(1, 4):
        # Half a day apart from the CRLs, so that "newer" across kinds is never a tie.
        t = BASE + dt.timedelta(days=k, hours=12)
        for status in ("good", "revoked", "hold"):
            out.append(Evidence("ocsp", status, 0, t, ocsp_response(p, status, t)))
    return out


_POOL: dict[int, list[Evidence]] = {}


def pool(p: Pki) -> list[Evidence]:
    return _POOL.setdefault(id(p), _pool(p))


def oracle(items: Sequence[Evidence]) -> str:
    """The rules of revocation::decide, for this PKI's evidence (one CRL scope)."""
    valid = [e for e in items if e.kind != "forged"]
    if any(e.status == "revoked" for e in valid):
        return "cert_revoked"

    def newer(g: Evidence, h: Evidence) -> bool:
        if g.kind == h.kind == "crl":
            return (g.number, g.this_update) > (h.number, h.this_update)
        return g.this_update > h.this_update

    for h in (e for e in valid if e.status == "hold"):
        if not any(g.status in ("absent", "good") and newer(g, h) for g in valid):
            return "cert_on_hold"
    return "ok" if valid else "revocation_unknown"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_every_order_of_the_evidence_gives_the_oracles_verdict(p: Pki, data: st.DataObject) -> None:
    items = data.draw(st.lists(st.sampled_from(pool(p)), min_size=1, max_size=6, unique=True), label="evidence")
    want = oracle(items)
    path_verdicts, document_verdicts = set(), set()
    for _ in range(3):
        order = data.draw(st.permutations(items), label="order")
        crls = [e.der for e in order if e.kind != "ocsp"]
        ocsp = [e.der for e in order if e.kind == "ocsp"]
        carried_mask = data.draw(st.lists(st.booleans(), min_size=len(crls), max_size=len(crls)), label="carried")
        carried = [c for c, m in zip(crls, carried_mask) if m]
        given_crls = [c for c, m in zip(crls, carried_mask) if not m]
        v = govsig.Verifier(govsig.Policy(trust=[p.root.der], at=AT, crls=[*crls, good_root_crl(p)],
                                          ocsp_responses=ocsp, revocation="hard-fail"))
        r = v.verify_certificate(p.leaf.der, [p.ca.der])
        assert r.code == want, (r.code, want, [(e.kind, e.status, e.number) for e in order], r.reason)
        path_verdicts.add((r.code, r.reason))
        res = verify(p, given_crls, carried, ocsp)
        assert res.code == want, (res.code, want, res.reason)
        document_verdicts.add((res.code, res.reason))
    # Same code and the same reason (the same deciding evidence named) in every order.
    assert len(path_verdicts) == 1 and len(document_verdicts) == 1, (path_verdicts, document_verdicts)


# --------------------------------------------------------------------------------------------
# Vietnamese CAs: cRLIssuer equal to the certificate's issuer, no indirectCRL flag
# --------------------------------------------------------------------------------------------

def test_crl_issuer_equal_to_the_issuer_is_a_direct_crl(p: Pki) -> None:
    """The cRLDistributionPoints of BKAV, Viettel, FastCA and VNPT SmartCA certificates name
    the issuing CA itself as cRLIssuer; their CRLs carry no issuingDistributionPoint. Read to
    the letter of RFC 5280 §6.3.3 (b)(1) no such CRL matches; govsig (like OpenSSL) takes
    it as the direct CRL it is."""
    dp = x509.DistributionPoint(
        full_name=[x509.UniformResourceIdentifier("http://crl.example.vn/ca.crl")], relative_name=None,
        reasons=None, crl_issuer=[x509.DirectoryName(p.ca.cert.subject)])
    leaf = pki.make_leaf("Trần Văn Nam", p.ca, "p256", seed="vn|crlissuer",
                         extra_extensions=[(x509.CRLDistributionPoints([dp]), False)])
    revoking = crl(p.ca, [(leaf.cert.serial_number, x509.ReasonFlags.key_compromise)], number=4)
    v = govsig.Verifier(govsig.Policy(trust=[p.root.der], at=AT, crls=[revoking, good_root_crl(p)]))
    r = v.verify_certificate(leaf.der, [p.ca.der])
    h = format(leaf.cert.serial_number, "x")
    assert r.code == "cert_revoked"
    assert r.reason == (f"'{dn(leaf.cert.subject)}' (serial {h.zfill(len(h) + len(h) % 2)}) was revoked on "
                        f"2026-01-10T00:00:00Z (key_compromise) according to CRL #4 of '{dn(p.ca.cert.subject)}'")
    good = govsig.Verifier(govsig.Policy(trust=[p.root.der], at=AT, crls=[crl(p.ca, number=4), good_root_crl(p)],
                                         revocation="hard-fail")).verify_certificate(leaf.der, [p.ca.der])
    assert (good.code, good.reason) == ("ok", "")


# --------------------------------------------------------------------------------------------
# Stuffed documents
# --------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def big_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=4096)


def same_named_cas(p: Pki, key: rsa.RSAPrivateKey, n: int) -> list[bytes]:
    """``n`` CA certificates named like the signer's CA (cRLSign, RSA-4096), signed by nobody
    the verifier trusts (the root's key would be needed: they carry their own signature)."""
    out = []
    for i in range(n):
        b = (x509.CertificateBuilder().subject_name(p.ca.cert.subject).issuer_name(p.root.cert.subject)
             .public_key(key.public_key()).serial_number(0x5700 + i)
             .not_valid_before(dt.datetime(2025, 1, 1, tzinfo=UTC)).not_valid_after(dt.datetime(2030, 1, 1, tzinfo=UTC))
             .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
             .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                          data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                          crl_sign=True, encipher_only=False, decipher_only=False), critical=True))
        out.append(b.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.DER))
    return out


def with_certs_and_crls(p: Pki, certs: Sequence[bytes], crls: Sequence[bytes]) -> bytes:
    from asn1crypto import cms as a_cms
    from crlgen import tlv
    ci = a_cms.ContentInfo.load(sign(p))
    sd = ci["content"]
    bag = b"".join([c.dump() for c in sd["certificates"]] + list(certs))
    parts = [sd["version"].dump(), sd["digest_algorithms"].dump(), sd["encap_content_info"].dump(),
             tlv(0xA0, bag), tlv(0xA1, b"".join(crls)), sd["signer_infos"].dump()]
    return tlv(0x30, ci["content_type"].dump() + tlv(0xA0, tlv(0x30, b"".join(parts))))


def fake_crls(p: Pki, n: int) -> list[bytes]:
    """CRLs named after the CA, each revoking the signer, signed with the impostor's key."""
    return [crl(p.ca, leaf_revoked(p), number=100 + i, signing_key=p.impostor_key) for i in range(n)]


def test_document_with_too_many_crls_or_certificates_is_refused_untried(p: Pki, big_key: rsa.RSAPrivateKey) -> None:
    v = govsig.Verifier(govsig.Policy(trust=[p.root.der], at=AT, crls=[crl(p.ca), good_root_crl(p)]))
    r = v.verify(with_certs_and_crls(p, [], fake_crls(p, 300)), CONTENT)
    assert r.code == "budget_exceeded"
    assert r.reason == ("the SignedData carries 300 CRL(s) and 2 certificate(s); govsig examines at most 64 CRLs "
                        "and 256 certificates per document"), r.reason
    r = v.verify(with_certs_and_crls(p, same_named_cas(p, big_key, 300), []), CONTENT)
    assert r.code == "budget_exceeded"
    assert r.reason.startswith("the SignedData carries 0 CRL(s) and 302 certificate(s)"), r.reason


def test_stuffed_document_within_the_counts_is_bounded_by_the_budget(p: Pki, big_key: rsa.RSAPrivateKey) -> None:
    """60 fake CRLs and 200 same-named RSA-4096 CA certificates: each fake CRL would be tried
    against every candidate signer (12,000 RSA-4096 checks). The path's budget of 64 CRL
    signature checks stops it, whatever the cache holds; a second run is refused alike."""
    v = govsig.Verifier(govsig.Policy(trust=[p.root.der], at=AT, crls=[crl(p.ca), good_root_crl(p)]))
    stuffed = with_certs_and_crls(p, same_named_cas(p, big_key, 200), fake_crls(p, 60))
    for _ in range(2):
        r = v.verify(stuffed, CONTENT)
        assert r.code == "budget_exceeded"
        assert f"revocation checking for {p.describe(p.leaf)} exceeded 64 CRL signature checks" in r.reason, r.reason
    # A budget large enough for the honest work alone still refuses the stuffing: the count
    # is what bounds it.
    small = govsig.Verifier(govsig.Policy(trust=[p.root.der], at=AT, crls=[crl(p.ca), good_root_crl(p)],
                                          max_signature_checks=8))
    r = small.verify(with_certs_and_crls(p, same_named_cas(p, big_key, 20), fake_crls(p, 5)), CONTENT)
    assert r.code == "budget_exceeded" and "exceeded 8 CRL signature checks" in r.reason, r.reason
    # The same document without the stuffing is fine.
    assert v.verify(sign(p), CONTENT).code == "ok"


def test_good_names_the_newest_crl_and_refused_evidence_in_every_order(p: Pki) -> None:
    older, newer = crl(p.ca, number=1, this_update=BASE), crl(p.ca, number=2, this_update=BASE + dt.timedelta(days=1))
    forged = crl(p.ca, leaf_revoked(p), number=3, signing_key=p.impostor_key)
    seen = set()
    for crls in ([older, newer, forged], [forged, newer, older], [newer, forged, older]):
        r = check_cert(p, [*crls, good_root_crl(p)], "hard-fail")
        assert (r.code, r.reason) == ("ok", "")
        e = leaf_evidence(r.revocation, p)
        assert (e["status"], e["source"], e["crl_number"]) == ("good", "crl", 2)
        assert e["refused"] == [f"CRL #3 of '{dn(p.ca.cert.subject)}' cannot be used: signature of CRL #3 of "
                                f"'{dn(p.ca.cert.subject)}' does not verify: signature does not verify"], e["refused"]
        seen.add((e["crl_fingerprint"], tuple(e["refused"])))
    assert len(seen) == 1


def test_ocsp_good_names_the_responder_and_produced_at(p: Pki) -> None:
    v = govsig.Verifier(govsig.Policy(trust=[p.root.der], at=AT, crls=[good_root_crl(p)], revocation="hard-fail",
                                      ocsp_responses=[ocsp_response(p, "good", BASE)]))
    e = leaf_evidence(v.verify_certificate(p.leaf.der, [p.ca.der]).revocation, p)
    assert (e["status"], e["source"], e["ocsp_responder"]) == ("good", "ocsp", dn(p.ca.cert.subject))
    assert isinstance(e["ocsp_produced_at"], dt.datetime)
