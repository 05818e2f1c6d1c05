"""What decided a signed PDF's verdict, kept (issue 13 item 5 for issue 14's PDFs):
``PdfResult.evidence`` is the union over the document's signatures and document time-stamps
of the paths, CRLs and OCSP responses that decided, the DSS's among them when they did.
Fed back as ``Policy(intermediates=..., crls=..., ocsp_responses=...)`` with no fetcher and
the same ``at``, it reproduces the verdict offline, ``cert_revoked`` included; a DSS stuffed
with unrelated certificates and CRLs adds nothing to it.

PDFs are signed by pyHanko (tests/pdfsign.py), document time-stamps come from the loopback
``openssl ts`` TSA, CRLs from a loopback HTTP server named by the certificates'
cRLDistributionPoints.
"""
from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import Iterator

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID

import govsig
import pdfsign
import pki as P
from http_servers import LoopbackServer
from tsa_server import Tsa

logging.getLogger("pyhanko").setLevel(logging.CRITICAL)
logging.getLogger("pyhanko_certvalidator").setLevel(logging.CRITICAL)

# Whole seconds: the policy's `at` is kept to the second, and the offline verdict must be
# asked at exactly the same moment. An hour ahead of the import: the real TSA stamps at the
# time each test runs, and a genTime more than five minutes after `at` is refused as from the
# future, which a slow run (pytest reaching this module minutes after collecting it) hit.
AT = dt.datetime.now(dt.timezone.utc).replace(microsecond=0) + dt.timedelta(hours=1)


def cdp(url: str) -> tuple[x509.ExtensionType, bool]:
    return x509.CRLDistributionPoints([x509.DistributionPoint(
        [x509.UniformResourceIdentifier(url)], None, None, None)]), False


def make_crl(issuer: P.Issued, revoked: list[int] = (), number: int = 1) -> bytes:  # type: ignore[assignment]
    b = (x509.CertificateRevocationListBuilder().issuer_name(issuer.cert.subject)
         .last_update(AT - dt.timedelta(hours=1)).next_update(AT + dt.timedelta(days=7))
         .add_extension(x509.CRLNumber(number), critical=False))
    for serial in revoked:
        b = b.add_revoked_certificate(x509.RevokedCertificateBuilder().serial_number(serial)
                                      .revocation_date(AT - dt.timedelta(days=2)).build())
    return b.sign(issuer.key, hashes.SHA256()).public_bytes(Encoding.DER)


class World:
    """root -> "CA cấp 2 PDF" -> signers and a TSA, every non-root certificate naming its CRL
    on the loopback server; the TSA stamps documents through ``openssl ts``."""

    def __init__(self, server: LoopbackServer, tsa_dir: Path, openssl: str) -> None:
        self.server = server
        self.root = P.make_root("Gốc chứng cứ PDF", seed="pdf-evidence-root")
        self.ca = P.make_intermediate("CA cấp 2 PDF", self.root, seed="pdf-evidence-ca",
                                      extra_extensions=[cdp(server.url("/root.crl"))])
        self.good = P.make_leaf("Người ký PDF hợp lệ", self.ca, seed="pdf-evidence-good",
                                extra_extensions=[cdp(server.url("/ca.crl"))])
        self.bad = P.make_leaf("Người ký PDF bị thu hồi", self.ca, seed="pdf-evidence-bad",
                               extra_extensions=[cdp(server.url("/ca.crl"))])
        self.tsa_cert = P.make_leaf(
            "TSA chứng cứ PDF", self.ca, seed="pdf-evidence-tsa", eku=None,
            org="Trung tâm Cấp dấu thời gian thử nghiệm",
            extra_extensions=[(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), True),
                              cdp(server.url("/ca.crl"))])
        self.root_crl = make_crl(self.root)
        self.ca_crl = make_crl(self.ca, [self.bad.cert.serial_number])
        server.serve("/root.crl", self.root_crl)
        server.serve("/ca.crl", self.ca_crl)
        self.tsa = Tsa(tsa_dir, openssl, signer=self.tsa_cert)
        # Unrelated material an attacker can put in a DSS.
        self.stranger_ca = P.make_intermediate("CA không liên quan", self.root, seed="pdf-evidence-stranger")
        self.stranger_leaf = P.make_leaf("Chứng thư không liên quan", self.stranger_ca, seed="pdf-evidence-x")
        self.stranger_crl = make_crl(self.stranger_ca)

    def policy(self, **kw: object) -> govsig.Policy:
        return govsig.Policy(trust=[self.root.cert], revocation="hard-fail", at=AT, **kw)  # type: ignore[arg-type]

    def online(self) -> govsig.Verifier:
        return govsig.Verifier(self.policy(), govsig.HttpFetcher(timeout=5))

    def offline(self, ev: govsig.Evidence | None = None) -> govsig.Verifier:
        if ev is None:
            return govsig.Verifier(self.policy())
        return govsig.Verifier(self.policy(intermediates=ev.certificates, crls=ev.crls,
                                           ocsp_responses=ev.ocsp_responses))


@pytest.fixture(scope="module")
def w(openssl: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with LoopbackServer() as server:
        world = World(server, tmp_path_factory.mktemp("tsa"), openssl)
        with world.tsa:
            yield world


@pytest.fixture(scope="module")
def form() -> bytes:
    return pdfsign.base_pdf("Quyết định số 7/QĐ-UBND (chứng cứ)")


def test_fetched_crls_and_the_doc_timestamps_tsa_are_the_evidence_and_reproduce_ok(w: World, form: bytes) -> None:
    pdf = pdfsign.timestamp_document(pdfsign.sign(form, w.good), w.tsa.url)
    # Offline with nothing, nothing says the signer or the TSA was not revoked.
    assert w.offline().verify_pdf(pdf).code == "revocation_unknown"
    r = w.online().verify_pdf(pdf)
    assert r.ok, r.reason
    assert [s.is_doc_timestamp for s in r.signatures] == [False, True]
    ev = r.evidence
    assert isinstance(ev, govsig.Evidence)
    # The signer's path, the TSA's (sharing the CA and root), each once, and both CRLs.
    assert set(ev.certificates) == {w.good.der, w.ca.der, w.root.der, w.tsa_cert.der}
    assert len(ev.certificates) == 4
    assert set(ev.crls) == {w.root_crl, w.ca_crl} and len(ev.crls) == 2
    assert ev.ocsp_responses == ()
    again = w.offline(ev).verify_pdf(pdf)
    assert (again.code, [s.code for s in again.signatures]) == ("ok", ["ok", "ok"])


def test_a_revoked_signers_verdict_is_reproduced_offline_from_its_evidence(w: World, form: bytes) -> None:
    pdf = pdfsign.sign(form, w.bad)
    r = w.online().verify_pdf(pdf)
    assert r.code == "cert_revoked", r.reason
    assert "Người ký PDF bị thu hồi" in r.reason
    ev = r.evidence
    # The refused path and the CRL that refused it.
    assert {w.bad.der, w.ca.der} <= set(ev.certificates)
    assert w.ca_crl in ev.crls
    assert w.offline(ev).verify_pdf(pdf).code == "cert_revoked"
    # Without the CRL the offline verifier cannot say revoked.
    blind = govsig.Verifier(w.policy(intermediates=ev.certificates))
    assert blind.verify_pdf(pdf).code == "revocation_unknown"


def test_dss_evidence_that_decided_is_kept_and_stuffing_is_not(w: World, form: bytes) -> None:
    plain = pdfsign.sign(form, w.good)
    # A B-LT-like DSS with the CRLs that decide, stuffed with an unrelated CA, leaf and CRL
    # (and the unrelated material listed first).
    stuffed = pdfsign.add_dss(
        plain,
        certs=[w.stranger_leaf.der, w.stranger_ca.der, w.ca.der],
        crls=[w.stranger_crl, w.root_crl, w.ca_crl])
    r = w.offline().verify_pdf(stuffed)
    assert r.ok, r.reason
    assert r.signatures[0].modification == "ltv_only"
    ev = r.evidence
    assert set(ev.crls) == {w.root_crl, w.ca_crl}
    assert set(ev.certificates) == {w.good.der, w.ca.der, w.root.der}
    for unrelated in (w.stranger_leaf.der, w.stranger_ca.der, w.stranger_crl):
        assert unrelated not in ev.certificates and unrelated not in ev.crls
    # What the DSS supplied reproduces the verdict without the DSS: the same signature in a
    # PDF that carries none.
    assert w.offline().verify_pdf(plain).code == "revocation_unknown"
    assert w.offline(ev).verify_pdf(plain).code == "ok"


def test_dss_written_by_pyhanko_b_lt_is_the_evidence(w: World, form: bytes) -> None:
    vc = pdfsign.validation_context([w.root], crls=[w.root_crl, w.ca_crl])
    lta = pdfsign.sign(form, w.good, tsa_url=w.tsa.url, embed_validation_info=True, vc=vc)
    r = w.offline().verify_pdf(lta)
    assert r.ok, r.reason
    ev = r.evidence
    assert {w.root_crl, w.ca_crl} <= set(ev.crls)
    assert w.tsa_cert.der in ev.certificates
    assert w.offline(ev).verify_pdf(lta).code == "ok"


def test_verify_files_batch_evidence_includes_pdfs_and_reproduces_every_verdict(
        w: World, form: bytes, tmp_path: Path) -> None:
    good = pdfsign.timestamp_document(pdfsign.sign(form, w.good), w.tsa.url)
    bad = pdfsign.sign(form, w.bad)
    paths = []
    for name, data in [("tot.pdf", good), ("thu-hoi.pdf", bad), ("tot-2.pdf", good)]:
        paths.append(tmp_path / name)
        paths[-1].write_bytes(data)
    batch = w.online().verify_files(paths)
    codes = [govsig.codes()[c] for c in batch.codes]
    assert codes == ["ok", "cert_revoked", "ok"]
    ev = batch.evidence()
    assert {w.good.der, w.bad.der, w.tsa_cert.der, w.ca.der, w.root.der} == set(ev.certificates)
    assert len(ev.certificates) == 5
    assert set(ev.crls) == {w.root_crl, w.ca_crl} and len(ev.crls) == 2
    offline = w.offline(ev).verify_files(paths)
    assert [govsig.codes()[c] for c in offline.codes] == codes
