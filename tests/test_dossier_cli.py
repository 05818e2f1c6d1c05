"""``govsig dossier`` subcommands, run through govsig.cli.main."""
from __future__ import annotations

import io
import json
from pathlib import Path

import bagit

from govsig import Dossier, InclusionProof
from govsig._cli_dossier import ProgressBar
from govsig.cli import main


def make(root: Path) -> None:
    for rel, content in {"a.txt": b"alpha", "sub/b.pdf": b"beta" * 100, "sub/c.xml": b""}.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(content)


def test_hash_prints_root_and_bags(tmp_path, capsys):
    src = tmp_path / "d"
    make(src)
    assert main(["dossier", "hash", str(src), "--no-progress"]) == 0
    out = capsys.readouterr().out
    root = Dossier.hash(src).hexroot
    assert f"root  sha256:{root}" in out and "files 3" in out
    assert not (src / "bagit.txt").exists()
    assert main(["dossier", "hash", str(src), "--bag", "--json", "--no-progress"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["root"] == root and report["files"] == 3 and report["errors"] == []
    assert Path(report["bag"]) == src.resolve()
    bagit.Bag(str(src)).validate()


def test_hash_with_errors_exits_1_and_writes_no_bag(tmp_path, capsys):
    import os

    src = tmp_path / "d"
    make(src)
    os.mkfifo(src / "pipe")
    assert main(["dossier", "hash", str(src), "--dest", str(tmp_path / "bag"), "--no-progress"]) == 1
    captured = capsys.readouterr()
    assert "error pipe:" in captured.out and "special_file" in captured.out
    assert "no bag written" in captured.err
    assert not (tmp_path / "bag").exists()


def test_verify_reports_changes_per_file(tmp_path, capsys):
    src = tmp_path / "d"
    make(src)
    assert main(["dossier", "hash", str(src), "--bag", "--no-progress"]) == 0
    capsys.readouterr()
    assert main(["dossier", "verify", str(src), "--no-progress"]) == 0
    assert capsys.readouterr().out.startswith("OK: 3 unchanged")
    (src / "data" / "a.txt").write_bytes(b"changed")
    (src / "data" / "sub" / "c.xml").unlink()
    (src / "data" / "new.txt").write_bytes(b"new")
    assert main(["dossier", "verify", str(src), "--no-progress"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert "modified  a.txt" in lines and "added     new.txt" in lines and "missing   sub/c.xml" in lines
    assert lines[-1].startswith("CHANGED:")
    assert main(["dossier", "verify", str(src), "--json", "--no-progress"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is False
    assert {r["path"]: r["status"] for r in report["files"]}["a.txt"] == "modified"


def test_verify_of_a_non_bag_is_a_usage_error(tmp_path, capsys):
    src = tmp_path / "d"
    make(src)
    assert main(["dossier", "verify", str(src)]) == 2
    assert "not a bag" in capsys.readouterr().err


def test_prove_and_check_proof(tmp_path, capsys):
    src = tmp_path / "d"
    make(src)
    main(["dossier", "hash", str(src), "--bag", "--no-progress"])
    root = Dossier.from_bag(src).hexroot
    capsys.readouterr()
    # FILE as a path inside the bag, or as a relpath; output to stdout or a file.
    assert main(["dossier", "prove", str(src), str(src / "data" / "sub" / "b.pdf")]) == 0
    captured = capsys.readouterr()
    proof = InclusionProof.from_json(captured.out)
    assert proof.tree_size == 3 and f"root sha256:{root}" in captured.err and "tree size 3" in captured.err
    out = tmp_path / "proof.json"
    assert main(["dossier", "prove", str(src), "sub/b.pdf", "-o", str(out)]) == 0
    assert InclusionProof.from_json(out.read_text()) == proof
    capsys.readouterr()
    target = src / "data" / "sub" / "b.pdf"
    assert main(["dossier", "check-proof", str(target), "sub/b.pdf", str(out), root, "--tree-size", "3"]) == 0
    assert capsys.readouterr().out.startswith("OK")
    assert main(["dossier", "check-proof", str(target), "sub/c.xml", str(out), root, "--tree-size", "3"]) == 1
    assert capsys.readouterr().out.startswith("FAILED")
    # The same proof against the same root hash, claimed for another dossier size.
    assert main(["dossier", "check-proof", str(target), "sub/b.pdf", str(out), root, "--tree-size", "4"]) == 1
    assert capsys.readouterr().out.startswith("FAILED")
    assert main(["dossier", "prove", str(src), "nope.txt"]) == 2
    assert "not a file of this dossier" in capsys.readouterr().err
    target.write_bytes(b"changed")
    assert main(["dossier", "prove", str(src), "sub/b.pdf"]) == 1
    assert "changed since the bag was made" in capsys.readouterr().err


def test_prove_on_a_plain_folder_hashes_it(tmp_path, capsys):
    src = tmp_path / "d"
    make(src)
    assert main(["dossier", "prove", str(src), "a.txt", "--no-progress"]) == 0
    proof = InclusionProof.from_json(capsys.readouterr().out)
    assert proof.verify(b"alpha", "a.txt", Dossier.hash(src))


def test_progress_bar_shows_throughput(tmp_path, capsys):
    src = tmp_path / "d"
    make(src)
    assert main(["dossier", "hash", str(src), "--progress"]) == 0
    err = capsys.readouterr().err
    assert "100.0%" in err and "/s" in err and "3/3 files" in err
    # "auto" stays silent when not on a terminal.
    stream = io.StringIO()
    bar = ProgressBar("auto", stream)
    Dossier.hash(src, progress=bar)
    bar.close()
    assert stream.getvalue() == ""


def test_dossier_without_subcommand_prints_help(capsys):
    assert main(["dossier"]) == 2
    assert "hash" in capsys.readouterr().err
