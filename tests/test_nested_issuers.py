"""Missing issuers in nested paths fetched by caIssuers (issue 13 item 6, RFC 5280 §4.2.2.1):
the path of a CRL's separate signing certificate (RFC 5280 §6.3.3 (f)) and the path of a
time-stamping authority can lack an issuer as a signer's path can. The core names the
caIssuers URL of the certificate whose issuer is missing, the Verifier's fetcher gets it once
per batch from a loopback server, and the verdict goes from the honest "cannot decide" to ok.

A delegated OCSP responder's path cannot lack an issuer (RFC 6960 §4.2.2.2 has its
certificate issued by the CA that issued the certificate in question, which is at hand
whenever its status is asked), but what else its path lacks is surfaced the same way: a
responder without id-pkix-ocsp-nocheck whose own CRL is fetched only because its path named
it (the real ``openssl ocsp`` responder, tests/ocsp_responder.py).
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Iterator

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID

import govsig
import pki as P
from http_servers import LoopbackServer
from ocsp_responder import IndexEntry, OcspResponder
from tsa_server import Tsa

CONTENT = "Công văn số 88/UBND-VP về việc xác minh chữ ký".encode()
AT = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


def ca_issuers(url: str) -> tuple[x509.ExtensionType, bool]:
    return x509.AuthorityInformationAccess([x509.AccessDescription(
        AuthorityInformationAccessOID.CA_ISSUERS, x509.UniformResourceIdentifier(url))]), False


def cdp(url: str) -> tuple[x509.ExtensionType, bool]:
    return x509.CRLDistributionPoints([x509.DistributionPoint(
        [x509.UniformResourceIdentifier(url)], None, None, None)]), False


def make_crl(issuer_name: x509.Name, key: object, revoked: list[int] = ()) -> bytes:  # type: ignore[assignment]
    b = (x509.CertificateRevocationListBuilder().issuer_name(issuer_name)
         .last_update(AT - dt.timedelta(hours=1)).next_update(AT + dt.timedelta(days=7))
         .add_extension(x509.CRLNumber(1), critical=False))
    for serial in revoked:
        b = b.add_revoked_certificate(x509.RevokedCertificateBuilder().serial_number(serial)
                                      .revocation_date(AT - dt.timedelta(days=1)).build())
    return b.sign(key, hashes.SHA256()).public_bytes(Encoding.DER)  # type: ignore[arg-type]


class World:
    """root (the only anchor) -> "CA cấp 2" -> signers, whose CRL "CA cấp 2" signs with a
    separate key: a certificate named "CA cấp 2" with cRLSign only, issued by "CA phát hành
    khóa CRL" (under root), which nobody holds: the CRL signer's caIssuers points at it on
    the loopback server (/crl-ca.cer). Every non-root certificate names its CRL."""

    def __init__(self, server: LoopbackServer) -> None:
        self.server = server
        self.root = P.make_root("Gốc lồng nhau", seed="nested-root")
        self.ca = P.make_intermediate("CA cấp 2 lồng nhau", self.root, seed="nested-ca",
                                      extra_extensions=[cdp(server.url("/root.crl"))])
        self.crl_ca = P.make_intermediate("CA phát hành khóa CRL", self.root, seed="nested-crl-ca",
                                          extra_extensions=[cdp(server.url("/root.crl"))])
        # The separate CRL-signing certificate: the CA's name, another key (RFC 5280 §6.3.3 (f)).
        self.crl_signer = P.make_leaf(
            "khóa CRL", self.crl_ca, seed="nested-crl-signer", subject=self.ca.cert.subject,
            key_usage=("crl_sign",),
            extra_extensions=[ca_issuers(server.url("/crl-ca.cer")), cdp(server.url("/crl-ca.crl"))])
        self.good = P.make_leaf("Người ký (CRL khóa riêng)", self.ca, seed="nested-good",
                                extra_extensions=[cdp(server.url("/ca.crl"))])
        self.bad = P.make_leaf("Người ký bị thu hồi (CRL khóa riêng)", self.ca, seed="nested-bad",
                               extra_extensions=[cdp(server.url("/ca.crl"))])
        self.root_crl = make_crl(self.root.cert.subject, self.root.key)
        self.crl_ca_crl = make_crl(self.crl_ca.cert.subject, self.crl_ca.key)
        # Issued in the CA's name, signed by the separate key.
        self.ca_crl = make_crl(self.ca.cert.subject, self.crl_signer.key, [self.bad.cert.serial_number])
        server.serve("/root.crl", self.root_crl)
        server.serve("/crl-ca.crl", self.crl_ca_crl)
        server.serve("/ca.crl", self.ca_crl)
        server.serve("/crl-ca.cer", self.crl_ca.der, "application/pkix-cert")

    def signature(self, leaf: P.Issued) -> bytes:
        # The signer's chain and the CRL-signing certificate travel with the signature; the
        # CRL signer's issuer does not.
        return P.sign_cms(CONTENT, leaf, include_chain=True, extra_certs=[self.crl_signer])

    def policy(self, **kw: object) -> govsig.Policy:
        kw.setdefault("revocation", "hard-fail")
        return govsig.Policy(trust=[self.root.cert], at=AT, **kw)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def server() -> Iterator[LoopbackServer]:
    with LoopbackServer() as s:
        yield s


@pytest.fixture(scope="module")
def w(server: LoopbackServer) -> World:
    return World(server)


def test_crl_signers_missing_issuer_is_named_and_the_verdict_cannot_be_decided_without_it(w: World) -> None:
    # Every CRL at hand, but the CRL signer's path lacks its issuer: the CRL cannot be used,
    # and what would make it usable is named.
    offline = govsig.Verifier(w.policy(crls=[w.root_crl, w.ca_crl, w.crl_ca_crl]))
    r = offline.verify(w.signature(w.good), CONTENT)
    assert r.code == "revocation_unknown"
    assert "khóa CRL" in r.reason or "CA phát hành khóa CRL" in r.reason
    assert "no issuer named" in r.reason
    assert ("issuer", w.server.url("/crl-ca.cer"), None) in r.needs
    # Named once, however many certificates the CRL would have decided.
    assert [n for n in r.needs if n[0] == "issuer"] == [("issuer", w.server.url("/crl-ca.cer"), None)]
    # The same under soft-fail: the status is unknown, the need still named.
    soft = govsig.Verifier(w.policy(crls=[w.root_crl, w.ca_crl, w.crl_ca_crl], revocation="soft-fail"))
    r = soft.verify(w.signature(w.good), CONTENT)
    assert r.code == "ok"
    assert ("issuer", w.server.url("/crl-ca.cer"), None) in r.needs


def test_the_fetcher_gets_the_crl_signers_issuer_once_per_batch_and_the_crl_decides(w: World) -> None:
    before = w.server.requests("/crl-ca.cer")
    v = govsig.Verifier(w.policy(), govsig.HttpFetcher(timeout=5))
    items = [(w.signature(w.good), CONTENT)] * 30 + [(w.signature(w.bad), CONTENT)] * 10
    out = v.verify_many(items, chunk_size=8, threads=2)
    assert out.counts() == {"ok": 30, "cert_revoked": 10}
    assert w.server.requests("/crl-ca.cer") - before == 1
    # Every source that was fetched decided: none is reported as failed or undecided (the
    # CRL at hand is not asked for again while what it lacked is being fetched).
    assert v.fetch_errors == {}, v.fetch_errors
    # The CRL signer's path (its fetched issuer included) is part of what decided.
    r = v.verify(w.signature(w.bad), CONTENT)
    assert r.code == "cert_revoked" and "Người ký bị thu hồi" in r.reason
    ev = r.evidence
    assert {w.crl_signer.der, w.crl_ca.der} <= set(ev.certificates)
    assert w.ca_crl in ev.crls
    offline = govsig.Verifier(w.policy(intermediates=ev.certificates, crls=ev.crls))
    assert offline.verify(w.signature(w.bad), CONTENT).code == "cert_revoked"
    assert w.server.requests("/crl-ca.cer") - before == 1


def test_tsa_missing_issuer_is_fetched_by_its_ca_issuers(
        server: LoopbackServer, openssl: str, tmp_path: Path) -> None:
    root = P.make_root("Gốc TSA lồng nhau", seed="nested-tsa-root")
    tsa_ca = P.make_intermediate("CA dấu thời gian", root, seed="nested-tsa-ca")
    tsa_cert = P.make_leaf(
        "TSA chỉ có chứng thư", tsa_ca, seed="nested-tsa", eku=None,
        org="Trung tâm Cấp dấu thời gian thử nghiệm",
        extra_extensions=[(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), True),
                          ca_issuers(server.url("/tsa-ca.cer"))])
    server.serve("/tsa-ca.cer", tsa_ca.der, "application/pkix-cert")
    signer_ca = P.make_intermediate("CA người ký (TSA lồng nhau)", root, seed="nested-tsa-signer-ca")
    leaf = P.make_leaf("Người ký có dấu thời gian", signer_ca, seed="nested-tsa-leaf")
    with Tsa(tmp_path / "tsa", openssl, signer=tsa_cert) as tsa:
        # The TSA sends its own certificate only (the root stands in for its chain file).
        (tsa.dir / "chain.pem").write_bytes(root.pem)
        stamped = govsig.add_timestamps(P.sign_cms(CONTENT, leaf), govsig.TsaClient(tsa.url))
    policy = govsig.Policy(trust=[root.cert], revocation="off", signature_time="timestamp",
                           require_timestamp=True)
    r = govsig.Verifier(policy).verify(stamped, CONTENT)
    assert r.code == "timestamp_untrusted", r.reason
    (ts,) = r.signers[0].timestamps
    assert ts.code == "timestamp_untrusted" and "no issuer named" in ts.reason
    assert ("issuer", server.url("/tsa-ca.cer"), None) in r.needs
    before = server.requests("/tsa-ca.cer")
    v = govsig.Verifier(policy, govsig.HttpFetcher(timeout=5))
    out = v.verify_many([(stamped, CONTENT)] * 12, chunk_size=4, threads=2)
    assert out.counts() == {"ok": 12}
    assert server.requests("/tsa-ca.cer") - before == 1
    r = v.verify(stamped, CONTENT)
    assert r.signers[0].signature_time_source == "timestamp"
    assert r.signers[0].timestamps[0].chain == [tsa_cert.der, tsa_ca.der, root.der]


def test_a_delegated_responders_own_crl_is_named_by_its_path_and_fetched(
        server: LoopbackServer, openssl: str, tmp_path: Path) -> None:
    root = P.make_root("Gốc OCSP lồng nhau", "p256", seed="nested-ocsp-root")
    ca = P.make_intermediate("CA OCSP lồng nhau", root, "p256", seed="nested-ocsp-ca",
                             extra_extensions=[cdp(server.url("/ocsp-root.crl"))])
    # No id-pkix-ocsp-nocheck: the responder's own status is checked (RFC 6960 §4.2.2.2.1),
    # from the CRL its certificate names, which nothing else names.
    delegate = P.make_leaf("Máy chủ OCSP không nocheck", ca, "p256", seed="nested-ocsp-delegate",
                           key_usage=("digital_signature",), eku=("ocsp_signing",),
                           extra_extensions=[cdp(server.url("/ocsp-responder.crl"))])
    server.serve("/ocsp-root.crl", make_crl(root.cert.subject, root.key))
    server.serve("/ocsp-responder.crl", make_crl(ca.cert.subject, ca.key))
    with OcspResponder(tmp_path / "ocsp", openssl, ca=ca, signer=delegate, entries=[]) as responder:
        ocsp_url = x509.AuthorityInformationAccess([x509.AccessDescription(
            AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(responder.url))]), False
        # The signer names only its responder: no CRL of its own.
        leaf = P.make_leaf("Người ký chỉ có OCSP", ca, "p256", seed="nested-ocsp-leaf",
                           extra_extensions=[ocsp_url])
        responder.set_entries([IndexEntry(leaf)])
        sig = P.sign_cms(CONTENT, leaf)
        policy = govsig.Policy(trust=[root.cert], revocation="hard-fail", revocation_sources=("ocsp", "crl"))
        before = server.requests("/ocsp-responder.crl")
        v = govsig.Verifier(policy, govsig.HttpFetcher(timeout=10))
        out = v.verify_many([(sig, CONTENT)] * 6, chunk_size=3, threads=2)
        assert out.counts() == {"ok": 6}, out[0].reason
        assert server.requests("/ocsp-responder.crl") - before == 1
        r = v.verify(sig, CONTENT)
        assert r.code == "ok"
        (leaf_status, *_) = r.signers[0].revocation
        assert leaf_status["source"] == "ocsp"
        # The responder's path and its CRL are part of what decided.
        assert delegate.der in r.evidence.certificates
        # Given the OCSP answer alone, the responder's CRL is named as what is lacking.
        alone = govsig.Verifier(govsig.Policy(trust=[root.cert], revocation="hard-fail",
                                              revocation_sources=("ocsp", "crl"),
                                              ocsp_responses=r.evidence.ocsp_responses))
        r2 = alone.verify(sig, CONTENT)
        assert r2.code == "revocation_unknown"
        assert ("crl", server.url("/ocsp-responder.crl"), None) in r2.needs
