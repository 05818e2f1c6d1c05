"""Fetching revocation evidence over HTTP: CRLs by distribution point, OCSP by responder.

The Rust core is sans-IO: it names the CRL URLs and the OCSP (responder URL, request) pairs it
lacks, and judges whatever bytes it is handed. This module does the network half. A fetcher is
any callable ``fetcher(url) -> bytes`` (a CRL) / ``fetcher(url, request) -> bytes`` (an OCSP
response) that raises :class:`FetchError` on failure; :class:`HttpFetcher` is the one govsig
ships: urllib3 for the transport (pooled keep-alive connections, proxies, retries), parallel
bulk fetches, a response-size cap and a total deadline, and a memory + on-disk cache that
never serves a CRL or OCSP response past its nextUpdate.
"""

from __future__ import annotations

import base64
import datetime as _dt
import hashlib
import heapq
import ipaddress
import json
import os
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol, Union, runtime_checkable
import urllib.request
from urllib.parse import quote, urljoin, urlsplit

import urllib3

from govsig._crl import Crl, _pem_der

__all__ = ["FETCH_ERROR_KINDS", "FetchError", "Fetcher", "BulkFetcher", "HttpFetcher", "FetchKey"]

FETCH_ERROR_KINDS = ("bad_url", "connection", "timeout", "http_status", "too_large", "bad_response")

# A key of fetch_many's answer: a CRL URL, or an OCSP (responder URL, DER OCSPRequest) pair.
FetchKey = Union[str, tuple[str, bytes]]



class Fetcher(Protocol):
    """What a Verifier calls for the evidence the core lacks: ``fetcher(url)`` returns the CRL
    at ``url`` (DER or PEM), ``fetcher(url, request)`` the responder's answer (DER) to a DER
    OCSPRequest. Failure is an exception (:class:`FetchError` names its kind); the Verifier
    records it as missing evidence and retries after a back-off."""

    def __call__(self, url: str, data: bytes | None = None, /) -> bytes: ...


@runtime_checkable
class BulkFetcher(Protocol):
    """A fetcher that fetches many at once (as :class:`HttpFetcher` does, in parallel):
    ``{url: bytes | error}`` for the CRLs and ``{(url, request): bytes | error}`` for OCSP,
    failures as values. A Verifier given one calls only this."""

    def fetch_many(self, crl_urls: Iterable[str] = (),
                   ocsp: Iterable[tuple[str, bytes]] = ()) -> Mapping[FetchKey, bytes | Exception]: ...


_MAX_REDIRECTS = 3
_READ_CHUNK = 64 * 1024
# RFC 5019 §5: a request whose whole GET URL (scheme, host, path and the url-encoded base64
# OCSPRequest) fits in 255 bytes MUST be sent with GET, so that HTTP caches can serve it.
_OCSP_GET_MAX_URL = 255
_SIDECAR_MAX = 64 * 1024
_CACHE_FORMAT = 1

_HINTS = {
    "bad_url": "govsig fetches plain http:// URLs only (CRL distribution points and OCSP "
               "responders are published over http, RFC 5280 §4.2.1.13, RFC 6960 appendix A); "
               "fetch this evidence yourself and pass the bytes in",
    "connection": "check that the host resolves and is reachable from this machine "
                  "(proxy, firewall), or pass the evidence in yourself",
    "timeout": "the server is too slow; raise HttpFetcher(timeout=...) or retry later",
    "http_status": "the server refused or does not have this object; check the URL in the "
                   "certificate and the server",
    "too_large": "raise HttpFetcher(max_bytes=...) if this object is legitimately that large",
    "bad_response": "the server answered with something that is not the expected DER object "
                    "(a proxy or captive-portal page?); check the URL and the server",
}


class FetchError(Exception):
    """Fetching one CRL or OCSP response failed.

    ``url`` is the URL that failed (after redirects, the last one tried), ``kind`` one of
    :data:`FETCH_ERROR_KINDS`, ``reason`` what went wrong; ``str(error)`` names both and what
    to do about it.
    """

    url: str
    kind: str
    reason: str

    def __init__(self, url: str, kind: str, reason: str) -> None:
        if kind not in _HINTS:
            raise ValueError(f"unknown FetchError kind {kind!r}; expected one of {FETCH_ERROR_KINDS}")
        self.url = url
        self.kind = kind
        self.reason = reason
        super().__init__(f"fetching {url}: {reason} ({kind}); {_HINTS[kind]}")

    def __reduce__(self) -> tuple[Any, tuple[str, str, str]]:
        return (type(self), (self.url, self.kind, self.reason))


# -- total deadline ---------------------------------------------------------------------------


class _Watchdog:
    """Shuts the socket of any exchange that outlives its total deadline.

    A per-read timeout alone lets a server that drips one byte just inside each timeout hold a
    worker forever (a slow-read denial of service), and neither urllib3 nor http.client offers a
    total bound while it reads the status line and headers. One process-wide thread enforces the deadline from
    outside: shutting the socket down makes the blocked recv return at once.
    """

    def __init__(self) -> None:
        self._cv = threading.Condition()
        self._heap: list[tuple[float, int]] = []
        self._armed: dict[int, socket.socket] = {}
        self._fired: set[int] = set()
        self._seq = 0
        self._thread: threading.Thread | None = None

    def arm(self, deadline: float, sock: socket.socket) -> int:
        with self._cv:
            self._seq += 1
            token = self._seq
            self._armed[token] = sock
            heapq.heappush(self._heap, (deadline, token))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="govsig-fetch-watchdog",
                                                daemon=True)
                self._thread.start()
            self._cv.notify()
            return token

    def disarm(self, token: int) -> bool:
        """Whether the deadline of ``token`` had fired."""
        with self._cv:
            self._armed.pop(token, None)
            if token in self._fired:
                self._fired.discard(token)
                return True
            return False

    def _run(self) -> None:
        with self._cv:
            while True:
                now = time.monotonic()
                while self._heap and (self._heap[0][0] <= now or self._heap[0][1] not in self._armed):
                    _, token = heapq.heappop(self._heap)
                    sock = self._armed.pop(token, None)
                    if sock is not None:
                        self._fired.add(token)
                        try:
                            sock.shutdown(socket.SHUT_RDWR)
                        except OSError:
                            pass
                self._cv.wait(None if not self._heap else self._heap[0][0] - now)


_WATCHDOG = _Watchdog()


def _reset_watchdog_in_child() -> None:
    # A forked child inherits the watchdog's state but not its thread (nor a usable lock).
    global _WATCHDOG
    _WATCHDOG = _Watchdog()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_watchdog_in_child)


# -- URLs -------------------------------------------------------------------------------------


def _split_http_url(url: str) -> tuple[str, int, str, str]:
    """(host, port, origin-form target, absolute-form target) of an http:// URL (RFC 9112
    §3.2.1, §3.2.2; the fragment dropped), or FetchError("bad_url")."""
    if any(ord(c) < 0x21 or ord(c) > 0x7E for c in url):
        # CDP and AIA URIs are IA5String; a space, CR/LF or non-ASCII character in a request
        # line is how request smuggling and header injection start.
        raise FetchError(url, "bad_url", "the URL contains whitespace, control or non-ASCII characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as e:
        raise FetchError(url, "bad_url", f"the URL does not parse ({e})") from None
    if parts.scheme.lower() != "http":
        what = f"a {parts.scheme}: URL" if parts.scheme else "a URL without a scheme"
        raise FetchError(url, "bad_url", f"{what} is not fetched over HTTP")
    if not parts.hostname:
        raise FetchError(url, "bad_url", "the URL has no host")
    if parts.username is not None or parts.password is not None:
        raise FetchError(url, "bad_url", "the URL carries credentials (user:password@)")
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    return parts.hostname, 80 if port is None else port, target, f"http://{parts.netloc}{target}"


def ocsp_get_url(url: str, request: bytes) -> str | None:
    """The RFC 6960 appendix A.1 GET URL for ``request`` at responder ``url``, or None when it
    would exceed the 255 bytes under which RFC 5019 §5 asks for GET (POST is used instead)."""
    # Appendix A.1: {url}/{url-encoding of base-64 encoding of the DER OCSPRequest}; the
    # url-encoding turns '+', '/' and '=' into %2B, %2F, %3D.
    encoded = quote(base64.b64encode(request).decode("ascii"), safe="")
    full = url + ("" if url.endswith("/") else "/") + encoded
    return full if len(full) <= _OCSP_GET_MAX_URL else None


# -- evidence parsing -------------------------------------------------------------------------


def _crl_der_and_next_update(url: str, body: bytes) -> tuple[bytes, float | None]:
    """The DER of a DER or PEM CRL and its nextUpdate (seconds since the epoch), or
    FetchError("bad_response") naming why the body is not a CRL."""
    try:
        # Read as evidence: a CRL that breaks the profile (v2 without a cRLNumber, an unknown
        # critical extension, ...) is still what the server publishes; the core keeps it as
        # refused evidence and says why. Only a body that is not a CRL is a bad response.
        crl = Crl._evidence(_pem_der(body) if body.lstrip()[:10] == b"-----BEGIN" else body)
    except ValueError as e:
        head = body[:16]
        raise FetchError(url, "bad_response",
                         f"the {len(body)}-byte body is not a CRL ({e}); it starts with {head!r}") from None
    nu = crl.next_update
    return crl.der, None if nu is None else nu.timestamp()


def _ocsp_next_update(body: bytes) -> float | None:
    """The earliest nextUpdate of a successful OCSP response, None when it has none or cannot
    be read (then it is simply not cached; the core still judges the bytes)."""
    from cryptography.x509 import ocsp

    try:
        resp = ocsp.load_der_ocsp_response(body)
        if resp.response_status != ocsp.OCSPResponseStatus.SUCCESSFUL:
            return None
        updates = [single.next_update_utc for single in resp.responses]
    except ValueError:
        return None
    if not updates or any(u is None for u in updates):
        return None
    return min(u.timestamp() for u in updates if u is not None)


def _der_header(data: bytes, pos: int) -> tuple[int, int, int]:
    """(tag, start of content, end of content) of the DER TLV at ``pos``; ValueError when it
    does not fit in ``data``."""
    if pos + 2 > len(data):
        raise ValueError("truncated")
    tag, first = data[pos], data[pos + 1]
    pos += 2
    if first < 0x80:
        length = first
    else:
        n = first & 0x7F
        if n == 0 or n > 4 or pos + n > len(data):
            raise ValueError("bad length")
        length = int.from_bytes(data[pos:pos + n], "big")
        pos += n
    if pos + length > len(data):
        raise ValueError("truncated")
    return tag, pos, pos + length


def _der_time(tag: int, content: bytes) -> float:
    """A UTCTime (0x17) or GeneralizedTime (0x18) in seconds since the epoch (RFC 5280
    §4.1.2.5: two-digit years 50-99 are 19xx)."""
    import calendar

    text = content.decode("ascii")
    if not text.endswith("Z"):
        raise ValueError("not a UTC time")
    digits = text[:-1].split(".")[0]
    if tag == 0x17:
        yy = int(digits[:2])
        year, rest = (1900 + yy if yy >= 50 else 2000 + yy), digits[2:]
    elif tag == 0x18:
        year, rest = int(digits[:4]), digits[4:]
    else:
        raise ValueError("not a time")
    if len(rest) != 10 or not rest.isdigit():
        raise ValueError("bad time")
    fields = (year, int(rest[0:2]), int(rest[2:4]), int(rest[4:6]), int(rest[6:8]), int(rest[8:10]))
    return float(calendar.timegm(fields))


def crl_validity(der: bytes) -> tuple[float, float | None] | None:
    """thisUpdate and nextUpdate (seconds since the epoch) of a DER CRL, read from the
    TBSCertList header only (RFC 5280 §5.1: version?, signature, issuer, thisUpdate,
    nextUpdate?), without parsing its entries; None when the header does not read."""
    try:
        _, pos, _end = _der_header(der, 0)            # CertificateList
        tag, pos, tbs_end = _der_header(der, pos)     # TBSCertList
        tag, start, end = _der_header(der, pos)
        if tag == 0x02:                               # version; then signature
            tag, start, end = _der_header(der, end)
        tag, start, end = _der_header(der, end)       # issuer
        tag, start, end = _der_header(der, end)       # thisUpdate
        this_update = _der_time(tag, der[start:end])
        next_update = None
        if end < tbs_end:
            tag, start, nend = _der_header(der, end)
            if tag in (0x17, 0x18):
                next_update = _der_time(tag, der[start:nend])
        return this_update, next_update
    except (ValueError, UnicodeDecodeError):
        return None


def ocsp_validity(der: bytes) -> list[tuple[float, float | None]]:
    """(thisUpdate, nextUpdate) of every SingleResponse of a successful OCSP response
    (RFC 6960 §4.2.1); empty when it is not one."""
    from cryptography.x509 import ocsp

    try:
        resp = ocsp.load_der_ocsp_response(der)
        if resp.response_status != ocsp.OCSPResponseStatus.SUCCESSFUL:
            return []
        return [(single.this_update_utc.timestamp(),
                 None if single.next_update_utc is None else single.next_update_utc.timestamp())
                for single in resp.responses]
    except ValueError:
        return []


def _as_seconds(t: Any) -> float:
    """A clock reading as seconds since the epoch: a number, or an aware datetime."""
    if isinstance(t, _dt.datetime):
        if t.tzinfo is None:
            raise TypeError("clock returned a naive datetime; return an aware one (e.g. in UTC)")
        return t.timestamp()
    if isinstance(t, bool) or not isinstance(t, (int, float)):
        raise TypeError(f"clock must return seconds since the epoch or an aware datetime, not {type(t).__name__}")
    return float(t)


# -- on-disk cache ----------------------------------------------------------------------------


class _DiskCache:
    """CRLs on disk, one body file and one JSON sidecar per URL, named by SHA-256 of the URL.

    Writes are atomic (a temporary file in the same directory, then rename), so a reader in
    another process or thread sees the old entry or the new one, never half of one. Anything
    unreadable, inconsistent or oversized is treated as a miss.
    """

    def __init__(self, root: Path) -> None:
        self.root = root / "crl"
        self.root.mkdir(parents=True, exist_ok=True)

    def _paths(self, url: str) -> tuple[Path, Path]:
        name = hashlib.sha256(url.encode("utf-8")).hexdigest()
        return self.root / f"{name}.crl", self.root / f"{name}.json"

    def load(self, url: str, max_bytes: int) -> tuple[bytes, float] | None:
        body_path, meta_path = self._paths(url)
        try:
            with open(meta_path, "rb") as f:
                meta = json.loads(f.read(_SIDECAR_MAX + 1)[:_SIDECAR_MAX])
            if not isinstance(meta, dict) or meta.get("format") != _CACHE_FORMAT or meta.get("url") != url:
                return None
            if body_path.stat().st_size > max_bytes:
                return None
            body = body_path.read_bytes()
            if hashlib.sha256(body).hexdigest() != meta.get("sha256"):
                return None
            # nextUpdate is read again from the CRL itself: the sidecar is a record, not the
            # authority, so a stale or hand-edited sidecar cannot extend a CRL's life.
            der, next_update = _crl_der_and_next_update(url, body)
        except (OSError, ValueError, FetchError):
            return None
        if next_update is None:
            return None
        return der, next_update

    def store(self, url: str, der: bytes, fetched_at: float, next_update: float) -> None:
        body_path, meta_path = self._paths(url)
        meta = {
            "format": _CACHE_FORMAT,
            "url": url,
            "fetched_at": fetched_at,
            "next_update": next_update,
            "sha256": hashlib.sha256(der).hexdigest(),
            "size": len(der),
        }
        # Body first, sidecar last: a sidecar always describes a body that is already in
        # place, and the SHA-256 in it catches a body replaced by a concurrent writer.
        self._atomic_write(body_path, der)
        self._atomic_write(meta_path, json.dumps(meta, sort_keys=True).encode("utf-8"))

    def _atomic_write(self, path: Path, data: bytes) -> None:
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".tmp-", suffix=path.suffix)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise


# -- the fetcher ------------------------------------------------------------------------------


class _Memo:
    """Fresh evidence in memory, least recently used first out once over ``max_bytes``: a
    bulk job over many issuers keeps the CRLs it is using, not every CRL it has seen.
    Not locked: the fetcher holds its lock around every call."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._entries: dict[tuple[str, Any], tuple[bytes, float]] = {}
        self._size = 0

    def get(self, key: tuple[str, Any], now: float) -> bytes | None:
        entry = self._entries.pop(key, None)
        if entry is None:
            return None
        if not now < entry[1]:
            self._size -= len(entry[0])
            return None
        self._entries[key] = entry  # re-inserted: most recently used
        return entry[0]

    def put(self, key: tuple[str, Any], body: bytes, expires: float) -> None:
        old = self._entries.pop(key, None)
        if old is not None:
            self._size -= len(old[0])
        if len(body) > self.max_bytes:
            return
        self._entries[key] = (body, expires)
        self._size += len(body)
        while self._size > self.max_bytes:
            oldest = next(iter(self._entries))
            self._size -= len(self._entries.pop(oldest)[0])

    def clear(self) -> None:
        self._entries.clear()
        self._size = 0


class _DeadlineConnection(urllib3.connection.HTTPConnection):
    """A urllib3 connection whose socket is handed to the watchdog for every exchange made
    under a deadline (set per thread by the fetcher around each fetch): urllib3's timeouts
    bound each read, not the whole exchange."""

    def connect(self) -> None:
        super().connect()
        _arm_current(self.sock)

    def request(self, method: str, url: str, body: Any = None, headers: Any = None,
                **kw: Any) -> None:
        if self.sock is not None:
            # A kept-alive connection: connect() will not run again.
            _arm_current(self.sock)
        super().request(method, url, body=body, headers=headers, **kw)


class _DeadlinePool(urllib3.HTTPConnectionPool):
    ConnectionCls = _DeadlineConnection


# The deadline of the fetch running on this thread, and the watchdog tokens armed for it.
_EXCHANGE = threading.local()


def _arm_current(sock: socket.socket | None) -> None:
    deadline = getattr(_EXCHANGE, "deadline", None)
    if deadline is not None and sock is not None:
        _EXCHANGE.tokens.append(_WATCHDOG.arm(deadline, sock))


def _is_loopback(host: str) -> bool:
    """A proxy cannot reach this machine's loopback: such URLs always go direct."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class HttpFetcher:
    """Fetches CRLs and OCSP responses over HTTP, in parallel, with caches.

    - ``timeout`` (seconds) bounds the connection and every read; each fetch also has a total
      deadline of twice ``timeout``, so a server dripping bytes cannot hold a worker.
    - ``max_bytes`` caps a response body; a larger one is abandoned while streaming (at most
      ``max_bytes + 1`` bytes are read) and gives ``FetchError(kind="too_large")``.
    - ``cache_dir``: CRLs are also kept on disk there and shared by every fetcher (and process)
      using the same directory. A cached CRL is served until its nextUpdate, then refetched.
    - ``max_workers`` threads run :meth:`fetch_many`; each thread keeps one connection per host.
    - ``proxy``: an ``http://host:port`` forward proxy every request goes through. Without
      one, and with ``trust_env`` (the default), the environment's ``http_proxy`` /
      ``no_proxy`` apply as ``urllib.request`` reads them; loopback hosts always go direct.
    - ``memory_cache_bytes`` bounds the fresh CRLs and OCSP responses kept in memory (least
      recently used evicted first; 0 keeps none there, the disk cache still works).
    - ``clock`` returns the current time, in seconds since the epoch or as an aware datetime:
      what the caches judge freshness by (a test's simulated clock, or the same clock as the
      Verifier's ``clock=``). Neither cache ever serves a CRL or OCSP response at or past its
      nextUpdate by this clock.

    The transport is urllib3: connections pooled and kept alive per host (``max_workers``
    each), a connection that fails to open retried twice and a request whose connection
    dropped once (OCSP requests are safe to repeat), 0.1 s apart doubling. Only http:// URLs
    are fetched; at most 3 redirects are followed, each checked to be http:// before it is.
    Thread-safe: concurrent requests for the same CRL URL or OCSP request share one fetch.
    Picklable (by configuration; caches in memory and connections are not carried over).
    """

    def __init__(
        self,
        timeout: float = 10.0,
        cache_dir: str | os.PathLike[str] | None = None,
        max_bytes: int = 32 * 2**20,
        max_workers: int = 8,
        user_agent: str | None = None,
        *,
        proxy: str | None = None,
        memory_cache_bytes: int = 256 * 2**20,
        clock: Callable[[], float | _dt.datetime] = time.time,
        trust_env: bool = True,
    ) -> None:
        if not callable(clock):
            raise TypeError(f"clock must be a zero-argument callable, not {type(clock).__name__}")
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
            raise ValueError(f"timeout must be a positive number of seconds, not {timeout!r}")
        if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 1:
            raise ValueError(f"max_bytes must be a positive int, not {max_bytes!r}")
        if isinstance(max_workers, bool) or not isinstance(max_workers, int) or max_workers < 1:
            raise ValueError(f"max_workers must be a positive int, not {max_workers!r}")
        if isinstance(memory_cache_bytes, bool) or not isinstance(memory_cache_bytes, int) or memory_cache_bytes < 0:
            raise ValueError(f"memory_cache_bytes must be an int >= 0, not {memory_cache_bytes!r}")
        if user_agent is None:
            from govsig import __version__

            user_agent = f"govsig/{__version__}"
        if not isinstance(user_agent, str) or any(ord(c) < 0x20 or ord(c) > 0x7E for c in user_agent):
            raise ValueError("user_agent must be printable ASCII")
        self.timeout = float(timeout)
        self.max_bytes = max_bytes
        self.max_workers = max_workers
        self.user_agent = user_agent
        self.cache_dir = None if cache_dir is None else Path(cache_dir)
        self._clock_source = clock
        if proxy is not None:
            if not isinstance(proxy, str):
                raise TypeError(f"proxy must be a str URL, not {type(proxy).__name__}")
            try:
                _split_http_url(proxy)
            except FetchError as e:
                raise ValueError(f"proxy must be an http://host:port URL: {e.reason}") from None
        self.proxy = proxy
        self.trust_env = bool(trust_env)
        self.memory_cache_bytes = memory_cache_bytes
        try:
            self._disk = None if self.cache_dir is None else _DiskCache(self.cache_dir)
        except OSError as e:
            raise OSError(e.errno, f"cannot use cache_dir {str(self.cache_dir)!r}: {e.strerror}") from None
        self._retries = urllib3.Retry(total=3, connect=2, read=1, redirect=0, status=0, other=0,
                                      allowed_methods=frozenset({"GET", "POST"}),
                                      backoff_factor=0.1, backoff_max=1.0, raise_on_status=False,
                                      respect_retry_after_header=False)
        self._pool_kw: dict[str, Any] = {
            "num_pools": 64, "maxsize": max_workers, "block": False, "retries": self._retries,
            "timeout": urllib3.Timeout(connect=self.timeout, read=self.timeout),
        }
        self._direct: urllib3.PoolManager | None = None
        self._via_proxy: dict[str, urllib3.ProxyManager] = {}
        self._lock = threading.Lock()
        self._memo = _Memo(memory_cache_bytes)
        self._inflight: dict[tuple[str, Any], Future[bytes]] = {}
        self._executor: ThreadPoolExecutor | None = None
        self._stats = {"fetches": 0, "requests": 0, "cache_hits": 0, "disk_hits": 0,
                       "coalesced": 0, "bytes": 0, "errors": 0, "cache_write_errors": 0}

    # -- public API ----------------------------------------------------------------------

    def fetch_crl(self, url: str) -> bytes:
        """The DER of the CRL at ``url`` (served as DER or PEM), fresh per its nextUpdate.

        Served from memory or ``cache_dir`` while ``now < nextUpdate``; fetched otherwise. A
        CRL without nextUpdate, or already stale when fetched, is returned but not cached.
        """
        if not isinstance(url, str):
            raise TypeError(f"url must be a str, not {type(url).__name__}")
        hit = self._cached(("crl", url))
        if hit is not None:
            return hit
        return self._single_flight(("crl", url), lambda: self._crl_miss(url))

    def fetch_ocsp(self, url: str, request: bytes) -> bytes:
        """The OCSP response of responder ``url`` to the DER OCSPRequest ``request``.

        Sent with GET (RFC 6960 appendix A.1) when the URL fits in 255 bytes (RFC 5019 §5),
        POST with ``application/ocsp-request`` otherwise, or when the responder answers the
        GET with an HTTP error. A successful response is kept in
        memory for the same (url, request) until its nextUpdate; others are not cached.
        """
        if not isinstance(url, str):
            raise TypeError(f"url must be a str, not {type(url).__name__}")
        if not isinstance(request, (bytes, bytearray, memoryview)):
            raise TypeError(f"request must be bytes, not {type(request).__name__}")
        key = (url, bytes(request))
        hit = self._cached(("ocsp", key))
        if hit is not None:
            return hit
        return self._single_flight(("ocsp", key), lambda: self._ocsp_miss(key))

    def fetch_many(self, crl_urls: Iterable[str] = (),
                   ocsp: Iterable[tuple[str, bytes]] = ()) -> dict[FetchKey, bytes | FetchError]:
        """Fetches in parallel; each distinct CRL URL and (url, request) pair at most once.

        Returns ``{url: bytes | FetchError}`` for the CRLs and ``{(url, request): bytes |
        FetchError}`` for OCSP, in one dict; failures are values, never raised.
        """
        if isinstance(crl_urls, (str, bytes)):
            raise TypeError("crl_urls must be an iterable of URLs, not a single string")
        crls: dict[str, None] = {}
        for url in crl_urls:
            if not isinstance(url, str):
                raise TypeError(f"CRL URLs must be str, not {type(url).__name__}")
            crls[url] = None
        pairs: dict[tuple[str, bytes], None] = {}
        for pair in ocsp:
            if not (isinstance(pair, tuple) and len(pair) == 2 and isinstance(pair[0], str)
                    and isinstance(pair[1], (bytes, bytearray, memoryview))):
                raise TypeError("each OCSP item must be a (url: str, request: bytes) tuple")
            pairs[(pair[0], bytes(pair[1]))] = None
        if not crls and not pairs:
            return {}
        executor = self._pool()
        futures: dict[FetchKey, Future[bytes]] = {}
        for url in crls:
            futures[url] = executor.submit(self.fetch_crl, url)
        for pair_key in pairs:
            futures[pair_key] = executor.submit(self.fetch_ocsp, *pair_key)
        out: dict[FetchKey, bytes | FetchError] = {}
        for key, fut in futures.items():
            try:
                out[key] = fut.result()
            except FetchError as e:
                out[key] = e
        return out

    def __call__(self, url: str, data: bytes | None = None) -> bytes:
        """The fetcher shape the verifier calls: ``(url)`` fetches a CRL, ``(url, request)``
        an OCSP response."""
        return self.fetch_crl(url) if data is None else self.fetch_ocsp(url, data)

    @property
    def stats(self) -> dict[str, int]:
        """Counters since creation: ``fetches`` (one per CRL or OCSP answer sought on the
        network),
        ``requests`` (HTTP requests, redirects included), ``cache_hits`` (memory or disk),
        ``disk_hits``, ``coalesced`` (callers that waited on another thread's fetch),
        ``bytes`` (response body bytes received), ``errors`` (fetches that ended in a
        FetchError), ``cache_write_errors``."""
        with self._lock:
            return dict(self._stats)

    def clear_memory_cache(self) -> None:
        """Forgets the in-memory CRLs and OCSP responses (the disk cache stays)."""
        with self._lock:
            self._memo.clear()

    def close(self) -> None:
        """Stops the worker threads and closes the kept-alive connections."""
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True)
        with self._lock:
            managers: list[urllib3.PoolManager] = [*self._via_proxy.values()]
            if self._direct is not None:
                managers.append(self._direct)
            self._direct, self._via_proxy = None, {}
        for m in managers:
            m.clear()

    def __enter__(self) -> HttpFetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __reduce__(self) -> tuple[Any, tuple[Any, ...], dict[str, Any]]:
        return (_rebuild, (self.timeout, self.cache_dir, self.max_bytes, self.max_workers,
                           self.user_agent, self.proxy, self.memory_cache_bytes, self.trust_env),
                {"clock": self._clock_source})

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._clock_source = state["clock"]

    def __repr__(self) -> str:
        return (f"HttpFetcher(timeout={self.timeout}, cache_dir={self.cache_dir!r}, "
                f"max_bytes={self.max_bytes}, max_workers={self.max_workers}, proxy={self.proxy!r})")

    # -- caches --------------------------------------------------------------------------

    def _clock(self) -> float:
        return _as_seconds(self._clock_source())

    def _count(self, **deltas: int) -> None:
        with self._lock:
            for k, v in deltas.items():
                self._stats[k] += v

    def _cached(self, key: tuple[str, Any]) -> bytes | None:
        now = self._clock()
        with self._lock:
            hit = self._memo.get(key, now)
            if hit is not None:
                self._stats["cache_hits"] += 1
            return hit

    def _crl_miss(self, url: str) -> bytes:
        # Another thread may have filled the cache between our look-up and taking the flight.
        hit = self._cached(("crl", url))
        if hit is not None:
            return hit
        if self._disk is not None:
            entry = self._disk.load(url, self.max_bytes)
            if entry is not None and self._clock() < entry[1]:
                with self._lock:
                    self._memo.put(("crl", url), *entry)
                    self._stats["cache_hits"] += 1
                    self._stats["disk_hits"] += 1
                return entry[0]
        self._count(fetches=1)
        body = self._fetch(url, "GET", None, "application/pkix-crl")
        der, next_update = _crl_der_and_next_update(url, body)
        now = self._clock()
        if next_update is not None and now < next_update:
            with self._lock:
                self._memo.put(("crl", url), der, next_update)
            if self._disk is not None:
                try:
                    self._disk.store(url, der, now, next_update)
                except OSError:
                    # A full or read-only disk costs a refetch later, not this answer.
                    self._count(cache_write_errors=1)
        return der

    def _ocsp_miss(self, key: tuple[str, bytes]) -> bytes:
        hit = self._cached(("ocsp", key))
        if hit is not None:
            return hit
        url, request = key
        _split_http_url(url)
        self._count(fetches=1)
        get_url = ocsp_get_url(url, request)
        body: bytes | None = None
        if get_url is not None:
            try:
                body = self._fetch(get_url, "GET", None, "application/ocsp-response")
            except FetchError as e:
                # Some responders refuse GET (405, 400, 414) though RFC 6960 appendix A.1
                # describes it; the same request by POST is always allowed.
                if e.kind != "http_status":
                    raise
        if body is None:
            body = self._fetch(url, "POST", request, "application/ocsp-response")
        if body[:1] != b"\x30":
            # Every OCSPResponse is a DER SEQUENCE; anything else (an HTML error page, an
            # empty body) is not worth handing to the core.
            raise FetchError(url, "bad_response",
                             f"the {len(body)}-byte body is not a DER OCSP response; it starts with {body[:16]!r}")
        next_update = _ocsp_next_update(body)
        if next_update is not None and self._clock() < next_update:
            with self._lock:
                self._memo.put(("ocsp", key), body, next_update)
        return body

    def _single_flight(self, key: tuple[str, Any], work: Callable[[], bytes]) -> bytes:
        with self._lock:
            fut = self._inflight.get(key)
            owner = fut is None
            if fut is None:
                fut = self._inflight[key] = Future()
            else:
                self._stats["coalesced"] += 1
        if not owner:
            return fut.result()
        try:
            result = work()
        except BaseException as e:
            if isinstance(e, FetchError):
                self._count(errors=1)
            fut.set_exception(e)
            raise
        else:
            fut.set_result(result)
            return result
        finally:
            with self._lock:
                del self._inflight[key]

    def _pool(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(self.max_workers, thread_name_prefix="govsig-fetch")
            return self._executor

    # -- HTTP ----------------------------------------------------------------------------

    def _manager(self, host: str) -> urllib3.PoolManager:
        """The pool manager for a target host: through the configured proxy, else the
        environment's (unless it is bypassed for this host), else direct."""
        proxy = self.proxy
        if proxy is None and self.trust_env and not _is_loopback(host):
            env = urllib.request.getproxies_environment()
            if env.get("http") and not urllib.request.proxy_bypass(host):
                proxy = env["http"]
        with self._lock:
            if proxy is None:
                if self._direct is None:
                    self._direct = urllib3.PoolManager(**self._pool_kw)
                    self._direct.pool_classes_by_scheme = {"http": _DeadlinePool}
                return self._direct
            manager = self._via_proxy.get(proxy)
            if manager is None:
                # Through a forward proxy the request line carries the absolute URL and the
                # proxy, not this client, resolves and connects (RFC 9112 §3.2.2).
                manager = self._via_proxy[proxy] = urllib3.ProxyManager(proxy, **self._pool_kw)
                manager.pool_classes_by_scheme = {"http": _DeadlinePool}
            return manager

    def _fetch(self, url: str, method: str, body: bytes | None, accept: str) -> bytes:
        """One fetch, redirects included, within a total deadline of twice ``timeout``."""
        deadline = time.monotonic() + 2 * self.timeout
        for _ in range(_MAX_REDIRECTS + 1):
            # Every hop is checked before it is followed: a redirect to ldap:, https: or
            # file: is refused without touching the network.
            host, _port, _target, absolute = _split_http_url(url)
            if time.monotonic() >= deadline:
                raise FetchError(url, "timeout", f"no complete answer within {2 * self.timeout:g} s")
            status, reason, location, data = self._exchange(url, absolute, host, method, body, accept,
                                                            deadline)
            if status in (301, 302, 303, 307, 308):
                if not location:
                    raise FetchError(url, "http_status", f"HTTP {status} redirect without a Location")
                url = urljoin(url, location)
                if status == 303:
                    method, body = "GET", None
                continue
            if status != 200:
                raise FetchError(url, "http_status", f"HTTP {status} {reason}".rstrip())
            return data
        raise FetchError(url, "http_status", f"more than {_MAX_REDIRECTS} redirects")

    def _exchange(self, url: str, absolute: str, host: str, method: str, body: bytes | None,
                  accept: str, deadline: float) -> tuple[int, str, str | None, bytes]:
        # identity only: without Accept-Encoding any content coding would be acceptable
        # (RFC 9110 §12.5.3), and a compressed body is not a DER object.
        headers = {"User-Agent": self.user_agent, "Accept": accept, "Accept-Encoding": "identity"}
        if body is not None:
            headers["Content-Type"] = "application/ocsp-request"
        manager = self._manager(host)
        _EXCHANGE.deadline, _EXCHANGE.tokens = deadline, []
        resp: urllib3.BaseHTTPResponse | None = None
        keep = False
        try:
            self._count(requests=1)
            resp = manager.urlopen(method, absolute, body=body, headers=headers, redirect=False,
                                   preload_content=False, decode_content=False,
                                   assert_same_host=False)
            if resp.status != 200:
                # Redirect and error bodies are not read: the connection is dropped instead.
                return resp.status, resp.reason or "", resp.headers.get("Location"), b""
            data = self._read_body(url, resp)
            keep = True
        except FetchError:
            raise
        except (urllib3.exceptions.HTTPError, OSError) as e:
            if self._deadline_fired():
                raise FetchError(url, "timeout", f"no complete answer within {2 * self.timeout:g} s") from None
            raise _transport_error(url, e, self.timeout) from None
        finally:
            fired = self._deadline_fired()
            _EXCHANGE.deadline = None
            if resp is not None:
                if not keep or fired:
                    # The response holds the socket (a close-delimited body keeps it after the
                    # connection lets go): it must close, or the server keeps streaming into a
                    # socket nobody reads. The closed connection goes back to its pool's slot.
                    resp.close()
                resp.release_conn()
        if fired:
            # The watchdog cut the socket after the last byte arrived or as it arrived: what
            # was read may be truncated.
            raise FetchError(url, "timeout", f"no complete answer within {2 * self.timeout:g} s")
        return 200, resp.reason or "", None, data

    @staticmethod
    def _deadline_fired() -> bool:
        """Disarms the watchdog tokens of this thread's exchange; whether any had fired."""
        tokens: list[int] = getattr(_EXCHANGE, "tokens", [])
        _EXCHANGE.tokens = []
        fired = False
        for token in tokens:
            fired |= _WATCHDOG.disarm(token)
        return fired

    def _read_body(self, url: str, resp: urllib3.BaseHTTPResponse) -> bytes:
        length = resp.headers.get("Content-Length")
        if length is not None and length.strip().isdigit() and int(length) > self.max_bytes:
            raise FetchError(url, "too_large",
                             f"the server announces {int(length)} bytes, over the {self.max_bytes}-byte limit")
        # Content-Encoding is never asked for and never decoded: a compressed body is judged as
        # the bytes it is, so there is no decompression bomb to defuse.
        buf = bytearray()
        limit = self.max_bytes + 1
        while len(buf) < limit:
            part = resp.read(min(_READ_CHUNK, limit - len(buf)), decode_content=False)
            if not part:
                break
            buf += part
            self._count(bytes=len(part))
        if len(buf) > self.max_bytes:
            raise FetchError(url, "too_large", f"the body exceeds the {self.max_bytes}-byte limit")
        return bytes(buf)


def _transport_error(url: str, e: BaseException, timeout: float) -> FetchError:
    """A FetchError for what urllib3 raised (after its retries)."""
    cause: BaseException = e
    if isinstance(e, urllib3.exceptions.MaxRetryError) and e.reason is not None:
        cause = e.reason
    # NewConnectionError (refused, unresolvable) derives from ConnectTimeoutError in urllib3:
    # it is tested first, or a refused connection would read as a timeout.
    if isinstance(cause, urllib3.exceptions.NewConnectionError):
        # Its text starts with the connection object's repr: only the why is kept.
        why = str(cause).partition("): ")[2] or str(cause)
        return FetchError(url, "connection", f"cannot connect to the server: {why}")
    if isinstance(cause, (urllib3.exceptions.TimeoutError, TimeoutError)):
        return FetchError(url, "timeout", f"no data for {timeout:g} s")
    if isinstance(cause, urllib3.exceptions.LocationParseError):
        return FetchError(url, "bad_url", str(cause))
    if isinstance(cause, urllib3.exceptions.ProtocolError):
        return FetchError(url, "connection", f"the server closed the connection ({cause})")
    return FetchError(url, "connection", f"{type(cause).__name__}: {cause}")


def _rebuild(timeout: float, cache_dir: Path | None, max_bytes: int, max_workers: int,
             user_agent: str, proxy: str | None, memory_cache_bytes: int,
             trust_env: bool = True) -> HttpFetcher:
    return HttpFetcher(timeout, cache_dir, max_bytes, max_workers, user_agent, proxy=proxy,
                       memory_cache_bytes=memory_cache_bytes, trust_env=trust_env)
