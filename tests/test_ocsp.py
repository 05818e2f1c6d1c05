"""govsig.ocsp: requests, and responses made by pyca/cryptography's OCSPResponseBuilder (and,
for shapes it cannot make, re-signed with asn1crypto) judged by the Rust core.

Every refusal asserts its specific code and what the reason names.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from asn1crypto import core as a_core
from asn1crypto import ocsp as a_ocsp
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509 import ocsp as c_ocsp
from cryptography.x509.oid import AuthorityInformationAccessOID

import govsig
import pki as _pki
from govsig.ocsp import OcspResult, build_request, ocsp_urls, validate_response

UTC = dt.timezone.utc
AT = _pki.SIGNING_TIME
THIS_UPDATE = AT - dt.timedelta(hours=1)
NEXT_UPDATE = AT + dt.timedelta(days=1)


@dataclasses.dataclass(frozen=True)
class OcspPki:
    root: _pki.Issued          # P-256 root
    ca: _pki.Issued            # P-256 issuing CA under root
    leaf: _pki.Issued          # P-256 leaf under ca
    other_leaf: _pki.Issued    # another leaf under ca
    responder: _pki.Issued     # delegated responder: ca-issued, id-kp-OCSPSigning, ocsp-nocheck
    responder_checked: _pki.Issued  # delegated responder without ocsp-nocheck
    no_eku_responder: _pki.Issued   # ca-issued, no extendedKeyUsage
    any_eku_responder: _pki.Issued  # ca-issued, anyExtendedKeyUsage only
    expired_responder: _pki.Issued  # ca-issued, id-kp-OCSPSigning, expired 2021
    foreign_responder: _pki.Issued  # id-kp-OCSPSigning, issued by another CA
    impostor_ca: _pki.Issued   # same name as ca, another key
    other_root: _pki.Issued    # unrelated root
    rsa_ca: _pki.Issued        # RSA-2048 CA (for RSA-signed responses)
    rsa_leaf: _pki.Issued


@pytest.fixture(scope="module")
def op() -> OcspPki:
    root = _pki.make_root("OCSP Root thử nghiệm", "p256")
    ca = _pki.make_intermediate("OCSP CA thử nghiệm", root, "p256")
    other_root = _pki.make_root("OCSP Root khác", "p256")
    other_ca = _pki.make_intermediate("OCSP CA khác", other_root, "p256")
    nocheck = [(x509.OCSPNoCheck(), False)]
    rsa_root = _pki.make_root("OCSP Root RSA", "rsa2048")
    return OcspPki(
        root=root,
        ca=ca,
        leaf=_pki.make_leaf("Người ký OCSP", ca, "p256"),
        other_leaf=_pki.make_leaf("Người ký khác", ca, "p256"),
        responder=_pki.make_leaf("OCSP Responder", ca, "p256", key_usage=("digital_signature",),
                                 eku=("ocsp_signing",), extra_extensions=nocheck),
        responder_checked=_pki.make_leaf("OCSP Responder (checked)", ca, "p256",
                                         key_usage=("digital_signature",), eku=("ocsp_signing",)),
        no_eku_responder=_pki.make_leaf("OCSP Responder (no EKU)", ca, "p256",
                                        key_usage=("digital_signature",), eku=None),
        any_eku_responder=_pki.make_leaf("OCSP Responder (any EKU)", ca, "p256",
                                         key_usage=("digital_signature",), eku=("any",)),
        expired_responder=_pki.make_leaf(
            "OCSP Responder (expired)", ca, "p256", key_usage=("digital_signature",),
            eku=("ocsp_signing",), extra_extensions=nocheck,
            not_before=dt.datetime(2020, 1, 1, tzinfo=UTC), not_after=dt.datetime(2021, 1, 1, tzinfo=UTC)),
        foreign_responder=_pki.make_leaf("OCSP Responder", other_ca, "p256", key_usage=("digital_signature",),
                                         eku=("ocsp_signing",), extra_extensions=nocheck),
        impostor_ca=_pki.make_intermediate("OCSP CA thử nghiệm", other_root, "p256", seed="impostor"),
        other_root=other_root,
        rsa_ca=rsa_root,
        rsa_leaf=_pki.make_leaf("Người ký RSA", rsa_root, "rsa2048"),
    )


def respond(
    cert: _pki.Issued,
    issuer: _pki.Issued,
    signer: _pki.Issued,
    *,
    status: str = "good",
    cert_hash: hashes.HashAlgorithm | None = None,
    sign_hash: hashes.HashAlgorithm | None = None,
    this_update: dt.datetime = THIS_UPDATE,
    next_update: dt.datetime | None = NEXT_UPDATE,
    revocation_time: dt.datetime | None = None,
    revocation_reason: x509.ReasonFlags | None = None,
    by_key: bool = False,
    certs: list[_pki.Issued] | None = None,
    nonce: bytes | None = None,
) -> bytes:
    """A BasicOCSPResponse from pyca/cryptography."""
    cert_status = {"good": c_ocsp.OCSPCertStatus.GOOD, "revoked": c_ocsp.OCSPCertStatus.REVOKED,
                   "unknown": c_ocsp.OCSPCertStatus.UNKNOWN}[status]
    if status == "revoked" and revocation_time is None:
        revocation_time = dt.datetime(2026, 2, 1, tzinfo=UTC)
    b = c_ocsp.OCSPResponseBuilder().add_response(
        cert=cert.cert, issuer=issuer.cert, algorithm=cert_hash or hashes.SHA1(), cert_status=cert_status,
        this_update=this_update, next_update=next_update,
        revocation_time=revocation_time if status == "revoked" else None,
        revocation_reason=revocation_reason if status == "revoked" else None,
    )
    enc = c_ocsp.OCSPResponderEncoding.HASH if by_key else c_ocsp.OCSPResponderEncoding.NAME
    b = b.responder_id(enc, signer.cert)
    if certs:
        b = b.certificates([c.cert for c in certs])
    if nonce is not None:
        b = b.add_extension(x509.OCSPNonce(nonce), critical=False)
    if sign_hash is None:
        sign_hash = hashes.SHA256()
    resp = b.sign(signer.key, sign_hash)  # type: ignore[arg-type]
    return resp.public_bytes(serialization_der())


def serialization_der():  # noqa: ANN201 - the Encoding enum
    from cryptography.hazmat.primitives.serialization import Encoding

    return Encoding.DER


def _sign_raw(key: object, data: bytes, sha1: bool = False) -> bytes:
    h = hashes.SHA1() if sha1 else hashes.SHA256()
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return key.sign(data, ec.ECDSA(h))
    assert isinstance(key, rsa.RSAPrivateKey)
    return key.sign(data, padding.PKCS1v15(), h)


def resign(response: bytes, signer: _pki.Issued, mutate, *, sha1_rsa: bool = False,  # noqa: ANN001
           patch_tbs=None) -> bytes:  # noqa: ANN001
    """Rebuilds a response's ResponseData with ``mutate(dict) -> dict`` (asn1crypto objects)
    and signs it again with ``signer``'s key: shapes OCSPResponseBuilder will not make."""
    outer = a_ocsp.OCSPResponse.load(response)
    basic = outer["response_bytes"]["response"].parsed
    rd = basic["tbs_response_data"]
    fields = {
        "responder_id": rd["responder_id"],
        "produced_at": rd["produced_at"],
        "responses": list(rd["responses"]),
    }
    if rd["response_extensions"].native is not None:
        fields["response_extensions"] = list(rd["response_extensions"])
    fields = mutate(fields)
    version = fields.pop("version_der", None)
    new_rd = a_ocsp.ResponseData(fields)
    tbs = new_rd.dump()
    if version is not None:
        # ResponseData { [0] { INTEGER v } ... }: asn1crypto only knows v1 and omits it.
        body = a_core.Sequence.load(tbs).contents
        tbs = a_core.Sequence(contents=version + body).dump()
        new_rd = a_ocsp.ResponseData.load(tbs)
    signed = tbs
    if patch_tbs is not None:
        # Patch the bytes, not the parsed value: asn1crypto cannot re-encode values it does
        # not know (e.g. an unassigned reason code). Patches keep the length, so the patched
        # TBS replaces the original in the final DER as is.
        signed = patch_tbs(tbs)
        assert len(signed) == len(tbs), "patch_tbs must keep the length"
    new_basic = a_ocsp.BasicOCSPResponse({
        "tbs_response_data": new_rd,
        "signature_algorithm": {"algorithm": "sha1_rsa", "parameters": None} if sha1_rsa else basic["signature_algorithm"],
        "signature": _sign_raw(signer.key, signed, sha1_rsa),
        "certs": basic["certs"] if basic["certs"].native is not None else None,
    })
    out = a_ocsp.OCSPResponse({
        "response_status": "successful",
        "response_bytes": {"response_type": "basic_ocsp_response", "response": new_basic},
    }).dump()
    if signed is not tbs:
        assert out.count(tbs) == 1
        out = out.replace(tbs, signed)
    return out


def check(response: bytes, cert: _pki.Issued, issuer: _pki.Issued, **kw) -> OcspResult:  # noqa: ANN003
    kw.setdefault("at", AT)
    return validate_response(response, cert.der, issuer.der, **kw)


def assert_refused(r: OcspResult, code: str, *needles: str) -> None:
    assert not r.ok and not r, r
    assert r.code == code, r.reason
    assert r.status is None
    for n in needles:
        assert n in r.reason, (n, r.reason)


# --- requests ------------------------------------------------------------------------------

@pytest.mark.parametrize("name,algo", [("sha1", hashes.SHA1()), ("sha256", hashes.SHA256())])
@pytest.mark.parametrize("nonce", [None, bytes(range(16))])
def test_request_is_what_cryptography_builds(op: OcspPki, name: str, algo: hashes.HashAlgorithm, nonce: bytes | None) -> None:
    ours = build_request(op.leaf.der, op.ca.der, hash=name, nonce=nonce)  # type: ignore[arg-type]
    b = c_ocsp.OCSPRequestBuilder().add_certificate(op.leaf.cert, op.ca.cert, algo)
    if nonce is not None:
        b = b.add_extension(x509.OCSPNonce(nonce), critical=False)
    assert ours == b.build().public_bytes(serialization_der())
    parsed = c_ocsp.load_der_ocsp_request(ours)
    assert parsed.serial_number == op.leaf.cert.serial_number
    assert isinstance(parsed.hash_algorithm, type(algo))


def test_request_accepts_cryptography_objects_and_pem(op: OcspPki) -> None:
    assert build_request(op.leaf.cert, op.ca.pem) == build_request(op.leaf.der, op.ca.der)


def test_request_refuses_bad_input(op: OcspPki) -> None:
    with pytest.raises(ValueError, match="1 to 32 octets"):
        build_request(op.leaf.der, op.ca.der, nonce=b"")
    with pytest.raises(ValueError, match="1 to 32 octets"):
        build_request(op.leaf.der, op.ca.der, nonce=bytes(33))
    with pytest.raises(ValueError, match="not by"):
        build_request(op.leaf.der, op.other_root.der)
    with pytest.raises(ValueError, match="hash must be one of"):
        build_request(op.leaf.der, op.ca.der, hash="md5")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="not a valid X.509 certificate"):
        build_request(b"\x30\x03\x02\x01\x01", op.ca.der)


def test_ocsp_urls_from_authority_info_access(op: OcspPki) -> None:
    aia = x509.AuthorityInformationAccess([
        x509.AccessDescription(AuthorityInformationAccessOID.CA_ISSUERS, x509.UniformResourceIdentifier("http://ca.example/ca.crt")),
        x509.AccessDescription(AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier("http://ocsp.example/a")),
        x509.AccessDescription(AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier("http://ocsp.example/b")),
    ])
    leaf = _pki.make_leaf("Người ký có AIA", op.ca, "p256", extra_extensions=[(aia, False)])
    assert ocsp_urls(leaf.der) == ["http://ocsp.example/a", "http://ocsp.example/b"]
    assert ocsp_urls(op.leaf.der) == []


# --- statuses ----------------------------------------------------------------------------------

def test_good_signed_by_the_ca(op: OcspPki) -> None:
    r = check(respond(op.leaf, op.ca, op.ca), op.leaf, op.ca)
    assert r.ok and r and r.code == "ok" and r.status == "good"
    assert r.this_update == THIS_UPDATE and r.next_update == NEXT_UPDATE
    assert r.revocation_time is None and r.revocation_reason is None
    assert r.responder == op.ca.der and not r.delegated
    assert "is good" in r.reason and "OCSP CA" in r.reason


def test_revoked_with_time_and_reason(op: OcspPki) -> None:
    when = dt.datetime(2026, 2, 3, 4, 5, 6, tzinfo=UTC)
    resp = respond(op.leaf, op.ca, op.ca, status="revoked", revocation_time=when,
                   revocation_reason=x509.ReasonFlags.key_compromise)
    r = check(resp, op.leaf, op.ca)
    assert not r.ok and r.code == "cert_revoked" and r.status == "revoked"
    assert r.revocation_time == when and r.revocation_reason == "key_compromise"
    assert "revoked on 2026-02-03T04:05:06Z (key_compromise)" in r.reason


def test_revoked_without_reason(op: OcspPki) -> None:
    r = check(respond(op.leaf, op.ca, op.ca, status="revoked"), op.leaf, op.ca)
    assert r.code == "cert_revoked" and r.revocation_reason is None


def test_unknown(op: OcspPki) -> None:
    r = check(respond(op.leaf, op.ca, op.ca, status="unknown"), op.leaf, op.ca)
    assert not r.ok and r.code == "revocation_unknown" and r.status == "unknown"
    assert "unknown to the responder" in r.reason


@pytest.mark.parametrize("by_key", [False, True])
@pytest.mark.parametrize("cert_hash", [hashes.SHA1(), hashes.SHA256(), hashes.SHA384(), hashes.SHA512()])
def test_responder_id_forms_and_certid_hashes(op: OcspPki, by_key: bool, cert_hash: hashes.HashAlgorithm) -> None:
    r = check(respond(op.leaf, op.ca, op.ca, by_key=by_key, cert_hash=cert_hash), op.leaf, op.ca)
    assert r.ok, r.reason


def test_rsa_signed_response(op: OcspPki) -> None:
    r = check(respond(op.rsa_leaf, op.rsa_ca, op.rsa_ca), op.rsa_leaf, op.rsa_ca)
    assert r.ok, r.reason


def test_sha1_signature_needs_legacy(op: OcspPki) -> None:
    # pyca/cryptography 48 no longer signs with SHA-1: re-sign its response.
    resp = resign(respond(op.rsa_leaf, op.rsa_ca, op.rsa_ca), op.rsa_ca, lambda f: f, sha1_rsa=True)
    assert_refused(check(resp, op.rsa_leaf, op.rsa_ca), "algorithm_not_allowed", "legacy")
    assert check(resp, op.rsa_leaf, op.rsa_ca, policy=govsig.Policy(legacy=True)).ok


def test_result_is_frozen(op: OcspPki) -> None:
    r = check(respond(op.leaf, op.ca, op.ca), op.leaf, op.ca)
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.ok = False  # type: ignore[misc]


# --- delegated responders ----------------------------------------------------------------------

def test_delegated_responder_in_the_response(op: OcspPki) -> None:
    r = check(respond(op.leaf, op.ca, op.responder, certs=[op.responder]), op.leaf, op.ca)
    assert r.ok, r.reason
    assert r.delegated and r.responder == op.responder.der
    assert "delegated responder" in r.reason


def test_delegated_responder_by_key_from_other_certs(op: OcspPki) -> None:
    resp = respond(op.leaf, op.ca, op.responder, by_key=True)
    assert_refused(check(resp, op.leaf, op.ca), "ocsp_unauthorized_responder", "byKey", "neither the issuer")
    assert check(resp, op.leaf, op.ca, other_certs=[op.responder.cert]).ok


@pytest.mark.parametrize("which,needle", [
    ("no_eku_responder", "lacks id-kp-OCSPSigning"),
    ("any_eku_responder", "lacks id-kp-OCSPSigning"),
    ("expired_responder", "not at the validation time"),
    ("foreign_responder", "issued by 'CN=OCSP CA khác"),
    ("leaf", "lacks id-kp-OCSPSigning"),
])
def test_unauthorized_delegates(op: OcspPki, which: str, needle: str) -> None:
    signer = getattr(op, which)
    r = check(respond(op.other_leaf, op.ca, signer, certs=[signer]), op.other_leaf, op.ca)
    assert_refused(r, "ocsp_unauthorized_responder", needle)


def test_responder_key_with_the_issuers_name_is_not_the_issuer(op: OcspPki) -> None:
    # Signed by a key that claims the CA's name: neither the CA's signature nor a delegate.
    r = check(respond(op.leaf, op.ca, op.impostor_ca), op.leaf, op.ca)
    assert_refused(r, "ocsp_invalid", "does not verify with the key of")


def test_responder_certificate_for_the_impostor_is_refused(op: OcspPki) -> None:
    r = check(respond(op.leaf, op.ca, op.impostor_ca, certs=[op.impostor_ca]), op.leaf, op.ca)
    assert r.code in ("ocsp_unauthorized_responder", "ocsp_invalid"), r.reason
    assert not r.ok


# --- trust --------------------------------------------------------------------------------------

def test_issuer_established_through_the_trust_store(op: OcspPki) -> None:
    resp = respond(op.leaf, op.ca, op.ca)
    assert check(resp, op.leaf, op.ca, trust=govsig.TrustStore([op.root.der])).ok
    r = check(resp, op.leaf, op.ca, trust=govsig.TrustStore([op.other_root.der]))
    assert_refused(r, "ocsp_unauthorized_responder", "has no valid path to a trust anchor")


def test_delegated_responder_path_to_the_trust_store(op: OcspPki) -> None:
    store = govsig.TrustStore([op.root.der])
    for responder in (op.responder, op.responder_checked):
        r = check(respond(op.leaf, op.ca, responder, certs=[responder]), op.leaf, op.ca, trust=store)
        assert r.ok and r.delegated, r.reason


def test_issuer_hint_that_did_not_issue_the_certificate(op: OcspPki) -> None:
    resp = respond(op.leaf, op.impostor_ca, op.impostor_ca)
    r = check(resp, op.leaf, op.impostor_ca)
    assert_refused(r, "cert_signature_invalid", "was not signed by the key of the issuer given")
    r = check(resp, op.leaf, op.other_root)
    assert_refused(r, "chain_untrusted", "not by the issuer given")


# --- hostile and malformed --------------------------------------------------------------------

@pytest.mark.parametrize("garbage", [b"", b"\x00", b"garbage bytes, not DER", b"\x30\x80\x00\x00", b"\x30" * 4096])
def test_garbage(op: OcspPki, garbage: bytes) -> None:
    assert_refused(check(garbage, op.leaf, op.ca), "ocsp_invalid", "not a DER OCSPResponse")


def test_every_truncation_is_refused(op: OcspPki) -> None:
    resp = respond(op.leaf, op.ca, op.ca)
    for cut in range(0, len(resp), 7):
        r = check(resp[:cut], op.leaf, op.ca)
        assert r.code == "ocsp_invalid", (cut, r.reason)


@pytest.mark.parametrize("status", [c_ocsp.OCSPResponseStatus.TRY_LATER, c_ocsp.OCSPResponseStatus.UNAUTHORIZED,
                                    c_ocsp.OCSPResponseStatus.MALFORMED_REQUEST, c_ocsp.OCSPResponseStatus.INTERNAL_ERROR,
                                    c_ocsp.OCSPResponseStatus.SIG_REQUIRED])
def test_unsuccessful_response_status(op: OcspPki, status: c_ocsp.OCSPResponseStatus) -> None:
    resp = c_ocsp.OCSPResponseBuilder.build_unsuccessful(status).public_bytes(serialization_der())
    names = {"TRY_LATER": "tryLater", "UNAUTHORIZED": "unauthorized", "MALFORMED_REQUEST": "malformedRequest",
             "INTERNAL_ERROR": "internalError", "SIG_REQUIRED": "sigRequired"}
    assert_refused(check(resp, op.leaf, op.ca), "ocsp_invalid", names[status.name])


def test_response_for_another_certificate(op: OcspPki) -> None:
    r = check(respond(op.other_leaf, op.ca, op.ca), op.leaf, op.ca)
    assert_refused(r, "ocsp_invalid", "has no answer for", "Người ký OCSP")


def test_tampered_signature(op: OcspPki) -> None:
    resp = bytearray(respond(op.rsa_leaf, op.rsa_ca, op.rsa_ca))
    resp[-5] ^= 0x01
    assert_refused(check(bytes(resp), op.rsa_leaf, op.rsa_ca), "ocsp_invalid", "does not verify")


def test_tampered_response_data(op: OcspPki) -> None:
    resp = respond(op.leaf, op.ca, op.ca, status="revoked")
    # The re-signing helper is faithful: the CA's own re-signature still verifies...
    assert check(resign(resp, op.ca, lambda f: f), op.leaf, op.ca).code == "cert_revoked"
    # ...and the same ResponseData signed by any other key does not.
    forged = resign(resp, op.other_root, lambda f: f)
    assert_refused(check(forged, op.leaf, op.ca), "ocsp_invalid", "does not verify")


# --- nonce --------------------------------------------------------------------------------------

def test_nonce_echoed(op: OcspPki) -> None:
    nonce = bytes(range(20))
    assert check(respond(op.leaf, op.ca, op.ca, nonce=nonce), op.leaf, op.ca, nonce=nonce).ok


def test_replayed_response_with_another_nonce(op: OcspPki) -> None:
    resp = respond(op.leaf, op.ca, op.ca, nonce=b"old request nonce")
    r = check(resp, op.leaf, op.ca, nonce=b"fresh request nonce")
    assert_refused(r, "ocsp_nonce_mismatch", "not the one sent", "replayed")


def test_response_without_the_nonce_asked_for(op: OcspPki) -> None:
    r = check(respond(op.leaf, op.ca, op.ca), op.leaf, op.ca, nonce=b"fresh request nonce")
    assert_refused(r, "ocsp_nonce_mismatch", "has none")


def test_nonce_not_asked_is_ignored(op: OcspPki) -> None:
    assert check(respond(op.leaf, op.ca, op.ca, nonce=b"whatever"), op.leaf, op.ca).ok


# --- freshness ----------------------------------------------------------------------------------

def test_stale_after_next_update(op: OcspPki) -> None:
    resp = respond(op.leaf, op.ca, op.ca)
    assert check(resp, op.leaf, op.ca, at=NEXT_UPDATE + dt.timedelta(seconds=299)).ok
    r = check(resp, op.leaf, op.ca, at=NEXT_UPDATE + dt.timedelta(seconds=301))
    assert_refused(r, "ocsp_stale", "nextUpdate", "stale")
    assert check(resp, op.leaf, op.ca, at=NEXT_UPDATE + dt.timedelta(hours=1), skew=3601).ok


def test_this_update_in_the_future(op: OcspPki) -> None:
    resp = respond(op.leaf, op.ca, op.ca, this_update=AT + dt.timedelta(minutes=10),
                   next_update=AT + dt.timedelta(days=1))
    assert_refused(check(resp, op.leaf, op.ca), "ocsp_stale", "after the validation time")
    assert check(resp, op.leaf, op.ca, skew=900).ok


def test_without_next_update(op: OcspPki) -> None:
    resp = respond(op.leaf, op.ca, op.ca, this_update=AT - dt.timedelta(minutes=1), next_update=None)
    r = check(resp, op.leaf, op.ca)
    assert r.ok and r.next_update is None
    late = AT + dt.timedelta(hours=1)
    assert_refused(check(resp, op.leaf, op.ca, at=late), "ocsp_stale", "no nextUpdate")
    assert check(resp, op.leaf, op.ca, at=late, max_age=7200).ok


def test_bad_arguments(op: OcspPki) -> None:
    resp = respond(op.leaf, op.ca, op.ca)
    with pytest.raises(ValueError, match="skew"):
        check(resp, op.leaf, op.ca, skew=-1)
    with pytest.raises(TypeError, match="trust"):
        check(resp, op.leaf, op.ca, trust=[op.root.der])
    with pytest.raises(TypeError, match="at must be"):
        check(resp, op.leaf, op.ca, at="2026-01-01")
    with pytest.raises(ValueError, match="not a valid X.509"):
        validate_response(resp, b"\x30\x00", op.ca.der)


# --- shapes OCSPResponseBuilder cannot make ------------------------------------------------------

def _single(resp: bytes) -> a_ocsp.SingleResponse:
    return a_ocsp.OCSPResponse.load(resp)["response_bytes"]["response"].parsed["tbs_response_data"]["responses"][0]


def test_several_single_responses(op: OcspPki) -> None:
    ours = respond(op.leaf, op.ca, op.ca, status="revoked")
    other = _single(respond(op.other_leaf, op.ca, op.ca))
    resp = resign(ours, op.ca, lambda f: {**f, "responses": [other, *f["responses"]]})
    r = check(resp, op.leaf, op.ca)
    assert r.code == "cert_revoked", r.reason
    assert check(resp, op.other_leaf, op.ca).ok


def test_contradictory_single_responses(op: OcspPki) -> None:
    good = _single(respond(op.leaf, op.ca, op.ca))
    resp = resign(respond(op.leaf, op.ca, op.ca, status="revoked"), op.ca,
                  lambda f: {**f, "responses": [*f["responses"], good]})
    assert_refused(check(resp, op.leaf, op.ca), "ocsp_invalid", "answers both revoked and good")


def _ext(oid: str, critical: bool, value: bytes) -> a_core.Sequence:
    return a_core.Sequence(contents=a_core.ObjectIdentifier(oid).dump()
                           + (a_core.Boolean(True).dump() if critical else b"")
                           + a_core.OctetString(value).dump())


def test_unknown_critical_response_extension(op: OcspPki) -> None:
    ext = _ext("1.3.6.1.4.1.99999.1", True, b"\x05\x00")
    resp = resign(respond(op.leaf, op.ca, op.ca), op.ca,
                  lambda f: {**f, "response_extensions": a_ocsp.ResponseDataExtensions.load(
                      a_core.SequenceOf(contents=ext.dump()).dump())})
    assert_refused(check(resp, op.leaf, op.ca), "ocsp_invalid", "critical extension 1.3.6.1.4.1.99999.1")


def test_unknown_non_critical_response_extension_is_ignored(op: OcspPki) -> None:
    ext = _ext("1.3.6.1.4.1.99999.1", False, b"\x05\x00")
    resp = resign(respond(op.leaf, op.ca, op.ca), op.ca,
                  lambda f: {**f, "response_extensions": a_ocsp.ResponseDataExtensions.load(
                      a_core.SequenceOf(contents=ext.dump()).dump())})
    assert check(resp, op.leaf, op.ca).ok


def test_critical_nonce_is_understood(op: OcspPki) -> None:
    nonce = b"critical nonce"
    ext = _ext("1.3.6.1.5.5.7.48.1.2", True, a_core.OctetString(nonce).dump())
    resp = resign(respond(op.leaf, op.ca, op.ca), op.ca,
                  lambda f: {**f, "response_extensions": a_ocsp.ResponseDataExtensions.load(
                      a_core.SequenceOf(contents=ext.dump()).dump())})
    assert check(resp, op.leaf, op.ca, nonce=nonce).ok


def test_unknown_critical_single_extension(op: OcspPki) -> None:
    single = _single(respond(op.leaf, op.ca, op.ca))
    exts = a_core.SequenceOf(contents=_ext("1.3.6.1.4.1.99999.2", True, b"\x05\x00").dump())
    # SingleResponse ::= SEQUENCE { certID, certStatus, thisUpdate, [0] nextUpdate, [1] singleExtensions }
    raw = single.contents + bytes([0xA1]) + _der_len(len(exts.dump())) + exts.dump()
    patched = a_ocsp.SingleResponse.load(a_core.Sequence(contents=raw).dump())
    resp = resign(respond(op.leaf, op.ca, op.ca), op.ca, lambda f: {**f, "responses": [patched]})
    assert_refused(check(resp, op.leaf, op.ca), "ocsp_invalid", "SingleResponse", "1.3.6.1.4.1.99999.2")


def _der_len(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(b)]) + b


def test_response_data_version_2_is_refused(op: OcspPki) -> None:
    v2 = bytes([0xA0, 0x03, 0x02, 0x01, 0x01])
    resp = resign(respond(op.leaf, op.ca, op.ca), op.ca, lambda f: {**f, "version_der": v2})
    assert_refused(check(resp, op.leaf, op.ca), "ocsp_invalid", "version 2 is not v1")


def test_unknown_revocation_reason_is_refused(op: OcspPki) -> None:
    resp = respond(op.leaf, op.ca, op.ca, status="revoked", revocation_reason=x509.ReasonFlags.key_compromise)
    # keyCompromise is ENUMERATED 1 inside [0]: a0 03 0a 01 01 -> 7 (unassigned in RFC 5280 §5.3.1).
    key_compromise = bytes([0xA0, 0x03, 0x0A, 0x01, 0x01])

    def to_seven(tbs: bytes) -> bytes:
        assert tbs.count(key_compromise) == 1
        return tbs.replace(key_compromise, key_compromise[:-1] + b"\x07")

    r = check(resign(resp, op.ca, lambda f: f, patch_tbs=to_seven), op.leaf, op.ca)
    assert_refused(r, "ocsp_invalid", "revocationReason 7")
