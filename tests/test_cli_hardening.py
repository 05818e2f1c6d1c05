"""The command line against hostile text and secrets (issue 11, items 15 and 16): untrusted
text prints with its control characters escaped, `govsig sign` writes only through files it
created, a trust store demands a signature, and no PIN or password given on the command line
is ever echoed."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

import govsig
import pki as P
from govsig._cli_text import shown
from govsig.cli import main

ESC_CN = "Nguyễn Văn A\x1b]0;pwned\x07\x1b[2J\nOK: forged\u202e"


def test_shown_escapes_controls_and_keeps_vietnamese() -> None:
    assert shown("Cục Chứng thực số") == "Cục Chứng thực số"
    assert shown("a\x1b[31mb\nc\u202ed\x9b\udcff") == "a\\x1b[31mb\\x0ac\\u202ed\\x9b\\udcff"


def test_verify_prints_subject_reason_and_file_name_escaped(pki, tmp_path, capsys) -> None:
    leaf = P.make_leaf(ESC_CN, pki.rsa_intermediate, seed="cli-escape")
    sig = P.sign_cms(b"noi dung", leaf, detached=True)
    sig_file = tmp_path / "hồ sơ\x1b[2J\n.p7s"
    sig_file.write_bytes(sig)
    content = tmp_path / "content.txt"
    content.write_bytes(b"noi dung")
    other_root = tmp_path / "other-root.pem"
    other_root.write_bytes(pki.p256_root.pem)
    rc = main(["verify", str(sig_file), "--content", str(content), "--trust", str(other_root)])
    out = capsys.readouterr().out
    assert rc == 1  # chain_untrusted: the anchor given is another CA's
    assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out
    assert out.count("\n") == 2  # the document line and one signer line: nothing forged
    assert "hồ sơ\\x1b[2J\\x0a.p7s: " in out
    # (RFC 4514 escapes the ';' of the subject; the reason quotes it the same way.)
    assert out.count("\\x1b]0\\;pwned\\x07\\x1b[2J\\x0aOK: forged\\u202e") == 2


def test_dossier_verify_prints_file_names_escaped(tmp_path, capsys) -> None:
    folder = tmp_path / "ho-so"
    folder.mkdir()
    evil = "tờ khai\x1b[2J\nOK: all files unchanged.txt"
    (folder / evil).write_bytes(b"v1")
    bag = govsig.Dossier.hash(folder).write_bag(tmp_path / "bag")
    (bag / "data" / evil).write_bytes(b"v2")
    capsys.readouterr()
    assert main(["dossier", "verify", str(bag), "--no-progress"]) == 1
    out = capsys.readouterr().out
    assert "\x1b" not in out
    assert "modified  tờ khai\\x1b[2J\\x0aOK: all files unchanged.txt" in out
    assert not any(line.startswith("OK:") for line in out.splitlines())


def test_dossier_verify_with_trust_requires_a_signature(pki, tmp_path, capsys) -> None:
    folder = tmp_path / "ho-so"
    folder.mkdir()
    (folder / "to-khai.txt").write_bytes(b"noi dung")
    bag = govsig.Dossier.hash(folder).write_bag(tmp_path / "bag")
    root_pem = tmp_path / "root.pem"
    root_pem.write_bytes(pki.p256_root.pem)
    capsys.readouterr()
    assert main(["dossier", "verify", str(bag), "--no-progress", "--trust", str(root_pem)]) == 1
    out = capsys.readouterr().out
    assert "signature: none (required: --trust was given, so the bag must be signed)" in out
    assert main(["dossier", "verify", str(bag), "--no-progress", "--trust", str(root_pem), "--json"]) == 1
    out = capsys.readouterr().out
    assert '"ok": false' in out and '"signature": null' in out and '"signature_required": true' in out


def _sign_args(tmp_pki_dir: Path, *files: Path) -> list[str]:
    return ["sign", *map(str, files), "--key", str(tmp_pki_dir / "p256_leaf.key.pem"),
            "--cert", str(tmp_pki_dir / "p256_leaf.pem")]


def test_sign_never_writes_through_a_planted_temporary_name(pki, tmp_pki_dir, tmp_path, capsys) -> None:
    doc = tmp_path / "quyet-dinh.pdf"
    doc.write_bytes(b"%PDF-1.7 quyet dinh")
    victim = tmp_path / "victim.txt"
    victim.write_bytes(b"untouched")
    # The name the old writer used: anyone who can write the folder could plant this link.
    planted = tmp_path / f".{doc.name}.p7s.{os.getpid()}.tmp"
    planted.symlink_to(victim)
    assert main(_sign_args(tmp_pki_dir, doc)) == 0
    assert victim.read_bytes() == b"untouched" and planted.is_symlink()
    sig = (tmp_path / "quyet-dinh.pdf.p7s").read_bytes()
    assert govsig.Verifier(govsig.Policy(trust=[pki.p256_root.cert])).verify(sig, doc.read_bytes()).ok
    # No temporary file is left behind, and the signature has the umask's permissions.
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [doc.name, victim.name, planted.name, "quyet-dinh.pdf.p7s"])
    mask = os.umask(0o022)
    os.umask(mask)
    assert (tmp_path / "quyet-dinh.pdf.p7s").stat().st_mode & 0o777 == 0o666 & ~mask


def test_sign_keeps_a_signature_that_appears_while_signing(tmp_pki_dir, tmp_path, capsys, monkeypatch) -> None:
    import govsig._cli_sign as cli_sign

    doc = tmp_path / "to-trinh.pdf"
    doc.write_bytes(b"%PDF-1.7 to trinh")
    out = tmp_path / "to-trinh.pdf.p7s"
    real = cli_sign.sign_many

    def sign_then_race(*a, **kw):
        sigs = real(*a, **kw)
        out.write_bytes(b"someone else's file")
        return sigs

    monkeypatch.setattr(cli_sign, "sign_many", sign_then_race)
    assert main(_sign_args(tmp_pki_dir, doc)) == 2
    assert "appeared while signing; pass --force" in capsys.readouterr().err
    assert out.read_bytes() == b"someone else's file"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_sign_on_a_filesystem_without_hard_links(pki, tmp_pki_dir, tmp_path, capsys, monkeypatch) -> None:
    def no_links(src, dst, *a, **kw):
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    doc = tmp_path / "cong-van.pdf"
    doc.write_bytes(b"%PDF-1.7 cong van")
    assert main(_sign_args(tmp_pki_dir, doc)) == 0
    sig = (tmp_path / "cong-van.pdf.p7s").read_bytes()
    assert govsig.Verifier(govsig.Policy(trust=[pki.p256_root.cert])).verify(sig, doc.read_bytes()).ok
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cong-van.pdf", "cong-van.pdf.p7s"]


COMMANDS = [
    ["verify", "x.p7s"],
    ["verify-archive", "dir"],
    ["dossier", "hash", "dir"],
    ["dossier", "verify", "dir"],
    ["dossier", "prove", "dir", "f"],
    ["dossier", "check-proof", "f", "r", "p", "00", "--tree-size", "1"],
    ["sign", "f"],
    ["pkcs11", "list", "--module", "m.so"],
    ["pkcs11", "keys", "--module", "m.so"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c[:2]))
@pytest.mark.parametrize("option", ["--pin", "--user-pin", "--password", "--key-password"])
def test_every_command_refuses_a_secret_on_the_command_line_without_echoing_it(command, option, capsys) -> None:
    secret = "s3cr3t-\xff-9731"
    for argv in ([*command, option, secret], [*command, f"{option}={secret}"]):
        with pytest.raises(SystemExit) as info:
            main(argv)
        assert info.value.code == 2
        captured = capsys.readouterr()
        assert "never takes a secret on the command line" in captured.err
        assert "s3cr3t" not in captured.err + captured.out


@pytest.mark.parametrize("option", ["--pin-env", "--key-password-env"])
def test_a_secret_mistyped_as_a_variable_name_is_not_echoed(option, tmp_pki_dir, tmp_path, capsys, monkeypatch) -> None:
    doc = tmp_path / "d.pdf"
    doc.write_bytes(b"%PDF-1.7")
    secret = "hunter2-5280"
    monkeypatch.delenv(secret, raising=False)
    if option == "--pin-env":
        argv = ["pkcs11", "keys", "--module", str(tmp_path / "m.so"), "--pin-env", secret]
    else:
        argv = [*_sign_args(tmp_pki_dir, doc), "--key-password-env", secret]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert f"{option}: the environment variable it names is not set" in err
    assert secret not in err
