"""Fetching evidence over HTTP: CRLs by distribution point, OCSP by responder, and a
certificate's missing issuers by authorityInfoAccess caIssuers.

The Rust core is sans-IO: it names the CRL URLs and the OCSP (responder URL, request) pairs it
lacks, and judges whatever bytes it is handed. This module does the network half. A fetcher is
any callable ``fetcher(url) -> bytes`` (a CRL) / ``fetcher(url, request) -> bytes`` (an OCSP
response) that raises :class:`FetchError` on failure; :class:`HttpFetcher` is the one govsig
ships: urllib3 for the transport (pooled keep-alive connections, proxies, retries), parallel
bulk fetches, a response-size cap and a total deadline, and a memory + on-disk cache that
never serves a CRL or OCSP response past its nextUpdate.
"""

from __future__ import annotations

import datetime as _dt
import os
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol, Union, runtime_checkable

from govsig._evidence_cache import (_as_seconds, _crl_der_and_next_update, _DiskCache, _Memo,
                                    _ocsp_next_update, crl_validity, ocsp_validity)
from govsig._http import FETCH_ERROR_KINDS, FetchError, HttpTransport, ocsp_get_url, split_http_url
from govsig._pem import is_pem

__all__ = ["FETCH_ERROR_KINDS", "FetchError", "Fetcher", "BulkFetcher", "HttpFetcher", "FetchKey",
           "ISSUER_MAX_BYTES", "ISSUER_CACHE_SECONDS", "crl_validity", "ocsp_get_url", "ocsp_validity"]

# What a caIssuers URL (RFC 5280 §4.2.2.1) may serve: one certificate, or a certs-only PKCS#7
# of a CA's few certificates. A larger body is refused (``too_large``) whatever ``max_bytes``
# allows: the URL is named by the document being verified, so an attacker chooses it.
ISSUER_MAX_BYTES = 1 << 20
# How long what a caIssuers URL served is kept in memory: a certificate does not go stale as
# a CRL does, but a CA may publish a renewed one at the same URL.
ISSUER_CACHE_SECONDS = 24 * 3600.0

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


class HttpFetcher:
    """Fetches CRLs, OCSP responses and caIssuers certificates over HTTP, in parallel, with
    caches (:meth:`fetch_issuer`: at most :data:`ISSUER_MAX_BYTES`, kept in memory and in
    ``cache_dir`` for :data:`ISSUER_CACHE_SECONDS`).

    - ``timeout`` (seconds) bounds the connection and every read; each fetch also has a total
      deadline of twice ``timeout``, so a server dripping bytes cannot hold a worker.
    - ``max_bytes`` caps a response body; a larger one is abandoned while streaming (at most
      ``max_bytes + 1`` bytes are read) and gives ``FetchError(kind="too_large")``.
    - ``cache_dir``: CRLs, OCSP responses and caIssuers certificates are also kept on disk
      there and shared by every fetcher (and process) using the same directory, with a lock
      per URL and per OCSP request so that processes asking at once fetch once. A cached CRL
      or response is served until its nextUpdate, an issuer certificate for
      :data:`ISSUER_CACHE_SECONDS` after it was fetched; then they are refetched.
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
                split_http_url(proxy)
            except FetchError as e:
                raise ValueError(f"proxy must be an http://host:port URL: {e.reason}") from None
        self.proxy = proxy
        self.trust_env = bool(trust_env)
        self.memory_cache_bytes = memory_cache_bytes
        try:
            self._disk = None if self.cache_dir is None else _DiskCache(self.cache_dir)
        except OSError as e:
            raise OSError(e.errno, f"cannot use cache_dir {str(self.cache_dir)!r}: {e.strerror}") from None
        self._http = HttpTransport(self.timeout, max_bytes, max_workers, user_agent, proxy,
                                   self.trust_env, self._count)
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
        memory (and in ``cache_dir``) for the same (url, request) until its nextUpdate; others
        are not cached.
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

    def fetch_issuer(self, url: str) -> bytes:
        """What the caIssuers URL ``url`` serves (RFC 5280 §4.2.2.1): a DER certificate or a
        certs-only PKCS#7 (".p7c"), DER or PEM, at most :data:`ISSUER_MAX_BYTES` (and
        ``max_bytes``). Kept in memory (and in ``cache_dir``) for :data:`ISSUER_CACHE_SECONDS`
        after it was fetched. A body that is
        neither is a ``FetchError(kind="bad_response")``; the core reads the rest and says
        what it could not use. Whatever comes is only ever an untrusted intermediate."""
        if not isinstance(url, str):
            raise TypeError(f"url must be a str, not {type(url).__name__}")
        hit = self._cached(("issuer", url))
        if hit is not None:
            return hit
        return self._single_flight(("issuer", url), lambda: self._issuer_miss(url))

    def fetch_issuers(self, urls: Iterable[str]) -> dict[str, bytes | FetchError]:
        """:meth:`fetch_issuer` for each distinct URL, in parallel; failures are values."""
        if isinstance(urls, (str, bytes)):
            raise TypeError("urls must be an iterable of URLs, not a single string")
        wanted: dict[str, None] = {}
        for url in urls:
            if not isinstance(url, str):
                raise TypeError(f"issuer URLs must be str, not {type(url).__name__}")
            wanted[url] = None
        if not wanted:
            return {}
        executor = self._pool()
        futures = {url: executor.submit(self.fetch_issuer, url) for url in wanted}
        out: dict[str, bytes | FetchError] = {}
        for url, fut in futures.items():
            try:
                out[url] = fut.result()
            except FetchError as e:
                out[url] = e
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
        self._http.close()

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
        if self._disk is None:
            return self._crl_fetch(url)
        hit = self._disk_hit(url)
        if hit is not None:
            return hit
        # One fetch per cache directory: whoever holds the URL's lock fetches, the others find
        # its CRL on disk once they get the lock.
        with self._disk.fetching(url, wait=2 * self.timeout + 5):
            hit = self._disk_hit(url)
            return hit if hit is not None else self._crl_fetch(url)

    def _disk_hit(self, url: str) -> bytes | None:
        assert self._disk is not None
        entry = self._disk.load(url, self.max_bytes)
        if entry is None or not self._clock() < entry[1]:
            return None
        with self._lock:
            self._memo.put(("crl", url), *entry)
            self._stats["cache_hits"] += 1
            self._stats["disk_hits"] += 1
        return entry[0]

    def _crl_fetch(self, url: str) -> bytes:
        self._count(fetches=1)
        body = self._http.fetch(url, "GET", None, "application/pkix-crl")
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
        split_http_url(key[0])
        if self._disk is None:
            return self._ocsp_fetch(key)
        hit = self._ocsp_disk_hit(key)
        if hit is not None:
            return hit
        # As for CRLs: one query per cache directory for the same request, whoever asks.
        with self._disk.fetching_ocsp(*key, wait=2 * self.timeout + 5):
            hit = self._ocsp_disk_hit(key)
            return hit if hit is not None else self._ocsp_fetch(key)

    def _ocsp_disk_hit(self, key: tuple[str, bytes]) -> bytes | None:
        assert self._disk is not None
        entry = self._disk.load_ocsp(*key, self.max_bytes)
        if entry is None or not self._clock() < entry[1]:
            return None
        with self._lock:
            self._memo.put(("ocsp", key), *entry)
            self._stats["cache_hits"] += 1
            self._stats["disk_hits"] += 1
        return entry[0]

    def _ocsp_fetch(self, key: tuple[str, bytes]) -> bytes:
        url, request = key
        self._count(fetches=1)
        get_url = ocsp_get_url(url, request)
        body: bytes | None = None
        if get_url is not None:
            try:
                body = self._http.fetch(get_url, "GET", None, "application/ocsp-response")
            except FetchError as e:
                # Some responders refuse GET (405, 400, 414) though RFC 6960 appendix A.1
                # describes it; the same request by POST is always allowed.
                if e.kind != "http_status":
                    raise
        if body is None:
            body = self._http.fetch(url, "POST", request, "application/ocsp-response")
        if body[:1] != b"\x30":
            # Every OCSPResponse is a DER SEQUENCE; anything else (an HTML error page, an
            # empty body) is not worth handing to the core.
            raise FetchError(url, "bad_response",
                             f"the {len(body)}-byte body is not a DER OCSP response; it starts with {body[:16]!r}")
        next_update = _ocsp_next_update(body)
        now = self._clock()
        if next_update is not None and now < next_update:
            with self._lock:
                self._memo.put(("ocsp", key), body, next_update)
            if self._disk is not None:
                try:
                    self._disk.store_ocsp(url, request, body, now, next_update)
                except OSError:
                    self._count(cache_write_errors=1)
        return body

    def _issuer_miss(self, url: str) -> bytes:
        hit = self._cached(("issuer", url))
        if hit is not None:
            return hit
        split_http_url(url)
        if self._disk is None:
            return self._issuer_fetch(url)
        hit = self._issuer_disk_hit(url)
        if hit is not None:
            return hit
        # As for CRLs: one fetch per cache directory for the same URL, whoever asks.
        with self._disk.fetching_issuer(url, wait=2 * self.timeout + 5):
            hit = self._issuer_disk_hit(url)
            return hit if hit is not None else self._issuer_fetch(url)

    def _issuer_disk_hit(self, url: str) -> bytes | None:
        assert self._disk is not None
        now = self._clock()
        entry = self._disk.load_issuer(url, min(self.max_bytes, ISSUER_MAX_BYTES), now, ISSUER_CACHE_SECONDS)
        if entry is None or not now < entry[1]:
            return None
        with self._lock:
            self._memo.put(("issuer", url), *entry)
            self._stats["cache_hits"] += 1
            self._stats["disk_hits"] += 1
        return entry[0]

    def _issuer_fetch(self, url: str) -> bytes:
        self._count(fetches=1)
        body = self._http.fetch(url, "GET", None, "application/pkix-cert, application/pkcs7-mime",
                                max_bytes=min(self.max_bytes, ISSUER_MAX_BYTES))
        if body[:1] != b"\x30" and not is_pem(body):
            # A certificate and a PKCS#7 are DER SEQUENCEs (or PEM); an HTML error page or
            # an empty body is not worth handing to the core.
            raise FetchError(url, "bad_response",
                             f"the {len(body)}-byte body is neither a DER certificate nor a PKCS#7 "
                             f"bundle; it starts with {body[:16]!r}")
        now = self._clock()
        with self._lock:
            self._memo.put(("issuer", url), body, now + ISSUER_CACHE_SECONDS)
        if self._disk is not None:
            try:
                self._disk.store_issuer(url, body, now)
            except OSError:
                self._count(cache_write_errors=1)
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


def _rebuild(timeout: float, cache_dir: Path | None, max_bytes: int, max_workers: int,
             user_agent: str, proxy: str | None, memory_cache_bytes: int,
             trust_env: bool = True) -> HttpFetcher:
    return HttpFetcher(timeout, cache_dir, max_bytes, max_workers, user_agent, proxy=proxy,
                       memory_cache_bytes=memory_cache_bytes, trust_env=trust_env)

