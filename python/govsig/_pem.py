"""Telling PEM from DER, once, for every reader of certificates, CRLs and keys.

RFC 7468 §2: "Data before the encapsulation boundaries are permitted, and parsers MUST NOT
malfunction when processing such data." `openssl x509 -text` writes the certificate's
description before its PEM block, and CAs publish files made that way; OpenSSL reads them.
A boundary counts only at the start of a line (spaces and tabs before it allowed, as the
lax syntax of §3 does), so a label quoted inside that text, or bytes inside DER, are not
taken for one.
"""
from __future__ import annotations

import re

#: Prefix for a pattern that must start a line: at the start of the data or after CR/LF,
#: optionally indented. Used by every PEM block pattern in the package.
LINE_START = rb"(?<![^\r\n])[ \t]*"

_BEGIN = re.compile(LINE_START + rb"-----BEGIN ")


def pem_start(data: bytes) -> int | None:
    """Where the first PEM block of ``data`` starts (the line that begins "-----BEGIN "),
    or None when ``data`` is not PEM. DER is never PEM: it starts with a SEQUENCE (0x30),
    as does every certificate, CRL, key and PKCS#7 ContentInfo, so binary input that
    happens to hold the boundary text is still read as DER."""
    if data[:1] == b"\x30":
        return None
    m = _BEGIN.search(data)
    return None if m is None else m.start()


def is_pem(data: bytes) -> bool:
    """``data`` holds a PEM block (after any explanatory text) and is not DER."""
    return pem_start(data) is not None


_BLOCK = re.compile(LINE_START + rb"-----BEGIN ([^\r\n-]+)-----(.*?)-----END \1-----", re.S)


def first_block_der(data: bytes) -> bytes | None:
    """The bytes of the first PEM block of ``data``, whatever its label, or None when there
    is no complete block or its base64 is invalid."""
    import base64
    import binascii

    if pem_start(data) is None:
        return None
    m = _BLOCK.search(data)
    if m is None:
        return None
    try:
        return base64.b64decode(b"".join(m.group(2).split()), validate=True)
    except (binascii.Error, ValueError):
        return None
