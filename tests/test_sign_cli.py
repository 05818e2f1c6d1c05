"""`govsig sign`, `govsig pkcs11 list/keys` and `Dossier.sign`."""
from __future__ import annotations

import os
from pathlib import Path

import bagit
import pytest

import govsig
import pki as P
from govsig.cli import main



def docs(tmp_path: Path, n: int = 3) -> list[Path]:
    out = []
    for i in range(n):
        f = tmp_path / f"quyết định {i}.pdf"
        f.write_bytes(f"%PDF-1.7 văn bản {i}\n".encode() * (i + 1))
        out.append(f)
    return out


def verify_files(files: list[Path], root: P.Issued) -> None:
    v = govsig.Verifier(govsig.Policy(trust=[root.cert]))
    for f in files:
        sig = f.with_name(f.name + ".p7s").read_bytes()
        r = v.verify(sig, f.read_bytes())
        assert r.ok, (f, r.code, r.reason)
        assert P.openssl_verify(sig, root, content=f.read_bytes()).returncode == 0


def test_sign_files_with_a_software_key(tmp_pki_dir, pki, tmp_path, capsys):
    files = docs(tmp_path)
    rc = main(["sign", *map(str, files), "--key", str(tmp_pki_dir / "rsa_leaf.key.pem"),
               "--cert", str(tmp_pki_dir / "rsa_leaf.pem"), "--chain", str(tmp_pki_dir / "intermediates.pem")])
    assert rc == 0
    assert "signed 3 files" in capsys.readouterr().err
    verify_files(files, pki.rsa_root)
    # Existing signatures are kept unless --force.
    assert main(["sign", str(files[0]), "--key", str(tmp_pki_dir / "rsa_leaf.key.pem"),
                 "--cert", str(tmp_pki_dir / "rsa_leaf.pem")]) == 2
    assert "--force" in capsys.readouterr().err
    assert main(["sign", str(files[0]), "--key", str(tmp_pki_dir / "p256_leaf.key.pem"),
                 "--cert", str(tmp_pki_dir / "p256_leaf.pem"), "--force", "--json", "--attached"]) == 0
    assert '"signature"' in capsys.readouterr().out
    sig = files[0].with_name(files[0].name + ".p7s").read_bytes()
    assert govsig.Verifier(govsig.Policy(trust=[pki.p256_root.cert])).verify(sig).ok


def test_sign_usage_errors(tmp_pki_dir, tmp_path, capsys):
    f = docs(tmp_path, 1)[0]
    assert main(["sign", str(f)]) == 2
    assert "--key/--cert" in capsys.readouterr().err
    assert main(["sign", str(f), "--key", str(tmp_pki_dir / "rsa_leaf.key.pem")]) == 2
    assert "needs --cert" in capsys.readouterr().err
    assert main(["sign", str(tmp_path / "missing"), "--key", "k", "--cert", "c"]) == 2
    assert main(["sign", str(f), "--key", str(tmp_pki_dir / "p256_leaf.key.pem"),
                 "--cert", str(tmp_pki_dir / "rsa_leaf.pem")]) == 1
    assert "does not belong" in capsys.readouterr().err
    for argv in (["--pin", "918273"], ["--pin=918273"], ["--user-pin", "918273"]):
        with pytest.raises(SystemExit) as exc:
            main(["sign", str(f), "--key-label", "k", *argv])
        assert exc.value.code == 2
        err = capsys.readouterr().err
        assert "never takes a secret on the command line" in err and "918273" not in err


def test_dossier_sign_covers_the_tag_manifest(pki, tmp_path):
    folder = tmp_path / "ho-so"
    folder.mkdir()
    for i in range(5):
        (folder / f"giấy tờ {i}.txt").write_bytes(b"noi dung %d" % i)
    dossier = govsig.Dossier.hash(folder)
    bag = dossier.write_bag(tmp_path / "bag")
    signer = govsig.KeySigner(pki.p256_leaf.key, pki.p256_leaf.cert)
    path = dossier.sign(signer)
    assert path == bag / "tagmanifest-sha256.txt.p7s"
    verifier = govsig.Verifier(govsig.Policy(trust=[pki.p256_root.cert]))
    again = govsig.Dossier.from_bag(bag)
    result = again.verify_signature(verifier)
    assert result.ok, result.reason
    assert result.signers[0].certificate == pki.p256_leaf.der
    assert P.openssl_verify(path.read_bytes(), pki.p256_root,
                            content=(bag / "tagmanifest-sha256.txt").read_bytes()).returncode == 0
    # BagIt tools still accept the bag with the signature beside the tag manifest.
    bagit.Bag(str(bag)).validate()
    # Altering bag-info.txt changes the tag manifest's view: the signature no longer covers it.
    tm = bag / "tagmanifest-sha256.txt"
    tm.write_bytes(tm.read_bytes().replace(b"bag-info.txt", b"bag-info.tx_"))
    assert not again.verify_signature(verifier).ok
    with pytest.raises(TypeError, match="always detached"):
        dossier.sign(signer, detached=False)
    unsigned = govsig.Dossier.hash(folder if folder.exists() else bag / "data")
    with pytest.raises(govsig.DossierError, match="no bag yet"):
        unsigned.sign(signer)
    os.remove(path)
    with pytest.raises(govsig.BagError, match="not signed"):
        again.verify_signature(verifier)


def test_dossier_verify_cli_checks_the_signature(pki, tmp_path, capsys):
    folder = tmp_path / "ho-so"
    folder.mkdir()
    for i in range(3):
        (folder / f"tờ khai {i}.txt").write_bytes(b"noi dung %d" % i)
    dossier = govsig.Dossier.hash(folder)
    bag = dossier.write_bag(tmp_path / "bag")
    root_pem = tmp_path / "root.pem"
    root_pem.write_bytes(pki.p256_root.pem)
    other_pem = tmp_path / "other.pem"
    other_pem.write_bytes(pki.rsa_root.pem)
    # Unsigned: fine unless a signature is required.
    assert main(["dossier", "verify", str(bag), "--no-progress"]) == 0
    assert main(["dossier", "verify", str(bag), "--no-progress", "--require-signature"]) == 1
    dossier.sign(govsig.KeySigner(pki.p256_leaf.key, pki.p256_leaf.cert))
    capsys.readouterr()
    assert main(["dossier", "verify", str(bag), "--no-progress", "--trust", str(root_pem)]) == 0
    assert "signature: ok" in capsys.readouterr().out
    # Signed by a key the given anchor does not vouch for.
    assert main(["dossier", "verify", str(bag), "--no-progress", "--trust", str(other_pem)]) == 1
    assert "signature: chain_untrusted" in capsys.readouterr().out
    # Without anchors the signature is checked for integrity only.
    assert main(["dossier", "verify", str(bag), "--no-progress"]) == 0
    assert "signature: integrity_only" in capsys.readouterr().out
    # A signature over other content (a swapped .p7s) fails though every file is unchanged.
    swapped = govsig.sign(b"another dossier", govsig.KeySigner(pki.p256_leaf.key, pki.p256_leaf.cert))
    (bag / "tagmanifest-sha256.txt.p7s").write_bytes(swapped)
    assert main(["dossier", "verify", str(bag), "--no-progress", "--trust", str(root_pem)]) == 1
    assert "signature: digest_mismatch" in capsys.readouterr().out
