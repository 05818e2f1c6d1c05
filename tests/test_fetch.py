"""govsig.HttpFetcher against loopback servers: CRLs named in certificates' CDPs, caching by
nextUpdate (in memory and on disk, across fetchers), OCSP GET/POST, bulk de-duplication and
parallelism, and hostile servers (endless, slow, silent, 404, garbage, redirect loops)."""

from __future__ import annotations

import base64
import datetime as dt
import json
import pickle
import resource
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp

import govsig
import pki
from govsig.fetch import FETCH_ERROR_KINDS, ocsp_get_url
from http_servers import LoopbackServer, RawServer, Reply, drip, endless, wait_until

UTC = dt.timezone.utc
# Every freshness decision in these tests runs on an injected clock, never the wall clock.
T0 = dt.datetime(2026, 3, 15, 9, 0, tzinfo=UTC)
GIB = 2**30
# Generous bound for "it finished": only catches hangs, never measures speed.
HANG = 30.0


def at(t: dt.datetime):  # noqa: ANN201 - a clock for HttpFetcher(clock=...)
    return lambda: t.timestamp()


class Clock:
    """A settable clock, so one fetcher can live through a CRL's nextUpdate."""

    def __init__(self, t: dt.datetime) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t.timestamp()


@pytest.fixture(scope="module")
def ca() -> pki.Issued:
    root = pki.make_root("Root CA fetch thử nghiệm", "p256")
    return pki.make_intermediate("CA fetch thử nghiệm", root, "p256")


def make_crl(ca: pki.Issued, *, number: int, revoked: tuple[int, ...] = (),
             this_update: dt.datetime = T0 - dt.timedelta(days=1),
             next_update: dt.datetime = T0 + dt.timedelta(days=6)) -> bytes:
    b = (x509.CertificateRevocationListBuilder()
         .issuer_name(ca.cert.subject)
         .last_update(this_update)
         .next_update(next_update)
         .add_extension(x509.CRLNumber(number), critical=False))
    for serial in revoked:
        b = b.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(serial)
            .revocation_date(T0 - dt.timedelta(days=2)).build())
    return b.sign(ca.key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def leaf_with_cdp(name: str, ca: pki.Issued, *urls: str) -> pki.Issued:
    cdp = x509.CRLDistributionPoints([
        x509.DistributionPoint([x509.UniformResourceIdentifier(u)], None, None, None) for u in urls
    ])
    return pki.make_leaf(name, ca, "p256", extra_extensions=[(cdp, False)])


def cdp_urls(cert: x509.Certificate) -> list[str]:
    ext = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    return [n.value for dp in ext for n in (dp.full_name or [])
            if isinstance(n, x509.UniformResourceIdentifier)]


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    with LoopbackServer() as s:
        yield s


# -- CRLs named in certificates ---------------------------------------------------------------


def test_crls_named_in_the_cdp_are_fetched_once_each_and_parse(server, ca):
    server.serve("/ca.crl", make_crl(ca, number=1, revoked=(0x1001, 0x1002)))
    server.serve("/ca-mirror.crl", make_crl(ca, number=1))
    leaves = [leaf_with_cdp(f"Người ký {i}", ca, server.url("/ca.crl"), server.url("/ca-mirror.crl"))
              for i in range(3)]
    urls = [u for leaf in leaves for u in cdp_urls(leaf.cert)]
    assert len(urls) == 6
    with govsig.HttpFetcher(timeout=5, clock=at(T0)) as f:
        got = f.fetch_many(crl_urls=urls)
        assert set(got) == {server.url("/ca.crl"), server.url("/ca-mirror.crl")}
        crl = govsig.Crl.from_der(got[server.url("/ca.crl")])
        assert crl.number == 1 and 0x1001 in crl and 0x1003 not in crl
        assert crl.verify_signature(ca.der)
        assert server.requests("/ca.crl") == 1 and server.requests("/ca-mirror.crl") == 1
        assert f.stats["fetches"] == 2
        # The verifier asks again for the next document: served from memory.
        assert f(urls[0]) == got[server.url("/ca.crl")]
        assert server.requests("/ca.crl") == 1
        assert f.stats["cache_hits"] == 1


def test_a_pem_crl_is_returned_as_der(server, ca):
    der = make_crl(ca, number=3)
    pem = x509.load_der_x509_crl(der).public_bytes(serialization.Encoding.PEM)
    server.serve("/ca.pem", b"\n" + pem, content_type="application/x-pem-file")
    with govsig.HttpFetcher(timeout=5, clock=at(T0)) as f:
        assert f.fetch_crl(server.url("/ca.pem")) == der


# -- freshness and the caches -----------------------------------------------------------------


def test_a_fresh_crl_is_not_refetched_a_stale_one_is(server, ca):
    first = make_crl(ca, number=1)
    server.serve("/ca.crl", first)
    clock = Clock(T0)
    with govsig.HttpFetcher(timeout=5, clock=clock) as f:
        url = server.url("/ca.crl")
        assert f.fetch_crl(url) == first
        # The CA publishes a new CRL before the old one's nextUpdate: the cached one is still
        # fresh, so it is served without asking.
        replacement = make_crl(ca, number=2)
        server.serve("/ca.crl", replacement)
        clock.t = T0 + dt.timedelta(days=5, hours=23)
        assert f.fetch_crl(url) == first
        assert server.requests("/ca.crl") == 1
        # Past nextUpdate (T0 + 6 days) the cached CRL is stale and the replacement is fetched.
        clock.t = T0 + dt.timedelta(days=6, seconds=1)
        assert f.fetch_crl(url) == replacement
        assert server.requests("/ca.crl") == 2


def test_a_crl_stale_on_arrival_is_returned_but_never_cached(server, ca, tmp_path):
    stale = make_crl(ca, number=1, this_update=T0 - dt.timedelta(days=10),
                     next_update=T0 - dt.timedelta(days=3))
    server.serve("/old.crl", stale)
    with govsig.HttpFetcher(timeout=5, cache_dir=tmp_path, clock=at(T0)) as f:
        # The core judges its freshness; the fetcher only refuses to keep it.
        assert f.fetch_crl(server.url("/old.crl")) == stale
        assert f.fetch_crl(server.url("/old.crl")) == stale
    assert server.requests("/old.crl") == 2
    assert list((tmp_path / "crl").iterdir()) == []


def test_the_disk_cache_honours_next_update_across_fetchers(server, ca, tmp_path):
    url = server.url("/ca.crl")
    first, second = make_crl(ca, number=1), make_crl(ca, number=2)
    server.serve("/ca.crl", first)
    with govsig.HttpFetcher(timeout=5, cache_dir=tmp_path, clock=at(T0)) as f1:
        assert f1.fetch_crl(url) == first
    server.serve("/ca.crl", second)
    # A second fetcher (another process, tomorrow) reads the still-fresh CRL from disk.
    with govsig.HttpFetcher(timeout=5, cache_dir=tmp_path, clock=at(T0 + dt.timedelta(days=1))) as f2:
        assert f2.fetch_crl(url) == first
        assert f2.stats["disk_hits"] == 1 and f2.stats["fetches"] == 0
    assert server.requests("/ca.crl") == 1
    # After nextUpdate the disk entry is stale: refetched, and the disk now holds the new one.
    later = T0 + dt.timedelta(days=7)
    second_fresh = make_crl(ca, number=2, this_update=later, next_update=later + dt.timedelta(days=7))
    server.serve("/ca.crl", second_fresh)
    with govsig.HttpFetcher(timeout=5, cache_dir=tmp_path, clock=at(later)) as f3:
        assert f3.fetch_crl(url) == second_fresh
        assert f3.stats["fetches"] == 1
    with govsig.HttpFetcher(timeout=5, cache_dir=tmp_path, clock=at(later)) as f4:
        assert f4.fetch_crl(url) == second_fresh
        assert f4.stats["disk_hits"] == 1
    assert server.requests("/ca.crl") == 2
    sidecars = list((tmp_path / "crl").glob("*.json"))
    assert len(sidecars) == 1
    meta = json.loads(sidecars[0].read_text())
    assert meta["url"] == url
    assert meta["next_update"] == (later + dt.timedelta(days=7)).timestamp()
    assert meta["fetched_at"] == later.timestamp()
    assert not list((tmp_path / "crl").glob(".tmp-*")), "temporary files left behind"


@pytest.mark.parametrize("damage", ["truncated_body", "garbage_sidecar", "sidecar_for_other_url",
                                    "body_missing", "sidecar_extends_life"])
def test_a_corrupt_disk_entry_is_a_miss_not_an_error(server, ca, tmp_path, damage):
    url = server.url("/ca.crl")
    crl = make_crl(ca, number=1)
    server.serve("/ca.crl", crl)
    with govsig.HttpFetcher(timeout=5, cache_dir=tmp_path, clock=at(T0)) as f:
        f.fetch_crl(url)
    (body,) = (tmp_path / "crl").glob("*.crl")
    (sidecar,) = (tmp_path / "crl").glob("*.json")
    meta = json.loads(sidecar.read_text())
    if damage == "truncated_body":
        body.write_bytes(crl[:40])
    elif damage == "garbage_sidecar":
        sidecar.write_bytes(b"\x00{not json")
    elif damage == "sidecar_for_other_url":
        sidecar.write_text(json.dumps({**meta, "url": server.url("/other.crl")}))
    elif damage == "body_missing":
        body.unlink()
    else:
        # nextUpdate comes from the CRL itself; a sidecar claiming more cannot keep it alive.
        sidecar.write_text(json.dumps({**meta, "next_update": 4e9}))
    when = T0 + dt.timedelta(days=10) if damage == "sidecar_extends_life" else T0
    fresh = make_crl(ca, number=9, this_update=when, next_update=when + dt.timedelta(days=7))
    server.serve("/ca.crl", fresh)
    with govsig.HttpFetcher(timeout=5, cache_dir=tmp_path, clock=at(when)) as f:
        assert f.fetch_crl(url) == fresh
        assert f.stats["disk_hits"] == 0
    assert server.requests("/ca.crl") == 2
    # The damaged entry was replaced by a good one.
    with govsig.HttpFetcher(timeout=5, cache_dir=tmp_path, clock=at(when)) as f:
        assert f.fetch_crl(url) == fresh and f.stats["disk_hits"] == 1


def test_the_memory_cache_is_bounded_least_recently_used_out(server, ca, tmp_path):
    a, b = make_crl(ca, number=1), make_crl(ca, number=2)
    server.serve("/a.crl", a)
    server.serve("/b.crl", b)
    with govsig.HttpFetcher(timeout=5, memory_cache_bytes=max(len(a), len(b)) + 10,
                            clock=at(T0)) as f:
        f.fetch_crl(server.url("/a.crl"))
        f.fetch_crl(server.url("/b.crl"))    # room for one: a goes
        f.fetch_crl(server.url("/b.crl"))
        f.fetch_crl(server.url("/a.crl"))
    assert (server.requests("/a.crl"), server.requests("/b.crl")) == (2, 1)
    # With no memory cache at all, the disk still answers.
    with govsig.HttpFetcher(timeout=5, memory_cache_bytes=0, cache_dir=tmp_path, clock=at(T0)) as f:
        for _ in range(3):
            assert f.fetch_crl(server.url("/a.crl")) == a
        assert f.stats["disk_hits"] == 2
    assert server.requests("/a.crl") == 3


def test_an_unusable_cache_dir_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_bytes(b"")
    with pytest.raises(OSError, match="cannot use cache_dir"):
        govsig.HttpFetcher(cache_dir=blocker)


# -- OCSP -------------------------------------------------------------------------------------


def ocsp_request(leaf: pki.Issued, nonce: bytes | None = None) -> bytes:
    b = ocsp.OCSPRequestBuilder().add_certificate(leaf.cert, leaf.issuer.cert, hashes.SHA1())
    if nonce is not None:
        b = b.add_extension(x509.OCSPNonce(nonce), critical=False)
    return b.build().public_bytes(serialization.Encoding.DER)


def ocsp_response(leaf: pki.Issued, next_update: dt.datetime | None) -> bytes:
    resp = (ocsp.OCSPResponseBuilder()
            .add_response(cert=leaf.cert, issuer=leaf.issuer.cert, algorithm=hashes.SHA1(),
                          cert_status=ocsp.OCSPCertStatus.GOOD, this_update=T0 - dt.timedelta(hours=1),
                          next_update=next_update, revocation_time=None, revocation_reason=None)
            .responder_id(ocsp.OCSPResponderEncoding.HASH, leaf.issuer.cert)
            .sign(leaf.issuer.key, hashes.SHA256()))
    return resp.public_bytes(serialization.Encoding.DER)


class Responder:
    """An OCSP responder on ``server`` at /ocsp: GET per RFC 6960 appendix A.1 and POST."""

    def __init__(self, server: LoopbackServer, answer: bytes) -> None:
        self.answer = answer
        self.requests: list[tuple[str, bytes]] = []
        server.route("/ocsp", self._post)
        server.route_prefix("/ocsp/", self._get)

    def _post(self, seen):
        assert seen.headers.get("Content-Type") == "application/ocsp-request"
        self.requests.append(("POST", seen.body))
        return Reply(self.answer, content_type="application/ocsp-response")

    def _get(self, seen):
        self.requests.append(("GET", base64.b64decode(unquote(seen.path[len("/ocsp/"):]), validate=True)))
        return Reply(self.answer, content_type="application/ocsp-response")


@pytest.fixture(scope="module")
def leaf(ca) -> pki.Issued:
    return pki.make_leaf("Trần Thị Bình", ca, "p256")


def test_a_small_ocsp_request_goes_by_get_and_is_cached_until_next_update(server, leaf):
    req = ocsp_request(leaf)
    answer = ocsp_response(leaf, next_update=T0 + dt.timedelta(hours=12))
    responder = Responder(server, answer)
    clock = Clock(T0)
    with govsig.HttpFetcher(timeout=5, clock=clock) as f:
        assert f.fetch_ocsp(server.url("/ocsp"), req) == answer
        assert responder.requests == [("GET", req)]
        assert f(server.url("/ocsp"), req) == answer
        assert len(responder.requests) == 1 and f.stats["cache_hits"] == 1
        clock.t = T0 + dt.timedelta(hours=12, seconds=1)
        assert f.fetch_ocsp(server.url("/ocsp"), req) == answer
        assert len(responder.requests) == 2


def test_a_large_ocsp_request_goes_by_post(server, leaf):
    # A 200-byte nonce pushes the GET URL past RFC 5019's 255 bytes.
    req = ocsp_request(leaf, nonce=bytes(range(200)))
    assert ocsp_get_url(server.url("/ocsp"), req) is None
    answer = ocsp_response(leaf, next_update=T0 + dt.timedelta(hours=12))
    responder = Responder(server, answer)
    with govsig.HttpFetcher(timeout=5, clock=at(T0)) as f:
        assert f.fetch_ocsp(server.url("/ocsp"), req) == answer
    assert responder.requests == [("POST", req)]


def test_a_responder_refusing_get_is_asked_again_by_post(server, leaf):
    req = ocsp_request(leaf)
    responder = Responder(server, ocsp_response(leaf, next_update=T0 + dt.timedelta(hours=12)))
    server.route_prefix("/ocsp/", lambda _s: Reply(b"GET not allowed", status=405))
    with govsig.HttpFetcher(timeout=5, clock=at(T0)) as f:
        assert f.fetch_ocsp(server.url("/ocsp"), req) == responder.answer
        assert f.stats["fetches"] == 1 and f.stats["requests"] == 2 and f.stats["errors"] == 0
    assert [s.method for s in server.seen] == ["GET", "POST"]
    assert responder.requests == [("POST", req)]


def test_ocsp_get_url_is_rfc6960_appendix_a_encoding():
    # b"\xfb\xff" base64-encodes to "+/8=": all three characters must be percent-encoded.
    assert ocsp_get_url("http://ocsp.example.vn", b"\xfb\xff") == "http://ocsp.example.vn/%2B%2F8%3D"
    assert ocsp_get_url("http://ocsp.example.vn/", b"\xfb\xff") == "http://ocsp.example.vn/%2B%2F8%3D"
    base = "http://o.vn/"
    fits = 255 - len(base)
    assert ocsp_get_url(base, b"\x00" * (fits // 4 * 3)) is not None
    assert ocsp_get_url(base, b"\x00" * (fits // 4 * 3 + 3)) is None


def test_an_unsuccessful_or_undated_ocsp_response_is_returned_but_not_cached(server, leaf):
    req = ocsp_request(leaf)
    try_later = ocsp.OCSPResponseBuilder.build_unsuccessful(
        ocsp.OCSPResponseStatus.TRY_LATER).public_bytes(serialization.Encoding.DER)
    responder = Responder(server, try_later)
    with govsig.HttpFetcher(timeout=5, clock=at(T0)) as f:
        assert f.fetch_ocsp(server.url("/ocsp"), req) == try_later
        assert f.fetch_ocsp(server.url("/ocsp"), req) == try_later
        assert len(responder.requests) == 2
        # No nextUpdate: RFC 6960 §2.4 says newer information is always available.
        responder.answer = ocsp_response(leaf, next_update=None)
        f.fetch_ocsp(server.url("/ocsp"), req)
        f.fetch_ocsp(server.url("/ocsp"), req)
        assert len(responder.requests) == 4


def test_html_from_an_ocsp_responder_is_a_bad_response(server, leaf):
    server.route_prefix("/ocsp/", lambda _s: Reply(b"<html>Service Unavailable</html>", content_type="text/html"))
    with govsig.HttpFetcher(timeout=5) as f, pytest.raises(govsig.FetchError) as e:
        f.fetch_ocsp(server.url("/ocsp"), ocsp_request(leaf))
    assert e.value.kind == "bad_response" and "<html>" in str(e.value)


# -- bulk -------------------------------------------------------------------------------------


def test_fetch_many_dedupes_and_reports_failures_as_values(server, ca, leaf):
    server.serve("/a.crl", make_crl(ca, number=1))
    server.serve("/b.crl", make_crl(ca, number=2))
    other = pki.make_leaf("Lê Văn Cường", ca, "p256")
    responder = Responder(server, ocsp_response(leaf, next_update=T0 + dt.timedelta(hours=1)))
    req1, req2 = ocsp_request(leaf), ocsp_request(other)
    crl_urls = [server.url("/a.crl"), server.url("/b.crl"), server.url("/missing.crl")] * 5
    pairs = [(server.url("/ocsp"), req1), (server.url("/ocsp"), req2)] * 5
    with govsig.HttpFetcher(timeout=5, clock=at(T0)) as f:
        got = f.fetch_many(crl_urls=crl_urls, ocsp=pairs)
        assert f.stats["fetches"] == 5 and f.stats["errors"] == 1
    assert len(got) == 5
    assert govsig.Crl.from_der(got[server.url("/b.crl")]).number == 2
    missing = got[server.url("/missing.crl")]
    assert isinstance(missing, govsig.FetchError) and missing.kind == "http_status"
    assert "404" in missing.reason and server.url("/missing.crl") in str(missing)
    assert got[(server.url("/ocsp"), req1)] == responder.answer
    assert server.requests("/a.crl") == 1 and server.requests("/b.crl") == 1
    assert server.requests("/missing.crl") == 1
    assert sorted(r for _, r in responder.requests) == sorted([req1, req2])


def test_fetch_many_runs_in_parallel(server, ca):
    # Each handler waits for all four requests to be in flight at once; a fetcher that
    # fetched one at a time would leave the first waiting and get a 503.
    barrier = threading.Barrier(4, timeout=HANG)
    crl = make_crl(ca, number=1)

    def meet(_seen):
        try:
            barrier.wait()
        except threading.BrokenBarrierError:
            return Reply(b"not parallel", status=503)
        return Reply(crl)

    urls = [server.url(f"/p{i}.crl") for i in range(4)]
    for i in range(4):
        server.route(f"/p{i}.crl", meet)
    with govsig.HttpFetcher(timeout=HANG, max_workers=4, clock=at(T0)) as f:
        got = f.fetch_many(crl_urls=urls)
    assert all(got[u] == crl for u in urls), got


def test_many_urls_on_one_host_share_a_connection_per_worker(server, ca):
    crl = make_crl(ca, number=1)
    urls = [server.url(f"/ca{i}.crl") for i in range(60)]
    for i in range(60):
        server.serve(f"/ca{i}.crl", crl)
    with govsig.HttpFetcher(timeout=HANG, max_workers=4, clock=at(T0)) as f:
        got = f.fetch_many(crl_urls=urls + urls[::-1])
        assert f.stats["fetches"] == 60 and f.stats["requests"] == 60
    assert all(got[u] == crl for u in urls)
    assert server.requests() == 60
    assert server.connections <= 4


def test_concurrent_callers_share_one_fetch(server, ca):
    crl = make_crl(ca, number=1)
    release = threading.Event()

    def held(_seen):
        release.wait(HANG)
        return Reply(crl)

    server.route("/held.crl", held)
    url = server.url("/held.crl")
    with govsig.HttpFetcher(timeout=HANG, clock=at(T0)) as f:
        results: list[bytes] = []
        threads = [threading.Thread(target=lambda: results.append(f.fetch_crl(url))) for _ in range(8)]
        for t in threads:
            t.start()
        # Hold the one request until the seven other callers are all waiting on it.
        assert wait_until(lambda: f.stats["coalesced"] == 7, HANG)
        release.set()
        for t in threads:
            t.join(HANG)
        assert results == [crl] * 8
    assert server.requests("/held.crl") == 1


def test_connections_are_kept_alive_and_a_dropped_one_is_retried(server, ca):
    crl = make_crl(ca, number=1)
    for i in range(5):
        server.serve(f"/k{i}.crl", crl)
    with govsig.HttpFetcher(timeout=5, clock=at(T0)) as f:
        for i in range(5):
            f.fetch_crl(server.url(f"/k{i}.crl"))
        assert server.connections == 1
        # The server closes the idle connection without warning, as real servers do after
        # their keep-alive timeout; the next fetch notices and retries once on a new one.
        server.route("/drop.crl", lambda _s: Reply(crl, drop_after=True))
        f.fetch_crl(server.url("/drop.crl"))
        wait_until(lambda: server.requests("/drop.crl") == 1)
        server.serve("/after.crl", crl)
        assert f.fetch_crl(server.url("/after.crl")) == crl
    assert server.connections == 2


# -- redirects and URLs -----------------------------------------------------------------------


def redirect(to: str, status: int = 302):
    return lambda _s: Reply(status=status, headers={"Location": to})


def test_redirects_are_followed_three_times_and_no_more(server, ca):
    crl = make_crl(ca, number=1)
    server.serve("/final.crl", crl)
    server.route("/r1", redirect("/final.crl", 301))
    server.route("/r2", redirect(server.url("/r1"), 307))
    server.route("/r3", redirect("r2", 308))   # relative Location, RFC 9110 §10.2.2
    server.route("/r4", redirect("/r3"))
    with govsig.HttpFetcher(timeout=5, clock=at(T0)) as f:
        assert f.fetch_crl(server.url("/r3")) == crl
        with pytest.raises(govsig.FetchError) as e:
            f.fetch_crl(server.url("/r4"))
    assert e.value.kind == "http_status" and "redirects" in e.value.reason


@pytest.mark.parametrize("target", ["ldap://ldap.example.vn/cn=CA?certificateRevocationList",
                                    "https://127.0.0.1:1/ca.crl", "file:///etc/passwd"])
def test_a_redirect_off_http_is_refused(server, target):
    server.route("/r", redirect(target))
    with govsig.HttpFetcher(timeout=5) as f, pytest.raises(govsig.FetchError) as e:
        f.fetch_crl(server.url("/r"))
    assert e.value.kind == "bad_url" and e.value.url == target


@pytest.mark.parametrize("url", [
    "ldap://ldap.example.vn/cn=CA,o=Gov,c=VN?certificateRevocationList;binary",
    "file:///etc/passwd",
    "https://ca.example.vn/ca.crl",
    "ca.example.vn/ca.crl",
    "http://",
    "http://user:secret@ca.example.vn/ca.crl",
    "http://ca.example.vn:99999/ca.crl",
    "http://ca.example.vn/ca crl",
    "http://ca.example.vn/ca.crl\r\nX-Injected: 1",
    "http://ca.example.vn/chứng-thư.crl",
])
def test_unfetchable_urls_are_bad_url_without_touching_the_network(url):
    with govsig.HttpFetcher(timeout=5) as f:
        with pytest.raises(govsig.FetchError) as e:
            f.fetch_crl(url)
        assert e.value.kind == "bad_url" and e.value.url == url
        assert "http://" in str(e.value)
        assert f.stats["requests"] == 0


def test_a_forward_proxy_gets_absolute_urls_and_resolves_the_host_itself(server, ca):
    crl = make_crl(ca, number=1)
    # ".invalid" never resolves (RFC 6761 §6.4): only the proxy can have answered.
    server.serve("http://ca.example.invalid/ca.crl", crl)
    server.route("http://ca.example.invalid/old.crl", redirect("/ca.crl", 301))
    with govsig.HttpFetcher(timeout=5, proxy=server.url(""), clock=at(T0)) as f:
        assert f.fetch_crl("http://ca.example.invalid/old.crl") == crl
    assert [s.path for s in server.seen] == ["http://ca.example.invalid/old.crl",
                                             "http://ca.example.invalid/ca.crl"]
    assert server.seen[0].headers["Host"] == "ca.example.invalid"


@pytest.fixture
def clean_proxy_env(monkeypatch):
    for name in ("http_proxy", "HTTP_PROXY", "no_proxy", "NO_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_the_environment_proxy_is_used_and_loopback_always_goes_direct(server, ca, clean_proxy_env):
    crl = make_crl(ca, number=1)
    server.serve("http://ca.example.invalid/ca.crl", crl)
    server.serve("/direct.crl", crl)
    clean_proxy_env.setenv("http_proxy", server.url(""))
    with govsig.HttpFetcher(timeout=5, clock=at(T0)) as f:
        # ".invalid" never resolves (RFC 6761 §6.4): only the environment's proxy can have
        # answered.
        assert f.fetch_crl("http://ca.example.invalid/ca.crl") == crl
        assert server.seen[-1].path == "http://ca.example.invalid/ca.crl"
    # A proxy cannot reach this machine's loopback: such URLs go direct, even with a proxy
    # in the environment that nobody listens on.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
        clean_proxy_env.setenv("http_proxy", dead)
        with govsig.HttpFetcher(timeout=5, clock=at(T0)) as f:
            assert f.fetch_crl(server.url("/direct.crl")) == crl
    assert server.seen[-1].path == "/direct.crl"


def test_no_proxy_and_trust_env_false_bypass_the_environment_proxy(clean_proxy_env):
    # Decided before any connection, so it is observed on the pool chosen for a host (no
    # name of the test resolves, and nothing is sent).
    import urllib3

    clean_proxy_env.setenv("http_proxy", "http://proxy.example.invalid:3128")
    clean_proxy_env.setenv("no_proxy", "crl.example.invalid")
    with govsig.HttpFetcher(timeout=5) as f:
        assert isinstance(f._http._manager("ocsp.example.invalid"), urllib3.ProxyManager)
        assert not isinstance(f._http._manager("crl.example.invalid"), urllib3.ProxyManager)
    with govsig.HttpFetcher(timeout=5, trust_env=False) as f:
        assert not isinstance(f._http._manager("ocsp.example.invalid"), urllib3.ProxyManager)
        g = pickle.loads(pickle.dumps(f))
        assert g.trust_env is False
        g.close()


@pytest.mark.parametrize("proxy", ["https://proxy.example.vn:3128", "proxy.example.vn:3128", "http://"])
def test_a_proxy_that_is_not_an_http_url_is_refused(proxy):
    with pytest.raises(ValueError, match="proxy must be an http://host:port URL"):
        govsig.HttpFetcher(proxy=proxy)


def test_a_refused_connection_is_a_connection_error():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    # Nothing listens on the port any more.
    with govsig.HttpFetcher(timeout=5) as f, pytest.raises(govsig.FetchError) as e:
        f.fetch_crl(f"http://127.0.0.1:{port}/ca.crl")
    assert e.value.kind == "connection"


# -- hostile servers --------------------------------------------------------------------------


def test_404_is_an_http_status_error(server):
    with govsig.HttpFetcher(timeout=5) as f, pytest.raises(govsig.FetchError) as e:
        f.fetch_crl(server.url("/nope.crl"))
    assert e.value.kind == "http_status"
    assert e.value.url == server.url("/nope.crl")
    assert "HTTP 404" in str(e.value) and "check the URL" in str(e.value)


def test_garbage_bytes_are_a_bad_response_and_not_cached(server, tmp_path):
    server.serve("/junk.crl", bytes(range(256)) * 40)
    with govsig.HttpFetcher(timeout=5, cache_dir=tmp_path) as f:
        for _ in range(2):
            with pytest.raises(govsig.FetchError) as e:
                f.fetch_crl(server.url("/junk.crl"))
            assert e.value.kind == "bad_response"
            assert "10240-byte body is not a CRL" in e.value.reason
    assert server.requests("/junk.crl") == 2
    assert list((tmp_path / "crl").iterdir()) == []


def _peak_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB


@pytest.mark.parametrize("framing", ["content_length", "chunked", "close_delimited"])
def test_a_1_gib_response_is_cut_at_max_bytes(server, framing):
    cap = 2 * 2**20
    if framing == "content_length":
        reply = lambda _s: Reply(endless(GIB), length=GIB)  # noqa: E731
    elif framing == "chunked":
        reply = lambda _s: Reply(endless(GIB))  # noqa: E731
    else:
        reply = lambda _s: Reply(endless(GIB), close_delimited=True)  # noqa: E731
    server.route("/huge.crl", reply)
    rss_before = _peak_rss_bytes()
    started = time.monotonic()
    with govsig.HttpFetcher(timeout=10, max_bytes=cap) as f:
        with pytest.raises(govsig.FetchError) as e:
            f.fetch_crl(server.url("/huge.crl"))
        received = f.stats["bytes"]
    assert e.value.kind == "too_large" and str(cap) in e.value.reason
    assert "max_bytes" in str(e.value)
    assert time.monotonic() - started < HANG
    # The client read at most cap + 1 bytes of body...
    assert received <= cap + 1
    if framing == "content_length":
        assert received == 0  # the announced length alone was enough to refuse
    # ...the server could push only what the socket buffers absorb before the client hung up...
    assert wait_until(lambda: server.replies_done == 1)
    assert server.bytes_sent < cap + 64 * 2**20
    # ...and the process's peak memory grew by nowhere near a gibibyte.
    assert _peak_rss_bytes() - rss_before < 128 * 2**20


def test_a_body_of_exactly_max_bytes_is_accepted(server, ca):
    crl = make_crl(ca, number=1)
    server.serve("/exact.crl", crl)
    with govsig.HttpFetcher(timeout=5, max_bytes=len(crl), clock=at(T0)) as f:
        assert f.fetch_crl(server.url("/exact.crl")) == crl
    with govsig.HttpFetcher(timeout=5, max_bytes=len(crl) - 1, clock=at(T0)) as f:
        with pytest.raises(govsig.FetchError) as e:
            f.fetch_crl(server.url("/exact.crl"))
        assert e.value.kind == "too_large"


def test_a_silent_server_times_out():
    with RawServer("silent") as raw, govsig.HttpFetcher(timeout=0.5) as f:
        started = time.monotonic()
        with pytest.raises(govsig.FetchError) as e:
            f.fetch_crl(raw.url("/ca.crl"))
        assert time.monotonic() - started < HANG
    assert e.value.kind == "timeout" and "timeout=" in str(e.value)


def test_a_server_dripping_the_body_hits_the_total_deadline(server, ca):
    # One byte every 0.05 s never trips the 1 s read timeout; the total deadline (2 x 1 s)
    # stops the fetch long before the 2,000 bytes would have arrived (100 s).
    body = b"\x30" + bytes(1999)
    server.route("/slow.crl", lambda _s: Reply(drip(server, body, 0.05), length=len(body)))
    with govsig.HttpFetcher(timeout=1.0) as f:
        started = time.monotonic()
        with pytest.raises(govsig.FetchError) as e:
            f.fetch_crl(server.url("/slow.crl"))
        assert time.monotonic() - started < HANG
    assert e.value.kind == "timeout" and "within 2 s" in e.value.reason


def test_a_server_dripping_the_headers_hits_the_total_deadline():
    with RawServer("drip_headers", interval=0.05) as raw, govsig.HttpFetcher(timeout=1.0) as f:
        started = time.monotonic()
        with pytest.raises(govsig.FetchError) as e:
            f.fetch_crl(raw.url("/ca.crl"))
        assert time.monotonic() - started < HANG
    assert e.value.kind == "timeout" and "within 2 s" in e.value.reason


def test_a_timed_out_fetch_leaves_the_fetcher_usable(server, ca):
    crl = make_crl(ca, number=1)
    server.route("/slow.crl", lambda _s: Reply(drip(server, b"\x30" * 100, 0.2), length=100))
    server.serve("/ok.crl", crl)
    with govsig.HttpFetcher(timeout=0.5, clock=at(T0)) as f:
        got = f.fetch_many(crl_urls=[server.url("/slow.crl"), server.url("/ok.crl")])
        assert isinstance(got[server.url("/slow.crl")], govsig.FetchError)
        assert got[server.url("/ok.crl")] == crl
        assert f.fetch_crl(server.url("/ok.crl")) == crl


# -- the object itself ------------------------------------------------------------------------


def test_fetch_errors_pickle_and_name_their_kind():
    e = govsig.FetchError("http://ca.example.vn/ca.crl", "timeout", "no data for 10 s")
    back = pickle.loads(pickle.dumps(e))
    assert (back.url, back.kind, back.reason, str(back)) == (e.url, e.kind, e.reason, str(e))
    assert set(FETCH_ERROR_KINDS) == {"bad_url", "connection", "timeout", "http_status",
                                      "too_large", "bad_response"}
    with pytest.raises(ValueError, match="unknown FetchError kind"):
        govsig.FetchError("http://x/", "oops", "r")


def test_a_fetcher_pickles_by_configuration(server, ca, tmp_path):
    crl = make_crl(ca, number=1)
    server.serve("http://ca.example.invalid/ca.crl", crl)
    f = govsig.HttpFetcher(timeout=3, cache_dir=tmp_path, max_bytes=12345, max_workers=2,
                           user_agent="portal/1.0", proxy=server.url(""), clock=Clock(T0))
    g = pickle.loads(pickle.dumps(f))
    assert (g.timeout, g.cache_dir, g.max_bytes, g.max_workers, g.user_agent, g.proxy) == \
        (3.0, Path(tmp_path), 12345, 2, "portal/1.0", server.url(""))
    got = g.fetch_many(crl_urls=["http://ca.example.invalid/ca.crl"])
    assert got == {"http://ca.example.invalid/ca.crl": crl}
    assert server.seen[-1].headers["User-Agent"] == "portal/1.0"
    f.close()
    g.close()


def test_default_user_agent_names_govsig(server, ca):
    server.serve("/ca.crl", make_crl(ca, number=1))
    with govsig.HttpFetcher(timeout=5, clock=at(T0)) as f:
        f.fetch_crl(server.url("/ca.crl"))
    assert server.seen[0].headers["User-Agent"] == f"govsig/{govsig.__version__}"
    assert server.seen[0].headers["Accept"] == "application/pkix-crl"
    assert server.seen[0].headers["Accept-Encoding"] == "identity"


@pytest.mark.parametrize("kwargs", [{"timeout": 0}, {"timeout": -1.0}, {"timeout": "10"},
                                    {"max_bytes": 0}, {"max_bytes": 1.5}, {"max_workers": 0},
                                    {"user_agent": "x\r\nInjected: 1"}])
def test_bad_configuration_is_refused(kwargs):
    with pytest.raises(ValueError):
        govsig.HttpFetcher(**kwargs)


def test_wrong_argument_types_are_type_errors():
    with govsig.HttpFetcher() as f:
        with pytest.raises(TypeError):
            f.fetch_crl(b"http://x/")  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            f.fetch_ocsp("http://x/", "not bytes")  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            f.fetch_many(crl_urls="http://x/")
        with pytest.raises(TypeError):
            f.fetch_many(ocsp=[("http://x/",)])  # type: ignore[list-item]
