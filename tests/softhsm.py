"""A SoftHSM2 token store for the tests (one per test run, under a temp dir): tokens are
made with softhsm2-util, keys generated on the token with pkcs11-tool, certificates issued
by the test CA and stored beside them. SOFTHSM2_CONF is process-wide and read when the module
is first loaded, so every token is made up front by the session fixture in conftest.py."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID

import pki as P

USER_PIN = "739182"
# A PIN that is not UTF-8 (C_Login takes bytes; some tokens accept any), for the token
# "binary-pin".
BINARY_PIN = b"\xff\xfe73\x93"
SO_PIN = "51648273"
WRONG_PIN = "406517"


def module_path() -> str:
    path = os.environ.get("GOVSIG_PKCS11_MODULE", "/usr/lib/softhsm/libsofthsm2.so")
    if not os.path.isfile(path):
        pytest.fail(f"PKCS#11 module not found at {path}: install softhsm2 and opensc "
                    "(apt-get install softhsm2 opensc) or set GOVSIG_PKCS11_MODULE", pytrace=False)
    for tool in ("softhsm2-util", "pkcs11-tool"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} not on PATH (apt-get install softhsm2 opensc)", pytrace=False)
    return path


def _run(cmd: list[str], env: dict[str, str]) -> bytes:
    proc = subprocess.run(cmd, capture_output=True, env=env, timeout=120)
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd[0]} failed ({proc.returncode}): "
                           f"{proc.stdout.decode(errors='replace')}{proc.stderr.decode(errors='replace')}")
    return proc.stdout


def issue(public_key: object, cn: str, issuer: P.Issued) -> x509.Certificate:
    """A signing certificate for a token key, issued by the test CA."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn),
                      x509.NameAttribute(NameOID.COUNTRY_NAME, "VN")])
    issuer_ski = issuer.cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    builder = (x509.CertificateBuilder()
               .subject_name(name)
               .issuer_name(issuer.cert.subject)
               .public_key(public_key)  # type: ignore[arg-type]
               .serial_number(x509.random_serial_number())
               .not_valid_before(P.NOT_BEFORE)
               .not_valid_after(P.NOT_AFTER)
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(x509.KeyUsage(True, True, False, False, False, False, False, False, False),
                              critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)  # type: ignore[arg-type]
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(issuer_ski),
                              critical=False))
    return builder.sign(issuer.key, hashes.SHA256())  # type: ignore[arg-type]


class SoftHsm:
    """A SoftHSM2 token store under ``root``. SOFTHSM2_CONF is set for this process (SoftHSM
    reads it at C_Initialize), so every token is made before the module is first loaded."""

    def __init__(self, root: Path) -> None:
        self.module = module_path()
        self.root = root
        tokens = root / "tokens"
        tokens.mkdir(parents=True)
        self.conf = root / "softhsm2.conf"
        self.conf.write_text(f"directories.tokendir = {tokens}\nobjectstore.backend = file\n"
                             "log.level = ERROR\n")
        os.environ["SOFTHSM2_CONF"] = str(self.conf)
        self.env = {**os.environ, "SOFTHSM2_CONF": str(self.conf)}
        self.certificates: dict[tuple[str, str], x509.Certificate] = {}

    def _p11(self, label: str, *args: str) -> bytes:
        return _run(["pkcs11-tool", "--module", self.module, "--token-label", label, *args], self.env)

    def init_token(self, label: str, pin: str | bytes = USER_PIN) -> None:
        # argv items may be bytes: the PIN reaches softhsm2-util exactly as given.
        _run(["softhsm2-util", "--init-token", "--free", "--label", label, "--so-pin", SO_PIN,
              "--pin", pin], self.env)  # type: ignore[list-item]

    def keypair(self, token: str, key_type: str, key_label: str, key_id: str) -> object:
        """Generate a key pair on the token; return its public key as read back."""
        self._p11(token, "--login", "--pin", USER_PIN, "--keypairgen", "--key-type", key_type,
                  "--id", key_id, "--label", key_label)
        out = self.root / f"{token}-{key_id}.pub.der"
        self._p11(token, "--read-object", "--type", "pubkey", "--id", key_id, "-o", str(out))
        return serialization.load_der_public_key(out.read_bytes())

    def store_certificate(self, token: str, cert: x509.Certificate, key_label: str, key_id: str) -> None:
        path = self.root / f"{token}-{key_id}.crt.der"
        path.write_bytes(cert.public_bytes(serialization.Encoding.DER))
        self._p11(token, "--login", "--pin", USER_PIN, "--write-object", str(path), "--type", "cert",
                  "--id", key_id, "--label", f"{key_label}-cert")
        self.certificates[(token, key_label)] = cert

    def add_key(self, token: str, key_type: str, key_label: str, key_id: str,
                issuer: P.Issued | None) -> None:
        public = self.keypair(token, key_type, key_label, key_id)
        if issuer is not None:
            self.store_certificate(token, issue(public, f"{key_label} on {token}", issuer),
                                   key_label, key_id)

    def vanish(self, label: str) -> None:
        """Move the token's directory away in one rename: SoftHSM's stand-in for pulling a USB
        token out. SoftHSM names the directory by a UUID; token.object holds the label."""
        padded = label.ljust(32).encode()
        for d in (self.root / "tokens").iterdir():
            if padded in (d / "token.object").read_bytes():
                d.rename(self.root / f"removed-{label}")
                return
        raise AssertionError(f"no token directory holds the label {label!r}")


