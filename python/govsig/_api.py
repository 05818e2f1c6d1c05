"""The verification API: TrustStore, Policy, Verifier."""
from __future__ import annotations

import base64
import binascii
import datetime as _dt
import heapq
import itertools
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Optional, Protocol, TypeVar, Union

from govsig import _govsig
from govsig._certs import many_to_ders, read_cert_file, to_ders
from govsig._threads import check_threads
from govsig._govsig import BatchResult, PathResult, PdfResult, SignerResult, TimestampResult, VerifyResult
from govsig._pdf import PdfDocument, is_pdf_path, read_pdf, verify_chunk_mixed
from govsig.fetch import BulkFetcher, Fetcher, crl_validity, ocsp_validity

__all__ = ["TrustStore", "Policy", "Verifier", "codes", "code_descriptions", "KEY_USAGE_NAMES",
           "REVOCATION_MODES", "TIME_SOURCES", "policy_knobs", "policy_defaults"]

KEY_USAGE_NAMES: tuple[str, ...] = tuple(_govsig.KEY_USAGE_NAMES)

_CERT_SUFFIXES = (".pem", ".crt", ".cer", ".der", ".p7b", ".p7c")


def codes() -> list[str]:
    """Every outcome code; ``codes()[0] == "ok"`` and a code's index is its number."""
    return list(_govsig.codes())


def code_descriptions() -> dict[str, str]:
    """``{code: what it means}`` for every outcome code."""
    return dict(_govsig.code_descriptions())


def policy_knobs() -> dict[str, str]:
    """``{knob: what it does}`` for every :class:`Policy` knob, in the core's order."""
    return dict(_govsig.policy_knobs())


def policy_defaults() -> dict[str, Any]:
    """``{knob: default value}`` for every :class:`Policy` knob, in the core's order."""
    return dict(_govsig.policy_defaults())


class _Frozen:
    __slots__ = ()

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable; use .replace(...) to derive a new one")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")


class TrustStore(_Frozen):
    """Trust anchors. An anchor is a name and a key (RFC 5280 §6.1.1(d)): it need not be
    self-signed, and its own validity is not checked. Immutable and picklable."""

    __slots__ = ("_ders",)
    _ders: tuple[bytes, ...]

    def __init__(self, certificates: Iterable[Any] = ()) -> None:
        ders = many_to_ders(certificates)
        for d in ders:
            _govsig.parse_certificate(d)  # raises ValueError naming the problem
        object.__setattr__(self, "_ders", tuple(dict.fromkeys(ders)))

    @classmethod
    def from_pem(cls, data: bytes | str) -> "TrustStore":
        """Anchors from a PEM bundle."""
        return cls(to_ders(data if isinstance(data, bytes) else data.encode("ascii")))

    @classmethod
    def from_der(cls, ders: Iterable[bytes]) -> "TrustStore":
        """Anchors from DER certificates."""
        return cls(list(ders))

    @classmethod
    def from_files(cls, paths: Iterable[str | os.PathLike[str]]) -> "TrustStore":
        """Anchors from PEM or DER files (a PEM file may hold several), or PKCS#7 certs-only
        bundles (.p7b/.p7c, DER or PEM) as CAs publish them."""
        ders: list[bytes] = []
        for p in paths:
            ders.extend(read_cert_file(p))
        return cls(ders)

    @classmethod
    def from_dir(cls, path: str | os.PathLike[str]) -> "TrustStore":
        """Anchors from every .pem/.crt/.cer/.der/.p7b/.p7c file in a directory (not recursive)."""
        names = sorted(n for n in os.listdir(path) if n.lower().endswith(_CERT_SUFFIXES))
        if not names:
            raise ValueError(f"{os.fspath(path)}: no certificate files (*.pem, *.crt, *.cer, *.der, *.p7b, *.p7c)")
        return cls.from_files(os.path.join(path, n) for n in names)

    @property
    def certificates(self) -> tuple[bytes, ...]:
        """The anchors, as DER."""
        return self._ders

    def __len__(self) -> int:
        return len(self._ders)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TrustStore) and self._ders == other._ders

    def __hash__(self) -> int:
        return hash(self._ders)

    def __reduce__(self) -> tuple[Any, ...]:
        return (TrustStore.from_der, (list(self._ders),))

    def __repr__(self) -> str:
        subjects = [_govsig.parse_certificate(d).subject for d in self._ders[:3]]
        more = "" if len(self._ders) <= 3 else f", ... {len(self._ders) - 3} more"
        return f"TrustStore([{', '.join(repr(s) for s in subjects)}{more}])"


REVOCATION_MODES: tuple[str, ...] = tuple(_govsig.REVOCATION_MODES)
#: Where a signer's signature time came from, by the number in ``BatchResult.time_source``.
TIME_SOURCES: tuple[str, ...] = tuple(_govsig.TIME_SOURCES)
ANY_POLICY = "2.5.29.32.0"


class Policy(_govsig.Policy):
    """Every verification knob in one immutable, picklable object.

    The knobs are defined, defaulted and validated once, in the Rust core (its table is
    :func:`govsig.policy_knobs`; :func:`govsig.policy_defaults` gives the defaults). A value
    the core cannot mean raises at ``Policy(...)`` naming its knob: ``ValueError`` for a
    value out of range or of the wrong kind, ``TypeError`` for a knob that does not exist.
    Everything after ``intermediates`` is keyword-only.

    Evidence and anchors (normalised here from the forms users hold them in):

    - ``trust``: a TrustStore (or certificates); ``None`` means integrity only: signatures
      are checked but no trust decision is made, and results say ``integrity_only``.
    - ``intermediates``: untrusted certificates available for path building.
    - ``crls``: CRLs (DER/PEM bytes or ``govsig.Crl``) used as revocation evidence, with the
      CRLs a CMS carries. Only bytes that are not a CRL at all raise ``ValueError`` (naming
      the index, ``crls[i] is not a CRL: ...``); a CRL that cannot be used (unknown critical
      extension, bad signature encoding, v2 without cRLNumber, ...) is kept as evidence that
      decides nothing, and results name it and why.
    - ``ocsp_responses``: OCSP responses (DER) given up front (offline evidence). Only bytes
      that are not an OCSPResponse raise (``ocsp_responses[i] is not an OCSP response``);
      an unsuccessful or unusable response is refused evidence, named in results.

    Knobs:

    - ``at``: validation time (aware datetime; naive means UTC; whole seconds); ``None`` = now.
    - ``legacy``: accept SHA-1 and DSA (see ``legacy_certificates`` below).
    - ``max_chain_depth`` (0..64): maximum intermediates between signer and anchor.
    - ``min_rsa_bits`` (0..16384): minimum RSA modulus size for every key.
    - ``key_usage``: names (:data:`KEY_USAGE_NAMES`) the signer's keyUsage must include at
      least one of (default digital_signature or non_repudiation); ``()`` requires none.
    - ``extended_key_usage``: dotted OIDs the signer must carry one of; ``None`` = unchecked
      (``()`` is refused: it would accept no signer).
    - ``max_signature_checks`` / ``max_paths`` (0..1,000,000): path-building budget per signer.
    - ``user_initial_policy_set``, ``initial_explicit_policy``,
      ``initial_policy_mapping_inhibit``, ``initial_any_policy_inhibit``: the certificate
      policy inputs of RFC 5280 §6.1.1 (c), (e), (f), (g) (dotted OIDs; default anyPolicy).
    - ``require_acceptable_policy``: when the user policy set is not anyPolicy, also refuse a
      path on which none of the user's policies is valid (PKITS's reading, the default);
      ``False`` applies only the bare RFC 5280 §6.1.5 success rule.
    - ``revocation``: ``"off"``, ``"soft-fail"`` (default: a revoked certificate fails, an
      undetermined status passes) or ``"hard-fail"`` (undetermined fails with
      ``revocation_unknown``). Every certificate on the path is checked, CAs included. The
      status is decided from *all* the evidence, whatever its order: valid evidence of a
      revocation at or before the validation time wins over any "good" (``cert_revoked``), a
      certificateHold in force is ``cert_on_hold`` until newer evidence releases it.
    - ``revocation_sources``: ``("ocsp", "crl")`` (default) or ``("crl", "ocsp")`` or one of
      them: the order in which missing evidence is fetched (with a fetcher, the first
      source's first, the next only if that fails). It never decides which evidence is
      believed: every CRL and OCSP response at hand counts.
    - ``ocsp_skew`` (0..604800, a week): seconds of clock skew forgiven on OCSP
      thisUpdate/nextUpdate.
    - ``anchor_constraints`` (default True): a trust anchor's own constraints apply (RFC 5937,
      as OpenSSL, Go and pyca do): its validity period at the validation time, its
      nameConstraints over the whole path, its unknown critical extensions refused. False
      treats anchors as bare keys (name and key, RFC 5280 §6.1.1 (d)).
    - ``strict_profile`` (default False): also refuse what RFC 5280 §4 tells CAs not to write
      but older CAs did: authorityKeyIdentifier missing (not self-issued) or critical,
      subjectKeyIdentifier missing on a CA or critical, serial numbers zero, negative or over
      20 octets, a CA's basicConstraints not critical. Off by default so that archives of
      older government CAs still verify. Always on, whatever this knob: an extendedKeyUsage
      with no purposes, keyCertSign without cA, a malformed or empty subjectAltName, an
      empty subject without a critical subjectAltName.
    - ``legacy`` admits SHA-1 and DSA in every signature (documents, certificates, CRLs, OCSP
      responses, time-stamps). ``legacy_certificates`` admits them in the signatures of
      certificates, CRLs and OCSP responses only, while document signatures stay SHA-2/SHA-3
      (the first-generation Vietnamese government CA signs its certificates with SHA-1).
      MD2 and MD5 are never admitted. A refusal is ``algorithm_not_allowed`` naming the
      algorithm and the certificate.
    - ``signature_time``: the time each signer is judged at. ``"at"`` (default): every check
      at ``at``. ``"timestamp"``: the earliest valid RFC 3161 signature time-stamp proves it,
      else ``at``. ``"claimed"``: as ``"timestamp"``, else the signer's own signingTime
      (reported as claimed), else ``at``. The path and revocation are judged at that time: a
      certificate revoked after it is ok (its revocation is reported, with the warning
      ``revoked_after_signature``); revoked at or before it fails.
    - ``require_timestamp``: a signer without a valid signature time-stamp fails
      (``timestamp_missing``, or the code of its best-ranked invalid token).
    - ``tsa_trust``: a TrustStore (or certificates) of time-stamping authorities; ``None``:
      the ``trust`` store.
    - ``signing_time_tolerance`` (seconds or a timedelta, 0..1 year; default 3600): a
      signingTime further than this from the time-stamped time gives the warning
      ``signing_time_mismatch``.
    - ``tsa_validation``: ``"at"`` (default: the TSA's chain judged at ``at``) or
      ``"gen_time"`` (at the token's genTime; the TSA's revocation still as of ``at``).

    ``replace(**changes)`` derives a new Policy; equality, hashing and pickling cover every
    knob and every piece of evidence.
    """

    __slots__ = ()

    def __new__(
        cls,
        trust: Any = None,
        intermediates: Iterable[Any] = (),
        *,
        crls: Iterable[Any] = (),
        ocsp_responses: Iterable[bytes] = (),
        tsa_trust: Any = None,
        **knobs: Any,
    ) -> "Policy":
        if trust is not None and not isinstance(trust, TrustStore):
            trust = TrustStore(trust)
        if tsa_trust is not None and not isinstance(tsa_trust, TrustStore):
            tsa_trust = TrustStore(tsa_trust)
        tolerance = knobs.get("signing_time_tolerance")
        if isinstance(tolerance, _dt.timedelta):
            knobs["signing_time_tolerance"] = int(tolerance.total_seconds())
        inter = tuple(many_to_ders(intermediates))
        for d in inter:
            _govsig.parse_certificate(d)
        crl_cores = tuple(c._core for c in _crl_objects(crls))
        ocsp_ders = tuple(_as_bytes(r, "an OCSP response") for r in ocsp_responses)
        # A response that cannot be used (unsuccessful, badly signed, ...) is evidence that
        # decides nothing, kept and named in results; only non-OCSP bytes are misuse.
        for i, der in enumerate(ocsp_ders):
            why = _govsig.ocsp_not_a_response(der)
            if why is not None:
                raise ValueError(f"ocsp_responses[{i}] is not an OCSP response: {why}")
        return super().__new__(
            cls, trust, None if trust is None else list(trust.certificates), list(inter),
            list(crl_cores), list(ocsp_ders), knobs,
            tsa_trust, None if tsa_trust is None else list(tsa_trust.certificates),
        )


def _crl_objects(crls: Any) -> Iterator[Any]:
    """CRLs as evidence: one that is a CRL but cannot be used is kept (results say which
    and why, its ``defect``); only bytes that are not a CRL at all raise, naming the index."""
    from govsig._crl import _PEM_CRL, Crl

    if crls is None:
        return
    if isinstance(crls, (bytes, bytearray, memoryview, Crl)):
        crls = [crls]
    for i, c in enumerate(crls):
        if isinstance(c, Crl):
            yield c
        elif isinstance(c, (bytes, bytearray, memoryview)):
            data = bytes(c)
            try:
                if data.lstrip().startswith(b"-----BEGIN"):
                    m = _PEM_CRL.search(data)
                    if m is None:
                        raise ValueError("no '-----BEGIN X509 CRL-----' block in the PEM data")
                    try:
                        data = base64.b64decode(b"".join(m.group(1).split()), validate=True)
                    except binascii.Error as e:
                        raise ValueError(f"PEM CRL block is not valid base64: {e}") from None
                yield Crl._evidence(data)
            except ValueError as e:
                raise ValueError(f"crls[{i}] is not a CRL: {e}") from None
        else:
            raise TypeError(f"crls must hold DER/PEM bytes or govsig.Crl objects, got {type(c).__name__}")


def _as_bytes(x: Any, what: str) -> bytes:
    if isinstance(x, bytes):
        return x
    if isinstance(x, (bytearray, memoryview)):
        return bytes(x)
    raise TypeError(f"{what} must be bytes, got {type(x).__name__}")


# Back-off of evidence that could not be had (the fetch failed, or what came was unusable or
# already stale): asked for again no sooner than 30 s after the first such attempt, then
# 60 s, 120 s, ... doubling per consecutive attempt, never more than an hour apart. A
# responder that is down is not hammered by every document, and one that comes back is used
# again within the hour.
RETRY_FIRST_SECONDS = 30.0
RETRY_MAX_SECONDS = 3600.0

_UNDECIDED = "the evidence fetched from it did not decide the status"


def _retry_delay(attempts: int) -> float:
    """Seconds to wait after the ``attempts``-th consecutive failed attempt (1, 2, ...)."""
    return min(RETRY_FIRST_SECONDS * 2.0 ** min(attempts - 1, 32), RETRY_MAX_SECONDS)


def _new_needs(needs: list[tuple[str, str, Optional[bytes]]],
               asked: dict[tuple[str, str, Optional[bytes]], int]) -> list[tuple[str, str, Optional[bytes]]]:
    """The needs that may still go to the fetcher in this call, counted in ``asked``: once to
    fetch, once more to tell the core that what came decided nothing."""
    out = [n for n in needs if asked.get(n, 0) < 2]
    for n in out:
        asked[n] = asked.get(n, 0) + 1
    return out


class _Sought:
    """What a Verifier knows about one CRL URL or OCSP (url, request): until when it is not
    fetched again, and why (``reason`` None: evidence came and was handed to the core)."""

    __slots__ = ("until", "attempts", "reason")

    def __init__(self, until: float, attempts: int, reason: Optional[str]) -> None:
        self.until = until
        self.attempts = attempts
        self.reason = reason


_SIGNATURE_SUFFIXES = (".p7s", ".p7m", ".p7", ".cms", ".pdf")


# A Verifier's clock: called for "now", returns an aware datetime.
Clock = Callable[[], _dt.datetime]


class _NamesNeeds(Protocol):
    @property
    def needs(self) -> list[tuple[str, str, Optional[bytes]]]: ...


_R = TypeVar("_R", bound=_NamesNeeds)


def _verifier(policy: Policy, fetcher: Union[Fetcher, BulkFetcher, None], clock: Optional[Clock]) -> "Verifier":
    return Verifier(policy, fetcher, clock=clock)


class Verifier:
    """Verifies CMS/PKCS#7 SignedData under a Policy.

    ``verify`` and ``verify_many`` never raise for bad input bytes: they return results
    with a code. They raise only for misuse (wrong argument types). A Verifier caches
    parsed certificates and validated chains across calls; it is safe to share between
    threads and it pickles (by its policy, fetcher and clock) for use on Dask workers.

    ``fetcher`` (an :class:`~govsig.HttpFetcher`, any :class:`~govsig.BulkFetcher`, or a
    :class:`~govsig.Fetcher`: a callable ``fetcher(url, data=None) -> bytes``) fetches the
    CRLs and OCSP responses the core names as missing. A long-running Verifier keeps them
    fresh: evidence is fetched again once it goes stale (a CRL past its
    nextUpdate; an OCSP response past its nextUpdate, or past its thisUpdate when it has none,
    plus ``policy.ocsp_skew``), and then every verdict cached on it is recomputed. Evidence
    that came but decided nothing (an OCSP answer about another certificate) is not asked for
    again until it would be stale. A fetch that failed is retried after a back-off: 30 s,
    doubling per consecutive failure, at most an hour (:data:`RETRY_FIRST_SECONDS`,
    :data:`RETRY_MAX_SECONDS`); until then the statuses only it could decide read
    ``fetch_failed`` (hard-fail) or unknown (soft-fail).

    ``clock``: a zero-argument callable returning an aware datetime, the time "now" for this
    Verifier: the validation time when ``policy.at`` is None, and what staleness and back-off
    are judged by. Default: the system clock. A test passes a simulated clock (and the same
    one to ``HttpFetcher(clock=...)``, whose caches judge freshness by it).
    """

    def __init__(self, policy: Optional[Policy] = None, fetcher: Union[Fetcher, BulkFetcher, None] = None, *,
                 clock: Optional[Clock] = None) -> None:
        if policy is None:
            policy = Policy()
        if not isinstance(policy, Policy):
            raise TypeError(f"policy must be a govsig.Policy, got {type(policy).__name__}")
        if fetcher is not None and not callable(fetcher) and not hasattr(fetcher, "fetch_many"):
            raise TypeError("fetcher must be a govsig.HttpFetcher, a BulkFetcher (fetch_many) or a callable "
                            "fetcher(url, data=None) -> bytes")
        if clock is not None and not callable(clock):
            raise TypeError(f"clock must be a zero-argument callable returning an aware datetime, "
                            f"got {type(clock).__name__}")
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
        self._engine = _govsig.CoreEngine(policy)

    @property
    def policy(self) -> Policy:
        return self._policy

    def __reduce__(self) -> tuple[Any, ...]:
        return (_verifier, (self._policy, self._fetcher, self._clock))

    @property
    def fetcher(self) -> Union[Fetcher, BulkFetcher, None]:
        """The fetcher of revocation evidence (None: the core uses only what it is given)."""
        return self._fetcher

    @property
    def clock(self) -> Optional[Clock]:
        """The clock given to the constructor (None: the system clock)."""
        return self._clock

    @property
    def fetch_errors(self) -> dict[str, str]:
        """URLs whose evidence could not be fetched or did not decide, with why, until they
        are due to be asked for again (the statuses they would have decided stay unknown)."""
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

    def _begin(self) -> Optional[int]:
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
                    # Evidence gone stale: the verdicts cached on it must be recomputed, which
                    # asks for it again.
                    del self._sought[key]
                    due.add(key if isinstance(key, str) else key[0])
                elif what == "sought" and s.until == until:
                    # A failure's counter is kept (the back-off grows) until an attempt
                    # succeeds, or it lies unused for longer than the longest wait.
                    self._schedule(until + RETRY_MAX_SECONDS, "gc", key)
                elif what == "gc" and s.until + RETRY_MAX_SECONDS == until:
                    del self._sought[key]
            self._next_due = self._due[0][0] if self._due else float("inf")
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

    def _fetch(self, needs: list[tuple[str, str, Optional[bytes]]]) -> int:
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
                if kind == "ocsp" and req is None:
                    continue
                key = url if kind == "crl" else (url, bytes(req or b""))
                s = self._sought.get(key)
                if s is not None and now < s.until:
                    into = undecided if s.reason is None else failed_again
                    if url not in into or s.until < into[url][0]:
                        into[url] = (s.until, _UNDECIDED if s.reason is None else s.reason)
                else:
                    wanted[key] = None
        told = self._tell(undecided, fetched=True) + self._tell(failed_again, fetched=False)
        if not wanted:
            return told
        crl_urls = [k for k in wanted if isinstance(k, str)]
        ocsp = [k for k in wanted if not isinstance(k, str)]
        fetched: dict[Any, Any]
        if isinstance(self._fetcher, BulkFetcher):
            fetched = dict(self._fetcher.fetch_many(crl_urls=crl_urls, ocsp=ocsp))
        else:
            fetched = {}
            keys: list[Any] = [*crl_urls, *ocsp]
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
        for key in [*crl_urls, *ocsp]:
            value = fetched.get(key)
            if isinstance(value, (bytes, bytearray)):
                if isinstance(key, str):
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
        with self._lock:
            for key, der in usable:
                expiry = self._expiry(key, der, now)
                if expiry is not None and expiry > now:
                    # Fresh: not fetched again before it goes stale.
                    s = self._sought[key] = _Sought(expiry, 0, None)
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

    def _with_evidence(self, run: Callable[[], _R]) -> _R:
        """``run()``, then, while its result names evidence not yet sought in this call,
        fetch that and run again. The core names all the evidence a path lacks at once, so a
        further round comes only from evidence that revealed more to check (a delegated OCSP
        responder's or a CRL signer's own path) or decided nothing (asked for again, it is
        told to the core as undecided and the next source gets its turn): each need goes to
        :meth:`_fetch` at most twice per call, so the loop ends."""
        result = run()
        asked: dict[tuple[str, str, Optional[bytes]], int] = {}
        while self._fetcher is not None:
            needs = _new_needs(result.needs, asked)
            if not needs or not self._fetch(needs):
                return result
            result = run()
        return result

    def verify(self, signature: bytes, content: Optional[bytes] = None) -> VerifyResult:
        """Verify one CMS signature (DER or BER). ``content`` is the signed data for a
        detached signature."""
        sig = _as_bytes(signature, "signature")
        data = None if content is None else _as_bytes(content, "content")
        at = self._begin()
        return self._with_evidence(lambda: self._engine.verify(sig, data, at))

    def verify_pdf(self, pdf: "bytes | str | os.PathLike[str]") -> PdfResult:
        """Verify every signature of a signed PDF (bytes or a path): each /ByteRange, each
        CMS or document time-stamp under this policy, the DSS as evidence, and what later
        revisions changed (DocMDP honoured). Returns a PdfResult; never raises for bad PDF
        bytes (``pdf_malformed``, ``no_signature``...)."""
        data = read_pdf(pdf)
        at = self._begin()
        return self._with_evidence(lambda: _govsig.pdf_verify(self._engine, data, at))

    def verify_timestamp(self, token: bytes, data: Optional[bytes] = None, *,
                         digest: Optional[bytes] = None, hash: Optional[str] = None) -> TimestampResult:
        """Verify an RFC 3161 time-stamp token (DER TimeStampToken) against what it stamps:
        ``data`` itself, or its ``digest`` made with ``hash`` (``"sha256"``...). The token's
        own CMS verifies, its signer carries id-kp-timeStamping alone and critical (RFC 3161
        §2.3), ESS signing-certificate binds it, its chain validates against this policy's
        trust store at the policy's ``at`` (default now), and the messageImprint matches.
        Returns a TimestampResult (code ``ok`` or a ``timestamp_*`` code with a reason, and
        ``cause`` naming the underlying check); never raises for bad token bytes.

        The TSA's path is validated under this policy like any end entity's, so a policy
        ``extended_key_usage`` must include id-kp-timeStamping (1.3.6.1.5.5.7.3.8) or be None
        (the default) for tokens to pass; RFC 3161 §2.3's own EKU rule is always checked."""
        tok = _as_bytes(token, "token")
        if (data is None) == (digest is None):
            raise TypeError("verify_timestamp needs either data or digest= (with hash=)")
        if digest is not None and hash is None:
            raise TypeError("digest= needs hash= naming its algorithm, e.g. hash='sha256'")
        args: dict[str, Any] = ({"data": _as_bytes(data, "data")} if data is not None
                                else {"digest": _as_bytes(digest, "digest"), "hash": hash})
        args["at"] = self._begin()
        return self._with_evidence(lambda: _govsig.timestamp_verify(self._engine, tok, **args))

    def verify_certificate(self, cert: Any, intermediates: Iterable[Any] = ()) -> PathResult:
        """Validate a certificate's path to the trust store under this policy (RFC 5280 §6.1):
        the policy's intermediates plus ``intermediates`` are the untrusted candidates; the
        policy's ``key_usage`` and ``extended_key_usage`` apply to ``cert``. Returns a
        PathResult (ok, code, reason, chain, user_constrained_policy_set); never raises for
        bad certificate bytes."""
        if self._policy.trust is None:
            raise ValueError("verify_certificate needs a Policy with a trust store")
        (leaf,) = to_ders(cert)[:1] or [b""]
        extra = many_to_ders(intermediates)
        at = self._begin()
        return self._with_evidence(lambda: self._engine.verify_certificate(leaf, extra, at))

    def _chunks(self, items: Iterable[tuple[Any, Any]], chunk_size: int) -> Iterator[list[Any]]:
        """Lists of at most ``chunk_size`` items, without touching the items: the core
        checks their types (and `_run_chunk` falls back to converting bytes-likes)."""
        if chunk_size < 1:
            raise ValueError(f"chunk_size must be >= 1, got {chunk_size!r}")
        if isinstance(items, list):
            for i in range(0, len(items), chunk_size):
                yield items[i : i + chunk_size]
            return
        it = iter(items)
        while True:
            chunk = list(itertools.islice(it, chunk_size))
            if not chunk:
                return
            yield chunk

    def _run_chunk(self, chunk: list[Any], into: BatchResult, threads: Optional[int]) -> None:
        # One validation time per chunk: a long job follows the clock chunk by chunk.
        at = self._begin()
        if self._fetcher is None:
            self._verify_chunk(chunk, into, threads, at)
            return
        # With a fetcher: verify, fetch what the chunk lacked (each URL once, in parallel,
        # outside the core), then verify again only the documents that lacked it.
        part = BatchResult()
        self._verify_chunk(chunk, part, threads, at)
        asked: dict[tuple[str, str, Optional[bytes]], int] = {}
        while True:
            needs = _new_needs(part.needs(), asked)
            if not needs or not self._fetch(needs):
                break
            redo = part.indices_with_needs()
            again = BatchResult()
            self._verify_chunk([chunk[i] for i in redo], again, threads, at)
            part.replace(redo, again)
        into.extend(part)

    def _verify_chunk(self, chunk: list[Any], into: BatchResult, threads: Optional[int],
                      at: Optional[int]) -> None:
        if any(isinstance(item, PdfDocument) for item in chunk):
            verify_chunk_mixed(self._engine, chunk, into, threads, at,
                               lambda run, out: self._verify_chunk(run, out, threads, at))
            return
        # The core reads the first two fields of a tuple: a longer tuple or a bare signature
        # must be refused here, not half-read.
        if not all(type(item) is tuple and len(item) == 2 for item in chunk):
            chunk = [_normalise_item(item) for item in chunk]
        try:
            self._engine.verify_chunk(chunk, into, threads, at)
        except TypeError:
            # Slow path: bytearray/memoryview items, or a misuse to report clearly.
            self._engine.verify_chunk([_normalise_item(item) for item in chunk], into, threads, at)

    def verify_many(
        self,
        items: Iterable[tuple[bytes, Optional[bytes]]],
        threads: Optional[int] = None,
        chunk_size: int = 2048,
    ) -> BatchResult:
        """Verify many documents on ``threads`` threads (default: all cores), GIL released.

        ``items`` may be any iterable, far larger than memory: it is consumed in chunks.
        Results keep input order.
        """
        _check_threads(threads)
        out = BatchResult()
        for chunk in self._chunks(items, chunk_size):
            self._run_chunk(chunk, out, threads)
        return out

    def verify_stream(
        self,
        items: Iterable[tuple[bytes, Optional[bytes]]],
        threads: Optional[int] = None,
        chunk_size: int = 2048,
    ) -> Iterator[Union[VerifyResult, PdfResult]]:
        """Like verify_many, but yields results in order as chunks finish: memory stays
        flat whatever the number of documents (a PdfDocument item yields a PdfResult)."""
        _check_threads(threads)
        for chunk in self._chunks(items, chunk_size):
            part = BatchResult()
            self._run_chunk(chunk, part, threads)
            for i in range(len(part)):
                yield part[i]

    def verify_files(
        self,
        paths: Iterable[str | os.PathLike[str]],
        threads: Optional[int] = None,
        chunk_size: int = 512,
    ) -> BatchResult:
        """Verify signature files. ``X.p7s`` with ``X`` beside it is a detached signature
        over ``X``; ``*.pdf`` is a signed PDF (its result is a PdfResult, as from
        ``verify_pdf``); any other file is an attached signature. Files are read ahead in a
        background thread while the previous chunk is verified."""
        _check_threads(threads)
        out = BatchResult()
        for _paths, chunk in _read_chunks(paths, chunk_size):
            self._run_chunk(chunk, out, threads)
        return out

    def __repr__(self) -> str:
        return f"Verifier({self._policy!r})"


def _normalise_item(item: Any) -> tuple[bytes, Optional[bytes]]:
    # Unpacking alone would take a 2-byte signature, or a 2-character string, for a pair.
    if isinstance(item, (str, bytes, bytearray, memoryview)) or not isinstance(item, (tuple, list)) or len(item) != 2:
        what = type(item).__name__
        if isinstance(item, (tuple, list)):
            what = f"a {what} of {len(item)}"
        elif isinstance(item, (bytes, bytearray, memoryview)):
            what += " (a signature alone? pass (signature, None))"
        raise TypeError(f"verify_many items must be (signature, content-or-None) pairs, got {what}")
    sig, content = item
    return _as_bytes(sig, "signature"), None if content is None else _as_bytes(content, "content")


def _check_threads(threads: Optional[int]) -> None:
    check_threads(threads)


def detached_content_path(path: str) -> Optional[str]:
    """``X`` for ``X.p7s`` when ``X`` exists beside it."""
    if path.lower().endswith(".p7s"):
        base = path[: -len(".p7s")]
        if os.path.isfile(base):
            return base
    return None


def _read_one(path: str) -> Any:
    with open(path, "rb") as f:
        sig = f.read()
    if is_pdf_path(path):
        return PdfDocument(sig)
    cpath = detached_content_path(path)
    content = None
    if cpath is not None:
        with open(cpath, "rb") as f:
            content = f.read()
    return sig, content


def _read_chunks(
    paths: Iterable[str | os.PathLike[str]], chunk_size: int
) -> Iterator[tuple[list[str], list[Any]]]:
    """Chunks of (paths, items), the next chunk read while the caller works on this one."""

    def groups() -> Iterator[list[str]]:
        g: list[str] = []
        for p in paths:
            g.append(os.fspath(p))
            if len(g) >= chunk_size:
                yield g
                g = []
        if g:
            yield g

    def load(g: list[str]) -> tuple[list[str], list[Any]]:
        return g, [_read_one(p) for p in g]

    with ThreadPoolExecutor(max_workers=1) as ex:
        pending = None
        for g in groups():
            fut = ex.submit(load, g)
            if pending is not None:
                yield pending.result()
            pending = fut
        if pending is not None:
            yield pending.result()


def is_signature_file(name: str) -> bool:
    """File names treated as signed documents when walking an archive."""
    return name.lower().endswith(_SIGNATURE_SUFFIXES)


def walk_signature_files(root: str | os.PathLike[str]) -> list[str]:
    """Signature files under ``root``, sorted for a stable report order."""
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for n in sorted(filenames):
            if is_signature_file(n):
                found.append(os.path.join(dirpath, n))
    return found


__all__ += ["VerifyResult", "SignerResult", "BatchResult", "PathResult", "TimestampResult", "PdfResult",
            "ANY_POLICY"]
