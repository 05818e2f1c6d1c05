"""OCSP (RFC 6960): build requests and judge single responses in the Rust core.

Sans-IO: fetching is the caller's (or a fetcher's) business; this module turns a certificate
into request bytes and the responder's bytes into an :class:`OcspResult`.

    req = govsig.ocsp.build_request(cert, issuer, nonce=os.urandom(16))
    ... POST req to govsig.ocsp.ocsp_urls(cert)[0] ...
    r = govsig.ocsp.validate_response(resp, cert, issuer, trust=store, nonce=nonce)
    if r.ok: ...            # status "good"; otherwise r.code and r.reason say why not
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal, Optional

from govsig import _govsig
from govsig._policy import Policy, TrustStore
from govsig._certs import many_to_ders, to_ders

__all__ = ["OcspResult", "build_request", "ocsp_urls", "validate_response", "DEFAULT_SKEW"]

_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)

#: Clock difference forgiven on thisUpdate / nextUpdate, in seconds.
DEFAULT_SKEW = 300


def _when(seconds: Optional[int]) -> Optional[_dt.datetime]:
    return None if seconds is None else _EPOCH + _dt.timedelta(seconds=seconds)


def _one_der(obj: Any, what: str) -> bytes:
    ders = to_ders(obj)
    if len(ders) != 1:
        raise ValueError(f"{what} must be one certificate, got {len(ders)}")
    return ders[0]


def _unix(at: Optional[_dt.datetime]) -> int:
    if at is None:
        at = _dt.datetime.now(_dt.timezone.utc)
    if not isinstance(at, _dt.datetime):
        raise TypeError(f"at must be a datetime or None, got {type(at).__name__}")
    if at.tzinfo is None:
        at = at.replace(tzinfo=_dt.timezone.utc)
    return int(at.timestamp() // 1)


@dataclass(frozen=True, slots=True)
class OcspResult:
    """The verdict on one OCSP response for one certificate.

    ``ok`` is true only for a valid response saying ``"good"``. A valid response saying
    ``"revoked"`` has code ``cert_revoked``, one saying ``"unknown"`` ``revocation_unknown``;
    a response that cannot be used has one of the ``ocsp_*`` codes (or an algorithm/key code)
    and ``status`` None. ``responder`` is the DER certificate whose key signed the response
    (the issuer itself, or a delegated responder: ``delegated``).
    """

    ok: bool
    code: str
    reason: str
    status: Optional[Literal["good", "revoked", "unknown"]]
    this_update: Optional[_dt.datetime]
    next_update: Optional[_dt.datetime]
    produced_at: Optional[_dt.datetime]
    revocation_time: Optional[_dt.datetime]
    revocation_reason: Optional[str]
    responder: Optional[bytes]
    delegated: bool

    def __bool__(self) -> bool:
        return self.ok


def build_request(
    cert: Any,
    issuer: Any,
    *,
    hash: Literal["sha1", "sha256", "sha384", "sha512"] = "sha1",
    nonce: Optional[bytes] = None,
) -> bytes:
    """DER OCSPRequest (RFC 6960 §4.1) for ``cert`` issued by ``issuer``.

    ``hash`` names the CertID hash: SHA-1 is what every responder must accept (RFC 5019
    §2.1.1); SHA-256 for responders that accept it. ``nonce`` (1 to 32 octets, RFC 8954) is
    sent in a nonce extension; pass the same bytes to :func:`validate_response`.
    """
    if nonce is not None and not isinstance(nonce, (bytes, bytearray, memoryview)):
        raise TypeError(f"nonce must be bytes or None, got {type(nonce).__name__}")
    return _govsig.ocsp_build_request(
        _one_der(cert, "cert"), _one_der(issuer, "issuer"), hash, None if nonce is None else bytes(nonce)
    )


def ocsp_urls(cert: Any) -> list[str]:
    """OCSP responder URIs from the certificate's authorityInfoAccess (id-ad-ocsp)."""
    return _govsig.ocsp_urls(_one_der(cert, "cert"))


def validate_response(
    response: bytes,
    cert: Any,
    issuer: Any,
    *,
    trust: Optional[TrustStore] = None,
    at: Optional[_dt.datetime] = None,
    nonce: Optional[bytes] = None,
    other_certs: Iterable[Any] = (),
    skew: int = DEFAULT_SKEW,
    max_age: int = 0,
    policy: Optional[Policy] = None,
) -> OcspResult:
    """Judge a DER OCSPResponse for ``cert`` (RFC 6960 §3.2, §4.2.2).

    ``issuer`` is a hint, not a trust anchor: with ``trust``, the issuer's own path to an
    anchor is built and a delegated responder must have a valid path too; without it, the
    caller vouches for ``issuer``. Either way the response must be signed by the issuer or
    by a certificate the issuer gave id-kp-OCSPSigning (found in the response or in
    ``other_certs``). ``other_certs`` also serves path building: intermediates between the
    issuer and the anchors go there. No CRLs being at hand, the revocation of the issuer and
    of a delegated responder is not checked here (the verifier's revocation checking does).

    ``at`` is the validation time (default now): the answer must be fresh there, with
    ``skew`` seconds forgiven; without nextUpdate it is fresh for ``max_age`` seconds after
    thisUpdate. With ``nonce`` (what the request carried) the response must echo it.
    ``policy`` lends its ``legacy`` and ``min_rsa_bits`` (default: no SHA-1/DSA, 2048-bit RSA).
    Unusable input certificates raise ValueError; an unusable response is a result.
    """
    if not isinstance(response, (bytes, bytearray, memoryview)):
        raise TypeError(f"response must be bytes, got {type(response).__name__}")
    if trust is not None and not isinstance(trust, TrustStore):
        raise TypeError(f"trust must be a govsig.TrustStore or None, got {type(trust).__name__}")
    if nonce is not None and not isinstance(nonce, (bytes, bytearray, memoryview)):
        raise TypeError(f"nonce must be bytes or None, got {type(nonce).__name__}")
    if policy is not None and not isinstance(policy, Policy):
        raise TypeError(f"policy must be a govsig.Policy or None, got {type(policy).__name__}")
    for name, value in (("skew", skew), ("max_age", max_age)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"{name} must be a non-negative number of seconds, got {value!r}")
    legacy = policy.legacy if policy is not None else False
    min_rsa_bits = policy.min_rsa_bits if policy is not None else 2048
    (code, reason, status, this_update, next_update, produced_at, rev_time, rev_reason, responder, delegated) = (
        _govsig.ocsp_validate_response(
            bytes(response),
            _one_der(cert, "cert"),
            _one_der(issuer, "issuer"),
            None if trust is None else list(trust.certificates),
            _unix(at),
            skew,
            max_age,
            None if nonce is None else bytes(nonce),
            many_to_ders(other_certs),
            legacy,
            min_rsa_bits,
        )
    )
    return OcspResult(
        ok=code == "ok",
        code=code,
        reason=reason,
        status=status,  # type: ignore[arg-type]
        this_update=_when(this_update),
        next_update=_when(next_update),
        produced_at=_when(produced_at),
        revocation_time=_when(rev_time),
        revocation_reason=rev_reason,
        responder=responder,
        delegated=delegated,
    )
