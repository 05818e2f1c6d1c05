"""Hostile input never panics across the boundary (issue 11, item 12): a caught panic is
`govsig.InternalError` or an `internal_error` result, never `PanicException` and never
`malformed`; reasons name no internal function."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

import govsig
from govsig import Crl, InternalError, Verifier
from govsig import _govsig
from crlgen import tlv, utc_time

UTC = dt.timezone.utc


def _prime(bits: int, rng: random.Random) -> int:
    """A probable prime of exactly `bits` bits (Miller-Rabin, 40 rounds)."""
    while True:
        n = rng.getrandbits(bits) | (1 << (bits - 1)) | 1
        d, r = n - 1, 0
        while d % 2 == 0:
            d, r = d // 2, r + 1
        for _ in range(40):
            x = pow(rng.randrange(2, n - 1), d, n)
            if x in (1, n - 1):
                continue
            for _ in range(r - 1):
                x = pow(x, 2, n)
                if x == n - 1:
                    break
            else:
                break
        else:
            return n


def _rsa512() -> rsa.RSAPrivateKey:
    # cryptography refuses to generate keys this small; an attacker's certificate has one.
    rng = random.Random(5280)
    e = 65537
    while True:
        p, q = _prime(256, rng), _prime(256, rng)
        n = p * q
        if p != q and n.bit_length() == 512 and (p - 1) % e and (q - 1) % e:
            break
    d = pow(e, -1, (p - 1) * (q - 1))
    numbers = rsa.RSAPrivateNumbers(
        p, q, d, d % (p - 1), d % (q - 1), pow(q, -1, p), rsa.RSAPublicNumbers(e, n)
    )
    return numbers.private_key()


def _tiny_ca() -> tuple[rsa.RSAPrivateKey, bytes]:
    key = _rsa512()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "CA with a 512-bit key")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(512)
        .not_valid_before(dt.datetime(2020, 1, 1, tzinfo=UTC))
        .not_valid_after(dt.datetime(2040, 1, 1, tzinfo=UTC))
        .sign(key, hashes.SHA256())
    )
    return key, cert.public_bytes(serialization.Encoding.DER)


# RSASSA-PSS, SHA-512, MGF1-SHA-512, salt length 0: emLen (64) < hLen + 2 for a 512-bit key.
_PSS_SHA512_SALT0 = bytes.fromhex(
    "304106092a864886f70d01010a3034a00f300d06096086480165030402030500"
    "a11c301a06092a864886f70d010108300d06096086480165030402030500a203020100"
)


def test_crl_pss_signature_by_a_key_shorter_than_the_hash_is_false_not_a_panic() -> None:
    key, cert = _tiny_ca()
    n = key.public_key().public_numbers().n
    name = x509.load_der_x509_certificate(cert).subject.public_bytes()
    # A v1 CRL (no version, no extensions): a v2 one would need a cRLNumber to be usable.
    tbs = tlv(0x30, _PSS_SHA512_SALT0 + name
              + utc_time(dt.datetime(2024, 5, 1, tzinfo=UTC)))
    # A signature whose recovered block ends in the 0xbc trailer reaches the length checks.
    s = next(s for s in range(n // 2, n) if pow(s, 65537, n) & 0xFF == 0xBC)
    crl_der = tlv(0x30, tbs + _PSS_SHA512_SALT0 + tlv(0x03, b"\x00" + s.to_bytes(64, "big")))
    crl = Crl.from_der(crl_der)
    assert crl.verify_signature(cert, min_rsa_bits=512) is False


def test_a_caught_panic_is_internal_error_naming_the_operation_only() -> None:
    with pytest.raises(InternalError) as info:
        _govsig._guard_probe()
    message = str(info.value)
    assert message == (
        "internal error in the guard probe (a bug in govsig, please report it); no answer was produced"
    )
    # An ordinary exception (a bulk job's `except Exception` stops it), not PanicException.
    assert isinstance(info.value, RuntimeError) and govsig.InternalError is InternalError
    # The panic's own text (internal paths, input bytes) is never forwarded.
    assert "::" not in message and "deliberate" not in message


def test_internal_error_is_appended_to_the_catalogue() -> None:
    codes = govsig.codes()
    # Its number is stable; codes appended after it (the PDF codes) do not move it.
    assert codes.index("internal_error") == 40
    assert "bug" in dict(govsig.code_descriptions())["internal_error"]


def test_malformed_key_reasons_name_no_internal_type() -> None:
    # The RSAPublicKey's exponent tagged OCTET STRING: the reason is for a person, not a
    # parser's debug text naming Rust types ("RsaPublicKeyAsn1::public_exponent").
    key, cert = _tiny_ca()
    assert cert.count(b"\x02\x03\x01\x00\x01") == 1
    broken = cert.replace(b"\x02\x03\x01\x00\x01", b"\x04\x03\x01\x00\x01")
    crl = Crl.from_der(x509.CertificateRevocationListBuilder()
                       .issuer_name(x509.load_der_x509_certificate(cert).subject)
                       .last_update(dt.datetime(2024, 5, 1, tzinfo=UTC))
                       .next_update(dt.datetime(2024, 6, 1, tzinfo=UTC))
                       .add_extension(x509.CRLNumber(1), critical=False)
                       .sign(key, hashes.SHA256())
                       .public_bytes(serialization.Encoding.DER))
    with pytest.raises(ValueError) as info:
        crl.verify_signature(broken, min_rsa_bits=512)
    assert "RSAPublicKey is not valid DER" in str(info.value)
    assert "::" not in str(info.value) and "Asn1" not in str(info.value), str(info.value)
