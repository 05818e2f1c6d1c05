"""Interoperability with bagit-python (the Library of Congress's BagIt implementation)."""
from __future__ import annotations

import hashlib
import logging
import os
import unicodedata
from pathlib import Path

import bagit
import pytest

from govsig import BagError, Dossier

NFC_NAME = unicodedata.normalize("NFC", "Quyết định số 12.pdf")


def make_payload(root: Path, *, nfd: bool = False) -> dict[str, bytes]:
    name = unicodedata.normalize("NFD", NFC_NAME) if nfd else NFC_NAME
    files = {
        "form.xml": b"<form/>",
        "scans/page 1.tif": os.urandom(200_000),
        "scans/empty.bin": b"",
        f"attachments/{name}": b"signed pdf bytes",
    }
    for rel, content in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(content)
    return {unicodedata.normalize("NFC", k): v for k, v in files.items()}


@pytest.fixture(autouse=True)
def quiet_bagit():
    # bagit-python logs every file it hashes at INFO.
    logger = logging.getLogger("bagit")
    level = logger.level
    logger.setLevel(logging.WARNING)
    yield
    logger.setLevel(level)


@pytest.mark.parametrize("in_place", [False, True])
@pytest.mark.parametrize("nfd", [False, True])
def test_bagit_python_validates_bags_we_write(tmp_path, in_place, nfd):
    src = tmp_path / "dossier"
    files = make_payload(src, nfd=nfd)
    d = Dossier.hash(src)
    assert d.ok
    bag_dir = d.write_bag(None if in_place else tmp_path / "bag", bag_info={"Contact-Name": "Nguyễn Văn A"})
    bag = bagit.Bag(str(bag_dir))
    bag.validate()  # raises BagValidationError on any problem, checks every digest
    assert bag.is_valid(fast=True)  # Payload-Oxum
    assert bag.info["Govsig-Dossier-Root"] == f"sha256:{d.hexroot}"
    assert bag.info["Contact-Name"] == "Nguyễn Văn A"
    assert set(bag.payload_entries()) == {f"data/{p}" for p in files}
    assert bag.algorithms == ["sha256"]


def test_bagit_python_validates_empty_and_sha512_bags(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    bagit.Bag(str(Dossier.hash(empty).write_bag(tmp_path / "empty-bag"))).validate()
    src = tmp_path / "dossier"
    make_payload(src)
    bag = bagit.Bag(str(Dossier.hash(src, "sha512").write_bag(tmp_path / "bag512")))
    bag.validate()
    assert bag.algorithms == ["sha512"]


@pytest.mark.parametrize("checksums", [["sha256"], ["sha256", "sha512"], ["sha512"]])
def test_we_read_bags_bagit_python_writes(tmp_path, checksums):
    src = tmp_path / "bag"
    files = make_payload(src)
    bagit.make_bag(str(src), {"Source-Organization": "UBND"}, checksums=checksums)
    d = Dossier.from_bag(src)  # the tag manifest bagit-python wrote is checked too
    assert d.algorithm == ("sha256" if "sha256" in checksums else "sha512")
    assert d.paths == sorted(files, key=str.encode)
    h = getattr(hashlib, d.algorithm)
    assert [bytes(r) for r in d.digests] == [h(files[p]).digest() for p in d.paths]
    assert d.sizes.tolist() == [len(files[p]) for p in d.paths]
    # The root is recomputed over canonical lines, whatever spacing bagit-python used.
    assert d.root == Dossier.hash(src, d.algorithm).root
    assert d.compare(src).ok
    for alg in checksums:
        assert Dossier.from_bag(src, alg).algorithm == alg
    (src / "data" / "form.xml").write_bytes(b"<tampered/>")
    diff = d.compare(src)
    assert diff.modified == ("form.xml",) and not diff.ok


def test_bagit_python_nfd_manifest_is_read_as_nfc(tmp_path):
    src = tmp_path / "bag"
    make_payload(src, nfd=True)
    bagit.make_bag(str(src), checksums=["sha256"])
    manifest = (src / "manifest-sha256.txt").read_text(encoding="utf-8")
    assert unicodedata.normalize("NFD", NFC_NAME) in manifest  # written as found on disk
    d = Dossier.from_bag(src)
    assert f"attachments/{NFC_NAME}" in d.paths
    assert d.compare(src).ok


def test_rebagging_a_bagit_python_bag_adds_our_root_and_stays_valid(tmp_path):
    src = tmp_path / "bag"
    make_payload(src)
    bagit.make_bag(str(src), checksums=["sha256", "sha512"])
    d = Dossier.from_bag(src)
    d.write_bag()  # in place: tag files only
    bag = bagit.Bag(str(src))
    bag.validate()
    assert bag.info["Govsig-Dossier-Root"] == f"sha256:{d.hexroot}"
    assert sorted(bag.algorithms) == ["sha256", "sha512"]
    assert Dossier.from_bag(src).root == d.root


def test_tampering_a_bagit_python_bag_tag_file_is_caught(tmp_path):
    src = tmp_path / "bag"
    make_payload(src)
    bagit.make_bag(str(src), checksums=["sha256"])
    info = src / "bag-info.txt"
    info.write_text(info.read_text() + "Extra: smuggled\n")
    with pytest.raises(BagError, match="bag-info.txt does not match"):
        Dossier.from_bag(src)
