"""A real OCSP responder for the tests: OpenSSL's ``openssl ocsp`` in responder mode, one
process per request, behind a small HTTP front bound to 127.0.0.1 only.

``openssl ocsp -port`` would listen on every interface, so it is not used: the front receives
each POST (RFC 6960 Appendix A.1, ``application/ocsp-request``) and hands the body to
``openssl ocsp -index ... -CA ... -rsigner ... -rkey ... -reqin req.der -respout resp.der``.
The responder's state is an OpenSSL CA index file written from the entries given. The front
also answers RFC 6960 Appendix A.1 GET requests (``GET /{url-encoded base64 request}``), which
is what a client sends first for a short request (RFC 5019 §5).

    with OcspResponder(tmp, openssl, ca=ca, signer=ca, entries=[IndexEntry(leaf)]) as r:
        der = r.ask(request_der)      # or POST to r.url yourself
"""

from __future__ import annotations

import base64
import binascii
import datetime as _dt
import http.server
import os
import subprocess
import tempfile
import threading
import time
import urllib.request
from urllib.parse import unquote
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from cryptography import x509

import pki as _pki

# Requests are a few hundred bytes; a bound keeps a confused client from filling memory.
MAX_REQUEST = 64 * 1024

# OCSPResponse { responseStatus malformedRequest(1) } (RFC 6960 §2.3, §4.2.1): what a
# responder answers to bytes that are not an OCSPRequest. `openssl ocsp -reqin` just exits on
# them, so the front answers for it, as `openssl ocsp -port` does.
MALFORMED_REQUEST = bytes([0x30, 0x03, 0x0A, 0x01, 0x01])

# OpenSSL's CA index names CRL reasons as in its `ca -crl_reason` option.
_OPENSSL_REASONS = {
    x509.ReasonFlags.unspecified: "unspecified",
    x509.ReasonFlags.key_compromise: "keyCompromise",
    x509.ReasonFlags.ca_compromise: "CACompromise",
    x509.ReasonFlags.affiliation_changed: "affiliationChanged",
    x509.ReasonFlags.superseded: "superseded",
    x509.ReasonFlags.cessation_of_operation: "cessationOfOperation",
    x509.ReasonFlags.certificate_hold: "certificateHold",
    x509.ReasonFlags.remove_from_crl: "removeFromCRL",
}


@dataclass(frozen=True)
class IndexEntry:
    """One line of the responder's index: the certificate, and its revocation if any.
    Certificates not in the index are answered ``unknown``."""

    cert: _pki.Issued
    revoked_at: _dt.datetime | None = None
    reason: x509.ReasonFlags | None = None

    def line(self) -> str:
        c = self.cert.cert
        expiry = c.not_valid_after_utc.strftime("%y%m%d%H%M%SZ")
        if self.revoked_at is None:
            status, revoked = "V", ""
        else:
            status = "R"
            revoked = self.revoked_at.astimezone(_dt.timezone.utc).strftime("%y%m%d%H%M%SZ")
            if self.reason is not None:
                revoked += "," + _OPENSSL_REASONS[self.reason]
        serial = format(c.serial_number, "X")
        serial = serial if len(serial) % 2 == 0 else "0" + serial
        subject = "/" + "/".join(
            f"{a.rfc4514_attribute_name}={a.value}" for a in reversed(list(c.subject)))
        return "\t".join([status, expiry, revoked, serial, "unknown", subject]) + "\n"


class _Front(http.server.ThreadingHTTPServer):
    daemon_threads = True
    responder: OcspResponder


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _Front

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        return

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length <= 0 or length > MAX_REQUEST:
            self.send_error(413 if length > MAX_REQUEST else 411)
            return
        self._reply(self.rfile.read(length), "POST")

    def do_GET(self) -> None:
        # RFC 6960 Appendix A.1: GET {url}/{url-encoding of base-64 encoding of the DER
        # OCSPRequest}. Undecodable base64 is a request nobody can read: malformedRequest.
        encoded = unquote(self.path.lstrip("/"))
        if len(encoded) > MAX_REQUEST:
            self.send_error(414)
            return
        try:
            body = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            body = b""
        self._reply(body, "GET")

    def _reply(self, body: bytes, method: str) -> None:
        try:
            der = self.server.responder.answer(body, method)
        except RuntimeError as e:
            self.send_error(500, str(e)[:200])
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/ocsp-response")
        self.send_header("Content-Length", str(len(der)))
        self.end_headers()
        self.wfile.write(der)


class OcspResponder:
    """``openssl ocsp`` answering for ``ca`` with ``signer``'s key (the CA itself, or a
    delegated responder certificate the CA issued). Answers carry nextUpdate
    ``next_update_minutes`` after now."""

    def __init__(self, workdir: Path, openssl: str, *, ca: _pki.Issued, signer: _pki.Issued,
                 entries: list[IndexEntry], next_update_minutes: int = 60,
                 rmd: str | None = None) -> None:
        self.dir = Path(workdir)
        # The digest the responses are signed with (``openssl ocsp -rmd``; None: its default).
        self.rmd = rmd
        self.dir.mkdir(parents=True, exist_ok=True)
        self.openssl = openssl
        self.ca = ca
        self.signer = signer
        self.next_update_minutes = next_update_minutes
        self.set_entries(entries)
        (self.dir / "ca.pem").write_bytes(ca.pem)
        (self.dir / "rsigner.pem").write_bytes(signer.pem)
        key = self.dir / "rkey.pem"
        key.write_bytes(signer.key_pem)
        os.chmod(key, 0o600)
        self.requests = 0
        # Every request as received (DER) and how it came (GET or POST), in arrival order;
        # and the wall time spent inside `openssl ocsp`, so a bench can tell the responder's
        # cost from the client's.
        self.request_ders: list[bytes] = []
        self.methods: list[str] = []
        self.busy_seconds = 0.0
        self._lock = threading.Lock()
        self._server: _Front | None = None
        self._thread: threading.Thread | None = None

    def set_entries(self, entries: list[IndexEntry]) -> None:
        """Replaces the index. Certificates that name this responder in their AIA can only be
        made once it listens (its URL is in them), so a test starts it empty and fills it
        after; `openssl ocsp` reads the index afresh for every request."""
        tmp = self.dir / "index.txt.new"
        tmp.write_text("".join(e.line() for e in entries), encoding="utf-8")
        os.replace(tmp, self.dir / "index.txt")

    def answer(self, request: bytes, method: str = "POST") -> bytes:
        """One request through ``openssl ocsp``: the DER response."""
        with self._lock:
            self.requests += 1
            self.request_ders.append(request)
            self.methods.append(method)
        started = time.perf_counter()
        try:
            return self._run_openssl(request)
        finally:
            with self._lock:
                self.busy_seconds += time.perf_counter() - started

    def _run_openssl(self, request: bytes) -> bytes:
        if not request:
            return MALFORMED_REQUEST
        with tempfile.TemporaryDirectory(dir=self.dir) as t:
            req, resp = Path(t) / "req.der", Path(t) / "resp.der"
            req.write_bytes(request)
            proc = subprocess.run(
                [self.openssl, "ocsp", "-index", str(self.dir / "index.txt"), "-CA", str(self.dir / "ca.pem"),
                 "-rsigner", str(self.dir / "rsigner.pem"), "-rkey", str(self.dir / "rkey.pem"),
                 "-reqin", str(req), "-respout", str(resp), "-nmin", str(self.next_update_minutes),
                 *(["-rmd", self.rmd] if self.rmd else [])],
                capture_output=True, text=True, timeout=30, check=False)
            if proc.returncode != 0 and "Error reading OCSP request" in proc.stderr:
                return MALFORMED_REQUEST
            if proc.returncode != 0 or not resp.exists():
                raise RuntimeError(f"openssl ocsp failed ({proc.returncode}): {proc.stderr.strip()}")
            return resp.read_bytes()

    def start(self) -> OcspResponder:
        # Loopback only: the test responder must never be reachable from another machine.
        self._server = _Front(("127.0.0.1", 0), _Handler)
        self._server.responder = self
        self._thread = threading.Thread(target=self._server.serve_forever, name="ocsp-front", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    @property
    def address(self) -> tuple[str, int]:
        if self._server is None:
            raise RuntimeError("the responder is not running")
        host, port = self._server.server_address[:2]
        return str(host), int(port)

    @property
    def url(self) -> str:
        host, port = self.address
        return f"http://{host}:{port}/"

    def ask(self, request: bytes, timeout: float = 30) -> bytes:
        """POSTs ``request`` to the front, as an OCSP client would (RFC 6960 Appendix A.1)."""
        req = urllib.request.Request(self.url, data=request, method="POST",
                                     headers={"Content-Type": "application/ocsp-request"})
        # No proxy: an http_proxy in the environment must not see (or break) loopback traffic.
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(req, timeout=timeout) as r:
            if r.headers.get("Content-Type") != "application/ocsp-response":
                raise RuntimeError(f"unexpected Content-Type {r.headers.get('Content-Type')!r}")
            return r.read()

    def __enter__(self) -> OcspResponder:
        return self.start()

    def __exit__(self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()
