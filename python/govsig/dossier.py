"""Dossiers: hash a folder of documents on all cores, write and read BagIt bags, prove that
one file belongs to a dossier whose root was signed, and detect any change later.

The canonical manifest is the BagIt (RFC 8493) ``manifest-<alg>.txt``: one line
``<lowercase hex digest> data/<relpath>`` per file, relpaths in Unicode NFC with ``/``
separators, sorted by their UTF-8 bytes. The dossier root is the RFC 9162 §2.1 Merkle tree
head over those lines (leaf = H(0x00 || line), node = H(0x01 || left || right)).

The hashing, manifest, tree and proof logic live in the Rust core. This module is the friendly
API (:class:`Dossier`, :class:`DossierDiff`); bag reading and writing are in ``_bagit`` and
inclusion proofs in ``_proof``.
"""
from __future__ import annotations

import dataclasses
import datetime
import os
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, Union

import numpy as np
import numpy.typing as npt

from govsig import _govsig
from govsig._threads import check_threads
from govsig._bagit import (SIGNATURE_MAX, TAG_FILE_MAX, BagError, algorithm_name, bag_in_place, copy_payload,
                           is_bag, payload_folder, read_bag, read_bag_file, write_atomically, write_tag_files)
from govsig._govsig import DOSSIER_ALGORITHMS, DOSSIER_ERROR_CODES, DossierError
from govsig._proof import InclusionProof, verify_inclusion

__all__ = [
    "DOSSIER_ALGORITHMS",
    "DOSSIER_ERROR_CODES",
    "BagError",
    "Dossier",
    "DossierDiff",
    "DossierError",
    "HashError",
    "HashProgress",
    "InclusionProof",
    "verify_inclusion",
]

StrPath = Union[str, "os.PathLike[str]"]


@dataclasses.dataclass(frozen=True)
class HashError:
    """One file that could not be hashed: ``code`` is one of ``DOSSIER_ERROR_CODES``."""

    relpath: str
    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.relpath}: {self.message} ({self.code})"


@dataclasses.dataclass(frozen=True)
class HashProgress:
    """A snapshot of a running hash, passed to the ``progress`` callback.

    Files that fit one read buffer are hashed as the walk finds them, so ``files_total`` and
    ``bytes_total`` grow while the walk runs and are final once it ends; the last snapshot
    (always delivered) has them equal to the done counts of everything hashed.
    """

    files_done: int
    files_total: int
    bytes_done: int
    bytes_total: int
    elapsed: float

    @property
    def bytes_per_second(self) -> float:
        """Mean throughput since the call started."""
        return self.bytes_done / self.elapsed if self.elapsed > 0 else 0.0


ProgressCallback = Callable[[HashProgress], None]


def _threads_arg(threads: int | None) -> int:
    check_threads(threads)
    return 0 if threads is None else threads


def _run_with_progress(
    job: Callable[[Any], Any], progress: ProgressCallback | None, interval: float = 0.1
) -> Any:
    """Runs ``job(counters)`` (which releases the GIL) and reports progress meanwhile."""
    counters = _govsig.DossierHashProgress()
    if progress is None:
        return job(counters)
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = job(counters)
        except BaseException as exc:  # re-raised in the caller's thread below
            outcome["error"] = exc

    start = time.perf_counter()
    worker = threading.Thread(target=run, name="govsig-dossier-hash", daemon=True)
    worker.start()

    def report() -> None:
        files_done, files_total, bytes_done, bytes_total = counters.snapshot()
        progress(
            HashProgress(
                files_done, files_total, bytes_done, bytes_total, time.perf_counter() - start
            )
        )

    while True:
        worker.join(interval)
        if not worker.is_alive():
            break
        report()
    if "error" in outcome:
        raise outcome["error"]
    report()  # the final counts, always delivered once
    return outcome["value"]


class Dossier:
    """A hashed dossier: its canonical manifest, Merkle root and per-file errors.

    Build one with :meth:`Dossier.hash` (from files) or :meth:`Dossier.from_bag` (from a bag's
    manifest, without rehashing).
    """

    __slots__ = ("_manifest", "_errors", "_source_dir", "_bag_dir")

    def __init__(
        self,
        manifest: _govsig.DossierManifest,
        errors: Iterable[HashError] = (),
        *,
        source_dir: Path | None = None,
        bag_dir: Path | None = None,
    ) -> None:
        """Wrap a core manifest; use :meth:`hash`, :meth:`from_bag` or :meth:`from_manifest`."""
        self._manifest = manifest
        self._errors = tuple(errors)
        self._source_dir = source_dir
        self._bag_dir = bag_dir

    # -- construction -------------------------------------------------------------------

    @classmethod
    def hash(
        cls,
        path: StrPath | Sequence[StrPath],
        algorithm: str = "sha256",
        threads: int | None = None,
        *,
        root: StrPath | None = None,
        progress: ProgressCallback | None = None,
        buffer_size: int | None = None,
    ) -> Dossier:
        """Hash a folder, or a list of files, on all cores with the GIL released.

        ``path`` is a directory (every file under it; for a bag, its ``data/`` payload), or a
        sequence of files and directories named relative to ``root`` (default: their deepest
        common parent directory). ``algorithm`` is ``"sha256"``, ``"sha384"`` or
        ``"sha512"``; ``threads`` defaults to one per core. ``progress``, if given, is called
        about ten times a second with a :class:`HashProgress`.

        Files that cannot be hashed (unreadable, special, changed while hashed, a symlink
        out of the dossier, names that clash after NFC normalisation, ...) do not abort the
        call: they are listed in :attr:`errors` and left out of the manifest.
        """
        alg = algorithm_name(algorithm)
        nthreads = _threads_arg(threads)
        bufsize = _govsig.DOSSIER_DEFAULT_BUFFER_SIZE if buffer_size is None else int(buffer_size)
        if bufsize <= 0:
            raise ValueError(f"buffer_size must be positive, not {buffer_size!r}")
        if isinstance(path, (str, os.PathLike)):
            folder = Path(path)
            bag_dir = None
            if is_bag(folder):
                bag_dir = folder.resolve()
                folder = payload_folder(folder)

            def job(counters: Any) -> Any:
                return _govsig.dossier_hash_directory(folder, alg, nthreads, bufsize, counters)

            manifest, errors = _run_with_progress(job, progress)
            return cls(
                manifest,
                (HashError(*e) for e in errors),
                source_dir=folder.resolve(),
                bag_dir=bag_dir,
            )
        if isinstance(path, (bytes, bytearray)):
            raise TypeError("path must be a str, a path-like object or a sequence of them")
        listed = [Path(os.path.abspath(p)) for p in path]
        if root is not None:
            base = Path(os.path.abspath(root))
        elif listed:
            base = Path(os.path.commonpath([p.parent for p in listed]))
        else:
            raise ValueError("an empty list of paths needs root= to name the dossier root")

        def job_paths(counters: Any) -> Any:
            return _govsig.dossier_hash_paths(base, listed, alg, nthreads, bufsize, counters)

        manifest, errors = _run_with_progress(job_paths, progress)
        return cls(manifest, (HashError(*e) for e in errors))

    @classmethod
    def from_bag(cls, path: StrPath, algorithm: str | None = None) -> Dossier:
        """Read a bag's manifest without rehashing the payload.

        The manifest is ``manifest-<algorithm>.txt`` (default: sha256, else sha512, else
        sha384). Its tag manifest, when present, must match the tag files, and a govsig root
        in bag-info.txt must match the manifest: otherwise the bag's metadata was altered and
        :class:`BagError` is raised. Sizes come from the files under ``data/`` (a listed file
        that is missing gets size 0; :meth:`compare` reports it).

        A bag is outside input: its own files (declaration, manifests, tag files, signature)
        are read only as regular files inside the bag, a payload manifest of at most 1 GiB
        and the others of at most 16 MiB (64 MiB for the signature); a FIFO, a device, a
        symlink out of the bag or a larger file is a :class:`BagError` naming it.
        """
        bag = Path(path)
        manifest = read_bag(bag, algorithm)
        return cls(manifest, bag_dir=bag.resolve())

    @classmethod
    def from_manifest(cls, data: bytes, algorithm: str = "sha256") -> Dossier:
        """Read the bytes of a BagIt payload manifest (``manifest-<algorithm>.txt``), e.g. one
        kept apart from its files. Sizes are unknown and reported as 0."""
        return cls(_govsig.DossierManifest.parse(algorithm_name(algorithm), bytes(data)))

    # -- views ----------------------------------------------------------------------------

    @property
    def algorithm(self) -> str:
        """``"sha256"``, ``"sha384"`` or ``"sha512"``."""
        return str(self._manifest.algorithm)

    @property
    def root(self) -> bytes:
        """The RFC 9162 Merkle tree head over the manifest lines (SHA-256("") when empty)."""
        return bytes(self._manifest.root())

    @property
    def hexroot(self) -> str:
        """:attr:`root` in lowercase hex."""
        return self.root.hex()

    @property
    def paths(self) -> list[str]:
        """Relative paths (NFC, ``/``-separated), in manifest order (UTF-8 byte order)."""
        return list(self._manifest.paths())

    @property
    def sizes(self) -> npt.NDArray[np.uint64]:
        """File sizes in bytes, in manifest order (numpy uint64)."""
        return self._manifest.sizes()

    @property
    def digests(self) -> npt.NDArray[np.uint8]:
        """File digests, one row per file in manifest order (numpy uint8, shape (N, 32|48|64))."""
        return self._manifest.digests()

    @property
    def total_bytes(self) -> int:
        """Sum of :attr:`sizes`."""
        return int(self._manifest.total_bytes)

    @property
    def errors(self) -> tuple[HashError, ...]:
        """Files that could not be hashed (not in the manifest), sorted by relpath."""
        return self._errors

    @property
    def ok(self) -> bool:
        """True when every file was hashed."""
        return not self._errors

    @property
    def source_dir(self) -> Path | None:
        """The folder that was hashed, when the dossier was hashed from a folder."""
        return self._source_dir

    @property
    def bag_dir(self) -> Path | None:
        """The bag this dossier was read from or last written to."""
        return self._bag_dir

    def __len__(self) -> int:
        return len(self._manifest)

    def __contains__(self, relpath: object) -> bool:
        if not isinstance(relpath, str):
            return False
        try:
            self._manifest.index_of(relpath)
        except DossierError:
            return False
        return True

    def __repr__(self) -> str:
        return (
            f"<Dossier {len(self)} files, {self.total_bytes} bytes, {self.algorithm} "
            f"root {self.hexroot[:16]}…, {len(self._errors)} errors>"
        )

    def digest(self, relpath: str) -> bytes:
        """The digest of one file (NFC or NFD spelling of its relpath)."""
        return bytes(self._manifest.digest(self._manifest.index_of(relpath)))

    def line(self, relpath: str) -> str:
        """The manifest line of one file: the Merkle leaf input."""
        return str(self._manifest.line(self._manifest.index_of(relpath)))

    def manifest_bytes(self) -> bytes:
        """The bytes of ``manifest-<algorithm>.txt``."""
        return bytes(self._manifest.manifest_bytes())

    # -- proofs and comparison ---------------------------------------------------------

    def proof(self, relpath: str) -> InclusionProof:
        """The inclusion proof of one file under :attr:`root`."""
        alg, index, size, path = self._manifest.proof(relpath)
        return InclusionProof(str(alg), int(index), int(size), tuple(bytes(h) for h in path))

    def compare(
        self,
        path: StrPath | None = None,
        *,
        threads: int | None = None,
        progress: ProgressCallback | None = None,
    ) -> DossierDiff:
        """Rehash the files at ``path`` (a folder, or a bag's payload) and compare them with
        this dossier's manifest. ``path`` defaults to the bag or folder this dossier came from.
        """
        if path is None:
            if self._bag_dir is None and self._source_dir is None:
                raise ValueError("this dossier has no folder of its own; pass the path to compare")
            path = self._bag_dir if self._bag_dir is not None else self._source_dir
        assert path is not None
        current = Dossier.hash(path, self.algorithm, threads, progress=progress)
        unchanged, modified, missing, added, renamed = self._manifest.compare(current._manifest)
        unreadable = {e.relpath for e in current.errors}
        return DossierDiff(
            unchanged=tuple(unchanged),
            modified=tuple(modified),
            # A file that exists but could not be read is reported in errors, not as missing.
            missing=tuple(m for m in missing if m not in unreadable),
            added=tuple(added),
            renamed=tuple((str(a), str(b)) for a, b in renamed),
            errors=current.errors,
        )

    # -- bags -----------------------------------------------------------------------------

    def write_bag(
        self,
        dest: StrPath | None = None,
        *,
        bag_info: dict[str, str] | Sequence[tuple[str, str]] | None = None,
        bagging_date: datetime.date | str | None = None,
        verify: bool = True,
    ) -> Path:
        """Write this dossier as a BagIt bag and return the bag's root folder.

        With ``dest=None`` the bag is made in place: the hashed folder's files are moved
        under ``data/`` (names normalised to NFC; files reached through in-dossier symlinks
        are copied), then the tag files are written. With ``dest``, that folder is created
        (it must not exist) and the payload is copied into it. The tag files are
        ``bagit.txt``, ``manifest-<alg>.txt``, ``bag-info.txt`` (Bag-Software-Agent,
        Bagging-Date, Payload-Oxum, ``Govsig-Dossier-Root: <alg>:<hex>`` and ``bag_info``)
        and ``tagmanifest-<alg>.txt``. With ``verify`` the payload is rehashed afterwards,
        so a file changed since hashing is caught instead of producing an invalid bag.
        """
        if self._errors:
            first = self._errors[0]
            raise DossierError(
                f"{len(self._errors)} file(s) could not be hashed (first: {first}); "
                "fix or remove them and hash again before bagging"
            )
        extra = list(bag_info.items()) if isinstance(bag_info, dict) else list(bag_info or [])
        date = bagging_date or datetime.date.today()
        date_text = date.isoformat() if isinstance(date, datetime.date) else str(date)
        sources = self._manifest.sources()
        if dest is None:
            bag = self._bag_in_place(sources)
        else:
            bag = Path(dest)
            bag.mkdir(parents=True, exist_ok=False)
            copy_payload(bag / "data", self._manifest.paths(), self._payload_sources(sources))
        write_tag_files(bag, self._manifest, self.algorithm, date_text, extra)
        if verify:
            diff = self.compare(bag)
            if not diff.ok:
                raise DossierError(f"the payload changed since it was hashed; the bag at {bag} is not valid: {diff}")
        self._bag_dir = bag.resolve()
        return self._bag_dir

    def tag_manifest_path(self) -> Path:
        """Path of ``tagmanifest-<alg>.txt`` of the bag this dossier was read from or written
        to: the file a detached signature covers."""
        if self._bag_dir is None:
            raise DossierError("this dossier has no bag yet; call write_bag() or use Dossier.from_bag()")
        return self._bag_dir / f"tagmanifest-{self.algorithm}.txt"

    def tag_manifest(self) -> bytes:
        """The bytes of the bag's tag manifest (see :meth:`tag_manifest_path`)."""
        path = self.tag_manifest_path()
        try:
            return read_bag_file(path, TAG_FILE_MAX, "a tag manifest")
        except FileNotFoundError:
            raise BagError(f"{path.parent} has no {path.name}") from None

    # -- signing (see govsig.signing) ---------------------------------------------------

    def signature_path(self) -> Path:
        """Path of the detached CMS signature over the tag manifest,
        ``tagmanifest-<alg>.txt.p7s`` in the bag. The tag manifest holds the digests of the
        payload manifest, ``bagit.txt`` and ``bag-info.txt``, so this one signature covers the
        whole bag. BagIt tools ignore tag files the tag manifest does not list (RFC 8493 §2.2.1)."""
        tagmanifest = self.tag_manifest_path()
        return tagmanifest.with_name(tagmanifest.name + ".p7s")

    def sign(self, signer: Any, **options: Any) -> Path:
        """Sign the bag's tag manifest with ``signer`` (a :class:`govsig.KeySigner` or a
        PKCS#11 token signer), writing :meth:`signature_path`; ``options`` are those of
        :func:`govsig.sign` (the signature is always detached). Returns the path written."""
        from govsig.signing import sign

        if "detached" in options:
            raise TypeError("a dossier signature is always detached; do not pass detached=")
        signature = sign(self.tag_manifest(), signer, detached=True, **options)
        path = self.signature_path()
        write_atomically(path, signature)
        return path

    def verify_signature(self, verifier: Any) -> Any:
        """Check :meth:`signature_path` over the tag manifest with ``verifier`` (a
        :class:`govsig.Verifier`); returns its :class:`govsig.VerifyResult`. This proves who
        signed the manifests; whether the files still match them is :meth:`compare`'s job."""
        path = self.signature_path()
        try:
            signature = read_bag_file(path, SIGNATURE_MAX, "a signature")
        except FileNotFoundError:
            raise BagError(f"{path.parent} has no {path.name}: the dossier is not signed") from None
        return verifier.verify(signature, self.tag_manifest())

    def _payload_dir(self) -> Path | None:
        """The folder holding the payload under its NFC relpaths, when it is a bag's data/."""
        if self._source_dir is not None and self._source_dir.name == "data" and is_bag(self._source_dir.parent):
            return self._source_dir
        if self._source_dir is None and self._bag_dir is not None:
            return self._bag_dir / "data"
        return None

    def _payload_sources(self, sources: Sequence[os.PathLike[str] | str] | None) -> list[Path]:
        payload = self._payload_dir()
        if payload is not None:
            return [payload / p for p in self._manifest.paths()]
        if sources is not None:
            return [Path(s) for s in sources]
        raise DossierError("this dossier does not know where its files are; hash it from files")

    def _bag_in_place(self, sources: Sequence[Any] | None) -> Path:
        payload = self._payload_dir()
        if payload is not None:
            return payload.parent  # the payload is already a bag's: only tag files change
        folder = self._source_dir
        if folder is None or sources is None:
            raise DossierError("only a dossier hashed from a folder can be bagged in place; pass dest")
        self._source_dir = bag_in_place(folder, self._manifest.paths(), [Path(s) for s in sources])
        return folder


@dataclasses.dataclass(frozen=True)
class DossierDiff:
    """Per-file outcome of :meth:`Dossier.compare`; every list is sorted by relpath."""

    unchanged: tuple[str, ...]
    modified: tuple[str, ...]
    missing: tuple[str, ...]
    added: tuple[str, ...]
    renamed: tuple[tuple[str, str], ...]
    errors: tuple[HashError, ...]

    @property
    def ok(self) -> bool:
        """True when the files are exactly the recorded ones and all could be read."""
        return not (self.modified or self.missing or self.added or self.renamed or self.errors)

    def report(self) -> list[dict[str, str]]:
        """One dict per file: ``{"path", "status"}`` (+ ``"new_path"`` for renamed, ``"code"``
        and ``"message"`` for errors), sorted by path."""
        rows: list[dict[str, str]] = []
        for status in ("unchanged", "modified", "missing", "added"):
            rows += [{"path": p, "status": status} for p in getattr(self, status)]
        rows += [{"path": a, "status": "renamed", "new_path": b} for a, b in self.renamed]
        rows += [
            {"path": e.relpath, "status": "error", "code": e.code, "message": e.message}
            for e in self.errors
        ]
        rows.sort(key=lambda r: r["path"].encode())
        return rows

    def __str__(self) -> str:
        parts = [
            f"{len(self.unchanged)} unchanged",
            f"{len(self.modified)} modified",
            f"{len(self.missing)} missing",
            f"{len(self.added)} added",
            f"{len(self.renamed)} renamed",
            f"{len(self.errors)} unreadable",
        ]
        return ", ".join(parts)
