"""govsig.ocsp against a real OpenSSL responder (``openssl ocsp`` behind a loopback HTTP
front, see ocsp_responder.py): CA-signed and delegated, good / revoked / unknown, and the
hostile uses of its genuine answers (replay with another nonce, another certificate, too late).
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509 import ocsp as c_ocsp

import govsig
import pki as _pki
from govsig.ocsp import build_request, validate_response
from ocsp_responder import IndexEntry, OcspResponder

UTC = dt.timezone.utc
REVOKED_AT = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


class Pki:
    root = _pki.make_root("OpenSSL OCSP Root", "p256")
    ca = _pki.make_intermediate("OpenSSL OCSP CA", root, "p256")
    good = _pki.make_leaf("Người dùng hợp lệ", ca, "p256")
    revoked = _pki.make_leaf("Người dùng bị thu hồi", ca, "p256")
    unknown = _pki.make_leaf("Người dùng không có trong sổ", ca, "p256")
    delegate = _pki.make_leaf("OpenSSL OCSP Responder", ca, "p256", key_usage=("digital_signature",),
                              eku=("ocsp_signing",), extra_extensions=[(x509.OCSPNoCheck(), False)])
    entries = [IndexEntry(good), IndexEntry(revoked, REVOKED_AT, x509.ReasonFlags.key_compromise),
               IndexEntry(delegate)]


@pytest.fixture(scope="module", params=["ca", "delegated"])
def responder(request: pytest.FixtureRequest, openssl: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[OcspResponder]:
    signer = Pki.ca if request.param == "ca" else Pki.delegate
    workdir: Path = tmp_path_factory.mktemp(f"ocsp-{request.param}")
    with OcspResponder(workdir, openssl, ca=Pki.ca, signer=signer, entries=Pki.entries) as r:
        yield r


STORE = govsig.TrustStore([Pki.root.der])


def fetch(responder: OcspResponder, cert: _pki.Issued, **kw) -> tuple[bytes, bytes]:  # noqa: ANN003
    nonce = os.urandom(16)
    return responder.ask(build_request(cert.der, Pki.ca.der, nonce=nonce, **kw)), nonce


def test_front_listens_on_loopback_only(responder: OcspResponder) -> None:
    assert responder.address[0] == "127.0.0.1"
    assert responder.url.startswith("http://127.0.0.1:")


@pytest.mark.parametrize("hash_name", ["sha1", "sha256"])
def test_good(responder: OcspResponder, hash_name: str) -> None:
    der, nonce = fetch(responder, Pki.good, hash=hash_name)
    r = validate_response(der, Pki.good.der, Pki.ca.der, trust=STORE, nonce=nonce)
    assert r.ok and r.status == "good", r.reason
    assert r.delegated == (responder.signer is Pki.delegate)
    assert r.responder == responder.signer.der
    assert r.next_update is not None and r.this_update is not None
    assert r.next_update - r.this_update == dt.timedelta(minutes=60)
    # pyca/cryptography reads the same answer.
    assert c_ocsp.load_der_ocsp_response(der).certificate_status == c_ocsp.OCSPCertStatus.GOOD


def test_revoked(responder: OcspResponder) -> None:
    der, nonce = fetch(responder, Pki.revoked)
    r = validate_response(der, Pki.revoked.der, Pki.ca.der, trust=STORE, nonce=nonce)
    assert not r.ok and r.code == "cert_revoked" and r.status == "revoked", r.reason
    assert r.revocation_time == REVOKED_AT and r.revocation_reason == "key_compromise"


def test_unknown(responder: OcspResponder) -> None:
    der, nonce = fetch(responder, Pki.unknown)
    r = validate_response(der, Pki.unknown.der, Pki.ca.der, trust=STORE, nonce=nonce)
    assert r.code == "revocation_unknown" and r.status == "unknown", r.reason


def test_without_trust_store_the_issuer_is_vouched_for(responder: OcspResponder) -> None:
    der, nonce = fetch(responder, Pki.good)
    assert validate_response(der, Pki.good.der, Pki.ca.der, nonce=nonce).ok


def test_untrusted_issuer(responder: OcspResponder) -> None:
    der, nonce = fetch(responder, Pki.good)
    other = govsig.TrustStore([_pki.make_root("Some other root", "p256").der])
    r = validate_response(der, Pki.good.der, Pki.ca.der, trust=other, nonce=nonce)
    assert r.code == "ocsp_unauthorized_responder" and "no valid path" in r.reason, r.reason


def test_replayed_with_another_nonce(responder: OcspResponder) -> None:
    der, _ = fetch(responder, Pki.good)
    r = validate_response(der, Pki.good.der, Pki.ca.der, trust=STORE, nonce=os.urandom(16))
    assert r.code == "ocsp_nonce_mismatch" and "replayed" in r.reason, r.reason


def test_answer_for_another_certificate(responder: OcspResponder) -> None:
    der, nonce = fetch(responder, Pki.good)
    r = validate_response(der, Pki.revoked.der, Pki.ca.der, trust=STORE, nonce=nonce)
    assert r.code == "ocsp_invalid" and "has no answer for" in r.reason, r.reason


def test_stale(responder: OcspResponder) -> None:
    der, nonce = fetch(responder, Pki.good)
    later = dt.datetime.now(UTC) + dt.timedelta(hours=2)
    r = validate_response(der, Pki.good.der, Pki.ca.der, trust=STORE, nonce=nonce, at=later)
    assert r.code == "ocsp_stale" and "nextUpdate" in r.reason, r.reason


def test_garbage_from_the_wire(responder: OcspResponder) -> None:
    der, nonce = fetch(responder, Pki.good)
    r = validate_response(der[: len(der) // 2], Pki.good.der, Pki.ca.der, trust=STORE, nonce=nonce)
    assert r.code == "ocsp_invalid", r.reason


def test_openssl_refuses_a_garbage_request(responder: OcspResponder) -> None:
    # OpenSSL cannot read it; the responder answers malformedRequest, which govsig reports.
    der = responder.ask(b"\x30\x03\x02\x01\x00")
    r = validate_response(der, Pki.good.der, Pki.ca.der)
    assert r.code == "ocsp_invalid" and "malformedRequest" in r.reason, r.reason


def test_one_answer_for_several_certificates(responder: OcspResponder, openssl: str, tmp_path: Path) -> None:
    # OpenSSL's client asks about three certificates at once; the responder answers each in
    # its own SingleResponse, and every certificate finds its own.
    paths = []
    for i, c in enumerate((Pki.ca, Pki.good, Pki.revoked, Pki.unknown)):
        p = tmp_path / f"c{i}.pem"
        p.write_bytes(c.pem)
        paths.append(str(p))
    req = tmp_path / "req.der"
    subprocess.run([openssl, "ocsp", "-issuer", paths[0], "-cert", paths[1], "-cert", paths[2], "-cert", paths[3],
                    "-no_nonce", "-reqout", str(req)], check=True, capture_output=True, timeout=30)
    der = responder.ask(req.read_bytes())
    assert len(list(c_ocsp.load_der_ocsp_response(der).responses)) == 3
    got = {name: validate_response(der, c.der, Pki.ca.der, trust=STORE).status
           for name, c in (("good", Pki.good), ("revoked", Pki.revoked), ("unknown", Pki.unknown))}
    assert got == {"good": "good", "revoked": "revoked", "unknown": "unknown"}
