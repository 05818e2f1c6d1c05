"""Signatures and certificate bundles as users have them (issue 11, item 11): PEM
(``-----BEGIN PKCS7-----``, ``-----BEGIN CMS-----``) and S/MIME (multipart/signed,
application/pkcs7-mime) wherever DER is accepted (verify, verify_many, verify_files, the CLI);
PKCS#7 certs-only bundles (.p7b/.p7c, DER or PEM) as trust anchors and intermediates;
``VerifyResult.content``. S/MIME messages and bundles are made by the openssl CLI."""
from __future__ import annotations

import base64
import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest

import govsig
import pki as P

AT = dt.datetime(2026, 6, 1, tzinfo=dt.timezone.utc)
TEXT = "Tờ trình số 7\nDòng thứ hai\n".encode()


def _pem(label: str, der: bytes) -> bytes:
    b64 = base64.b64encode(der).decode()
    return (f"-----BEGIN {label}-----\n"
            + "".join(b64[i:i + 64] + "\n" for i in range(0, len(b64), 64))
            + f"-----END {label}-----\n").encode()


@pytest.fixture(scope="module")
def verifier(pki) -> govsig.Verifier:
    return govsig.Verifier(govsig.Policy(trust=[r.der for r in pki.roots], at=AT))


def _smime(openssl: str, d: Path, signer: P.Issued, content: bytes, *, detached: bool) -> bytes:
    """An S/MIME message made by `openssl cms -sign` (text mode: the content is signed in
    canonical CRLF form, RFC 8551 §3.1.1)."""
    (d / "in.txt").write_bytes(content)
    (d / "s.pem").write_bytes(signer.pem)
    (d / "k.pem").write_bytes(signer.key_pem)
    cmd = [openssl, "cms", "-sign", "-in", str(d / "in.txt"), "-signer", str(d / "s.pem"),
           "-inkey", str(d / "k.pem"), "-outform", "SMIME", "-out", str(d / "msg.eml")]
    if signer.intermediates:
        (d / "chain.pem").write_bytes(P.pem_bundle(signer.intermediates))
        cmd += ["-certfile", str(d / "chain.pem")]
    if not detached:
        cmd.append("-nodetach")
    subprocess.run(cmd, check=True, capture_output=True, timeout=60)
    return (d / "msg.eml").read_bytes()


def _forms(pki, openssl: str, d: Path) -> dict[str, bytes]:
    leaf = pki.rsa_leaf
    attached = P.sign_cms(TEXT, leaf, detached=False)
    return {
        "pem-pkcs7": _pem("PKCS7", attached),
        "pem-cms": _pem("CMS", attached),
        "smime-signed": _smime(openssl, d, leaf, TEXT, detached=True),
        "smime-opaque": _smime(openssl, d, pki.p256_leaf, TEXT, detached=False),
    }


def test_pem_and_smime_verify(pki, verifier, openssl, tmp_path: Path) -> None:
    for form, data in _forms(pki, openssl, tmp_path).items():
        r = verifier.verify(data)
        assert r.code == "ok", (form, r.reason)
        assert r.input_form == form.replace("pem-pkcs7", "pem").replace("pem-cms", "pem")
        # The content as signed: encapsulated, or the MIME part in canonical CRLF form.
        expected = TEXT if form.startswith("pem") else TEXT.replace(b"\n", b"\r\n")
        assert r.content == expected, form


def test_smime_message_with_lf_line_ends_still_verifies(pki, verifier, openssl,
                                                        tmp_path: Path) -> None:
    # Mail stores and Unix tools keep messages with bare LF; the signed part is canonicalised.
    msg = _smime(openssl, tmp_path, pki.rsa_leaf, TEXT, detached=True)
    lf = msg.replace(b"\r\n", b"\n")
    assert lf != msg
    r = verifier.verify(lf)
    assert r.code == "ok", r.reason
    # And OpenSSL agrees on both forms.
    for m in (msg, lf):
        (tmp_path / "m.eml").write_bytes(m)
        (tmp_path / "ca.pem").write_bytes(pki.rsa_root.pem)
        proc = subprocess.run([openssl, "cms", "-verify", "-in", str(tmp_path / "m.eml"),
                               "-CAfile", str(tmp_path / "ca.pem"), "-purpose", "any",
                               "-attime", str(int(AT.timestamp())), "-out", "/dev/null"],
                              capture_output=True, timeout=60)
        assert proc.returncode == 0, proc.stderr


def test_tampered_smime_content_is_refused(pki, verifier, openssl, tmp_path: Path) -> None:
    msg = _smime(openssl, tmp_path, pki.rsa_leaf, TEXT, detached=True)
    bad = msg.replace("Dòng thứ hai".encode(), "Dòng thứ ba!".encode(), 1)
    assert bad != msg
    r = verifier.verify(bad)
    assert r.code == "digest_mismatch", r.reason
    # Content given beside a multipart/signed message must be the MIME part's.
    r = verifier.verify(msg, b"other")
    assert r.code == "digest_mismatch" and "S/MIME" in r.reason


def test_pem_and_smime_in_bulk_and_files(pki, verifier, openssl, tmp_path: Path) -> None:
    forms = _forms(pki, openssl, tmp_path)
    der = P.sign_cms(TEXT, pki.rsa_leaf, detached=False)
    items = [(der, None)] + [(v, None) for v in forms.values()]
    b = verifier.verify_many(items, threads=2)
    assert list(b.ok) == [True] * len(items), [b[i].reason for i in range(len(b))]
    paths = []
    for name, data in forms.items():
        p = tmp_path / f"{name}.p7m"
        p.write_bytes(data)
        paths.append(p)
    b = verifier.verify_files(paths, threads=2)
    assert list(b.ok) == [True] * len(paths), [b[i].reason for i in range(len(b))]


def test_cli_verifies_pem_and_smime(pki, openssl, tmp_path: Path) -> None:
    forms = _forms(pki, openssl, tmp_path)
    roots = tmp_path / "roots.pem"
    roots.write_bytes(P.pem_bundle(pki.roots))
    for name, data in forms.items():
        f = tmp_path / f"{name}.sig"
        f.write_bytes(data)
        proc = subprocess.run([sys.executable, "-m", "govsig", "verify", str(f), "--trust", str(roots),
                               "--at", AT.isoformat()], capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, (name, proc.stdout, proc.stderr)
        assert ": ok" in proc.stdout


@pytest.mark.parametrize(("data", "says"), [
    (b"-----BEGIN CERTIFICATE-----\nMAMCAQA=\n-----END CERTIFICATE-----\n", "'CERTIFICATE', not a signature"),
    (b"-----BEGIN PKCS7-----\nMIIB\n", "no '-----END PKCS7-----' line"),
    (b"-----BEGIN PKCS7-----\nMII*B\n-----END PKCS7-----\n", "not valid base64"),
    (b"Content-Type: text/plain\r\n\r\nhello\r\n", "'text/plain', not an S/MIME signature"),
    (b"Content-Type: application/pkcs7-mime; smime-type=enveloped-data\r\n\r\nMAMCAQA=\r\n",
     "smime-type=enveloped-data, not signed-data"),
    (b"Content-Type: multipart/signed; boundary=\"b\"\r\n\r\n--b\r\nhello\r\n--b--\r\n", "two parts"),
], ids=["pem-certificate", "pem-truncated", "pem-base64", "mime-text", "mime-enveloped",
        "multipart-one-part"])
def test_malformed_input_gets_a_sentence(verifier, data: bytes, says: str) -> None:
    r = verifier.verify(data)
    assert r.code == "malformed"
    assert says in r.reason
    assert "ParseError" not in r.reason


def test_cli_malformed_input_is_one_line(pki, tmp_path: Path) -> None:
    roots = tmp_path / "roots.pem"
    roots.write_bytes(P.pem_bundle(pki.roots))
    f = tmp_path / "x.p7s"
    f.write_bytes(b"-----BEGIN PKCS7-----\nMIIB\n")
    proc = subprocess.run([sys.executable, "-m", "govsig", "verify", str(f), "--trust", str(roots)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert "malformed" in proc.stdout and "no '-----END PKCS7-----' line" in proc.stdout
    assert "Traceback" not in proc.stderr


# -- content --------------------------------------------------------------------------------


def test_content_of_attached_and_detached(pki, verifier) -> None:
    attached = P.sign_cms(TEXT, pki.p256_leaf, detached=False)
    assert verifier.verify(attached).content == TEXT
    detached = P.sign_cms(TEXT, pki.p256_leaf, detached=True)
    r = verifier.verify(detached, TEXT)
    assert r.ok and r.content is None  # the caller's own content is not handed back
    # Bulk results keep no content: memory stays flat over an archive.
    assert verifier.verify_many([(attached, None)])[0].content is None


# -- PKCS#7 certs-only bundles ---------------------------------------------------------------


def _p7b(openssl: str, d: Path, certs: list[P.Issued], outform: str) -> bytes:
    (d / "certs.pem").write_bytes(P.pem_bundle(certs))
    out = d / f"bundle.{outform}"
    subprocess.run([openssl, "crl2pkcs7", "-nocrl", "-certfile", str(d / "certs.pem"),
                    "-outform", outform, "-out", str(out)], check=True, capture_output=True,
                   timeout=60)
    return out.read_bytes()


@pytest.mark.parametrize("outform", ["DER", "PEM"])
def test_trust_store_from_p7b_bundle(pki, openssl, tmp_path: Path, outform: str) -> None:
    data = _p7b(openssl, tmp_path, pki.roots, outform)
    f = tmp_path / f"roots.p7b"
    f.write_bytes(data)
    ts = govsig.TrustStore.from_files([f])
    assert set(ts.certificates) == {r.der for r in pki.roots}
    d = tmp_path / "dir"
    d.mkdir()
    (d / "roots.p7c").write_bytes(data)
    assert set(govsig.TrustStore.from_dir(d).certificates) == {r.der for r in pki.roots}
    v = govsig.Verifier(govsig.Policy(trust=ts, at=AT))
    assert v.verify(P.sign_cms(TEXT, pki.rsa_leaf, detached=False)).code == "ok"


def test_intermediates_from_p7b_bundle(pki, openssl, tmp_path: Path) -> None:
    bundle = _p7b(openssl, tmp_path, [pki.rsa_intermediate], "DER")
    # The signature carries no chain: the intermediate must come from the bundle.
    sig = P.sign_cms(TEXT, pki.rsa_leaf, detached=False, include_chain=False)
    without = govsig.Verifier(govsig.Policy(trust=[pki.rsa_root.der], at=AT))
    assert without.verify(sig).code == "chain_untrusted"
    with_bundle = govsig.Verifier(govsig.Policy(trust=[pki.rsa_root.der], intermediates=bundle, at=AT))
    assert with_bundle.verify(sig).code == "ok"
    assert with_bundle.verify_certificate(pki.rsa_leaf.der).ok
    assert without.verify_certificate(pki.rsa_leaf.der, intermediates=bundle).ok


def test_broken_bundle_says_why(tmp_path: Path) -> None:
    f = tmp_path / "broken.p7b"
    f.write_bytes(_pem("PKCS7", b"\x30\x0b\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x07\x02"))
    with pytest.raises(ValueError, match="not a PKCS#7 bundle"):
        govsig.TrustStore.from_files([f])
