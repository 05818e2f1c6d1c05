"""OCSP fetched on demand by the Verifier, against real servers on loopback: OpenSSL's
``openssl ocsp`` responder (CA-signed and delegated, see ocsp_responder.py), CRLs from a
loopback HTTP server, a responder that is down, and a hostile front that serves genuine
responses where they do not belong.

Signers name their responder in authorityInfoAccess (id-ad-ocsp, RFC 5280 §4.2.2.1) and their
CRL in cRLDistributionPoints (RFC 5280 §4.2.1.13); the core says which evidence it lacks, the
Verifier's HttpFetcher gets it, and the tests count what each server saw.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509 import ocsp as c_ocsp
from cryptography.x509.oid import AuthorityInformationAccessOID

import govsig
import pki as P
from govsig.ocsp import build_request
from http_servers import LoopbackServer, Reply
from ocsp_responder import IndexEntry, OcspResponder

UTC = dt.timezone.utc
NOW = dt.datetime.now(UTC)
REVOKED_AT = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
CONTENT = "Quyết định cấp giấy phép kinh doanh số 7".encode()


# -- certificates that point at the servers --------------------------------------------------


def aia(url: str) -> tuple[x509.ExtensionType, bool]:
    return x509.AuthorityInformationAccess(
        [x509.AccessDescription(AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(url))]), False


def cdp(url: str) -> tuple[x509.ExtensionType, bool]:
    return x509.CRLDistributionPoints(
        [x509.DistributionPoint([x509.UniformResourceIdentifier(url)], None, None, None)]), False


def make_crl(issuer: P.Issued, revoked: tuple[int, ...] = ()) -> bytes:
    b = (x509.CertificateRevocationListBuilder()
         .issuer_name(issuer.cert.subject)
         .last_update(NOW - dt.timedelta(hours=1))
         .next_update(NOW + dt.timedelta(days=7))
         .add_extension(x509.CRLNumber(1), critical=False))  # RFC 5280 §5.2.3
    for serial in revoked:
        b = b.add_revoked_certificate(x509.RevokedCertificateBuilder().serial_number(serial)
                                      .revocation_date(REVOKED_AT).build())
    return b.sign(issuer.key, hashes.SHA256()).public_bytes(Encoding.DER)


def delegate_for(ca: P.Issued, name: str) -> P.Issued:
    # RFC 6960 §4.2.2.2: issued by the CA, id-kp-OCSPSigning; id-pkix-ocsp-nocheck (§4.2.2.2.1)
    # so its own status needs no further evidence.
    return P.make_leaf(name, ca, "p256", key_usage=("digital_signature",), eku=("ocsp_signing",),
                       extra_extensions=[(x509.OCSPNoCheck(), False)])


def closed_port_url() -> tuple[socket.socket, str]:
    """A loopback URL nothing listens on: the socket is bound (so no other test can take the
    port) but never listens, so a connection is refused at once."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    return s, f"http://127.0.0.1:{s.getsockname()[1]}/ocsp"


def subject(c: P.Issued) -> str:
    """The subject as govsig writes it (RFC 4514 order, ", " between RDNs)."""
    return ", ".join(rdn.rfc4514_string() for rdn in reversed(c.cert.subject.rdns))


def serials_asked(responder: OcspResponder) -> list[int]:
    out = []
    for der in list(responder.request_ders):
        out.append(c_ocsp.load_der_ocsp_request(der).serial_number)
    return out


_close_later: list[govsig.HttpFetcher] = []


def fetcher(**kw) -> govsig.HttpFetcher:  # noqa: ANN003
    f = govsig.HttpFetcher(timeout=10, **kw)
    _close_later.append(f)
    return f


@pytest.fixture(autouse=True)
def _close_fetchers() -> Iterator[None]:
    yield
    while _close_later:
        _close_later.pop().close()


# What the hostile front serves at /{case}/ to the signer of that case: genuine responses
# where they do not belong, and an unsuccessful status. Each with the code govsig.ocsp gives
# the bytes for that signer and what the verifier's reason says about them.
HOSTILE_CASES = {
    # A genuine, fresh "good" for another certificate of the same CA.
    "wrong-cert": ("ocsp_invalid", "has no answer for"),
    # A genuine "good" from another CA's responder for a certificate with the same serial.
    "wrong-issuer": ("ocsp_unauthorized_responder", "is not authorised for"),
    # A genuine "good" for this very certificate, replayed after its nextUpdate.
    "stale": ("ocsp_stale", "is stale at the validation time"),
    # OCSPResponse { responseStatus tryLater(3) } (RFC 6960 §4.2.1): no answer at all.
    "try-later": ("ocsp_invalid", "tryLater"),
}
TRY_LATER = bytes([0x30, 0x03, 0x0A, 0x01, 0x03])
# The replay happens two hours after the response was made: past its nextUpdate (now + 60 min,
# the responder's -nmin), past the 300 s of forgiven skew.
REPLAY_AT = NOW + dt.timedelta(hours=2)


# -- the world: one root, an issuing CA, leaves for every case --------------------------------


@dataclass
class World:
    crl_server: LoopbackServer
    hostile: LoopbackServer
    root: P.Issued
    ca: P.Issued
    delegate: P.Issued
    root_responder: OcspResponder
    ca_responder: OcspResponder          # signs with the CA's own key
    delegated_responder: OcspResponder   # signs with `delegate`'s key
    down_url: str
    leaves: dict[str, P.Issued] = field(default_factory=dict)
    sigs: dict[str, bytes] = field(default_factory=dict)

    def policy(self, **kw) -> govsig.Policy:  # noqa: ANN003
        kw.setdefault("revocation", "hard-fail")
        return govsig.Policy(trust=[self.root.cert], **kw)

    def counts(self) -> dict[str, int]:
        return {
            "root_ocsp": self.root_responder.requests,
            "ca_ocsp": self.ca_responder.requests,
            "delegated_ocsp": self.delegated_responder.requests,
            "root_crl": self.crl_server.requests("/root.crl"),
            "ca_crl": self.crl_server.requests("/ca.crl"),
            "hostile": self.hostile.requests(),
        }


@pytest.fixture(scope="module")
def world(openssl: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp: Path = tmp_path_factory.mktemp("ocsp-online")
    down_sock, down_url = closed_port_url()
    root = P.make_root("Root CA OCSP trực tuyến", "p256", seed="ocsp-online-root")
    with LoopbackServer() as crl_server, LoopbackServer() as hostile, \
            OcspResponder(tmp / "root", openssl, ca=root, signer=root, entries=[]) as root_responder:
        ca = P.make_intermediate("CA ký số OCSP trực tuyến", root, "p256", seed="ocsp-online-ca",
                                 extra_extensions=[aia(root_responder.url), cdp(crl_server.url("/root.crl"))])
        root_responder.set_entries([IndexEntry(ca)])
        delegate = delegate_for(ca, "Máy chủ OCSP được ủy quyền")
        with OcspResponder(tmp / "ca", openssl, ca=ca, signer=ca, entries=[]) as ca_responder, \
                OcspResponder(tmp / "delegated", openssl, ca=ca, signer=delegate, entries=[]) as delegated_responder:
            w = World(crl_server, hostile, root, ca, delegate, root_responder, ca_responder,
                      delegated_responder, down_url)
            ca_crl = cdp(crl_server.url("/ca.crl"))

            def leaf(key: str, name: str, *exts: tuple[x509.ExtensionType, bool]) -> P.Issued:
                w.leaves[key] = P.make_leaf(name, ca, "p256", seed=f"ocsp-online|{key}", extra_extensions=list(exts))
                w.sigs[key] = P.sign_cms(CONTENT, w.leaves[key])
                return w.leaves[key]

            entries: dict[str, list[IndexEntry]] = {"ca": [], "delegated": []}
            for kind, r in (("ca", ca_responder), ("delegated", delegated_responder)):
                good = leaf(f"{kind}-good", f"Người ký hợp lệ ({kind})", aia(r.url), ca_crl)
                revoked = leaf(f"{kind}-revoked", f"Người ký bị thu hồi ({kind})", aia(r.url), ca_crl)
                # Not in the responder's index: it answers "unknown".
                leaf(f"{kind}-unknown", f"Người ký lạ ({kind})", aia(r.url), ca_crl)
                leaf(f"{kind}-unknown-ocsp-only", f"Người ký lạ chỉ OCSP ({kind})", aia(r.url))
                entries[kind] += [IndexEntry(good),
                                  IndexEntry(revoked, REVOKED_AT, x509.ReasonFlags.key_compromise)]
            leaf("down", "Người ký (máy chủ OCSP ngừng)", aia(down_url), ca_crl)
            leaf("down-ocsp-only", "Người ký (chỉ OCSP ngừng)", aia(down_url))
            for key in HOSTILE_CASES:
                leaf(key, f"Người ký OCSP giả mạo ({key})", aia(hostile.url(f"/{key}/")), ca_crl)
            ca_responder.set_entries(entries["ca"] + [IndexEntry(w.leaves[k]) for k in ("wrong-cert", "stale")])
            delegated_responder.set_entries(entries["delegated"])
            crl_server.serve("/root.crl", make_crl(root))
            crl_server.serve("/ca.crl", make_crl(ca, revoked=(w.leaves["ca-revoked"].cert.serial_number,
                                                             w.leaves["delegated-revoked"].cert.serial_number)))
            try:
                yield w
            finally:
                down_sock.close()


def delta(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {k: after[k] - before[k] for k in after if after[k] != before[k]}


def by_subject(result: govsig.VerifyResult) -> dict[str, dict]:
    return {e["subject"].split(",")[0].removeprefix("CN="): e for e in result.signers[0].revocation}


# -- good / revoked / unknown from a real responder -------------------------------------------


@pytest.mark.parametrize("kind", ["ca", "delegated"])
def test_good_signer_is_ok_on_ocsp_evidence(world: World, kind: str) -> None:
    before = world.counts()
    v = govsig.Verifier(world.policy(), fetcher=fetcher())
    r = v.verify(world.sigs[f"{kind}-good"], CONTENT)
    assert r.code == "ok", r.reason
    ev = by_subject(r)
    leaf_ev = ev[f"Người ký hợp lệ ({kind})"]
    assert leaf_ev["status"] == "good" and leaf_ev["source"] == "ocsp"
    expected_signer = world.ca if kind == "ca" else world.delegate
    assert leaf_ev["ocsp_responder"] == subject(expected_signer)
    assert leaf_ev["crl_issuer"] is None
    ca_ev = ev["CA ký số OCSP trực tuyến"]
    assert ca_ev["source"] == "ocsp" and ca_ev["ocsp_responder"] == subject(world.root)
    # One OCSP request per certificate on the path, no CRL.
    assert delta(before, world.counts()) == {"root_ocsp": 1, f"{kind}_ocsp": 1}


@pytest.mark.parametrize("kind", ["ca", "delegated"])
def test_revoked_signer_fails_naming_the_ocsp_response(world: World, kind: str) -> None:
    before = world.counts()
    r = govsig.Verifier(world.policy(), fetcher=fetcher()).verify(world.sigs[f"{kind}-revoked"], CONTENT)
    assert r.code == "cert_revoked"
    responder = world.ca if kind == "ca" else world.delegate
    assert f"Người ký bị thu hồi ({kind})" in r.reason
    assert "was revoked on 2026-01-02T03:04:05Z (key_compromise)" in r.reason
    # The reason names the OCSP response that decided, and who signed it.
    assert "according to an OCSP response signed by" in r.reason
    assert ("delegated responder" in r.reason) == (kind == "delegated")
    assert responder.cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value in r.reason
    # The revoked leaf decides before the CA's status is needed; the CRL (which says the same)
    # is never asked for: the first source that decides wins.
    # Hard-fail asks for the evidence of every certificate on the path in one round (here the
    # leaf's and its CA's), each once.
    assert delta(before, world.counts()) == {f"{kind}_ocsp": 1, "root_ocsp": 1}
    # Soft-fail does not soften a revocation.
    soft = govsig.Verifier(world.policy(revocation="soft-fail"), fetcher=fetcher())
    assert soft.verify(world.sigs[f"{kind}-revoked"], CONTENT).code == "cert_revoked"


@pytest.mark.parametrize("kind", ["ca", "delegated"])
def test_unknown_to_the_responder_falls_back_to_the_crl(world: World, kind: str) -> None:
    before = world.counts()
    r = govsig.Verifier(world.policy(), fetcher=fetcher()).verify(world.sigs[f"{kind}-unknown"], CONTENT)
    assert r.code == "ok", r.reason
    leaf_ev = by_subject(r)[f"Người ký lạ ({kind})"]
    assert leaf_ev["source"] == "crl" and leaf_ev["status"] == "good"
    assert leaf_ev["crl_issuer"] == subject(world.ca) and leaf_ev["ocsp_fingerprint"] is None
    # OCSP first (it said unknown), then the CRL; the CA itself is decided by OCSP.
    assert delta(before, world.counts()) == {f"{kind}_ocsp": 1, "ca_crl": 1, "root_ocsp": 1}


@pytest.mark.parametrize("kind", ["ca", "delegated"])
def test_unknown_without_another_source(world: World, kind: str) -> None:
    key = f"{kind}-unknown-ocsp-only"
    r = govsig.Verifier(world.policy(), fetcher=fetcher()).verify(world.sigs[key], CONTENT)
    assert r.code == "revocation_unknown"
    assert "is unknown to the responder" in r.reason and "OCSP response signed by" in r.reason
    # The responder answered: it is not asked again, and nothing else is left to fetch.
    assert r.needs == []
    # Soft-fail accepts, and the evidence says the status is unknown and why.
    r = govsig.Verifier(world.policy(revocation="soft-fail"), fetcher=fetcher()).verify(world.sigs[key], CONTENT)
    assert r.code == "ok"
    leaf_ev = by_subject(r)[f"Người ký lạ chỉ OCSP ({kind})"]
    assert leaf_ev["status"] == "unknown" and "is unknown to the responder" in leaf_ev["reason"]


# -- which source is asked first ------------------------------------------------------------


def test_revocation_sources_order_decides_which_server_is_asked(world: World) -> None:
    sig = world.sigs["ca-good"]
    before = world.counts()
    r = govsig.Verifier(world.policy(revocation_sources=("crl", "ocsp")), fetcher=fetcher()).verify(sig, CONTENT)
    assert r.code == "ok", r.reason
    assert {e["source"] for e in r.signers[0].revocation} == {"crl"}
    assert delta(before, world.counts()) == {"ca_crl": 1, "root_crl": 1}

    before = world.counts()
    r = govsig.Verifier(world.policy(revocation_sources=("ocsp", "crl")), fetcher=fetcher()).verify(sig, CONTENT)
    assert r.code == "ok", r.reason
    assert {e["source"] for e in r.signers[0].revocation} == {"ocsp"}
    assert delta(before, world.counts()) == {"ca_ocsp": 1, "root_ocsp": 1}

    # One source only: the other server is never asked, even when it would decide.
    before = world.counts()
    r = govsig.Verifier(world.policy(revocation_sources=("crl",)), fetcher=fetcher()).verify(
        world.sigs["ca-unknown-ocsp-only"], CONTENT)
    assert r.code == "revocation_unknown" and "no CRL" in r.reason, r.reason
    # The leaf names no CRL; its CA's CRL is fetched in the same round (the path fails on
    # the leaf either way); no OCSP responder is asked.
    assert delta(before, world.counts()) == {"root_crl": 1}


# -- a responder that is down ---------------------------------------------------------------


def test_responder_down_hard_fail_names_the_url(world: World) -> None:
    v = govsig.Verifier(world.policy(), fetcher=fetcher())
    r = v.verify(world.sigs["down-ocsp-only"], CONTENT)
    assert r.code == "fetch_failed"
    assert world.down_url in r.reason and "Người ký (chỉ OCSP ngừng)" in r.reason
    assert "connection" in r.reason
    assert set(v.fetch_errors) == {world.down_url}


def test_responder_down_soft_fail_is_ok_with_unknown_evidence(world: World) -> None:
    r = govsig.Verifier(world.policy(revocation="soft-fail"), fetcher=fetcher()).verify(
        world.sigs["down-ocsp-only"], CONTENT)
    assert r.code == "ok", r.reason
    ev = by_subject(r)
    leaf_ev = ev["Người ký (chỉ OCSP ngừng)"]
    assert leaf_ev["status"] == "unknown" and leaf_ev["source"] == "none"
    assert world.down_url in leaf_ev["reason"]
    assert ev["CA ký số OCSP trực tuyến"]["source"] == "ocsp"


@pytest.mark.parametrize("mode", ["hard-fail", "soft-fail"])
def test_responder_down_the_crl_decides(world: World, mode: str) -> None:
    before = world.counts()
    v = govsig.Verifier(world.policy(revocation=mode), fetcher=fetcher())
    r = v.verify(world.sigs["down"], CONTENT)
    assert r.code == "ok", r.reason
    leaf_ev = by_subject(r)["Người ký (máy chủ OCSP ngừng)"]
    assert leaf_ev["source"] == "crl" and leaf_ev["status"] == "good"
    assert delta(before, world.counts()) == {"ca_crl": 1, "root_ocsp": 1}
    assert set(v.fetch_errors) == {world.down_url}




# -- a hostile responder front ----------------------------------------------------------------


@pytest.fixture(scope="module")
def hostile(world: World, openssl: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """Routes the hostile front's /{case}/ to what it serves; returns those bytes by case."""
    served: dict[str, bytes] = {}
    served["wrong-cert"] = world.ca_responder.ask(build_request(world.leaves["ca-good"].der, world.ca.der))
    # Same name and seed, so the same serial (pki._serial), under an unrelated root whose own
    # real responder says "good" for it.
    other_root = P.make_root("Root CA khác", "p256", seed="ocsp-online-other-root")
    twin = P.make_leaf("Người ký OCSP giả mạo (wrong-issuer)", other_root, "p256", seed="ocsp-online|wrong-issuer")
    assert twin.cert.serial_number == world.leaves["wrong-issuer"].cert.serial_number
    with OcspResponder(tmp_path_factory.mktemp("ocsp-other"), openssl, ca=other_root, signer=other_root,
                       entries=[IndexEntry(twin)]) as other:
        served["wrong-issuer"] = other.ask(build_request(twin.der, other_root.der))
    served["stale"] = world.ca_responder.ask(build_request(world.leaves["stale"].der, world.ca.der))
    served["try-later"] = TRY_LATER
    for case, body in served.items():
        world.hostile.route_prefix(f"/{case}/", lambda _seen, b=body: Reply(b, content_type="application/ocsp-response"))
    return served


def hostile_policy(world: World, case: str, **kw) -> govsig.Policy:  # noqa: ANN003
    if case == "stale":
        kw["at"] = REPLAY_AT
    return world.policy(**kw)


@pytest.mark.parametrize("case", list(HOSTILE_CASES))
def test_hostile_response_is_judged_not_good(world: World, hostile: dict[str, bytes], case: str) -> None:
    code, needle = HOSTILE_CASES[case]
    # The bytes themselves, judged alone for this signer: never good, and why.
    alone = govsig.ocsp.validate_response(hostile[case], world.leaves[case].der, world.ca.der,
                                          trust=govsig.TrustStore([world.root.der]),
                                          at=REPLAY_AT if case == "stale" else None)
    assert not alone.ok and alone.code == code and needle in alone.reason, alone.reason

    # In the Verifier, with OCSP the only source: hard-fail refuses, soft-fail accepts with the
    # leaf's status unknown. The hostile front is asked once per Verifier.
    before = world.hostile.requests()
    r = govsig.Verifier(hostile_policy(world, case, revocation_sources=("ocsp",)), fetcher=fetcher()).verify(
        world.sigs[case], CONTENT)
    assert r.code == ("fetch_failed" if case == "try-later" else "revocation_unknown"), r.reason
    assert f"Người ký OCSP giả mạo ({case})" in r.reason
    if case != "wrong-cert":  # see test_response_for_another_certificate_is_named
        assert needle in r.reason, r.reason
    assert world.hostile.requests() - before == 1
    soft = govsig.Verifier(hostile_policy(world, case, revocation="soft-fail", revocation_sources=("ocsp",)),
                           fetcher=fetcher()).verify(world.sigs[case], CONTENT)
    assert soft.code == "ok", soft.reason
    leaf_ev = by_subject(soft)[f"Người ký OCSP giả mạo ({case})"]
    assert leaf_ev["status"] == "unknown" and leaf_ev["source"] == "none" and leaf_ev["ocsp_fingerprint"] is None


# A fetched response that parses but does not decide (for another certificate, signed by an
# unauthorised key, stale) must not block the next source: the Verifier tells the core that
# this evidence decided nothing, and the CRL named in cRLDistributionPoints is asked for.
# (Regression: the core once asked for the same OCSP request again and stopped there.)
@pytest.mark.parametrize("case", HOSTILE_CASES)
def test_hostile_response_falls_back_to_the_crl(world: World, hostile: dict[str, bytes], case: str) -> None:
    before = world.counts()
    r = govsig.Verifier(hostile_policy(world, case), fetcher=fetcher()).verify(world.sigs[case], CONTENT)
    assert r.code == "ok", r.reason
    leaf_ev = by_subject(r)[f"Người ký OCSP giả mạo ({case})"]
    assert leaf_ev["source"] == "crl" and leaf_ev["status"] == "good"
    assert delta(before, world.counts()).get("ca_crl") == 1


def test_response_for_another_certificate_is_named(world: World, hostile: dict[str, bytes]) -> None:
    # The responder did answer, with a response for someone else: the reason should say so
    # (as govsig.ocsp.validate_response does: "has no answer for"), not that there was none.
    # (Regression: the core once looked only at responses indexed by the certificate's serial.)
    r = govsig.Verifier(world.policy(revocation_sources=("ocsp",)), fetcher=fetcher()).verify(
        world.sigs["wrong-cert"], CONTENT)
    assert r.code == "revocation_unknown"
    assert "has no answer for" in r.reason, r.reason


# -- offline evidence -------------------------------------------------------------------------


def test_responses_fetched_before_decide_offline(world: World) -> None:
    leaf, ca, root = world.leaves["delegated-good"], world.ca, world.root
    # What the core asks for, with no fetcher and no evidence: the OCSP request (SHA-1 CertID,
    # RFC 5019 §2.1.1, no nonce) the caller can send itself.
    offline = govsig.Verifier(world.policy()).verify(world.sigs["delegated-good"], CONTENT)
    assert offline.code == "revocation_unknown"
    # (The CA's own request, to the root's responder, is named in the same round.)
    assert ("ocsp", world.delegated_responder.url, build_request(leaf.der, ca.der)) in offline.needs
    assert {kind for kind, _, _ in offline.needs} == {"ocsp"} and len(offline.needs) == 2

    # Fetched once, some time before (a SHA-256 CertID for the leaf, SHA-1 for the CA)...
    with govsig.HttpFetcher(timeout=10) as f:
        leaf_resp = f.fetch_ocsp(world.delegated_responder.url, build_request(leaf.der, ca.der, hash="sha256"))
        ca_resp = f.fetch_ocsp(world.root_responder.url, build_request(ca.der, root.der))
    before = world.counts()
    # ... then verification needs no fetcher and no network.
    v = govsig.Verifier(world.policy(ocsp_responses=[leaf_resp, ca_resp]))
    r = v.verify(world.sigs["delegated-good"], CONTENT)
    assert r.code == "ok", r.reason
    assert r.needs == []
    assert world.counts() == before
    ev = by_subject(r)
    for name, resp, responder in (("Người ký hợp lệ (delegated)", leaf_resp, world.delegate),
                                  ("CA ký số OCSP trực tuyến", ca_resp, root)):
        e = ev[name]
        parsed = c_ocsp.load_der_ocsp_response(resp)
        assert e["source"] == "ocsp" and e["status"] == "good"
        assert e["ocsp_fingerprint"] == hashlib.sha256(resp).digest()
        assert e["ocsp_responder"] == subject(responder)
        assert e["ocsp_this_update"] == parsed.this_update_utc
        assert e["ocsp_next_update"] == parsed.next_update_utc
        assert e["ocsp_next_update"] - e["ocsp_this_update"] == dt.timedelta(minutes=60)

    # The same offline evidence for a revoked signer decides too, naming the response.
    revoked = world.leaves["ca-revoked"]
    with govsig.HttpFetcher(timeout=10) as f:
        revoked_resp = f.fetch_ocsp(world.ca_responder.url, build_request(revoked.der, ca.der))
    r = govsig.Verifier(world.policy(ocsp_responses=[revoked_resp, ca_resp])).verify(world.sigs["ca-revoked"], CONTENT)
    assert r.code == "cert_revoked" and "according to an OCSP response signed by its issuer" in r.reason

    # Responses that have expired by the validation time decide nothing: hard-fail refuses.
    late = govsig.Verifier(world.policy(ocsp_responses=[leaf_resp, ca_resp], at=REPLAY_AT))
    r = late.verify(world.sigs["delegated-good"], CONTENT)
    assert r.code == "revocation_unknown" and "is stale at the validation time" in r.reason


# -- bulk ---------------------------------------------------------------------------------------


def test_bulk_fetches_once_per_certificate(openssl: str, tmp_path: Path) -> None:
    n_cas, per_ca, per_signer = 3, 20, 10
    with LoopbackServer() as crl_server, \
            OcspResponder(tmp_path / "root", openssl, ca=(root := P.make_root("Root CA hàng loạt", "p256",
                                                                             seed="ocsp-bulk-root")),
                          signer=root, entries=[]) as root_responder:
        cas = [P.make_intermediate(f"CA hàng loạt {i}", root, "p256", seed=f"ocsp-bulk-ca{i}",
                                   extra_extensions=[aia(root_responder.url), cdp(crl_server.url("/root.crl"))])
               for i in range(n_cas)]
        root_responder.set_entries([IndexEntry(c) for c in cas])
        crl_server.serve("/root.crl", make_crl(root))
        # CAs 0 and 1 answer by OCSP (their leaves also name a CRL, never needed); CA 2's leaves
        # name only a CRL.
        responders = [OcspResponder(tmp_path / f"ca{i}", openssl, ca=cas[i], signer=cas[i], entries=[]).start()
                      for i in range(2)]
        try:
            signers: list[P.Issued] = []
            for i, ca in enumerate(cas):
                crl_server.serve(f"/ca{i}.crl", make_crl(ca))
                exts = [cdp(crl_server.url(f"/ca{i}.crl"))] + ([aia(responders[i].url)] if i < 2 else [])
                leaves = [P.make_leaf(f"Cán bộ {i}-{j}", ca, "p256", seed=f"ocsp-bulk|{i}|{j}", extra_extensions=exts)
                          for j in range(per_ca)]
                if i < 2:
                    responders[i].set_entries([IndexEntry(c) for c in leaves])
                signers += leaves
            # Document k is signed by signer k % 60: every chunk meets every signer.
            items = []
            for k in range(len(signers) * per_signer):
                content = CONTENT + b" #%d" % k
                items.append((P.sign_cms(content, signers[k % len(signers)]), content))

            policy = govsig.Policy(trust=[root.cert], revocation="hard-fail")
            shared = fetcher(cache_dir=tmp_path / "cache")
            batch = govsig.Verifier(policy, fetcher=shared).verify_many(items, threads=2, chunk_size=128)
            assert batch.counts() == {"ok": len(items)}

            def asked() -> tuple[list[int], list[list[int]], int, int]:
                return (serials_asked(root_responder), [serials_asked(r) for r in responders],
                        crl_server.requests("/root.crl"), sum(crl_server.requests(f"/ca{i}.crl") for i in range(3)))

            root_serials, ca_serials, root_crl, ca_crls = asked()
            # Exactly one OCSP request per distinct certificate, leaves and CAs alike.
            assert sorted(root_serials) == sorted(c.cert.serial_number for c in cas)
            for i in range(2):
                assert sorted(ca_serials[i]) == sorted(s.cert.serial_number for s in signers if s.issuer is cas[i])
            # One CRL fetch, for the CA whose leaves name no responder; the root CRL is never
            # needed (OCSP decides the CAs).
            assert (root_crl, crl_server.requests("/ca2.crl"), ca_crls) == (0, 1, 1)
            assert shared.stats["fetches"] == n_cas + 2 * per_ca + 1

            # A second Verifier on the same fetcher: everything comes from its memory cache.
            again = govsig.Verifier(policy, fetcher=shared).verify_many(items, threads=2, chunk_size=128)
            assert again.counts() == {"ok": len(items)}
            assert asked() == (root_serials, ca_serials, root_crl, ca_crls)
            assert shared.stats["fetches"] == n_cas + 2 * per_ca + 1

            # A new fetcher on the same cache directory (another process, another worker): the
            # CRL and every OCSP answer come from disk, nobody is asked again.
            fresh = fetcher(cache_dir=tmp_path / "cache")
            third = govsig.Verifier(policy, fetcher=fresh).verify_many(items, threads=2, chunk_size=128)
            assert third.counts() == {"ok": len(items)}
            assert asked() == (root_serials, ca_serials, root_crl, ca_crls)
            assert fresh.stats["disk_hits"] == n_cas + 2 * per_ca + 1
            assert fresh.stats["fetches"] == 0
        finally:
            for r in responders:
                r.stop()


def test_a_delegated_responders_path_is_kept_as_evidence(world: World) -> None:
    """The delegated responder decided the leaf's status: its certificate (and its path) is
    part of the evidence, not only the response that happens to carry it; fed back with no
    fetcher at the same time, the verdict is the same."""
    r = govsig.Verifier(world.policy(), fetcher=fetcher()).verify(world.sigs["delegated-good"], CONTENT)
    assert r.code == "ok", r.reason
    ev = r.evidence
    assert world.delegate.der in ev.certificates
    assert {world.ca.der, world.root.der} <= set(ev.certificates)
    replay = govsig.Verifier(world.policy(intermediates=list(ev.certificates), crls=list(ev.crls),
                                          ocsp_responses=list(ev.ocsp_responses)))
    again = replay.verify(world.sigs["delegated-good"], CONTENT)
    assert (again.code, again.needs) == ("ok", [])
    # Signed by the CA itself, there is no responder path to keep: the CA is on the path.
    r = govsig.Verifier(world.policy(), fetcher=fetcher()).verify(world.sigs["ca-good"], CONTENT)
    assert r.code == "ok" and world.delegate.der not in r.evidence.certificates
