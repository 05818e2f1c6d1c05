"""govsig.Crl: CRLs built with cryptography agree with cryptography's own reading of them;
the NIST PKITS CRLs parse (or fail exactly where PKITS broke them) and verify; malformed
CRLs fail with a specific ValueError; a 100,000-entry CRL answers every look-up."""

from __future__ import annotations

import datetime as dt
import pickle
import random
import re
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import NameOID

import crlgen
from govsig import Crl, RevokedEntry

UTC = dt.timezone.utc
T0 = dt.datetime(2024, 5, 1, 8, 0, 0, tzinfo=UTC)


# ---- a small CA ------------------------------------------------------------------------

def _name(cn: str) -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Ban Cơ yếu Chính phủ"),
        x509.NameAttribute(NameOID.COMMON_NAME, cn),
    ])


def _ca(cn: str, key: ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey) -> bytes:
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(cn)).issuer_name(_name(cn)).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(dt.datetime(2020, 1, 1, tzinfo=UTC))
        .not_valid_after(dt.datetime(2040, 1, 1, tzinfo=UTC))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.DER)


@pytest.fixture(scope="module")
def ca() -> tuple[ec.EllipticCurvePrivateKey, bytes]:
    key = ec.derive_private_key(0x5280_5280_5280, ec.SECP256R1())
    return key, _ca("CA phục vụ các cơ quan Nhà nước", key)


def _builder(issuer: str = "CA phục vụ các cơ quan Nhà nước") -> x509.CertificateRevocationListBuilder:
    return (
        x509.CertificateRevocationListBuilder()
        .issuer_name(_name(issuer))
        .last_update(T0)
        .next_update(T0 + dt.timedelta(days=7))
    )


def _revoked(serial: int, when: dt.datetime = T0, *exts: tuple[x509.ExtensionType, bool]) -> x509.RevokedCertificate:
    b = x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(when)
    for ext, critical in exts:
        b = b.add_extension(ext, critical=critical)
    return b.build()


def _sign(b: x509.CertificateRevocationListBuilder, key: ec.EllipticCurvePrivateKey) -> bytes:
    # RFC 5280 §5.2.3: every v2 CRL carries a cRLNumber; one without is refused as evidence.
    if not any(isinstance(e.value, x509.CRLNumber) for e in b._extensions):
        b = b.add_extension(x509.CRLNumber(1), critical=False)
    return b.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def _rfc4514(name: x509.Name) -> list[str]:
    """cryptography's RFC 4514 string, split into RDNs (govsig separates them with ', ')."""
    return [rdn.rfc4514_string() for rdn in reversed(name.rdns)]


def _reason_name(r: x509.RevokedCertificate) -> str | None:
    try:
        return r.extensions.get_extension_for_class(x509.CRLReason).value.reason.name
    except x509.ExtensionNotFound:
        return None


def _assert_agrees(crl: Crl, der: bytes) -> None:
    """Differential check of everything Crl exposes against cryptography's parse."""
    peer = x509.load_der_x509_crl(der)
    assert crl.issuer_der == peer.issuer.public_bytes()
    assert crl.this_update == peer.last_update_utc
    assert crl.next_update == peer.next_update_utc
    try:
        assert crl.number == peer.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
    except x509.ExtensionNotFound:
        assert crl.number is None
    try:
        base = peer.extensions.get_extension_for_class(x509.DeltaCRLIndicator).value.crl_number
        assert crl.is_delta and crl.delta_base == base
    except x509.ExtensionNotFound:
        assert not crl.is_delta and crl.delta_base is None
    assert crl.der == der
    assert len(crl) == len(peer)
    mine = list(crl)
    for ours, theirs in zip(mine, peer, strict=True):
        assert ours.serial == theirs.serial_number
        assert ours.revocation_date == theirs.revocation_date_utc
        assert ours.reason == _reason_name(theirs)
        try:
            inv = theirs.extensions.get_extension_for_class(x509.InvalidityDate).value.invalidity_date_utc
            assert ours.invalidity_date == inv
        except x509.ExtensionNotFound:
            assert ours.invalidity_date is None
    # Without an issuer, look-up prefers the CRL issuer's entry; check those.
    for ours in mine:
        if ours.certificate_issuer is None:
            assert crl.lookup(ours.serial) == ours


# ---- round trips against cryptography ---------------------------------------------------

ALL_REASONS = [f for f in x509.ReasonFlags]


def test_entries_reasons_and_dates_agree_with_cryptography(ca: tuple[ec.EllipticCurvePrivateKey, bytes]) -> None:
    key, _ = ca
    b = _builder().add_extension(x509.CRLNumber(77), critical=False)
    for i, reason in enumerate(ALL_REASONS):
        b = b.add_revoked_certificate(_revoked(1000 + i, T0 - dt.timedelta(days=i), (x509.CRLReason(reason), False)))
    b = b.add_revoked_certificate(_revoked(
        2**159 - 1, T0, (x509.CRLReason(x509.ReasonFlags.key_compromise), False),
        (x509.InvalidityDate(dt.datetime(2024, 4, 1, 12, 0, 0)), False)))
    b = b.add_revoked_certificate(_revoked(7, T0))  # no reasonCode at all
    der = _sign(b, key)
    crl = Crl.from_der(der)
    _assert_agrees(crl, der)
    assert crl.issuer == "CN=CA phục vụ các cơ quan Nhà nước, O=Ban Cơ yếu Chính phủ, C=VN"
    assert crl.issuer.split(", ") == _rfc4514(x509.load_der_x509_crl(der).issuer)
    assert crl.number == 77 and crl.version == 2
    assert crl.signature_algorithm == "ecdsa-with-SHA256"
    hold = crl.lookup(1000 + ALL_REASONS.index(x509.ReasonFlags.certificate_hold))
    assert hold is not None and hold.reason == "certificate_hold"
    removed = crl.lookup(1000 + ALL_REASONS.index(x509.ReasonFlags.remove_from_crl))
    assert removed is not None and removed.reason == "remove_from_crl"
    big = crl.lookup(2**159 - 1)
    assert big == RevokedEntry(serial=2**159 - 1, revocation_date=T0, reason="key_compromise",
                               invalidity_date=dt.datetime(2024, 4, 1, 12, 0, 0, tzinfo=UTC),
                               certificate_issuer=None)
    assert crl.lookup(8) is None and 7 in crl and 8 not in crl
    assert crl.lookup(-7) is None


def test_delta_crl_and_issuing_distribution_point(ca: tuple[ec.EllipticCurvePrivateKey, bytes]) -> None:
    key, _ = ca
    idp = x509.IssuingDistributionPoint(
        full_name=[x509.UniformResourceIdentifier("http://crl.ca.gov.vn/delta.crl")],
        relative_name=None, only_contains_user_certs=True, only_contains_ca_certs=False,
        only_some_reasons=None, indirect_crl=False, only_contains_attribute_certs=False)
    b = (
        _builder()
        .add_extension(x509.CRLNumber(12), critical=False)
        .add_extension(x509.DeltaCRLIndicator(10), critical=True)
        .add_extension(idp, critical=True)
        .add_revoked_certificate(_revoked(5, T0, (x509.CRLReason(x509.ReasonFlags.remove_from_crl), False)))
        .add_revoked_certificate(_revoked(6, T0, (x509.CRLReason(x509.ReasonFlags.certificate_hold), False)))
    )
    der = _sign(b, key)
    crl = Crl.from_der(der)
    _assert_agrees(crl, der)
    assert crl.is_delta and crl.delta_base == 10 and crl.number == 12
    assert not crl.is_indirect
    assert ("2.5.29.28", True) in crl.extensions and ("2.5.29.27", True) in crl.extensions
    assert "delta CRL #12" in repr(crl)


def test_freshest_crl_locations(ca: tuple[ec.EllipticCurvePrivateKey, bytes]) -> None:
    key, _ = ca
    dp = x509.DistributionPoint(full_name=[x509.UniformResourceIdentifier("http://crl.ca.gov.vn/d.crl")],
                                relative_name=None, reasons=None, crl_issuer=None)
    der = _sign(_builder().add_extension(x509.CRLNumber(1), critical=False)
                .add_extension(x509.FreshestCRL([dp]), critical=False), key)
    assert Crl.from_der(der).freshest_crl == ["http://crl.ca.gov.vn/d.crl"]


def test_indirect_crl_certificate_issuer_runs(ca: tuple[ec.EllipticCurvePrivateKey, bytes]) -> None:
    """RFC 5280 §5.3.3: certificateIssuer holds for the entry and the entries after it."""
    key, _ = ca
    idp = x509.IssuingDistributionPoint(
        full_name=None, relative_name=None, only_contains_user_certs=False, only_contains_ca_certs=False,
        only_some_reasons=None, indirect_crl=True, only_contains_attribute_certs=False)
    other = _name("CA khác")
    b = (
        _builder().add_extension(x509.CRLNumber(3), critical=False).add_extension(idp, critical=True)
        .add_revoked_certificate(_revoked(1, T0))
        .add_revoked_certificate(_revoked(2, T0, (x509.CertificateIssuer([x509.DirectoryName(other)]), True)))
        .add_revoked_certificate(_revoked(3, T0))
        .add_revoked_certificate(_revoked(1, T0 + dt.timedelta(seconds=1)))
    )
    der = _sign(b, key)
    crl = Crl.from_der(der)
    _assert_agrees(crl, der)
    assert crl.is_indirect
    entries = list(crl)
    other_str = ", ".join(_rfc4514(other))
    assert [e.certificate_issuer for e in entries] == [None, other_str, other_str, other_str]
    own = crl.lookup(1, issuer=crl.issuer_der)
    theirs = crl.lookup(1, issuer=other.public_bytes())
    assert own is not None and own.certificate_issuer is None and own.revocation_date == T0
    assert theirs is not None and theirs.certificate_issuer == other_str
    assert crl.lookup(2, issuer=crl.issuer_der) is None
    assert crl.lookup(3, issuer=other.public_bytes()) is not None


# ---- signatures --------------------------------------------------------------------------

def test_signature_verifies_only_with_the_signer(ca: tuple[ec.EllipticCurvePrivateKey, bytes]) -> None:
    key, cert = ca
    crl = Crl.from_der(_sign(_builder().add_revoked_certificate(_revoked(1)), key))
    assert crl.verify_signature(cert) is True
    other_key = ec.derive_private_key(0xBAD_CA, ec.SECP256R1())
    assert crl.verify_signature(_ca("CA phục vụ các cơ quan Nhà nước", other_key)) is False
    assert crl.verify_signature(_ca("Ed25519 CA", ed25519.Ed25519PrivateKey.from_private_bytes(bytes(32)))) is False
    with pytest.raises(ValueError, match="not a valid X.509 certificate"):
        crl.verify_signature(b"\x30\x03\x02\x01\x01")
    tampered = bytearray(crl.der)
    tampered[tampered.index(b"\x02\x01\x01\x17\x0d") + 2] = 2  # entry serial 1 -> 2 (signed part)
    assert Crl.from_der(bytes(tampered)).verify_signature(cert) is False


# ---- value semantics ---------------------------------------------------------------------

def test_immutable_picklable_pem(ca: tuple[ec.EllipticCurvePrivateKey, bytes]) -> None:
    key, _ = ca
    der = _sign(_builder().add_extension(x509.CRLNumber(9), critical=False)
                .add_revoked_certificate(_revoked(42)), key)
    crl = Crl.from_der(der)
    back = pickle.loads(pickle.dumps(crl))
    assert back == crl and hash(back) == hash(crl) and back.der == der and back.lookup(42) == crl.lookup(42)
    with pytest.raises(AttributeError, match="immutable"):
        crl.issuer = "x"  # type: ignore[misc]
    with pytest.raises(TypeError, match="from_der"):
        Crl()
    with pytest.raises(TypeError):
        Crl.from_der("not bytes")  # type: ignore[arg-type]
    pem = x509.load_der_x509_crl(der).public_bytes(serialization.Encoding.PEM)
    assert Crl.from_pem(b"junk before\n" + pem) == crl
    assert Crl.from_pem(pem.decode()) == crl
    assert Crl.from_der(bytearray(der)) == crl
    import hashlib
    assert crl.fingerprint == hashlib.sha256(der).digest()
    with pytest.raises(ValueError, match="no '-----BEGIN X509 CRL-----' block"):
        Crl.from_pem(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")


# ---- bad CRLs: one specific message each --------------------------------------------------

def test_truncated_at_every_offset(ca: tuple[ec.EllipticCurvePrivateKey, bytes]) -> None:
    key, _ = ca
    der = _sign(_builder().add_extension(x509.CRLNumber(1), critical=False)
                .add_revoked_certificate(_revoked(1, T0, (x509.CRLReason(x509.ReasonFlags.superseded), False)))
                .add_revoked_certificate(_revoked(2)), key)
    for cut in range(len(der)):
        with pytest.raises(ValueError, match="truncated"):
            Crl.from_der(der[:cut])
    with pytest.raises(ValueError, match="trailing data"):
        Crl.from_der(der + b"\x00")


def test_random_corruption_never_crashes(ca: tuple[ec.EllipticCurvePrivateKey, bytes]) -> None:
    key, _ = ca
    der = _sign(_builder().add_extension(x509.CRLNumber(1), critical=False)
                .add_revoked_certificate(_revoked(1, T0, (x509.CRLReason(x509.ReasonFlags.superseded), False))), key)
    rng = random.Random(5280)
    refused = 0
    for _ in range(3000):
        d = bytearray(der)
        for _ in range(rng.randint(1, 3)):
            d[rng.randrange(len(d))] = rng.randrange(256)
        try:
            Crl.from_der(bytes(d))
        except ValueError as e:
            refused += 1
            assert str(e)
    assert refused > 0


def test_unknown_critical_crl_extension(ca: tuple[ec.EllipticCurvePrivateKey, bytes]) -> None:
    key, _ = ca
    ext = x509.UnrecognizedExtension(x509.ObjectIdentifier("1.3.6.1.4.1.55555.1"), b"\x05\x00")
    ok = _sign(_builder().add_extension(ext, critical=False), key)
    assert ("1.3.6.1.4.1.55555.1", False) in Crl.from_der(ok).extensions
    bad = _sign(_builder().add_extension(ext, critical=True), key)
    with pytest.raises(ValueError, match=r"unknown critical CRL extension 1\.3\.6\.1\.4\.1\.55555\.1 \(RFC 5280 §5\.2\)"):
        Crl.from_der(bad)


def test_unknown_critical_entry_extension(ca: tuple[ec.EllipticCurvePrivateKey, bytes]) -> None:
    key, _ = ca
    ext = x509.UnrecognizedExtension(x509.ObjectIdentifier("1.3.6.1.4.1.55555.2"), b"\x05\x00")
    bad = _sign(_builder().add_revoked_certificate(_revoked(9, T0, (ext, True))), key)
    with pytest.raises(ValueError, match=r"entry 0 \(serial 09\): unknown critical CRL entry extension 1\.3\.6\.1\.4\.1\.55555\.2"):
        Crl.from_der(bad)


def test_duplicate_entries(ca: tuple[ec.EllipticCurvePrivateKey, bytes]) -> None:
    key, _ = ca
    bad = _sign(_builder().add_revoked_certificate(_revoked(0x1234))
                .add_revoked_certificate(_revoked(0x99))
                .add_revoked_certificate(_revoked(0x1234, T0 + dt.timedelta(days=1))), key)
    with pytest.raises(ValueError, match=r"duplicate entries for serial 1234 of certificate issuer 'CN=CA phục vụ"):
        Crl.from_der(bad)


def test_bad_version(ca: tuple[ec.EllipticCurvePrivateKey, bytes]) -> None:
    key, _ = ca
    der = bytearray(_sign(_builder().add_extension(x509.CRLNumber(1), critical=False), key))
    at = der.index(b"\x02\x01\x01")  # TBSCertList.version v2 (the first INTEGER)
    der[at + 2] = 2
    with pytest.raises(ValueError, match=r"bad version: 3"):
        Crl.from_der(bytes(der))


def test_certificate_issuer_outside_indirect_crl(ca: tuple[ec.EllipticCurvePrivateKey, bytes]) -> None:
    key, _ = ca
    bad = _sign(_builder().add_revoked_certificate(
        _revoked(2, T0, (x509.CertificateIssuer([x509.DirectoryName(_name("CA khác"))]), True))), key)
    with pytest.raises(ValueError, match="certificateIssuer entry extension in a CRL that is not indirect"):
        Crl.from_der(bad)


def test_not_a_crl() -> None:
    with pytest.raises(ValueError, match="CRL is not DER"):
        Crl.from_der(b"\x04\x03abc")


# ---- NIST PKITS ------------------------------------------------------------------------

# CRLs PKITS made unusable on purpose, and the exact refusal.
PKITS_REFUSED = {
    # 4.4.3: the signature BIT STRING's unused-bits octet was changed (OpenSSL: "invalid
    # bit string bits left").
    "BadCRLSignatureCACRL.crl": "signature BIT STRING has unused bits",
    # 4.4.9 / 4.4.10
    "UnknownCRLExtensionCACRL.crl": "unknown critical CRL extension 2.16.840.1.101.2.1.12.2",
    "UnknownCRLEntryExtensionCACRL.crl": "unknown critical CRL entry extension 2.16.840.1.101.2.1.12.2",
}
# CRLs whose issuer name matches no certificate on purpose: the key that signed them.
PKITS_SIGNER_BY_FILE = {
    "BadCRLIssuerNameCACRL.crl": "BadCRLIssuerNameCACert.crt",  # 4.4.8
    "TwoCRLsCABadCRL.crl": "TwoCRLsCACert.crt",  # 4.4.19
}
# Signers govsig refuses to use on their own, by design.
PKITS_SIGNER_UNUSABLE = {
    # A DSA key without parameters (4.1.5) needs its issuer's: the path validator supplies
    # them (PublicKey::from_spki_with_inherited_dsa_params); one certificate alone cannot.
    "DSAParametersInheritedCACRL.crl": "DSA key has no parameters",
}


def _norm_name(name: x509.Name) -> str:
    return " ".join(name.rfc4514_string().lower().split())


@pytest.fixture(scope="module")
def pkits(conformance_dir: Path) -> tuple[dict[str, bytes], dict[str, bytes], dict[str, str]]:
    base = conformance_dir / "pkits"
    crls = {p.name: p.read_bytes() for p in sorted((base / "crls").glob("*.crl"))}
    certs = {p.name: p.read_bytes() for p in sorted((base / "certs").glob("*.crt"))}
    assert len(crls) == 173 and len(certs) == 405
    subjects: dict[str, str] = {}
    import warnings
    for n, d in certs.items():
        try:
            with warnings.catch_warnings():
                # PKITS has negative-serial certificates on purpose.
                warnings.simplefilter("ignore")
                subjects[n] = _norm_name(x509.load_der_x509_certificate(d).subject)
        except ValueError:
            subjects[n] = ""  # cryptography cannot read it (DSA without parameters)
    return crls, certs, subjects


def test_pkits_crls_parse_or_fail_as_designed(pkits: tuple[dict[str, bytes], dict[str, bytes], dict[str, str]]) -> None:
    crls, _, _ = pkits
    parsed = 0
    for name, der in crls.items():
        if name in PKITS_REFUSED:
            with pytest.raises(ValueError, match=re.escape(PKITS_REFUSED[name])):
                Crl.from_der(der)
            continue
        crl = Crl.from_der(der)
        _assert_agrees(crl, der)
        parsed += 1
    assert parsed == 170


def test_pkits_crl_features(pkits: tuple[dict[str, bytes], dict[str, bytes], dict[str, str]]) -> None:
    crls, _, _ = pkits
    delta = Crl.from_der(crls["deltaCRLCA1deltaCRL.crl"])
    base = Crl.from_der(crls["deltaCRLCA1CRL.crl"])
    assert delta.is_delta and not base.is_delta
    assert delta.delta_base is not None and base.number is not None and base.number >= delta.delta_base
    assert Crl.from_der(crls["indirectCRLCA1CRL.crl"]).is_indirect
    # 4.14.30-35: entries after the certificateIssuer extension belong to indirectCRL CA6.
    five = Crl.from_der(crls["indirectCRLCA5CRL.crl"])
    assert five.is_indirect
    assert [e.certificate_issuer for e in five][:2] == [None, "CN=indirectCRL CA6, O=Test Certificates 2011, C=US"]
    ca6 = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
                     x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Test Certificates 2011"),
                     x509.NameAttribute(NameOID.COMMON_NAME, "indirectCRL CA6")]).public_bytes()
    assert five.lookup(2, issuer=ca6) is not None and five.lookup(2, issuer=five.issuer_der) is None
    assert Crl.from_der(crls["GeneralizedTimeCRLnextUpdateCACRL.crl"]).next_update is not None
    neg = Crl.from_der(crls["NegativeSerialNumberCACRL.crl"])
    assert any(e.serial < 0 for e in neg)
    assert all(neg.lookup(e.serial) == e for e in neg)


def test_pkits_crl_signatures(pkits: tuple[dict[str, bytes], dict[str, bytes], dict[str, str]],
                              openssl: str, tmp_path: Path) -> None:
    crls, certs, subjects = pkits
    verified = 0
    for name, der in crls.items():
        if name in PKITS_REFUSED:
            continue
        crl = Crl.from_der(der)
        peer = x509.load_der_x509_crl(der)
        if name in PKITS_SIGNER_BY_FILE:
            candidates = [PKITS_SIGNER_BY_FILE[name]]
        elif name == "DSAParametersInheritedCACRL.crl":
            candidates = ["DSAParametersInheritedCACert.crt"]  # cryptography cannot read it
        else:
            issuer = _norm_name(peer.issuer)
            candidates = [n for n, s in subjects.items() if s == issuer]
        assert candidates, name
        if name in PKITS_SIGNER_UNUSABLE:
            for c in candidates:
                with pytest.raises(ValueError, match=PKITS_SIGNER_UNUSABLE[name]):
                    crl.verify_signature(certs[c], legacy=True)
            continue
        results = {c: crl.verify_signature(certs[c], legacy=True) for c in candidates}
        assert any(results.values()), (name, results)
        for c, ok in results.items():
            # The independent verdict: cryptography for RSA; OpenSSL for DSA (cryptography
            # does not verify DSA CRL signatures).
            if crl.signature_algorithm.startswith("dsa"):
                pem = tmp_path / "ca.pem"
                pem.write_bytes(x509.load_der_x509_certificate(certs[c]).public_bytes(serialization.Encoding.PEM))
                crl_path = tmp_path / "crl.der"
                crl_path.write_bytes(der)
                out = subprocess.run([openssl, "crl", "-inform", "DER", "-in", str(crl_path), "-CAfile", str(pem),
                                      "-noout"], capture_output=True, text=True, timeout=30)
                theirs = "verify OK" in (out.stdout + out.stderr)
            else:
                theirs = peer.is_signature_valid(x509.load_der_x509_certificate(certs[c]).public_key())
            assert ok == theirs, (name, c)
        # And never with the trust anchor's key unless the anchor signed it.
        if "TrustAnchorRootCertificate.crt" not in candidates:
            assert crl.verify_signature(certs["TrustAnchorRootCertificate.crt"], legacy=True) is False, name
        verified += 1
    assert verified == 169  # every PKITS CRL that parses and whose signer key is usable on its own


# ---- a 100,000-entry CRL ---------------------------------------------------------------

@pytest.fixture(scope="module")
def big() -> crlgen.BigCrl:
    return crlgen.big_crl(100_000)


def test_big_crl_every_lookup(big: crlgen.BigCrl) -> None:
    crl = Crl.from_der(big.der)
    assert len(crl) == 100_000 and crl.number == 4242
    assert crl.verify_signature(big.issuer_cert_der)
    lookup = crl.lookup
    names = {1: "key_compromise", 3: "affiliation_changed", 4: "superseded", 5: "cessation_of_operation",
             6: "certificate_hold"}
    for s in big.serials:
        e = lookup(s)
        assert e is not None and e.serial == s
        assert e.reason == (names[big.reasons[s]] if s in big.reasons else None)
    present = set(big.serials)
    rng = random.Random(1)
    absent = [x for x in (rng.getrandbits(159) for _ in range(5000)) if x not in present]
    assert all(lookup(x) is None for x in absent)


def test_big_crl_agrees_with_cryptography(big: crlgen.BigCrl) -> None:
    crl = Crl.from_der(big.der)
    peer = x509.load_der_x509_crl(big.der)
    # Every entry, through cryptography's own iteration ...
    for theirs in peer:
        ours = crl.lookup(theirs.serial_number)
        assert ours is not None
        assert ours.revocation_date == theirs.revocation_date_utc
        assert ours.reason == _reason_name(theirs)
    # ... and its look-up function (a linear scan there, so a sample), hits and misses.
    rng = random.Random(2)
    for s in rng.sample(big.serials, 60) + [rng.getrandbits(150) for _ in range(20)]:
        theirs = peer.get_revoked_certificate_by_serial_number(s)
        ours = crl.lookup(s)
        assert (ours is None) == (theirs is None), s
        if ours is not None and theirs is not None:
            assert (ours.serial, ours.revocation_date) == (theirs.serial_number, theirs.revocation_date_utc)
