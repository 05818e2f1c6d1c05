"""A long-running Verifier with an HttpFetcher keeps its revocation evidence fresh (issue 10,
item 2): over simulated hours, against a loopback CRL server and a real ``openssl ocsp``
responder whose answers change, it fetches again what went stale and so sees a revocation
published after its first fetch; a failed fetch is retried after a bounded back-off, not
remembered for the Verifier's life; evidence that came but decided nothing is not asked for
again until it would be stale.

Every time decision runs on one simulated clock given to both the Verifier and the
HttpFetcher (``clock=``); the servers count what they were asked, so "not fetched again" is an
exact count, never a timing.
"""

from __future__ import annotations

import base64
import datetime as dt
import pickle
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509 import ocsp as c_ocsp
from cryptography.x509.oid import AuthorityInformationAccessOID

import govsig
import pki as P
from govsig._refresh import RETRY_FIRST_SECONDS, RETRY_MAX_SECONDS
from govsig.ocsp import build_request
from http_servers import LoopbackServer, Reply, Seen
from ocsp_responder import IndexEntry, OcspResponder

UTC = dt.timezone.utc
CONTENT = "Quyết định phê duyệt hồ sơ số 1024".encode()


class SimClock:
    """Simulated time: stands still until a test moves it."""

    def __init__(self, t: dt.datetime) -> None:
        self.t = t

    def __call__(self) -> dt.datetime:
        return self.t

    def advance(self, **delta: float) -> None:
        self.t += dt.timedelta(**delta)


def rfc3339(t: dt.datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def real_now() -> dt.datetime:
    return dt.datetime.now(UTC).replace(microsecond=0)


def cdp(url: str) -> tuple[x509.ExtensionType, bool]:
    return x509.CRLDistributionPoints(
        [x509.DistributionPoint([x509.UniformResourceIdentifier(url)], None, None, None)]), False


def aia(url: str) -> tuple[x509.ExtensionType, bool]:
    return x509.AuthorityInformationAccess(
        [x509.AccessDescription(AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(url))]), False


def make_crl(issuer: P.Issued, this_update: dt.datetime, next_update: dt.datetime, number: int,
             revoked: tuple[tuple[int, dt.datetime], ...] = ()) -> bytes:
    b = (x509.CertificateRevocationListBuilder()
         .issuer_name(issuer.cert.subject)
         .last_update(this_update)
         .next_update(next_update)
         .add_extension(x509.CRLNumber(number), critical=False))
    for serial, when in revoked:
        b = b.add_revoked_certificate(x509.RevokedCertificateBuilder().serial_number(serial)
                                      .revocation_date(when).build())
    return b.sign(issuer.key, hashes.SHA256()).public_bytes(Encoding.DER)


_close_later: list[govsig.HttpFetcher] = []


def fetcher(clock: SimClock, **kw) -> govsig.HttpFetcher:  # noqa: ANN003
    f = govsig.HttpFetcher(timeout=10, clock=clock, **kw)
    _close_later.append(f)
    return f


@pytest.fixture(autouse=True)
def _close_fetchers() -> Iterator[None]:
    yield
    while _close_later:
        _close_later.pop().close()


def leaf_evidence(result: govsig.VerifyResult, leaf: P.Issued) -> dict:
    cn = leaf.cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value
    (ev,) = [e for e in result.signers[0].revocation if e["subject"].startswith(f"CN={cn}")]
    return ev


# -- a CA publishing CRLs on a loopback server --------------------------------------------------


@dataclass
class CrlWorld:
    server: LoopbackServer
    root: P.Issued
    ca: P.Issued
    leaf: P.Issued
    sig: bytes
    t0: dt.datetime
    bodies: dict[str, bytes] = field(default_factory=dict)
    down: set[str] = field(default_factory=set)

    def publish(self, path: str, der: bytes) -> None:
        self.bodies[path] = der

    def route(self, path: str) -> None:
        def reply(_seen: Seen) -> Reply:
            if path in self.down:
                return Reply(b"maintenance\n", status=503, content_type="text/plain")
            return Reply(self.bodies[path], content_type="application/pkix-crl")
        self.server.route(path, reply)

    @property
    def ca_crl_url(self) -> str:
        return self.server.url("/ca.crl")

    def ca_crl_requests(self) -> int:
        return self.server.requests("/ca.crl")

    def policy(self, revocation: str) -> govsig.Policy:
        return govsig.Policy(trust=[self.root.cert], revocation=revocation)


@pytest.fixture
def crl_world() -> Iterator[CrlWorld]:
    with LoopbackServer() as server:
        root = P.make_root("Root CA làm mới CRL", "p256", seed="refresh-crl-root")
        ca = P.make_intermediate("CA cấp CRL định kỳ", root, "p256", seed="refresh-crl-ca",
                                 extra_extensions=[cdp(server.url("/root.crl"))])
        leaf = P.make_leaf("Người ký theo dõi CRL", ca, "p256", seed="refresh-crl-leaf",
                           extra_extensions=[cdp(server.url("/ca.crl"))])
        t0 = real_now()
        w = CrlWorld(server, root, ca, leaf, P.sign_cms(CONTENT, leaf), t0)
        # The root's CRL stays fresh over every simulated span below: only the CA's changes.
        w.publish("/root.crl", make_crl(root, t0 - dt.timedelta(hours=1), t0 + dt.timedelta(days=30), 1))
        w.publish("/ca.crl", make_crl(ca, t0 - dt.timedelta(hours=1), t0 + dt.timedelta(hours=6), 1))
        w.route("/root.crl")
        w.route("/ca.crl")
        yield w


def revoke_at(w: CrlWorld, when: dt.datetime, next_update: dt.datetime, number: int = 2) -> bytes:
    return make_crl(w.ca, when, next_update, number, revoked=((w.leaf.cert.serial_number, when),))


def test_soft_fail_sees_a_revocation_published_after_the_first_fetch(crl_world: CrlWorld) -> None:
    w = crl_world
    clock = SimClock(w.t0)
    v = govsig.Verifier(w.policy("soft-fail"), fetcher=fetcher(clock), clock=clock)
    r = v.verify(w.sig, CONTENT)
    assert r.code == "ok", r.reason
    ev = leaf_evidence(r, w.leaf)
    assert (ev["status"], ev["source"]) == ("good", "crl")
    assert w.ca_crl_requests() == 1

    # An hour later the CA revokes the signer; the CRL the Verifier holds promises nothing
    # newer before its nextUpdate (T0 + 6 h), so within it the Verifier does not ask again.
    revoked_on = w.t0 + dt.timedelta(hours=1)
    w.publish("/ca.crl", revoke_at(w, revoked_on, w.t0 + dt.timedelta(hours=12)))
    clock.advance(hours=2)
    assert v.verify(w.sig, CONTENT).code == "ok"
    assert w.ca_crl_requests() == 1

    # Past that nextUpdate the CRL is stale: fetched again, and the revocation is seen.
    clock.advance(hours=4, seconds=1)
    r = v.verify(w.sig, CONTENT)
    assert r.code == "cert_revoked"
    assert "Người ký theo dõi CRL" in r.reason
    assert f"was revoked on {rfc3339(revoked_on)}" in r.reason
    assert w.ca_crl_requests() == 2
    # The bulk path and the certificate path judge at the same clock, on the same evidence.
    batch = v.verify_many([(w.sig, CONTENT)] * 3)
    assert [batch[i].code for i in range(3)] == ["cert_revoked"] * 3
    assert v.verify_certificate(w.leaf.cert.public_bytes(Encoding.DER), [w.ca.cert]).code == "cert_revoked"
    assert w.ca_crl_requests() == 2
    # The root's CRL, fresh for 30 days, was fetched once.
    assert w.server.requests("/root.crl") == 1


def test_hard_fail_crl_server_down_fails_then_recovers_after_the_back_off(crl_world: CrlWorld) -> None:
    w = crl_world
    w.down.add("/ca.crl")
    clock = SimClock(w.t0)
    v = govsig.Verifier(w.policy("hard-fail"), fetcher=fetcher(clock), clock=clock)
    r = v.verify(w.sig, CONTENT)
    assert r.code == "fetch_failed"
    assert w.ca_crl_url in r.reason and "HTTP 503" in r.reason
    assert "Người ký theo dõi CRL" in r.reason
    assert set(v.fetch_errors) == {w.ca_crl_url}
    assert w.ca_crl_requests() == 1

    # The server is back, but the back-off has not passed: every document in between fails
    # without hammering the server.
    w.down.clear()
    clock.advance(seconds=RETRY_FIRST_SECONDS - 1)
    for _ in range(3):
        r = v.verify(w.sig, CONTENT)
        assert r.code == "fetch_failed" and w.ca_crl_url in r.reason
    assert w.ca_crl_requests() == 1

    # Once it has, the CRL is fetched again and the verdict recovers.
    clock.advance(seconds=1)
    r = v.verify(w.sig, CONTENT)
    assert r.code == "ok", r.reason
    assert leaf_evidence(r, w.leaf)["source"] == "crl"
    assert w.ca_crl_requests() == 2
    assert v.fetch_errors == {}


def test_soft_fail_crl_server_down_is_not_remembered_forever(crl_world: CrlWorld) -> None:
    w = crl_world
    w.down.add("/ca.crl")
    clock = SimClock(w.t0)
    v = govsig.Verifier(w.policy("soft-fail"), fetcher=fetcher(clock), clock=clock)
    r = v.verify(w.sig, CONTENT)
    assert r.code == "ok", r.reason
    ev = leaf_evidence(r, w.leaf)
    assert ev["status"] == "unknown" and w.ca_crl_url in ev["reason"] and "HTTP 503" in ev["reason"]

    # While it was down the CA revoked the signer; once the server is back and the back-off
    # has passed, the Verifier asks again and the signer fails.
    revoked_on = w.t0 - dt.timedelta(minutes=10)
    w.publish("/ca.crl", revoke_at(w, revoked_on, w.t0 + dt.timedelta(hours=12)))
    w.down.clear()
    clock.advance(seconds=RETRY_FIRST_SECONDS)
    r = v.verify(w.sig, CONTENT)
    assert r.code == "cert_revoked"
    assert f"was revoked on {rfc3339(revoked_on)}" in r.reason
    assert w.ca_crl_requests() == 2


def test_back_off_doubles_per_failure_and_is_capped(crl_world: CrlWorld) -> None:
    w = crl_world
    w.down.add("/ca.crl")
    clock = SimClock(w.t0)
    v = govsig.Verifier(w.policy("hard-fail"), fetcher=fetcher(clock), clock=clock)
    assert v.verify(w.sig, CONTENT).code == "fetch_failed"
    assert w.ca_crl_requests() == 1
    # 30 s, 60 s, ... doubling after each failed attempt, never more than an hour.
    waits = [min(RETRY_FIRST_SECONDS * 2**i, RETRY_MAX_SECONDS) for i in range(9)]
    assert waits[-2:] == [RETRY_MAX_SECONDS, RETRY_MAX_SECONDS] and RETRY_MAX_SECONDS == 3600
    for n, wait in enumerate(waits, start=2):
        clock.advance(seconds=wait - 1)
        r = v.verify(w.sig, CONTENT)
        assert r.code == "fetch_failed" and w.ca_crl_url in r.reason
        assert w.ca_crl_requests() == n - 1, f"asked again before the {wait:g} s back-off passed"
        clock.advance(seconds=1)
        assert v.verify(w.sig, CONTENT).code == "fetch_failed"
        assert w.ca_crl_requests() == n
    # Back: the next due attempt succeeds...
    w.down.clear()
    w.publish("/ca.crl", make_crl(w.ca, clock.t, clock.t + dt.timedelta(hours=6), 2))
    clock.advance(seconds=RETRY_MAX_SECONDS)
    assert v.verify(w.sig, CONTENT).code == "ok"
    n = len(waits) + 2
    assert w.ca_crl_requests() == n
    # ...and the counter starts afresh: when that CRL goes stale with the server down again,
    # the first retry is 30 s later, not an hour.
    w.down.add("/ca.crl")
    clock.advance(hours=6)
    assert v.verify(w.sig, CONTENT).code == "fetch_failed"
    assert w.ca_crl_requests() == n + 1
    w.down.clear()
    w.publish("/ca.crl", make_crl(w.ca, clock.t, clock.t + dt.timedelta(hours=6), 3))
    clock.advance(seconds=RETRY_FIRST_SECONDS)
    assert v.verify(w.sig, CONTENT).code == "ok"
    assert w.ca_crl_requests() == n + 2


def test_hard_fail_a_stale_crl_publication_backs_off_and_recovers(crl_world: CrlWorld) -> None:
    w = crl_world
    clock = SimClock(w.t0)
    v = govsig.Verifier(w.policy("hard-fail"), fetcher=fetcher(clock), clock=clock)
    assert v.verify(w.sig, CONTENT).code == "ok"
    assert w.ca_crl_requests() == 1

    # Past the CRL's nextUpdate the CA has not published a new one: the server still serves
    # the stale CRL. It is fetched again once, judged stale, and not fetched for every
    # document after that.
    clock.advance(hours=6, seconds=1)
    r = v.verify(w.sig, CONTENT)
    assert r.code == "revocation_unknown"
    assert "is stale at" in r.reason and "Người ký theo dõi CRL" in r.reason
    assert w.ca_crl_requests() == 2
    clock.advance(seconds=RETRY_FIRST_SECONDS - 1)
    assert v.verify(w.sig, CONTENT).code == "revocation_unknown"
    assert w.ca_crl_requests() == 2

    # The CA publishes; after the back-off the new CRL is fetched and documents pass again.
    w.publish("/ca.crl", make_crl(w.ca, clock.t, clock.t + dt.timedelta(hours=6), 2))
    clock.advance(seconds=1)
    r = v.verify(w.sig, CONTENT)
    assert r.code == "ok", r.reason
    assert w.ca_crl_requests() == 3


def test_a_stale_crl_in_the_disk_cache_is_not_served(crl_world: CrlWorld, tmp_path: Path) -> None:
    w = crl_world
    clock = SimClock(w.t0)
    r = govsig.Verifier(w.policy("hard-fail"), fetcher=fetcher(clock, cache_dir=tmp_path), clock=clock).verify(
        w.sig, CONTENT)
    assert r.code == "ok", r.reason
    assert w.ca_crl_requests() == 1

    # A new process on the same cache directory, within the CRLs' life: both come from disk.
    f = fetcher(clock, cache_dir=tmp_path)
    assert govsig.Verifier(w.policy("hard-fail"), fetcher=f, clock=clock).verify(w.sig, CONTENT).code == "ok"
    assert (f.stats["disk_hits"], f.stats["fetches"], w.ca_crl_requests()) == (2, 0, 1)

    # The CA revokes the signer; past the cached CRL's nextUpdate a new process must not be
    # served the stale copy from disk: it fetches, and sees the revocation.
    revoked_on = w.t0 + dt.timedelta(hours=1)
    w.publish("/ca.crl", revoke_at(w, revoked_on, w.t0 + dt.timedelta(hours=12)))
    clock.advance(hours=6)
    f = fetcher(clock, cache_dir=tmp_path)
    r = govsig.Verifier(w.policy("hard-fail"), fetcher=f, clock=clock).verify(w.sig, CONTENT)
    assert r.code == "cert_revoked"
    assert f"was revoked on {rfc3339(revoked_on)}" in r.reason
    # The root's CRL (still fresh) from disk; the CA's from the server.
    assert (f.stats["disk_hits"], f.stats["fetches"], w.ca_crl_requests()) == (1, 1, 2)
    # And the disk now holds the new CRL.
    g = fetcher(clock, cache_dir=tmp_path)
    assert g.fetch_crl(w.ca_crl_url) == w.bodies["/ca.crl"]
    assert (g.stats["disk_hits"], w.ca_crl_requests()) == (1, 2)


def test_the_fetcher_caches_never_serve_at_next_update(crl_world: CrlWorld) -> None:
    w = crl_world
    clock = SimClock(w.t0)
    f = fetcher(clock)
    first = w.bodies["/ca.crl"]
    assert f.fetch_crl(w.ca_crl_url) == first
    w.publish("/ca.crl", make_crl(w.ca, w.t0, w.t0 + dt.timedelta(hours=12), 2))
    clock.t = w.t0 + dt.timedelta(hours=6, seconds=-1)
    assert f.fetch_crl(w.ca_crl_url) == first and w.ca_crl_requests() == 1
    # At nextUpdate a newer CRL is expected (RFC 5280 §5.1.2.5): not served from memory.
    clock.t = w.t0 + dt.timedelta(hours=6)
    assert f.fetch_crl(w.ca_crl_url) == w.bodies["/ca.crl"] and w.ca_crl_requests() == 2


# -- the validation clock -----------------------------------------------------------------------


def fixed_clock_2030() -> dt.datetime:
    return dt.datetime(2030, 6, 1, tzinfo=UTC)


def test_the_clock_is_the_validation_time_when_the_policy_has_none(crl_world: CrlWorld) -> None:
    w = crl_world
    policy = govsig.Policy(trust=[w.root.cert], revocation="off")
    leaf_der = w.leaf.cert.public_bytes(Encoding.DER)
    after_expiry = SimClock(P.NOT_AFTER + dt.timedelta(days=1))
    v = govsig.Verifier(policy, clock=after_expiry)
    r = v.verify(w.sig, CONTENT)
    assert r.code == "cert_expired" and "Người ký theo dõi CRL" in r.reason
    assert v.verify_many([(w.sig, CONTENT)])[0].code == "cert_expired"
    assert v.verify_certificate(leaf_der, [w.ca.cert]).code == "cert_expired"
    after_expiry.t = fixed_clock_2030()
    assert v.verify(w.sig, CONTENT).code == "ok"
    assert v.verify_certificate(leaf_der, [w.ca.cert]).code == "ok"
    # The policy's own time wins over the clock.
    pinned = govsig.Verifier(policy.replace(at=fixed_clock_2030()), clock=SimClock(P.NOT_AFTER + dt.timedelta(days=1)))
    assert pinned.verify(w.sig, CONTENT).code == "ok"
    # A Verifier pickles with its clock.
    back = pickle.loads(pickle.dumps(govsig.Verifier(policy, clock=fixed_clock_2030)))
    assert back.clock is fixed_clock_2030 and back.verify(w.sig, CONTENT).code == "ok"


def test_a_clock_must_return_an_aware_datetime(crl_world: CrlWorld) -> None:
    policy = govsig.Policy(trust=[crl_world.root.cert], revocation="off")
    with pytest.raises(TypeError, match="aware datetime"):
        govsig.Verifier(policy, clock=lambda: dt.datetime(2030, 1, 1)).verify(crl_world.sig, CONTENT)
    with pytest.raises(TypeError, match="callable"):
        govsig.Verifier(policy, clock=dt.datetime(2030, 1, 1, tzinfo=UTC))  # type: ignore[arg-type]


# -- a real `openssl ocsp` responder ------------------------------------------------------------


class Responder(OcspResponder):
    """``openssl ocsp`` that can be taken down: then its front answers HTTP 500."""

    down = False
    refused = 0

    def answer(self, request: bytes, method: str = "POST") -> bytes:
        if self.down:
            self.refused += 1
            raise RuntimeError("the responder is down for maintenance")
        return super().answer(request, method)


@dataclass
class OcspWorld:
    crl_server: LoopbackServer
    responder: Responder
    root: P.Issued
    ca: P.Issued
    leaf: P.Issued
    other: P.Issued
    sig: bytes

    def policy(self, revocation: str) -> govsig.Policy:
        return govsig.Policy(trust=[self.root.cert], revocation=revocation)


@pytest.fixture
def ocsp_world(openssl: str, tmp_path: Path) -> Iterator[OcspWorld]:
    with LoopbackServer() as crl_server:
        root = P.make_root("Root CA làm mới OCSP", "p256", seed="refresh-ocsp-root")
        ca = P.make_intermediate("CA có máy chủ OCSP", root, "p256", seed="refresh-ocsp-ca",
                                 extra_extensions=[cdp(crl_server.url("/root.crl"))])
        t = real_now()
        crl_server.serve("/root.crl", make_crl(root, t - dt.timedelta(hours=1), t + dt.timedelta(days=30), 1))
        with Responder(tmp_path / "ocsp", openssl, ca=ca, signer=ca, entries=[]) as responder:
            # OCSP is the signer's only source: what the responder says decides.
            leaf = P.make_leaf("Người ký theo dõi OCSP", ca, "p256", seed="refresh-ocsp-leaf",
                               extra_extensions=[aia(responder.url)])
            other = P.make_leaf("Người ký khác cùng CA", ca, "p256", seed="refresh-ocsp-other",
                                extra_extensions=[aia(responder.url)])
            responder.set_entries([IndexEntry(leaf), IndexEntry(other)])
            yield OcspWorld(crl_server, responder, root, ca, leaf, other, P.sign_cms(CONTENT, leaf))


def test_ocsp_soft_fail_good_then_revoked_once_the_answer_goes_stale(ocsp_world: OcspWorld) -> None:
    w = ocsp_world
    # `openssl ocsp` stamps its answers with the wall clock, so simulated time starts there.
    clock = SimClock(real_now())
    v = govsig.Verifier(w.policy("soft-fail"), fetcher=fetcher(clock), clock=clock)
    r = v.verify(w.sig, CONTENT)
    assert r.code == "ok", r.reason
    ev = leaf_evidence(r, w.leaf)
    assert (ev["status"], ev["source"]) == ("good", "ocsp")
    assert w.responder.requests == 1

    # The CA revokes the signer. The answer the Verifier holds (nextUpdate one hour after it
    # was made, the responder's -nmin 60) is still fresh half an hour on: not asked again.
    revoked_on = clock.t
    w.responder.set_entries([IndexEntry(w.leaf, revoked_on, x509.ReasonFlags.key_compromise),
                             IndexEntry(w.other)])
    w.responder.next_update_minutes = 24 * 60
    clock.advance(minutes=30)
    assert v.verify(w.sig, CONTENT).code == "ok"
    assert w.responder.requests == 1

    # Two hours on it is stale (past nextUpdate and the policy's 300 s of skew): the
    # responder is asked again and says revoked.
    clock.advance(minutes=90)
    r = v.verify(w.sig, CONTENT)
    assert r.code == "cert_revoked"
    assert "Người ký theo dõi OCSP" in r.reason
    assert f"was revoked on {rfc3339(revoked_on)} (key_compromise)" in r.reason
    assert "according to an OCSP response signed by" in r.reason
    assert w.responder.requests == 2
    # Other signers of the CA ask for their own answer: fresh, good.
    r = v.verify(P.sign_cms(CONTENT, w.other), CONTENT)
    assert r.code == "ok", r.reason
    assert w.responder.requests == 3


def test_ocsp_hard_fail_responder_down_then_back(ocsp_world: OcspWorld) -> None:
    w = ocsp_world
    w.responder.down = True
    clock = SimClock(real_now())
    v = govsig.Verifier(w.policy("hard-fail"), fetcher=fetcher(clock), clock=clock)
    r = v.verify(w.sig, CONTENT)
    assert r.code == "fetch_failed"
    assert w.responder.url in r.reason and "HTTP 500" in r.reason
    refused = w.responder.refused
    assert refused > 0

    w.responder.down = False
    clock.advance(seconds=RETRY_FIRST_SECONDS - 1)
    assert v.verify(w.sig, CONTENT).code == "fetch_failed"
    assert (w.responder.refused, w.responder.requests) == (refused, 0)

    clock.advance(seconds=1)
    r = v.verify(w.sig, CONTENT)
    assert r.code == "ok", r.reason
    assert leaf_evidence(r, w.leaf)["source"] == "ocsp"
    assert w.responder.requests == 1


def ocsp_request_of(seen: Seen, prefix: str) -> bytes:
    """The OCSPRequest of a POST, or of an RFC 6960 appendix A.1 GET under ``prefix``."""
    if seen.method == "POST":
        return seen.body
    return base64.b64decode(unquote(seen.path[len(prefix):]), validate=True)


def test_an_answer_that_did_not_decide_is_asked_for_again_once_stale(ocsp_world: OcspWorld) -> None:
    w = ocsp_world
    with LoopbackServer() as front:
        # A front that first answers every request with a genuine, fresh answer about another
        # certificate of the same CA, then passes requests through to the real responder.
        wrong = w.responder.answer(build_request(w.other.cert, w.ca.cert))
        asked = w.responder.requests
        state = {"pass_through": False}

        def reply(seen: Seen) -> Reply:
            body = w.responder.answer(ocsp_request_of(seen, "/ocsp/")) if state["pass_through"] else wrong
            return Reply(body, content_type="application/ocsp-response")
        front.route("/ocsp", reply)
        front.route_prefix("/ocsp/", reply)
        leaf = P.make_leaf("Người ký sau máy chủ trung gian", w.ca, "p256", seed="refresh-ocsp-front",
                           extra_extensions=[aia(front.url("/ocsp")), cdp(w.crl_server.url("/ca.crl"))])
        t = real_now()
        # The CA's CRL is good for an hour, and the CA publishes no other.
        w.crl_server.serve("/ca.crl", make_crl(w.ca, t - dt.timedelta(hours=1), t + dt.timedelta(hours=1), 1))
        sig = P.sign_cms(CONTENT, leaf)
        clock = SimClock(t)
        v = govsig.Verifier(w.policy("hard-fail"), fetcher=fetcher(clock), clock=clock)
        r = v.verify(sig, CONTENT)
        # The answer is about another certificate: it does not decide, and the CRL does.
        assert r.code == "ok", r.reason
        assert leaf_evidence(r, leaf)["source"] == "crl"
        assert front.requests() == 1 and w.crl_server.requests("/ca.crl") == 1

        # Still fresh half an hour on: the responder is not asked again.
        clock.advance(minutes=30)
        assert v.verify(P.sign_cms(CONTENT + b" (2)", leaf), CONTENT + b" (2)").code == "ok"
        assert front.requests() == 1

        # The responder now answers properly and the CA has revoked the signer. Two hours on
        # the CRL is stale, and so is the wrong answer: the responder (the first source) is
        # asked again and decides. Remembered for good, its URL would never be asked again.
        revoked_on = t
        w.responder.set_entries([IndexEntry(leaf, revoked_on, x509.ReasonFlags.superseded)])
        w.responder.next_update_minutes = 24 * 60
        state["pass_through"] = True
        clock.advance(minutes=90)
        r = v.verify(sig, CONTENT)
        assert r.code == "cert_revoked"
        assert f"was revoked on {rfc3339(revoked_on)} (superseded)" in r.reason
        assert "according to an OCSP response signed by" in r.reason
        assert front.requests() == 2 and w.responder.requests == asked + 1
        assert w.crl_server.requests("/ca.crl") == 1


def test_an_ocsp_answer_without_next_update_is_asked_for_again_after_the_skew(ocsp_world: OcspWorld) -> None:
    # RFC 6960 §4.2.2.1: without nextUpdate "newer revocation information is available all
    # the time"; the core accepts it within ocsp_skew of thisUpdate, so that is how long the
    # Verifier relies on it. This responder signs with cryptography at simulated time.
    w = ocsp_world
    clock = SimClock(real_now())
    status = {"revoked_at": None}

    def reply(seen: Seen) -> Reply:
        req = c_ocsp.load_der_ocsp_request(ocsp_request_of(seen, "/ocsp/"))
        assert req.serial_number == w.leaf.cert.serial_number
        revoked_at = status["revoked_at"]
        b = c_ocsp.OCSPResponseBuilder().add_response(
            cert=w.leaf.cert, issuer=w.ca.cert, algorithm=hashes.SHA1(),
            cert_status=c_ocsp.OCSPCertStatus.GOOD if revoked_at is None else c_ocsp.OCSPCertStatus.REVOKED,
            this_update=clock.t, next_update=None, revocation_time=revoked_at,
            revocation_reason=None if revoked_at is None else x509.ReasonFlags.key_compromise)
        der = b.responder_id(c_ocsp.OCSPResponderEncoding.HASH, w.ca.cert).sign(w.ca.key, hashes.SHA256())
        return Reply(der.public_bytes(Encoding.DER), content_type="application/ocsp-response")

    with LoopbackServer() as responder:
        responder.route("/ocsp", reply)
        responder.route_prefix("/ocsp/", reply)
        leaf = P.make_leaf("Người ký OCSP không có nextUpdate", w.ca, "p256", seed="refresh-ocsp-no-next",
                           extra_extensions=[aia(responder.url("/ocsp"))])
        sig = P.sign_cms(CONTENT, leaf)
        w = OcspWorld(w.crl_server, w.responder, w.root, w.ca, leaf, w.other, sig)
        v = govsig.Verifier(w.policy("hard-fail"), fetcher=fetcher(clock), clock=clock)
        r = v.verify(sig, CONTENT)
        assert r.code == "ok", r.reason
        assert leaf_evidence(r, leaf)["source"] == "ocsp"
        assert responder.requests() == 1

        clock.advance(seconds=w.policy("hard-fail").ocsp_skew - 10)
        assert v.verify(sig, CONTENT).code == "ok"
        assert responder.requests() == 1

        status["revoked_at"] = clock.t
        clock.advance(minutes=10)
        r = v.verify(sig, CONTENT)
        assert r.code == "cert_revoked"
        assert f"was revoked on {rfc3339(status['revoked_at'])} (key_compromise)" in r.reason
        assert responder.requests() == 2


def test_a_plain_callable_fetcher_follows_the_same_rules(crl_world: CrlWorld) -> None:
    # A Fetcher is any callable fetcher(url, data=None) -> bytes (govsig.Fetcher); this one
    # serves the CA's publications from memory and raises while the CA is "down".
    w = crl_world
    asked: list[str] = []

    def fetch(url: str, data: bytes | None = None) -> bytes:
        assert data is None
        asked.append(url)
        path = url.removeprefix(w.server.url(""))
        if path in w.down:
            raise govsig.FetchError(url, "connection", "the CA's server is unreachable")
        return w.bodies[path]

    clock = SimClock(w.t0)
    w.down.add("/ca.crl")
    v = govsig.Verifier(w.policy("hard-fail"), fetcher=fetch, clock=clock)
    r = v.verify(w.sig, CONTENT)
    assert r.code == "fetch_failed" and "the CA's server is unreachable" in r.reason
    assert asked.count(w.ca_crl_url) == 1
    w.down.clear()
    clock.advance(seconds=RETRY_FIRST_SECONDS)
    assert v.verify(w.sig, CONTENT).code == "ok"
    revoked_on = w.t0 + dt.timedelta(hours=1)
    w.publish("/ca.crl", revoke_at(w, revoked_on, w.t0 + dt.timedelta(hours=12)))
    clock.advance(hours=6)
    r = v.verify(w.sig, CONTENT)
    assert r.code == "cert_revoked" and f"was revoked on {rfc3339(revoked_on)}" in r.reason
    assert asked.count(w.ca_crl_url) == 3


def test_a_bulk_fetcher_need_not_be_callable(crl_world: CrlWorld) -> None:
    # govsig.BulkFetcher: only fetch_many (a wrapper that times or logs an HttpFetcher).
    w = crl_world
    clock = SimClock(w.t0)

    class Logged:
        def __init__(self) -> None:
            self.inner = fetcher(clock)
            self.calls = 0

        def fetch_many(self, crl_urls=(), ocsp=()):  # noqa: ANN001, ANN201 - BulkFetcher's signature
            self.calls += 1
            return self.inner.fetch_many(crl_urls=crl_urls, ocsp=ocsp)

    logged = Logged()
    assert isinstance(logged, govsig.BulkFetcher) and not callable(logged)
    v = govsig.Verifier(w.policy("hard-fail"), fetcher=logged, clock=clock)
    assert v.verify(w.sig, CONTENT).code == "ok"
    # One round fetches the whole path's evidence.
    assert logged.calls == 1 and w.ca_crl_requests() == 1


def test_the_fetcher_never_serves_an_ocsp_answer_at_its_next_update(ocsp_world: OcspWorld) -> None:
    w = ocsp_world
    clock = SimClock(real_now())
    f = fetcher(clock)
    request = build_request(w.leaf.cert, w.ca.cert)
    first = f.fetch_ocsp(w.responder.url, request)
    (single,) = c_ocsp.load_der_ocsp_response(first).responses
    assert single.next_update_utc is not None and w.responder.requests == 1
    clock.t = single.next_update_utc - dt.timedelta(seconds=1)
    assert f.fetch_ocsp(w.responder.url, request) == first and w.responder.requests == 1
    # RFC 6960 §4.2.2.1: at nextUpdate newer information is due; the memory cache lets go.
    clock.t = single.next_update_utc
    f.fetch_ocsp(w.responder.url, request)
    assert w.responder.requests == 2


def _crl_without_number(issuer: P.Issued, this_update: dt.datetime, next_update: dt.datetime,
                        revoked_serial: int) -> bytes:
    return (x509.CertificateRevocationListBuilder()
            .issuer_name(issuer.cert.subject).last_update(this_update).next_update(next_update)
            .add_revoked_certificate(x509.RevokedCertificateBuilder().serial_number(revoked_serial)
                                     .revocation_date(this_update).build())
            .sign(issuer.key, hashes.SHA256()).public_bytes(Encoding.DER))


@pytest.mark.parametrize("mode", ["soft-fail", "hard-fail"])
def test_a_fetched_crl_that_breaks_the_profile_is_refused_evidence_not_a_fetch_failure(
        crl_world: CrlWorld, mode: str) -> None:
    # The CA's server publishes a v2 CRL without a cRLNumber (RFC 5280 §5.2.3) listing the
    # signer. It is what the CA publishes, so the fetch succeeded: the verdict says the CRL
    # was refused and why, never "fetch failed", and a revocation it lists is not believed.
    w = crl_world
    w.publish("/ca.crl", _crl_without_number(w.ca, w.t0 - dt.timedelta(hours=1), w.t0 + dt.timedelta(hours=6),
                                             w.leaf.cert.serial_number))
    clock = SimClock(w.t0)
    v = govsig.Verifier(w.policy(mode), fetcher=fetcher(clock), clock=clock)
    r = v.verify(w.sig, CONTENT)
    why = "a v2 CRL without a cRLNumber (RFC 5280 §5.2.3: MUST include it)"
    if mode == "hard-fail":
        assert r.code == "revocation_unknown", r.reason
        assert why in r.reason and "Người ký theo dõi CRL" in r.reason
    else:
        assert (r.code, r.reason) == ("ok", "")
        ev = leaf_evidence(r, w.leaf)
        assert ev["status"] == "unknown"
        assert any(why in refused for refused in ev["refused"]), ev
    assert "not a usable CRL" not in r.reason and "fetch" not in r.code
    assert w.ca_crl_requests() == 1


# -- a long-running Verifier forgets what can no longer decide anything -------------------------


def _crl_with(issuer: P.Issued, this_update: dt.datetime, next_update: dt.datetime, number: int,
              entries: list[tuple[int, dt.datetime, x509.ReasonFlags | None]]) -> bytes:
    b = (x509.CertificateRevocationListBuilder()
         .issuer_name(issuer.cert.subject).last_update(this_update).next_update(next_update)
         .add_extension(x509.CRLNumber(number), critical=False))
    for serial, when, reason in entries:
        e = x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(when)
        if reason is not None:
            e = e.add_extension(x509.CRLReason(reason), critical=False)
        b = b.add_revoked_certificate(e.build())
    return b.sign(issuer.key, hashes.SHA256()).public_bytes(Encoding.DER)


def test_a_long_running_verifier_holds_a_bounded_set_of_evidence(crl_world: CrlWorld) -> None:
    # Forty refreshes of the CA's CRL, one every six hours (each fetched once it went stale).
    # A fetched CRL is forgotten once it goes stale by the Verifier's clock (a fresh Verifier
    # would never have it; for a past time the status is asked for again): kept are the
    # root's CRL and the CA's current one, whatever entries the older ones held.
    w = crl_world
    clock = SimClock(w.t0)
    v = govsig.Verifier(w.policy("hard-fail"), fetcher=fetcher(clock), clock=clock)
    six = dt.timedelta(hours=6)
    early = w.t0 - dt.timedelta(days=1)
    always = (4242, early, x509.ReasonFlags.key_compromise)
    for i in range(40):
        entries = [always]
        if i == 10:
            entries.append((7777, early, x509.ReasonFlags.superseded))
        if i == 20:
            entries.append((8888, early, x509.ReasonFlags.certificate_hold))
        w.publish("/ca.crl", _crl_with(w.ca, w.t0 + six * i, w.t0 + six * (i + 1), i + 2, entries))
        r = v.verify(w.sig, CONTENT)
        assert r.code == "ok", (i, r.reason)
        assert leaf_evidence(r, w.leaf)["status"] == "good"
        clock.advance(hours=6, seconds=1)
    assert w.ca_crl_requests() == 40
    crls, ocsp, forgotten = v._engine.fetched_evidence()
    assert (crls, ocsp) == (2, 0)
    assert forgotten == 40 - 1
    # What stays decides as before: the signer, revoked in the CRL published next, is seen.
    w.publish("/ca.crl", _crl_with(w.ca, clock.t, clock.t + six, 100,
                                   [always, (w.leaf.cert.serial_number, clock.t, None)]))
    r = v.verify(w.sig, CONTENT)
    assert r.code == "cert_revoked", r.reason
    assert v._engine.fetched_evidence()[0] == 2
