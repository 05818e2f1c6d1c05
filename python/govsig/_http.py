"""The HTTP transport of evidence fetching: urllib3 pools (kept-alive connections, proxies
from the environment, retries with back-off), plain http:// URLs only, redirects checked hop
by hop, a response-size cap, and a total deadline per exchange enforced from outside by a
watchdog. What is fetched and how long it stays fresh is :mod:`govsig.fetch`'s business."""
from __future__ import annotations

import base64
import heapq
import ipaddress
import os
import socket
import threading
import time
import urllib.request
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

import urllib3

__all__ = ["FETCH_ERROR_KINDS", "FetchError", "HttpTransport", "ocsp_get_url", "split_http_url",
           "is_loopback"]

FETCH_ERROR_KINDS = ("bad_url", "connection", "timeout", "http_status", "too_large", "bad_response")

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




_MAX_REDIRECTS = 3
_READ_CHUNK = 64 * 1024
# RFC 5019 §5: a request whose whole GET URL (scheme, host, path and the url-encoded base64
# OCSPRequest) fits in 255 bytes MUST be sent with GET, so that HTTP caches can serve it.
_OCSP_GET_MAX_URL = 255


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


def split_http_url(url: str) -> tuple[str, int, str, str]:
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



class _Deadline:
    """Mixed into a urllib3 connection: its socket is handed to the watchdog for every
    exchange made under a deadline (set per thread around each exchange:
    :func:`begin_deadline`); urllib3's timeouts bound each read, not the whole exchange."""

    sock: socket.socket | None

    def connect(self) -> None:
        super().connect()  # type: ignore[misc]
        _arm_current(self.sock)

    def request(self, method: str, url: str, body: Any = None, headers: Any = None,
                **kw: Any) -> None:
        if self.sock is not None:
            # A kept-alive connection: connect() will not run again.
            _arm_current(self.sock)
        super().request(method, url, body=body, headers=headers, **kw)  # type: ignore[misc]


class _DeadlineConnection(_Deadline, urllib3.connection.HTTPConnection):
    pass


class _DeadlineHTTPSConnection(_Deadline, urllib3.connection.HTTPSConnection):
    """Over TLS: a time-stamping authority may be https:."""


class _DeadlinePool(urllib3.HTTPConnectionPool):
    ConnectionCls = _DeadlineConnection


class _DeadlineHTTPSPool(urllib3.HTTPSConnectionPool):
    ConnectionCls = _DeadlineHTTPSConnection


#: Pool classes for a PoolManager or ProxyManager whose exchanges honour
#: :func:`begin_deadline` (``manager.pool_classes_by_scheme = dict(DEADLINE_POOLS)``).
DEADLINE_POOLS: dict[str, type[urllib3.HTTPConnectionPool]] = {"http": _DeadlinePool, "https": _DeadlineHTTPSPool}


def begin_deadline(deadline: float) -> None:
    """From now on this thread's exchanges through :data:`DEADLINE_POOLS` have their socket
    shut at ``deadline`` (time.monotonic), status line and headers included, until
    :func:`end_deadline`."""
    _EXCHANGE.deadline, _EXCHANGE.tokens = deadline, []


def end_deadline() -> bool:
    """Ends :func:`begin_deadline`'s bound on this thread; whether it fired (then what was
    read may be truncated, and the exchange must count as timed out)."""
    tokens: list[int] = getattr(_EXCHANGE, "tokens", [])
    _EXCHANGE.deadline, _EXCHANGE.tokens = None, []
    fired = False
    for token in tokens:
        fired |= _WATCHDOG.disarm(token)
    return fired


# The deadline of the fetch running on this thread, and the watchdog tokens armed for it.
_EXCHANGE = threading.local()


def _arm_current(sock: socket.socket | None) -> None:
    deadline = getattr(_EXCHANGE, "deadline", None)
    if deadline is not None and sock is not None:
        _EXCHANGE.tokens.append(_WATCHDOG.arm(deadline, sock))


def is_loopback(host: str) -> bool:
    """A proxy cannot reach this machine's loopback: such URLs always go direct."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False




class HttpTransport:
    """urllib3 pool managers for one fetcher: direct, or through the configured or the
    environment's forward proxy; ``fetch`` makes one request, redirects included, under a
    total deadline of twice ``timeout``. ``on_count(**deltas)`` receives the counters
    ``requests`` and ``bytes``. Thread-safe."""

    def __init__(self, timeout: float, max_bytes: int, max_workers: int, user_agent: str,
                 proxy: str | None, trust_env: bool, on_count: Callable[..., None]) -> None:
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.user_agent = user_agent
        self.proxy = proxy
        self.trust_env = trust_env
        self._on_count = on_count
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

    def close(self) -> None:
        """Closes the kept-alive connections."""
        with self._lock:
            managers: list[urllib3.PoolManager] = [*self._via_proxy.values()]
            if self._direct is not None:
                managers.append(self._direct)
            self._direct, self._via_proxy = None, {}
        for m in managers:
            m.clear()

    def _manager(self, host: str) -> urllib3.PoolManager:
        """The pool manager for a target host: through the configured proxy, else the
        environment's (unless it is bypassed for this host), else direct."""
        proxy = self.proxy
        if proxy is None and self.trust_env and not is_loopback(host):
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

    def fetch(self, url: str, method: str, body: bytes | None, accept: str,
              max_bytes: int | None = None) -> bytes:
        """One fetch, redirects included, within a total deadline of twice ``timeout``; the
        body is capped at ``max_bytes`` (default: the transport's)."""
        limit = self.max_bytes if max_bytes is None else max_bytes
        deadline = time.monotonic() + 2 * self.timeout
        for _ in range(_MAX_REDIRECTS + 1):
            # Every hop is checked before it is followed: a redirect to ldap:, https: or
            # file: is refused without touching the network.
            host, _port, _target, absolute = split_http_url(url)
            if time.monotonic() >= deadline:
                raise FetchError(url, "timeout", f"no complete answer within {2 * self.timeout:g} s")
            status, reason, location, data = self._exchange(url, absolute, host, method, body, accept,
                                                            deadline, limit)
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
                  accept: str, deadline: float, max_bytes: int) -> tuple[int, str, str | None, bytes]:
        # identity only: without Accept-Encoding any content coding would be acceptable
        # (RFC 9110 §12.5.3), and a compressed body is not a DER object.
        headers = {"User-Agent": self.user_agent, "Accept": accept, "Accept-Encoding": "identity"}
        if body is not None:
            headers["Content-Type"] = "application/ocsp-request"
        manager = self._manager(host)
        begin_deadline(deadline)
        resp: urllib3.BaseHTTPResponse | None = None
        keep = False
        try:
            self._on_count(requests=1)
            resp = manager.urlopen(method, absolute, body=body, headers=headers, redirect=False,
                                   preload_content=False, decode_content=False,
                                   assert_same_host=False)
            if resp.status != 200:
                # Redirect and error bodies are not read: the connection is dropped instead.
                return resp.status, resp.reason or "", resp.headers.get("Location"), b""
            data = self._read_body(url, resp, max_bytes)
            keep = True
        except FetchError:
            raise
        except (urllib3.exceptions.HTTPError, OSError) as e:
            if end_deadline():
                raise FetchError(url, "timeout", f"no complete answer within {2 * self.timeout:g} s") from None
            raise _transport_error(url, e, self.timeout) from None
        finally:
            fired = end_deadline()
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

    def _read_body(self, url: str, resp: urllib3.BaseHTTPResponse, max_bytes: int) -> bytes:
        length = resp.headers.get("Content-Length")
        if length is not None and length.strip().isdigit() and int(length) > max_bytes:
            raise FetchError(url, "too_large",
                             f"the server announces {int(length)} bytes, over the {max_bytes}-byte limit")
        # Content-Encoding is never asked for and never decoded: a compressed body is judged as
        # the bytes it is, so there is no decompression bomb to defuse.
        buf = bytearray()
        limit = max_bytes + 1
        while len(buf) < limit:
            part = resp.read(min(_READ_CHUNK, limit - len(buf)), decode_content=False)
            if not part:
                break
            buf += part
            self._on_count(bytes=len(part))
        if len(buf) > max_bytes:
            raise FetchError(url, "too_large", f"the body exceeds the {max_bytes}-byte limit")
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


