"""BagIt (RFC 8493) I/O for dossiers: reading a bag's declaration, manifests and tag
manifest, and writing a bag (payload moved or copied under ``data/``, then the tag files,
each written atomically). The manifest, tag-file syntax and digests are the core's."""
from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Sequence
from pathlib import Path

from govsig import _govsig
from govsig._govsig import DOSSIER_ALGORITHMS, DossierError
from govsig._regular import FileTooLarge, read_regular_file

__all__ = ["BagError", "algorithm_name", "bag_in_place", "check_tagmanifest", "copy_payload", "is_bag",
           "parse_tag_file", "payload_folder", "read_bag", "read_bag_file", "write_atomically", "write_tag_files"]

BAGIT_TXT = "bagit.txt"
BAG_INFO_TXT = "bag-info.txt"

# Bounds on what is read of a bag's own files (a bag is outside input: a portal receives it).
# A payload manifest line is a digest and a path, about 100-200 bytes: 1 GiB holds several
# million entries. Tag files (bagit.txt, bag-info.txt) and tag manifests are small; the
# signature over the tag manifest may carry CRLs and time-stamps.
MANIFEST_MAX = 1 << 30
TAG_FILE_MAX = 16 << 20
SIGNATURE_MAX = 64 << 20


class BagError(DossierError):
    """A bag that is not one, or whose tag files are malformed or contradict each other."""


def algorithm_name(algorithm: str) -> str:
    """The canonical name of a dossier digest algorithm (``"SHA-256"`` -> ``"sha256"``)."""
    if not isinstance(algorithm, str):
        raise TypeError(f"algorithm must be a str, not {type(algorithm).__name__}")
    # The core accepts "SHA-256" too; normalising here keeps attribute values canonical.
    name = algorithm.lower().replace("-", "").replace("_", "")
    if name not in DOSSIER_ALGORITHMS:
        raise DossierError(
            f"unknown digest algorithm {algorithm!r}; supported: {', '.join(DOSSIER_ALGORITHMS)}"
        )
    return name


def read_bag_file(path: Path, max_bytes: int, what: str) -> bytes:
    """The bytes of one of a bag's own files (declaration, manifest, tag file, signature;
    ``what`` names its role in messages): :class:`BagError` when it is a directory, is not a
    regular file (a FIFO would block, a device never ends), is larger than ``max_bytes``, or is
    a symlink that leads out of the bag (as payload symlinks do not count either);
    FileNotFoundError when it is missing."""
    bag = path.parent.resolve()
    if path.is_symlink() and bag not in path.resolve().parents:
        raise BagError(f"{path} is a symlink to {path.resolve()}, outside the bag; "
                       f"a bag's own files are read inside it only")
    try:
        return read_regular_file(path, f"a bag's {path.name}", max_bytes)
    except FileTooLarge as exc:
        raise BagError(f"{path} is {exc.size} bytes; govsig reads a bag's {path.name} of at most "
                       f"{exc.limit} bytes") from None
    except IsADirectoryError:
        raise BagError(f"{path} is a directory, not {what}") from None
    except ValueError as exc:  # a FIFO, a device, a socket
        raise BagError(str(exc)) from None


def payload_folder(bag: Path) -> Path:
    """``bag``'s ``data/`` folder; :class:`BagError` when it is a symlink that leads out of
    the bag (hashing it would read, and list as added, whatever folder it names: ``/``)."""
    data = bag / "data"
    if data.is_symlink() and bag.resolve() not in data.resolve().parents:
        raise BagError(f"{data} is a symlink to {data.resolve()}, outside the bag; a bag's payload is "
                       f"read inside it only")
    return data


def is_bag(path: Path) -> bool:
    """A folder with a bag declaration and a payload directory."""
    return (path / BAGIT_TXT).is_file() and (path / "data").is_dir()


def read_bag(bag: Path, algorithm: str | None) -> _govsig.DossierManifest:
    """The payload manifest of the bag at ``bag`` (``manifest-<algorithm>.txt``; default:
    sha256, else sha512, else sha384), after checking the declaration, the tag manifest and
    a govsig root in bag-info.txt against it; :class:`BagError` otherwise."""
    declaration = bag / BAGIT_TXT
    # lexists, not is_file: a declaration, manifest or tag manifest that is there but is not a
    # regular file inside the bag gets read_bag_file's own message, not "missing".
    if not os.path.lexists(declaration):
        raise BagError(f"{bag} is not a bag: it has no {BAGIT_TXT}")
    fields = dict(parse_tag_file(declaration))
    if "BagIt-Version" not in fields:
        raise BagError(f"{declaration} has no BagIt-Version")
    encoding = fields.get("Tag-File-Character-Encoding", "")
    if encoding.upper().replace("_", "-") not in ("UTF-8", "UTF8"):
        raise BagError(f"{declaration}: tag files in {encoding!r} are not supported, only UTF-8")
    if algorithm is None:
        found = [a for a in ("sha256", "sha512", "sha384") if os.path.lexists(bag / f"manifest-{a}.txt")]
        if not found:
            present = sorted(p.name for p in bag.glob("manifest-*.txt"))
            raise BagError(
                f"{bag} has no manifest in {', '.join(DOSSIER_ALGORITHMS)} (found: {present or 'none'})"
            )
        alg = found[0]
    else:
        alg = algorithm_name(algorithm)
    manifest_path = bag / f"manifest-{alg}.txt"
    try:
        data = read_bag_file(manifest_path, MANIFEST_MAX, "a manifest")
    except FileNotFoundError:
        raise BagError(f"{bag} has no {manifest_path.name}") from None
    try:
        manifest = _govsig.DossierManifest.parse(alg, data, bag / "data")
    except DossierError as exc:
        raise BagError(f"{manifest_path}: {exc}") from None
    check_tagmanifest(bag, alg)
    info_path = bag / BAG_INFO_TXT
    if info_path.is_file():
        for label, value in parse_tag_file(info_path):
            if label.lower() != _govsig.DOSSIER_ROOT_LABEL.lower():
                continue
            root_alg, _, hexroot = value.partition(":")
            if root_alg == alg and hexroot.lower() != manifest.root().hex():
                raise BagError(
                    f"{info_path}: {_govsig.DOSSIER_ROOT_LABEL} {value} does not match the root "
                    f"of {manifest_path.name} ({manifest.root().hex()}): the manifest was altered"
                )
    return manifest


def copy_payload(data: Path, relpaths: Sequence[str], sources: Sequence[Path]) -> None:
    """Copies each source file to ``data/<relpath>``."""
    data.mkdir()  # even when empty: RFC 8493 §2 requires the payload directory
    for rel, src in zip(relpaths, sources):
        target = data / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, target)


def bag_in_place(folder: Path, relpaths: Sequence[str], sources: Sequence[Path]) -> Path:
    """Moves the payload of ``folder`` under ``folder/data`` by its relpaths (files reached
    through symlinks are copied, the links removed) and returns ``folder/data``."""
    staging = folder / f".govsig-bag-{uuid.uuid4().hex}"
    staging.mkdir()
    pairs = list(zip(relpaths, sources))
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
    return data


def write_tag_files(bag: Path, manifest: _govsig.DossierManifest, alg: str, date: str,
                    extra: list[tuple[str, str]]) -> None:
    """Writes bagit.txt, the payload manifest, bag-info.txt and the tag manifest of ``alg``."""
    agent = f"govsig {_govsig.__version__}"
    files = {
        BAGIT_TXT: bytes(_govsig.dossier_bagit_txt()),
        f"manifest-{alg}.txt": bytes(manifest.manifest_bytes()),
        BAG_INFO_TXT: bytes(manifest.bag_info(date, agent, extra)),
    }
    covered = dict(files)
    # Manifests of other algorithms (e.g. a bag another tool wrote) stay, and stay covered.
    for other in bag.glob("manifest-*.txt"):
        covered.setdefault(other.name, read_bag_file(other, MANIFEST_MAX, "a manifest"))
    tagmanifest = bytes(_govsig.dossier_tagmanifest_bytes(alg, sorted(covered.items())))
    # Tag manifests of other algorithms would no longer match the new bag-info.txt.
    for stale in bag.glob("tagmanifest-*.txt"):
        if stale.name != f"tagmanifest-{alg}.txt":
            stale.unlink()
    for name, content in [*files.items(), (f"tagmanifest-{alg}.txt", tagmanifest)]:
        write_atomically(bag / name, content)


def parse_tag_file(path: Path) -> list[tuple[str, str]]:
    """The (label, value) lines of a tag file (bagit.txt, bag-info.txt), or BagError."""
    try:
        data = read_bag_file(path, TAG_FILE_MAX, "a tag file")
    except FileNotFoundError:
        raise BagError(f"{path} is missing") from None
    try:
        return [(str(a), str(b)) for a, b in _govsig.dossier_parse_tag_file(data)]
    except DossierError as exc:
        raise BagError(f"{path}: {exc}") from None


def check_tagmanifest(bag: Path, alg: str) -> None:
    """BagError unless every file the tag manifest of ``alg`` lists (if there is one) matches."""
    tagmanifest = bag / f"tagmanifest-{alg}.txt"
    if not os.path.lexists(tagmanifest):
        return
    data = read_bag_file(tagmanifest, TAG_FILE_MAX, "a tag manifest")
    try:
        entries = _govsig.dossier_parse_tagmanifest(alg, data)
    except DossierError as exc:
        raise BagError(f"{tagmanifest}: {exc}") from None
    for name, digest in entries:
        listed = bag / name
        # Resolved whole: a link in any component (a tag folder linked elsewhere) counts.
        if bag.resolve() not in listed.resolve().parents:
            raise BagError(f"{tagmanifest.name} lists {name}, a symlink to outside the bag")
        try:
            # Streamed: a tag manifest may list any file, however large.
            actual = _govsig.dossier_hash_file(listed, alg)[0]
        except FileNotFoundError:
            raise BagError(f"{tagmanifest.name} lists {name}, which is missing") from None
        except OSError as exc:  # a FIFO or device (special_file), unreadable, ...
            raise BagError(f"{tagmanifest.name} lists {name}, which cannot be hashed: {exc}") from None
        if bytes(actual) != bytes(digest):
            raise BagError(f"{name} does not match {tagmanifest.name}: the bag's metadata was altered")


def write_atomically(path: Path, content: bytes) -> None:
    """Writes ``content`` to a temporary file beside ``path``, then renames it over ``path``."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    tmp.write_bytes(content)
    os.replace(tmp, path)
