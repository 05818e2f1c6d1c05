"""Certificate building for the generated path-validation scenarios.

Each scenario folder holds a ``generate.py`` that calls these helpers and writes PEM files
beside itself. Everything is deterministic: keys come from ``pki.derive_key`` (seeded P-256),
signatures are deterministic ECDSA (RFC 6979), dates and serials are fixed, so running a
generator twice gives byte-identical files (tests/test_scenarios.py checks that the committed
files are what the script writes).

``pki.make_*`` derive the subject from the name and the key from the seed together; the
scenarios need what they cannot express: one subject with several keys (key rollover), one
key under several issuers (cross-certificates), and forced key identifiers.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import sys
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.name import _ASN1Type
from cryptography.x509.oid import NameOID

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import pki  # noqa: E402  (tests/pki.py: the seeded key derivation)

UTC = dt.timezone.utc
CA_FROM = dt.datetime(2015, 1, 1, tzinfo=UTC)
CA_UNTIL = dt.datetime(2045, 1, 1, tzinfo=UTC)
LEAF_FROM = dt.datetime(2025, 1, 1, tzinfo=UTC)
LEAF_UNTIL = dt.datetime(2030, 1, 1, tzinfo=UTC)
# The validation time every scenario is judged at.
AT = dt.datetime(2026, 3, 1, tzinfo=UTC)


def name(cn: str, org: str = "Trung tâm Chứng thực điện tử thử nghiệm") -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "VN", _type=_ASN1Type.PrintableString),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, org, _type=_ASN1Type.UTF8String),
        x509.NameAttribute(NameOID.COMMON_NAME, cn, _type=_ASN1Type.UTF8String),
    ])


def key(seed: str) -> ec.EllipticCurvePrivateKey:
    k = pki.derive_key("p256", f"scenario|{seed}")
    assert isinstance(k, ec.EllipticCurvePrivateKey)
    return k


def key_id(k: ec.EllipticCurvePrivateKey) -> bytes:
    return x509.SubjectKeyIdentifier.from_public_key(k.public_key()).digest


def serial(label: str) -> int:
    # RFC 5280 §4.1.2.2: positive, at most 20 octets.
    return (int.from_bytes(hashlib.sha256(f"scenario|serial|{label}".encode()).digest()[:19], "big") >> 1) | 1


@dataclass(frozen=True)
class Cert:
    label: str
    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    @property
    def der(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.DER)

    @property
    def pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    @property
    def subject(self) -> x509.Name:
        return self.cert.subject


def issue(
    label: str,
    subject: x509.Name,
    subject_key: ec.EllipticCurvePrivateKey,
    issuer_name: x509.Name,
    issuer_key: ec.EllipticCurvePrivateKey,
    *,
    ca: bool,
    not_before: dt.datetime | None = None,
    not_after: dt.datetime | None = None,
    ski: bytes | None = None,
    aki: bytes | None = None,
) -> Cert:
    """A certificate for ``subject_key`` named ``subject``, signed by ``issuer_key`` under
    ``issuer_name``. SKI defaults to the key's (RFC 5280 §4.2.1.2 method 1), AKI to the
    issuer key's; pass ``ski``/``aki`` to force other key identifiers."""
    nb = not_before or (CA_FROM if ca else LEAF_FROM)
    na = not_after or (CA_UNTIL if ca else LEAF_UNTIL)
    b = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(subject_key.public_key())
        .serial_number(serial(label))
        .not_valid_before(nb)
        .not_valid_after(na)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=not ca, content_commitment=not ca, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=ca, crl_sign=ca,
                encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier(ski if ski is not None else key_id(subject_key)), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier(aki if aki is not None else key_id(issuer_key), None, None),
            critical=False,
        )
    )
    cert = b.sign(issuer_key, hashes.SHA256(), ecdsa_deterministic=True)
    return Cert(label=label, cert=cert, key=subject_key)


def self_signed(label: str, subject: x509.Name, k: ec.EllipticCurvePrivateKey, **kw: object) -> Cert:
    return issue(label, subject, k, subject, k, ca=True, **kw)  # type: ignore[arg-type]


def write(out: Path, files: dict[str, bytes]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for fname, data in sorted(files.items()):
        (out / fname).write_bytes(data)


def out_dir(default: Path) -> Path:
    """``generate.py [OUTDIR]``: the scenario folder itself unless told otherwise."""
    return Path(sys.argv[1]) if len(sys.argv) > 1 else default
