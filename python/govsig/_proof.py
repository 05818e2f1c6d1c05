"""Inclusion proofs of dossier entries (RFC 9162 §2.1.3): the proof object, its JSON and
binary forms, and checking one file against a signed root without the rest of the dossier."""
from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Union

from govsig import _govsig
from govsig._bagit import algorithm_name
from govsig._govsig import DossierError

if TYPE_CHECKING:
    from govsig.dossier import Dossier

__all__ = ["InclusionProof", "verify_inclusion"]

StrPath = Union[str, "os.PathLike[str]"]

_PROOF_JSON_VERSION = 1


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
        object.__setattr__(self, "algorithm", algorithm_name(self.algorithm))
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
        except RecursionError:
            # json recurses once per nested array or object: "[" * 100000 is not a proof.
            raise DossierError("malformed inclusion proof: not JSON (nested too deeply)") from None
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
        self, file: bytes | StrPath, relpath: str, root: bytes | str | "Dossier", *, tree_size: int | None = None
    ) -> bool:
        """Shorthand for :func:`verify_inclusion` with this proof."""
        return verify_inclusion(file, relpath, self, root, tree_size=tree_size)


def verify_inclusion(
    file: bytes | bytearray | memoryview | StrPath,
    relpath: str,
    proof: InclusionProof | str,
    root: bytes | str | "Dossier",
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
    if not isinstance(root, (bytes, bytearray, str)):
        # A Dossier (imported lazily: dossier.py builds proofs with this module).
        from govsig.dossier import Dossier

        if not isinstance(root, Dossier):
            raise TypeError(f"root must be bytes, hex or a Dossier, not {type(root).__name__}")
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
