"""The archive walk cut into subtrees (``walk_split`` / ``walk_subtree``, what lets
``govsig.dask.verify_archive`` walk on the workers) and ``ArchiveJob.run(entries)``, the hook
for verifying a list of entries someone else walked."""
from __future__ import annotations

import datetime as dt

import json
import os
import shutil
from pathlib import Path

import pytest

import govsig
import pki as P
from archive_util import CONTENT
from govsig.archive import ArchiveJob
from govsig.archive.report import job_context
from govsig.archive.walk import Entry, Subtree, walk, walk_split, walk_subtree


def _tree(root: Path, pki) -> None:
    """Folders three deep, documents at every level, and what a walk must not trip on: a
    link back to the root, a link to a sibling folder, a dangling link, a FIFO, a detached
    pair, a name that is not UTF-8, an empty folder."""
    sig = P.sign_cms(CONTENT, pki.rsa_leaf, detached=False)
    det = P.sign_cms(CONTENT, pki.p256_leaf)
    for d in ["a", "a/x", "a/x/deep", "a/y", "b", "c-empty", "d"]:
        (root / d).mkdir(parents=True)
    for d in ["", "a", "a/x", "a/x/deep", "a/y", "b", "d"]:
        (root / d / "att.p7m").write_bytes(sig)
        (root / d / "doc.txt.p7s").write_bytes(det)
        (root / d / "doc.txt").write_bytes(CONTENT)
        (root / d / "notes.txt").write_bytes(b"not a document")
    os.symlink("../..", root / "a" / "x" / "up")       # back to the root: a loop when followed
    os.symlink("../b", root / "a" / "to-b")            # a sibling folder: walked again when followed
    os.symlink("nowhere.p7s", root / "d" / "dangling.p7s")
    os.mkfifo(root / "b" / "pipe.p7s")
    with open(os.path.join(os.fsencode(root / "d"), b"t\xean-\xff.p7m"), "wb") as f:
        f.write(sig)


def _spliced(roots: list[bytes], follow: bool, depth: int) -> list[Entry]:
    out: list[Entry] = []
    for u in walk_split(roots, follow_symlinks=follow, depth=depth):
        out.extend(walk_subtree(u, follow_symlinks=follow) if isinstance(u, Subtree) else [u])
    return out


@pytest.mark.parametrize("follow", [False, True], ids=["no-follow", "follow-symlinks"])
@pytest.mark.parametrize("depth", [1, 2, 3, 5])
def test_subtrees_spliced_back_give_the_whole_walk(pki, tmp_path, follow, depth) -> None:
    root = tmp_path / "archive"
    _tree(root, pki)
    single = tmp_path / "one.p7m"
    single.write_bytes(P.sign_cms(CONTENT, pki.rsa_leaf, detached=False))
    roots = [os.fsencode(root), os.fsencode(single), os.fsencode(tmp_path / "missing")]
    whole = list(walk(roots, follow_symlinks=follow))
    assert _spliced(roots, follow, depth) == whole
    codes = {e.path.rsplit(b"/", 1)[-1]: e.code for e in whole}
    assert codes[b"pipe.p7s"] == "file_skipped"
    if follow:
        assert codes[b"up"] == "file_symlink_loop"   # still a loop when found inside a subtree
    # Depth 1 leaves the top-level folders to subtrees; the client lists only the root.
    split = list(walk_split(roots, follow_symlinks=follow, depth=1))
    assert [os.path.basename(u.path) for u in split if isinstance(u, Subtree)] == [b"a", b"b", b"c-empty", b"d"]


def test_a_subtree_gone_before_its_task_is_one_vanished_entry(pki, tmp_path) -> None:
    root = tmp_path / "archive"
    _tree(root, pki)
    subs = [u for u in walk_split([os.fsencode(root)], depth=1) if isinstance(u, Subtree)]
    shutil.rmtree(root / "b")
    (gone,) = [s for s in subs if s.path.endswith(b"/b")]
    assert list(walk_subtree(gone)) == [Entry(gone.path, "file_vanished", "the folder disappeared while it was walked")]
    with pytest.raises(ValueError, match="depth must be a positive int"):
        walk_split([os.fsencode(root)], depth=0)


def test_archive_job_verifies_the_entries_it_is_given(pki, tmp_path) -> None:
    root = tmp_path / "archive"
    _tree(root, pki)
    # One validation instant for both runs: with none, each signature is judged at the time
    # it is verified, and two runs a second apart differ in signature_time (seen in CI).
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    policy = govsig.Policy(trust=[r.cert for r in pki.roots], intermediates=[pki.rsa_intermediate.cert], at=now)
    ctx = job_context(policy, at=None, validated_at="2026-01-01T00:00:00Z", fetch=False, max_size=None,
                      follow_symlinks=False)
    walked: list[str] = []
    ArchiveJob(govsig.Verifier(policy), [os.fsencode(root)], context=ctx, sink=walked.append, chunk_size=3).run()
    # The same entries handed over (here as a generator, consumed by the job's reader thread):
    # the same lines, in the same order; and each chunk's rows as made.
    given: list[str] = []
    rows: list = []
    entries = (e for e in walk([os.fsencode(root)]))
    summary = ArchiveJob(govsig.Verifier(policy), [], context=ctx, sink=given.append, row_sink=rows.extend,
                         chunk_size=3).run(entries)
    assert given == walked and summary.total == len(walked)
    assert [r[5] for r in rows] == walked and [r[1] for r in rows] == list(range(len(walked)))
    assert [(r[2], r[3], r[4]) for r in rows] == [
        (d["code"], d["ok"], d["revocation_status"]) for d in map(json.loads, walked)]
    assert {d["code"] for d in map(json.loads, walked)} == {"ok", "file_skipped"}
