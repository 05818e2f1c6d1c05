"""Loopback HTTP servers for the fetcher tests: honest ones that serve CRLs and OCSP answers,
and hostile ones (endless, silent, dripping, lying, garbage).

Each server listens on 127.0.0.1, port 0 (the kernel picks a free port), in a daemon thread,
records every request it sees and every connection it accepts, and counts the body bytes it
managed to send, so tests can assert what the client actually did on the wire.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Seen:
    """One request as the server received it."""

    method: str
    path: str
    body: bytes
    headers: dict[str, str]


@dataclass
class Reply:
    """What a route answers. ``body`` may be bytes or an iterator of chunks (streamed lazily);
    ``length`` overrides the Content-Length header (None: len(body) for bytes, chunked
    transfer-encoding for an iterator)."""

    body: bytes | Iterator[bytes] = b""
    status: int = 200
    content_type: str = "application/octet-stream"
    headers: dict[str, str] = field(default_factory=dict)
    length: int | None = None
    # Close the TCP connection after this reply without saying so (no "Connection: close"),
    # as servers do with idle keep-alive connections.
    drop_after: bool = False
    # No Content-Length and no chunking: the body ends when the server closes the connection
    # (RFC 9112 §6.3 item 8), so the client cannot know its size in advance.
    close_delimited: bool = False


Route = Callable[[Seen], Reply]


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that resets a kept-alive connection (after a size cap or a timeout) is what
        # these servers are for; anything else is still printed.
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class LoopbackServer:
    """A ThreadingHTTPServer on 127.0.0.1 with programmable routes. Unknown paths get 404."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.prefix_routes: dict[str, Route] = {}
        self.seen: list[Seen] = []
        self.connections = 0
        self.bytes_sent = 0
        self.replies_done = 0
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, so connection reuse is observable

            def setup(self) -> None:
                super().setup()
                with owner._lock:
                    owner.connections += 1

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                owner._handle(self, "GET")

            def do_POST(self) -> None:
                owner._handle(self, "POST")

        self._httpd = _QuietServer(("127.0.0.1", 0), Handler)
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"loopback-http-{self.port}", daemon=True)

    # -- set-up -------------------------------------------------------------------------

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def serve(self, path: str, body: bytes, content_type: str = "application/pkix-crl") -> None:
        """Serves (or replaces) a static body at ``path``."""
        self.routes[path] = lambda _seen: Reply(body, content_type=content_type)

    def route(self, path: str, fn: Route) -> None:
        self.routes[path] = fn

    def route_prefix(self, prefix: str, fn: Route) -> None:
        self.prefix_routes[prefix] = fn

    def requests(self, path: str | None = None, method: str | None = None) -> int:
        with self._lock:
            return sum(1 for s in self.seen
                       if (path is None or s.path == path) and (method is None or s.method == method))

    def sleep(self, seconds: float) -> bool:
        """Sleeps in a handler; False when the server is stopping (the handler should quit)."""
        return not self.stopping.wait(seconds)

    def __enter__(self) -> LoopbackServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=10)

    # -- serving ------------------------------------------------------------------------

    def _handle(self, h: BaseHTTPRequestHandler, method: str) -> None:
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length) if length else b""
        seen = Seen(method, h.path, body, {k: v for k, v in h.headers.items()})
        with self._lock:
            self.seen.append(seen)
        fn = self.routes.get(h.path)
        if fn is None:
            for prefix, candidate in self.prefix_routes.items():
                if h.path.startswith(prefix):
                    fn = candidate
                    break
        reply = fn(seen) if fn is not None else Reply(b"not here\n", status=404, content_type="text/plain")
        try:
            self._send(h, reply)
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            # The client gave up (size cap, timeout): exactly what the hostile tests provoke.
            h.close_connection = True
        finally:
            with self._lock:
                self.replies_done += 1

    def _send(self, h: BaseHTTPRequestHandler, reply: Reply) -> None:
        h.send_response(reply.status)
        h.send_header("Content-Type", reply.content_type)
        for k, v in reply.headers.items():
            h.send_header(k, v)
        chunked = False
        if reply.close_delimited:
            h.send_header("Connection", "close")
            h.close_connection = True
        elif isinstance(reply.body, bytes):
            h.send_header("Content-Length", str(len(reply.body) if reply.length is None else reply.length))
        elif reply.length is not None:
            h.send_header("Content-Length", str(reply.length))
        else:
            h.send_header("Transfer-Encoding", "chunked")
            chunked = True
        h.end_headers()
        if isinstance(reply.body, bytes):
            self._write(h, reply.body)
        else:
            for chunk in reply.body:
                if self.stopping.is_set():
                    break
                if chunked:
                    self._write(h, f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                else:
                    self._write(h, chunk)
            if chunked:
                self._write(h, b"0\r\n\r\n")
        if reply.drop_after:
            h.close_connection = True

    def _write(self, h: BaseHTTPRequestHandler, data: bytes) -> None:
        h.wfile.write(data)
        with self._lock:
            self.bytes_sent += len(data)


# -- hostile bodies ---------------------------------------------------------------------------


def endless(total: int, chunk: int = 64 * 1024) -> Iterator[bytes]:
    """``total`` bytes of 'A', produced lazily (the same chunk object each time: the server
    itself holds one chunk, whatever ``total`` is)."""
    block = b"A" * chunk
    sent = 0
    while sent < total:
        n = min(chunk, total - sent)
        yield block if n == chunk else block[:n]
        sent += n


def drip(server: LoopbackServer, data: bytes, interval: float) -> Iterator[bytes]:
    """``data`` one byte at a time, ``interval`` seconds apart."""
    for i in range(len(data)):
        if not server.sleep(interval):
            return
        yield data[i:i + 1]


class RawServer:
    """A bare TCP server for what http.server cannot misbehave at: a status line and headers
    dripped one byte at a time, or a connection accepted and never answered."""

    def __init__(self, behaviour: str, interval: float = 0.2) -> None:
        import socket

        if behaviour not in ("silent", "drip_headers"):
            raise ValueError(behaviour)
        self.behaviour = behaviour
        self.interval = interval
        self.stopping = threading.Event()
        self.accepted = 0
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(8)
        self._sock.settimeout(0.05)
        self.port = self._sock.getsockname()[1]
        self._threads: list[threading.Thread] = []
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def _accept_loop(self) -> None:
        import socket

        while not self.stopping.is_set():
            try:
                conn, _ = self._sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self.accepted += 1
            t = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            self._threads.append(t)
            t.start()

    def _serve(self, conn: Any) -> None:
        try:
            conn.settimeout(0.05)
            if self.behaviour == "silent":
                while not self.stopping.wait(0.05):
                    pass
                return
            head = b"HTTP/1.1 200 OK\r\n" + b"".join(b"X-Pad-%d: %s\r\n" % (i, b"p" * 60) for i in range(90))
            for i in range(len(head)):
                if self.stopping.wait(self.interval):
                    return
                conn.sendall(head[i:i + 1])
        except OSError:
            return
        finally:
            conn.close()

    def __enter__(self) -> RawServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self._thread.join(timeout=10)
        for t in self._threads:
            t.join(timeout=10)
        self._sock.close()


def wait_until(predicate: Callable[[], bool], timeout: float = 20.0) -> bool:
    """Polls ``predicate`` until true or ``timeout`` seconds pass; returns its last value."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()
