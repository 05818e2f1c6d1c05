"""Keeping a Verifier's revocation evidence fresh: what to fetch, when to fetch it again,
and how long to leave a failing source alone.

The core is sans-IO: it names the CRL URLs and OCSP (url, request) pairs a verdict lacks.
:class:`EvidenceRefresh` hands those to the fetcher (outside the core, in parallel), gives
the core what came, records when each piece goes stale, and backs off from sources that
fail. A Verifier owns one; the verification calls themselves stay in ``_verifier``.
"""
from __future__ import annotations

import datetime as _dt
import heapq
import itertools
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, NamedTuple, Optional, Protocol, TypeVar, Union

from govsig._policy import Policy
from govsig.fetch import BulkFetcher, Fetcher, FetchError
from govsig._evidence_cache import crl_validity, ocsp_validity

__all__ = ["RETRY_FIRST_SECONDS", "RETRY_MAX_SECONDS", "Clock", "EvidenceRefresh", "new_needs"]

# Back-off of evidence that could not be had (the fetch failed, or what came was unusable or
# already stale): asked for again no sooner than 30 s after the first such attempt, then
# 60 s, 120 s, ... doubling per consecutive attempt, never more than an hour apart. A
# responder that is down is not hammered by every document, and one that comes back is used
# again within the hour.
RETRY_FIRST_SECONDS = 30.0
RETRY_MAX_SECONDS = 3600.0

_UNDECIDED = "the evidence fetched from it did not decide the status"
_NOT_THE_ISSUER = "the certificates fetched from it did not complete the path"

# A caIssuers URL's certificates are fetched again no sooner than this after they came:
# they stay with the core (untrusted intermediates do not go stale), so the core asks again
# only when they did not complete the path.
ISSUER_REFETCH_SECONDS = 24 * 3600.0


class _IssuerUrl(NamedTuple):
    """The key of a caIssuers URL (a CRL's key is its URL as a str, an OCSP request's the
    (url, request) pair): its one field is the URL, so ``key[0]`` reads it as for OCSP."""

    url: str


def _retry_delay(attempts: int) -> float:
    """Seconds to wait after the ``attempts``-th consecutive failed attempt (1, 2, ...)."""
    return min(RETRY_FIRST_SECONDS * 2.0 ** min(attempts - 1, 32), RETRY_MAX_SECONDS)


def new_needs(needs: list[tuple[str, str, Optional[bytes]]],
               asked: dict[tuple[str, str, Optional[bytes]], int]) -> list[tuple[str, str, Optional[bytes]]]:
    """The needs that may still go to the fetcher in this call, counted in ``asked``: once to
    fetch, once more to tell the core that what came decided nothing."""
    out = [n for n in needs if asked.get(n, 0) < 2]
    for n in out:
        asked[n] = asked.get(n, 0) + 1
    return out


class _Sought:
    """What a Verifier knows about one CRL URL or OCSP (url, request): until when it is not
    fetched again, and why (``reason`` None: evidence came and was handed to the core;
    ``der`` is that evidence while it is fresh, to be forgotten by the core once stale)."""

    __slots__ = ("until", "attempts", "reason", "der")

    def __init__(self, until: float, attempts: int, reason: Optional[str], der: Optional[bytes] = None) -> None:
        self.until = until
        self.attempts = attempts
        self.reason = reason
        self.der = der



# A Verifier's clock: called for "now", returns an aware datetime.
Clock = Callable[[], _dt.datetime]

Need = tuple[str, str, Optional[bytes]]


class _NamesNeeds(Protocol):
    @property
    def needs(self) -> list[tuple[str, str, Optional[bytes]]]: ...


_R = TypeVar("_R", bound=_NamesNeeds)


class EvidenceRefresh:
    """The fetching state of one Verifier: by CRL URL or OCSP (url, request), what was
    fetched or failed and until when it is not fetched again; the URLs the core was told
    could not be used; and a heap of when each of those comes due. Thread-safe."""

    def __init__(self, engine: Any, policy: Policy, fetcher: Union[Fetcher, BulkFetcher, None],
                 clock: Optional[Clock]) -> None:
        self._engine = engine
        self._policy = policy
        self._fetcher = fetcher
        self._clock = clock
        self._lock = threading.Lock()
        # By CRL URL or OCSP (url, request): what was fetched or failed, and until when it is
        # not fetched again.
        self._sought: dict[Any, _Sought] = {}
        # URLs the core was told about (add_fetch_failures): why, and when to tell it to
        # forget (forget_fetch_failures). The core's record is by URL.
        self._blocked: dict[str, tuple[float, str]] = {}
        # When something above comes due, earliest first: (time, sequence, what, key) with
        # what "blocked" (a URL), "sought" (a key) or "gc" (a failure counter to drop).
        # Entries are checked against the state when popped (it may have changed since), so
        # a Verifier that knows many requests does not scan them all on every call.
        self._due: list[tuple[float, int, str, Any]] = []
        self._seq = itertools.count()
        self._next_due = float("inf")

    @property
    def fetch_errors(self) -> dict[str, str]:
        """URLs whose evidence could not be fetched or did not decide, with why."""
        with self._lock:
            return {url: why for url, (_, why) in self._blocked.items()}

    def _now(self) -> float:
        """Seconds since the epoch by this Verifier's clock."""
        if self._clock is None:
            return time.time()
        t = self._clock()
        if not isinstance(t, _dt.datetime) or t.tzinfo is None:
            raise TypeError(f"clock must return an aware datetime, got {t!r}")
        return t.timestamp()

    def begin(self) -> Optional[int]:
        """Before a call: tells the core to forget what is due (failures whose back-off has
        passed, evidence gone stale) and returns the validation time to give it (None: the
        policy's, or the core's own now)."""
        if self._fetcher is None and self._clock is None:
            return None
        now = self._now()
        if now >= self._next_due:
            self._release(now)
        if self._policy.at is not None or self._clock is None:
            return None
        return int(now // 1)

    def _schedule(self, until: float, what: str, key: Any) -> None:
        """Under the lock: ``key`` comes due at ``until``."""
        heapq.heappush(self._due, (until, next(self._seq), what, key))
        self._next_due = self._due[0][0]

    def _release(self, now: float) -> None:
        due: set[str] = set()
        stale: list[bytes] = []
        with self._lock:
            while self._due and self._due[0][0] <= now:
                until, _, what, key = heapq.heappop(self._due)
                if what == "blocked":
                    # A failure's back-off has passed, or evidence that did not decide went
                    # stale: the core may ask for the URL again.
                    entry = self._blocked.get(key)
                    if entry is not None and entry[0] == until:
                        del self._blocked[key]
                        due.add(key)
                    continue
                s = self._sought.get(key)
                if s is None:
                    continue
                if what == "sought" and s.until == until and s.reason is None and s.attempts == 0:
                    # Evidence gone stale: the core forgets it (also for a past validation
                    # time, as a fresh Verifier would never have it), and the verdicts cached
                    # on it are recomputed, which asks for it again.
                    del self._sought[key]
                    due.add(key if isinstance(key, str) else key[0])
                    if s.der is not None:
                        stale.append(s.der)
                elif what == "sought" and s.until == until:
                    # A failure's counter is kept (the back-off grows) until an attempt
                    # succeeds, or it lies unused for longer than the longest wait.
                    self._schedule(until + RETRY_MAX_SECONDS, "gc", key)
                elif what == "gc" and s.until + RETRY_MAX_SECONDS == until:
                    del self._sought[key]
            self._next_due = self._due[0][0] if self._due else float("inf")
        if stale:
            self._engine.forget_fetched(stale)
        if due:
            self._engine.forget_fetch_failures(sorted(due))

    def _expiry(self, key: Any, der: bytes, now: float) -> Optional[float]:
        """The first second at which the core judges ``der`` stale, or None when it cannot be
        read. A CRL: past nextUpdate (RFC 5280 §6.3.3 (a)(2)); none means no promise of
        freshness at all. OCSP (RFC 6960 §4.2.2.1, RFC 5019 §4): past the earliest nextUpdate,
        or thisUpdate when there is none, plus the policy's skew."""
        if isinstance(key, str):
            validity = crl_validity(der)
            if validity is None or validity[1] is None:
                return None
            return validity[1] + 1
        singles = ocsp_validity(der)
        if not singles:
            return None
        return min(nu if nu is not None else tu for tu, nu in singles) + self._policy.ocsp_skew + 1

    def fetch(self, needs: list[tuple[str, str, Optional[bytes]]]) -> int:
        """Fetches what the core asked for (in parallel, outside the core; each CRL URL or
        OCSP request at most once until what came went stale, or a failure's back-off passed)
        and hands it over; returns how many changes the core was told about. Failures are
        recorded in the core too, so the statuses only they could decide read
        ``fetch_failed``."""
        if self._fetcher is None:
            return 0
        now = self._now()
        # Asked for again while what came is still fresh: it did not decide (e.g. an OCSP
        # answer about another certificate); the core is told so, and the next source gets its
        # turn. A failure whose back-off has not passed is told again (the core forgot it
        # because another request to the same URL came due).
        undecided: dict[str, tuple[float, str]] = {}
        failed_again: dict[str, tuple[float, str]] = {}
        wanted: dict[Any, None] = {}
        with self._lock:
            for kind, url, req in needs:
                if kind == "ocsp" and req is None or kind not in ("crl", "ocsp", "issuer"):
                    continue
                key: Any = (url if kind == "crl" else _IssuerUrl(url) if kind == "issuer"
                            else (url, bytes(req or b"")))
                s = self._sought.get(key)
                if s is not None and now < s.until:
                    into = undecided if s.reason is None else failed_again
                    came = _NOT_THE_ISSUER if kind == "issuer" else _UNDECIDED
                    if url not in into or s.until < into[url][0]:
                        into[url] = (s.until, came if s.reason is None else s.reason)
                else:
                    wanted[key] = None
        told = self._tell(undecided, fetched=True) + self._tell(failed_again, fetched=False)
        if not wanted:
            return told
        crl_urls = [k for k in wanted if isinstance(k, str)]
        issuers = [k for k in wanted if isinstance(k, _IssuerUrl)]
        ocsp = [k for k in wanted if not isinstance(k, (str, _IssuerUrl))]
        fetched: dict[Any, Any]
        if isinstance(self._fetcher, BulkFetcher):
            fetched = dict(self._fetcher.fetch_many(crl_urls=crl_urls, ocsp=ocsp)) if crl_urls or ocsp else {}
            if issuers:
                fetched.update(self._fetch_issuers(issuers))
        else:
            fetched = {}
            # A plain fetcher is called with the URL alone for a caIssuers URL, as for a CRL.
            keys: list[Any] = [*crl_urls, *ocsp, *issuers]
            with ThreadPoolExecutor(max_workers=min(8, len(keys))) as ex:
                futures = {k: ex.submit(self._fetcher, *((k,) if isinstance(k, str) else k)) for k in keys}
                for k, fut in futures.items():
                    try:
                        fetched[k] = fut.result()
                    except Exception as e:  # a fetcher's failure is missing evidence, not a crash
                        fetched[k] = e
        now = self._now()
        failures: list[tuple[Any, str]] = []
        crl_bytes: list[bytes] = []
        crl_keys: list[Any] = []
        ocsp_bytes: list[bytes] = []
        ocsp_keys: list[Any] = []
        issuer_bytes: list[bytes] = []
        issuer_keys: list[Any] = []
        for key in [*crl_urls, *ocsp, *issuers]:
            value = fetched.get(key)
            if isinstance(value, (bytes, bytearray)):
                if isinstance(key, _IssuerUrl):
                    issuer_bytes.append(bytes(value))
                    issuer_keys.append(key)
                elif isinstance(key, str):
                    crl_bytes.append(bytes(value))
                    crl_keys.append(key)
                else:
                    ocsp_bytes.append(bytes(value))
                    ocsp_keys.append(key)
            else:
                failures.append((key, str(value) if value is not None else "no answer"))
        added = 0
        usable: list[tuple[Any, bytes]] = []
        if crl_bytes:
            n, errors = self._engine.add_fetched_crls(crl_bytes)
            added += n
            failures += [(crl_keys[i], f"not a usable CRL: {why}") for i, why in errors]
            refused = {i for i, _ in errors}
            usable += [(k, d) for i, (k, d) in enumerate(zip(crl_keys, crl_bytes)) if i not in refused]
        if ocsp_bytes:
            n, errors = self._engine.add_fetched_ocsp(ocsp_bytes)
            added += n
            failures += [(ocsp_keys[i], f"not a usable OCSP response: {why}") for i, why in errors]
            refused = {i for i, _ in errors}
            usable += [(k, d) for i, (k, d) in enumerate(zip(ocsp_keys, ocsp_bytes)) if i not in refused]
        if issuer_bytes:
            n, errors = self._engine.add_fetched_issuers(issuer_bytes)
            added += n
            refused = {i for i, _ in errors}
            failures += [(issuer_keys[i], why) for i, why in errors]
            kept: list[Any] = [k for i, k in enumerate(issuer_keys) if i not in refused]
        else:
            kept = []
        with self._lock:
            for key in kept:
                # Kept by the core for good: not fetched again unless it asks again (then
                # they did not complete the path, and it is told so).
                s = self._sought[key] = _Sought(now + ISSUER_REFETCH_SECONDS, 0, None)
                self._schedule(s.until, "sought", key)
            for key, der in usable:
                expiry = self._expiry(key, der, now)
                if expiry is not None and expiry > now:
                    # Fresh: not fetched again before it goes stale.
                    s = self._sought[key] = _Sought(expiry, 0, None, der)
                else:
                    # Stale on arrival, or no freshness to read: handed to the core (it judges
                    # and says why), and asked for again only after a back-off.
                    prev = self._sought.get(key)
                    attempts = (prev.attempts if prev is not None else 0) + 1
                    s = self._sought[key] = _Sought(now + _retry_delay(attempts), attempts, None)
                self._schedule(s.until, "sought", key)
            failed: dict[str, tuple[float, str]] = {}
            for key, why in failures:
                prev = self._sought.get(key)
                attempts = (prev.attempts if prev is not None else 0) + 1
                s = self._sought[key] = _Sought(now + _retry_delay(attempts), attempts, why)
                self._schedule(s.until, "sought", key)
                url = key if isinstance(key, str) else key[0]
                if url not in failed or s.until < failed[url][0]:
                    failed[url] = (s.until, why)
        # A failure changes verdicts too (fetch_failed, or the next source's turn).
        return int(added) + told + self._tell(failed, fetched=False)

    def _fetch_issuers(self, keys: list[_IssuerUrl]) -> dict[Any, Any]:
        """What the fetcher's ``fetch_issuers`` (as :class:`~govsig.HttpFetcher` has) got for
        these caIssuers URLs, by key; a bulk fetcher without one cannot fetch them."""
        fetch = getattr(self._fetcher, "fetch_issuers", None)
        if not callable(fetch):
            return {k: FetchError(k.url, "bad_url", "the fetcher has no fetch_issuers to fetch issuer "
                                  "certificates with; pass the intermediates in the policy")
                    for k in keys}
        try:
            got = fetch([k.url for k in keys])
        except Exception as e:  # a fetcher's failure is missing evidence, not a crash
            return {k: e for k in keys}
        return {k: got.get(k.url, "no answer") for k in keys}

    def _tell(self, by_url: dict[str, tuple[float, str]], fetched: bool) -> int:
        """Records in the core (and here, with when to forget) URLs whose evidence could not
        be used; returns how many."""
        if not by_url:
            return 0
        with self._lock:
            for url, (until, why) in by_url.items():
                self._blocked[url] = (until, why)
                self._schedule(until, "blocked", url)
        self._engine.add_fetch_failures([(url, why) for url, (_, why) in by_url.items()], fetched=fetched)
        return len(by_url)

    def with_evidence(self, run: Callable[[], _R]) -> _R:
        """``run()``, then, while its result names evidence not yet sought in this call,
        fetch that and run again. The core names all the evidence a path lacks at once, so a
        further round comes only from evidence that revealed more to check (a delegated OCSP
        responder's or a CRL signer's own path) or decided nothing (asked for again, it is
        told to the core as undecided and the next source gets its turn): each need goes to
        :meth:`fetch` at most twice per call, so the loop ends."""
        result = run()
        asked: dict[tuple[str, str, Optional[bytes]], int] = {}
        while self._fetcher is not None:
            needs = new_needs(result.needs, asked)
            if not needs or not self.fetch(needs):
                return result
            result = run()
        return result

