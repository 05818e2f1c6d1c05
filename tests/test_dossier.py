"""Dossier hashing, bags, comparison and per-file errors, on real files under a temp dir."""
from __future__ import annotations

import hashlib
import json
import os
import pwd
import socket
import stat
import unicodedata
from pathlib import Path

import numpy as np
import pytest

import govsig
from govsig import BagError, Dossier, DossierError, HashError, verify_inclusion
from test_dossier_merkle import manifest_line, ref_root

NFC_NAME = unicodedata.normalize("NFC", "Hồ sơ đăng ký.pdf")
NFD_NAME = unicodedata.normalize("NFD", NFC_NAME)


def write(root: Path, rel: str, content: bytes) -> Path:
    p = root / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(content)
    return p


def sha(b: bytes) -> bytes:
    return hashlib.sha256(b).digest()


def reference_root(files: dict[str, bytes]) -> bytes:
    paths = sorted(files, key=str.encode)
    return ref_root([manifest_line(sha(files[p]), p) for p in paths])


@pytest.fixture
def sample(tmp_path: Path) -> tuple[Path, dict[str, bytes]]:
    files = {
        "a.pdf": b"alpha" * 1000,
        "B/scan 01.tif": os.urandom(300_000),
        "B/c/empty.txt": b"",
        NFC_NAME: b"vietnamese",
        "z%25 odd.txt": b"percent",
    }
    root = tmp_path / "dossier"
    for rel, content in files.items():
        write(root, rel, content)
    return root, files


def test_hash_folder_gives_sorted_nfc_paths_sizes_digests_and_reference_root(sample):
    root, files = sample
    d = Dossier.hash(root)
    assert d.ok and d.errors == ()
    assert d.paths == sorted(files, key=str.encode)
    assert d.sizes.dtype == np.uint64 and d.sizes.tolist() == [len(files[p]) for p in d.paths]
    assert d.digests.dtype == np.uint8 and d.digests.shape == (len(files), 32)
    assert [bytes(row) for row in d.digests] == [sha(files[p]) for p in d.paths]
    assert d.root == reference_root(files)
    assert d.total_bytes == sum(len(c) for c in files.values())
    assert d.line("a.pdf") == f"{sha(files['a.pdf']).hex()} data/a.pdf"
    # RFC 8493 §2.1.3: a literal % in a name is written %25 in the manifest line.
    assert d.line("z%25 odd.txt").endswith(" data/z%2525 odd.txt")
    assert d.manifest_bytes().decode().splitlines() == [d.line(p) for p in d.paths]
    for threads in (1, 2, 5):
        assert Dossier.hash(root, threads=threads).root == d.root


def test_sha384_and_sha512(sample):
    root, files = sample
    for alg, width, h in (("sha384", 48, hashlib.sha384), ("SHA-512", 64, hashlib.sha512)):
        d = Dossier.hash(root, algorithm=alg)
        assert d.digests.shape == (len(files), width)
        assert bytes(d.digests[0]) == h(files[d.paths[0]]).digest()
        assert len(d.root) == width
    with pytest.raises(DossierError, match="unknown digest algorithm"):
        Dossier.hash(root, algorithm="md5")
    with pytest.raises(ValueError):
        Dossier.hash(root, threads=0)


def test_hash_from_a_list_of_paths(sample, tmp_path):
    root, files = sample
    listed = [root / "a.pdf", root / "B"]  # a directory in the list is walked
    d = Dossier.hash(listed, root=root)
    assert d.paths == ["B/c/empty.txt", "B/scan 01.tif", "a.pdf"]
    # Without root=, the deepest common parent directory is the root.
    d2 = Dossier.hash([root / "B" / "scan 01.tif", root / "B" / "c" / "empty.txt"])
    assert d2.paths == ["c/empty.txt", "scan 01.tif"]
    outside = write(tmp_path, "elsewhere.txt", b"x")
    d3 = Dossier.hash([root / "a.pdf", outside, root / "nope.pdf"], root=root)
    assert d3.paths == ["a.pdf"]
    assert {(e.relpath.rsplit("/", 1)[-1], e.code) for e in d3.errors} == {
        ("elsewhere.txt", "outside_dossier"),
        ("nope.pdf", "not_found"),
    }
    with pytest.raises(ValueError):
        Dossier.hash([])


def test_empty_dossier(tmp_path):
    root = tmp_path / "empty"
    root.mkdir()
    d = Dossier.hash(root)
    assert len(d) == 0 and d.paths == []
    assert d.root == hashlib.sha256(b"").digest()
    assert d.sizes.shape == (0,) and d.digests.shape == (0, 32)
    bag = d.write_bag(tmp_path / "bag")
    info = (bag / "bag-info.txt").read_text()
    assert "Payload-Oxum: 0.0" in info
    assert Dossier.from_bag(bag).root == d.root


def test_empty_files_are_entries(tmp_path):
    root = tmp_path / "d"
    for i in range(3):
        write(root, f"e{i}", b"")
    d = Dossier.hash(root)
    assert d.sizes.tolist() == [0, 0, 0]
    assert all(bytes(r) == sha(b"") for r in d.digests)
    assert d.root == reference_root({f"e{i}": b"" for i in range(3)})


def test_nfd_names_are_normalised_and_proofs_accept_either_form(tmp_path):
    root = tmp_path / "d"
    write(root, "thư mục/" + NFD_NAME, b"decomposed")
    d = Dossier.hash(root)
    assert d.paths == [unicodedata.normalize("NFC", "thư mục/") + NFC_NAME]
    p = d.proof(d.paths[0])
    nfd_rel = unicodedata.normalize("NFD", d.paths[0])
    assert nfd_rel in d and d.proof(nfd_rel) == p
    assert verify_inclusion(b"decomposed", nfd_rel, p, d)
    # The bag stores NFC names on disk, whether copied or made in place.
    copied = d.write_bag(tmp_path / "bag")
    assert (copied / "data" / d.paths[0]).read_bytes() == b"decomposed"
    assert Dossier.hash(root).root == d.root
    d.write_bag()
    assert (root / "data" / d.paths[0]).read_bytes() == b"decomposed"
    assert Dossier.from_bag(root).compare(root).ok


def test_names_that_normalise_alike_are_errors(tmp_path):
    root = tmp_path / "d"
    write(root, NFC_NAME, b"one")
    write(root, NFD_NAME, b"two")
    write(root, "ok.txt", b"ok")
    d = Dossier.hash(root)
    assert d.paths == ["ok.txt"]
    assert [(e.relpath, e.code) for e in d.errors] == [(NFC_NAME, "duplicate_name")] * 2
    assert "NFC" in d.errors[0].message
    assert not d.ok
    with pytest.raises(DossierError, match="could not be hashed"):
        d.write_bag(tmp_path / "bag")


def test_symlinks_are_not_followed_out_of_the_dossier(tmp_path):
    secret = write(tmp_path, "outside/secret.txt", b"secret")
    root = tmp_path / "d"
    write(root, "real.txt", b"real")
    (root / "out").symlink_to(secret)
    (root / "up").symlink_to("../outside/secret.txt")
    (root / "in").symlink_to("real.txt")
    (root / "dangling").symlink_to("missing")
    (root / "loop").symlink_to("loop")
    d = Dossier.hash(root)
    assert d.paths == ["in", "real.txt"]
    assert d.digest("in") == sha(b"real")
    assert {(e.relpath, e.code) for e in d.errors} == {
        ("out", "symlink_outside"),
        ("up", "symlink_outside"),
        ("dangling", "broken_symlink"),
        ("loop", "broken_symlink"),
    }
    # An in-dossier symlink's content is copied into the bag, not the link.
    (root / "out").unlink()
    (root / "up").unlink()
    (root / "dangling").unlink()
    (root / "loop").unlink()
    d = Dossier.hash(root)
    bag = d.write_bag(tmp_path / "bag")
    assert not (bag / "data" / "in").is_symlink()
    d.write_bag()
    assert not (root / "data" / "in").is_symlink() and (root / "data" / "in").read_bytes() == b"real"


def test_special_files_get_an_error_and_never_block(tmp_path):
    root = tmp_path / "d"
    write(root, "ok.txt", b"ok")
    os.mkfifo(root / "fifo")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(root / "sock"))
    try:
        d = Dossier.hash(root)
    finally:
        sock.close()
    assert d.paths == ["ok.txt"]
    assert {(e.relpath, e.code) for e in d.errors} == {("fifo", "special_file"), ("sock", "special_file")}


def _hash_as_nobody(root: Path) -> dict:
    """Hashes `root` in a forked child that dropped root privileges (root ignores file modes).

    Fork rather than a new interpreter: the child keeps govsig already loaded, and nobody
    may not be able to read the interpreter's own directory."""
    nobody = pwd.getpwnam("nobody")
    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        status = 1
        try:
            os.close(rfd)
            os.setgroups([])
            os.setgid(nobody.pw_gid)
            os.setuid(nobody.pw_uid)
            d = Dossier.hash(root)
            out = {"paths": d.paths, "errors": [[e.relpath, e.code, e.message] for e in d.errors]}
            status = 0
        except BaseException as exc:  # reported to the parent through the pipe
            out = {"child_error": repr(exc)}
        finally:
            os.write(wfd, json.dumps(out).encode())
            os._exit(status)
    os.close(wfd)
    with os.fdopen(rfd, "rb") as r:
        data = r.read()
    _, status = os.waitpid(pid, 0)
    result = json.loads(data)
    assert os.waitstatus_to_exitcode(status) == 0, f"the unprivileged child failed: {result}"
    return result


@pytest.fixture
def shared_tmp():
    """A temp dir that another user can traverse (pytest's tmp_path is private to its owner)."""
    import shutil
    import tempfile

    base = Path(tempfile.mkdtemp(prefix="govsig-perm-"))
    os.chmod(base, 0o755)
    try:
        yield base
    finally:
        for p in base.rglob("*"):
            if not p.is_symlink():
                os.chmod(p, 0o755 if p.is_dir() else 0o644)
        shutil.rmtree(base)


def test_permission_denied_is_a_per_file_error(shared_tmp):
    root = shared_tmp / "d"
    write(root, "ok.txt", b"ok")
    write(root, "secret.txt", b"no")
    write(root, "locked/inner.txt", b"no")
    os.chmod(root, 0o755)
    os.chmod(root / "ok.txt", 0o644)
    os.chmod(root / "secret.txt", 0o000)
    os.chmod(root / "locked", 0o000)
    try:
        if os.geteuid() == 0:
            out = _hash_as_nobody(root)
        else:
            d = Dossier.hash(root)
            out = {"paths": d.paths, "errors": [[e.relpath, e.code, e.message] for e in d.errors]}
    finally:
        os.chmod(root / "locked", 0o755)
        os.chmod(root / "secret.txt", 0o644)
    assert out["paths"] == ["ok.txt"]
    assert [(rel, code) for rel, code, _ in out["errors"]] == [
        ("locked", "permission_denied"),
        ("secret.txt", "permission_denied"),
    ]
    assert all("ermission denied" in msg for _, _, msg in out["errors"])


def test_files_deleted_or_truncated_while_the_dossier_is_hashed(tmp_path):
    """One worker hashes a large sparse file first (largest first); while it is mid-read, the
    progress callback truncates it, truncates a smaller listed file and deletes another.
    With a 4 KiB buffer the 32 and 64 KiB files are left for after the walk (files that fit
    one buffer are hashed as the walk finds them, leaving no time between listing and
    reading), so they are still waiting when the callback meddles."""
    root = tmp_path / "d"
    root.mkdir()
    big = root / "big.bin"
    size = 1 << 30
    with open(big, "wb") as f:
        f.truncate(size)  # sparse: no disk used, reads at memory speed
    truncated = write(root, "truncated.bin", os.urandom(65536))
    deleted = write(root, "deleted.bin", os.urandom(32768))
    write(root, "kept.bin", b"kept")
    acted: dict[str, int] = {}

    def meddle(p: govsig.HashProgress) -> None:
        # Counters lag the reads by at most a few MiB: this far below the size, the big file
        # is certainly still being read and the small ones not yet opened.
        # kept.bin (4 bytes) was hashed during the walk; the big file is the one being read.
        if not acted and p.files_done <= 1 and (1 << 20) < p.bytes_done < size - (64 << 20):
            # The small files first: once the big one shrinks, the worker finishes it at once
            # and would reach them before a later change.
            os.truncate(truncated, 10)
            deleted.unlink()
            os.truncate(big, 4096)
            acted["at"] = p.bytes_done

    d = Dossier.hash(root, threads=1, progress=meddle, buffer_size=4096)
    assert acted, "the callback never saw the big file mid-read"
    codes = {e.relpath: e.code for e in d.errors}
    assert codes == {
        "big.bin": "changed_while_hashing",
        "truncated.bin": "changed_while_hashing",
        "deleted.bin": "deleted_while_hashing",
    }
    assert d.paths == ["kept.bin"]
    assert "size changed" in next(e.message for e in d.errors if e.relpath == "big.bin")


def test_progress_reports_totals(sample):
    root, files = sample
    seen: list[govsig.HashProgress] = []
    d = Dossier.hash(root, progress=seen.append)
    last = seen[-1]
    assert (last.files_done, last.files_total) == (len(files), len(files))
    assert last.bytes_done == last.bytes_total == d.total_bytes
    assert last.bytes_per_second > 0


def test_errors_of_the_whole_call(tmp_path):
    with pytest.raises(FileNotFoundError):
        Dossier.hash(tmp_path / "missing")
    f = write(tmp_path, "file.txt", b"")
    with pytest.raises(NotADirectoryError):
        Dossier.hash(f)
    assert set(govsig.DOSSIER_ERROR_CODES) >= {
        "not_found", "permission_denied", "special_file", "symlink_outside", "broken_symlink",
        "changed_while_hashing", "deleted_while_hashing", "duplicate_name", "invalid_name",
    }
    assert all(c.isidentifier() and c.islower() for c in govsig.DOSSIER_ERROR_CODES)
    assert issubclass(DossierError, ValueError) and issubclass(BagError, DossierError)


def test_non_utf8_names_are_per_file_errors(tmp_path):
    root = tmp_path / "d"
    root.mkdir()
    (root / "ok.txt").write_bytes(b"ok")
    with open(os.path.join(os.fsencode(root), b"bad\xff.txt"), "wb") as f:
        f.write(b"x")
    d = Dossier.hash(root)
    assert d.paths == ["ok.txt"]
    assert [e.code for e in d.errors] == ["invalid_name"]


def test_compare_reports_every_kind_of_change(sample, tmp_path):
    root, files = sample
    recorded = Dossier.hash(root)
    (root / "a.pdf").write_bytes(b"changed")
    (root / "B" / "c" / "empty.txt").unlink()
    write(root, "new.txt", b"new")
    os.rename(root / NFC_NAME, root / "renamed.pdf")
    diff = recorded.compare(root)
    assert diff.modified == ("a.pdf",)
    assert diff.missing == ("B/c/empty.txt",)
    assert diff.added == ("new.txt",)
    assert diff.renamed == ((NFC_NAME, "renamed.pdf"),)
    assert set(diff.unchanged) == {"B/scan 01.tif", "z%25 odd.txt"}
    assert not diff.ok
    statuses = {r["path"]: r["status"] for r in diff.report()}
    assert statuses["a.pdf"] == "modified" and statuses[NFC_NAME] == "renamed"
    assert str(diff).startswith("2 unchanged, 1 modified, 1 missing, 1 added, 1 renamed")
    assert recorded.compare(root).modified == ("a.pdf",)  # compare does not mutate


def test_compare_lists_unreadable_files_as_errors_not_missing(sample):
    root, _ = sample
    recorded = Dossier.hash(root)
    (root / "a.pdf").unlink()
    os.mkfifo(root / "a.pdf")
    diff = recorded.compare(root)
    assert diff.missing == ()
    assert [(e.relpath, e.code) for e in diff.errors] == [("a.pdf", "special_file")]
    assert not diff.ok


def test_bag_in_place_round_trip_and_tag_manifest(sample):
    root, files = sample
    d = Dossier.hash(root)
    bag = d.write_bag(bag_info={"Source-Organization": "Sở Tư pháp"}, bagging_date="2025-03-04")
    assert bag == root.resolve()
    assert sorted(p.name for p in root.iterdir()) == [
        "bag-info.txt", "bagit.txt", "data", "manifest-sha256.txt", "tagmanifest-sha256.txt",
    ]
    assert (root / "manifest-sha256.txt").read_bytes() == d.manifest_bytes()
    assert (root / "bagit.txt").read_text() == "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"
    info = (root / "bag-info.txt").read_text(encoding="utf-8")
    assert f"Govsig-Dossier-Root: sha256:{d.hexroot}\n" in info
    assert f"Payload-Oxum: {d.total_bytes}.{len(d)}\n" in info
    assert "Bagging-Date: 2025-03-04\n" in info and "Source-Organization: Sở Tư pháp\n" in info
    tm = d.tag_manifest()
    assert tm == (root / "tagmanifest-sha256.txt").read_bytes() == d.tag_manifest_path().read_bytes()
    names = [line.split(" ", 1)[1] for line in tm.decode().splitlines()]
    assert names == ["bag-info.txt", "bagit.txt", "manifest-sha256.txt"]
    back = Dossier.from_bag(root)
    assert back.root == d.root and back.paths == d.paths
    assert back.sizes.tolist() == d.sizes.tolist()
    assert back.compare().ok
    assert Dossier.hash(root).root == d.root  # hashing a bag hashes its payload
    with pytest.raises(DossierError, match="computed by govsig"):
        d.write_bag(root.parent / "other", bag_info={"Payload-Oxum": "1.1"})


def test_write_bag_to_dest_copies_and_refuses_existing(sample, tmp_path):
    root, files = sample
    d = Dossier.hash(root)
    bag = d.write_bag(tmp_path / "out" / "bag")
    for rel, content in files.items():
        assert (bag / "data" / rel).read_bytes() == content
        assert (root / rel).read_bytes() == content  # the source is untouched
    with pytest.raises(FileExistsError):
        d.write_bag(tmp_path / "out" / "bag")


def test_write_bag_verifies_the_payload_it_wrote(sample, tmp_path):
    root, _ = sample
    d = Dossier.hash(root)
    (root / "a.pdf").write_bytes(b"changed after hashing")
    with pytest.raises(DossierError, match="changed since it was hashed"):
        d.write_bag(tmp_path / "bag")


def test_tampered_bags_are_refused(sample, tmp_path):
    root, _ = sample
    bag = Dossier.hash(root).write_bag(tmp_path / "bag")
    manifest = bag / "manifest-sha256.txt"
    original = manifest.read_bytes()
    lines = original.decode().splitlines()
    lines[0] = "0" * 64 + lines[0][64:]
    manifest.write_text("\n".join(lines) + "\n")
    with pytest.raises(BagError, match="does not match tagmanifest"):
        Dossier.from_bag(bag)
    # Tag manifest rewritten to match: the root recorded in bag-info.txt still catches it.
    (bag / "tagmanifest-sha256.txt").unlink()
    with pytest.raises(BagError, match="manifest was altered"):
        Dossier.from_bag(bag)
    manifest.write_bytes(original)
    assert Dossier.from_bag(bag).compare(bag).ok
    (bag / "bagit.txt").unlink()
    with pytest.raises(BagError, match="not a bag"):
        Dossier.from_bag(bag)
    with pytest.raises(DossierError, match="no bag yet"):
        Dossier.hash(root).tag_manifest()


def test_malformed_manifest_is_a_bag_error(tmp_path):
    bag = tmp_path / "bag"
    (bag / "data").mkdir(parents=True)
    (bag / "bagit.txt").write_text("BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n")
    (bag / "manifest-sha256.txt").write_text("abc data/x\n")
    with pytest.raises(BagError, match="line 1"):
        Dossier.from_bag(bag)
    (bag / "manifest-sha256.txt").write_text(f"{'0' * 64} data/../../etc/passwd\n")
    with pytest.raises(BagError, match=r"\.\."):
        Dossier.from_bag(bag)


@pytest.fixture
def many_files_dir(tmp_path):
    """Where to create 100k files: GOVSIG_TEST_TMPDIR, else a RAM-backed /dev/shm when the
    machine has one, else tmp_path. The test is about govsig handling 100k entries, not
    about how fast a busy disk journal creates inodes (seconds on tmpfs, minutes on a
    shared ext4)."""
    import shutil
    import tempfile

    base = os.environ.get("GOVSIG_TEST_TMPDIR") or ("/dev/shm" if os.access("/dev/shm", os.W_OK) else None)
    if base is None:
        yield tmp_path
        return
    path = Path(tempfile.mkdtemp(prefix="govsig-100k-", dir=base))
    try:
        yield path
    finally:
        shutil.rmtree(path)


def test_100k_file_dossier(many_files_dir):
    root = many_files_dir / "big"
    files = {}
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
    for i in range(100_000):
        if i % 1000 == 0:
            (root / f"d{i // 1000:03d}").mkdir(parents=True)
        content = i.to_bytes(4, "little") * 8
        rel = f"d{i // 1000:03d}/f{i:06d}.bin"
        fd = os.open(f"{root}/{rel}", flags, 0o644)
        os.write(fd, content)
        os.close(fd)
        files[rel] = content
    d = Dossier.hash(root)
    assert d.ok and len(d) == 100_000
    assert d.paths == sorted(files, key=str.encode)
    assert d.total_bytes == 32 * 100_000
    for i in (0, 1, 4242, 99_999):
        rel = d.paths[i]
        assert bytes(d.digests[i]) == sha(files[rel])
    assert d.root == reference_root(files)
    p = d.proof("d042/f042424.bin")
    assert len(p.path) == 17 and verify_inclusion(files["d042/f042424.bin"], "d042/f042424.bin", p, d)


def test_hash_error_is_a_plain_record():
    e = HashError("a/b.pdf", "special_file", "is a FIFO")
    assert str(e) == "a/b.pdf: is a FIFO (special_file)"
