"""CMS signing: one document or many, with a software key or a key on a PKCS#11 token.

>>> signer = govsig.KeySigner(private_key, certificate, chain=[intermediate])
>>> signature = govsig.sign(document, signer)                 # detached, DER
>>> signatures = govsig.sign_many(documents, signer)          # all cores, GIL released

Every signature carries the signed attributes contentType, messageDigest, signingTime, ESS
signing-certificate-v2 (RFC 5035) and CMSAlgorithmProtection (RFC 6211). The CMS is built in
the Rust core; this module turns keys and certificates in their many Python forms into the
DER the core takes.
"""
from __future__ import annotations

import datetime as _dt
import os
from collections.abc import Iterable, Sequence
from typing import Any, Literal, Optional, Protocol, Union

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.serialization import pkcs12

from govsig import _govsig
from govsig._pem import is_pem
from govsig._regular import read_regular_file
from govsig._threads import check_threads

__all__ = ["KeySigner", "SigningError", "sign", "sign_many", "CertificateLike"]

CertificateLike = Union[x509.Certificate, bytes, str, "os.PathLike[str]"]
Digest = Literal["sha256", "sha384", "sha512"]
SignerIdentifier = Literal["issuer_serial", "subject_key_identifier"]
IncludedCertificates = Literal["chain", "signer", "none"]


# Defined in the compiled module (rust/govsig-py/src/errors.rs), where the core's signing
# errors map to it; ``kind`` says which failure (``key``, ``certificate``, ...).
SigningError = _govsig.SigningError


class _HasCoreKey(Protocol):
    @property
    def _core(self) -> _govsig.SigningKey: ...


_SUPPORTED_KEYS = (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey, ed25519.Ed25519PrivateKey)


def _read_if_path(value: Any) -> Any:
    if isinstance(value, os.PathLike) or (
        isinstance(value, str) and not is_pem(value.encode("utf-8", "surrogateescape"))
    ):
        return read_regular_file(value, "a key or certificate file")
    if isinstance(value, str):
        return value.encode("ascii")
    return value


def _certificates(value: Any, what: str) -> list[x509.Certificate]:
    """Certificates from a cryptography object, PEM (one or several) or DER bytes, or a path."""
    if isinstance(value, x509.Certificate):
        return [value]
    data = _read_if_path(value)
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"{what}: expected a cryptography Certificate, PEM/DER bytes or a path, "
                        f"got {type(value).__name__}")
    data = bytes(data)
    try:
        if is_pem(data):
            return x509.load_pem_x509_certificates(data)
        return [x509.load_der_x509_certificate(data)]
    except ValueError as exc:
        raise SigningError(f"{what} is not an X.509 certificate in PEM or DER: {exc}", kind="certificate") from None


def _certificate(value: Any, what: str) -> x509.Certificate:
    certs = _certificates(value, what)
    if len(certs) != 1:
        raise SigningError(f"{what}: expected one certificate, found {len(certs)}; pass the "
                           "others as chain", kind="certificate")
    return certs[0]


def _private_key(value: Any, password: Optional[bytes]) -> Any:
    if isinstance(value, _SUPPORTED_KEYS):
        return value
    data = _read_if_path(value)
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError("private_key: expected a cryptography RSA/EC/Ed25519 private key, "
                        f"PEM/DER bytes or a path, got {type(value).__name__}")
    data = bytes(data)
    try:
        if is_pem(data):
            return serialization.load_pem_private_key(data, password)
        return serialization.load_der_private_key(data, password)
    except TypeError as exc:
        # cryptography says "Password was not given but private key is encrypted" and the like.
        raise SigningError(f"private key: {exc}", kind="key") from None
    except ValueError as exc:
        raise SigningError(f"private key could not be read (wrong password, or not PEM/DER "
                           f"PKCS#8, PKCS#1 or SEC 1): {exc}", kind="key") from None


def _der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


class KeySigner:
    """A software private key with its certificate (and the chain to include in signatures).

    ``private_key``: a ``cryptography`` RSA / EC (P-256, P-384, P-521) / Ed25519 private key,
    or PEM / DER bytes (PKCS#8, PKCS#1, SEC 1), or a path to such a file; ``password`` for
    an encrypted one. ``certificate``: a ``cryptography`` certificate, PEM/DER bytes or a
    path. The key is checked against the certificate here, not at the first signature.
    """

    __slots__ = ("_core", "_certificate", "_chain")

    def __init__(self, private_key: Any, certificate: CertificateLike,
                 chain: Iterable[CertificateLike] = (), *, password: Optional[bytes] = None) -> None:
        key = _private_key(private_key, password)
        if not isinstance(key, _SUPPORTED_KEYS):
            raise SigningError(f"govsig signs with RSA, EC and Ed25519 keys, not "
                               f"{type(key).__name__}", kind="unsupported")
        cert = _certificate(certificate, "certificate")
        chain_certs = [c for item in chain for c in _certificates(item, "chain")]
        pkcs8 = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption())
        self._core = _govsig.SigningKey.from_pkcs8(pkcs8, _der(cert), [_der(c) for c in chain_certs])
        self._certificate = cert
        self._chain = tuple(chain_certs)

    @classmethod
    def from_pkcs12(cls, data: Union[bytes, str, "os.PathLike[str]"],
                    password: Optional[bytes] = None) -> "KeySigner":
        """From a PKCS#12 (.p12/.pfx) file or its bytes: its key, certificate and CA chain."""
        raw = _read_if_path(data) if not isinstance(data, bytes) else data
        try:
            key, cert, extra = pkcs12.load_key_and_certificates(raw, password)
        except ValueError as exc:
            raise SigningError(f"PKCS#12 could not be read (wrong password, or not PKCS#12): "
                               f"{exc}", kind="key") from None
        if key is None or cert is None:
            raise SigningError("the PKCS#12 holds no private key with its certificate", kind="key")
        return cls(key, cert, extra or ())

    @property
    def key_type(self) -> str:
        """``rsa``, ``ec_p256``, ``ec_p384``, ``ec_p521`` or ``ed25519``."""
        return self._core.key_type

    @property
    def certificate(self) -> x509.Certificate:
        return self._certificate

    @property
    def chain(self) -> tuple[x509.Certificate, ...]:
        return self._chain

    def __repr__(self) -> str:
        return (f"KeySigner({self.key_type}, subject={self._certificate.subject.rfc4514_string()!r}, "
                f"chain={len(self._chain)})")


def _core_of(signer: Any) -> _govsig.SigningKey:
    core = getattr(signer, "_core", None)
    if not isinstance(core, _govsig.SigningKey):
        raise TypeError(f"signer must be a govsig.KeySigner or a govsig.pkcs11 token signer, "
                        f"got {type(signer).__name__}")
    return core


def _unix(signing_time: Optional[_dt.datetime]) -> Optional[int]:
    if signing_time is None:
        return None
    if not isinstance(signing_time, _dt.datetime):
        raise TypeError(f"signing_time must be a datetime, got {type(signing_time).__name__}")
    if signing_time.tzinfo is None:
        raise ValueError("signing_time must be timezone-aware (e.g. datetime.now(timezone.utc))")
    # CMS times have one-second resolution (RFC 5652 §11.3); fractions are dropped.
    return int(signing_time.timestamp() // 1)


def _content(value: Any) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    raise TypeError(f"content must be bytes, got {type(value).__name__}")


def _common(detached: bool, digest: Optional[str], rsa_pss: bool,
            signing_time: Optional[_dt.datetime], signer_identifier: str, certificates: str,
            content_type: Optional[str], algorithm_protection: bool,
            ) -> tuple[bool, Optional[str], bool, Optional[int], str, str, Optional[str], bool]:
    return (bool(detached), digest, bool(rsa_pss), _unix(signing_time), signer_identifier,
            certificates, content_type, bool(algorithm_protection))


def sign(content: bytes, signer: Any, *, detached: bool = True, digest: Optional[Digest] = None,
         signing_time: Optional[_dt.datetime] = None, rsa_pss: bool = False,
         signer_identifier: SignerIdentifier = "issuer_serial",
         certificates: IncludedCertificates = "chain", content_type: Optional[str] = None,
         algorithm_protection: bool = True, tsa: Any = None) -> bytes:
    """A CMS SignedData (DER) over ``content``.

    ``detached``: leave the content out (write it beside the signature, e.g. ``FILE.p7s``).
    ``digest``: ``sha256`` (default for RSA and P-256), ``sha384`` (default for P-384) or
    ``sha512`` (default for P-521 and Ed25519, which requires it). ``signing_time``: an aware
    datetime, default now. ``rsa_pss``: RSASSA-PSS for RSA keys instead of PKCS#1 v1.5.
    ``signer_identifier``: ``issuer_serial`` or ``subject_key_identifier``. ``certificates``:
    include the signer and its chain (``chain``), the signer only, or ``none``.
    ``content_type``: eContentType as a dotted OID (default id-data). ``tsa``: a
    :class:`govsig.TsaClient`; the signature then carries a signature time-stamp from it
    (RFC 3161 Appendix A, CAdES-B-T), and a TSA failure raises ``TimestampError``.
    """
    core = _core_of(signer)
    _check_tsa(tsa)
    der = _govsig.cms_sign(core, _content(content), *_common(
        detached, digest, rsa_pss, signing_time, signer_identifier, certificates, content_type,
        algorithm_protection))
    if tsa is None:
        return der
    from govsig.timestamps import add_timestamps
    return add_timestamps(der, tsa)


def _check_tsa(tsa: Any) -> None:
    from govsig.timestamps import TsaClient
    if tsa is not None and not isinstance(tsa, TsaClient):
        raise TypeError(f"tsa must be a govsig.TsaClient or None, got {type(tsa).__name__}")


def sign_many(contents: Iterable[bytes], signer: Any, *, detached: bool = True,
              digest: Optional[Digest] = None, signing_time: Optional[_dt.datetime] = None,
              rsa_pss: bool = False, signer_identifier: SignerIdentifier = "issuer_serial",
              certificates: IncludedCertificates = "chain", content_type: Optional[str] = None,
              algorithm_protection: bool = True, threads: Optional[int] = None,
              tsa: Any = None) -> list[bytes]:
    """Signatures over every document, in order, made in parallel with the GIL released.

    ``threads``: default all cores for a software key, one per session for a token key.
    A failure raises the first error (in input order) with a note naming the document; the
    options are those of :func:`sign`, applied to every document; with ``tsa`` each
    signature gets its own signature time-stamp (a few requests to the TSA in flight).
    """
    core = _core_of(signer)
    _check_tsa(tsa)
    check_threads(threads)
    items: Sequence[Any] = contents if isinstance(contents, list) else list(contents)
    for i, item in enumerate(items):
        if not isinstance(item, (bytes, bytearray)):
            raise TypeError(f"contents[{i}] must be bytes, got {type(item).__name__}")
    sigs: list[bytes] = _govsig.cms_sign_many(core, items, *_common(
        detached, digest, rsa_pss, signing_time, signer_identifier, certificates, content_type,
        algorithm_protection), threads=threads)
    if tsa is None:
        return sigs
    from govsig.timestamps import add_timestamps_many
    return add_timestamps_many(sigs, tsa)
