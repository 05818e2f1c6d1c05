"""A real RFC 3161 time-stamping authority for the tests: OpenSSL's ``openssl ts -reply``, one
process per request, behind a small HTTP front bound to 127.0.0.1 only (RFC 3161 §3.4: POST
``application/timestamp-query``, answer ``application/timestamp-reply``).

The TSA certificate comes from the test PKI (:func:`make_tsa_certificate`: extendedKeyUsage
id-kp-timeStamping alone, critical, as RFC 3161 §2.3 and OpenSSL require). The front can
also misbehave the way a test needs: ``replay=True`` answers every request after the first
with the first response (a replay: the nonce no longer matches).

    with Tsa(tmp, openssl, signer=tsa_cert) as tsa:
        token = tsa.stamp(b"data")        # or POST a TimeStampReq to tsa.url yourself
"""

from __future__ import annotations

import datetime as _dt

import os
import subprocess
import tempfile
import threading
from pathlib import Path
from types import TracebackType

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

import pki as _pki
from http_servers import LoopbackServer, Reply, Seen

# A TimeStampReq is under 200 bytes; the bound keeps a confused client from filling memory.
MAX_REQUEST = 64 * 1024

# The policy the test TSA stamps under unless a request names one of the others.
DEFAULT_POLICY = "1.3.6.1.4.1.99999.3161.1"
OTHER_POLICY = "1.3.6.1.4.1.99999.3161.2"


def make_tsa_certificate(name: str, issuer: _pki.Issued, *, eku: tuple[str, ...] = ("time_stamping",),
                         critical: bool = True, key_type: str = "rsa2048",
                         not_before: _dt.datetime = _pki.NOT_BEFORE,
                         not_after: _dt.datetime = _pki.NOT_AFTER) -> _pki.Issued:
    """A TSA certificate from the test PKI: keyUsage digitalSignature + nonRepudiation and
    extendedKeyUsage ``eku`` (names of pki._EKU_NAMES), ``critical`` as given."""
    oids = [{"time_stamping": ExtendedKeyUsageOID.TIME_STAMPING,
             "email_protection": ExtendedKeyUsageOID.EMAIL_PROTECTION,
             "code_signing": ExtendedKeyUsageOID.CODE_SIGNING}[e] for e in eku]
    return _pki.make_leaf(name, issuer, key_type, org="Trung tâm Cấp dấu thời gian thử nghiệm",
                          eku=None, extra_extensions=[(x509.ExtendedKeyUsage(oids), critical)],
                          not_before=not_before, not_after=not_after)


_CONFIG = """\
[ tsa ]
default_tsa = tsa_config
[ tsa_config ]
dir = {dir}
serial = $dir/serial
crypto_device = builtin
signer_cert = $dir/signer.pem
certs = $dir/chain.pem
signer_key = $dir/signer.key
signer_digest = {signer_digest}
default_policy = {default_policy}
other_policies = {other_policy}
digests = sha256, sha384
accuracy = secs:1, millisecs:500, microsecs:100
clock_precision_digits = 3
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = {ess_alg}
"""


class Tsa:
    """``openssl ts -reply`` signing with ``signer`` (and sending ``signer``'s CA chain).
    ``ess_alg`` picks ESS signing-certificate (``sha1``) or -v2 (``sha256``); ``signer_digest``
    the digest of the token's own signature."""

    def __init__(self, workdir: Path, openssl: str, *, signer: _pki.Issued, ess_alg: str = "sha256",
                 replay: bool = False, signer_digest: str = "sha256") -> None:
        self.dir = Path(workdir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.openssl = openssl
        self.signer = signer
        self.replay = replay
        (self.dir / "signer.pem").write_bytes(signer.pem)
        (self.dir / "chain.pem").write_bytes(_pki.pem_bundle(signer.path[1:]))
        key = self.dir / "signer.key"
        key.write_bytes(signer.key_pem)
        os.chmod(key, 0o600)
        (self.dir / "serial").write_text("01\n")
        (self.dir / "tsa.cnf").write_text(_CONFIG.format(
            dir=self.dir, default_policy=DEFAULT_POLICY, other_policy=OTHER_POLICY, ess_alg=ess_alg,
            signer_digest=signer_digest))
        self.requests: list[bytes] = []
        self._first: bytes | None = None
        self._lock = threading.Lock()
        self._server: LoopbackServer | None = None

    def answer(self, request: bytes) -> bytes:
        """One request through ``openssl ts -reply``: the DER TimeStampResp."""
        with self._lock:
            self.requests.append(request)
            if self.replay and self._first is not None:
                return self._first
            resp = self._run_openssl(request)
            if self._first is None:
                self._first = resp
            return resp

    def _run_openssl(self, request: bytes) -> bytes:
        with tempfile.TemporaryDirectory(dir=self.dir) as t:
            req, resp = Path(t) / "req.tsq", Path(t) / "resp.tsr"
            req.write_bytes(request)
            proc = subprocess.run(
                [self.openssl, "ts", "-reply", "-config", str(self.dir / "tsa.cnf"),
                 "-queryfile", str(req), "-out", str(resp)],
                capture_output=True, text=True, timeout=30, check=False)
            if not resp.exists() or resp.stat().st_size == 0:
                raise RuntimeError(f"openssl ts -reply failed ({proc.returncode}): {proc.stderr.strip()}")
            return resp.read_bytes()

    def query(self, data: bytes, *, digest: str = "sha256", nonce: bool = True,
              policy: str | None = None, cert: bool = True) -> bytes:
        """A TimeStampReq made by ``openssl ts -query`` (certReq unless ``cert`` is False)."""
        with tempfile.TemporaryDirectory(dir=self.dir) as t:
            src, out = Path(t) / "data", Path(t) / "req.tsq"
            src.write_bytes(data)
            cmd = [self.openssl, "ts", "-query", "-data", str(src), f"-{digest}", "-out", str(out)]
            if cert:
                cmd.append("-cert")
            if not nonce:
                cmd.append("-no_nonce")
            if policy:
                cmd += ["-tspolicy", policy]
            subprocess.run(cmd, capture_output=True, check=True, timeout=30)
            return out.read_bytes()

    def stamp(self, data: bytes, *, digest: str = "sha256", cert: bool = True) -> bytes:
        """The DER TimeStampToken (a CMS ContentInfo) that ``openssl ts`` issues for ``data``;
        without ``cert`` the token carries no certificate (certReq false, RFC 3161 §2.4.1)."""
        return token_of(self.openssl, self._run_openssl(self.query(data, digest=digest, cert=cert)), self.dir)

    def _reply(self, seen: Seen) -> Reply:
        """The HTTP front (RFC 3161 §3.4): a POSTed application/timestamp-query, answered
        with application/timestamp-reply; anything else is refused as an HTTP error."""
        content_type = next((v for k, v in seen.headers.items() if k.lower() == "content-type"), None)
        if seen.method != "POST":
            return Reply(b"POST a TimeStampReq\n", status=405, content_type="text/plain")
        if not seen.body or len(seen.body) > MAX_REQUEST:
            return Reply(b"", status=413 if seen.body else 411, content_type="text/plain")
        if content_type != "application/timestamp-query":
            return Reply(b"", status=415, content_type="text/plain")
        try:
            der = self.answer(seen.body)
        except RuntimeError as e:
            return Reply(str(e)[:200].encode(), status=500, content_type="text/plain")
        return Reply(der, content_type="application/timestamp-reply")

    def start(self) -> Tsa:
        # Loopback only (LoopbackServer binds 127.0.0.1): the test TSA must never be reachable
        # from another machine.
        server = LoopbackServer()
        server.route("/tsa", self._reply)
        self._server = server.__enter__()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.__exit__(None, None, None)
            self._server = None

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the TSA is not running")
        return self._server.url("/tsa")

    def __enter__(self) -> Tsa:
        return self.start()

    def __exit__(self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()


def token_of(openssl: str, response: bytes, workdir: Path) -> bytes:
    """The TimeStampToken inside a TimeStampResp, as ``openssl ts -reply -token_out`` gives it."""
    with tempfile.TemporaryDirectory(dir=workdir) as t:
        src, out = Path(t) / "resp.tsr", Path(t) / "token.der"
        src.write_bytes(response)
        subprocess.run([openssl, "ts", "-reply", "-in", str(src), "-token_out", "-out", str(out)],
                       capture_output=True, check=True, timeout=30)
        return out.read_bytes()


def openssl_ts_verify(openssl: str, token: bytes, *, data: bytes | None = None, digest_hex: str | None = None,
                      ca: _pki.Issued, untrusted: list[_pki.Issued], workdir: Path) -> subprocess.CompletedProcess[str]:
    """``openssl ts -verify`` of a DER token against ``data`` (or a hex digest), trusting
    ``ca``; returns the completed process (returncode 0 = OpenSSL accepts)."""
    with tempfile.TemporaryDirectory(dir=workdir) as t:
        d = Path(t)
        (d / "token.der").write_bytes(token)
        (d / "ca.pem").write_bytes(ca.pem)
        (d / "untrusted.pem").write_bytes(_pki.pem_bundle(untrusted))
        cmd = [openssl, "ts", "-verify", "-token_in", "-in", str(d / "token.der"),
               "-CAfile", str(d / "ca.pem"), "-untrusted", str(d / "untrusted.pem")]
        if data is not None:
            (d / "data").write_bytes(data)
            cmd += ["-data", str(d / "data")]
        else:
            assert digest_hex is not None
            cmd += ["-digest", digest_hex]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=30, check=False)
