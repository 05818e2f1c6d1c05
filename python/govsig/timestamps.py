"""RFC 3161 time-stamps: a TSA client, and adding signature time-stamps to CMS signatures.

The protocol decisions (building the TimeStampReq, judging the TimeStampResp: status, nonce,
imprint, the token itself) are made in the Rust core; this module is the HTTP transport
(RFC 3161 §3.4: POST ``application/timestamp-query``) on urllib3, as the evidence fetcher's:
pooled connections, the environment's proxy, bounded size and time.
"""
from __future__ import annotations

import hashlib
import threading
import time
import urllib.request
from collections.abc import Callable, Iterable, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Optional, Union
from urllib.parse import urlsplit

import urllib3

from govsig import _govsig
from govsig._policy import Policy, TrustStore
from govsig._verifier import Verifier
from govsig._govsig import TimestampResult
from govsig._http import DEADLINE_POOLS, begin_deadline, end_deadline, is_loopback

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
        self._lock = threading.Lock()
        self._managers: dict[Optional[str], urllib3.PoolManager] = {}

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

    def _manager(self) -> urllib3.PoolManager:
        """Direct, or through the environment's proxy for this scheme unless the host is
        bypassed (no_proxy) or loopback (a proxy cannot reach this machine's loopback)."""
        host = self._parts.hostname or ""
        proxy = None
        if not is_loopback(host):
            env = urllib.request.getproxies_environment()
            if env.get(self._parts.scheme) and not urllib.request.proxy_bypass(host):
                proxy = env[self._parts.scheme]
        with self._lock:
            manager = self._managers.get(proxy)
            if manager is None:
                # Connect failures are retried (nothing was sent); a request that reached the
                # TSA is not repeated behind the caller's back.
                retries = urllib3.Retry(total=2, connect=2, read=0, redirect=0, status=0, other=0,
                                        allowed_methods=frozenset({"POST"}), backoff_factor=0.1,
                                        raise_on_status=False)
                kw: dict[str, Any] = {"num_pools": 2, "maxsize": 8, "block": False, "retries": retries}
                manager = urllib3.ProxyManager(proxy, **kw) if proxy else urllib3.PoolManager(**kw)
                # The watchdog's pools: the deadline bounds the status line and headers too.
                manager.pool_classes_by_scheme = dict(DEADLINE_POOLS)
                self._managers[proxy] = manager
            return manager

    def _post(self, body: bytes) -> bytes:
        deadline = time.monotonic() + self._timeout
        headers = {"Content-Type": "application/timestamp-query", "Accept": ", ".join(_REPLY_TYPES)}

        def failed(reason: str) -> TimestampError:
            return TimestampError("fetch_failed", reason, self._url)

        # A TSA that drips its status line and headers is cut at the deadline from outside
        # (the watchdog); urllib3's read timeout alone bounds each read, not the whole.
        begin_deadline(deadline)
        try:
            data = self._exchange(body, headers, deadline, failed)
        except TimestampError:
            if end_deadline():
                raise failed(f"the TSA took longer than {self._timeout:g} s") from None
            raise
        except BaseException:
            end_deadline()
            raise
        if end_deadline():
            # Cut as or after the last byte arrived: what was read may be truncated.
            raise failed(f"the TSA took longer than {self._timeout:g} s")
        return data

    def _exchange(self, body: bytes, headers: dict[str, str], deadline: float,
                  failed: Callable[[str], TimestampError]) -> bytes:
        try:
            resp = self._manager().urlopen(
                "POST", self._url, body=body, headers=headers, redirect=False, preload_content=False,
                decode_content=False, assert_same_host=False,
                timeout=urllib3.Timeout(connect=self._timeout, read=self._timeout))
        except urllib3.exceptions.MaxRetryError as exc:
            cause = exc.reason or exc
            # NewConnectionError subclasses ConnectTimeoutError in urllib3 2: a refused
            # connection is not a timeout.
            if isinstance(cause, urllib3.exceptions.TimeoutError) and \
                    not isinstance(cause, urllib3.exceptions.NewConnectionError):
                raise failed(f"the TSA did not answer within {self._timeout:g} s") from None
            raise failed(f"cannot reach the TSA: {cause}") from None
        except urllib3.exceptions.TimeoutError:
            raise failed(f"the TSA did not answer within {self._timeout:g} s") from None
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise failed(f"cannot reach the TSA: {exc}") from None
        try:
            if resp.status != 200:
                raise failed(f"the TSA answered HTTP {resp.status} {resp.reason or ''}".rstrip())
            ctype = (resp.headers.get("Content-Type") or "").split(";")[0].strip().lower()
            if ctype not in _REPLY_TYPES:
                raise failed(f"the TSA answered Content-Type {ctype or 'none'!r}, not "
                             "application/timestamp-reply (RFC 3161 §3.4)")
            length = resp.headers.get("Content-Length")
            if length is not None and length.strip().isdigit() and int(length) > _MAX_RESPONSE:
                raise failed(f"the TSA's answer is {int(length)} bytes, over the {_MAX_RESPONSE}-byte limit")
            buf = bytearray()
            # read1 returns what has arrived (urllib3 >= 2.3); read(n) would wait for all n
            # bytes, each socket read within the timeout, which a dripping server stretches
            # without end. The deadline below then bounds the whole exchange.
            read = getattr(resp, "read1", resp.read)
            while True:
                if time.monotonic() > deadline:
                    raise failed(f"the TSA took longer than {self._timeout:g} s")
                # Content-Encoding is never asked for nor decoded: no decompression bomb.
                chunk = read(64 * 1024, decode_content=False)
                if not chunk:
                    break
                buf += chunk
                if len(buf) > _MAX_RESPONSE:
                    raise failed(f"the TSA's answer exceeds {_MAX_RESPONSE} bytes")
            return bytes(buf)
        except urllib3.exceptions.TimeoutError:
            raise failed(f"the TSA did not answer within {self._timeout:g} s") from None
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise failed(f"the TSA's answer broke off: {exc}") from None
        finally:
            # A body not read to its end holds the socket: close it rather than pool it.
            resp.close()
            resp.release_conn()


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
