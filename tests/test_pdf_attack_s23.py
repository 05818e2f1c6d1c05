"""Attacks on the signed-PDF verifier's changes of session 23, by someone who holds one validly
signed PDF and controls every unsigned byte around it:

- the vectorised hex decoder of /Contents (32 digits a block, then a tail) and the shortcut
  that takes the /ByteRange gap as spelling /Contents when the reader decoded /Contents from
  exactly the digits inside the gap's brackets (``contents_span``): every non-hex byte in a
  first block, a later block, the tail and the brackets; case; byte ranges shifted by one;
  another dictionary (an update, indirect /Contents, an object stream) whose /Contents is not
  read from the gap;
- the per-worker read buffer of ``verify_files`` kept between files (a high-water mark): a
  smaller file read after a larger one never sees the larger one's tail;
- ``read_chunks`` making PDF chunks inline and the reading thread only for later mixed chunks:
  order, mixing of .pdf / .p7s (content beside) / .p7m over several chunk sizes, errors mid-way;
- ``PdfLimits.max_objects_all_revisions``: a file whose updates all point back at one large
  cross-reference section;
- a FIFO named ``x.pdf`` or ``x.p7s`` given to ``verify_files`` (in a child process with a timeout).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import govsig
import pdfsign
import pki as P
from test_pdf_reader import _root_and_size, _sig_object, append_in_object_stream, append_update, _last_startxref

ROOT = Path(__file__).resolve().parent.parent
HEX = b"0123456789abcdefABCDEF"
NOT_HEX = [c for c in range(256) if c not in HEX]
REFUSED = {"pdf_malformed", "byte_range_invalid", "modified_after_signing"}
BR = re.compile(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]")


@pytest.fixture(scope="module")
def verifier(pki) -> govsig.Verifier:  # type: ignore[no-untyped-def]
    return govsig.Verifier(govsig.Policy(trust=govsig.TrustStore.from_der([pki.rsa_root.der, pki.p256_root.der])))


@pytest.fixture(scope="module")
def signed(pki) -> bytes:  # type: ignore[no-untyped-def]
    """A reportlab base signed by pyHanko (upper-case hex, a wide zero-padded reserve)."""
    return pdfsign.sign(pdfsign.base_pdf(), pki.rsa_leaf)


def gap(pdf: bytes) -> tuple[int, int]:
    """The last signature's /ByteRange gap [a, b): ``<`` at a, ``>`` at b - 1."""
    m = list(BR.finditer(pdf))[-1]
    a, b = int(m.group(2)), int(m.group(3))
    assert pdf[a:a + 1] == b"<" and pdf[b - 1:b] == b">"
    return a, b


def cms_digits(pdf: bytes) -> int:
    """How many of the gap's digits spell the CMS (the rest is the zero padding)."""
    a, _ = gap(pdf)
    head = bytes.fromhex(pdf[a + 1:a + 13].decode())
    assert head[0] == 0x30 and head[1] == 0x82
    return 2 * (4 + int.from_bytes(head[2:4], "big"))


def put(pdf: bytes, at: int, byte: int) -> bytes:
    return pdf[:at] + bytes([byte]) + pdf[at + 1:]


def summary(r: Any) -> tuple[Any, ...]:
    return (type(r).__name__, r.ok, r.code, r.reason, len(getattr(r, "signatures", getattr(r, "signers", []))))


def not_ok(verifier: govsig.Verifier, data: bytes, what: str) -> Any:
    r = verifier.verify_pdf(data)
    assert not r.ok, what
    assert r.code in REFUSED, (what, r.code, r.reason)
    assert r.reason
    return r


# 1. The hex of /Contents in the gap ----------------------------------------------------------


def test_the_fixture_is_signed_upper_case_with_padding(verifier: govsig.Verifier, signed: bytes) -> None:
    a, b = gap(signed)
    digits = signed[a + 1:b - 1]
    assert verifier.verify_pdf(signed).code == "ok"
    assert re.fullmatch(rb"[0-9A-F]+", digits) and re.search(rb"[A-F]", digits)
    n = cms_digits(signed)
    # Wide enough for a first block, later blocks and a tail in both CMS and padding.
    assert n > 32 * 100 + 32 and len(digits) > n + 32 * 40 and set(digits[n:]) == {ord("0")}


def test_the_gap_in_lower_or_mixed_case_still_verifies(verifier: govsig.Verifier, signed: bytes) -> None:
    """Hex is case-blind and the gap is not signed: rewriting its case is no change."""
    a, b = gap(signed)
    digits = signed[a + 1:b - 1]
    mixed = bytes(c | 0x20 if i % 3 == 0 and chr(c) in "ABCDEF" else c for i, c in enumerate(digits))
    assert mixed != digits and mixed.lower() == digits.lower()
    for d in (digits.lower(), mixed):
        r = verifier.verify_pdf(signed[:a + 1] + d + signed[b - 1:])
        assert r.code == "ok", r.reason


def _positions(signed: bytes) -> dict[str, int]:
    """Digit positions (from the gap's `<` + 1) hitting each path of the block decoder."""
    n = cms_digits(signed)
    a, b = gap(signed)
    count = b - a - 2
    tail = 32 * ((n + 32 * 8) // 32) + 1  # in the padding: the decoded run ends 2 digits into a block
    return {
        "first_block": 5,
        "later_block": 32 * 100 + 7,
        "last_of_a_block": 32 * 100 + 31,
        "cms_last_digit": n - 1,
        "padding_tail": tail,
        "padding_block_end": tail + 30,
        "last_digit": count - 1,
    }


@pytest.mark.parametrize("where", ["first_block", "later_block", "last_of_a_block", "cms_last_digit",
                                   "padding_tail", "padding_block_end", "last_digit"])
def test_every_non_hex_byte_in_the_gap_is_refused(verifier: govsig.Verifier, signed: bytes, where: str) -> None:
    """Each of the 234 bytes that are not hex digits (whitespace included: the gap must be
    the signer's exact string), at each path of the vectorised decoder: never ok."""
    a, _ = gap(signed)
    at = a + 1 + _positions(signed)[where]
    for c in NOT_HEX:
        not_ok(verifier, put(signed, at, c), f"{c:#04x} at {where}")


def test_non_hex_neighbours_of_the_digit_ranges_everywhere(verifier: govsig.Verifier, signed: bytes) -> None:
    """The bytes just outside '0'-'9', 'A'-'F', 'a'-'f' (and their bit-5 twins, which the
    decoder folds letters with), at every position of one 32-digit block and its neighbours."""
    neighbours = b"/:@G`g" + bytes([0x10, 0x19, 0x1A, 0x40 | 0x80, 0xC1, 0xE1, 0xB0, 0xB9, 0x7F, 0x20 ^ 0x30])
    assert not any(c in HEX for c in neighbours)
    a, _ = gap(signed)
    for i in range(32 * 3, 32 * 5):
        for c in neighbours:
            not_ok(verifier, put(signed, a + 1 + i, c), f"{c:#04x} at digit {i}")


def test_every_other_byte_for_the_brackets_is_refused(verifier: govsig.Verifier, signed: bytes) -> None:
    a, b = gap(signed)
    for at, keep in ((a, ord("<")), (b - 1, ord(">"))):
        for c in range(256):
            if c != keep:
                not_ok(verifier, put(signed, at, c), f"{c:#04x} for {chr(keep)}")


def test_a_hex_digit_changed_in_the_gap_is_refused(verifier: govsig.Verifier, signed: bytes) -> None:
    """A valid digit of another value, in the CMS (the signature no longer verifies) and in
    the padding (bytes after the CMS that are not zero)."""
    a, _ = gap(signed)
    pos = _positions(signed)
    for where in ("first_block", "later_block", "cms_last_digit", "padding_tail", "last_digit"):
        at = a + 1 + pos[where]
        for c in b"0123456789ABCDEF":
            if c != signed[at] and chr(c).lower() != chr(signed[at]).lower():
                r = verifier.verify_pdf(put(signed, at, c))
                assert not r.ok and r.code != "internal_error", (where, chr(c), r.code, r.reason)


def test_the_second_signatures_gap_in_a_later_revision(pki, verifier: govsig.Verifier,  # type: ignore[no-untyped-def]
                                                       signed: bytes) -> None:
    """A second signature made in an update (its /Contents read from that revision): its gap
    rewritten in lower case stays ok; a non-hex byte or a changed bracket in it, or in the
    first signature's gap (which the second signs), is never ok."""
    two = pdfsign.sign(signed, pki.p256_leaf, field="Signature2")
    assert verifier.verify_pdf(two).code == "ok"
    a2, b2 = gap(two)
    a1, b1 = gap(signed)
    assert a2 > b1
    lower = two[:a2 + 1] + two[a2 + 1:b2 - 1].lower() + two[b2 - 1:]
    assert lower != two and verifier.verify_pdf(lower).code == "ok"
    for a, b in ((a2, b2), (a1, b1)):
        for at in (a, a + 1 + 5, a + 1 + 32 * 20 + 3, b - 2, b - 1):
            for c in b"/:@G`g \n":
                if c != two[at]:
                    r = verifier.verify_pdf(put(two, at, c))
                    assert not r.ok and r.code != "internal_error", (at - a, chr(c), r.code, r.reason)


def _cms_of(pdf: bytes, digits: int) -> tuple[bytes, bytes]:
    """The gap's first ``digits`` digits decoded (the CMS without its padding) and the bytes
    the /ByteRange signs."""
    a, b = gap(pdf)
    return bytes.fromhex(pdf[a + 1:a + 1 + digits].decode()), pdf[:a] + pdf[b:]


def test_the_cms_oracle_agrees_on_the_fixture(verifier: govsig.Verifier, signed: bytes) -> None:
    cms, content = _cms_of(signed, cms_digits(signed))
    assert verifier.verify(cms, content).ok
    assert not verifier.verify(cms, content + b" ").ok


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_property_one_byte_in_the_gap(verifier: govsig.Verifier, signed: bytes,
                                      tmp_path_factory: pytest.TempPathFactory, data: st.DataObject) -> None:
    """Any single byte of the gap (brackets and digits) set to any other value. A bracket, a
    byte that is not a hex digit or a non-zero digit in the padding: never ok, refused as a
    PDF problem. A hex digit of the CMS: ok exactly when the CMS so changed still verifies
    over the signed bytes on its own (the CMS's certificates are not signed: a byte of an
    unused certificate may change). The same verdict from bytes and from verify_files after
    a larger file (a worker's kept buffer)."""
    a, b = gap(signed)
    n = cms_digits(signed)
    at = data.draw(st.one_of(st.integers(a, b - 1), st.sampled_from([a, b - 1, a + 1, b - 2, a + n, a + n + 1])),
                   label="at")
    c = data.draw(st.one_of(st.integers(0, 255), st.sampled_from(list(b"/:@G`g09afAF"))).filter(
        lambda x: x != signed[at]), label="byte")
    mutated = put(signed, at, c)
    r = verifier.verify_pdf(mutated)
    if chr(signed[at]) in "ABCDEFabcdef" and c == signed[at] ^ 0x20:
        assert r.ok, (at - a, c, r.code, r.reason)
    elif at in (a, b - 1) or c not in HEX or at > a + n:
        assert not r.ok and r.code in REFUSED, (at - a, c, r.code, r.reason)
    else:
        cms, content = _cms_of(mutated, n)
        assert r.ok == verifier.verify(cms, content).ok, (at - a, c, r.code, r.reason)
        assert r.code != "internal_error"
    d = tmp_path_factory.mktemp("prop")
    (d / "a.pdf").write_bytes(signed + b"\n" * 50_000)
    (d / "b.pdf").write_bytes(mutated)
    bulk = verifier.verify_files([d / "a.pdf", d / "b.pdf"], threads=1)
    assert summary(bulk[1]) == summary(r)


# 2. Other dictionaries: byte ranges shifted, /Contents not read from the gap -----------------


def _resigned_update(signed: bytes, a2: int, b2: int, contents: bytes, *, indirect: bool = False) -> bytes:
    """An update rewriting the signature dictionary with /ByteRange [0 a2 b2 c] (c reaching
    the update's end) and /Contents ``contents`` (hex digits), written directly or as an
    indirect string object."""
    num, body = _sig_object(signed)
    _, _, size = _root_and_size(signed)
    value = b"%d 0 R" % size if indirect else b"<" + contents + b">"
    new_body = re.sub(rb"/Contents\s*<[0-9A-Fa-f]+>", lambda _: b"/Contents " + value, body)
    objects = {num: None, size: b"<" + contents + b">"} if indirect else {num: None}

    def build(c: int) -> bytes:
        br = b"/ByteRange [0 %d %d %010d]" % (a2, b2, c)
        objs = {k: (BR.sub(lambda _: br, new_body) if k == num else v) for k, v in objects.items()}
        return append_update(signed, objs)  # type: ignore[arg-type]

    total = len(build(0))
    out = build(total - b2)
    assert len(out) == total and int(list(BR.finditer(out))[-1].group(4)) + b2 == total
    return out


@pytest.mark.parametrize("da,db", [(-1, 0), (1, 0), (0, 1), (0, -1), (-1, 1), (1, -1)])
def test_an_update_whose_byte_range_is_shifted_by_one(verifier: govsig.Verifier, signed: bytes, da: int,
                                                      db: int) -> None:
    """Its /Contents is the signer's hex, its gap one byte off the brackets (a byte more
    before `<` or after `>`, or a bracket left signed): the gap check refuses it."""
    a, b = gap(signed)
    digits = signed[a + 1:b - 1]
    data = _resigned_update(signed, a + da, b + db, digits)
    r = not_ok(verifier, data, f"shift {da} {db}")
    moved = [s for s in r.signatures if s.byte_range[1:3] == [a + da, b + db]]
    assert len(moved) == 1, [(s.byte_range, s.code) for s in r.signatures]
    assert moved[0].code == "byte_range_invalid", moved[0].reason
    assert "gap" in moved[0].reason, moved[0].reason


@pytest.mark.parametrize("indirect", [False, True])
def test_an_update_over_the_same_gap_with_its_own_contents(verifier: govsig.Verifier, signed: bytes,
                                                           indirect: bool) -> None:
    """A dictionary in an update whose /Contents lies elsewhere (in the update, or in an
    indirect string object): its gap is compared with its /Contents, never taken as read.
    The same hex passes the gap check (and is refused next: the dictionary lies after the
    gap, unsigned); one byte different fails the gap check."""
    a, b = gap(signed)
    digits = signed[a + 1:b - 1]
    same = _resigned_update(signed, a, b, digits, indirect=indirect)
    r = not_ok(verifier, same, "same contents")
    mine = [s for s in r.signatures if s.byte_range[3] + b == len(same)]
    assert len(mine) == 1 and mine[0].code == "byte_range_invalid", \
        [(s.byte_range, s.code, s.reason) for s in r.signatures]
    assert "does not lie in the signed bytes" in mine[0].reason, mine[0].reason
    other = bytearray(digits)
    other[7] = ord("0") if other[7] != ord("0") else ord("1")
    differ = _resigned_update(signed, a, b, bytes(other), indirect=indirect)
    r = not_ok(verifier, differ, "other contents")
    mine = [s for s in r.signatures if s.byte_range[3] + b == len(differ)]
    assert len(mine) == 1 and mine[0].code == "byte_range_invalid", \
        [(s.byte_range, s.code, s.reason) for s in r.signatures]
    assert "gap" in mine[0].reason, mine[0].reason


def test_the_signature_dictionary_as_it_was_in_an_object_stream(verifier: govsig.Verifier, signed: bytes) -> None:
    """A later revision moves the signature dictionary, unchanged (same /ByteRange, same
    /Contents), into an object stream: no span is known there; never ok, never an error."""
    num, body = _sig_object(signed)
    r = not_ok(verifier, append_in_object_stream(signed, num, body), "moved")
    assert all(s.code != "internal_error" for s in r.signatures)
    a, b = gap(signed)
    lower = signed[:a + 1] + signed[a + 1:b - 1].lower() + signed[b - 1:]
    num, body = _sig_object(lower)
    not_ok(verifier, append_in_object_stream(lower, num, body), "moved, lower case")


def test_an_update_pointing_the_signature_object_one_byte_off(verifier: govsig.Verifier, signed: bytes) -> None:
    """The update's cross-reference puts the signature dictionary's object on the line end
    before it (read there: the same object, ok, pinned) or a byte into it (never ok)."""
    num, _ = _sig_object(signed)
    at = signed.rindex(b"%d 0 obj" % num, 0, gap(signed)[0])
    assert signed[at - 1:at] == b"\n"
    r = verifier.verify_pdf(append_update(signed, {}, xref_offsets={num: at - 1}))
    assert r.code == "ok", r.reason
    for off in (at + 1, at + 2):
        r = verifier.verify_pdf(append_update(signed, {}, xref_offsets={num: off}))
        assert not r.ok and r.code != "internal_error", (off - at, r.code, r.reason)


# 3. verify_files: a worker's kept buffer ------------------------------------------------------


def test_a_smaller_file_after_a_larger_one_never_sees_its_tail(verifier: govsig.Verifier, signed: bytes,
                                                               tmp_path: Path) -> None:
    """On one thread (one worker, one buffer): a large file, then truncated copies and
    prefixes of the signed PDF whose missing bytes the large file's tail holds at the same
    offsets. Each verdict is the one of its own bytes; no truncated copy is ok."""
    files: list[tuple[str, bytes]] = [
        ("00_big.pdf", signed + b"\n" * 300_000),
        ("01_cut7.pdf", signed[:-7]),
        ("02_signed.pdf", signed),
        ("03_half.pdf", signed[:len(signed) // 2]),
        ("04_cut_gap.pdf", signed[:gap(signed)[1] + 10]),
        ("05_empty.pdf", b""),
        ("06_cut20.pdf", signed[:-20]),
        ("07_big_again.pdf", signed + b" " * 100_000),
        ("08_header.pdf", signed[:9]),
        ("09_cut1.pdf", signed[:-1]),
    ]
    paths = []
    for name, data in files:
        (tmp_path / name).write_bytes(data)
        paths.append(tmp_path / name)
    alone = [summary(verifier.verify_pdf(data)) for _, data in files]
    for threads in (1, 2, None):
        bulk = verifier.verify_files(paths, threads=threads)
        assert [summary(bulk[i]) for i in range(len(files))] == alone, threads
    codes = dict(zip([n for n, _ in files], [s[2] for s in alone]))
    assert codes["00_big.pdf"] == codes["02_signed.pdf"] == codes["07_big_again.pdf"] == "ok"
    for name in ("01_cut7.pdf", "03_half.pdf", "04_cut_gap.pdf", "05_empty.pdf", "06_cut20.pdf", "08_header.pdf"):
        assert codes[name] == "pdf_malformed", (name, codes[name])
    # The big one read again last: the small ones between left its verdict alone.
    bulk = verifier.verify_files(paths[1:] + paths[:1], threads=1)
    assert summary(bulk[len(files) - 1]) == alone[0]


def test_a_prefix_of_the_previous_file_and_the_empty_file(verifier: govsig.Verifier, signed: bytes,
                                                          tmp_path: Path) -> None:
    """Every prefix length around the end (%%EOF and its line end) read right after the whole
    file: the same verdict as its bytes."""
    whole = tmp_path / "whole.pdf"
    whole.write_bytes(signed)
    ends = sorted({len(signed) - k for k in range(0, 12)} | {0, 1, 5})
    paths = []
    for n in ends:
        p = tmp_path / f"p{n:06d}.pdf"
        p.write_bytes(signed[:n])
        paths += [whole, p]
    bulk = verifier.verify_files(paths, threads=1)
    for i, n in enumerate(ends):
        assert summary(bulk[2 * i]) == summary(verifier.verify_pdf(signed))
        assert summary(bulk[2 * i + 1]) == summary(verifier.verify_pdf(signed[:n])), n
    assert bulk[1].code == "pdf_malformed" and "%PDF-" in bulk[1].reason


def test_a_directory_named_pdf_raises_is_a_directory(verifier: govsig.Verifier, signed: bytes,
                                                     tmp_path: Path) -> None:
    (tmp_path / "a.pdf").write_bytes(signed)
    (tmp_path / "x.pdf").mkdir()
    for chunk_size in (1, 512):
        with pytest.raises(IsADirectoryError, match="x.pdf"):
            verifier.verify_files([tmp_path / "a.pdf", tmp_path / "x.pdf"], chunk_size=chunk_size)
    with pytest.raises(IsADirectoryError):
        verifier.verify_pdf(tmp_path / "x.pdf")


@pytest.mark.parametrize("name", ["x.pdf", "x.p7s"])
def test_a_fifo_in_verify_files_does_not_block(tmp_path: Path, name: str) -> None:
    """verify_pdf refuses a FIFO before opening it (ValueError, test_attack_round4);
    verify_files must not wait forever for a writer either (seen: it blocks, x.pdf in the
    core's File::open, x.p7s in _files._read_one's open). Run in a child process so that a
    block is a failure after a timeout, not a hung suite."""
    fifo = tmp_path / name
    os.mkfifo(fifo)
    code = ("import sys, govsig\n"
            "v = govsig.Verifier(govsig.Policy(trust=govsig.TrustStore.from_der([])))\n"
            "try:\n"
            "    r = v.verify_files([sys.argv[1]], threads=1)\n"
            "    print('result', r[0].ok, r[0].code)\n"
            "except (OSError, ValueError) as e:\n"
            "    print('raised', type(e).__name__, e)\n")
    env = dict(os.environ, PYTHONPATH=str(ROOT / "python"))
    try:
        p = subprocess.run([sys.executable, "-c", code, str(fifo)], capture_output=True, text=True, env=env,
                           timeout=20)
    except subprocess.TimeoutExpired:
        pytest.fail(f"verify_files blocked on a FIFO named {name} (opened without O_NONBLOCK)")
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("raised") or p.stdout.startswith("result False"), p.stdout


# 4. verify_files: chunks of mixed files -------------------------------------------------------


@pytest.fixture(scope="module")
def mixed(pki, signed: bytes, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:  # type: ignore[no-untyped-def]
    d = tmp_path_factory.mktemp("mixed")
    content = "Biên bản — bản gốc\n".encode() * 20
    (d / "a.pdf").write_bytes(signed)
    (d / "b.txt").write_bytes(content)
    (d / "b.txt.p7s").write_bytes(P.sign_cms(content, pki.rsa_leaf))
    (d / "c.p7m").write_bytes(P.sign_cms(content, pki.p256_leaf, detached=False))
    (d / "d.pdf").write_bytes(pdfsign.add_page_content(signed))
    (d / "e.txt").write_bytes(content + b"!")
    (d / "e.txt.p7s").write_bytes(P.sign_cms(content, pki.rsa_leaf))  # content beside was changed
    (d / "f.p7s").write_bytes(P.sign_cms(content, pki.p256_leaf))  # detached, nothing beside
    (d / "g.pdf").write_bytes(signed[:-7])
    (d / "h.P7M").write_bytes(b"\x30\x03\x02\x01\x01")
    (d / "i.PDF").write_bytes(signed)
    # A PDF with a detached signature beside it: the .p7s is over the PDF's bytes.
    (d / "j.pdf").write_bytes(signed)
    (d / "j.pdf.p7s").write_bytes(P.sign_cms(signed, pki.p256_leaf))
    names = ["a.pdf", "b.txt.p7s", "c.p7m", "d.pdf", "e.txt.p7s", "g.pdf", "f.p7s", "h.P7M", "i.PDF", "a.pdf",
             "c.p7m", "j.pdf.p7s", "j.pdf"]
    return [d / n for n in names]


def _alone(verifier: govsig.Verifier, p: Path) -> tuple[Any, ...]:
    if p.name.lower().endswith(".pdf"):
        return summary(verifier.verify_pdf(p))
    beside = Path(str(p)[:-4])
    content = beside.read_bytes() if p.name.endswith(".p7s") and beside.is_file() else None
    return summary(verifier.verify(p.read_bytes(), content))


@pytest.mark.parametrize("chunk_size", [1, 2, 3, 4, 100])
@pytest.mark.parametrize("threads", [1, None])
def test_mixed_chunks_keep_order_and_match_each_file_alone(verifier: govsig.Verifier, mixed: list[Path],
                                                           chunk_size: int, threads: int | None) -> None:
    alone = [_alone(verifier, p) for p in mixed]
    codes = [s[2] for s in alone]
    assert codes[:4] == ["ok", "ok", "ok", "modified_after_signing"], codes
    assert codes[4] != "ok" and codes[5] == "pdf_malformed" and codes[6] != "ok" and codes[7] != "ok"
    assert codes[8] == codes[9] == codes[10] == codes[11] == codes[12] == "ok"
    before = threading.active_count()
    bulk = verifier.verify_files(iter(mixed), threads=threads, chunk_size=chunk_size)
    assert len(bulk) == len(mixed)
    assert [summary(bulk[i]) for i in range(len(mixed))] == alone
    assert [isinstance(bulk[i], govsig.PdfResult) for i in range(len(mixed))] == \
        [p.name.lower().endswith(".pdf") for p in mixed]
    assert threading.active_count() == before  # the reading thread, if any, was joined


@pytest.mark.parametrize("missing", ["gone.p7s", "gone.p7m", "gone.pdf"])
@pytest.mark.parametrize("chunk_size", [1, 2, 3])
def test_a_missing_file_in_a_later_chunk_raises(verifier: govsig.Verifier, mixed: list[Path], missing: str,
                                                chunk_size: int) -> None:
    """Pinned: a path that does not exist, after a chunk or two were verified, raises
    FileNotFoundError naming it (the results before it are not returned); no reading thread
    is left behind, and the verifier works on after it."""
    paths = mixed[:4] + [mixed[0].parent / missing] + mixed[4:6]
    before = threading.active_count()
    with pytest.raises(FileNotFoundError) as e:
        verifier.verify_files(paths, chunk_size=chunk_size)
    assert missing in str(e.value)
    assert threading.active_count() == before
    again = verifier.verify_files(mixed[:4], chunk_size=chunk_size)
    assert [again[i].code for i in range(4)] == ["ok", "ok", "ok", "modified_after_signing"]


# 5. The budget on objects listed over all revisions -------------------------------------------


def _with_big_section(pdf: bytes, entries: int, updates: int) -> bytes:
    """An update with one cross-reference section listing ``entries`` free objects (numbered
    past the document's), then ``updates`` empty updates whose /Prev all point at it."""
    root, _, _ = _root_and_size(pdf)
    out = bytearray(pdf if pdf.endswith(b"\n") else pdf + b"\n")
    at = len(out)
    out += b"xref\n1000 %d\n" % entries + b"0000000000 00000 f \n" * entries
    out += b"trailer\n<< /Size %d /Root %d 0 R /Prev %d >>\nstartxref\n%d\n%%%%EOF\n" % (
        1000 + entries, root, _last_startxref(pdf), at)
    data = bytes(out)
    for _ in range(updates):
        data = append_update(data, {}, prev=at)
    return data


def test_revisions_within_the_object_budget_are_all_read(verifier: govsig.Verifier, signed: bytes) -> None:
    # 4 revisions list 400,000 objects each: 1.6 million, under the 2 million budget.
    data = _with_big_section(signed, 400_000, 3)
    r = verifier.verify_pdf(data)
    assert (r.code, r.revisions) == ("ok", 2 + 1 + 3), r.reason


def test_revisions_past_the_object_budget_are_not_dropped_silently(verifier: govsig.Verifier,
                                                                   signed: bytes) -> None:
    """7 revisions each listing 400,000 objects (2.8 million, past the 2 million budget): a
    verdict must not be given on fewer revisions than the file has (the earlier
    max_parsed_bytes refused such a file as pdf_malformed). Seen: "ok" with revisions=6 for
    9 revisions, the revisions that did not fit skipped as if unreadable."""
    data = _with_big_section(signed, 400_000, 6)
    assert data.count(b"%%EOF") == 2 + 1 + 6
    r = verifier.verify_pdf(data)
    assert not (r.ok and r.revisions < 2 + 1 + 6), (r.code, r.revisions, r.reason)
    assert r.code != "internal_error"


def _free_section(pdf: bytes, first: int, n: int, prev: int) -> tuple[bytes, int]:
    """An update that is only a cross-reference section of ``n`` free entries (generation 1,
    as pyHanko's strict reader wants them in an update) from object ``first`` on."""
    root, _, _ = _root_and_size(pdf)
    out = bytearray(pdf if pdf.endswith(b"\n") else pdf + b"\n")
    at = len(out)
    out += b"xref\n%d %d\n" % (first, n) + b"0000000000 00001 f \n" * n
    out += b"trailer\n<< /Size %d /Root %d 0 R /Prev %d >>\nstartxref\n%d\n%%%%EOF\n" % (
        1000 + 400_000, root, prev, at)
    return bytes(out), at


def test_a_removed_signature_is_still_judged_past_the_object_budget(pki, verifier: govsig.Verifier,  # type: ignore[no-untyped-def]
                                                                    signed: bytes) -> None:
    """Signature2 is made (by pyHanko) on a file padded with updates that point back at one
    large section, then a later update takes its field out of the form. Within the budget
    (one padding update) Signature2 is still found and its removal judged; past it (four)
    the file is refused as a whole, naming the bound. Seen before the fix: the revisions
    holding Signature2 were skipped and it was missing from the report as if it had never
    been made (signatures ['Signature1'] only, revisions=6 of 9)."""
    for updates, within in ((1, True), (4, False)):
        data, at = _free_section(signed, 1000, 400_000, _last_startxref(signed))
        for i in range(updates):
            data, _ = _free_section(data, 1000 + i, 1, at)
        two = pdfsign.sign(data, pki.p256_leaf, field="Signature2")
        gone = pdfsign.remove_signature_field(two, "Signature2")
        r = verifier.verify_pdf(gone)
        assert not r.ok
        fields = [s.field for s in r.signatures]
        if not within:
            assert (r.code, fields) == ("pdf_malformed", []), (r.code, fields, r.reason)
            assert "objects in all" in r.reason, r.reason
            continue
        assert fields == ["Signature1", "Signature2"], (updates, within, fields, r.revisions,
                                                        gone.count(b"%%EOF"))
        assert r.revisions == gone.count(b"%%EOF"), (updates, r.revisions)
