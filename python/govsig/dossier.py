"""Dossiers: hash a folder of documents on all cores, write and read BagIt bags, prove that
one file belongs to a dossier whose root was signed, and detect any change later.

The canonical manifest is the BagIt (RFC 8493) ``manifest-<alg>.txt``: one line
``<lowercase hex digest> data/<relpath>`` per file, relpaths in Unicode NFC with ``/``
separators, sorted by their UTF-8 bytes. The dossier root is the RFC 9162 §2.1 Merkle tree
head over those lines (leaf = H(0x00 || line), node = H(0x01 || left || right)).

The hashing, manifest, tree and proof logic live in the Rust core; this module holds the file
moves and copies of bagging, the JSON form of proofs and the friendly API.
"""
from __future__ import annotations

import dataclasses
import datetime
import json
import os
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, Union

import numpy as np
import numpy.typing as npt

from govsig import _govsig
from govsig._threads import check_threads
from govsig._govsig import DOSSIER_ALGORITHMS, DOSSIER_ERROR_CODES, DossierError

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

_PROOF_JSON_VERSION = 1
_BAGIT_TXT = "bagit.txt"
_BAG_INFO_TXT = "bag-info.txt"


class BagError(DossierError):
    """A bag that is not one, or whose tag files are malformed or contradict each other."""


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


def _algorithm_name(algorithm: str) -> str:
    if not isinstance(algorithm, str):
        raise TypeError(f"algorithm must be a str, not {type(algorithm).__name__}")
    # The core accepts "SHA-256" too; normalising here keeps attribute values canonical.
    name = algorithm.lower().replace("-", "").replace("_", "")
    if name not in DOSSIER_ALGORITHMS:
        raise DossierError(
            f"unknown digest algorithm {algorithm!r}; supported: {', '.join(DOSSIER_ALGORITHMS)}"
        )
    return name


def _threads_arg(threads: int | None) -> int:
    check_threads(threads)
    return 0 if threads is None else threads


def _is_bag(path: Path) -> bool:
    return (path / _BAGIT_TXT).is_file() and (path / "data").is_dir()


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
        alg = _algorithm_name(algorithm)
        nthreads = _threads_arg(threads)
        bufsize = _govsig.DOSSIER_DEFAULT_BUFFER_SIZE if buffer_size is None else int(buffer_size)
        if bufsize <= 0:
            raise ValueError(f"buffer_size must be positive, not {buffer_size!r}")
        if isinstance(path, (str, os.PathLike)):
            folder = Path(path)
            bag_dir = None
            if _is_bag(folder):
                bag_dir = folder.resolve()
                folder = folder / "data"

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
        """
        bag = Path(path)
        declaration = bag / _BAGIT_TXT
        if not declaration.is_file():
            raise BagError(f"{bag} is not a bag: it has no {_BAGIT_TXT}")
        fields = dict(_parse_tag_file(declaration))
        if "BagIt-Version" not in fields:
            raise BagError(f"{declaration} has no BagIt-Version")
        encoding = fields.get("Tag-File-Character-Encoding", "")
        if encoding.upper().replace("_", "-") not in ("UTF-8", "UTF8"):
            raise BagError(f"{declaration}: tag files in {encoding!r} are not supported, only UTF-8")
        if algorithm is None:
            found = [a for a in ("sha256", "sha512", "sha384") if (bag / f"manifest-{a}.txt").is_file()]
            if not found:
                present = sorted(p.name for p in bag.glob("manifest-*.txt"))
                raise BagError(
                    f"{bag} has no manifest in {', '.join(DOSSIER_ALGORITHMS)} (found: {present or 'none'})"
                )
            alg = found[0]
        else:
            alg = _algorithm_name(algorithm)
        manifest_path = bag / f"manifest-{alg}.txt"
        try:
            data = manifest_path.read_bytes()
        except FileNotFoundError:
            raise BagError(f"{bag} has no {manifest_path.name}") from None
        try:
            manifest = _govsig.DossierManifest.parse(alg, data, bag / "data")
        except DossierError as exc:
            raise BagError(f"{manifest_path}: {exc}") from None
        _check_tagmanifest(bag, alg)
        info_path = bag / _BAG_INFO_TXT
        if info_path.is_file():
            for label, value in _parse_tag_file(info_path):
                if label.lower() != _govsig.DOSSIER_ROOT_LABEL.lower():
                    continue
                root_alg, _, hexroot = value.partition(":")
                if root_alg == alg and hexroot.lower() != manifest.root().hex():
                    raise BagError(
                        f"{info_path}: {_govsig.DOSSIER_ROOT_LABEL} {value} does not match the root "
                        f"of {manifest_path.name} ({manifest.root().hex()}): the manifest was altered"
                    )
        return cls(manifest, bag_dir=bag.resolve())

    @classmethod
    def from_manifest(cls, data: bytes, algorithm: str = "sha256") -> Dossier:
        """Read the bytes of a BagIt payload manifest (``manifest-<algorithm>.txt``), e.g. one
        kept apart from its files. Sizes are unknown and reported as 0."""
        return cls(_govsig.DossierManifest.parse(_algorithm_name(algorithm), bytes(data)))

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
            self._copy_payload(bag / "data", sources)
        self._write_tag_files(bag, date_text, extra)
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
            return path.read_bytes()
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
        _write_atomically(path, signature)
        return path

    def verify_signature(self, verifier: Any) -> Any:
        """Check :meth:`signature_path` over the tag manifest with ``verifier`` (a
        :class:`govsig.Verifier`); returns its :class:`govsig.VerifyResult`. This proves who
        signed the manifests; whether the files still match them is :meth:`compare`'s job."""
        path = self.signature_path()
        try:
            signature = path.read_bytes()
        except FileNotFoundError:
            raise BagError(f"{path.parent} has no {path.name}: the dossier is not signed") from None
        return verifier.verify(signature, self.tag_manifest())

    def _payload_dir(self) -> Path | None:
        """The folder holding the payload under its NFC relpaths, when it is a bag's data/."""
        if self._source_dir is not None and self._source_dir.name == "data" and _is_bag(self._source_dir.parent):
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

    def _copy_payload(self, data: Path, sources: Sequence[Any] | None) -> None:
        data.mkdir()  # even when empty: RFC 8493 §2 requires the payload directory
        for rel, src in zip(self._manifest.paths(), self._payload_sources(sources)):
            target = data / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, target)

    def _bag_in_place(self, sources: Sequence[Any] | None) -> Path:
        payload = self._payload_dir()
        if payload is not None:
            return payload.parent  # the payload is already a bag's: only tag files change
        folder = self._source_dir
        if folder is None or sources is None:
            raise DossierError("only a dossier hashed from a folder can be bagged in place; pass dest")
        staging = folder / f".govsig-bag-{uuid.uuid4().hex}"
        staging.mkdir()
        pairs = list(zip(self._manifest.paths(), (Path(s) for s in sources)))
        # Symlinked entries first: their targets may be moved by the renames below.
        for rel, src in pairs:
            if src.is_symlink():
                (staging / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, staging / rel)
        for rel, src in pairs:
            if not src.is_symlink():
                (staging / rel).parent.mkdir(parents=True, exist_ok=True)
                os.rename(src, staging / rel)
        for _, src in pairs:
            if src.is_symlink():
                src.unlink()
        # Directories emptied by the moves (BagIt does not record directories).
        for dirpath, _dirnames, _files in os.walk(folder, topdown=False):
            current = Path(dirpath)
            if current == folder or current == staging or staging in current.parents:
                continue
            try:
                current.rmdir()
            except OSError:
                pass
        data = folder / "data"
        if data.exists():
            raise DossierError(f"{data} is still in the way after moving the payload; the payload is in {staging}")
        os.rename(staging, data)
        self._source_dir = data
        return folder

    def _write_tag_files(self, bag: Path, date: str, extra: list[tuple[str, str]]) -> None:
        alg = self.algorithm
        agent = f"govsig {_govsig.__version__}"
        files = {
            _BAGIT_TXT: bytes(_govsig.dossier_bagit_txt()),
            f"manifest-{alg}.txt": self.manifest_bytes(),
            _BAG_INFO_TXT: bytes(self._manifest.bag_info(date, agent, extra)),
        }
        covered = dict(files)
        # Manifests of other algorithms (e.g. a bag another tool wrote) stay, and stay covered.
        for other in bag.glob("manifest-*.txt"):
            covered.setdefault(other.name, other.read_bytes())
        tagmanifest = bytes(_govsig.dossier_tagmanifest_bytes(alg, sorted(covered.items())))
        # Tag manifests of other algorithms would no longer match the new bag-info.txt.
        for stale in bag.glob("tagmanifest-*.txt"):
            if stale.name != f"tagmanifest-{alg}.txt":
                stale.unlink()
        for name, content in [*files.items(), (f"tagmanifest-{alg}.txt", tagmanifest)]:
            _write_atomically(bag / name, content)


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


@dataclasses.dataclass(frozen=True)
class InclusionProof:
    """An RFC 9162 §2.1.3 inclusion proof of one manifest line.

    ``leaf_index`` is 0-based, ``path`` is ordered from the leaf up. The JSON form is
    ``{"version": 1, "algorithm": "sha256", "leaf_index": i, "tree_size": n, "path": [hex]}``.
    """

    algorithm: str
    leaf_index: int
    tree_size: int
    path: tuple[bytes, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "algorithm", _algorithm_name(self.algorithm))
        object.__setattr__(self, "path", tuple(bytes(h) for h in self.path))
        for name in ("leaf_index", "tree_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"{name} must be an int, not {type(value).__name__}")
            if not 0 <= value < 2**64:
                raise DossierError(f"malformed inclusion proof: {name} {value} is out of range")
        _govsig.dossier_proof_check(self.algorithm, self.leaf_index, self.tree_size, list(self.path))

    def to_json(self, indent: int | None = None) -> str:
        """The JSON form (see the class docstring)."""
        return json.dumps(
            {
                "version": _PROOF_JSON_VERSION,
                "algorithm": self.algorithm,
                "leaf_index": self.leaf_index,
                "tree_size": self.tree_size,
                "path": [h.hex() for h in self.path],
            },
            indent=indent,
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> InclusionProof:
        """Parse the JSON form strictly: exactly the five keys, hex path entries."""
        try:
            obj = json.loads(text)
        except (ValueError, UnicodeDecodeError) as exc:
            raise DossierError(f"malformed inclusion proof: not JSON ({exc})") from None
        expected = {"version", "algorithm", "leaf_index", "tree_size", "path"}
        if not isinstance(obj, dict) or set(obj) != expected:
            keys = sorted(obj) if isinstance(obj, dict) else type(obj).__name__
            raise DossierError(f"malformed inclusion proof: expected keys {sorted(expected)}, got {keys}")
        if obj["version"] != _PROOF_JSON_VERSION or isinstance(obj["version"], bool):
            raise DossierError(f"malformed inclusion proof: unsupported version {obj['version']!r}")
        if not isinstance(obj["algorithm"], str):
            raise DossierError("malformed inclusion proof: algorithm must be a string")
        for key in ("leaf_index", "tree_size"):
            if isinstance(obj[key], bool) or not isinstance(obj[key], int):
                raise DossierError(f"malformed inclusion proof: {key} must be an integer")
        if not isinstance(obj["path"], list) or not all(isinstance(h, str) for h in obj["path"]):
            raise DossierError("malformed inclusion proof: path must be a list of hex strings")
        try:
            path = tuple(bytes.fromhex(h) for h in obj["path"])
        except ValueError:
            raise DossierError("malformed inclusion proof: a path entry is not hex") from None
        return cls(obj["algorithm"], obj["leaf_index"], obj["tree_size"], path)

    def to_bytes(self) -> bytes:
        """Compact binary form: version, algorithm code, tree_size and leaf_index (u64
        big-endian), path count, then the path hashes."""
        return bytes(
            _govsig.dossier_proof_to_bytes(self.algorithm, self.leaf_index, self.tree_size, list(self.path))
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> InclusionProof:
        """Parse :meth:`to_bytes` output (strict: no trailing bytes)."""
        alg, index, size, path = _govsig.dossier_proof_from_bytes(bytes(data))
        return cls(str(alg), int(index), int(size), tuple(bytes(h) for h in path))

    def verify(
        self, file: bytes | StrPath, relpath: str, root: bytes | str | Dossier, *, tree_size: int | None = None
    ) -> bool:
        """Shorthand for :func:`verify_inclusion` with this proof."""
        return verify_inclusion(file, relpath, self, root, tree_size=tree_size)


def verify_inclusion(
    file: bytes | bytearray | memoryview | StrPath,
    relpath: str,
    proof: InclusionProof | str,
    root: bytes | str | Dossier,
    *,
    tree_size: int | None = None,
) -> bool:
    """True when ``file`` (its bytes, or a path to it), named ``relpath`` in the dossier, is
    the entry ``proof`` proves under ``root``, the root of a dossier of ``tree_size`` entries.

    ``root`` is a :class:`Dossier` (its root and its number of entries), or the root as
    bytes or hex together with ``tree_size`` (required then: the number of entries the root
    was made for, e.g. the count of a signed bag's Payload-Oxum). The size is checked
    because a root hash alone does not fix it: a proof claiming another size can lead to
    the same root and so misstate the dossier's size and the entry's position.

    Needs nothing else from the dossier. ``proof`` may be an :class:`InclusionProof` or its
    JSON text. A wrong file, relpath, proof, root or size gives False; a malformed proof or
    a root of the wrong length raises :class:`DossierError`.
    """
    if isinstance(proof, str):
        proof = InclusionProof.from_json(proof)
    if not isinstance(proof, InclusionProof):
        raise TypeError(f"proof must be an InclusionProof or its JSON, not {type(proof).__name__}")
    if isinstance(root, Dossier):
        if tree_size is not None and tree_size != len(root):
            raise ValueError(f"tree_size={tree_size!r} contradicts the dossier given as root ({len(root)} entries)")
        root, tree_size = root.root, len(root)
    if tree_size is None:
        raise TypeError(
            "verify_inclusion needs tree_size=, the number of entries the root covers "
            "(or pass the Dossier itself as root)"
        )
    if isinstance(tree_size, bool) or not isinstance(tree_size, int):
        raise TypeError(f"tree_size must be an int, not {type(tree_size).__name__}")
    if not 0 < tree_size < 2**64:
        raise ValueError(f"tree_size must be between 1 and 2**64 - 1, not {tree_size}")
    if isinstance(root, str):
        try:
            root = bytes.fromhex(root)
        except ValueError:
            raise DossierError("root is not hex") from None
    if isinstance(file, (bytes, bytearray, memoryview)):
        digest = bytes(_govsig.dossier_hash_bytes(bytes(file), proof.algorithm))
    elif isinstance(file, (str, os.PathLike)):
        digest = bytes(_govsig.dossier_hash_file(Path(file), proof.algorithm)[0])
    else:
        raise TypeError(f"file must be bytes or a path, not {type(file).__name__}")
    return bool(
        _govsig.dossier_verify_entry(
            proof.algorithm, proof.leaf_index, proof.tree_size, list(proof.path), digest, relpath, bytes(root),
            tree_size,
        )
    )


def _parse_tag_file(path: Path) -> list[tuple[str, str]]:
    try:
        return [(str(a), str(b)) for a, b in _govsig.dossier_parse_tag_file(path.read_bytes())]
    except DossierError as exc:
        raise BagError(f"{path}: {exc}") from None


def _check_tagmanifest(bag: Path, alg: str) -> None:
    tagmanifest = bag / f"tagmanifest-{alg}.txt"
    if not tagmanifest.is_file():
        return
    try:
        entries = _govsig.dossier_parse_tagmanifest(alg, tagmanifest.read_bytes())
    except DossierError as exc:
        raise BagError(f"{tagmanifest}: {exc}") from None
    for name, digest in entries:
        try:
            # Streamed: a tag manifest may list any file, however large.
            actual = _govsig.dossier_hash_file(bag / name, alg)[0]
        except FileNotFoundError:
            raise BagError(f"{tagmanifest.name} lists {name}, which is missing") from None
        if bytes(actual) != bytes(digest):
            raise BagError(f"{name} does not match {tagmanifest.name}: the bag's metadata was altered")


def _write_atomically(path: Path, content: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    tmp.write_bytes(content)
    os.replace(tmp, path)
