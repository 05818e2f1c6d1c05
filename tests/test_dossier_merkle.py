"""Merkle roots and inclusion proofs against an independent reference written here from the
text of RFC 9162 §2.1 (MTH, PATH and the §2.1.3.2 verification algorithm)."""
from __future__ import annotations

import functools
import hashlib
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import govsig
from govsig import Dossier, DossierError, InclusionProof, verify_inclusion

# --- reference, straight from RFC 9162 ------------------------------------------------------


def ref_leaf(line: bytes, h=hashlib.sha256) -> bytes:
    """§2.1.1: MTH({d(0)}) = HASH(0x00 || d(0))."""
    return h(b"\x00" + line).digest()


def ref_node(left: bytes, right: bytes, h=hashlib.sha256) -> bytes:
    """§2.1.1: HASH(0x01 || MTH(D[0:k]) || MTH(D[k:n]))."""
    return h(b"\x01" + left + right).digest()


def ref_split(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def ref_root(lines: list[bytes], h=hashlib.sha256) -> bytes:
    """§2.1.1 MTH by its recursive definition (no memo: each subtree is visited once)."""

    def mth(lo: int, hi: int) -> bytes:
        if hi - lo == 0:
            return h(b"").digest()
        if hi - lo == 1:
            return ref_leaf(lines[lo], h)
        k = ref_split(hi - lo)
        return ref_node(mth(lo, lo + k), mth(lo + k, hi), h)

    return mth(0, len(lines))


class RefTree:
    """MTH and PATH over a list of leaf inputs, memoised by sub-range."""

    def __init__(self, lines: list[bytes], h=hashlib.sha256) -> None:
        self.h = h
        self.leaves = [ref_leaf(x, h) for x in lines]
        self.mth = functools.lru_cache(maxsize=None)(self._mth)

    def _mth(self, lo: int, hi: int) -> bytes:
        n = hi - lo
        if n == 0:
            return self.h(b"").digest()
        if n == 1:
            return self.leaves[lo]
        k = ref_split(n)
        return ref_node(self.mth(lo, lo + k), self.mth(lo + k, hi), self.h)

    def root(self) -> bytes:
        return self.mth(0, len(self.leaves))

    def path(self, m: int, lo: int = 0, hi: int | None = None) -> list[bytes]:
        """§2.1.3.1 PATH(m, D[n]), leaf first."""
        hi = len(self.leaves) if hi is None else hi
        n = hi - lo
        if n <= 1:
            return []
        k = ref_split(n)
        if m < k:
            return self.path(m, lo, lo + k) + [self.mth(lo + k, hi)]
        return self.path(m - k, lo + k, hi) + [self.mth(lo, lo + k)]


def ref_verify(leaf_index: int, tree_size: int, path: list[bytes], leaf: bytes, root: bytes, h=hashlib.sha256) -> bool:
    """§2.1.3.2, step by step."""
    if leaf_index >= tree_size:
        return False
    fn, sn, r = leaf_index, tree_size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = ref_node(p, r, h)
            if not fn & 1:
                while not (fn & 1) and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = ref_node(r, p, h)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def manifest_line(digest: bytes, relpath: str) -> bytes:
    """The canonical manifest line (RFC 8493 §2.1.3 percent-encoding of %, LF, CR)."""
    enc = relpath.replace("%", "%25").replace("\n", "%0A").replace("\r", "%0D")
    return f"{digest.hex()} data/{enc}".encode()


def synthetic_dossier(n: int, seed: int = 0) -> tuple[Dossier, list[str], list[bytes]]:
    """A dossier of n entries built from manifest text (no files): paths, contents."""
    paths = sorted((f"doc-{seed}-{i:05d}.pdf" for i in range(n)), key=str.encode)
    contents = [f"content {seed} {i}".encode() for i in range(n)]
    text = b"".join(manifest_line(hashlib.sha256(c).digest(), p) + b"\n" for p, c in zip(paths, contents))
    return Dossier.from_manifest(text), paths, contents


# --- tests -----------------------------------------------------------------------------------


def test_empty_root_is_hash_of_empty_string():
    d, _, _ = synthetic_dossier(0)
    assert d.root == hashlib.sha256(b"").digest()


def test_roots_and_every_proof_match_the_reference_for_sizes_0_to_300():
    for n in range(0, 301):
        d, paths, contents = synthetic_dossier(n, seed=n)
        lines = [manifest_line(hashlib.sha256(c).digest(), p) for p, c in zip(paths, contents)]
        ref = RefTree(lines)
        assert d.root == ref.root() == ref_root(lines), f"root differs at n={n}"
        # Every leaf's path; the (slower) verifications for all leaves of small trees and a
        # spread over both edges and the unbalanced right side of the larger ones.
        checked = set(range(n)) if n <= 64 else {0, 1, n // 3, n // 2, n - 2, n - 1, *range(64, n, 17)}
        for m in range(n):
            p = d.proof(paths[m])
            assert (p.leaf_index, p.tree_size) == (m, n)
            assert list(p.path) == ref.path(m), f"path differs at m={m} n={n}"
            if m in checked:
                assert ref_verify(m, n, list(p.path), ref.leaves[m], d.root)
                assert verify_inclusion(contents[m], paths[m], p, d)


@st.composite
def dossiers(draw):
    names = draw(
        st.lists(
            st.text(
                alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00/"),
                min_size=1,
                max_size=12,
            ).filter(lambda s: s not in (".", "..")),
            min_size=1,
            max_size=80,
            unique_by=lambda s: __import__("unicodedata").normalize("NFC", s),
        )
    )
    contents = draw(st.lists(st.binary(max_size=40), min_size=len(names), max_size=len(names)))
    return names, contents


def build(names: list[str], contents: list[bytes]) -> tuple[Dossier, list[str], list[bytes]]:
    import unicodedata

    nfc = [unicodedata.normalize("NFC", x) for x in names]
    order = sorted(range(len(nfc)), key=lambda i: nfc[i].encode())
    paths = [nfc[i] for i in order]
    data = [contents[i] for i in order]
    text = b"".join(manifest_line(hashlib.sha256(c).digest(), p) + b"\n" for p, c in zip(paths, data))
    return Dossier.from_manifest(text), paths, data


def fails(file: bytes, relpath: str, proof, root, tree_size=None) -> bool:
    """An altered proof must not verify: False, or rejected as malformed. ``proof`` may be a
    callable building the proof, for alterations that are malformed at construction."""
    try:
        return not verify_inclusion(file, relpath, proof() if callable(proof) else proof, root, tree_size=tree_size)
    except DossierError:
        return True


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(dossiers(), st.data())
def test_random_trees_and_every_alteration_fails(tree, data):
    names, contents = tree
    d, paths, files = build(names, contents)
    lines = [manifest_line(hashlib.sha256(c).digest(), p) for p, c in zip(paths, files)]
    ref = RefTree(lines)
    assert d.root == ref.root()
    m = data.draw(st.integers(0, len(paths) - 1))
    p = d.proof(paths[m])
    assert list(p.path) == ref.path(m)
    assert verify_inclusion(files[m], paths[m], p, d)
    assert InclusionProof.from_json(p.to_json()) == p
    assert InclusionProof.from_bytes(p.to_bytes()) == p

    # Any flipped bit in any path hash.
    if p.path:
        i = data.draw(st.integers(0, len(p.path) - 1))
        bit = data.draw(st.integers(0, 8 * len(p.path[i]) - 1))
        h = bytearray(p.path[i])
        h[bit // 8] ^= 1 << (bit % 8)
        altered = InclusionProof(p.algorithm, p.leaf_index, p.tree_size, p.path[:i] + (bytes(h),) + p.path[i + 1 :])
        assert fails(files[m], paths[m], altered, d)
        # A dropped hash, or an extra one.
        assert fails(files[m], paths[m], InclusionProof(p.algorithm, m, p.tree_size, p.path[:-1]), d)
    assert fails(files[m], paths[m], InclusionProof(p.algorithm, m, p.tree_size, p.path + (b"\0" * 32,)), d)
    # Another leaf index in the same tree (or past its end).
    other = data.draw(st.integers(0, 2 * len(paths)))
    if other != m:
        assert fails(files[m], paths[m], lambda: InclusionProof(p.algorithm, other, p.tree_size, p.path), d)
    # Another (index, size): RFC 9162 roots do not commit to the tree size (CT signs it beside
    # the root), so e.g. leaf 2 of 3 and leaf 4 of 5 have the same audit-path shape and the
    # RFC's own algorithm accepts both. govsig binds the root to its size as CT does: it
    # accepts exactly what the RFC verifier accepts for the dossier's own size, nothing else.
    size = data.draw(st.integers(1, 3 * len(paths) + 2))
    index = data.draw(st.integers(0, size - 1))
    moved = InclusionProof(p.algorithm, index, size, p.path)
    leaf = ref_leaf(lines[m])
    expected = ref_verify(index, size, list(p.path), leaf, d.root)
    assert verify_inclusion(files[m], paths[m], moved, d) == (expected and size == len(paths))
    if len(RefTree([b""] * size).path(index)) != len(p.path):
        assert not expected
    # Any flipped bit of the file.
    if files[m]:
        bit = data.draw(st.integers(0, 8 * len(files[m]) - 1))
        f = bytearray(files[m])
        f[bit // 8] ^= 1 << (bit % 8)
        assert fails(bytes(f), paths[m], p, d)
    assert fails(files[m] + b"\0", paths[m], p, d)
    # Another relpath (including another file's).
    assert fails(files[m], paths[m] + "x", p, d)
    if len(paths) > 1:
        assert fails(files[m], paths[(m + 1) % len(paths)], p, d)
    # Any flipped bit of the root.
    bit = data.draw(st.integers(0, 255))
    r = bytearray(d.root)
    r[bit // 8] ^= 1 << (bit % 8)
    assert fails(files[m], paths[m], p, bytes(r), len(d))


def test_sha384_and_sha512_trees_use_their_own_hash():
    for alg, h, width in (("sha384", hashlib.sha384, 48), ("sha512", hashlib.sha512, 64)):
        paths = [f"f{i}" for i in range(7)]
        files = [bytes([i]) * i for i in range(7)]
        text = b"".join(f"{h(c).hexdigest()} data/{p}\n".encode() for p, c in zip(paths, files))
        d = Dossier.from_manifest(text, alg)
        lines = [f"{h(c).hexdigest()} data/{p}".encode() for p, c in zip(paths, files)]
        assert d.root == RefTree(lines, h).root()
        assert d.digests.shape == (7, width)
        p = d.proof("f3")
        assert p.algorithm == alg and all(len(x) == width for x in p.path)
        assert verify_inclusion(files[3], "f3", p, d)
        assert json.loads(p.to_json())["algorithm"] == alg


def test_proof_json_form_is_the_documented_one_and_parsing_is_strict():
    d, paths, files = synthetic_dossier(5)
    p = d.proof(paths[4])
    obj = json.loads(p.to_json())
    assert obj == {
        "version": 1,
        "algorithm": "sha256",
        "leaf_index": 4,
        "tree_size": 5,
        "path": [h.hex() for h in p.path],
    }
    bad = [
        "not json",
        "[]",
        json.dumps({**obj, "extra": 1}),
        json.dumps({k: v for k, v in obj.items() if k != "path"}),
        json.dumps({**obj, "version": 2}),
        json.dumps({**obj, "version": True}),
        json.dumps({**obj, "leaf_index": True}),
        json.dumps({**obj, "leaf_index": "4"}),
        json.dumps({**obj, "leaf_index": 5}),
        json.dumps({**obj, "tree_size": -1}),
        json.dumps({**obj, "algorithm": "md5"}),
        json.dumps({**obj, "path": ["zz"]}),
        json.dumps({**obj, "path": [obj["path"][0][:-2]]}),
        json.dumps({**obj, "path": "abcd"}),
        json.dumps({**obj, "path": ["00" * 32] * 65, "tree_size": 2**64 - 1}),
    ]
    for text in bad:
        with pytest.raises(DossierError):
            InclusionProof.from_json(text)
    # The JSON text itself is accepted by verify_inclusion.
    assert verify_inclusion(files[4], paths[4], p.to_json(), d.hexroot, tree_size=len(d))
    raw = p.to_bytes()
    assert raw[0] == 1 and raw[1] == 1 and len(raw) == 19 + 32 * len(p.path)
    for cut in (0, 5, 18, len(raw) - 1):
        with pytest.raises(DossierError):
            InclusionProof.from_bytes(raw[:cut])
    with pytest.raises(DossierError):
        InclusionProof.from_bytes(raw + b"\0")


def test_root_of_wrong_length_is_misuse_not_false():
    d, paths, files = synthetic_dossier(3)
    p = d.proof(paths[0])
    with pytest.raises(DossierError, match="32"):
        verify_inclusion(files[0], paths[0], p, d.root[:31], tree_size=len(d))
    with pytest.raises(TypeError):
        verify_inclusion(files[0], paths[0], object(), d.root, tree_size=3)  # type: ignore[arg-type]
    assert govsig.InclusionProof is InclusionProof


def test_a_proof_for_one_size_replayed_against_a_root_of_another_size_fails():
    # Leaf 0 of a 4-entry dossier: the same two path hashes walk to the same root when the
    # proof claims 3 entries, so only the size bound to the root tells them apart.
    d, paths, files = synthetic_dossier(4)
    p = d.proof(paths[0])
    replayed = InclusionProof(p.algorithm, 0, 3, p.path)
    assert ref_verify(0, 3, list(p.path), ref_leaf(manifest_line(hashlib.sha256(files[0]).digest(), paths[0])), d.root)
    assert verify_inclusion(files[0], paths[0], p, d)
    assert verify_inclusion(files[0], paths[0], p, d.hexroot, tree_size=4)
    assert not verify_inclusion(files[0], paths[0], replayed, d)
    assert not verify_inclusion(files[0], paths[0], replayed, d.root, tree_size=4)
    assert not verify_inclusion(files[0], paths[0], p, d.root, tree_size=3)
    with pytest.raises(TypeError, match="needs tree_size="):
        verify_inclusion(files[0], paths[0], p, d.root)
    with pytest.raises(ValueError, match="contradicts the dossier"):
        verify_inclusion(files[0], paths[0], p, d, tree_size=3)
