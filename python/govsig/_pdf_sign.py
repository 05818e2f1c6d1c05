"""Signing PDFs (PAdES B-B, or B-T with a TSA) as an incremental update.

>>> signed = govsig.sign_pdf(pdf_bytes, signer, reason="Approved", tsa="http://tsa.example/")

The update (a new invisible signature field, its signature dictionary with /ByteRange and a
/Contents sized for the CMS, and for a certification /Perms /DocMDP) is written by the Rust
core with lopdf; the CMS is the ordinary govsig signature over the two byte ranges (ESS
signing-certificate-v2, no signingTime: the time is /M). This module reads the file, asks
the TSA (network I/O) and hands the pieces over.
"""
from __future__ import annotations

import datetime as _dt
import os
from typing import Any, Optional, Union

from govsig import _govsig
from govsig._pdf import read_pdf
from govsig._regular import FileTooLarge
from govsig.signing import Digest, _core_of

__all__ = ["sign_pdf", "PdfSigningError"]

# Defined in the compiled module (rust/govsig-py/src/errors.rs); a subclass of SigningError.
# ``kind``: encrypted, malformed, field_exists, invalid_argument, placeholder_too_small.
PdfSigningError = _govsig.PdfSigningError


def _tsa_client(tsa: Any) -> Any:
    if tsa is None:
        return None
    from govsig.timestamps import TsaClient
    if isinstance(tsa, TsaClient):
        return tsa
    if isinstance(tsa, str):
        return TsaClient(tsa)
    raise TypeError(f"tsa must be a govsig.TsaClient, a TSA URL or None, got {type(tsa).__name__}")


def _unix(t: Optional[_dt.datetime]) -> int:
    if t is None:
        return int(_dt.datetime.now(_dt.timezone.utc).timestamp())
    if not isinstance(t, _dt.datetime) or t.tzinfo is None:
        raise TypeError("signing_time must be a timezone-aware datetime")
    return int(t.timestamp() // 1)


def _optional_text(value: Any, what: str) -> Optional[str]:
    if value is None or isinstance(value, str):
        return value
    raise TypeError(f"{what} must be a str or None, got {type(value).__name__}")


def sign_pdf(pdf: Union[bytes, bytearray, memoryview, str, "os.PathLike[str]"], signer: Any, *,
             field: str = "Signature1", reason: Optional[str] = None,
             location: Optional[str] = None, tsa: Any = None, certify: Optional[int] = None,
             name: Optional[str] = None, signing_time: Optional[_dt.datetime] = None,
             digest: Optional[Digest] = None, rsa_pss: bool = False,
             contents_size: Optional[int] = None,
             subfilter: str = "ETSI.CAdES.detached") -> bytes:
    """``pdf`` (bytes or a path) with a new signature, as an incremental update: the original
    bytes come first, unchanged.

    ``signer``: a :class:`govsig.KeySigner` or a PKCS#11 token signer. ``field``: the
    signature field's name: an existing signature field that holds no signature yet, named by
    its fully qualified name (``"parent.child"`` for one under a parent field), is filled; any
    other existing field of that name is refused with ``kind`` ``field_exists``; otherwise a
    new top-level field of that name (no ``.``) is made. ``subfilter``: ``"ETSI.CAdES.detached"`` (PAdES, no
    signingTime attribute) or ``"adbe.pkcs7.detached"`` (a CMS with the signingTime of /M, for
    readers that predate PAdES). ``reason``,
    ``location``, ``name``: /Reason, /Location, /Name. ``tsa``: a :class:`govsig.TsaClient` or
    a TSA URL; the CMS then carries a signature time-stamp (PAdES B-T). ``certify``: None, or
    the DocMDP level 1 (no changes), 2 (form filling and signing) or 3 (also annotations) of a
    certification signature. ``signing_time``: /M (an aware datetime, default now).
    ``contents_size``: bytes reserved for the CMS (default: an estimate from the signer's
    certificates, plus room for a time-stamp token).

    Raises :class:`PdfSigningError` (``kind`` says why) for a PDF that cannot be signed,
    :class:`govsig.SigningError` or a ``govsig.pkcs11`` error for the key, and
    :class:`govsig.TimestampError` when the TSA fails.
    """
    try:
        data = read_pdf(pdf)
    except FileTooLarge as e:
        raise PdfSigningError(str(e), kind="malformed") from None
    core = _core_of(signer)
    client = _tsa_client(tsa)
    if not isinstance(field, str):
        raise TypeError(f"field must be a str, got {type(field).__name__}")
    if not isinstance(subfilter, str):
        raise TypeError(f"subfilter must be a str, got {type(subfilter).__name__}")
    if certify is not None and (isinstance(certify, bool) or not isinstance(certify, int)):
        raise TypeError(f"certify must be None or the DocMDP level 1, 2 or 3, got {certify!r}")
    if certify is not None and certify not in (1, 2, 3):
        raise PdfSigningError(f"certify must be None or the DocMDP level 1, 2 or 3, not {certify}",
                              kind="invalid_argument")
    if contents_size is not None and (isinstance(contents_size, bool) or not isinstance(contents_size, int)
                                      or contents_size <= 0):
        raise PdfSigningError(f"contents_size must be a positive number of bytes, not {contents_size!r}",
                              kind="invalid_argument")
    prepared = _govsig.PdfSigning(
        data, core, field, _optional_text(reason, "reason"), _optional_text(location, "location"),
        _optional_text(name, "name"), certify, _unix(signing_time), contents_size, client is not None,
        subfilter)
    cms: bytes = prepared.sign(digest, bool(rsa_pss))
    if client is not None:
        from govsig.timestamps import add_timestamps
        cms = add_timestamps(cms, client)
    signed: bytes = prepared.finish(cms)
    return signed
