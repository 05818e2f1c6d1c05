"""Shared fixtures: a deterministic test PKI, its PEM files, the conformance corpus, openssl."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

import pki as _pki

# pyHanko adds names (signing_certificate_v2, ...) to asn1crypto's OID tables when imported;
# asn1crypto builds its reverse tables on first use and never again, so a test that used them
# before pyHanko was imported would leave pyHanko unable to encode its own attributes.
# Importing it first makes the suite independent of test order.
import warnings  # noqa: E402

with warnings.catch_warnings():
    # pyHanko's import touches cryptography's deprecated DSA names.
    warnings.simplefilter("ignore")
    import pyhanko.sign.general  # noqa: F401,E402


@dataclass(frozen=True)
class StandardPki:
    """The session's standard certificates. Every leaf chains to one of the roots here."""

    rsa_root: _pki.Issued          # RSA-2048 root
    rsa_intermediate: _pki.Issued  # RSA-2048, signed by rsa_root, pathLen 0
    rsa_leaf: _pki.Issued          # RSA-2048 "Nguyễn Văn An", rsa_root -> rsa_intermediate -> leaf
    rsa3072_leaf: _pki.Issued      # RSA-3072, under rsa_intermediate
    p256_root: _pki.Issued         # P-256 root
    p256_leaf: _pki.Issued         # P-256, directly under p256_root (2-level chain)
    p384_leaf: _pki.Issued         # P-384, under p256_root
    p521_leaf: _pki.Issued         # P-521, under p256_root
    ed25519_leaf: _pki.Issued      # Ed25519, under p256_root
    expired_leaf: _pki.Issued      # RSA-2048 under rsa_intermediate, valid 2020-01-01..2021-01-01
    not_yet_valid_leaf: _pki.Issued  # RSA-2048 under rsa_intermediate, valid 2045-01-01..2049-01-01 (CAs: 2015..2050)
    keycertsign_leaf: _pki.Issued  # P-256 under p256_root, keyUsage = keyCertSign only
    no_ski_leaf: _pki.Issued       # P-256 under p256_root, no subjectKeyIdentifier

    @property
    def roots(self) -> list[_pki.Issued]:
        return [self.rsa_root, self.p256_root]

    @property
    def leaves(self) -> dict[str, _pki.Issued]:
        """The leaves that are valid for signing today (one per key type)."""
        return {
            "rsa2048": self.rsa_leaf,
            "rsa3072": self.rsa3072_leaf,
            "p256": self.p256_leaf,
            "p384": self.p384_leaf,
            "p521": self.p521_leaf,
            "ed25519": self.ed25519_leaf,
        }


def build_standard_pki() -> StandardPki:
    rsa_root = _pki.make_root("Root CA RSA thử nghiệm", "rsa2048")
    rsa_int = _pki.make_intermediate("CA ký số chuyên dùng thử nghiệm", rsa_root, "rsa2048")
    p256_root = _pki.make_root("Root CA ECC thử nghiệm", "p256")
    return StandardPki(
        rsa_root=rsa_root,
        rsa_intermediate=rsa_int,
        rsa_leaf=_pki.make_leaf("Nguyễn Văn An", rsa_int, "rsa2048"),
        rsa3072_leaf=_pki.make_leaf("Phạm Thị Dung", rsa_int, "rsa3072",
                                    org="Sở Tư pháp tỉnh Hà Giang"),
        p256_root=p256_root,
        p256_leaf=_pki.make_leaf("Trần Thị Bình", p256_root, "p256"),
        p384_leaf=_pki.make_leaf("Lê Văn Cường", p256_root, "p384"),
        p521_leaf=_pki.make_leaf("Hoàng Văn Đức", p256_root, "p521"),
        ed25519_leaf=_pki.make_leaf("Vũ Thị Hạnh", p256_root, "ed25519"),
        expired_leaf=_pki.make_leaf(
            "Đỗ Văn Hùng (hết hạn)", rsa_int, "rsa2048",
            not_before=dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc),
            not_after=dt.datetime(2021, 1, 1, tzinfo=dt.timezone.utc)),
        not_yet_valid_leaf=_pki.make_leaf(
            "Bùi Thị Lan (chưa hiệu lực)", rsa_int, "rsa2048",
            not_before=dt.datetime(2045, 1, 1, tzinfo=dt.timezone.utc),
            not_after=dt.datetime(2049, 1, 1, tzinfo=dt.timezone.utc)),
        keycertsign_leaf=_pki.make_leaf("Ngô Văn Minh", p256_root, "p256",
                                        key_usage=("key_cert_sign",)),
        no_ski_leaf=_pki.make_leaf("Đặng Thị Ngọc", p256_root, "p256", with_ski=False),
    )


@pytest.fixture(scope="session")
def pki() -> StandardPki:
    return build_standard_pki()


@pytest.fixture(scope="session")
def tmp_pki_dir(pki: StandardPki, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The standard PKI as files: ``<name>.pem`` (certificate) and ``<name>.key.pem`` for every
    field of :class:`StandardPki`, plus ``roots.pem`` (both roots) and ``intermediates.pem``."""
    d = tmp_path_factory.mktemp("pki")
    for name in StandardPki.__dataclass_fields__:
        item: _pki.Issued = getattr(pki, name)
        (d / f"{name}.pem").write_bytes(item.pem)
        (d / f"{name}.key.pem").write_bytes(item.key_pem)
    (d / "roots.pem").write_bytes(_pki.pem_bundle(pki.roots))
    (d / "intermediates.pem").write_bytes(pki.rsa_intermediate.pem)
    return d


@pytest.fixture(scope="session")
def conformance_dir() -> Path:
    """The conformance corpus shipped in the repository (tests/conformance: pkits/,
    wycheproof/; sources and licences in its README). A missing corpus fails the test."""
    d = Path(__file__).resolve().parent / "conformance"
    if not ((d / "pkits").is_dir() and (d / "wycheproof").is_dir()):
        pytest.fail(f"conformance corpus missing at {d}: it ships with the repository", pytrace=False)
    return d


@pytest.fixture(scope="session")
def openssl() -> str:
    """Path of the openssl CLI (3.0 or newer). A missing tool fails the test, never skips."""
    exe = shutil.which("openssl")
    if exe is None:
        pytest.fail("openssl CLI not on PATH (Debian: apt-get install openssl)", pytrace=False)
    out = subprocess.run([exe, "version"], capture_output=True, text=True, timeout=30).stdout
    parts = out.split()
    major = int(parts[1].split(".")[0]) if len(parts) > 1 and parts[1][:1].isdigit() else 0
    if parts[:1] != ["OpenSSL"] or major < 3:
        pytest.fail(f"need OpenSSL >= 3.0 for cms -keyopt/-keyid, found: {out.strip()}",
                    pytrace=False)
    return exe


@pytest.fixture(scope="session")
def hsm(pki: StandardPki, tmp_path_factory: pytest.TempPathFactory):
    """The run's SoftHSM2 tokens (see tests/softhsm.py), made before the module is loaded."""
    from softhsm import BINARY_PIN, SoftHsm

    h = SoftHsm(tmp_path_factory.mktemp("softhsm"))
    h.init_token("govsig-test")
    h.add_key("govsig-test", "rsa:2048", "rsa-key", "01", pki.rsa_intermediate)
    h.add_key("govsig-test", "EC:prime256v1", "p256-key", "02", pki.p256_root)
    h.add_key("govsig-test", "EC:prime256v1", "nocert-key", "03", None)
    h.init_token("pin-test")
    h.add_key("pin-test", "EC:prime256v1", "p256-key", "02", pki.p256_root)
    h.init_token("removable")
    h.add_key("removable", "EC:prime256v1", "p256-key", "02", pki.p256_root)
    h.init_token("binary-pin", pin=BINARY_PIN)
    # The README's example token.
    h.init_token("UBND")
    h.add_key("UBND", "EC:prime256v1", "ky-so", "04", pki.p256_root)
    return h
