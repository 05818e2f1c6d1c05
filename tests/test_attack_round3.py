"""Attack pass, round 3: the attacker holds one valid signed document (CMS or PDF) and controls
everything unsigned around it — the CMS certificate set, the time-stamp token's certificate
set, the PDF's DSS, field names and text, file names — and a long-lived Verifier whose cached
verdicts meet evidence that changes over simulated time.

Each section names the attack; the oracle is either a fixed expectation or a fresh Verifier
at the same simulated moment.
"""
from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path

import pytest
from asn1crypto import cms as a_cms
from asn1crypto import x509 as a_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

import archive_decade as ad
import govsig
import pki as P
from tsa_server import Tsa, make_tsa_certificate

UTC = dt.timezone.utc
DAY = dt.timedelta(days=1)
CONTENT = "Quyết định số 77/QĐ-UBND về tấn công lần 3".encode()


def now() -> dt.datetime:
    return dt.datetime.now(UTC).replace(microsecond=0)


def crl(issuer: P.Issued, revoked: list[tuple[int, dt.datetime]], *, this_update: dt.datetime,
        next_update: dt.datetime, number: int = 1) -> bytes:
    b = (x509.CertificateRevocationListBuilder().issuer_name(issuer.cert.subject)
         .last_update(this_update).next_update(next_update)
         .add_extension(x509.CRLNumber(number), critical=False))
    for serial, when in revoked:
        b = b.add_revoked_certificate(x509.RevokedCertificateBuilder().serial_number(serial)
                                      .revocation_date(when).build())
    return b.sign(issuer.key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def with_token_certs(token: bytes, extra: list[P.Issued]) -> bytes:
    """``token`` with ``extra`` appended to its (unsigned) certificate set."""
    ci = a_cms.ContentInfo.load(token)
    sd = ci["content"]
    certs = list(sd["certificates"]) if sd["certificates"].native is not None else []
    certs += [a_cms.CertificateChoices(name="certificate", value=a_x509.Certificate.load(c.der)) for c in extra]
    sd["certificates"] = a_cms.CertificateSet(certs)
    return bytes(ci.dump(force=True))


# --- 5. a second path to another anchor through unsigned certificates ---------------------------


class Anchors:
    """A document PKI and a TSA PKI, plus cross-certificates (same subject and key as a CA of
    one, issued by the root of the other) an attacker may put in any unsigned certificate set."""

    def __init__(self, tmp: Path, openssl: str) -> None:
        self.doc_root = P.make_root("Gốc văn bản R3", seed="r3-doc-root")
        self.doc_ca = P.make_intermediate("CA văn bản R3", self.doc_root, seed="r3-doc-ca")
        self.leaf = P.make_leaf("Người ký R3", self.doc_ca, seed="r3-leaf")
        self.tsa_root = P.make_root("Gốc TSA R3", seed="r3-tsa-root")
        self.tsa_ca = P.make_intermediate("CA TSA R3", self.tsa_root, seed="r3-tsa-ca")
        self.other_root = P.make_root("Gốc khác R3", seed="r3-other-root")
        # The document CA's key and name, certified by the TSA root; and the reverse.
        self.doc_ca_by_tsa_root = P.make_intermediate("CA văn bản R3", self.tsa_root, seed="r3-doc-ca")
        self.tsa_ca_by_doc_root = P.make_intermediate("CA TSA R3", self.doc_root, seed="r3-tsa-ca")
        # A TSA under the TSA CA, and one the document CA issued (a CA issuing both roles).
        self.tsa = Tsa(tmp / "tsa", openssl, signer=make_tsa_certificate("TSA R3", self.tsa_ca))
        self.doc_ca_tsa = Tsa(tmp / "tsa-doc", openssl,
                              signer=make_tsa_certificate("TSA của CA văn bản R3", self.doc_ca))
        # A signer under the TSA CA (a CA issuing both roles, on the TSA side).
        self.tsa_side_leaf = P.make_leaf("Người ký phía TSA R3", self.tsa_ca, seed="r3-tsa-side-leaf")

    def sign(self, leaf: P.Issued | None = None, **kw: object) -> bytes:
        return P.sign_cms(CONTENT, leaf or self.leaf, **kw)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def anchors(openssl: str, tmp_path_factory: pytest.TempPathFactory) -> Anchors:
    return Anchors(tmp_path_factory.mktemp("r3-anchors"), openssl)


def code_of(policy: govsig.Policy, sig: bytes) -> str:
    return govsig.Verifier(policy).verify(sig, CONTENT).code


def test_signer_never_validates_against_a_tsa_only_anchor(anchors: Anchors) -> None:
    a = anchors
    # Only the cross path reaches an anchor, and that anchor is trusted for TSAs only.
    sig = a.sign(include_chain=False, extra_certs=[a.doc_ca_by_tsa_root])
    for st in ("at", "timestamp"):
        pol = govsig.Policy(trust=[a.other_root.der], tsa_trust=[a.tsa_root.der], signature_time=st)
        assert code_of(pol, sig) == "chain_untrusted", st
    # Both CAs in the bag, the document root not trusted: the TSA root still does not count.
    sig = a.sign(extra_certs=[a.doc_ca_by_tsa_root])
    pol = govsig.Policy(trust=[a.other_root.der], tsa_trust=[a.tsa_root.der])
    assert code_of(pol, sig) == "chain_untrusted"
    # With the document root trusted, the document path is found whatever the bag's order.
    for extra in ([a.doc_ca_by_tsa_root], [a.doc_ca_by_tsa_root, a.doc_ca]):
        sig = a.sign(include_chain=False, extra_certs=extra)
        pol = govsig.Policy(trust=[a.doc_root.der], tsa_trust=[a.tsa_root.der])
        r = govsig.Verifier(pol).verify(sig, CONTENT)
        if a.doc_ca in extra:
            assert r.code == "ok"
            assert r.signers[0].chain[-1] == a.doc_root.der
        else:
            assert r.code == "chain_untrusted"


def test_tsa_never_validates_against_a_document_only_anchor(anchors: Anchors) -> None:
    a = anchors
    bare = a.sign()
    token = a.tsa.stamp(ad.signature_value(bare))
    pol = govsig.Policy(trust=[a.doc_root.der], tsa_trust=[a.other_root.der], signature_time="timestamp")
    # The TSA CA cross-certified by the document root: in the token's certificate set, or in
    # the outer certificate set, or both.
    crossed_token = with_token_certs(token, [a.tsa_ca_by_doc_root])
    outer = a.sign(extra_certs=[a.tsa_ca_by_doc_root])
    outer_token = a.tsa.stamp(ad.signature_value(outer))
    cases = {
        "token bag": ad.with_tokens(bare, [crossed_token]),
        "outer bag": ad.with_tokens(outer, [outer_token]),
        "both": ad.with_tokens(outer, [with_token_certs(outer_token, [a.tsa_ca_by_doc_root])]),
    }
    for name, sig in cases.items():
        s = govsig.Verifier(pol).verify(sig, CONTENT).signers[0]
        assert (s.code, s.signature_time_source) == ("ok", "at"), name
        assert s.timestamps[0].code == "timestamp_untrusted", name
    # The same token under a policy trusting the TSA root is good: the token itself is sound.
    good = govsig.Policy(trust=[a.doc_root.der], tsa_trust=[a.tsa_root.der], signature_time="timestamp")
    s = govsig.Verifier(good).verify(cases["both"], CONTENT).signers[0]
    assert (s.signature_time_source, s.timestamps[0].code) == ("timestamp", "ok")


def test_a_cached_path_never_carries_over_between_roles(anchors: Anchors) -> None:
    """One Verifier, one CA issuing both roles: the path cached for one role must not answer
    for the other."""
    a = anchors
    pol = govsig.Policy(trust=[a.doc_root.der], tsa_trust=[a.tsa_root.der], signature_time="timestamp")
    # The document CA's path is cached (ok), then a TSA it issued stamps: untrusted.
    v = govsig.Verifier(pol)
    assert v.verify(a.sign(), CONTENT).code == "ok"
    bare = a.sign()
    stamped = ad.with_tokens(bare, [a.doc_ca_tsa.stamp(ad.signature_value(bare))])
    s = v.verify(stamped, CONTENT).signers[0]
    assert (s.timestamps[0].code, s.signature_time_source) == ("timestamp_untrusted", "at")
    assert [x.signers[0].timestamps[0].code for x in [govsig.Verifier(pol).verify(stamped, CONTENT)]] == \
        ["timestamp_untrusted"]
    # The TSA CA's path is cached (ok token), then a signer it issued: untrusted.
    v = govsig.Verifier(pol)
    good = ad.with_tokens(bare, [a.tsa.stamp(ad.signature_value(bare))])
    assert v.verify(good, CONTENT).signers[0].timestamps[0].code == "ok"
    side = a.sign(a.tsa_side_leaf)
    assert v.verify(side, CONTENT).code == "chain_untrusted"
    assert govsig.Verifier(pol).verify(side, CONTENT).code == "chain_untrusted"
    # Batch order both ways gives the same verdicts as one document at a time.
    docs = [(good, CONTENT), (side, CONTENT), (stamped, CONTENT), (a.sign(), CONTENT)]
    want = [govsig.Verifier(pol).verify(s, c).code for s, c in docs]
    for order in (docs, docs[::-1]):
        got = [govsig.codes()[c] for c in govsig.Verifier(pol).verify_many(order, threads=1).codes]
        assert got == [want[docs.index(d)] for d in order]


# --- 2. a DSS stuffed with unrelated, stale and contradictory evidence ---------------------------


def ocsp_answer(issuer: P.Issued, cert: P.Issued, status: str, *, this_update: dt.datetime,
                next_update: dt.datetime, revoked_on: dt.datetime | None = None) -> bytes:
    from cryptography.x509 import ocsp

    b = (ocsp.OCSPResponseBuilder()
         .add_response(cert=cert.cert, issuer=issuer.cert, algorithm=hashes.SHA1(),
                       cert_status={"good": ocsp.OCSPCertStatus.GOOD, "revoked": ocsp.OCSPCertStatus.REVOKED}[status],
                       this_update=this_update, next_update=next_update, revocation_time=revoked_on,
                       revocation_reason=None)
         .responder_id(ocsp.OCSPResponderEncoding.HASH, issuer.cert))
    return b.sign(issuer.key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def with_dss(pdf: bytes, *, crls: list[bytes] = (), ocsps: list[bytes] = (),  # type: ignore[assignment]
             certs: list[P.Issued] = ()) -> bytes:  # type: ignore[assignment]
    """``pdf`` with an incremental update (by pyHanko) adding a DSS holding these, in this order."""
    import io
    import warnings

    from asn1crypto import crl as a_crl
    from asn1crypto import ocsp as a_ocsp
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pyhanko.sign.validation.dss import DocumentSecurityStore
    buf = io.BytesIO(pdf)
    DocumentSecurityStore.add_dss(
        buf, None, certs=[a_x509.Certificate.load(c.der) for c in certs],
        crls=[a_crl.CertificateList.load(c) for c in crls],
        ocsps=[a_ocsp.OCSPResponse.load(o) for o in ocsps], force_write=True, embed_roots=False)
    return buf.getvalue()


class DssWorld:
    def __init__(self, pki: object) -> None:
        import pdfsign

        self.pki = pki
        t = now()
        self.t = t
        root, ca, leaf = pki.rsa_root, pki.rsa_intermediate, pki.rsa_leaf  # type: ignore[attr-defined]
        self.leaf = leaf
        self.signed = pdfsign.sign(pdfsign.base_pdf(), leaf, reason="DSS nhồi")
        serial = leaf.cert.serial_number
        self.root_crl = crl(root, [], this_update=t - DAY, next_update=t + 30 * DAY)
        self.good_old = crl(ca, [], this_update=t - 2 * DAY, next_update=t + 5 * DAY, number=1)
        self.revoking_new = crl(ca, [(serial, t - 3600 * dt.timedelta(seconds=1))],
                                this_update=t - dt.timedelta(minutes=30), next_update=t + 7 * DAY, number=2)
        self.stale_good = crl(ca, [], this_update=t - 20 * DAY, next_update=t - 10 * DAY, number=0)
        other = P.make_intermediate("CA không liên quan R3", root, seed="r3-unrelated-ca")
        self.unrelated = crl(other, [(serial, t - 5 * DAY)], this_update=t - DAY, next_update=t + 5 * DAY)
        self.ocsp_good = ocsp_answer(ca, leaf, "good", this_update=t - DAY, next_update=t + 5 * DAY)
        self.ocsp_revoked = ocsp_answer(ca, leaf, "revoked", this_update=t - dt.timedelta(minutes=20),
                                        next_update=t + 5 * DAY, revoked_on=t - dt.timedelta(hours=1))
        self.ocsp_other = ocsp_answer(ca, pki.rsa3072_leaf, "good", this_update=t - DAY,  # type: ignore[attr-defined]
                                      next_update=t + 5 * DAY)
        self.ocsp_stale_good = ocsp_answer(ca, leaf, "good", this_update=t - 20 * DAY, next_update=t - 10 * DAY)

    def policy(self, **kw: object) -> govsig.Policy:
        base: dict[str, object] = dict(trust=[self.pki.rsa_root.der], revocation="hard-fail",  # type: ignore[attr-defined]
                                       revocation_sources=("crl", "ocsp"))
        base.update(kw)
        return govsig.Policy(**base)

    def code(self, pdf: bytes, **kw: object) -> str:
        return govsig.Verifier(self.policy(**kw)).verify_pdf(pdf).code


@pytest.fixture(scope="module")
def dss(pki: object) -> DssWorld:
    return DssWorld(pki)


def test_a_revoking_crl_wins_in_every_dss_order(dss: DssWorld) -> None:
    d = dss
    assert d.code(with_dss(d.signed, crls=[d.root_crl, d.good_old])) == "ok"
    assert d.code(with_dss(d.signed, crls=[d.root_crl, d.revoking_new])) == "cert_revoked"
    mixed = [d.root_crl, d.good_old, d.revoking_new, d.stale_good, d.unrelated]
    for order in itertools.permutations(mixed):
        assert d.code(with_dss(d.signed, crls=list(order))) == "cert_revoked", order.index(d.revoking_new)
    # Without the revoking one, stale and unrelated CRLs change nothing.
    for order in itertools.permutations([d.root_crl, d.good_old, d.stale_good, d.unrelated]):
        assert d.code(with_dss(d.signed, crls=list(order))) == "ok"
    # Stale and unrelated alone decide nothing.
    assert d.code(with_dss(d.signed, crls=[d.root_crl, d.stale_good, d.unrelated])) == "revocation_unknown"


def test_a_revoking_ocsp_answer_wins_in_every_dss_order(dss: DssWorld) -> None:
    d = dss
    answers = [d.ocsp_good, d.ocsp_revoked, d.ocsp_other, d.ocsp_stale_good]
    for order in itertools.permutations(answers):
        pdf = with_dss(d.signed, crls=[d.root_crl], ocsps=list(order))
        assert d.code(pdf) == "cert_revoked", order.index(d.ocsp_revoked)
    for order in itertools.permutations([d.ocsp_good, d.ocsp_other, d.ocsp_stale_good]):
        assert d.code(with_dss(d.signed, crls=[d.root_crl], ocsps=list(order))) == "ok"
    assert d.code(with_dss(d.signed, crls=[d.root_crl], ocsps=[d.ocsp_other, d.ocsp_stale_good])) \
        == "revocation_unknown"
    # A good OCSP answer never outweighs a revoking CRL, nor a good CRL a revoking answer.
    for crls, ocsps in (([d.root_crl, d.revoking_new], [d.ocsp_good]),
                        ([d.good_old, d.root_crl], [d.ocsp_revoked])):
        assert d.code(with_dss(d.signed, crls=crls, ocsps=ocsps)) == "cert_revoked"


def test_one_pdfs_dss_never_decides_another_documents_verdict(dss: DssWorld) -> None:
    """Evidence read from one PDF's DSS must not outlive it in a long-lived Verifier: the
    verdict of a later document must be what a fresh Verifier gives, whatever came before."""
    d = dss
    with_good = with_dss(d.signed, crls=[d.root_crl], ocsps=[d.ocsp_good])
    bare_cms = P.sign_cms(CONTENT, d.leaf)
    plain_pdf = d.signed
    pol = d.policy(crls=[d.root_crl])
    fresh_cms = govsig.Verifier(pol).verify(bare_cms, CONTENT).code
    fresh_pdf = govsig.Verifier(pol).verify_pdf(plain_pdf).code
    assert (fresh_cms, fresh_pdf) == ("revocation_unknown", "revocation_unknown")
    v = govsig.Verifier(pol)
    assert v.verify_pdf(with_good).code == "ok"
    assert v.verify(bare_cms, CONTENT).code == fresh_cms
    assert v.verify_pdf(plain_pdf).code == fresh_pdf
    # And a revoking answer in one PDF does not revoke the signer of the next one either.
    with_revoked = with_dss(d.signed, crls=[d.root_crl], ocsps=[d.ocsp_revoked])
    v = govsig.Verifier(d.policy(crls=[d.root_crl, d.good_old]))
    assert v.verify_pdf(with_revoked).code == "cert_revoked"
    assert v.verify_pdf(plain_pdf).code == govsig.Verifier(d.policy(crls=[d.root_crl, d.good_old])).verify_pdf(
        plain_pdf).code


def test_pdf_signer_never_validates_against_a_tsa_only_anchor(anchors: Anchors) -> None:
    """The PDF path: a document signer is judged against the trust store, never tsa_trust."""
    import pdfsign

    a = anchors
    doc_signed = pdfsign.sign(pdfsign.base_pdf(), a.leaf)
    tsa_side = pdfsign.sign(pdfsign.base_pdf(), a.tsa_side_leaf)
    pol = govsig.Policy(trust=[a.doc_root.der], tsa_trust=[a.tsa_root.der])
    v = govsig.Verifier(pol)
    assert v.verify_pdf(doc_signed).code == "ok"
    assert v.verify_pdf(tsa_side).code == "chain_untrusted"
    # Nor through a cross-certificate in the DSS.
    crossed = with_dss(pdfsign.sign(pdfsign.base_pdf(), a.leaf), certs=[a.doc_ca_by_tsa_root])
    pol = govsig.Policy(trust=[a.other_root.der], tsa_trust=[a.tsa_root.der])
    assert govsig.Verifier(pol).verify_pdf(crossed).code == "chain_untrusted"


# --- 1. a long-lived Verifier's signature-time verdicts over simulated time ---------------------


class SimClock:
    def __init__(self, t: dt.datetime) -> None:
        self.t = t

    def __call__(self) -> dt.datetime:
        return self.t

    def advance(self, **delta: float) -> None:
        self.t += dt.timedelta(**delta)


def verdict(r: govsig.VerifyResult) -> tuple[object, ...]:
    s = r.signers[0]
    return (r.code, s.signature_time_source, tuple(s.warnings), tuple(t.code for t in s.timestamps))


def test_static_evidence_going_stale_under_a_long_lived_verifier(openssl: str, tmp_path: Path) -> None:
    """The TSA's path is judged now, on a CRL that goes stale as the clock moves: the cached
    token verdict and the signer path cached at T must follow a fresh Verifier's."""
    moment = now()
    p = ad.make_pki(moment)
    today = moment + 10 * ad.YEAR
    with Tsa(tmp_path / "tsa", openssl, signer=p.tsa) as tsa:
        archive = ad.build(tsa, p)
    after_t = dict(this_update=moment + 30 * DAY, next_update=moment + 60 * DAY)
    crls = [crl(p.root, [], **after_t), crl(p.ca, [], **after_t),  # type: ignore[arg-type]
            crl(p.tsa_root, [], this_update=today - DAY, next_update=today + 30 * DAY)]
    pol = govsig.Policy(trust=[p.root.der], tsa_trust=[p.tsa_root.der], signature_time="timestamp",
                        revocation="hard-fail", crls=crls)
    clock = SimClock(today)
    v = govsig.Verifier(pol, clock=clock)
    seen = []
    for step in (0, 29, 31, 400):
        clock.t = today + step * DAY
        fresh = govsig.Verifier(pol, clock=clock)
        for sig, content in archive:
            got, want = verdict(v.verify(sig, content)), verdict(fresh.verify(sig, content))
            assert got == want, (step, got, want)
        batch = [govsig.codes()[c] for c in v.verify_many(archive, threads=1).codes]
        assert batch == [fresh.verify(s, c).code for s, c in archive], step
        seen.append(verdict(fresh.verify(*archive[0])))
    # The oracle did change: ok while the TSA's CRL was current, then T falls back to now.
    assert seen[0] == ("ok", "timestamp", (), ("ok",))
    assert seen[2][:2] == ("cert_expired", "at")


def _cdp(url: str) -> tuple[x509.ExtensionType, bool]:
    return x509.CRLDistributionPoints(
        [x509.DistributionPoint([x509.UniformResourceIdentifier(url)], None, None, None)]), False


class LiveWorld:
    """A signer whose path and TSA publish CRLs on a loopback server; the signature stamped at
    the real now (T), the Verifier's clock starting a day later."""

    def __init__(self, server: object, tmp: Path, openssl: str) -> None:
        from cryptography.x509.oid import ExtendedKeyUsageOID

        self.server = server
        self.moment = now()
        url = server.url  # type: ignore[attr-defined]
        self.root = P.make_root("Gốc sống lâu R3", seed="r3-live-root")
        self.ca = P.make_intermediate("CA sống lâu R3", self.root, seed="r3-live-ca",
                                      extra_extensions=[_cdp(url("/root.crl"))])
        self.leaf = P.make_leaf("Người ký sống lâu R3", self.ca, seed="r3-live-leaf",
                                not_before=self.moment - 100 * DAY, not_after=self.moment + 3 * 365 * DAY,
                                extra_extensions=[_cdp(url("/ca.crl"))])
        self.tsa_root = P.make_root("Gốc TSA sống lâu R3", seed="r3-live-tsa-root")
        self.tsa_cert = P.make_leaf("TSA sống lâu R3", self.tsa_root, seed="r3-live-tsa", eku=None,
                                    extra_extensions=[(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), True),
                                                      _cdp(url("/tsa.crl"))])
        self.bodies: dict[str, bytes] = {}
        self.down: set[str] = set()
        for path in ("/root.crl", "/ca.crl", "/tsa.crl"):
            self._route(path)
        bare = P.sign_cms(CONTENT, self.leaf, signing_time=self.moment)
        with Tsa(tmp / "tsa", openssl, signer=self.tsa_cert) as tsa:
            self.sig = ad.with_tokens(bare, [tsa.stamp(ad.signature_value(bare))])

    def _route(self, path: str) -> None:
        from http_servers import Reply

        def reply(_seen: object) -> Reply:
            if path in self.down:
                return Reply(b"maintenance\n", status=503, content_type="text/plain")
            return Reply(self.bodies[path], content_type="application/pkix-crl")
        self.server.route(path, reply)  # type: ignore[attr-defined]

    def policy(self, revocation: str = "hard-fail") -> govsig.Policy:
        return govsig.Policy(trust=[self.root.der], tsa_trust=[self.tsa_root.der], signature_time="timestamp",
                             revocation=revocation)


@pytest.mark.parametrize("story,revocation", [
    ("signer revoked later, dated after T", "hard-fail"),
    ("signer revoked later, then dated before T", "soft-fail"),
    ("TSA revoked after genTime", "hard-fail"),
    ("TSA revoked after genTime", "soft-fail"),
    ("evidence goes stale, servers down", "hard-fail"),
])
def test_long_lived_verifier_follows_evidence_published_later(openssl: str, tmp_path: Path, story: str,
                                                              revocation: str) -> None:
    """Each change is published when what the long-lived Verifier holds goes stale by the
    clock, so it must fetch again; from then on it must agree with a fresh Verifier. (The TSA
    stories failed before the TSA's needs were fetched at all.)"""
    from http_servers import LoopbackServer

    with LoopbackServer() as server:
        w = LiveWorld(server, tmp_path, openssl)
        t0 = w.moment + DAY
        hour = dt.timedelta(hours=1)
        serial, tsa_serial = w.leaf.cert.serial_number, w.tsa_cert.cert.serial_number
        w.bodies["/root.crl"] = crl(w.root, [], this_update=t0 - hour, next_update=t0 + 60 * DAY)
        w.bodies["/ca.crl"] = crl(w.ca, [], this_update=t0 - hour, next_update=t0 + 6 * hour, number=1)
        w.bodies["/tsa.crl"] = crl(w.tsa_root, [], this_update=t0 - hour, next_update=t0 + 6 * hour, number=1)
        clock = SimClock(t0)
        fetchers: list[govsig.HttpFetcher] = []

        def make() -> govsig.Verifier:
            f = govsig.HttpFetcher(timeout=10, clock=clock)
            fetchers.append(f)
            return govsig.Verifier(w.policy(revocation), fetcher=f, clock=clock)

        v = make()
        history = []
        try:
            def check() -> tuple[object, ...]:
                got, want = verdict(v.verify(w.sig, CONTENT)), verdict(make().verify(w.sig, CONTENT))
                assert got == want, (clock.t - t0, got, want)
                history.append(want)
                return want

            assert check() == ("ok", "timestamp", (), ("ok",))
            t1, t2 = t0 + 6 * hour, t0 + 12 * hour
            if story.startswith("signer"):
                w.bodies["/ca.crl"] = crl(w.ca, [(serial, w.moment + hour)], this_update=t1,
                                          next_update=t2, number=2)
                w.bodies["/tsa.crl"] = crl(w.tsa_root, [], this_update=t1, next_update=t0 + 60 * DAY, number=2)
                clock.t = t1 + dt.timedelta(seconds=1)
                assert check() == ("ok", "timestamp", ("revoked_after_signature",), ("ok",))
                if story.endswith("before T"):
                    # The CA corrects the date to before T once CRL 2 is stale: the fetched CRL
                    # that proved "not revoked at T" stops deciding when stale, as a fresh
                    # Verifier never had it, so the correction is fetched and wins.
                    w.bodies["/ca.crl"] = crl(w.ca, [(serial, w.moment - hour)], this_update=t2,
                                              next_update=t0 + 60 * DAY, number=3)
                    clock.t = t2 + dt.timedelta(seconds=1)
                    assert check()[0] == "cert_revoked"
            elif story.startswith("TSA"):
                w.bodies["/ca.crl"] = crl(w.ca, [], this_update=t1, next_update=t0 + 60 * DAY, number=2)
                w.bodies["/tsa.crl"] = crl(w.tsa_root, [(tsa_serial, t0 + hour)], this_update=t1,
                                           next_update=t0 + 60 * DAY, number=2)
                clock.t = t1 + dt.timedelta(seconds=1)
                got = check()
                assert got[1] == "at" and got[3] == ("timestamp_untrusted",)
            else:
                w.down.update({"/ca.crl", "/tsa.crl"})
                clock.t = t1 + dt.timedelta(seconds=1)
                got = check()
                assert got[0] != "ok" or got[1] != "timestamp", got
                # Back up later: both agree again, ok at the signature time.
                w.down.clear()
                w.bodies["/ca.crl"] = crl(w.ca, [], this_update=t2, next_update=t0 + 60 * DAY, number=2)
                w.bodies["/tsa.crl"] = crl(w.tsa_root, [], this_update=t2, next_update=t0 + 60 * DAY, number=2)
                clock.t = t2 + dt.timedelta(hours=2)
                assert check() == ("ok", "timestamp", (), ("ok",))
        finally:
            for f in fetchers:
                f.close()


# --- 3. hostile text in PDF fields, subjects and file names, through the CLI and the reports -----

# A terminal title, a 7-bit and an 8-bit (C1) CSI, a forged line after \n, \r, NEL, a line
# separator, and a right-to-left override.
HOSTILE = "X\x1b]0;pwned\x07Y\x1b[2J\nOK: forged\rZ\x9b31mW\x85V\u2028U\u202eT"
_UNSAFE_CATEGORIES = {"Cc", "Cf", "Zl", "Zp", "Cs"}


def unsafe_chars(text: str) -> set[str]:
    import unicodedata

    return {c for c in text if c != "\n" and unicodedata.category(c) in _UNSAFE_CATEGORIES}


def _sign_pdf_with_name(pdf: bytes, leaf: P.Issued, *, field: str, reason: str, location: str, name: str) -> bytes:
    import io
    import warnings

    import pdfsign
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
        from pyhanko.sign import signers
        meta = signers.PdfSignatureMetadata(field_name=field, reason=reason, location=location, name=name)
        out = io.BytesIO()
        signers.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(pdf)), meta, signer=pdfsign.pyhanko_signer(leaf),
                         output=out)
    return out.getvalue()


@pytest.fixture(scope="module")
def hostile_folder(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, int]:
    import pdfsign

    tmp = tmp_path_factory.mktemp("r3-hostile")
    root = P.make_root("Gốc R3 văn bản độc", seed="r3-hostile-root")
    ca = P.make_intermediate("CA R3 văn bản độc", root, seed="r3-hostile-ca")
    leaf = P.make_leaf("Ký" + HOSTILE, ca, seed="r3-hostile-leaf")
    (tmp / "trust.pem").write_bytes(root.pem)
    docs = tmp / "docs"
    docs.mkdir()
    pdf = _sign_pdf_with_name(pdfsign.base_pdf(), leaf, field="Sig" + HOSTILE.replace(".", ""),
                              reason="Lý do" + HOSTILE, location="Nơi" + HOSTILE, name="Tên" + HOSTILE)
    (docs / "a.pdf").write_bytes(pdf)
    (docs / ("hồ sơ" + HOSTILE.replace("/", "") + ".pdf")).write_bytes(pdf)
    (docs / ("tờ" + HOSTILE.replace("/", "") + ".txt")).write_bytes(CONTENT)
    (docs / ("tờ" + HOSTILE.replace("/", "") + ".txt.p7s")).write_bytes(P.sign_cms(CONTENT, leaf))
    return tmp, docs, 3


def strings(value: object) -> list[str]:
    """Every string inside a loaded JSON value."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [x for k, v in value.items() for x in strings(k) + strings(v)]
    if isinstance(value, list):
        return [x for v in value for x in strings(v)]
    return []


def run_cli(*args: str) -> tuple[int, str, str]:
    import os
    import subprocess
    import sys

    env = dict(os.environ, PYTHONIOENCODING="utf-8")
    p = subprocess.run([sys.executable, "-m", "govsig", *args], capture_output=True, env=env, timeout=300, check=False)
    return p.returncode, p.stdout.decode("utf-8"), p.stderr.decode("utf-8")


def test_verify_pdf_prints_hostile_fields_inert(hostile_folder: tuple[Path, Path, int]) -> None:
    tmp, docs, _ = hostile_folder
    trust = str(tmp / "trust.pem")
    r = govsig.Verifier(govsig.Policy(trust=govsig.TrustStore.from_pem((tmp / "trust.pem").read_bytes()))).verify_pdf(
        (docs / "a.pdf").read_bytes())
    assert r.code == "ok", r.reason
    s = r.signatures[0]
    assert HOSTILE in (s.signing_reason or "") and HOSTILE in (s.location or "")  # the API hands back the data
    for f in sorted(docs.iterdir()):
        if f.suffix != ".pdf":
            continue
        rc, out, err = run_cli("verify", str(f), "--trust", trust)
        assert (rc, err) == (0, ""), err
        assert unsafe_chars(out) == set(), f
        assert len(out.splitlines()) == 2, out  # the document's line and its one signature's
        rc, out, err = run_cli("verify", str(f), "--trust", trust, "--json")
        assert (rc, err) == (0, "")
        assert unsafe_chars(out) == set(), f
        assert len(out.splitlines()) == 1
        import json
        assert any(HOSTILE in x for x in strings(json.loads(out)))  # escaped in the text, intact in the data


def test_verify_archive_reports_carry_one_inert_line_per_document(hostile_folder: tuple[Path, Path, int]) -> None:
    import json

    tmp, docs, n = hostile_folder
    report, html = tmp / "report.jsonl", tmp / "report.html"
    rc, out, err = run_cli("verify-archive", str(docs), "--trust", str(tmp / "trust.pem"), "--report", str(report),
                           "--html", str(html), "--no-progress")
    assert rc in (0, 1), err
    assert unsafe_chars(out) == set() and unsafe_chars(err) == set()
    text = report.read_text("utf-8")
    assert unsafe_chars(text) == set()
    lines = text.splitlines()  # str.splitlines also splits at NEL, U+2028 and friends
    records = [json.loads(line) for line in lines]
    assert len([r for r in records if r.get("path")]) == n, [r.get("path") for r in records]
    assert any(HOSTILE in x for r in records for x in strings(r))
    page = html.read_text("utf-8")
    assert unsafe_chars(page) == set()


# --- 4. hostile sizes: each ends with a specific code, in bounded memory -----------------------


def raw_pdf(objects: dict[int, bytes], *, root: int = 1, prev_loop: bool = False) -> bytes:
    """A classic-xref PDF of ``objects`` (number -> body); ``prev_loop``: a second xref
    section whose /Prev points at itself."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets: dict[int, int] = {}
    for num in sorted(objects):
        offsets[num] = len(out)
        out += b"%d 0 obj\n" % num + objects[num] + b"\nendobj\n"
    size = max(objects) + 1
    xref_at = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % size
    for num in range(1, size):
        out += b"%010d 00000 n \n" % offsets[num] if num in offsets else b"0000000000 65535 f \n"
    out += b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (size, root, xref_at)
    if prev_loop:
        at = len(out)
        out += (b"xref\n0 1\n0000000000 65535 f \ntrailer\n<< /Size %d /Root %d 0 R /Prev %d >>\n"
                b"startxref\n%d\n%%%%EOF\n" % (size, root, at, at))
    return bytes(out)


def sig_pdf(fields: int = 1, *, contents: bytes = b"<" + b"00" * 64 + b">",
            byte_range: bytes = b"[0 10 20 30]", kids_depth: int = 0) -> bytes:
    objs: dict[int, bytes] = {
        1: b"<< /Type /Catalog /Pages 2 0 R /AcroForm 4 0 R >>",
        2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>",
        5: b"<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /adbe.pkcs7.detached /ByteRange "
           + byte_range + b" /Contents " + contents + b" >>",
    }
    refs = []
    n = 6
    for k in range(fields):
        objs[n] = b"<< /FT /Sig /T (S%d) /V 5 0 R >>" % k
        refs.append(b"%d 0 R" % n)
        n += 1
    if kids_depth:
        # A chain of /Kids, each one level deeper, ending at a signature field.
        top = n
        for d in range(kids_depth):
            objs[n] = b"<< /T (k%d) /Kids [%d 0 R] >>" % (d, n + 1)
            n += 1
        objs[n] = b"<< /FT /Sig /T (deep) /V 5 0 R >>"
        refs.append(b"%d 0 R" % top)
    objs[4] = b"<< /Fields [" + b" ".join(refs) + b"] /SigFlags 3 >>"
    return raw_pdf(objs)


_MEASURE = r"""
import resource, sys
import govsig
data = open(sys.argv[1], 'rb').read()
kind = sys.argv[2]
v = govsig.Verifier(govsig.Policy())
if kind == 'pdf':
    r = v.verify_pdf(data)
else:
    r = v.verify(data, None)
# VmHWM: this process image's peak (ru_maxrss would carry the forking parent's over exec).
hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM:')][0].split()[1]
print(r.code, int(hwm) // 1024)
"""


def measured(tmp_path: Path, data: bytes, kind: str = "pdf") -> tuple[str, int]:
    """The code for ``data`` from a fresh interpreter under a 3 GiB address-space limit, and
    that interpreter's peak resident memory in MiB (VmHWM)."""
    import os
    import subprocess
    import sys

    f = tmp_path / f"input.{kind}"
    f.write_bytes(data)
    limit = "import resource; resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))\n"
    p = subprocess.run([sys.executable, "-c", limit + _MEASURE, str(f), kind], capture_output=True, text=True,
                       timeout=600, check=False, env=dict(os.environ))
    assert p.returncode == 0 and p.stderr == "", p.stderr[-2000:]
    code, mib = p.stdout.split()
    return code, int(mib)


@pytest.fixture(scope="module")
def baseline_mib(tmp_path_factory: pytest.TempPathFactory) -> int:
    return measured(tmp_path_factory.mktemp("r3-base"), sig_pdf())[1]


@pytest.mark.parametrize("name,make,codes", [
    ("40 MB /Contents hex", lambda: sig_pdf(contents=b"<" + b"3082" * 10_000_000 + b">"),
     {"byte_range_invalid", "pdf_malformed", "malformed"}),
    ("negative /ByteRange", lambda: sig_pdf(byte_range=b"[0 -5 -99999999999999999999 10]"),
     {"byte_range_invalid", "pdf_malformed"}),
    ("huge /ByteRange", lambda: sig_pdf(byte_range=b"[0 18446744073709551615 18446744073709551615 "
                                                    b"99999999999999999999999999]"),
     {"byte_range_invalid", "pdf_malformed"}),
    ("5,000 signature fields", lambda: sig_pdf(5000), {"pdf_malformed", "byte_range_invalid"}),
    ("100,000-deep /Kids", lambda: sig_pdf(0, kids_depth=100_000), {"pdf_malformed", "no_signature",
                                                                     "byte_range_invalid"}),
    ("xref /Prev loop", lambda: raw_pdf({1: b"<< /Type /Catalog >>"}, prev_loop=True),
     {"pdf_malformed", "no_signature"}),
])
def test_hostile_pdf_sizes_end_with_a_code_in_bounded_memory(tmp_path: Path, baseline_mib: int, name: str,
                                                             make: object, codes: set[str]) -> None:
    data = make()  # type: ignore[operator]
    code, mib = measured(tmp_path, data)
    assert code in codes, (name, code)
    # Peak memory: the interpreter's baseline plus a small multiple of the input.
    assert mib - baseline_mib <= 64 + 12 * len(data) // (1 << 20), (name, mib, baseline_mib, len(data))


def test_hostile_cms_certificate_set_sizes(tmp_path: Path, baseline_mib: int) -> None:
    """A valid signature whose unsigned certificate set holds 30,000 copies of one certificate
    and 30,000 junk entries: a code, bounded memory."""
    leaf = P.make_leaf("Người ký kho chứng thư R3", P.make_root("Gốc kho R3", seed="r3-bag-root"), seed="r3-bag-leaf")
    sig = P.sign_cms(CONTENT, leaf, detached=False)
    ci = a_cms.ContentInfo.load(sig)
    sd = ci["content"]
    one = a_x509.Certificate.load(leaf.der)
    from asn1crypto import core as a_core
    junk = a_cms.CertificateChoices(name="other", value=a_cms.OtherCertificateFormat(
        {"other_cert_format": "1.2.3.4", "other_cert": a_core.OctetString(b"\x04\x00" * 8)}))
    sd["certificates"] = a_cms.CertificateSet(
        [a_cms.CertificateChoices(name="certificate", value=one)] * 30_000 + [junk] * 30_000)
    data = bytes(ci.dump(force=True))
    code, mib = measured(tmp_path, data, kind="cms")
    assert code in {"ok", "chain_untrusted", "malformed", "budget_exceeded"}, code
    assert mib - baseline_mib <= 64 + 12 * len(data) // (1 << 20), (mib, baseline_mib, len(data))
