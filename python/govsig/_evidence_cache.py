"""Revocation evidence as the fetcher keeps it: when a CRL or OCSP response stops being
fresh (read from its own bytes), a memory cache that never serves past nextUpdate, and an
on-disk cache of CRLs and OCSP responses shared by every fetcher and process using the same
directory."""
from __future__ import annotations

import contextlib
import datetime as _dt
import fcntl
import hashlib
import json
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from govsig._crl import Crl, _pem_der
from govsig._http import FetchError
from govsig._pem import is_pem
from govsig._regular import open_regular_file, read_regular_file

__all__ = ["crl_validity", "ocsp_validity"]

_SIDECAR_MAX = 64 * 1024
_CACHE_FORMAT = 1


def _crl_der_and_next_update(url: str, body: bytes) -> tuple[bytes, float | None]:
    """The DER of a DER or PEM CRL and its nextUpdate (seconds since the epoch), or
    FetchError("bad_response") naming why the body is not a CRL."""
    try:
        # Read as evidence: a CRL that breaks the profile (v2 without a cRLNumber, an unknown
        # critical extension, ...) is still what the server publishes; the core keeps it as
        # refused evidence and says why. Only a body that is not a CRL is a bad response.
        crl = Crl._evidence(_pem_der(body) if is_pem(body) else body)
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


def _ocsp_name(url: str, request: bytes) -> str:
    # Distinct from every CRL name (those hash the URL alone): a responder URL that is also a
    # CRL URL never shares an entry or a lock with it.
    return hashlib.sha256(b"ocsp\0" + url.encode("utf-8") + b"\0" + request).hexdigest()


def _issuer_name(url: str) -> str:
    # Distinct from CRL and OCSP names, as those are from each other.
    return hashlib.sha256(b"issuer\0" + url.encode("utf-8")).hexdigest()


class _DiskCache:
    """CRLs on disk, one body file and one JSON sidecar per URL, named by SHA-256 of the URL;
    OCSP responses likewise in ``ocsp/``, one per (responder URL, DER request); what
    caIssuers URLs served in ``issuer/``, one per URL.

    Writes are atomic (a temporary file in the same directory, then rename), so a reader in
    another process or thread sees the old entry or the new one, never half of one. Anything
    unreadable, inconsistent or oversized is treated as a miss.
    """

    def __init__(self, root: Path) -> None:
        self.root = root / "crl"
        self.root.mkdir(parents=True, exist_ok=True)
        self.ocsp_root = root / "ocsp"
        self.ocsp_root.mkdir(parents=True, exist_ok=True)
        self.issuer_root = root / "issuer"
        self.issuer_root.mkdir(parents=True, exist_ok=True)
        # Lock files live apart from the entries: they outlive every fetch (unlinking one
        # while another process waits on it would let a third lock a new file and fetch too).
        self.locks = root / "locks"

    def _paths(self, url: str) -> tuple[Path, Path]:
        name = hashlib.sha256(url.encode("utf-8")).hexdigest()
        return self.root / f"{name}.crl", self.root / f"{name}.json"

    @staticmethod
    def _read_entry(body_path: Path, meta_path: Path, max_bytes: int, expect: dict[str, str]) -> bytes | None:
        """The body of one cache entry, or None: see :meth:`_read_entry_meta`."""
        entry = _DiskCache._read_entry_meta(body_path, meta_path, max_bytes, expect)
        return None if entry is None else entry[0]

    @staticmethod
    def _read_entry_meta(body_path: Path, meta_path: Path, max_bytes: int,
                         expect: dict[str, str]) -> tuple[bytes, dict[str, Any]] | None:
        """The body of one cache entry and its sidecar, or None: the sidecar must be of this
        format and hold ``expect`` (what the entry answers), and the body must fit
        ``max_bytes`` and match the sidecar's SHA-256 (a body replaced by a concurrent writer
        or by hand is a miss)."""
        try:
            with open_regular_file(meta_path, "a cache sidecar") as f:
                meta = json.loads(f.read(_SIDECAR_MAX + 1)[:_SIDECAR_MAX])
            if (not isinstance(meta, dict) or meta.get("format") != _CACHE_FORMAT
                    or any(meta.get(k) != v for k, v in expect.items())):
                return None
            # A regular file only, read within the bound: a body replaced by a FIFO or a link
            # to /dev/zero is a miss, not a read that blocks or never ends.
            body = read_regular_file(body_path, "a cached response", max_bytes)
        except (OSError, ValueError, RecursionError):  # RecursionError: a sidecar nested too deeply
            return None
        return (body, meta) if hashlib.sha256(body).hexdigest() == meta.get("sha256") else None

    def _write_entry(self, body_path: Path, meta_path: Path, body: bytes, meta: dict[str, Any]) -> None:
        # Body first, sidecar last: a sidecar always describes a body that is already in
        # place, and the SHA-256 in it catches a body replaced by a concurrent writer.
        meta = {"format": _CACHE_FORMAT, **meta, "sha256": hashlib.sha256(body).hexdigest(), "size": len(body)}
        self._atomic_write(body_path, body, body_path.parent)
        self._atomic_write(meta_path, json.dumps(meta, sort_keys=True).encode("utf-8"), meta_path.parent)

    def load(self, url: str, max_bytes: int) -> tuple[bytes, float] | None:
        body = self._read_entry(*self._paths(url), max_bytes, {"url": url})
        if body is None:
            return None
        try:
            # nextUpdate is read again from the CRL itself: the sidecar is a record, not the
            # authority, so a stale or hand-edited sidecar cannot extend a CRL's life.
            der, next_update = _crl_der_and_next_update(url, body)
        except (OSError, ValueError, FetchError):
            return None
        if next_update is None:
            return None
        return der, next_update

    def load_ocsp(self, url: str, request: bytes, max_bytes: int) -> tuple[bytes, float] | None:
        """The cached response of ``url`` to ``request`` and its nextUpdate, or None. As for
        CRLs, nextUpdate is read again from the response (the earliest of its
        SingleResponses), never from the sidecar."""
        name = _ocsp_name(url, request)
        body = self._read_entry(self.ocsp_root / f"{name}.der", self.ocsp_root / f"{name}.json", max_bytes,
                                {"url": url, "request_sha256": hashlib.sha256(request).hexdigest()})
        if body is None:
            return None
        next_update = _ocsp_next_update(body)
        if next_update is None:
            return None
        return body, next_update

    def store_ocsp(self, url: str, request: bytes, body: bytes, fetched_at: float, next_update: float) -> None:
        name = _ocsp_name(url, request)
        self._write_entry(self.ocsp_root / f"{name}.der", self.ocsp_root / f"{name}.json", body,
                          {"url": url, "request_sha256": hashlib.sha256(request).hexdigest(),
                           "fetched_at": fetched_at, "next_update": next_update})

    def load_issuer(self, url: str, max_bytes: int, now: float, keep: float) -> tuple[bytes, float] | None:
        """What a caIssuers URL served, and until when it may be reused: ``keep`` seconds
        after it was fetched. An issuer certificate carries no nextUpdate, so the sidecar's
        fetch time is the record; one in the future (a clock set back, a hand edit) is a miss.
        Whatever this returns is only ever an untrusted intermediate for the core."""
        name = _issuer_name(url)
        entry = self._read_entry_meta(self.issuer_root / f"{name}.der", self.issuer_root / f"{name}.json",
                                      max_bytes, {"url": url})
        if entry is None:
            return None
        body, meta = entry
        try:
            fetched_at = float(meta["fetched_at"])
        except (ValueError, KeyError, TypeError):
            return None
        if not fetched_at <= now:
            return None
        return body, fetched_at + keep

    def store_issuer(self, url: str, body: bytes, fetched_at: float) -> None:
        name = _issuer_name(url)
        self._write_entry(self.issuer_root / f"{name}.der", self.issuer_root / f"{name}.json", body,
                          {"url": url, "fetched_at": fetched_at})

    def fetching_issuer(self, url: str, wait: float) -> contextlib.AbstractContextManager[bool]:
        """:meth:`fetching` for one caIssuers URL."""
        return self._locked(_issuer_name(url), wait)

    def fetching_ocsp(self, url: str, request: bytes, wait: float) -> contextlib.AbstractContextManager[bool]:
        """:meth:`fetching` for one OCSP request: processes asking a responder the same
        question at the same moment send it once per cache directory."""
        return self._locked(_ocsp_name(url, request), wait)

    def fetching(self, url: str, wait: float) -> contextlib.AbstractContextManager[bool]:
        """Holds this URL's lock file (``locks/<sha256>.lock``, ``flock``) while the caller looks in
        the cache again and fetches on a miss: workers of a cluster asking for one CRL at the
        same moment fetch it once per cache directory, not once per process. Yields False
        (and the caller fetches unlocked) when the lock cannot be had within ``wait`` seconds
        (a holder stuck past its fetch deadline) or the directory does not support locks: a
        second fetch costs less than a stalled job. The kernel drops the lock of a process
        that dies, so a killed worker never leaves it held."""
        return self._locked(hashlib.sha256(url.encode("utf-8")).hexdigest(), wait)

    @contextlib.contextmanager
    def _locked(self, name: str, wait: float) -> Iterator[bool]:
        try:
            self.locks.mkdir(exist_ok=True)
            fd = os.open(self.locks / f"{name}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError:
            yield False
            return
        try:
            held = False
            deadline = time.monotonic() + wait
            delay = 0.005
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    held = True
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        break
                    time.sleep(delay)
                    delay = min(delay * 2, 0.1)
                except OSError:
                    break
            yield held
        finally:
            os.close(fd)  # closing the descriptor releases the lock

    def store(self, url: str, der: bytes, fetched_at: float, next_update: float) -> None:
        self._write_entry(*self._paths(url), der, {"url": url, "fetched_at": fetched_at, "next_update": next_update})

    def _atomic_write(self, path: Path, data: bytes, folder: Path) -> None:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=path.suffix)
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
