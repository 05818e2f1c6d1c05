"""Certificate input handling: DER, PEM, or ``cryptography`` objects, in any mix."""
from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any, Union

from govsig._pem import CERTIFICATE_LABELS, pem_blocks, pem_body_der, pem_start
from govsig._regular import read_regular_file

CertificateLike = Union[bytes, bytearray, memoryview, str, Any]

def pem_to_ders(data: bytes) -> list[bytes]:
    """Every certificate in a PEM bundle, as DER. Raises ValueError when there is none."""
    out = []
    for _, body in pem_blocks(data, CERTIFICATE_LABELS):
        try:
            der = pem_body_der(body)
        except ValueError as e:
            raise ValueError(f"a PEM certificate block is not valid base64: {e}") from None
        if not der:
            raise ValueError("a PEM certificate block is empty")
        out.append(der)
    if not out:
        raise ValueError("no '-----BEGIN CERTIFICATE-----' block found in the PEM data")
    return out


def bundle_to_ders(data: bytes) -> list[bytes] | None:
    """The certificates of a PKCS#7 certs-only bundle (.p7b/.p7c; DER, BER or PEM), or None
    when ``data`` is not one. The core reads it; a broken bundle raises ValueError saying why."""
    from . import _govsig

    return _govsig.bundle_certificates(data)


def to_ders(obj: Any) -> list[bytes]:
    """One certificate-like object -> its DER certificate(s). A PKCS#7 bundle gives all of
    its certificates."""
    if hasattr(obj, "public_bytes") and hasattr(obj, "serial_number"):
        from cryptography.hazmat.primitives.serialization import Encoding

        return [obj.public_bytes(Encoding.DER)]
    if isinstance(obj, (bytearray, memoryview)):
        obj = bytes(obj)
    if isinstance(obj, str):
        # UTF-8, not ASCII: the text before a PEM block (RFC 7468 §2) may name a subject in
        # any script; the block itself is ASCII either way.
        obj = obj.encode("utf-8")
    if isinstance(obj, bytes):
        bundle = bundle_to_ders(obj)
        if bundle is not None:
            return bundle
        if obj[:1] == b"\x30":
            return [obj]
        start = pem_start(obj)
        if start is None:
            head = f"starts with byte {obj[0]:#04x}" if obj else "is empty"
            raise ValueError(
                f"not a valid X.509 certificate: it {head}, so it is neither DER (a SEQUENCE, "
                "byte 0x30) nor PEM (no line starts with '-----BEGIN ')"
            )
        if start > 0:
            # Text before the block (RFC 7468 §2): the block may still be a PEM PKCS#7 bundle.
            bundle = bundle_to_ders(obj[start:])
            if bundle is not None:
                return bundle
        return pem_to_ders(obj)
    raise TypeError(
        f"expected a certificate as DER/PEM bytes or a cryptography x509.Certificate, got {type(obj).__name__}"
    )


def many_to_ders(objs: Iterable[Any] | None) -> list[bytes]:
    """A collection of certificate-like objects (or one PEM bundle) -> DER list."""
    if objs is None:
        return []
    if isinstance(objs, (bytes, bytearray, memoryview, str)) or hasattr(objs, "public_bytes"):
        return to_ders(objs)
    out: list[bytes] = []
    for o in objs:
        out.extend(to_ders(o))
    return out


#: A certificate file (a trust store's PEM bundle, a .p7b) is read only up to this size: the
#: largest public CA bundles are well under 1 MiB, and a file named by mistake (a disk image,
#: an archive) must be an error, not gigabytes of memory.
CERT_FILE_MAX = 64 << 20


def read_cert_file(path: str | os.PathLike[str]) -> list[bytes]:
    """Certificates in a PEM or DER file (of at most :data:`CERT_FILE_MAX` bytes)."""
    data = read_regular_file(path, "a certificate file", CERT_FILE_MAX)
    try:
        return to_ders(data)
    except ValueError as e:
        raise ValueError(f"{os.fspath(path)}: {e}") from None
