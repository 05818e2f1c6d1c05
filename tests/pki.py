"""A deterministic test PKI and CMS factory for govsig's tests, benches and demo.

Everything here is derived from seeds: the same (seed, key type) gives the same private key on
every machine, and the same arguments give byte-identical certificates (RSA PKCS#1 v1.5,
deterministic ECDSA per RFC 6979, and Ed25519 are all deterministic signature schemes). Dates
are fixed, never "now", so a test written today still means the same thing in ten years.

CMS SignedData can be produced by three independent engines, so the verifier is tested
against more than one producer's idea of the format:

- ``"cryptography"``: pyca/cryptography's PKCS7SignatureBuilder (RSA and ECDSA only; it always
  stamps signingTime with the current time and identifies signers by issuerAndSerialNumber);
- ``"openssl"``: the ``openssl cms -sign`` command line (adds -keyid, -stream indefinite-length
  BER, Ed25519, several signers with per-signer RSA-PSS);
- ``"native"``: an asn1crypto builder in this file that exposes every knob (fixed signingTime,
  subjectKeyIdentifier signer ids, Ed25519, PSS, a wrong contentType attribute, extra
  attributes), used whenever the other two cannot express the request.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import math
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Union

from asn1crypto import algos as a_algos
from asn1crypto import cms as a_cms
from asn1crypto import core as a_core
from asn1crypto import x509 as a_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.name import _ASN1Type
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

PrivateKey = Union[rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey, ed25519.Ed25519PrivateKey]

KEY_TYPES = ("rsa2048", "rsa3072", "p256", "p384", "p521", "ed25519")

UTC = _dt.timezone.utc
NOT_BEFORE = _dt.datetime(2025, 1, 1, tzinfo=UTC)
NOT_AFTER = _dt.datetime(2035, 1, 1, tzinfo=UTC)
# CAs outlive their leaves so that an expired (2020) or future (2045) leaf is the *only* thing
# wrong in its path: at a time inside the leaf's window the whole path validates.
CA_NOT_BEFORE = _dt.datetime(2015, 1, 1, tzinfo=UTC)
CA_NOT_AFTER = _dt.datetime(2050, 1, 1, tzinfo=UTC)
# A signing time inside every default validity window, for material that must not depend on
# the clock.
SIGNING_TIME = _dt.datetime(2026, 3, 15, 9, 30, 0, tzinfo=UTC)

DEFAULT_SEED = "govsig-test-pki-v1"

_CURVES: dict[str, ec.EllipticCurve] = {
    "p256": ec.SECP256R1(),
    "p384": ec.SECP384R1(),
    "p521": ec.SECP521R1(),
}
# Group orders n of the NIST curves (FIPS 186-5 / SP 800-186 §3.2.1).
_ORDERS = {
    "p256": int("FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551", 16),
    "p384": int("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF"
                "581A0DB248B0A77AECEC196ACCC52973", 16),
    "p521": int("01FF" + "FFFFFFFF" * 7 + "FFFFFFFA51868783BF2F966B7FCC0148F709A5D0"
                "3BB5C9B8899C47AEBB6FB71E91386409", 16),
}
_RSA_BITS = {"rsa2048": 2048, "rsa3072": 3072}

_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha1": hashes.SHA1,
    "sha224": hashes.SHA224,
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
    "sha3-256": hashes.SHA3_256,
    "sha3-384": hashes.SHA3_384,
    "sha3-512": hashes.SHA3_512,
}


class PkiError(Exception):
    """A request this factory cannot satisfy (bad key type, engine that lacks a feature...)."""


# --------------------------------------------------------------------------------------------
# Keys
# --------------------------------------------------------------------------------------------


def _stream(label: str, n: int) -> bytes:
    return hashlib.shake_256(label.encode("utf-8")).digest(n)


_SMALL_PRIMES = [p for p in range(3, 20000, 2) if all(p % d for d in range(3, math.isqrt(p) + 1, 2))]
_PRIMORIAL = math.prod(_SMALL_PRIMES)


def _is_probable_prime(n: int, label: str) -> bool:
    if math.gcd(n, _PRIMORIAL) != 1:
        return n in _SMALL_PRIMES
    d, s = n - 1, 0
    while d % 2 == 0:
        d //= 2
        s += 1
    # FIPS 186-5 Table B.1: 5 Miller-Rabin rounds suffice for 1024/1536-bit candidates built
    # from a uniform stream; we use more because it costs little and primes are cached.
    for i in range(8):
        a = 2 + int.from_bytes(_stream(f"{label}|mr|{i}", 32), "big") % (n - 3)
        x = pow(a, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = x * x % n
            if x == n - 1:
                break
        else:
            return False
    return True


def _det_prime(bits: int, label: str, e: int) -> int:
    counter = 0
    while True:
        raw = int.from_bytes(_stream(f"{label}|{counter}", bits // 8), "big")
        # Top two bits set so that p*q has exactly 2*bits bits; odd.
        cand = raw | (3 << (bits - 2)) | 1
        if math.gcd(cand - 1, e) == 1 and _is_probable_prime(cand, f"{label}|{counter}"):
            return cand
        counter += 1


def _det_rsa(bits: int, label: str) -> rsa.RSAPrivateKey:
    e = 65537
    p = _det_prime(bits // 2, f"{label}|p", e)
    q = _det_prime(bits // 2, f"{label}|q", e)
    if p == q:  # astronomically unlikely with independent labels; refuse rather than emit junk
        raise PkiError(f"degenerate RSA key for {label}")
    if p < q:
        p, q = q, p
    d = pow(e, -1, math.lcm(p - 1, q - 1))
    numbers = rsa.RSAPrivateNumbers(
        p=p,
        q=q,
        d=d,
        dmp1=rsa.rsa_crt_dmp1(d, p),
        dmq1=rsa.rsa_crt_dmq1(d, q),
        iqmp=rsa.rsa_crt_iqmp(p, q),
        public_numbers=rsa.RSAPublicNumbers(e, p * q),
    )
    return numbers.private_key()


def _keycache_dir() -> Path | None:
    env = os.environ.get("GOVSIG_PKI_KEYCACHE")
    if env == "":
        return None
    if env:
        return Path(env)
    return Path(__file__).resolve().parent / ".keycache"


_KEYS: dict[tuple[str, str], PrivateKey] = {}


def derive_key(key_type: str, seed: str) -> PrivateKey:
    """The private key of ``key_type`` for ``seed``; identical on every machine.

    EC keys use ``ec.derive_private_key`` on a scalar hashed from the seed, Ed25519 uses the
    hashed seed as its 32-byte private key, RSA primes are searched deterministically from a
    SHAKE-256 stream (slow in Python, so RSA keys are also cached on disk under
    ``tests/.keycache`` or ``$GOVSIG_PKI_KEYCACHE``; set it empty to disable the cache).
    """
    if key_type not in KEY_TYPES:
        raise PkiError(f"unknown key type {key_type!r}; expected one of {', '.join(KEY_TYPES)}")
    memo = (key_type, seed)
    if memo in _KEYS:
        return _KEYS[memo]
    label = f"govsig-pki|{key_type}|{seed}"
    key: PrivateKey
    if key_type in _CURVES:
        curve = _CURVES[key_type]
        # Reduce a 640-bit hash modulo the group order: the bias is below 2^-100.
        scalar = int.from_bytes(_stream(label, 80), "big") % (_ORDERS[key_type] - 1) + 1
        key = ec.derive_private_key(scalar, curve)
    elif key_type == "ed25519":
        key = ed25519.Ed25519PrivateKey.from_private_bytes(_stream(label, 32))
    else:
        key = _rsa_cached(key_type, label)
    _KEYS[memo] = key
    return key


def _rsa_cached(key_type: str, label: str) -> rsa.RSAPrivateKey:
    cache = _keycache_dir()
    path = None
    if cache is not None:
        path = cache / (hashlib.sha256(label.encode()).hexdigest()[:32] + ".der")
        if path.is_file():
            try:
                loaded = serialization.load_der_private_key(path.read_bytes(), None)
                if isinstance(loaded, rsa.RSAPrivateKey) and loaded.key_size == _RSA_BITS[key_type]:
                    return loaded
            except ValueError:
                pass  # a truncated or foreign file: regenerate and overwrite it
    key = _det_rsa(_RSA_BITS[key_type], label)
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_bytes(
                key.private_bytes(
                    serialization.Encoding.DER,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                )
            )
            os.replace(tmp, path)
        except OSError:
            pass  # a read-only checkout still works, only slower
    return key


def key_type_of(key: PrivateKey) -> str:
    if isinstance(key, rsa.RSAPrivateKey):
        return f"rsa{key.key_size}"
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return {"secp256r1": "p256", "secp384r1": "p384", "secp521r1": "p521"}[key.curve.name]
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return "ed25519"
    raise PkiError(f"unsupported key {type(key).__name__}")


# --------------------------------------------------------------------------------------------
# Certificates
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Issued:
    """A certificate with its private key and the issuer that signed it (None for a root)."""

    name: str
    cert: x509.Certificate
    key: PrivateKey
    key_type: str
    issuer: Issued | None = field(default=None, repr=False)

    @property
    def der(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.DER)

    @property
    def pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    @property
    def key_pem(self) -> bytes:
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    @property
    def is_root(self) -> bool:
        return self.issuer is None

    @property
    def path(self) -> list[Issued]:
        """This certificate, then its issuers up to and including the root."""
        out: list[Issued] = []
        node: Issued | None = self
        while node is not None:
            out.append(node)
            node = node.issuer
        return out

    @property
    def root(self) -> Issued:
        return self.path[-1]

    @property
    def intermediates(self) -> list[Issued]:
        """The CA certificates between this one and the root (both excluded)."""
        return self.path[1:-1]

    @property
    def ski(self) -> bytes | None:
        try:
            return self.cert.extensions.get_extension_for_class(
                x509.SubjectKeyIdentifier
            ).value.digest
        except x509.ExtensionNotFound:
            return None


def vn_name(cn: str, org: str | None = None, ou: str | None = None, locality: str | None = None,
            country: str = "VN") -> x509.Name:
    """A distinguished name whose text attributes are explicitly UTF8String (RFC 5280 §4.1.2.4
    requires UTF8String for new certificates; Vietnamese text needs it anyway); countryName
    stays PrintableString as X.520 mandates."""
    attrs = [x509.NameAttribute(NameOID.COUNTRY_NAME, country, _type=_ASN1Type.PrintableString)]
    if locality:
        attrs.append(x509.NameAttribute(NameOID.LOCALITY_NAME, locality, _type=_ASN1Type.UTF8String))
    if org:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, org, _type=_ASN1Type.UTF8String))
    if ou:
        attrs.append(
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, ou, _type=_ASN1Type.UTF8String)
        )
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, cn, _type=_ASN1Type.UTF8String))
    return x509.Name(attrs)


_KU_FIELDS = (
    "digital_signature",
    "content_commitment",
    "key_encipherment",
    "data_encipherment",
    "key_agreement",
    "key_cert_sign",
    "crl_sign",
    "encipher_only",
    "decipher_only",
)

_EKU_NAMES = {
    "email_protection": ExtendedKeyUsageOID.EMAIL_PROTECTION,
    "client_auth": ExtendedKeyUsageOID.CLIENT_AUTH,
    "server_auth": ExtendedKeyUsageOID.SERVER_AUTH,
    "code_signing": ExtendedKeyUsageOID.CODE_SIGNING,
    "time_stamping": ExtendedKeyUsageOID.TIME_STAMPING,
    "ocsp_signing": ExtendedKeyUsageOID.OCSP_SIGNING,
    "any": ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE,
}


def _key_usage(names: Iterable[str]) -> x509.KeyUsage:
    wanted = set(names)
    unknown = wanted - set(_KU_FIELDS)
    if unknown:
        raise PkiError(f"unknown keyUsage bit(s) {sorted(unknown)}; expected {_KU_FIELDS}")
    flags = {f: f in wanted for f in _KU_FIELDS}
    if not flags["key_agreement"]:
        # cryptography refuses encipher_only/decipher_only without keyAgreement (X.509 says
        # they are undefined otherwise).
        flags["encipher_only"] = flags["decipher_only"] = False
    return x509.KeyUsage(**flags)


def _serial(seed: str, name: str) -> int:
    # RFC 5280 §4.1.2.2: positive, at most 20 octets; 159 bits keeps the DER INTEGER <= 20.
    return (int.from_bytes(_stream(f"govsig-pki|serial|{seed}|{name}", 20), "big") >> 1) | 1


def _cert_sign(builder: x509.CertificateBuilder, issuer_key: PrivateKey) -> x509.Certificate:
    if isinstance(issuer_key, ed25519.Ed25519PrivateKey):
        return builder.sign(issuer_key, None)
    if isinstance(issuer_key, ec.EllipticCurvePrivateKey):
        algo = {"secp256r1": hashes.SHA256(), "secp384r1": hashes.SHA384(),
                "secp521r1": hashes.SHA512()}[issuer_key.curve.name]
        return builder.sign(issuer_key, algo, ecdsa_deterministic=True)
    return builder.sign(issuer_key, hashes.SHA256(), rsa_padding=padding.PKCS1v15())


def _build(
    *,
    name: str,
    subject: x509.Name,
    key: PrivateKey,
    key_type: str,
    issuer: Issued | None,
    seed: str,
    not_before: _dt.datetime,
    not_after: _dt.datetime,
    ca: bool,
    path_len: int | None,
    key_usage: Iterable[str] | None,
    eku: Iterable[str] | None,
    with_ski: bool,
    with_aki: bool,
    basic_constraints: bool = True,
    extra_extensions: Sequence[tuple[x509.ExtensionType, bool]] = (),
) -> Issued:
    pub = key.public_key()
    b = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.cert.subject if issuer else subject)
        .public_key(pub)
        .serial_number(_serial(seed, name))
        .not_valid_before(not_before)
        .not_valid_after(not_after)
    )
    if basic_constraints:
        b = b.add_extension(x509.BasicConstraints(ca=ca, path_length=path_len if ca else None),
                            critical=True)
    if key_usage is not None:
        b = b.add_extension(_key_usage(key_usage), critical=True)
    if eku is not None:
        oids = [_EKU_NAMES[e] if e in _EKU_NAMES else x509.ObjectIdentifier(e) for e in eku]
        b = b.add_extension(x509.ExtendedKeyUsage(oids), critical=False)
    if with_ski:
        b = b.add_extension(x509.SubjectKeyIdentifier.from_public_key(pub), critical=False)
    if with_aki:
        signer_pub = issuer.key.public_key() if issuer else pub
        # RFC 5280 §4.2.1.1: keyIdentifier equal to the issuer's SKI (method 1 of §4.2.1.2).
        b = b.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(signer_pub),
                            critical=False)
    for ext, critical in extra_extensions:
        b = b.add_extension(ext, critical=critical)
    cert = _cert_sign(b, issuer.key if issuer else key)
    return Issued(name=name, cert=cert, key=key, key_type=key_type, issuer=issuer)


def make_root(
    name: str,
    key_type: str = "rsa2048",
    *,
    seed: str | None = None,
    org: str = "Trung tâm Chứng thực điện tử thử nghiệm",
    not_before: _dt.datetime = CA_NOT_BEFORE,
    not_after: _dt.datetime = CA_NOT_AFTER,
    path_len: int | None = None,
    key_usage: Iterable[str] | None = ("key_cert_sign", "crl_sign"),
    with_ski: bool = True,
    with_aki: bool = False,
    extra_extensions: Sequence[tuple[x509.ExtensionType, bool]] = (),
) -> Issued:
    """A self-signed CA. ``seed`` defaults to ``name``: same name and key type, same key."""
    seed = name if seed is None else seed
    key = derive_key(key_type, seed)
    return _build(name=name, subject=vn_name(name, org), key=key, key_type=key_type, issuer=None,
                  seed=seed, not_before=not_before, not_after=not_after, ca=True,
                  path_len=path_len, key_usage=key_usage, eku=None, with_ski=with_ski,
                  with_aki=with_aki, extra_extensions=extra_extensions)


def make_intermediate(
    name: str,
    issuer: Issued,
    key_type: str = "rsa2048",
    *,
    seed: str | None = None,
    org: str = "Trung tâm Chứng thực điện tử thử nghiệm",
    not_before: _dt.datetime = CA_NOT_BEFORE,
    not_after: _dt.datetime = CA_NOT_AFTER,
    path_len: int | None = 0,
    key_usage: Iterable[str] | None = ("key_cert_sign", "crl_sign"),
    with_ski: bool = True,
    with_aki: bool = True,
    basic_constraints: bool = True,
    extra_extensions: Sequence[tuple[x509.ExtensionType, bool]] = (),
) -> Issued:
    """A subordinate CA signed by ``issuer`` (pathLenConstraint ``path_len``, default 0)."""
    seed = name if seed is None else seed
    key = derive_key(key_type, seed)
    return _build(name=name, subject=vn_name(name, org), key=key, key_type=key_type,
                  issuer=issuer, seed=seed, not_before=not_before, not_after=not_after, ca=True,
                  path_len=path_len, key_usage=key_usage, eku=None, with_ski=with_ski,
                  with_aki=with_aki, basic_constraints=basic_constraints,
                  extra_extensions=extra_extensions)


def make_leaf(
    name: str,
    issuer: Issued,
    key_type: str = "rsa2048",
    *,
    seed: str | None = None,
    org: str = "Ủy ban nhân dân tỉnh Hà Giang",
    ou: str | None = None,
    locality: str | None = "Hà Giang",
    key_usage: Iterable[str] | None = ("digital_signature", "content_commitment"),
    eku: Iterable[str] | None = None,
    not_before: _dt.datetime = NOT_BEFORE,
    not_after: _dt.datetime = NOT_AFTER,
    with_ski: bool = True,
    with_aki: bool = True,
    ca: bool = False,
    extra_extensions: Sequence[tuple[x509.ExtensionType, bool]] = (),
    subject: x509.Name | None = None,
) -> Issued:
    """An end-entity signing certificate issued by ``issuer``.

    ``key_usage``/``eku`` take names (``"digital_signature"``, ``"email_protection"``...) or,
    for ``eku``, dotted OIDs; None omits the extension. ``subject`` replaces the name built
    from ``name``/``org``/``ou``/``locality`` (for subjects with UID or other attributes).
    """
    seed = name if seed is None else seed
    key = derive_key(key_type, seed)
    subject = vn_name(name, org, ou, locality) if subject is None else subject
    return _build(name=name, subject=subject, key=key,
                  key_type=key_type, issuer=issuer, seed=seed, not_before=not_before,
                  not_after=not_after, ca=ca, path_len=None, key_usage=key_usage, eku=eku,
                  with_ski=with_ski, with_aki=with_aki, extra_extensions=extra_extensions)


def pem_bundle(certs: Iterable[Issued]) -> bytes:
    return b"".join(c.pem for c in certs)


# --------------------------------------------------------------------------------------------
# CMS SignedData
# --------------------------------------------------------------------------------------------

ENGINES = ("auto", "cryptography", "native", "openssl")


def _hash(digest: str) -> hashes.HashAlgorithm:
    try:
        return _HASHES[digest]()
    except KeyError:
        raise PkiError(f"unknown digest {digest!r}; expected one of {', '.join(_HASHES)}") from None


def _digest_for(signer: Issued, digest: str) -> str:
    # RFC 8419 §3: with signed attributes, Ed25519 signers must use SHA-512 as digestAlgorithm.
    return "sha512" if signer.key_type == "ed25519" else digest


def _cert_bag(signers: Sequence[Issued], include_chain: bool, include_signer_cert: bool,
              extra_certs: Sequence[Issued]) -> list[Issued]:
    out: list[Issued] = []
    seen: set[bytes] = set()

    def add(c: Issued) -> None:
        if c.der not in seen:
            seen.add(c.der)
            out.append(c)

    for s in signers:
        if include_signer_cert:
            add(s)
        if include_chain:
            for ca in s.intermediates:
                add(ca)
    for c in extra_certs:
        add(c)
    return out


def sign_cms(
    content: bytes,
    signer: Issued,
    *,
    detached: bool = True,
    attrs: bool = True,
    digest: str = "sha256",
    include_chain: bool = True,
    include_signer_cert: bool = True,
    extra_certs: Sequence[Issued] = (),
    pss: bool = False,
    extra_signers: Sequence[Issued] = (),
    signing_time: _dt.datetime | None = None,
    ski_sid: bool = False,
    engine: str = "auto",
    stream: bool = False,
    smime_capabilities: bool = False,
    content_type: str = "data",
    attr_content_type: str | None = None,
    extra_attrs: Sequence[a_cms.CMSAttribute] = (),
) -> bytes:
    """CMS SignedData (RFC 5652) over ``content`` as DER bytes (BER when ``stream=True``).

    - ``detached``: omit eContent (the verifier must be given the content).
    - ``attrs``: signed attributes contentType, signingTime, messageDigest (RFC 5652 §11);
      without them the signature is over the content itself.
    - ``include_chain``: embed the signers' intermediates (never the root); the signer
      certificate itself is embedded unless ``include_signer_cert=False``.
    - ``pss``: RSA signers use RSASSA-PSS (salt = digest length, MGF1 with the same hash).
    - ``extra_signers``: more SignerInfos over the same content, same options.
    - ``signing_time``: the signingTime attribute (native engine); None = engine default
      (native: ``SIGNING_TIME``; cryptography/openssl: the current time).
    - ``ski_sid``: identify signers by subjectKeyIdentifier (SignerInfo v3) instead of
      issuerAndSerialNumber.
    - ``engine``: "cryptography", "openssl", "native", or "auto" (cryptography when it can
      express the request, else native).
    - ``stream``: openssl only: indefinite-length BER output (``-stream``).
    - ``content_type``/``attr_content_type``: eContentType, and a different value for the
      contentType attribute to craft a content_type_mismatch (native only).
    """
    if engine not in ENGINES:
        raise PkiError(f"unknown engine {engine!r}; expected one of {', '.join(ENGINES)}")
    signers = [signer, *extra_signers]
    _hash(digest)
    if engine == "auto":
        engine = "cryptography" if _cryptography_can(
            signers, attrs=attrs, signing_time=signing_time, ski_sid=ski_sid, stream=stream,
            content_type=content_type, attr_content_type=attr_content_type,
            extra_attrs=extra_attrs, include_signer_cert=include_signer_cert,
            smime_capabilities=smime_capabilities, digest=digest) else "native"
    if engine == "cryptography":
        why = _cryptography_cannot(
            signers, attrs=attrs, signing_time=signing_time, ski_sid=ski_sid, stream=stream,
            content_type=content_type, attr_content_type=attr_content_type,
            extra_attrs=extra_attrs, include_signer_cert=include_signer_cert,
            smime_capabilities=smime_capabilities, digest=digest)
        if why:
            raise PkiError(f"the cryptography engine cannot {why}; use engine='native'")
        return _sign_cryptography(content, signers, detached=detached, attrs=attrs,
                                  digest=digest, include_chain=include_chain, pss=pss,
                                  extra_certs=extra_certs,
                                  smime_capabilities=smime_capabilities)
    if engine == "openssl":
        if any(s.key_type == "ed25519" for s in signers):
            # OpenSSL 3.0's CMS code asks the EdDSA provider for a digest context and fails
            # ("eddsa_digest_signverify_init: invalid digest"), with or without attributes.
            raise PkiError("openssl 3.0 cannot produce Ed25519 CMS; use engine='native'")
        if signing_time is not None or content_type != "data" or attr_content_type or extra_attrs:
            raise PkiError("the openssl engine cannot set signingTime, eContentType or custom "
                           "attributes; use engine='native'")
        return _sign_openssl(content, signers, detached=detached, attrs=attrs, digest=digest,
                             include_chain=include_chain,
                             include_signer_cert=include_signer_cert, extra_certs=extra_certs,
                             pss=pss, ski_sid=ski_sid, stream=stream,
                             smime_capabilities=smime_capabilities)
    if stream:
        raise PkiError("indefinite-length output is only available with engine='openssl'")
    return _sign_native(content, signers, detached=detached, attrs=attrs, digest=digest,
                        include_chain=include_chain, include_signer_cert=include_signer_cert,
                        extra_certs=extra_certs, pss=pss,
                        signing_time=SIGNING_TIME if signing_time is None else signing_time,
                        ski_sid=ski_sid, content_type=content_type,
                        attr_content_type=attr_content_type, extra_attrs=extra_attrs,
                        smime_capabilities=smime_capabilities)


def _cryptography_cannot(signers: Sequence[Issued], *, attrs: bool, signing_time: object,
                         ski_sid: bool, stream: bool, content_type: str,
                         attr_content_type: str | None, extra_attrs: Sequence[object],
                         include_signer_cert: bool, smime_capabilities: bool,
                         digest: str) -> str | None:
    if any(s.key_type == "ed25519" for s in signers):
        return "sign with Ed25519"
    if signing_time is not None:
        return "set signingTime (it stamps the current time)"
    if ski_sid:
        return "identify signers by subjectKeyIdentifier"
    if stream:
        return "write indefinite-length BER"
    if content_type != "data" or attr_content_type is not None or extra_attrs:
        return "set eContentType or custom signed attributes"
    if not include_signer_cert:
        return "omit only the signer certificate"
    if digest not in ("sha224", "sha256", "sha384", "sha512"):
        return f"use digest {digest}"
    if not attrs and smime_capabilities:
        return "add SMIMECapabilities without signed attributes"
    return None


def _cryptography_can(signers: Sequence[Issued], **kw: object) -> bool:
    return _cryptography_cannot(signers, **kw) is None  # type: ignore[arg-type]


def _rsa_pss(h: hashes.HashAlgorithm) -> padding.PSS:
    return padding.PSS(mgf=padding.MGF1(h), salt_length=h.digest_size)


def _sign_cryptography(content: bytes, signers: Sequence[Issued], *, detached: bool,
                       attrs: bool, digest: str, include_chain: bool, pss: bool,
                       extra_certs: Sequence[Issued], smime_capabilities: bool) -> bytes:
    h = _hash(digest)
    b = pkcs7.PKCS7SignatureBuilder().set_data(content)
    for s in signers:
        pad = _rsa_pss(h) if pss and s.key_type.startswith("rsa") else None
        b = b.add_signer(s.cert, s.key, h, rsa_padding=pad)  # type: ignore[arg-type]
    for c in _cert_bag(signers, include_chain, False, extra_certs):
        b = b.add_certificate(c.cert)
    opts = [pkcs7.PKCS7Options.Binary]
    if detached:
        opts.append(pkcs7.PKCS7Options.DetachedSignature)
    if not attrs:
        opts.append(pkcs7.PKCS7Options.NoAttributes)
    elif not smime_capabilities:
        opts.append(pkcs7.PKCS7Options.NoCapabilities)
    return b.sign(serialization.Encoding.DER, opts)


# -- native (asn1crypto) ------------------------------------------------------------------------

_SIG_OIDS = {
    ("ecdsa", "sha224"): "sha224_ecdsa",
    ("ecdsa", "sha256"): "sha256_ecdsa",
    ("ecdsa", "sha384"): "sha384_ecdsa",
    ("ecdsa", "sha512"): "sha512_ecdsa",
    ("ecdsa", "sha1"): "sha1_ecdsa",
}


def _signature_algorithm(s: Issued, digest: str, pss: bool) -> a_algos.SignedDigestAlgorithm:
    if s.key_type == "ed25519":
        return a_algos.SignedDigestAlgorithm({"algorithm": "ed25519"})
    if s.key_type.startswith("rsa"):
        if pss:
            h = _hash(digest)
            return a_algos.SignedDigestAlgorithm({
                "algorithm": "rsassa_pss",
                "parameters": a_algos.RSASSAPSSParams({
                    "hash_algorithm": {"algorithm": digest},
                    "mask_gen_algorithm": {"algorithm": "mgf1",
                                           "parameters": {"algorithm": digest}},
                    "salt_length": h.digest_size,
                    "trailer_field": "trailer_field_bc",
                }),
            })
        # rsaEncryption, as OpenSSL and most CMS producers write it (RFC 3370 §3.2).
        return a_algos.SignedDigestAlgorithm({"algorithm": "rsassa_pkcs1v15"})
    return a_algos.SignedDigestAlgorithm({"algorithm": _SIG_OIDS[("ecdsa", digest)]})


def _raw_sign(s: Issued, data: bytes, digest: str, pss: bool) -> bytes:
    key = s.key
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key.sign(data)
    h = _hash(digest)
    if isinstance(key, rsa.RSAPrivateKey):
        return key.sign(data, _rsa_pss(h) if pss else padding.PKCS1v15(), h)
    return key.sign(data, ec.ECDSA(h, deterministic_signing=True))


def _sid(s: Issued, ski_sid: bool) -> a_cms.SignerIdentifier:
    if ski_sid:
        ski = s.ski
        if ski is None:
            raise PkiError(f"{s.name!r} has no subjectKeyIdentifier; cannot use ski_sid=True")
        return a_cms.SignerIdentifier({"subject_key_identifier": ski})
    c = a_x509.Certificate.load(s.der)
    return a_cms.SignerIdentifier({"issuer_and_serial_number": {
        "issuer": c.issuer, "serial_number": c.serial_number}})


def _sign_native(content: bytes, signers: Sequence[Issued], *, detached: bool, attrs: bool,
                 digest: str, include_chain: bool, include_signer_cert: bool,
                 extra_certs: Sequence[Issued], pss: bool, signing_time: _dt.datetime,
                 ski_sid: bool, content_type: str, attr_content_type: str | None,
                 extra_attrs: Sequence[a_cms.CMSAttribute],
                 smime_capabilities: bool) -> bytes:
    infos = []
    digest_algs: list[str] = []
    for s in signers:
        d = _digest_for(s, digest)
        if d not in digest_algs:
            digest_algs.append(d)
        h = hashes.Hash(_hash(d))
        h.update(content)
        md = h.finalize()
        info: dict[str, object] = {
            "version": "v3" if ski_sid else "v1",
            "sid": _sid(s, ski_sid),
            "digest_algorithm": {"algorithm": d},
            "signature_algorithm": _signature_algorithm(s, d, pss and s.key_type.startswith("rsa")),
        }
        if attrs:
            items = [
                a_cms.CMSAttribute({"type": "content_type",
                                    "values": [attr_content_type or content_type]}),
                a_cms.CMSAttribute({"type": "signing_time",
                                    "values": [a_cms.Time({"utc_time": signing_time})
                                               if 1950 <= signing_time.year < 2050 else
                                               a_cms.Time({"general_time": signing_time})]}),
                a_cms.CMSAttribute({"type": "message_digest", "values": [md]}),
                *extra_attrs,
            ]
            if smime_capabilities:
                items.append(a_cms.CMSAttribute({
                    "type": "smime_capabilities",
                    "values": [[{"capability_id": "2.16.840.1.101.3.4.1.42"}]]}))
            # DER SET OF: members sorted by their encodings (X.690 §11.6); the signature is
            # over this exact SET OF with its universal tag (RFC 5652 §5.4).
            items.sort(key=lambda a: a.dump())
            signed = a_cms.CMSAttributes(items)
            info["signed_attrs"] = signed
            # Not dump(force=True): that re-encodes values parsed from bytes (a time-stamp
            # token in a content time-stamp attribute) differently from what is embedded.
            to_sign = signed.dump()
            if to_sign[0] != 0x31:
                to_sign = b"\x31" + to_sign[1:]
        else:
            to_sign = content
        info["signature"] = _raw_sign(s, to_sign, d, pss and s.key_type.startswith("rsa"))
        infos.append(a_cms.SignerInfo(info))
    certs = [a_x509.Certificate.load(c.der)
             for c in _cert_bag(signers, include_chain, include_signer_cert, extra_certs)]
    encap: dict[str, object] = {"content_type": content_type}
    if not detached:
        encap["content"] = content
    version = "v3" if (ski_sid or content_type != "data") else "v1"
    sd_fields: dict[str, object] = {
        "version": version,
        "digest_algorithms": [{"algorithm": d} for d in digest_algs],
        "encap_content_info": encap,
        "signer_infos": infos,
    }
    if certs:
        sd_fields["certificates"] = certs
    sd = a_cms.SignedData(sd_fields)
    return a_cms.ContentInfo({"content_type": "signed_data", "content": sd}).dump()


# -- openssl CLI --------------------------------------------------------------------------------


def openssl_binary() -> str:
    exe = shutil.which("openssl")
    if exe is None:
        raise PkiError("the openssl command line tool is not on PATH (Debian: apt-get install "
                       "openssl)")
    return exe


def _sign_openssl(content: bytes, signers: Sequence[Issued], *, detached: bool, attrs: bool,
                  digest: str, include_chain: bool, include_signer_cert: bool,
                  extra_certs: Sequence[Issued], pss: bool, ski_sid: bool, stream: bool,
                  smime_capabilities: bool) -> bytes:
    with tempfile.TemporaryDirectory(prefix="govsig-pki-") as td:
        d = Path(td)
        (d / "content").write_bytes(content)
        cmd = [openssl_binary(), "cms", "-sign", "-binary", "-in", str(d / "content"),
               "-outform", "DER", "-out", str(d / "out.p7")]
        cmd += ["-md", digest]
        for i, s in enumerate(signers):
            (d / f"s{i}.pem").write_bytes(s.pem)
            (d / f"k{i}.pem").write_bytes(s.key_pem)
            cmd += ["-signer", str(d / f"s{i}.pem"), "-inkey", str(d / f"k{i}.pem")]
            # -keyopt applies to the signer just named.
            if pss and s.key_type.startswith("rsa"):
                cmd += ["-keyopt", "rsa_padding_mode:pss", "-keyopt", "rsa_pss_saltlen:digest"]
        bag = _cert_bag(signers, include_chain, False, extra_certs)
        if bag:
            (d / "chain.pem").write_bytes(pem_bundle(bag))
            cmd += ["-certfile", str(d / "chain.pem")]
        if not include_signer_cert:
            if bag:
                raise PkiError("openssl cannot omit the signer certificate but keep others")
            cmd.append("-nocerts")
        if not detached:
            cmd.append("-nodetach")
        if not attrs:
            cmd.append("-noattr")
        elif not smime_capabilities:
            cmd.append("-nosmimecap")
        if ski_sid:
            cmd.append("-keyid")
        if stream:
            cmd.append("-stream")
        proc = subprocess.run(cmd, capture_output=True, timeout=60)
        if proc.returncode != 0:
            raise PkiError(f"openssl cms -sign failed ({proc.returncode}): "
                           f"{proc.stderr.decode(errors='replace').strip()}")
        return (d / "out.p7").read_bytes()


def openssl_verify(cms_der: bytes, ca: Issued | Sequence[Issued], *,
                   content: bytes | None = None, purpose: str = "any",
                   attime: _dt.datetime | None = None,
                   extra: Sequence[str] = ()) -> subprocess.CompletedProcess[bytes]:
    """``openssl cms -verify`` of DER/BER ``cms_der`` against the trust anchor(s) ``ca``.

    Returns the completed process (returncode 0 = OpenSSL accepts); stdout holds the
    encapsulated or detached content OpenSSL verified.
    """
    anchors = [ca] if isinstance(ca, Issued) else list(ca)
    with tempfile.TemporaryDirectory(prefix="govsig-pki-") as td:
        d = Path(td)
        (d / "sig.p7").write_bytes(cms_der)
        (d / "ca.pem").write_bytes(pem_bundle(anchors))
        cmd = [openssl_binary(), "cms", "-verify", "-binary", "-inform", "DER",
               "-in", str(d / "sig.p7"), "-CAfile", str(d / "ca.pem"), "-purpose", purpose,
               "-out", str(d / "out")]
        if content is not None:
            (d / "content").write_bytes(content)
            cmd += ["-content", str(d / "content")]
        if attime is not None:
            cmd += ["-attime", str(int(attime.timestamp()))]
        cmd += list(extra)
        proc = subprocess.run(cmd, capture_output=True, timeout=60)
        out = (d / "out").read_bytes() if (d / "out").exists() else b""
        return subprocess.CompletedProcess(cmd, proc.returncode, out, proc.stderr)


# -- tampering ------------------------------------------------------------------------------


def flip_byte(data: bytes, offset: int, mask: int = 0x01) -> bytes:
    if not 0 <= offset < len(data):
        raise PkiError(f"offset {offset} outside 0..{len(data) - 1}")
    b = bytearray(data)
    b[offset] ^= mask
    return bytes(b)


def tamper_content(content: bytes, offset: int | None = None) -> bytes:
    """``content`` with one bit changed (middle byte by default): a detached signature over
    the original must now fail with digest_mismatch."""
    if not content:
        raise PkiError("cannot tamper with empty content")
    return flip_byte(content, len(content) // 2 if offset is None else offset)


def _unique_offset(haystack: bytes, needle: bytes, what: str) -> int:
    first = haystack.find(needle)
    if first < 0 or haystack.find(needle, first + 1) >= 0:
        raise PkiError(f"cannot locate {what} unambiguously in the CMS bytes")
    return first


def _signer_info(cms_der: bytes, signer_index: int) -> a_cms.SignerInfo:
    ci = a_cms.ContentInfo.load(cms_der)
    infos = ci["content"]["signer_infos"]
    if not 0 <= signer_index < len(infos):
        raise PkiError(f"signer {signer_index} not present ({len(infos)} signer(s))")
    return infos[signer_index]


def tamper_signature(cms_der: bytes, signer_index: int = 0) -> bytes:
    """Flip a bit in the middle of SignerInfo.signature: expect signature_invalid."""
    sig = _signer_info(cms_der, signer_index)["signature"].native
    # Deterministic schemes give identical signatures for a repeated signer: pick the
    # occurrence that belongs to this SignerInfo (they are encoded in order).
    infos = a_cms.ContentInfo.load(cms_der)["content"]["signer_infos"]
    nth = sum(1 for i in range(signer_index) if infos[i]["signature"].native == sig)
    off = -1
    for _ in range(nth + 1):
        off = cms_der.find(sig, off + 1)
        if off < 0:
            raise PkiError("cannot locate the signature value in the CMS bytes")
    return flip_byte(cms_der, off + len(sig) // 2)


def tamper_encapsulated(cms_der: bytes) -> bytes:
    """Flip a bit in the encapsulated content of attached CMS: expect digest_mismatch."""
    ci = a_cms.ContentInfo.load(cms_der)
    econtent = ci["content"]["encap_content_info"]["content"]
    if econtent.native is None:
        raise PkiError("detached CMS has no encapsulated content; use tamper_content")
    data = econtent.native if isinstance(econtent.native, bytes) else econtent.contents
    if not data:
        raise PkiError("encapsulated content is empty; nothing to tamper with")
    # DER keeps the content contiguous; indefinite-length BER may split it into chunks, then
    # the first 64 bytes (inside the first chunk for OpenSSL's 4 KiB chunks) are searched.
    window = data if cms_der.find(data) >= 0 else data[:64]
    off = _unique_offset(cms_der, window, "the encapsulated content")
    return flip_byte(cms_der, off + len(window) // 2)


def tamper_signed_attrs(cms_der: bytes, signer_index: int = 0,
                        attr: str = "signing_time") -> bytes:
    """Change one signed attribute's value in place, keeping the structure valid.

    - ``"signing_time"``: the last seconds digit of signingTime XOR 1 (still a digit, still a
      valid time): the attributes no longer match the signature, expect signature_invalid.
    - ``"message_digest"``: a bit of messageDigest. Both the digest and the signature over the
      attributes now fail: digest_mismatch for a verifier that compares the digest first
      (govsig's documented order), signature_invalid otherwise (OpenSSL's order).
    - ``"content_type"``: contentType id-data (1.2.840.113549.1.7.1) becomes ...7.2; the
      signature fails too. For a mismatch under a *valid* signature use
      ``sign_cms(..., engine="native", attr_content_type=...)``.
    """
    si = _signer_info(cms_der, signer_index)
    signed = si["signed_attrs"]
    if not len(signed):
        raise PkiError("this SignerInfo has no signed attributes")
    attrs_der = signed.dump()
    base = _unique_offset(cms_der, attrs_der[2:], "the signed attributes")
    for a in signed:
        if a["type"].native != attr:
            continue
        value = a["values"][0]
        vder = value.dump()
        rel = _unique_offset(attrs_der[2:], vder, f"the {attr} attribute")
        start = base + rel
        if attr == "signing_time":
            # UTCTime 'YYMMDDHHMMSSZ' / GeneralizedTime '...SSZ': the byte before 'Z'.
            end = start + len(vder) - 1
            if cms_der[end] != ord("Z"):
                raise PkiError("signingTime is not in the Z form; cannot tamper safely")
            return flip_byte(cms_der, end - 1)
        if attr == "message_digest":
            return flip_byte(cms_der, start + len(vder) - 1)
        if attr == "content_type":
            return flip_byte(cms_der, start + len(vder) - 1, mask=0x03)
        raise PkiError(f"no tamper rule for attribute {attr!r}")
    raise PkiError(f"attribute {attr!r} not among the signed attributes")
