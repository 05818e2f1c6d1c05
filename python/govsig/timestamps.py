"""RFC 3161 time-stamps: a TSA client, and adding signature time-stamps to CMS signatures.

The protocol decisions (building the TimeStampReq, judging the TimeStampResp: status, nonce,
imprint, the token itself) are made in the Rust core; this module is the HTTP transport
(RFC 3161 §3.4: POST ``application/timestamp-query``) with bounded size and time.
"""
from __future__ import annotations

import hashlib
import http.client
import socket
import time
from collections.abc import Iterable, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Optional, Union
from urllib.parse import urlsplit

from govsig import _govsig
from govsig._api import Policy, TrustStore, Verifier
from govsig._govsig import TimestampResult

__all__ = ["TsaClient", "TimestampError", "add_timestamps"]

# A token with the TSA's chain is a few kilobytes; a megabyte is far beyond any real answer
# and keeps a hostile or broken server from filling memory.
_MAX_RESPONSE = 1024 * 1024
_HASHES = ("sha256", "sha384", "sha512")
# RFC 3161 §3.4 names application/timestamp-reply; some TSAs answer with the older
# application/timestamp-response, which carries the same DER.
_REPLY_TYPES = ("application/timestamp-reply", "application/timestamp-response")


class TimestampError(Exception):
    """A time-stamp could not be obtained. ``code`` is an outcome code (``timestamp_rejected``,
    ``timestamp_nonce_mismatch``, ``timestamp_invalid``, ``timestamp_imprint_mismatch``,
    ``timestamp_untrusted``, ``timestamp_tsa_unauthorized``) or ``fetch_failed`` when the TSA
    could not be reached; ``reason`` says what happened; ``url`` is the TSA's."""

    def __init__(self, code: str, reason: str, url: str) -> None:
        super().__init__(f"{url}: {code}: {reason}")
        self.code = code
        self.reason = reason
        self.url = url

    def __reduce__(self) -> tuple[Any, tuple[str, str, str]]:
        return (TimestampError, (self.code, self.reason, self.url))


class TsaClient:
    """An RFC 3161 time-stamping client for the TSA at ``url`` (http or https).

    ``timeout``: seconds for the whole exchange. ``hash``: the imprint's hash (``sha256``,
    ``sha384``, ``sha512``). ``policy_oid``: ask for tokens under this TSA policy (and refuse
    others). ``nonce``: send a random nonce and require it back (RFC 3161 §2.4.1; stops
    replays). ``cache``: a mutable mapping (a dict, a shelve) where tokens are kept by
    imprint, so the same bytes are not stamped twice. ``trust``: a TrustStore or Verifier
    the TSA's chain must validate against; without one the client checks everything but the
    chain (the token is judged in full when the signature is verified).

    Every answer is checked in the core before it is returned: status granted, nonce echoed,
    imprint of what was sent, the token's own CMS signature, the TSA certificate's critical
    sole id-kp-timeStamping (RFC 3161 §2.3) and its ESS binding. A failure raises
    :class:`TimestampError` with the code and a reason.
    """

    def __init__(self, url: str, *, timeout: float = 10, hash: str = "sha256",
                 policy_oid: Optional[str] = None, nonce: bool = True,
                 cache: Optional[MutableMapping[bytes, bytes]] = None,
                 trust: Union[TrustStore, Verifier, None] = None) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"TSA url must be http:// or https:// with a host, got {url!r}")
        if hash not in _HASHES:
            raise ValueError(f"hash must be one of {', '.join(_HASHES)}, got {hash!r}")
        if not isinstance(timeout, (int, float)) or timeout <= 0:
            raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
        if isinstance(trust, TrustStore):
            verifier = Verifier(Policy(trust=trust))
        elif isinstance(trust, Verifier):
            verifier = trust
        elif trust is None:
            verifier = Verifier()
        else:
            raise TypeError(f"trust must be a govsig.TrustStore, a govsig.Verifier or None, got {type(trust).__name__}")
        self._url = url
        self._parts = parts
        self._timeout = float(timeout)
        self._hash = hash
        self._policy_oid = policy_oid
        self._nonce = bool(nonce)
        self._cache = cache
        self._verifier = verifier
        self._trusted = trust is not None

    @property
    def url(self) -> str:
        return self._url

    @property
    def hash(self) -> str:
        return self._hash

    def __repr__(self) -> str:
        return f"TsaClient({self._url!r}, hash={self._hash!r}, nonce={self._nonce})"

    def timestamp(self, data: bytes) -> bytes:
        """A checked DER TimeStampToken over ``data``."""
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"data must be bytes, got {type(data).__name__}")
        return self.timestamp_digest(hashlib.new(self._hash, bytes(data)).digest())

    def timestamp_digest(self, digest: bytes) -> bytes:
        """A checked DER TimeStampToken over data whose ``hash`` digest is ``digest``."""
        key = f"{self._hash}:".encode() + bytes(digest)
        if self._cache is not None:
            cached = self._cache.get(key)
            if cached is not None:
                return bytes(cached)
        request, nonce = _govsig.timestamp_request(self._hash, bytes(digest), self._nonce, self._policy_oid)
        response = self._post(request)
        engine = self._verifier._engine
        result, token = _govsig.timestamp_check_response(engine, response, self._hash, bytes(digest),
                                                          nonce, self._policy_oid)
        if not self._acceptable(result) or token is None:
            raise TimestampError(result.code, result.reason, self._url)
        if self._cache is not None:
            self._cache[key] = token
        return token

    def _acceptable(self, result: TimestampResult) -> bool:
        if result.ok:
            return True
        # Without a trust store only the chain is left undecided; everything else held.
        return not self._trusted and result.code == "timestamp_untrusted" and result.cause == "integrity_only"

    def _post(self, body: bytes) -> bytes:
        p = self._parts
        deadline = time.monotonic() + self._timeout
        conn_cls = http.client.HTTPSConnection if p.scheme == "https" else http.client.HTTPConnection
        path = (p.path or "/") + (f"?{p.query}" if p.query else "")
        conn = conn_cls(p.hostname or "", p.port, timeout=self._timeout)
        try:
            conn.request("POST", path, body=body, headers={
                "Content-Type": "application/timestamp-query", "Accept": ", ".join(_REPLY_TYPES),
                "Content-Length": str(len(body)), "Connection": "close"})
            resp = conn.getresponse()
            if resp.status != 200:
                raise TimestampError("fetch_failed", f"the TSA answered HTTP {resp.status} {resp.reason}", self._url)
            ctype = (resp.getheader("Content-Type") or "").split(";")[0].strip().lower()
            if ctype not in _REPLY_TYPES:
                raise TimestampError("fetch_failed", f"the TSA answered Content-Type {ctype or 'none'!r}, "
                                     "not application/timestamp-reply (RFC 3161 §3.4)", self._url)
            length = resp.getheader("Content-Length")
            if length is not None and length.isdigit() and int(length) > _MAX_RESPONSE:
                raise TimestampError("fetch_failed", f"the TSA's answer is {length} bytes, over the "
                                     f"{_MAX_RESPONSE}-byte limit", self._url)
            chunks: list[bytes] = []
            total = 0
            while True:
                # The per-read timeout alone lets a server drip bytes forever: the whole
                # exchange is bounded by `timeout` too.
                if time.monotonic() > deadline:
                    raise TimestampError("fetch_failed", f"the TSA took longer than {self._timeout:g} s", self._url)
                chunk = resp.read(64 * 1024)
                if not chunk:
                    break
                total += len(chunk)
                if total > _MAX_RESPONSE:
                    raise TimestampError("fetch_failed", f"the TSA's answer exceeds {_MAX_RESPONSE} bytes", self._url)
                chunks.append(chunk)
            return b"".join(chunks)
        except (socket.timeout, TimeoutError):
            raise TimestampError("fetch_failed", f"the TSA did not answer within {self._timeout:g} s", self._url) from None
        except (OSError, http.client.HTTPException) as exc:
            raise TimestampError("fetch_failed", f"cannot reach the TSA: {exc}", self._url) from None
        finally:
            conn.close()


def add_timestamps(signature: bytes, tsa: TsaClient) -> bytes:
    """``signature`` (a DER or BER CMS SignedData) with a signature time-stamp from ``tsa``
    added to every SignerInfo (unsigned attribute id-aa-signatureTimeStampToken over the
    signature value, RFC 3161 Appendix A). Signed bytes are not touched, so every signature
    still verifies. Raises ValueError for input that is not a CMS signature and
    :class:`TimestampError` when the TSA fails."""
    if not isinstance(signature, (bytes, bytearray, memoryview)):
        raise TypeError(f"signature must be bytes, got {type(signature).__name__}")
    if not isinstance(tsa, TsaClient):
        raise TypeError(f"tsa must be a govsig.TsaClient, got {type(tsa).__name__}")
    sig = bytes(signature)
    values = _govsig.cms_signature_values(sig)
    tokens = [[tsa.timestamp(v)] for v in values]
    return _govsig.cms_add_signature_timestamps(sig, tokens)


def add_timestamps_many(signatures: Iterable[bytes], tsa: TsaClient, *, threads: int = 4) -> list[bytes]:
    """:func:`add_timestamps` over many signatures, ``threads`` TSA requests in flight;
    results in input order; the first failure (in input order) raises."""
    items = list(signatures)
    if len(items) <= 1 or threads <= 1:
        return [add_timestamps(s, tsa) for s in items]
    with ThreadPoolExecutor(max_workers=min(threads, len(items))) as ex:
        return list(ex.map(lambda s: add_timestamps(s, tsa), items))
