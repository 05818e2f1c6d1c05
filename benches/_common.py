"""Shared machinery of govsig's benches: the bench PKI, cached signed corpora, the pure-Python
reference verifier users compare govsig against, and the session's table of ratios.

Kept out of conftest.py so that every bench module (verification, dossiers, ...) imports the
same corpus cache and reports into the same table.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import multiprocessing
import os
import struct
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

from asn1crypto import cms as a_cms
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.verification import ClientVerifier, PolicyBuilder, Store

import pki

REPO = Path(__file__).resolve().parent.parent

KIB = 1024
MIB = 1024 * 1024

# verify_many runs on this many threads in every bulk bench (the "2 threads").
THREADS = 2


# --------------------------------------------------------------------------------------------
# Settings from the environment
# --------------------------------------------------------------------------------------------


def _env_scale() -> float:
    raw = os.environ.get("GOVSIG_BENCH_SCALE", "1.0")
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"GOVSIG_BENCH_SCALE must be a number such as 0.05 or 1, got {raw!r}") from None
    if not 0.0 < value <= 10.0:
        raise ValueError(f"GOVSIG_BENCH_SCALE must be in (0, 10], got {value}")
    return value


SCALE = _env_scale()
# Target misses fail the run only when asked: the default run is for reading numbers on a
# machine whose load nobody controls.
STRICT = os.environ.get("GOVSIG_BENCH_STRICT", "") not in ("", "0")


def scaled(n: int, minimum: int = 20) -> int:
    """``n`` documents times GOVSIG_BENCH_SCALE, never fewer than ``minimum``."""
    return max(minimum, round(n * SCALE))


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 2


def ceiling_cores() -> int:
    """Cores a ceiling may assume: the bench runs THREADS threads, so a machine with more
    cores than that must not raise the bar beyond what those threads can reach."""
    return min(THREADS, usable_cores())


def load_average() -> str:
    try:
        one, five, _ = os.getloadavg()
    except OSError:
        return "unknown"
    return f"{one:.2f} (1 min), {five:.2f} (5 min)"


# --------------------------------------------------------------------------------------------
# The bench PKI
# --------------------------------------------------------------------------------------------

PKI_SEED = "govsig-bench-v1"


@dataclass(frozen=True)
class BenchPki:
    """The issue's "one 2-level chain", read as two certificates: a root and an RSA-2048
    signer leaf issued directly by it (no intermediate). The leaf is embedded in every CMS;
    the root is the only trust anchor."""

    root: pki.Issued
    leaf: pki.Issued

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(self.root.der + self.leaf.der).hexdigest()[:16]


_PKI: Optional[BenchPki] = None


def bench_pki() -> BenchPki:
    global _PKI
    if _PKI is None:
        root = pki.make_root("Root CA đo hiệu năng", "rsa2048", seed=f"{PKI_SEED}|root")
        # An e-mail subjectAltName, as document-signing certificates usually carry: the
        # reference's RFC 5280 client profile (pyca/cryptography) requires a SAN on the leaf.
        san = x509.SubjectAlternativeName([x509.RFC822Name("nguoi.ky@bench.invalid")])
        leaf = pki.make_leaf("Người ký đo hiệu năng", root, "rsa2048", seed=f"{PKI_SEED}|leaf",
                             extra_extensions=[(san, False)])
        _PKI = BenchPki(root=root, leaf=leaf)
    return _PKI


# --------------------------------------------------------------------------------------------
# Corpora: detached RSA-2048 / SHA-256 CMS over deterministic content, cached on disk
# --------------------------------------------------------------------------------------------


def document_content(index: int, size: int) -> bytes:
    """The content of document ``index``: ``size`` pseudo-random bytes, the same on every
    machine (so a cached signature always matches the content regenerated for it)."""
    return hashlib.shake_256(f"govsig-bench|content|{size}|{index}".encode()).digest(size)


@dataclass(frozen=True)
class CorpusSpec:
    """What a corpus is: ``count`` detached signatures over ``size``-byte documents.

    ``distinct_contents`` bounds the number of different contents held in memory: document
    ``i`` has content ``i % distinct_contents``. 2,000 distinct 1 MiB documents would need
    2 GiB of RAM; 128 distinct ones (128 MiB, far beyond any CPU cache, so every hash reads
    memory as it would for distinct files) give the verifier exactly the same work, because
    nothing in a verifier may remember a digest across documents. Each document still has
    its own signature (its own signingTime).
    """

    size: int
    count: int
    distinct_contents: int

    @property
    def engine(self) -> str:
        # pyca/cryptography's builder is ~4x faster than the asn1crypto one, but it stamps
        # every signature with the current second, so documents sharing a content would share
        # a signature byte for byte. The native engine takes a signingTime per document.
        return "cryptography" if self.distinct_contents >= self.count else "native"

    def key(self, p: BenchPki) -> str:
        raw = f"v1|{self.size}|{self.count}|{self.distinct_contents}|{self.engine}|{p.fingerprint}"
        return hashlib.sha256(raw.encode()).hexdigest()[:20]


@dataclass
class Corpus:
    spec: CorpusSpec
    signatures: list[bytes]
    contents: list[bytes]

    def items(self) -> list[tuple[bytes, bytes]]:
        d = self.spec.distinct_contents
        return [(s, self.contents[i % d]) for i, s in enumerate(self.signatures)]

    @property
    def total_bytes(self) -> int:
        return self.spec.size * self.spec.count


def cache_dir() -> Path:
    env = os.environ.get("GOVSIG_BENCH_CACHE")
    return Path(env) if env else REPO / ".benchmarks" / "corpus"


_MAGIC = b"govsig-bench-corpus\x00v1\x00"


def _write_signatures(path: Path, sigs: list[bytes]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    with tmp.open("wb") as f:
        f.write(_MAGIC + struct.pack(">I", len(sigs)))
        for s in sigs:
            f.write(struct.pack(">I", len(s)))
            f.write(s)
    os.replace(tmp, path)


def _read_signatures(path: Path, expected: int) -> Optional[list[bytes]]:
    """The cached signatures, or None for a missing, truncated or foreign file."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    if not data.startswith(_MAGIC) or len(data) < len(_MAGIC) + 4:
        return None
    pos = len(_MAGIC)
    (count,) = struct.unpack_from(">I", data, pos)
    pos += 4
    if count != expected:
        return None
    out = []
    for _ in range(count):
        if pos + 4 > len(data):
            return None
        (n,) = struct.unpack_from(">I", data, pos)
        pos += 4
        if pos + n > len(data):
            return None
        out.append(data[pos:pos + n])
        pos += n
    return out if pos == len(data) else None


def _sign_range(spec: CorpusSpec, start: int, stop: int) -> list[bytes]:
    p = bench_pki()
    out = []
    for i in range(start, stop):
        content = document_content(i % spec.distinct_contents, spec.size)
        if spec.engine == "native":
            when = pki.SIGNING_TIME + dt.timedelta(seconds=i)
            out.append(pki.sign_cms(content, p.leaf, engine="native", signing_time=when))
        else:
            out.append(pki.sign_cms(content, p.leaf, engine="cryptography"))
    return out


def load_corpus(spec: CorpusSpec) -> Corpus:
    """The corpus for ``spec``, signed on first use (on every core, in worker processes) and
    cached under ``.benchmarks/corpus/`` (or ``$GOVSIG_BENCH_CACHE``)."""
    p = bench_pki()
    path = cache_dir() / f"{spec.size}B-{spec.count}-{spec.key(p)}.sigs"
    sigs = _read_signatures(path, spec.count)
    if sigs is None:
        t0 = time.perf_counter()
        print(f"\n[bench] signing {spec.count} documents of {spec.size} bytes once; cached in "
              f"{path}", file=sys.stderr, flush=True)
        step = max(1, min(500, spec.count // (4 * usable_cores()) or 1))
        ranges = [(a, min(a + step, spec.count)) for a in range(0, spec.count, step)]
        # spawn, not fork: forking a process that may hold threads is unsafe (and deprecated).
        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=usable_cores(), mp_context=ctx) as ex:
            parts = ex.map(_sign_range, [spec] * len(ranges), [a for a, _ in ranges],
                           [b for _, b in ranges])
            sigs = [s for part in parts for s in part]
        _write_signatures(path, sigs)
        print(f"[bench] signed in {time.perf_counter() - t0:.1f} s", file=sys.stderr, flush=True)
    contents = [document_content(i, spec.size) for i in range(spec.distinct_contents)]
    return Corpus(spec=spec, signatures=sigs, contents=contents)


# --------------------------------------------------------------------------------------------
# The pure-Python reference: what a user of asn1crypto + pyca/cryptography writes
# --------------------------------------------------------------------------------------------


class ReferenceError(Exception):
    """The reference refuses a document (it is not meant to classify failures finely)."""


_HASHES = {"sha256": hashes.SHA256, "sha384": hashes.SHA384, "sha512": hashes.SHA512}
_PKCS1_V15 = {"rsassa_pkcs1v15", "sha256_rsa", "sha384_rsa", "sha512_rsa"}


class PythonReference:
    """Verifies one detached CMS SignedData per call, from scratch, as a user of asn1crypto
    and pyca/cryptography would: parse the CMS, find the signer certificate, compare the
    messageDigest attribute with a digest of the content, verify the RSA PKCS#1 v1.5
    signature over the DER signed attributes, then validate the chain with cryptography's
    RFC 5280 verifier. The chain is validated for every document (neither library caches
    a path across calls). Supports what the bench corpora use; anything else is refused."""

    def __init__(self, root: x509.Certificate, at: dt.datetime) -> None:
        self._verifier: ClientVerifier = (
            PolicyBuilder().store(Store([root])).time(at).build_client_verifier()
        )

    def verify(self, signature: bytes, content: bytes) -> None:
        ci = a_cms.ContentInfo.load(signature)
        if ci["content_type"].native != "signed_data":
            raise ReferenceError("not SignedData")
        sd = ci["content"]
        infos = sd["signer_infos"]
        if len(infos) != 1:
            raise ReferenceError(f"{len(infos)} signers; the reference handles one")
        si = infos[0]
        certs = [c.chosen for c in sd["certificates"] if c.name == "certificate"]
        signer = self._find_signer(si["sid"], certs)
        leaf = x509.load_der_x509_certificate(signer.dump())
        intermediates = [x509.load_der_x509_certificate(c.dump()) for c in certs if c is not signer]

        digest_name = si["digest_algorithm"]["algorithm"].native
        if digest_name not in _HASHES:
            raise ReferenceError(f"digest {digest_name} not supported by the reference")
        attrs = si["signed_attrs"]
        if not len(attrs):
            raise ReferenceError("no signed attributes")
        found = {a["type"].native: a["values"] for a in attrs}
        # RFC 5652 §11.1/§11.2: both attributes are mandatory when signed attributes exist.
        if "content_type" not in found or "message_digest" not in found:
            raise ReferenceError("contentType or messageDigest attribute missing")
        if found["content_type"][0].native != sd["encap_content_info"]["content_type"].native:
            raise ReferenceError("contentType attribute differs from eContentType")
        h = hashlib.new(digest_name, content).digest()
        if not hmac.compare_digest(h, found["message_digest"][0].native):
            raise ReferenceError("messageDigest does not match the content")

        if si["signature_algorithm"]["algorithm"].native not in _PKCS1_V15:
            raise ReferenceError("only RSA PKCS#1 v1.5 is supported by the reference")
        key = leaf.public_key()
        if not isinstance(key, rsa.RSAPublicKey):
            raise ReferenceError("signer key is not RSA")
        # RFC 5652 §5.4: the signature covers the DER of the attributes with the EXPLICIT
        # SET OF tag (0x31), not the [0] IMPLICIT tag they carry inside SignerInfo.
        signed_der = b"\x31" + attrs.dump()[1:]
        key.verify(si["signature"].native, signed_der, padding.PKCS1v15(), _HASHES[digest_name]())
        self._verifier.verify(leaf, intermediates)

    @staticmethod
    def _find_signer(sid: a_cms.SignerIdentifier, certs: list) -> object:
        if sid.name == "issuer_and_serial_number":
            issuer = sid.chosen["issuer"].dump()
            serial = sid.chosen["serial_number"].native
            for c in certs:
                if c.serial_number == serial and c.issuer.dump() == issuer:
                    return c
        else:
            ski = sid.chosen.native
            for c in certs:
                if c.key_identifier == ski:
                    return c
        raise ReferenceError("signer certificate not among the embedded certificates")


# --------------------------------------------------------------------------------------------
# The session's measurements and ratios
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Measurement:
    """One benchmark's median time for ``units`` units of work (documents, verifications),
    and, when known, the median process CPU time (all threads) of a round."""

    name: str
    median_s: float
    units: int
    cpu_s: Optional[float] = None

    @property
    def per_second(self) -> float:
        return self.units / self.median_s

    @property
    def seconds_per_unit(self) -> float:
        return self.median_s / self.units

    @property
    def cpu_per_unit(self) -> Optional[float]:
        return None if self.cpu_s is None else self.cpu_s / self.units


class CpuClock:
    """Process CPU time of every call of the wrapped function. On a shared machine wall time
    depends on what else runs; CPU time per document hardly does, so the table shows both."""

    def __init__(self) -> None:
        self.samples: list[float] = []

    def wrap(self, fn: Callable[..., object]) -> Callable[..., object]:
        def timed(*args: object, **kwargs: object) -> object:
            t0 = time.process_time()
            try:
                return fn(*args, **kwargs)
            finally:
                self.samples.append(time.process_time() - t0)

        return timed

    def median(self) -> Optional[float]:
        if not self.samples:
            return None
        ordered = sorted(self.samples)
        mid = len(ordered) // 2
        return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


@dataclass(frozen=True)
class Ratio:
    """A line of the summary table: ``value`` is computed from measurements of one run;
    ``target`` is the floor the issue sets (None: reported only)."""

    name: str
    needs: tuple[str, ...]
    compute: Callable[[dict[str, Measurement]], float]
    target: Optional[float]
    explain: Callable[[dict[str, Measurement]], str]


@dataclass
class Session:
    measurements: dict[str, Measurement] = field(default_factory=dict)
    ratios: list[Ratio] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    load_at_start: str = ""

    def record(self, name: str, benchmark: object, units: int,
               cpu: Optional[CpuClock] = None) -> None:
        """Store the median of a pytest-benchmark run (nothing when benchmarks are disabled)."""
        stats = getattr(benchmark, "stats", None)
        if stats is None:
            return
        cpu_s = None if cpu is None else cpu.median()
        self.measurements[name] = Measurement(name, stats.stats.median, units, cpu_s)

    def add_ratio(self, ratio: Ratio) -> None:
        if all(r.name != ratio.name for r in self.ratios):
            self.ratios.append(ratio)

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    def evaluate(self) -> list[tuple[Ratio, Optional[float], str]]:
        """(ratio, value or None when a measurement is missing, verdict)."""
        out: list[tuple[Ratio, Optional[float], str]] = []
        for r in self.ratios:
            if not all(n in self.measurements for n in r.needs):
                missing = ", ".join(n for n in r.needs if n not in self.measurements)
                out.append((r, None, f"NOT MEASURED (missing: {missing})"))
                continue
            v = r.compute(self.measurements)
            verdict = "" if r.target is None else ("PASS" if v >= r.target else "FAIL")
            out.append((r, v, verdict))
        return out

    def misses(self) -> list[str]:
        return [r.name for r, v, verdict in self.evaluate() if verdict == "FAIL"]

    def table(self) -> list[str]:
        lines = [f"scale {SCALE:g} (GOVSIG_BENCH_SCALE), {THREADS} threads, "
                 f"{usable_cores()} usable cores, load {self.load_at_start} at start / "
                 f"{load_average()} at end"]
        for r, v, verdict in self.evaluate():
            target = "" if r.target is None else f" (target >= {r.target:g})"
            if v is None:
                lines.append(f"RATIO {r.name} -{target} {verdict}")
                continue
            shown = f"{v:.2f}" if v < 10 else f"{v:.1f}"
            lines.append(f"RATIO {r.name} {shown}{target} {verdict}".rstrip())
            lines.append(f"      {r.explain(self.measurements)}")
        for n in self.notes:
            lines.append(f"note: {n}")
        if STRICT:
            lines.append("GOVSIG_BENCH_STRICT=1: a FAIL above fails the run")
        return lines


SESSION = Session()
