"""Reading the PKITS S/MIME messages: the signed MIME entity and its CMS signature."""
from __future__ import annotations

import base64
import re
from pathlib import Path


def load_smime(path: Path) -> tuple[bytes, bytes]:
    """(signed content, CMS DER) of a multipart/signed message (RFC 8551 §3.5.3).

    The signed content is the first body part, MIME headers included, in canonical form
    (CRLF line endings), exactly as it stands between the boundary delimiters.
    """
    raw = path.read_bytes()
    m = re.search(rb'boundary="([^"]+)"', raw)
    if not m:
        raise ValueError(f"{path.name}: no multipart boundary")
    delim = b"--" + m.group(1)
    text = raw.replace(b"\r\n", b"\n")
    parts = text.split(b"\n" + delim)
    # parts[0] = headers + preamble; parts[1] = "\n<first part>"; parts[2] = "\n<signature part>"
    if len(parts) < 3:
        raise ValueError(f"{path.name}: expected two body parts")
    first = parts[1]
    if not first.startswith(b"\n"):
        raise ValueError(f"{path.name}: malformed first part")
    content = first[1:].replace(b"\n", b"\r\n")
    sig_part = parts[2].lstrip(b"\n")
    head, _, body = sig_part.partition(b"\n\n")
    if b"application/pkcs7-signature" not in head and b"application/x-pkcs7-signature" not in head:
        raise ValueError(f"{path.name}: second part is not a PKCS#7 signature")
    cms = base64.b64decode(b"".join(body.split()))
    return content, cms
