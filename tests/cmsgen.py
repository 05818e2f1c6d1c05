"""Hand-built CMS SignedData for the "CMS as real signers write it" tests (issue 11, items 6-10).

Every field is given as DER so that a test can write what real signers write and the
libraries refuse to: a signature OID in digestAlgorithm, a UTCTime with an offset, repeated
attributes, PKCS#7 v1.5 content that is not an OCTET STRING, several certificates under one
signer identifier. Signatures are real (pyca/cryptography); nothing is read from disk.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from asn1crypto import core as a_core
from asn1crypto import x509 as a_x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

import pki as P

HASHES = {
    "sha256": (hashes.SHA256, "2.16.840.1.101.3.4.2.1"),
    "sha384": (hashes.SHA384, "2.16.840.1.101.3.4.2.2"),
    "sha512": (hashes.SHA512, "2.16.840.1.101.3.4.2.3"),
    "sha3-256": (hashes.SHA3_256, "2.16.840.1.101.3.4.2.8"),
    "sha3-384": (hashes.SHA3_384, "2.16.840.1.101.3.4.2.9"),
    "sha3-512": (hashes.SHA3_512, "2.16.840.1.101.3.4.2.10"),
}
RSA_ENCRYPTION = "1.2.840.113549.1.1.1"
SHA256_WITH_RSA = "1.2.840.113549.1.1.11"
ECDSA_WITH_SHA256 = "1.2.840.10045.4.3.2"
DATA = "1.2.840.113549.1.7.1"
SIGNED_DATA = "1.2.840.113549.1.7.2"
CONTENT_TYPE = "1.2.840.113549.1.9.3"
MESSAGE_DIGEST = "1.2.840.113549.1.9.4"
SIGNING_TIME = "1.2.840.113549.1.9.5"
ALGORITHM_PROTECTION = "1.2.840.113549.1.9.52"
CONTENT_TIMESTAMP = "1.2.840.113549.1.9.16.2.20"
SIGNING_TIME_AT = dt.datetime(2026, 5, 1, 9, 30, tzinfo=dt.timezone.utc)


def tlv(tag: int, body: bytes) -> bytes:
    n = len(body)
    if n < 0x80:
        length = bytes([n])
    else:
        raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
        length = bytes([0x80 | len(raw)]) + raw
    return bytes([tag]) + length + body


def seq(*parts: bytes) -> bytes:
    return tlv(0x30, b"".join(parts))


def der_set(*parts: bytes) -> bytes:
    return tlv(0x31, b"".join(sorted(parts)))  # DER SET OF: sorted encodings (X.690 §11.6)


def oid(dotted: str) -> bytes:
    return a_core.ObjectIdentifier(dotted).dump()


def octets(b: bytes) -> bytes:
    return tlv(0x04, b)


def null() -> bytes:
    return b"\x05\x00"


def integer(n: int) -> bytes:
    return a_core.Integer(n).dump()


def alg(dotted: str, params: bytes | None = None) -> bytes:
    return seq(oid(dotted), params or b"")


def utc_time(text: str) -> bytes:
    return tlv(0x17, text.encode())


def attr(type_oid: str, *values: bytes) -> bytes:
    return seq(oid(type_oid), der_set(*values))


def digest_of(name: str, data: bytes) -> bytes:
    h = hashes.Hash(HASHES[name][0]())
    h.update(data)
    return h.finalize()


def default_attrs(content: bytes, digest: str) -> list[bytes]:
    return [
        attr(CONTENT_TYPE, oid(DATA)),
        attr(SIGNING_TIME, utc_time(SIGNING_TIME_AT.strftime("%y%m%d%H%M%SZ"))),
        attr(MESSAGE_DIGEST, octets(digest_of(digest, content))),
    ]


def signature_alg_for(signer: P.Issued, digest: str, pss: bool = False) -> bytes:
    """The signatureAlgorithm a mainstream signer writes for this key and hash."""
    if signer.key_type.startswith("rsa"):
        if pss:
            h = alg(HASHES[digest][1])
            size = HASHES[digest][0].digest_size
            params = seq(tlv(0xa0, h), tlv(0xa1, alg("1.2.840.113549.1.1.8", h)), tlv(0xa2, integer(size)))
            return alg("1.2.840.113549.1.1.10", params)
        return alg(RSA_ENCRYPTION, null())
    ecdsa = {"sha256": "1.2.840.10045.4.3.2", "sha384": "1.2.840.10045.4.3.3",
             "sha512": "1.2.840.10045.4.3.4", "sha3-256": "2.16.840.1.101.3.4.3.10",
             "sha3-384": "2.16.840.1.101.3.4.3.11", "sha3-512": "2.16.840.1.101.3.4.3.12"}
    return alg(ecdsa[digest])


def raw_sign(signer: P.Issued, data: bytes, digest: str, pss: bool = False) -> bytes:
    h = HASHES[digest][0]()
    key = signer.key
    if isinstance(key, rsa.RSAPrivateKey):
        pad = (padding.PSS(mgf=padding.MGF1(h), salt_length=h.digest_size) if pss
               else padding.PKCS1v15())
        return key.sign(data, pad, h)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return key.sign(data, ec.ECDSA(h, deterministic_signing=True))


def issuer_and_serial(signer: P.Issued) -> bytes:
    c = a_x509.Certificate.load(signer.der)
    return seq(c.issuer.dump(), integer(c.serial_number))


def signer_info(content: bytes, signer: P.Issued, *, digest: str = "sha256",
                digest_alg: bytes | None = None, signature_alg: bytes | None = None,
                attrs: Sequence[bytes] | None = None, pss: bool = False,
                sign_with: P.Issued | None = None) -> bytes:
    """One SignerInfo (version 1, issuerAndSerialNumber of ``signer``), signed by
    ``sign_with`` (default: ``signer``) over the DER SET OF ``attrs`` (default: contentType,
    signingTime, messageDigest)."""
    if attrs is None:
        attrs = default_attrs(content, digest)
    signed = der_set(*attrs)
    sig = raw_sign(sign_with or signer, signed, digest, pss)
    return seq(
        integer(1),
        issuer_and_serial(signer),
        digest_alg or alg(HASHES[digest][1]),
        b"\xa0" + signed[1:],  # [0] IMPLICIT SET OF
        signature_alg or signature_alg_for(signer, digest, pss),
        octets(sig),
    )


def signed_data(infos: Sequence[bytes], certs: Sequence[P.Issued], *, econtent: bytes | None,
                digests: Sequence[str] = ("sha256",), econtent_type: str = DATA) -> bytes:
    """A ContentInfo; ``econtent`` is the full TLV inside eContent [0] (None: detached)."""
    encap = seq(oid(econtent_type), tlv(0xa0, econtent) if econtent is not None else b"")
    cert_bag = tlv(0xa0, b"".join(c.der for c in certs)) if certs else b""
    sd = seq(
        integer(1),
        der_set(*(alg(HASHES[d][1]) for d in digests)),
        encap,
        cert_bag,
        der_set(*infos),
    )
    return seq(oid(SIGNED_DATA), tlv(0xa0, sd))


def attached(content: bytes, signer: P.Issued, **kw: object) -> bytes:
    """An attached SignedData over ``content`` (an OCTET STRING) with the signer's chain."""
    digest = str(kw.get("digest", "sha256"))
    info = signer_info(content, signer, **kw)  # type: ignore[arg-type]
    return signed_data([info], [signer, *signer.intermediates], econtent=octets(content),
                       digests=[digest])
