"""Deterministic CRLs for tests and benches, written as DER directly.

``cryptography``'s CertificateRevocationListBuilder copies its entry list on every
``add_revoked_certificate`` (quadratic: ~14 s for 100,000 entries), so large CRLs are encoded
here and signed with a ``cryptography`` key; ``cryptography`` still parses them as the oracle.
Small feature-rich CRLs in the tests use the builder itself.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

_ECDSA_SHA256 = bytes.fromhex("300a06082a8648ce3d040302")
_REASON_CODE_OID = bytes.fromhex("0603551d15")
_CRL_NUMBER_OID = bytes.fromhex("0603551d14")


def tlv(tag: int, content: bytes) -> bytes:
    n = len(content)
    if n < 0x80:
        return bytes((tag, n)) + content
    ln = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((tag, 0x80 | len(ln))) + ln + content


def der_int(v: int) -> bytes:
    bits = v.bit_length() if v >= 0 else (~v).bit_length()
    return tlv(0x02, v.to_bytes(bits // 8 + 1, "big", signed=True))


def utc_time(t: dt.datetime) -> bytes:
    return tlv(0x17, t.strftime("%y%m%d%H%M%SZ").encode())


@dataclass(frozen=True)
class BigCrl:
    der: bytes
    serials: list[int]
    reasons: dict[int, int]  # serial -> CRLReason code, for the entries that have one
    issuer_key: ec.EllipticCurvePrivateKey
    issuer_cert_der: bytes


def _issuer(key: ec.EllipticCurvePrivateKey) -> tuple[x509.Name, bytes]:
    name = x509.Name([
        x509.NameAttribute(x509.oid.NameOID.COUNTRY_NAME, "VN"),
        x509.NameAttribute(x509.oid.NameOID.ORGANIZATION_NAME, "Ban Cơ yếu Chính phủ"),
        x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, "CA phục vụ các cơ quan Nhà nước (thử nghiệm)"),
    ])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(0x1234)
        .not_valid_before(dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc))
        .not_valid_after(dt.datetime(2040, 1, 1, tzinfo=dt.timezone.utc))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .sign(key, hashes.SHA256())
    )
    return name, cert.public_bytes(serialization.Encoding.DER)


def big_crl(n: int, seed: int = 5280) -> BigCrl:
    """A v2 CRL with ``n`` entries: random positive serials of 1 to 20 octets (most of
    them 16-20, as CAs issue today), random revocation dates over four years, every third
    entry with a reasonCode."""
    rng = random.Random(seed)
    key = ec.derive_private_key(rng.getrandbits(200) + 1, ec.SECP256R1())
    name, cert_der = _issuer(key)
    serials: list[int] = []
    seen: set[int] = set()
    while len(serials) < n:
        octets = rng.choice((20, 20, 19, 16, 16, 8, 3, 1))
        s = rng.getrandbits(octets * 8 - 1) or 1
        if s not in seen:
            seen.add(s)
            serials.append(s)
    # Revocation dates spread over four years, one per entry, as in a real CA's CRL.
    start = dt.datetime(2020, 3, 1, 0, 0, 0)
    reasons: dict[int, int] = {}
    parts: list[bytes] = []
    for i, s in enumerate(serials):
        when = utc_time(start + dt.timedelta(seconds=rng.randrange(4 * 365 * 86400)))
        if i % 3 == 0:
            code = (1, 4, 5, 6, 3)[i % 5]
            reasons[s] = code
            ext = tlv(0x30, _REASON_CODE_OID + tlv(0x04, tlv(0x0A, bytes((code,)))))
            parts.append(tlv(0x30, der_int(s) + when + tlv(0x30, ext)))
        else:
            parts.append(tlv(0x30, der_int(s) + when))
    exts = tlv(0xA0, tlv(0x30, tlv(0x30, _CRL_NUMBER_OID + tlv(0x04, der_int(4242)))))
    tbs = tlv(0x30, b"".join((
        der_int(1),
        _ECDSA_SHA256,
        name.public_bytes(),
        utc_time(dt.datetime(2024, 3, 1, 9, 0, 0)),
        utc_time(dt.datetime(2024, 3, 8, 9, 0, 0)),
        tlv(0x30, b"".join(parts)),
        exts,
    )))
    sig = key.sign(tbs, ec.ECDSA(hashes.SHA256()))
    der = tlv(0x30, tbs + _ECDSA_SHA256 + tlv(0x03, b"\x00" + sig))
    return BigCrl(der=der, serials=serials, reasons=reasons, issuer_key=key, issuer_cert_der=cert_der)
