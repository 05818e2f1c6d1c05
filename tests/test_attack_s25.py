"""Attacks of session 25, by someone who controls what surrounds one validly signed document.

- What session 24's review left open on one signer identifier matching several certificates:
  a keyCompromise revocation told by OCSP (not a CRL) must condemn the key as the CRL one
  does, and a signer none of whose candidates verifies must be reported the same whatever the
  bag's order. Fixtures: tests/test_attack_s24b.py's ``Twice`` (one CA that certified one key
  twice) and OCSP responses built with ``cryptography``, signed by that CA.
- JSON nested deeper than Python's json module recurses (inclusion proofs, report lines,
  evidence-cache sidecars).
- A dossier bag whose own files are FIFOs, devices, directories, symlinks out of the bag or
  too large.

Each of the last two groups failed before its fix (a RecursionError traceback; 7.8 GB of
memory, a read blocked for ever, or a file outside the bag read).
"""
from __future__ import annotations

import datetime as dt
import itertools
import os
import re
import subprocess

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp as c_ocsp

import cmsgen as G
import govsig
import pki as P
from test_attack_s24 import AT, CONTENT, _ski_sid_info
from test_attack_s24b import REVOKED_ON, Twice
from test_cms_quirks import _impostor

NEXT = AT + dt.timedelta(days=7)


def _ocsp(t: Twice, leaf: P.Issued, reason: x509.ReasonFlags | None) -> bytes:
    """The CA's own OCSP answer on ``leaf``: good when ``reason`` is None, else revoked on
    REVOKED_ON for that reason."""
    status = c_ocsp.OCSPCertStatus.GOOD if reason is None else c_ocsp.OCSPCertStatus.REVOKED
    b = c_ocsp.OCSPResponseBuilder().add_response(
        cert=leaf.cert, issuer=t.root.cert, algorithm=hashes.SHA1(), cert_status=status,
        this_update=AT - dt.timedelta(hours=1), next_update=NEXT,
        revocation_time=None if reason is None else REVOKED_ON, revocation_reason=reason)
    b = b.responder_id(c_ocsp.OCSPResponderEncoding.HASH, t.root.cert)
    return b.sign(t.root.key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)  # type: ignore[arg-type]


def _ocsp_verifier(t: Twice, responses: list[bytes]) -> govsig.Verifier:
    return govsig.Verifier(govsig.Policy(trust=[t.root.der], at=AT, ocsp_responses=responses,
                                         revocation_sources=("ocsp",), revocation="hard-fail"))


@pytest.fixture(scope="module")
def twice() -> Twice:
    return Twice("s25-ocsp")


def test_key_compromise_told_by_ocsp_condemns_the_key_in_every_order(twice) -> None:
    """A1 revoked for keyCompromise by OCSP, A2 (the same key) good by OCSP: a signature by
    that key after the compromise date stays cert_revoked whichever certificate the bag
    offers first, and whichever answer comes first."""
    revoked = _ocsp(twice, twice.a1, x509.ReasonFlags.key_compromise)
    good = _ocsp(twice, twice.a2, None)
    for answers in ([revoked, good], [good, revoked]):
        v = _ocsp_verifier(twice, answers)
        assert v.verify(twice.doc([twice.a2])).code == "ok"
        for bag in ([twice.a1, twice.a2], [twice.a2, twice.a1]):
            r = v.verify(twice.doc(bag))
            assert r.code == "cert_revoked", (bag.index(twice.a1), r.reason)
            assert "key_compromise" in r.reason, r.reason
            assert r.signers[0].certificate == twice.a1.der


def test_superseded_told_by_ocsp_lets_the_live_twin_verify(twice) -> None:
    """The benign case: A1 revoked as superseded (by OCSP), A2 good. The document is A2's,
    ok in both orders, with the ambiguity reported."""
    v = _ocsp_verifier(twice, [_ocsp(twice, twice.a1, x509.ReasonFlags.superseded),
                               _ocsp(twice, twice.a2, None)])
    assert v.verify(twice.doc([twice.a1])).code == "cert_revoked"
    for bag in ([twice.a1, twice.a2], [twice.a2, twice.a1]):
        r = v.verify(twice.doc(bag))
        assert r.code == "ok", r.reason
        assert r.signers[0].certificate == twice.a2.der
        assert r.signers[0].warnings == ["signer_identifier_ambiguous"]


def test_no_candidate_verifies_the_same_certificate_is_named_in_every_order(pki) -> None:
    """Three certificates under the signer's issuer and serial, none holding the key that
    signed: the code, the certificate named on the signer and the set of failures listed
    are the same in all six orders of the bag (before, the first in bag order was named)."""
    leaf = pki.rsa_leaf
    decoys = [_impostor(leaf, f"s25-none-{i}") for i in range(3)]
    forger = _impostor(leaf, "s25-none-forger")
    info = G.signer_info(CONTENT, leaf, sign_with=forger)
    v = govsig.Verifier(govsig.Policy(trust=[r.der for r in pki.roots], at=AT))
    seen = set()
    for bag in itertools.permutations(decoys):
        r = v.verify(G.signed_data([info], [*bag, pki.rsa_intermediate], econtent=G.octets(CONTENT)))
        assert r.code == "signature_invalid", r.reason
        assert "is ambiguous: it matches 3 certificates" in r.reason
        listed_text = r.reason.split("none verified the signature (", 1)[1].removesuffix(")")
        listed = frozenset(part.split(": ", 1)[1] for part in listed_text.split("; "))
        seen.add((r.signers[0].certificate, listed))
    assert len(seen) == 1, seen
    assert next(iter(seen))[0] in {d.der for d in decoys}


def test_no_candidate_verifies_by_ski_the_same_certificate_is_named_in_every_order() -> None:
    """The same with the signer named by subjectKeyIdentifier: two certificates carry the
    SKI, neither holds the signing key."""
    t = Twice("s25-ski")
    other = Twice("s25-ski-other")
    info = _ski_sid_info(CONTENT, t.a1, sign_with=other.a1)
    v = t.verifier()
    named = {v.verify(G.signed_data([info], bag, econtent=G.octets(CONTENT))).signers[0].certificate
             for bag in ([t.a1, t.a2], [t.a2, t.a1])}
    assert len(named) == 1


# -- JSON nested deeper than Python's json module recurses ---------------------------------------
# json.loads recurses once per array or object, so a few kilobytes of "[" raise RecursionError,
# which is neither ValueError nor a message for a person. Each reader of outside JSON says what
# it says of any other input that is not the JSON it expects.

DEEP = "[" * 100_000


def test_a_deeply_nested_inclusion_proof_is_a_malformed_proof() -> None:
    with pytest.raises(govsig.DossierError, match=r"^malformed inclusion proof: not JSON \(nested too deeply\)$"):
        govsig.InclusionProof.from_json(DEEP)
    with pytest.raises(govsig.DossierError, match="nested too deeply"):
        govsig.InclusionProof.from_json(('{"path": ' + DEEP).encode())


def test_a_deeply_nested_report_line_is_skipped_like_any_line_that_is_not_an_object(tmp_path, capsys) -> None:
    from govsig.cli import main

    jsonl = tmp_path / "job.jsonl"
    good = '{"path": "a.p7s", "code": "ok"}\n'
    jsonl.write_text(good + DEEP + "\n" + good)
    out = tmp_path / "r.html"
    assert main(["report", str(jsonl), "--html", str(out), "--lang", "en"]) == 0
    err = capsys.readouterr().err
    assert "1 line(s) were not JSON objects and were skipped (first: line 2)" in err, err
    assert "Traceback" not in err and out.stat().st_size > 0


def test_a_deeply_nested_cache_sidecar_is_a_miss_not_a_crash(tmp_path) -> None:
    from govsig._evidence_cache import _DiskCache

    cache = _DiskCache(tmp_path)
    url = "http://127.0.0.1:1/ca.crl"
    body, meta = cache._paths(url)
    body.write_bytes(b"0")
    meta.write_text("[" * 60_000)  # under the sidecar's 64 KiB bound
    assert cache.load(url, 1 << 20) is None


# -- a dossier bag whose own files are not what they say ------------------------------------------
# A portal receives bags from citizens. Before, Dossier.from_bag read bagit.txt, the manifests,
# the tag manifest and the signature with Path.read_bytes: a manifest symlinked to /dev/zero
# took 7.8 GB of memory in 8 s, a FIFO blocked for ever, and a symlink read a file outside the
# bag. Each is now a BagError naming the file.

BAG_FILES = ("bagit.txt", "manifest-sha256.txt", "tagmanifest-sha256.txt")


@pytest.fixture()
def bag(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "to-trinh.txt").write_bytes(CONTENT)
    (src / "phu-luc.txt").write_bytes(b"phu luc")
    return govsig.Dossier.hash(src).write_bag(bagging_date="2026-06-01")


def _replace(path, kind: str, outside) -> None:
    path.unlink()
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "device":
        os.symlink("/dev/zero", path)
    elif kind == "outside":
        os.symlink(outside, path)
    else:
        path.mkdir()


@pytest.mark.timeout(30)
@pytest.mark.parametrize("algorithm", [None, "sha256"])
@pytest.mark.parametrize("kind,message", [
    ("fifo", "is a FIFO; a bag's {name} is read from a regular file only"),
    ("device", "is a symlink to /dev/zero, outside the bag"),
    ("outside", "outside the bag; a bag's own files are read inside it only"),
    ("directory", "is a directory, not a"),
])
@pytest.mark.parametrize("name", BAG_FILES)
def test_a_bag_file_that_is_not_a_regular_file_in_the_bag_is_a_bag_error(bag, tmp_path, name, kind, message,
                                                                         algorithm) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_bytes((bag / name).read_bytes())  # the same bytes: only the place is wrong
    _replace(bag / name, kind, outside)
    with pytest.raises(govsig.BagError, match=re.escape(message.format(name=name))) as info:
        govsig.Dossier.from_bag(bag, algorithm)
    assert name in str(info.value)


@pytest.mark.timeout(30)
@pytest.mark.parametrize("kind", ["fifo", "device", "outside", "directory"])
def test_a_tag_file_the_tag_manifest_lists_that_is_not_a_regular_file_in_the_bag(bag, tmp_path, kind) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_bytes((bag / "bag-info.txt").read_bytes())
    _replace(bag / "bag-info.txt", kind, outside)
    with pytest.raises(govsig.BagError, match=r"tagmanifest-sha256\.txt lists bag-info\.txt, (which cannot be "
                                              r"hashed|a symlink to outside the bag)"):
        govsig.Dossier.from_bag(bag)


def test_a_symlink_inside_the_bag_is_still_read(bag) -> None:
    (bag / "bag-info.txt").rename(bag / "info-copy.txt")
    os.symlink("info-copy.txt", bag / "bag-info.txt")
    assert govsig.Dossier.from_bag(bag).paths == ["phu-luc.txt", "to-trinh.txt"]


def test_bag_files_larger_than_their_bound_are_refused_before_they_are_read(bag, monkeypatch) -> None:
    import govsig._bagit as B

    monkeypatch.setattr(B, "TAG_FILE_MAX", 40)
    with pytest.raises(govsig.BagError, match=r"bagit\.txt is \d+ bytes; govsig reads a bag's bagit\.txt of "
                                              r"at most 40 bytes"):
        govsig.Dossier.from_bag(bag)
    monkeypatch.setattr(B, "TAG_FILE_MAX", 1 << 20)
    monkeypatch.setattr(B, "MANIFEST_MAX", 64)
    with pytest.raises(govsig.BagError, match=r"govsig reads a bag's manifest-sha256\.txt of at most 64 bytes"):
        govsig.Dossier.from_bag(bag)


@pytest.mark.timeout(30)
def test_a_fifo_in_place_of_the_bag_signature_is_an_error_not_an_unsigned_bag(bag, capsys) -> None:
    from govsig.cli import main

    os.mkfifo(bag / "tagmanifest-sha256.txt.p7s")
    d = govsig.Dossier.from_bag(bag)
    with pytest.raises(govsig.BagError, match=r"is a FIFO; a bag's tagmanifest-sha256\.txt\.p7s is read from a "
                                              r"regular file only"):
        d.verify_signature(govsig.Verifier(govsig.Policy(trust=None)))
    assert main(["dossier", "verify", str(bag), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "is a FIFO" in err and "Traceback" not in err and err.count("\n") == 1, err


@pytest.mark.timeout(30)
@pytest.mark.parametrize("which", ["body", "sidecar"])
@pytest.mark.parametrize("kind", ["fifo", "device"])
def test_a_cache_entry_replaced_by_a_fifo_or_a_device_is_a_miss(tmp_path, which, kind) -> None:
    """The cache is a shared folder: a body or sidecar that became a FIFO (a read that
    blocks) or a link to /dev/zero (one that never ends; its size reads as 0) is a miss."""
    from govsig._evidence_cache import _DiskCache

    cache = _DiskCache(tmp_path)
    url = "http://127.0.0.1:1/ca.crl"
    body, meta = cache._paths(url)
    body.write_bytes(b"0")
    meta.write_text('{"format": 1, "url": "http://127.0.0.1:1/ca.crl", "sha256": "00"}')
    target = body if which == "body" else meta
    target.unlink()
    if kind == "fifo":
        os.mkfifo(target)
    else:
        os.symlink("/dev/zero", target)
    assert cache.load(url, 1 << 20) is None


def test_a_payload_folder_linked_out_of_the_bag_is_refused_not_walked(bag, tmp_path, capsys) -> None:
    """data/ -> another folder (holding the very files the manifest lists): comparing would
    hash that folder, and with data/ -> / walk the whole filesystem listing it as added."""
    import shutil

    from govsig.cli import main

    elsewhere = tmp_path / "elsewhere"
    shutil.copytree(bag / "data", elsewhere)
    shutil.rmtree(bag / "data")
    os.symlink(elsewhere, bag / "data")
    d = govsig.Dossier.from_bag(bag)
    with pytest.raises(govsig.BagError, match=r"data is a symlink to .*elsewhere, outside the bag; a bag's payload "
                                              r"is read inside it only"):
        d.compare(bag)
    assert main(["dossier", "verify", str(bag), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "outside the bag" in err and err.count("\n") == 1, err
    # A link that stays inside the bag is followed.
    (bag / "data").unlink()
    shutil.copytree(elsewhere, bag / "payload")
    os.symlink("payload", bag / "data")
    assert govsig.Dossier.from_bag(bag).compare(bag).ok


@pytest.mark.timeout(60)
def test_report_outputs_name_their_option_and_a_read_fifo_still_works(pki, tmp_path) -> None:
    """After the second round's fix (open_output_file): a FIFO nobody reads at --parquet's
    name is one line naming --parquet; a FIFO somebody reads (a shell's >(gzip)) gets the
    report as before."""
    import threading

    from archive_util import env, govsig_cmd

    archive = tmp_path / "archive"
    archive.mkdir()
    (archive / "a.p7m").write_bytes(P.sign_cms(CONTENT, pki.p256_leaf, detached=False))
    roots = tmp_path / "roots.pem"
    roots.write_bytes(b"".join(r.pem for r in pki.roots))
    base = ["verify-archive", str(archive), "--trust", str(roots), "--no-progress"]
    fifo = tmp_path / "r.parquet"
    os.mkfifo(fifo)
    p = subprocess.run(govsig_cmd(*base, "--parquet", str(fifo)), capture_output=True, text=True, env=env(),
                       timeout=30)
    assert p.returncode == 2 and p.stderr.startswith("govsig verify-archive: --parquet: "), p.stderr
    assert "is a FIFO that no process reads" in p.stderr and p.stderr.count("\n") == 1, p.stderr
    read = tmp_path / "r.jsonl"
    os.mkfifo(read)
    got: list[bytes] = []
    # Held open (never read) so that the FIFO has a reader whenever govsig opens it; the
    # thread's own open waits for govsig and reads everything.
    present = os.open(read, os.O_RDONLY | os.O_NONBLOCK)
    reader = threading.Thread(target=lambda: got.append(read.read_bytes()), daemon=True)
    reader.start()
    try:
        p = subprocess.run(govsig_cmd(*base, "--report", str(read)), capture_output=True, text=True, env=env(),
                           timeout=30)
        reader.join(10)
    finally:
        os.close(present)
    assert p.returncode == 0, p.stderr
    assert got and b'"code":"ok"' in got[0], got


def test_a_tag_manifest_entry_through_a_linked_tag_folder_is_not_read(bag, tmp_path) -> None:
    """A tag manifest may list files in tag folders (RFC 8493 §2.2.4): a tag folder that is a
    link out of the bag makes its entry a file outside, which is not hashed."""
    import hashlib

    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "note.txt").write_bytes(b"outside")
    os.symlink(outside, bag / "tags")
    line = f"{hashlib.sha256(b'outside').hexdigest()}  tags/note.txt\n"
    (bag / "tagmanifest-sha256.txt").write_text((bag / "tagmanifest-sha256.txt").read_text() + line)
    with pytest.raises(govsig.BagError, match=r"lists tags/note\.txt, a symlink to outside the bag"):
        govsig.Dossier.from_bag(bag)
