"""``govsig verify --revocation``: the single-document command checks revocation with the same
options as verify-archive (one shared parser, govsig._cli_revocation): a CRL file, a CRL
fetched from a loopback server named by the certificate's CDP, and the mistakes an operator
makes with them (one line, exit status 2)."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding

import pki as P
from archive_util import CONTENT, run
from http_servers import LoopbackServer

UTC = dt.timezone.utc
NOW = dt.datetime.now(UTC)


def _crl(issuer: P.Issued, revoked: tuple[int, ...] = (), number: int = 3) -> bytes:
    b = (x509.CertificateRevocationListBuilder().issuer_name(issuer.cert.subject)
         .last_update(NOW - dt.timedelta(hours=1)).next_update(NOW + dt.timedelta(days=7))
         .add_extension(x509.CRLNumber(number), critical=False))
    for serial in revoked:
        b = b.add_revoked_certificate(x509.RevokedCertificateBuilder().serial_number(serial)
                                      .revocation_date(NOW - dt.timedelta(days=1)).build())
    return b.sign(issuer.key, hashes.SHA256()).public_bytes(Encoding.DER)


def _cdp(url: str) -> tuple[x509.ExtensionType, bool]:
    return x509.CRLDistributionPoints(
        [x509.DistributionPoint([x509.UniformResourceIdentifier(url)], None, None, None)]), False


def test_verify_with_a_crl_file_finds_the_revoked_signer(tmp_path: Path) -> None:
    root = P.make_root("Root CA xác minh đơn", "p256", seed="verify-rev-root")
    good = P.make_leaf("Người ký còn hiệu lực", root, "p256", seed="verify-rev-good")
    bad = P.make_leaf("Người ký đã bị thu hồi", root, "p256", seed="verify-rev-bad")
    (tmp_path / "root.pem").write_bytes(root.pem)
    (tmp_path / "root.crl").write_bytes(_crl(root, (bad.cert.serial_number,)))
    (tmp_path / "good.p7m").write_bytes(P.sign_cms(CONTENT, good, detached=False))
    (tmp_path / "bad.p7m").write_bytes(P.sign_cms(CONTENT, bad, detached=False))
    trust = ["--trust", str(tmp_path / "root.pem")]
    crl = ["--crl", str(tmp_path / "root.crl")]

    p = run("verify", str(tmp_path / "bad.p7m"), *trust, "--revocation", "hard-fail", *crl)
    assert p.returncode == 1 and "cert_revoked" in p.stdout, p.stdout + p.stderr
    p = run("verify", str(tmp_path / "good.p7m"), *trust, "--revocation", "hard-fail", *crl, "--json")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["code"] == "ok"
    # Without the CRL, hard-fail cannot prove the status; soft-fail lets it pass; off ignores
    # even the CRL that says revoked.
    p = run("verify", str(tmp_path / "good.p7m"), *trust, "--revocation", "hard-fail")
    assert p.returncode == 1 and "revocation_unknown" in p.stdout
    assert run("verify", str(tmp_path / "good.p7m"), *trust).returncode == 0
    assert run("verify", str(tmp_path / "bad.p7m"), *trust, "--revocation", "off", *crl).returncode == 0


def test_verify_fetches_the_crl_from_a_loopback_server(tmp_path: Path) -> None:
    with LoopbackServer() as server:
        root = P.make_root("Root CA xác minh trực tuyến", "p256", seed="verify-fetch-root")
        bad = P.make_leaf("Người ký bị thu hồi (CRL)", root, "p256", seed="verify-fetch-bad",
                          extra_extensions=[_cdp(server.url("/root.crl"))])
        good = P.make_leaf("Người ký (CRL)", root, "p256", seed="verify-fetch-good",
                           extra_extensions=[_cdp(server.url("/root.crl"))])
        server.serve("/root.crl", _crl(root, (bad.cert.serial_number,), number=9))
        (tmp_path / "root.pem").write_bytes(root.pem)
        (tmp_path / "bad.p7m").write_bytes(P.sign_cms(CONTENT, bad, detached=False))
        (tmp_path / "good.p7m").write_bytes(P.sign_cms(CONTENT, good, detached=False))
        cache = tmp_path / "cache"
        args = ["--trust", str(tmp_path / "root.pem"), "--revocation", "hard-fail", "--fetch",
                "--cache-dir", str(cache)]
        p = run("verify", str(tmp_path / "bad.p7m"), *args)
        assert p.returncode == 1 and "cert_revoked" in p.stdout, p.stdout + p.stderr
        assert server.requests("/root.crl") == 1
        p = run("verify", str(tmp_path / "good.p7m"), *args)
        assert p.returncode == 0, p.stdout + p.stderr
        # The second run found the CRL in --cache-dir: nothing fetched again.
        assert server.requests("/root.crl") == 1


def test_verify_revocation_mistakes_are_one_line_and_exit_2(tmp_path: Path) -> None:
    root = P.make_root("Root CA xác minh lỗi", "p256", seed="verify-mistake-root")
    leaf = P.make_leaf("Người ký", root, "p256", seed="verify-mistake-leaf")
    (tmp_path / "root.pem").write_bytes(root.pem)
    (tmp_path / "a.p7m").write_bytes(P.sign_cms(CONTENT, leaf, detached=False))
    base = ["verify", str(tmp_path / "a.p7m"), "--trust", str(tmp_path / "root.pem")]
    for extra, said in ((["--crl", str(tmp_path / "missing.crl")], "--crl"),
                        (["--cache-dir", str(tmp_path)], "--cache-dir is where --fetch keeps"),
                        (["--revocation", "sometimes"], "invalid choice")):
        p = run(*base, *extra)
        assert p.returncode == 2, (extra, p.stderr)
        assert said in p.stderr and "Traceback" not in p.stderr, p.stderr
        assert len(p.stderr.strip().splitlines()) <= 2
