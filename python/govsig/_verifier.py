"""The Verifier: verification calls over the core engine, one document, many, files, PDFs,
time-stamps and certificates, with the evidence a fetcher brings (see ``_refresh``)."""
from __future__ import annotations

import itertools
import os
from collections.abc import Iterable, Iterator
from typing import Any, Optional, Union

from govsig import _govsig
from govsig._certs import many_to_ders, to_ders
from govsig._files import read_chunks
from govsig._govsig import BatchResult, PathResult, PdfResult, TimestampResult, VerifyResult
from govsig._pdf import PdfDocument, read_pdf, verify_chunk_mixed
from govsig._policy import Policy, _as_bytes
from govsig._refresh import Clock, EvidenceRefresh, new_needs
from govsig._threads import check_threads
from govsig.fetch import BulkFetcher, Fetcher

__all__ = ["Verifier"]


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
    plus ``policy.ocsp_skew``), and then every verdict cached on it is recomputed: stale
    fetched evidence stops deciding, also for a past signature time, so a long-lived
    Verifier says what a fresh one would (evidence given in the policy is kept). Evidence
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
        self._engine = _govsig.CoreEngine(policy)
        self._refresh = EvidenceRefresh(self._engine, policy, fetcher, clock)

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
        return self._refresh.fetch_errors

    def verify(self, signature: bytes, content: Optional[bytes] = None) -> VerifyResult:
        """Verify one CMS signature (DER or BER). ``content`` is the signed data for a
        detached signature."""
        sig = _as_bytes(signature, "signature")
        data = None if content is None else _as_bytes(content, "content")
        at = self._refresh.begin()
        return self._refresh.with_evidence(lambda: self._engine.verify(sig, data, at))

    def verify_pdf(self, pdf: "bytes | str | os.PathLike[str]") -> PdfResult:
        """Verify every signature of a signed PDF (bytes or a path): each /ByteRange, each
        CMS or document time-stamp under this policy, the DSS as evidence, and what later
        revisions changed (DocMDP honoured). Returns a PdfResult; never raises for bad PDF
        bytes (``pdf_malformed``, ``no_signature``...)."""
        at = self._refresh.begin()
        if isinstance(pdf, (str, os.PathLike)):
            # Read by the core as verify_files reads it: within its size bound (a larger file
            # is pdf_malformed without being read), and a FIFO or device refused (ValueError).
            path = os.fspath(pdf)

            def from_path() -> PdfResult:
                out = BatchResult()
                _govsig.pdf_verify_paths_chunk(self._engine, [path], out, None, at)
                result = out[0]
                assert isinstance(result, PdfResult)
                return result
            return self._refresh.with_evidence(from_path)
        data = read_pdf(pdf)
        return self._refresh.with_evidence(lambda: _govsig.pdf_verify(self._engine, data, at))

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
        args["at"] = self._refresh.begin()
        return self._refresh.with_evidence(lambda: _govsig.timestamp_verify(self._engine, tok, **args))

    def verify_certificate(self, cert: Any, intermediates: Iterable[Any] = ()) -> PathResult:
        """Validate a certificate's path to the trust store under this policy (RFC 5280 §6.1):
        the policy's intermediates plus ``intermediates`` are the untrusted candidates; the
        policy's ``key_usage`` and ``extended_key_usage`` apply to ``cert``. Returns a
        PathResult (ok, code, reason, chain, user_constrained_policy_set); never raises for
        bad certificate bytes."""
        if self._policy.trust is None:
            raise ValueError("verify_certificate needs a Policy with a trust store")
        try:
            (leaf,) = to_ders(cert)[:1] or [b""]
        except ValueError:
            if not isinstance(cert, (bytes, bytearray, memoryview)):
                raise
            # Bytes that are neither DER nor a PEM certificate: the core names the defect as
            # a cert_malformed result, as this method promises, rather than an exception; a
            # PEM block of another kind (a signed document, say) is handed over decoded, so
            # the reason says what it is rather than how its text fails to parse.
            from govsig._pem import first_block_der

            leaf = first_block_der(bytes(cert)) or bytes(cert)
        extra = many_to_ders(intermediates)
        at = self._refresh.begin()
        return self._refresh.with_evidence(lambda: self._engine.verify_certificate(leaf, extra, at))

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
        at = self._refresh.begin()
        if self._fetcher is None:
            self._verify_chunk(chunk, into, threads, at)
            return
        # With a fetcher: verify, fetch what the chunk lacked (each URL once, in parallel,
        # outside the core), then verify again only the documents that lacked it.
        part = BatchResult()
        self._verify_chunk(chunk, part, threads, at)
        asked: dict[tuple[str, str, Optional[bytes]], int] = {}
        while True:
            needs = new_needs(part.needs(), asked)
            if not needs or not self._refresh.fetch(needs):
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
        for _paths, chunk in read_chunks(paths, chunk_size):
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


