"""Signing with keys on PKCS#11 tokens (USB tokens, smart cards, HSMs).

>>> with govsig.pkcs11.Token.open("/usr/lib/softhsm/libsofthsm2.so",
...                               token_label="official", pin=pin) as tok:
...     signer = tok.signer(key_label="signing", sessions=4)
...     signatures = govsig.sign_many(documents, signer)

The library is initialised for multi-threaded use (``CKF_OS_LOCKING_OK``); a signer holds a
pool of sessions so that many threads sign at once without two operations sharing a session;
C_Sign always runs with the GIL released. Leaving the ``with`` block logs out. The PIN goes
to C_Login and nowhere else: no message, repr, log or traceback of govsig contains it.
"""
from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable
from types import TracebackType
from typing import Any, Optional, Union

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from govsig import _govsig
from govsig.signing import CertificateLike, _certificate, _certificates

__all__ = [
    "Pkcs11Error",
    "ModuleLoadError",
    "TokenNotFoundError",
    "PinIncorrectError",
    "PinLockedError",
    "PinExpiredError",
    "PinRejectedError",
    "NotLoggedInError",
    "AlreadyLoggedInError",
    "KeyNotFoundError",
    "CertificateNotFoundError",
    "KeyCertificateMismatchError",
    "MechanismNotSupportedError",
    "TokenRemovedError",
    "SessionClosedError",
    "Pkcs11ArgumentError",
    "TokenInfo",
    "KeyInfo",
    "Token",
    "TokenSigner",
    "list_tokens",
]

StrPath = Union[str, "os.PathLike[str]"]


# -- errors ----------------------------------------------------------------------------------


# The exception classes are defined in the compiled module (rust/govsig-py/src/errors.rs),
# where every token error maps to its class; they live here for users (``__module__`` is
# ``govsig.pkcs11``). Each has ``ckr`` (the CKR_* name, or None when govsig decided) and
# ``kind`` (a stable snake_case name).
from govsig._govsig import (
    Pkcs11Error,
    ModuleLoadError,
    TokenNotFoundError,
    PinIncorrectError,
    PinLockedError,
    PinExpiredError,
    PinRejectedError,
    NotLoggedInError,
    AlreadyLoggedInError,
    KeyNotFoundError,
    CertificateNotFoundError,
    KeyCertificateMismatchError,
    MechanismNotSupportedError,
    TokenRemovedError,
    SessionClosedError,
    Pkcs11ArgumentError,
)


# -- values ----------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class TokenInfo:
    """A token present in a slot (``C_GetTokenInfo``)."""

    slot_id: int
    label: str
    manufacturer: str
    model: str
    serial: str
    flags: dict[str, bool] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class KeyInfo:
    """A private signing key on a token, with the certificate the token holds for it."""

    label: str
    id: bytes
    key_type: str
    certificate: Optional[x509.Certificate]
    bits: Optional[int] = None

    def __repr__(self) -> str:
        subject = self.certificate.subject.rfc4514_string() if self.certificate else None
        return (f"KeyInfo(label={self.label!r}, id={self.id.hex()!r}, key_type={self.key_type!r}, "
                f"certificate={subject!r})")


def _module(module: Any) -> _govsig.Pkcs11Module:
    if isinstance(module, _govsig.Pkcs11Module):
        return module
    if module is None:
        module = os.environ.get("GOVSIG_PKCS11_MODULE")
        if not module:
            raise Pkcs11ArgumentError("no PKCS#11 module given and GOVSIG_PKCS11_MODULE is not set")
    # Loading a path twice returns the same initialised library (one C_Initialize per process).
    return _govsig.Pkcs11Module.load(os.fspath(module))


def list_tokens(module: StrPath) -> list[TokenInfo]:
    """The tokens present in the module's slots."""
    return [TokenInfo(slot, label, manufacturer, model, serial, dict(flags))
            for slot, label, manufacturer, model, serial, flags in _module(module).tokens()]


class _Secret:
    """Holds a PIN so that a repr or a traceback with locals shows stars, not the PIN."""

    __slots__ = ("_value",)

    def __init__(self, value: Optional[bytes]) -> None:
        self._value = value

    def __repr__(self) -> str:
        return "<PIN ***>"

    __str__ = __repr__

    def reveal(self) -> Optional[bytes]:
        return self._value


def _pin_bytes(pin: Any) -> _Secret:
    """The PIN as bytes, end to end (PKCS#11 C_Login takes bytes; some tokens accept PINs
    that are not UTF-8). Text is encoded as UTF-8 with surrogateescape, which gives back the
    exact bytes of a PIN read from the environment or a terminal that was not UTF-8.

    No exception raised here carries the PIN: an encoding error's ``args`` and ``object``
    hold the whole string, so it is caught and a new error raised outside the ``except``
    block (``raise ... from None`` would still keep it reachable as ``__context__``)."""
    if pin is None:
        return _Secret(None)
    if isinstance(pin, (bytes, bytearray, memoryview)):
        return _Secret(bytes(pin))
    if not isinstance(pin, str):
        raise TypeError(f"pin must be bytes or str (or None for a PIN-pad reader), not {type(pin).__name__}")
    encoded: Optional[bytes] = None
    try:
        encoded = pin.encode("utf-8", "surrogateescape")
    except UnicodeError:
        pass
    if encoded is None:
        raise ValueError("pin is text that cannot be encoded (a lone surrogate); pass the PIN as bytes")
    return _Secret(encoded)


class Token:
    """An open, logged-in token. Use :meth:`open`; a context manager (logs out on exit)."""

    __slots__ = ("_core", "_info", "_signers")

    def __init__(self, core: _govsig.Pkcs11Token) -> None:
        self._core = core
        slot, label, manufacturer, model, serial = core.info
        self._info = TokenInfo(slot, label, manufacturer, model, serial)

    @classmethod
    def open(cls, module: Optional[StrPath], *, token_label: Optional[str] = None,
             slot: Optional[int] = None, pin: Union[bytes, bytearray, str, None]) -> "Token":
        """Load ``module`` (a PKCS#11 library path; ``None`` reads GOVSIG_PKCS11_MODULE), find
        the token by label (else by slot, else the first) and log in with ``pin`` (bytes, or
        text sent as its UTF-8 bytes; ``None`` for a PIN-pad reader)."""
        secret = _pin_bytes(pin)
        del pin
        loaded = _module(module)
        return cls(loaded.open_token(token_label, slot, secret.reveal()))

    @property
    def info(self) -> TokenInfo:
        return self._info

    @property
    def closed(self) -> bool:
        return self._core.closed

    def keys(self) -> list[KeyInfo]:
        """The private signing keys, with their certificates."""
        out = []
        for label, key_id, key_type, bits, cert in self._core.keys():
            out.append(KeyInfo(label, bytes(key_id), key_type,
                               x509.load_der_x509_certificate(bytes(cert)) if cert else None, bits))
        return out

    def signer(self, key_label: Optional[str] = None, key_id: Optional[bytes] = None,
               certificate: Optional[CertificateLike] = None, sessions: int = 4,
               chain: Iterable[CertificateLike] = ()) -> "TokenSigner":
        """A signer for one key (by label and/or id) with a pool of ``sessions`` sessions.
        ``certificate`` replaces the token's certificate for the key (checked against the
        key); ``chain`` is included in signatures after the signer's certificate."""
        if not isinstance(sessions, int) or sessions < 1:
            raise Pkcs11ArgumentError(f"sessions must be a positive int, got {sessions!r}")
        cert_der = None
        if certificate is not None:
            cert_der = _certificate(certificate, "certificate").public_bytes(serialization.Encoding.DER)
        chain_der = [c.public_bytes(serialization.Encoding.DER)
                     for item in chain for c in _certificates(item, "chain")]
        core = self._core.signer(key_label, None if key_id is None else bytes(key_id), cert_der,
                                 chain_der, sessions)
        return TokenSigner(core, self._info)

    def close(self) -> None:
        """Log out. Signers made from this token stop working (NotLoggedInError)."""
        self._core.logout()

    def __enter__(self) -> "Token":
        return self

    def __exit__(self, exc_type: Optional[type[BaseException]], exc: Optional[BaseException],
                 tb: Optional[TracebackType]) -> None:
        try:
            self.close()
        except Pkcs11Error:
            # A token pulled out cannot be logged out of; the error that ended the block
            # (if any) is the one worth reporting.
            if exc is None:
                raise

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return f"Token(label={self._info.label!r}, slot={self._info.slot_id}, {state})"


class TokenSigner:
    """A key on a token, ready for :func:`govsig.sign` / :func:`govsig.sign_many`."""

    __slots__ = ("_core", "_token")

    def __init__(self, core: _govsig.SigningKey, token: TokenInfo) -> None:
        self._core = core
        self._token = token

    @property
    def key_type(self) -> str:
        return self._core.key_type

    @property
    def key_label(self) -> str:
        return (self._core.token_key or ("", b""))[0]

    @property
    def key_id(self) -> bytes:
        return bytes((self._core.token_key or ("", b""))[1])

    @property
    def sessions(self) -> int:
        return self._core.sessions or 1

    @property
    def certificate(self) -> x509.Certificate:
        return x509.load_der_x509_certificate(bytes(self._core.certificate))

    @property
    def token(self) -> TokenInfo:
        return self._token

    def __repr__(self) -> str:
        return (f"TokenSigner(token={self._token.label!r}, key_label={self.key_label!r}, "
                f"key_type={self.key_type!r}, sessions={self.sessions})")
