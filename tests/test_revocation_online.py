"""Revocation evidence fetched on demand: certificates name their CRLs (cRLDistributionPoints),
the core says which it lacks, the Verifier's fetcher gets each once from a real loopback HTTP
server, and the verdict uses them."""
from __future__ import annotations

import datetime as dt

import pytest

from cryptography import x509
from cryptography.hazmat.primitives import hashes

import govsig
import pki as P
from http_servers import LoopbackServer

NOW = dt.datetime.now(dt.timezone.utc)
CONTENT = "Giấy phép xây dựng số 42".encode()


_close_later: list[govsig.HttpFetcher] = []


def _fetcher() -> govsig.HttpFetcher:
    f = govsig.HttpFetcher(timeout=5)
    _close_later.append(f)
    return f


@pytest.fixture(autouse=True)
def _close_fetchers():
    yield
    while _close_later:
        _close_later.pop().close()


def _cdp(url: str) -> tuple[x509.ExtensionType, bool]:
    return x509.CRLDistributionPoints([x509.DistributionPoint([x509.UniformResourceIdentifier(url)], None, None, None)]), False


def _crl(issuer: P.Issued, revoked: list[int] = (), next_update: dt.datetime | None = None) -> bytes:
    b = (x509.CertificateRevocationListBuilder()
         .issuer_name(issuer.cert.subject)
         .last_update(NOW - dt.timedelta(hours=1))
         .next_update(next_update or NOW + dt.timedelta(days=7))
         .add_extension(x509.CRLNumber(1), critical=False))  # RFC 5280 §5.2.3
    for serial in revoked:
        b = b.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(NOW - dt.timedelta(minutes=5)).build())
    from cryptography.hazmat.primitives.serialization import Encoding
    return b.sign(issuer.key, hashes.SHA256()).public_bytes(Encoding.DER)


def _pki(server: LoopbackServer):
    root = P.make_root("Root CA trực tuyến", "p256", seed="online-root")
    inter = P.make_intermediate("CA cấp 2 trực tuyến", root, "p256", seed="online-inter",
                                extra_extensions=[_cdp(server.url("/root.crl"))])
    good = P.make_leaf("Người ký hợp lệ", inter, "p256", seed="online-good",
                       extra_extensions=[_cdp(server.url("/inter.crl"))])
    bad = P.make_leaf("Người ký bị thu hồi", inter, "p256", seed="online-bad",
                      extra_extensions=[_cdp(server.url("/inter.crl"))])
    return root, inter, good, bad


def test_crls_are_fetched_once_and_decide(tmp_path):
    with LoopbackServer() as server:
        root, inter, good, bad = _pki(server)
        server.serve("/root.crl", _crl(root))
        server.serve("/inter.crl", _crl(inter, revoked=[bad.cert.serial_number]))
        policy = govsig.Policy(trust=[root.cert], revocation="hard-fail")
        fetcher = govsig.HttpFetcher(timeout=5, cache_dir=tmp_path / "cache")
        v = govsig.Verifier(policy, fetcher=fetcher)
        _close_later.append(fetcher)
        good_sig = P.sign_cms(CONTENT, good)
        bad_sig = P.sign_cms(CONTENT, bad)
        batch = v.verify_many([(good_sig, CONTENT)] * 50 + [(bad_sig, CONTENT)] * 50, threads=2, chunk_size=32)
        assert batch.counts() == {"ok": 50, "cert_revoked": 50}
        assert "revoked" in batch[60].reason and "Người ký bị thu hồi" in batch[60].reason
        # Each CRL URL fetched once for the whole batch.
        assert server.requests("/root.crl") == 1 and server.requests("/inter.crl") == 1
        evidence = batch[0].signers[0].revocation
        assert [e["status"] for e in evidence] == ["good", "good"]
        assert evidence[0]["crl_issuer"].startswith("CN=CA cấp 2")
        # Without a fetcher nothing is known: hard-fail refuses and names what is missing.
        offline = govsig.Verifier(policy).verify(good_sig, CONTENT)
        assert offline.code == "revocation_unknown"
        # Every certificate's missing CRL is named at once, so one fetch round suffices.
        assert sorted(offline.needs) == sorted([("crl", server.url("/inter.crl"), None),
                                                ("crl", server.url("/root.crl"), None)])
        # A second Verifier with a new fetcher on the same cache directory fetches nothing:
        # the cached CRLs are fresh until their nextUpdate.
        second = govsig.HttpFetcher(timeout=5, cache_dir=tmp_path / "cache")
        _close_later.append(second)
        again = govsig.Verifier(policy, fetcher=second)
        assert again.verify(good_sig, CONTENT).code == "ok"
        assert server.requests("/root.crl") == 1 and server.requests("/inter.crl") == 1


def test_unreachable_crl_soft_and_hard_fail(tmp_path):
    with LoopbackServer() as server:
        root, inter, good, _bad = _pki(server)
        server.serve("/root.crl", _crl(root))
        # /inter.crl is not served: 404.
        sig = P.sign_cms(CONTENT, good)
        hard = govsig.Verifier(govsig.Policy(trust=[root.cert], revocation="hard-fail"), fetcher=_fetcher())
        r = hard.verify(sig, CONTENT)
        # The only evidence that could decide could not be fetched: said as such.
        assert r.code == "fetch_failed"
        assert server.url("/inter.crl") in r.reason and "404" in r.reason
        assert server.url("/inter.crl") in hard.fetch_errors
        soft = govsig.Verifier(govsig.Policy(trust=[root.cert], revocation="soft-fail"), fetcher=_fetcher())
        r = soft.verify(sig, CONTENT)
        assert r.code == "ok"
        statuses = {e["subject"].split(",")[0]: e["status"] for e in r.signers[0].revocation}
        assert statuses["CN=Người ký hợp lệ"] == "unknown"
        assert statuses["CN=CA cấp 2 trực tuyến"] == "good"


def test_stale_crl_on_the_server_is_no_evidence(tmp_path):
    with LoopbackServer() as server:
        root, inter, good, _bad = _pki(server)
        server.serve("/root.crl", _crl(root))
        server.serve("/inter.crl", _crl(inter, next_update=NOW - dt.timedelta(minutes=1)))
        v = govsig.Verifier(govsig.Policy(trust=[root.cert], revocation="hard-fail"), fetcher=_fetcher())
        r = v.verify(P.sign_cms(CONTENT, good), CONTENT)
        assert r.code == "revocation_unknown"
        assert "stale" in r.reason
