"""Certificate revocation lists: parsed and indexed once in the Rust core, O(1) look-up."""

from __future__ import annotations

import binascii
import datetime as _dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, NoReturn

from govsig import _govsig
from govsig._pem import pem_blocks, pem_body_der

__all__ = ["Crl", "RevokedEntry"]

_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)
_CRL_LABELS = frozenset({b"X509 CRL"})


def _when(seconds: int) -> _dt.datetime:
    # timedelta arithmetic, unlike fromtimestamp, covers every year X.509 can encode.
    return _EPOCH + _dt.timedelta(seconds=seconds)


def _serial_bytes(serial: int) -> bytes:
    """Minimal two's complement big-endian octets of an INTEGER (X.690 §8.3)."""
    if isinstance(serial, bool) or not isinstance(serial, int):
        raise TypeError(f"serial must be an int, not {type(serial).__name__}")
    bits = serial.bit_length() if serial >= 0 else (~serial).bit_length()
    return serial.to_bytes(bits // 8 + 1, "big", signed=True)


def _uint(magnitude: bytes | None) -> int | None:
    return None if magnitude is None else int.from_bytes(magnitude, "big")


@dataclass(frozen=True, slots=True)
class RevokedEntry:
    """One revoked certificate of a CRL (RFC 5280 §5.1.2.6, §5.3).

    ``reason`` is the snake_case CRLReason (``"key_compromise"``, ``"certificate_hold"``,
    ``"remove_from_crl"``, ...) or None when the entry has no reasonCode.
    ``certificate_issuer`` (RFC 4514) is set for entries of an indirect CRL that belong to
    another issuer than the CRL issuer. ``hold_instruction`` is the dotted OID of a
    holdInstructionCode.
    """

    serial: int
    revocation_date: _dt.datetime
    reason: str | None
    invalidity_date: _dt.datetime | None
    certificate_issuer: str | None
    hold_instruction: str | None = None

    @classmethod
    def _from_core(cls, t: tuple[bytes, int, str | None, int | None, str | None, str | None]) -> RevokedEntry:
        serial, revoked, reason, invalidity, issuer, hold = t
        return cls(
            serial=int.from_bytes(serial, "big", signed=True),
            revocation_date=_when(revoked),
            reason=reason,
            invalidity_date=None if invalidity is None else _when(invalidity),
            certificate_issuer=issuer,
            hold_instruction=hold,
        )


def _crl_from_der(der: bytes) -> Crl:
    # A pickled Crl may be refused evidence (see Crl.defect): it comes back as it went.
    return Crl._evidence(der)


class Crl:
    """A certificate revocation list (RFC 5280 §5), parsed and indexed once.

    Immutable and picklable (by its DER). Build with :meth:`from_der` or :meth:`from_pem`;
    malformed or unusable CRLs (truncated, bad version, unknown critical extension, duplicate
    entries, ...) raise ``ValueError`` with the reason.
    """

    __slots__ = ("_core",)
    _core: _govsig.CoreCrl

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("build a Crl with Crl.from_der(data) or Crl.from_pem(data)")

    @classmethod
    def _wrap(cls, core: _govsig.CoreCrl) -> Crl:
        obj = object.__new__(cls)
        object.__setattr__(obj, "_core", core)
        return obj

    @classmethod
    def from_der(cls, data: bytes | bytearray | memoryview) -> Crl:
        """Parses a DER CRL."""
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"CRL data must be bytes, not {type(data).__name__}")
        return cls._wrap(_govsig.CoreCrl.from_der(data if isinstance(data, bytes) else bytes(data)))

    @classmethod
    def _evidence(cls, data: bytes) -> Crl:
        """Parses DER as revocation evidence: a CRL that breaks the profile (bad signature
        encoding, unknown critical extension, v2 without cRLNumber, ...) is returned with
        :attr:`defect` saying why; ``ValueError`` only for bytes that are not a CRL at all."""
        return cls._wrap(_govsig.CoreCrl.evidence_from_der(data))

    @property
    def defect(self) -> str | None:
        """Why this CRL cannot be used as revocation evidence, or None when it can. Only
        CRLs given to :class:`govsig.Policy` as bytes can have one (:meth:`from_der` raises)."""
        return self._core.defect

    @classmethod
    def from_pem(cls, data: bytes | str) -> Crl:
        """Parses the first ``-----BEGIN X509 CRL-----`` block of ``data``."""
        if isinstance(data, str):
            data = data.encode("ascii", "replace")
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"PEM data must be bytes or str, not {type(data).__name__}")
        return cls.from_der(_pem_der(bytes(data)))

    # -- identity ----------------------------------------------------------------------

    @property
    def der(self) -> bytes:
        return self._core.der

    @property
    def fingerprint(self) -> bytes:
        """SHA-256 of the DER."""
        return self._core.fingerprint

    @property
    def signature_algorithm(self) -> str:
        """e.g. ``"sha256WithRSAEncryption"``; the dotted OID when govsig does not support it."""
        return self._core.signature_algorithm

    # -- header ------------------------------------------------------------------------

    @property
    def issuer(self) -> str:
        """The CRL issuer, RFC 4514 (``CN=..., O=..., C=VN``)."""
        return self._core.issuer

    @property
    def issuer_der(self) -> bytes:
        return self._core.issuer_der

    @property
    def version(self) -> int:
        """1 or 2."""
        return self._core.version

    @property
    def this_update(self) -> _dt.datetime:
        return _when(self._core.this_update)

    @property
    def next_update(self) -> _dt.datetime | None:
        t = self._core.next_update
        return None if t is None else _when(t)

    @property
    def number(self) -> int | None:
        """cRLNumber (RFC 5280 §5.2.3)."""
        return _uint(self._core.number)

    @property
    def is_delta(self) -> bool:
        """Whether this is a delta CRL (deltaCRLIndicator, RFC 5280 §5.2.4)."""
        return self._core.is_delta

    @property
    def delta_base(self) -> int | None:
        """The BaseCRLNumber of a delta CRL."""
        return _uint(self._core.delta_base)

    @property
    def is_indirect(self) -> bool:
        """issuingDistributionPoint with indirectCRL (RFC 5280 §5.2.5)."""
        return self._core.is_indirect

    @property
    def authority_key_id(self) -> bytes | None:
        return self._core.authority_key_id

    @property
    def freshest_crl(self) -> list[str]:
        """URIs where the delta CRLs are published (freshestCRL, RFC 5280 §5.2.6)."""
        return self._core.freshest_crl_uris

    @property
    def extensions(self) -> list[tuple[str, bool]]:
        """``(dotted OID, critical)`` of every CRL extension."""
        return self._core.extensions

    # -- entries -----------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._core)

    def lookup(self, serial: int, issuer: bytes | None = None) -> RevokedEntry | None:
        """The entry revoking ``serial``, or None. O(1).

        ``issuer`` (DER Name) selects the certificate issuer in an indirect CRL; without it,
        the CRL issuer's entry is preferred.
        """
        t = self._core.lookup(_serial_bytes(serial), issuer)
        return None if t is None else RevokedEntry._from_core(t)

    def __contains__(self, serial: object) -> bool:
        return isinstance(serial, int) and self.lookup(serial) is not None

    def __iter__(self) -> Iterator[RevokedEntry]:
        return (RevokedEntry._from_core(t) for t in self._core.entries())

    # -- signature ---------------------------------------------------------------------

    def verify_signature(self, issuer_certificate_der: bytes, *, legacy: bool = False,
                         min_rsa_bits: int = 2048) -> bool:
        """Whether the CRL's signature verifies with the key of this certificate.

        Checks the signature only (not the certificate's name, keyUsage or path). ``legacy``
        allows SHA-1 and DSA. An unparseable certificate, an unsupported or refused algorithm,
        or a key below ``min_rsa_bits`` raises ``ValueError``.
        """
        if not isinstance(issuer_certificate_der, (bytes, bytearray, memoryview)):
            raise TypeError("issuer_certificate_der must be bytes")
        return self._core.verify_signature(bytes(issuer_certificate_der), bool(legacy), int(min_rsa_bits))

    # -- value semantics ---------------------------------------------------------------

    def __setattr__(self, name: str, value: object) -> NoReturn:
        raise AttributeError("Crl is immutable")

    def __delattr__(self, name: str) -> NoReturn:
        raise AttributeError("Crl is immutable")

    def __reduce__(self) -> tuple[Any, tuple[bytes]]:
        return (_crl_from_der, (self.der,))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Crl) and self.fingerprint == other.fingerprint

    def __hash__(self) -> int:
        return hash(self.fingerprint)

    def __repr__(self) -> str:
        kind = "delta CRL" if self.is_delta else "CRL"
        num = "" if self.number is None else f" #{self.number}"
        return f"<{kind}{num} of {self.issuer!r}, {len(self)} entries, thisUpdate {self.this_update.isoformat()}>"


def _pem_der(data: bytes) -> bytes:
    """The DER of the first ``-----BEGIN X509 CRL-----`` block of ``data``."""
    body = next((b for _, b in pem_blocks(data, _CRL_LABELS)), None)
    if body is None:
        raise ValueError("no '-----BEGIN X509 CRL-----' block in the PEM data")
    try:
        return pem_body_der(body)
    except binascii.Error as e:
        raise ValueError(f"PEM CRL block is not valid base64: {e}") from None
