"""Telling PEM from DER, once, for every reader of certificates, CRLs and keys.

RFC 7468 §2: "Data before the encapsulation boundaries are permitted, and parsers MUST NOT
malfunction when processing such data." `openssl x509 -text` writes the certificate's
description before its PEM block, and CAs publish files made that way; OpenSSL reads them.
A boundary counts only at the start of a line (spaces and tabs before it allowed, as the
lax syntax of §3 does), so a label quoted inside that text, or bytes inside DER, are not
taken for one.
"""
from __future__ import annotations

import base64
import binascii
import bisect
import re
from collections.abc import Iterator

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


_BEGIN_LABEL = re.compile(LINE_START + rb"-----BEGIN ([^\r\n-]+)-----")
_END_LABEL = re.compile(rb"-----END ([^\r\n-]+)-----")

#: The labels RFC 7468 §5.1 and OpenSSL accept for one certificate.
CERTIFICATE_LABELS = frozenset({b"CERTIFICATE", b"X509 CERTIFICATE", b"TRUSTED CERTIFICATE"})


def pem_blocks(data: bytes, labels: frozenset[bytes] | None = None) -> Iterator[tuple[bytes, bytes]]:
    """``(label, body)`` of each complete PEM block of ``data``, left to right: a BEGIN line
    (see :data:`LINE_START`) up to the first END boundary of the same label after it; with
    ``labels``, only blocks labelled one of them, any of which closes any other (OpenSSL
    reads ``BEGIN X509 CERTIFICATE`` ... ``END CERTIFICATE``). A BEGIN that no END closes is
    passed over.

    Linear in ``len(data)``: END boundaries are indexed once, and each BEGIN finds its END
    by bisection. (A lazy ``BEGIN(.*?)END`` pattern rescans to the end of the data from
    every unclosed BEGIN: 150 KB of them took seconds, a 32 MiB answer hours.)"""
    def key(label: bytes) -> bytes:
        return b"" if labels is not None and label in labels else label

    ends: dict[bytes, tuple[list[int], list[int]]] = {}
    for end in _END_LABEL.finditer(data):
        if labels is None or end.group(1) in labels:
            starts, stops = ends.setdefault(key(end.group(1)), ([], []))
            starts.append(end.start())
            stops.append(end.end())
    pos = 0
    while (m := _BEGIN_LABEL.search(data, pos)) is not None:
        pos = m.end()
        label = m.group(1)
        if labels is not None and label not in labels:
            continue
        starts, stops = ends.get(key(label), ([], []))
        i = bisect.bisect_left(starts, m.end())
        if i < len(starts):
            yield label, data[m.end():starts[i]]
            pos = stops[i]


def pem_body_der(body: bytes) -> bytes:
    """The bytes a PEM block's body encodes (whitespace ignored, strict base64); ValueError
    (binascii.Error) when it is not base64."""
    return base64.b64decode(b"".join(body.split()), validate=True)


def first_block_der(data: bytes) -> bytes | None:
    """The bytes of the first PEM block of ``data``, whatever its label, or None when there
    is no complete block or its base64 is invalid."""
    if pem_start(data) is None:
        return None
    for _, body in pem_blocks(data):
        try:
            return pem_body_der(body)
        except (binascii.Error, ValueError):
            return None
    return None
