"""OCSP responses in the HttpFetcher disk cache (issue 16): shared by every process using the
same ``cache_dir``, keyed by (responder URL, request), served until the response's own
nextUpdate, and asked of the responder once when processes ask at the same moment.

The responder is OpenSSL's (``openssl ocsp``, tests/ocsp_responder.py); the processes are
real ones (``python -c``), each with its own HttpFetcher and empty memory cache."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import govsig
import pki as P
from govsig.ocsp import build_request
from ocsp_responder import IndexEntry, OcspResponder

REPO = Path(__file__).resolve().parent.parent

# One process: wait for the common start time, ask once, print what its fetcher did.
_ASK = """
import json, sys, time
import govsig
url, request, cache, start = sys.argv[1], bytes.fromhex(sys.argv[2]), sys.argv[3], float(sys.argv[4])
f = govsig.HttpFetcher(timeout=20, cache_dir=cache)
time.sleep(max(0.0, start - time.time()))
body = f.fetch_ocsp(url, request)
print(json.dumps({"body": body.hex(), "stats": f.stats}))
"""


class SlowResponder(OcspResponder):
    """Takes ``delay`` seconds before answering, so a second process asks while the first is
    still waiting for its answer."""

    delay = 1.5

    def answer(self, request: bytes, method: str = "POST") -> bytes:
        time.sleep(self.delay)
        return super().answer(request, method)


def _world(tmp_path: Path, openssl: str, cls: type[OcspResponder] = OcspResponder,
           minutes: int = 60) -> tuple[OcspResponder, list[P.Issued], P.Issued]:
    ca = P.make_root("CA OCSP bộ nhớ đệm chung", "p256", seed="ocsp-disk-ca")
    leaves = [P.make_leaf(f"Người ký OCSP chung {i}", ca, "p256", seed=f"ocsp-disk-leaf{i}") for i in range(2)]
    responder = cls(tmp_path / "responder", openssl, ca=ca, signer=ca, entries=[IndexEntry(x) for x in leaves],
                    next_update_minutes=minutes)
    return responder, leaves, ca


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "python"), env.get("PYTHONPATH", "")])
    return env


def test_two_processes_asking_at_once_query_the_responder_once(tmp_path, openssl) -> None:
    responder, leaves, ca = _world(tmp_path, openssl, SlowResponder)
    request = build_request(leaves[0].der, ca.der)
    cache = tmp_path / "shared-cache"
    with responder:
        start = time.time() + 3.0  # both interpreters are up and waiting by then
        procs = [subprocess.Popen([sys.executable, "-c", _ASK, responder.url, request.hex(), str(cache), str(start)],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env(), text=True)
                 for _ in range(2)]
        outs = []
        for p in procs:
            out, err = p.communicate(timeout=120)
            assert p.returncode == 0, err
            outs.append(json.loads(out))
    # One query reached the responder; both processes got its answer, the second from disk.
    assert responder.requests == 1
    assert outs[0]["body"] == outs[1]["body"]
    assert sorted(o["stats"]["fetches"] for o in outs) == [0, 1]
    assert sorted(o["stats"]["disk_hits"] for o in outs) == [0, 1]
    body = bytes.fromhex(outs[0]["body"])
    assert [status for (status, *_rest) in _statuses(body)] == ["good"]


def _statuses(body: bytes) -> list[tuple[str, int]]:
    from cryptography.x509 import ocsp

    resp = ocsp.load_der_ocsp_response(body)
    return [(single.certificate_status.name.lower(), single.serial_number) for single in resp.responses]


def test_a_cached_response_serves_another_fetcher_until_its_next_update(tmp_path, openssl) -> None:
    responder, leaves, ca = _world(tmp_path, openssl, minutes=60)
    cache = tmp_path / "cache"
    request = build_request(leaves[0].der, ca.der)
    with responder:
        first = govsig.HttpFetcher(timeout=10, cache_dir=cache).fetch_ocsp(responder.url, request)
        assert responder.requests == 1
        # A new fetcher (another process, a restarted worker): from disk, not the responder.
        again = govsig.HttpFetcher(timeout=10, cache_dir=cache)
        assert again.fetch_ocsp(responder.url, request) == first
        assert again.stats["disk_hits"] == 1 and again.stats["fetches"] == 0
        assert responder.requests == 1
        # Another request (another certificate) is another entry: asked of the responder.
        other = govsig.HttpFetcher(timeout=10, cache_dir=cache).fetch_ocsp(responder.url,
                                                                          build_request(leaves[1].der, ca.der))
        assert responder.requests == 2
        assert _statuses(other)[0][1] == leaves[1].cert.serial_number
        # Past the response's nextUpdate (an hour on), the cached answer is not served.
        later = govsig.HttpFetcher(timeout=10, cache_dir=cache, clock=lambda: time.time() + 2 * 3600)
        later.fetch_ocsp(responder.url, request)
        assert later.stats["disk_hits"] == 0 and later.stats["fetches"] == 1
        assert responder.requests == 3


def test_a_tampered_or_foreign_cache_entry_is_a_miss(tmp_path, openssl) -> None:
    responder, leaves, ca = _world(tmp_path, openssl)
    cache = tmp_path / "cache"
    request = build_request(leaves[0].der, ca.der)
    with responder:
        govsig.HttpFetcher(timeout=10, cache_dir=cache).fetch_ocsp(responder.url, request)
        (body,) = (cache / "ocsp").glob("*.der")
        # Another response put in its place (here: the other certificate's): its digest no
        # longer matches the sidecar, so it is never served for this request.
        body.write_bytes(responder.ask(build_request(leaves[1].der, ca.der)))
        f = govsig.HttpFetcher(timeout=10, cache_dir=cache)
        assert _statuses(f.fetch_ocsp(responder.url, request))[0][1] == leaves[0].cert.serial_number
        assert f.stats["disk_hits"] == 0 and f.stats["fetches"] == 1
        # A sidecar naming another request is a miss too.
        (meta,) = (cache / "ocsp").glob("*.json")
        m = json.loads(meta.read_text())
        m["request_sha256"] = "00" * 32
        meta.write_text(json.dumps(m))
        g = govsig.HttpFetcher(timeout=10, cache_dir=cache)
        g.fetch_ocsp(responder.url, request)
        assert g.stats["disk_hits"] == 0 and g.stats["fetches"] == 1
