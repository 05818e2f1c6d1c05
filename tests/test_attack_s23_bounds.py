"""Attacks on session 23's two fixes and the entry points around them, by someone who holds
one validly signed PDF (and CMS files) and controls every unsigned byte:

- govsig's reading bounds (``PdfLimits``: objects in one cross-reference section or stream,
  cross-reference sections in one chain, entries read over the file, the inflated size of a
  cross-reference or object stream), each crossed by a small crafted update placed (a) as the
  last revision, (b) in an earlier revision on the /Prev chain, (c) in an earlier revision off
  the chain (its own ``startxref``/``%%EOF``, the last revision not pointing back at it), and
  (d) reachable only from a ``startxref N %%EOF`` quoted inside a stream object. The verdict
  is never ``ok`` with revisions left out, never an exception, never ``internal_error``;
- the revision and end-marker counts, with markers quoted in streams next to them;
- the "bound reached" state of one file leaking into the next in ``verify_files``;
- a signed PDF embedding another complete PDF uncompressed (its markers quoted in the outer
  file): still ``ok``;
- FIFOs, devices and symlinks to them at every entry point that reads a named file
  (``verify_pdf``, ``verify_files`` for .pdf / .p7s and the content beside it / .p7m,
  ``sign_pdf``, and the CLI's ``verify``, ``sign-pdf`` and ``verify-archive``), and control
  characters or non-UTF-8 bytes in those names (shown escaped). Children run with a timeout
  and a memory cap, so that a block or an endless read is a failure, not a hung suite.
"""

from __future__ import annotations

import io
import json
import os
import resource
import subprocess
import sys
import time
import zlib
from pathlib import Path
from typing import Any, Callable

import pikepdf
import pytest

import govsig
import pdfsign
from test_pdf_reader import _last_startxref, _root_and_size
# The same signed document and verifier fixtures as the first attack file's.
from test_pdf_attack_s23 import signed, verifier  # noqa: F401

ROOT = Path(__file__).resolve().parent.parent
MAX_OBJECTS = 500_000
INFLATE_CAP = 64 << 20




# Builders ---------------------------------------------------------------------------------------
# A chunk is the bytes of one update written at absolute offset `at` of the file: sections
# and objects, then `startxref X %%EOF`. `root` is the catalog's number, `prev` the /Prev of
# its first section, `num` the first object number it may use.

Chunk = Callable[[int, int, int, int], bytes]


def _marker(xref_at: int) -> bytes:
    return b"startxref\n%d\n%%%%EOF\n" % xref_at


def chunk_table(at: int, root: int, prev: int, num: int) -> bytes:
    """One classic section of 500,001 free entries (one past the per-section bound)."""
    n = MAX_OBJECTS + 1
    return (b"xref\n%d %d\n" % (num, n) + b"0000000000 00001 f \n" * n
            + b"trailer\n<< /Size %d /Root %d 0 R /Prev %d >>\n" % (num + n, root, prev) + _marker(at))


def chunk_xrefstm_count(at: int, root: int, prev: int, num: int) -> bytes:
    """A cross-reference stream of a few bytes whose /Size lists 500,001 objects."""
    return (b"%d 0 obj\n<< /Type /XRef /Root %d 0 R /Prev %d /Size %d /W [1 0 0] /Length 1 >>\nstream\n\x00"
            b"\nendstream\nendobj\n" % (num, root, prev, MAX_OBJECTS + 1) + _marker(at))


_BOMB: list[bytes] = []


def _bomb() -> bytes:
    """64 MiB + 1 KiB of zero bytes, deflated (about 65 KB)."""
    if not _BOMB:
        _BOMB.append(zlib.compress(b"\x00" * (INFLATE_CAP + 1024), 9))
    return _BOMB[0]


def chunk_xrefstm_bomb(at: int, root: int, prev: int, num: int) -> bytes:
    """A cross-reference stream listing one object whose data inflates past 64 MiB."""
    bomb = _bomb()
    return (b"%d 0 obj\n<< /Type /XRef /Root %d 0 R /Prev %d /Size %d /Index [%d 1] /W [1 0 0] "
            b"/Filter /FlateDecode /Length %d >>\nstream\n" % (num, root, prev, num + 1, num, len(bomb))
            + bomb + b"\nendstream\nendobj\n" + _marker(at))


def chunk_sections(at: int, root: int, prev: int, num: int) -> bytes:
    """129 one-entry classic sections chained by /Prev (govsig reads at most 128 in one
    chain), only the last named by a marker."""
    out = bytearray()
    p = prev
    for i in range(129):
        here = at + len(out)
        out += (b"xref\n%d 1\n0000000000 00001 f \ntrailer\n<< /Size %d /Root %d 0 R /Prev %d >>\n"
                % (num + i, num + 129, root, p))
        p = here
    return bytes(out) + _marker(p)


def chunk_entries(at: int, root: int, prev: int, num: int) -> bytes:
    """Five chained cross-reference streams, each listing the same 450,000 free objects:
    450,000 objects in the revision (within the per-revision bound), 2,250,000 entries read
    (past the 4 x 500,000 entries govsig reads in one file)."""
    data = zlib.compress(b"\x00" * 450_000, 9)
    out = bytearray()
    p = prev
    for i in range(5):
        here = at + len(out)
        out += (b"%d 0 obj\n<< /Type /XRef /Root %d 0 R /Prev %d /Size %d /Index [%d 450000] /W [1 0 0] "
                b"/Filter /FlateDecode /Length %d >>\nstream\n" % (num + i, root, p, num + 450_000, num, len(data))
                + data + b"\nendstream\nendobj\n")
        p = here
    return bytes(out) + _marker(p)


def chunk_objstm_bomb(at: int, root: int, prev: int, num: int) -> bytes:
    """The catalog moved into an object stream whose data inflates past 64 MiB (read lazily,
    when an object is asked for, not when the revision is opened)."""
    header = b"%d 0 " % root
    bomb = zlib.compress(header + b" " * (INFLATE_CAP + 1024), 9)
    obj = (b"%d 0 obj\n<< /Type /ObjStm /N 1 /First %d /Filter /FlateDecode /Length %d >>\nstream\n"
           % (num, len(header), len(bomb)) + bomb + b"\nendstream\nendobj\n")
    xref_at = at + len(obj)
    rows = bytes([1]) + at.to_bytes(4, "big") + b"\x00" + bytes([2]) + num.to_bytes(4, "big") + b"\x00"
    return obj + (b"%d 0 obj\n<< /Type /XRef /Root %d 0 R /Prev %d /Size %d /W [1 4 1] /Index [%d 1 %d 1] "
                  b"/Length %d >>\nstream\n" % (num + 1, root, prev, num + 2, num, root, len(rows))
                  + rows + b"\nendstream\nendobj\n" + _marker(xref_at))


def chunk_hybrid(at: int, root: int, prev: int, num: int) -> bytes:
    """A hybrid section (§7.5.8.4): a one-entry classic table whose trailer's /XRefStm names
    a cross-reference stream listing 500,001 objects."""
    stm = (b"%d 0 obj\n<< /Type /XRef /Size %d /W [1 0 0] /Length 1 >>\nstream\n\x00\nendstream\nendobj\n"
           % (num, MAX_OBJECTS + 1))
    table_at = at + len(stm)
    return stm + (b"xref\n%d 1\n0000000000 00001 f \ntrailer\n<< /Size %d /Root %d 0 R /Prev %d /XRefStm %d >>\n"
                  % (num + 1, num + 2, root, prev, at)) + _marker(table_at)


CHUNKS: dict[str, tuple[Chunk, str]] = {
    "hybrid_xrefstm_500001": (chunk_hybrid, "lists 500001 objects"),
    # name: (builder, words the refusal's reason must contain)
    "table_500001": (chunk_table, "lists more than 500000 objects"),
    "xref_stream_500001": (chunk_xrefstm_count, "lists 500001 objects"),
    "xref_stream_inflates_64MiB": (chunk_xrefstm_bomb, "inflates to more than 67108864 bytes"),
    "129_sections": (chunk_sections, "more than 128 cross-reference sections"),
    "2250000_entries": (chunk_entries, "more than 2000000 entries in all"),
}


def _nl(pdf: bytes) -> bytes:
    return pdf if pdf.endswith(b"\n") else pdf + b"\n"


def empty_update(pdf: bytes, root: int, size: int, prev: int) -> bytes:
    """An update with no objects: a one-entry free section and a trailer with /Prev."""
    out = _nl(pdf)
    at = len(out)
    return out + (b"xref\n0 1\n0000000000 65535 f \ntrailer\n<< /Size %d /Root %d 0 R /Prev %d >>\n"
                  % (size, root, prev)) + _marker(at)


def quoted_update(pdf: bytes, root: int, size: int, prev: int, chunk: Chunk) -> bytes:
    """An update adding one stream object (number ``size``) whose data is ``chunk`` built at
    the absolute offset the data lands on: its markers are quoted inside the stream. The
    update's own section lists the stream and points back at ``prev``."""
    out = _nl(pdf)
    head_at = len(out)
    data = b""
    for _ in range(3):  # the header's width depends on the data's length, and back
        head = b"%d 0 obj\n<< /Length %d >>\nstream\n" % (size, len(data))
        data = chunk(head_at + len(head), root, prev, size + 1)
    head = b"%d 0 obj\n<< /Length %d >>\nstream\n" % (size, len(data))
    assert data == chunk(head_at + len(head), root, prev, size + 1)
    body = head + data + b"\nendstream\nendobj\n"
    xref_at = head_at + len(body)
    return out + body + (b"xref\n0 1\n0000000000 65535 f \n%d 1\n%010d 00000 n \n" % (size, head_at)
                         + b"trailer\n<< /Size %d /Root %d 0 R /Prev %d >>\n" % (size + 1, root, prev)
                         + _marker(xref_at))


def place(signed: bytes, chunk: Chunk, where: str) -> tuple[bytes, int]:
    """The signed PDF with ``chunk`` placed ``where``, and the number of revisions a reader
    of the file as written sees (end markers whose chain reads, quoted ones aside)."""
    root, _, size = _root_and_size(signed)
    base = _nl(signed)
    prev = _last_startxref(signed)
    revs = signed.count(b"%%EOF")
    if where == "quoted":
        return quoted_update(signed, root, size, prev, chunk), revs + 1
    poisoned = base + chunk(len(base), root, prev, size)
    if where == "last":
        return poisoned, revs + 1
    if where == "on_chain":
        return empty_update(poisoned, root, size, _last_startxref(poisoned)), revs + 2
    assert where == "off_chain"
    return empty_update(poisoned, root, size, prev), revs + 2


def summary(r: Any) -> tuple[Any, ...]:
    return (type(r).__name__, r.ok, r.code, r.reason, r.revisions, [s.field for s in r.signatures])


# 1. Each bound, in each place ------------------------------------------------------------------


@pytest.mark.parametrize("where", ["last", "on_chain", "off_chain", "quoted"])
@pytest.mark.parametrize("kind", list(CHUNKS))
def test_a_bound_crossed_anywhere_refuses_the_file(verifier: govsig.Verifier, signed: bytes, kind: str,
                                                   where: str) -> None:
    """Whether the section past a bound is the last revision, an earlier one the last points
    back at, an earlier one it does not point back at, or one named only by a marker quoted
    inside a stream: the file is refused as pdf_malformed naming the bound (a revision past a
    bound is never skipped as a quoted marker is)."""
    builder, words = CHUNKS[kind]
    data, _ = place(signed, builder, where)
    r = verifier.verify_pdf(data)
    assert (r.ok, r.code) == (False, "pdf_malformed"), (kind, where, r.code, r.revisions, r.reason)
    assert words in r.reason, (kind, where, r.reason)
    assert r.signatures == []


def test_the_chunks_within_their_bound_are_read(verifier: govsig.Verifier, signed: bytes) -> None:
    """Controls: the same shapes one step inside each bound are read and the file is ok with
    every revision (so the refusals above are the bounds', not a broken builder's)."""
    root, _, size = _root_and_size(signed)

    def within_sections(at: int, root: int, prev: int, num: int) -> bytes:
        out = bytearray()
        p = prev
        for i in range(100):  # 100 + the signed file's own 2 sections: within 128
            here = at + len(out)
            out += (b"xref\n%d 1\n0000000000 00001 f \ntrailer\n<< /Size %d /Root %d 0 R /Prev %d >>\n"
                    % (num + i, num + 100, root, p))
            p = here
        return bytes(out) + _marker(p)

    def within_stream(at: int, root: int, prev: int, num: int) -> bytes:
        data = zlib.compress(b"\x00" * 400_000, 9)
        return (b"%d 0 obj\n<< /Type /XRef /Root %d 0 R /Prev %d /Size %d /Index [%d 400000] /W [1 0 0] "
                b"/Filter /FlateDecode /Length %d >>\nstream\n" % (num, root, prev, num + 400_000, num, len(data))
                + data + b"\nendstream\nendobj\n" + _marker(at))

    for builder in (within_sections, within_stream):
        for where in ("last", "on_chain", "off_chain"):
            data, revs = place(signed, builder, where)
            r = verifier.verify_pdf(data)
            assert (r.code, r.revisions) == ("ok", revs), (builder.__name__, where, r.code, r.revisions, r.reason)


@pytest.mark.parametrize("where", ["last", "on_chain", "off_chain", "quoted"])
def test_an_object_stream_past_the_inflate_bound(verifier: govsig.Verifier, signed: bytes, where: str) -> None:
    """The catalog moved into an object stream that inflates past 64 MiB: read only when
    asked for (not when the revision is opened), it is never ok. Pinned: pdf_malformed (the
    revision's catalog does not read) in every place; quoted, the stream's own marker opens
    (its chain reads) and is a revision like any other."""
    data, _ = place(signed, chunk_objstm_bomb, where)
    r = verifier.verify_pdf(data)
    assert not r.ok and r.code == "pdf_malformed", (where, r.code, r.revisions, r.reason)
    assert "catalog" in r.reason, (where, r.reason)


# 2. Revision and marker counts ----------------------------------------------------------------


def _updates(signed: bytes, n: int) -> bytes:
    root, _, size = _root_and_size(signed)
    data = signed
    for _ in range(n):
        data = empty_update(data, root, size, _last_startxref(data))
    return data


def _quoted_markers(pdf: bytes, n: int) -> bytes:
    """An update adding a stream that quotes ``n`` markers pointing at offset 0 (before the
    update: never a revision)."""
    root, _, size = _root_and_size(pdf)
    data = b"startxref 0 %%EOF\n" * n
    out = _nl(pdf)
    at = len(out)
    body = b"%d 0 obj\n<< /Length %d >>\nstream\n" % (size, len(data)) + data + b"\nendstream\nendobj\n"
    xref_at = at + len(body)
    return out + body + (b"xref\n0 1\n0000000000 65535 f \n%d 1\n%010d 00000 n \n" % (size, at)
                         + b"trailer\n<< /Size %d /Root %d 0 R /Prev %d >>\n" % (size + 1, root, _last_startxref(pdf))
                         + _marker(xref_at))


def test_sixty_four_revisions_with_quoted_markers_beside_them(verifier: govsig.Verifier, signed: bytes) -> None:
    """64 revisions (the bound) are read, and markers quoted in a stream do not count as
    revisions; a 65th revision refuses the file. More than 256 end markers in all (quoted
    ones too) refuse it before anything is read."""
    n0 = signed.count(b"%%EOF")
    quoted = _quoted_markers(signed, 150)
    full = _updates(quoted, 64 - n0 - 1)
    r = verifier.verify_pdf(full)
    assert (r.code, r.revisions) == ("ok", 64), (r.code, r.revisions, r.reason)
    over = _updates(full, 1)
    r = verifier.verify_pdf(over)
    assert (r.ok, r.code) == (False, "pdf_malformed") and "more than 64 revisions" in r.reason, r.reason
    many = _quoted_markers(signed, 300)
    r = verifier.verify_pdf(many)
    assert (r.ok, r.code) == (False, "pdf_malformed") and "end-of-file markers" in r.reason, r.reason
    r = verifier.verify_pdf(_quoted_markers(signed, 250))
    assert (r.code, r.revisions) == ("ok", n0 + 1), (r.code, r.reason)


# 3. The bound reached in one file, then a valid one ---------------------------------------------


@pytest.mark.parametrize("threads", [1, 2])
def test_a_bound_in_one_file_does_not_leak_into_the_next(pki, verifier: govsig.Verifier,  # type: ignore[no-untyped-def]
                                                         signed: bytes, tmp_path: Path, threads: int) -> None:
    import pki as P
    content = "Tờ trình số 7\n".encode() * 10
    files = {
        "0_bound.pdf": place(signed, chunk_xrefstm_bomb, "off_chain")[0],
        "1_signed.pdf": signed,
        "2_sections.pdf": place(signed, chunk_sections, "on_chain")[0],
        "3_doc.txt.p7s": P.sign_cms(content, pki.rsa_leaf),
        "3_doc.txt": content,
        "4_entries.pdf": place(signed, chunk_entries, "quoted")[0],
        "5_signed.pdf": signed,
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    paths = [tmp_path / n for n in files if not n.endswith(".txt")]
    for chunk_size in (1, 512):
        bulk = verifier.verify_files(paths, threads=threads, chunk_size=chunk_size)
        codes = [bulk[i].code for i in range(len(paths))]
        assert codes == ["pdf_malformed", "ok", "pdf_malformed", "ok", "pdf_malformed", "ok"], codes
        assert summary(bulk[1]) == summary(bulk[5]) == summary(verifier.verify_pdf(signed))
    # And verify_pdf right after a refused file, on the same verifier.
    assert verifier.verify_pdf(files["0_bound.pdf"]).code == "pdf_malformed"
    assert verifier.verify_pdf(signed).code == "ok"


# 4. A signed PDF embedding another complete PDF, uncompressed ------------------------------------


def test_an_embedded_uncompressed_pdf_does_not_cost_the_outer_its_verdict(pki, verifier: govsig.Verifier,  # type: ignore[no-untyped-def]
                                                                          signed: bytes) -> None:
    """The inner PDF (itself signed, two revisions) is an embedded file written without a
    filter, so its `startxref N %%EOF` markers appear in the outer file; N is relative to the
    inner file. The outer, signed by pyHanko, is ok with its own revisions only."""
    out = io.BytesIO()
    with pikepdf.open(io.BytesIO(pdfsign.base_pdf("Hồ sơ kèm theo"))) as p:
        p.attachments["inner.pdf"] = pikepdf.AttachedFileSpec(p, signed, filename="inner.pdf")
        p.save(out, compress_streams=False, object_stream_mode=pikepdf.ObjectStreamMode.disable)
    outer = out.getvalue()
    assert signed in outer  # the inner file, byte for byte
    two = pdfsign.sign(outer, pki.p256_leaf)
    assert two.count(b"%%EOF") == outer.count(b"%%EOF") + 1 == signed.count(b"%%EOF") + 2
    r = verifier.verify_pdf(two)
    assert (r.code, r.revisions) == ("ok", 2), (r.code, r.revisions, r.reason)
    assert [s.field for s in r.signatures] == ["Signature1"]
    # Signed again after an update: still only the outer revisions.
    three = pdfsign.sign(two, pki.rsa_leaf, field="Signature2")
    r = verifier.verify_pdf(three)
    assert (r.code, r.revisions, [s.field for s in r.signatures]) == ("ok", 3, ["Signature1", "Signature2"]), r.reason


# 5. FIFOs, devices and symlinks at each entry point ---------------------------------------------

_CAP = 2 << 30  # address space of a child: an endless read fails instead of eating the machine


def _cap_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (_CAP, _CAP))


def child(args: list[str], *, code: str | None = None, timeout: float = 20, cwd: Path | None = None
          ) -> subprocess.CompletedProcess[bytes]:
    """Runs ``python -c code args`` (or ``python -m govsig args``) with a timeout and a memory
    cap; a block is a test failure."""
    env = dict(os.environ, PYTHONPATH=str(ROOT / "python"))
    cmd = [sys.executable, "-c", code, *args] if code is not None else [sys.executable, "-m", "govsig", *args]
    try:
        return subprocess.run(cmd, capture_output=True, env=env, timeout=timeout, preexec_fn=_cap_memory,
                              cwd=cwd)
    except subprocess.TimeoutExpired:
        pytest.fail(f"blocked (no answer in {timeout} s): {cmd[2:] if code is None else args}")


API = ("import sys, govsig\n"
       "v = govsig.Verifier(govsig.Policy(trust=govsig.TrustStore.from_der([])))\n"
       "what, path = sys.argv[1], sys.argv[2]\n"
       "try:\n"
       "    if what == 'files':\n"
       "        r = v.verify_files([path], threads=1)[0]\n"
       "    elif what == 'pdf':\n"
       "        r = v.verify_pdf(path)\n"
       "    else:\n"
       "        k = govsig.KeySigner(open(sys.argv[4], 'rb').read(), open(sys.argv[3], 'rb').read())\n"
       "        govsig.sign_pdf(path, k)\n"
       "        r = None\n"
       "    print('result', None if r is None else r.ok, None if r is None else r.code,\n"
       "          None if r is None else r.reason)\n"
       "except Exception as e:\n"
       "    print('raised', type(e).__name__, repr(str(e)))\n")


@pytest.fixture(scope="module")
def specials(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("specials")
    os.mkfifo(d / "fifo.pdf")
    os.mkfifo(d / "fifo.p7m")
    os.mkfifo(d / "fifo.p7s")
    os.symlink("/dev/zero", d / "zero.pdf")
    os.symlink("/dev/zero", d / "zero.p7m")
    os.symlink("fifo.pdf", d / "link-to-fifo.pdf")
    return d


@pytest.fixture(scope="module")
def beside(pki, specials: Path) -> Path:  # type: ignore[no-untyped-def]
    """Detached signatures (over real content) whose content beside is a FIFO, a symlink
    to /dev/zero or to /dev/null, and one whose content is a regular file (the control)."""
    import pki as P
    sig = P.sign_cms(b"", pki.rsa_leaf)
    for n in ("c0", "c1", "c2", "c3"):
        (specials / f"{n}.p7s").write_bytes(sig)
    (specials / "c0").write_bytes(b"")
    os.mkfifo(specials / "c1")
    os.symlink("/dev/zero", specials / "c2")
    os.symlink("/dev/null", specials / "c3")
    return specials


def _line(p: subprocess.CompletedProcess[bytes]) -> str:
    assert p.returncode == 0, p.stderr.decode(errors="replace")[-2000:]
    return p.stdout.decode().strip()


@pytest.mark.parametrize("name,kind", [("fifo.pdf", "a FIFO"), ("zero.pdf", "a device"),
                                       ("link-to-fifo.pdf", "a FIFO"), ("fifo.p7m", "a FIFO"),
                                       ("zero.p7m", "a device"), ("fifo.p7s", "a FIFO")])
def test_verify_files_refuses_special_files_without_reading(specials: Path, name: str, kind: str) -> None:
    """Each answers at once with ValueError saying what the file is."""
    out = _line(child(["files", str(specials / name)], code=API))
    assert out.startswith("raised ValueError") and kind in out, out


def test_verify_files_content_beside_that_is_not_a_regular_file(beside: Path) -> None:
    """Pinned: content beside a .p7s that is a FIFO or a device (even /dev/null, which reads
    as the empty content the signature is over) is not looked for: the signature is verified
    as if nothing were beside it, at once: content_missing. The same signature beside a
    regular empty file is checked over it (the child trusts no root: chain_untrusted, past
    the digest)."""
    outs = {n: _line(child(["files", str(beside / f"{n}.p7s")], code=API)) for n in ("c0", "c1", "c2", "c3")}
    assert outs["c0"].startswith("result False chain_untrusted "), outs
    for n in ("c1", "c2", "c3"):
        assert outs[n].startswith("result False content_missing "), outs


@pytest.mark.parametrize("name,kind", [("fifo.pdf", "a FIFO"), ("zero.pdf", "a device"),
                                       ("link-to-fifo.pdf", "a FIFO")])
def test_verify_pdf_and_sign_pdf_refuse_special_files(specials: Path, tmp_pki_dir: Path, name: str,
                                                      kind: str) -> None:
    out = _line(child(["pdf", str(specials / name)], code=API))
    assert out.startswith("raised ValueError") and kind in out, out
    out = _line(child(["sign", str(specials / name), str(tmp_pki_dir / "rsa_leaf.pem"),
                       str(tmp_pki_dir / "rsa_leaf.key.pem")], code=API))
    assert out.startswith("raised ValueError") and kind in out, out


def _one_line_error(p: subprocess.CompletedProcess[bytes], status: int = 2) -> str:
    err = p.stderr.decode(errors="replace")
    assert p.returncode == status, (p.returncode, err[-2000:], p.stdout[-500:])
    assert "Traceback" not in err and err.count("\n") == 1, err[-2000:]
    return err


def test_cli_verify_controls(specials: Path, tmp_pki_dir: Path, signed: bytes) -> None:
    """Controls for the two tests below: a signed PDF verifies (exit 0); a missing file is
    one line on stderr naming it, exit 2."""
    (specials / "good.pdf").write_bytes(signed)
    p = child(["verify", str(specials / "good.pdf"), "--trust", str(tmp_pki_dir / "roots.pem")], timeout=60)
    assert p.returncode == 0, (p.stdout, p.stderr)
    err = _one_line_error(child(["verify", str(specials / "gone.pdf"), "--trust", str(tmp_pki_dir / "roots.pem")]))
    assert "gone.pdf" in err, err
    err = _one_line_error(child(["verify", str(specials / "good.pdf"), "--trust", str(specials / "gone.pem")]))
    assert "gone.pem" in err, err


def test_cli_verify_does_not_block_on_a_special_file(specials: Path, tmp_pki_dir: Path) -> None:
    """`govsig verify FILE` on a FIFO, a symlink to one, or a symlink to /dev/zero (as .pdf,
    .p7m, .p7s): one line on stderr naming the file, exit 2, nothing read. Seen: the CLI
    opens FILE with a plain open() and waits forever on a FIFO (for a writer), and reads
    /dev/zero until memory runs out (here: the child's 2 GiB cap, or the timeout)."""
    for name in ("fifo.pdf", "link-to-fifo.pdf", "zero.pdf", "fifo.p7m", "zero.p7m", "fifo.p7s"):
        err = _one_line_error(child(["verify", str(specials / name), "--trust", str(tmp_pki_dir / "roots.pem")],
                                    timeout=15))
        assert name in err, err


def test_cli_verify_options_naming_a_special_file(specials: Path, tmp_pki_dir: Path) -> None:
    """Every other file the verify command reads: the signature's --content, the --trust
    anchors, a --crl, the --intermediates. Seen: each blocks (FIFO) or reads without end
    (/dev/zero)."""
    (specials / "real.p7s").write_bytes(b"\x30\x03\x02\x01\x01")
    for target in ("fifo.p7s", "zero.p7m"):
        for option in ("--content", "--trust", "--crl", "--intermediates"):
            args = ["verify", str(specials / "real.p7s")]
            if option != "--trust":
                args += ["--trust", str(tmp_pki_dir / "roots.pem")]
            err = _one_line_error(child(args + [option, str(specials / target)], timeout=15))
            assert target in err, (option, err)


@pytest.mark.parametrize("name", ["fifo.pdf", "zero.pdf"])
def test_cli_sign_pdf_refuses_a_special_input(specials: Path, tmp_pki_dir: Path, tmp_path: Path,
                                              name: str) -> None:
    p = child(["sign-pdf", str(specials / name), "-o", str(tmp_path / "out.pdf"),
               "--key", str(tmp_pki_dir / "rsa_leaf.key.pem"), "--cert", str(tmp_pki_dir / "rsa_leaf.pem")])
    err = _one_line_error(p)
    assert name in err and "not a file" in err, err
    assert not (tmp_path / "out.pdf").exists()


@pytest.mark.parametrize("follow", [False, True])
def test_cli_verify_archive_skips_special_files(specials: Path, tmp_pki_dir: Path, signed: bytes,
                                                tmp_path: Path, follow: bool) -> None:
    """A folder with a FIFO, a symlink x.pdf -> /dev/zero, a .p7s whose content beside is a
    FIFO, and a real signed PDF: every entry has its line, the special ones file_skipped
    without being read, the real one ok."""
    d = tmp_path / "arch"
    d.mkdir()
    os.mkfifo(d / "a.pdf")
    os.symlink("/dev/zero", d / "x.pdf")
    os.mkfifo(d / "b.p7m")
    os.symlink(specials / "fifo.pdf", d / "y.pdf")
    (d / "z.pdf").write_bytes(signed)
    report = tmp_path / "report.jsonl"
    args = ["verify-archive", str(d), "--trust", str(tmp_pki_dir / "roots.pem"), "--no-progress",
            "--report", str(report)] + (["--follow-symlinks"] if follow else [])
    p = child(args, timeout=60)
    assert p.returncode == 1, p.stderr.decode(errors="replace")[-2000:]
    assert b"Traceback" not in p.stderr
    lines = {Path(j["path"]).name: j for j in map(json.loads, report.read_text().splitlines())}
    assert lines["z.pdf"]["code"] == "ok", lines["z.pdf"]
    for n in ("a.pdf", "x.pdf", "b.p7m", "y.pdf"):
        assert lines[n]["code"] == "file_skipped" and lines[n]["size"] is None, lines[n]


# 6. Control characters and bytes that are not UTF-8 in such names ---------------------------------


NASTY = [b"esc\x1b[31mred.pdf", b"new\nline.pdf", b"bad\xff\xfe.pdf", b"cr\rtab\t.pdf", b"bell\x07\x7f.pdf"]


@pytest.mark.parametrize("raw", NASTY)
def test_special_files_with_control_characters_are_named_escaped(tmp_path: Path, raw: bytes) -> None:
    """The ValueError of verify_files / verify_pdf shows the name escaped (repr); no raw
    control character or undecodable byte reaches the message."""
    d = os.fsencode(tmp_path)
    path = os.path.join(d, raw)
    os.mkfifo(path)
    for what in ("files", "pdf"):
        out = _line(child([what, os.fsdecode(path)], code=API))
        assert out.startswith("raised ValueError"), out
        assert not any(c in out for c in "\x1b\n\r\t\x07\x7f"), out
    # A .p7s named so, beside it: verified as if alone (its content is not a regular file).
    sig = os.path.join(d, raw + b".p7s")
    os.mkfifo(sig)
    out = _line(child(["files", os.fsdecode(sig)], code=API))
    assert out.startswith("raised ValueError") and "a FIFO" in out, out
    assert not any(c in out for c in "\x1b\n\r\t\x07\x7f"), out


@pytest.mark.parametrize("raw", NASTY)
def test_cli_names_with_control_characters_are_escaped(tmp_path: Path, tmp_pki_dir: Path, raw: bytes) -> None:
    """A sign-pdf input FIFO with such a name: one escaped line. verify-archive's report
    line of such a FIFO carries no raw control character on the terminal's lines."""
    d = os.fsencode(tmp_path)
    path = os.path.join(d, raw)
    os.mkfifo(path)
    p = child(["sign-pdf", os.fsdecode(path), "-o", str(tmp_path / "o.pdf"),
               "--key", str(tmp_pki_dir / "rsa_leaf.key.pem"), "--cert", str(tmp_pki_dir / "rsa_leaf.pem")])
    err = _one_line_error(p)
    assert not any(c in err[:-1] for c in "\x1b\n\r\t\x07\x7f"), repr(err)
    p = child(["verify-archive", str(tmp_path), "--trust", str(tmp_pki_dir / "roots.pem"), "--no-progress",
               "--report", "-"], timeout=60)
    out = p.stdout.decode(errors="strict")
    assert p.returncode == 1 and b"Traceback" not in p.stderr, p.stderr[-2000:]
    rows = [json.loads(x) for x in out.splitlines() if x.startswith("{")]
    assert [r["code"] for r in rows] == ["file_skipped"], rows
    assert not any(c in out for c in "\x1b\r\t\x07\x7f"), repr(out)


def test_cli_verify_fifo_with_control_characters(tmp_path: Path, tmp_pki_dir: Path) -> None:
    """`govsig verify` on a FIFO so named: one escaped line, exit 2 (seen: it blocks)."""
    for raw in NASTY:
        path = os.path.join(os.fsencode(tmp_path), raw)
        os.mkfifo(path)
        err = _one_line_error(child(["verify", os.fsdecode(path), "--trust", str(tmp_pki_dir / "roots.pem")],
                                    timeout=15))
        assert not any(c in err[:-1] for c in "\x1b\n\r\t\x07\x7f"), repr(err)


def test_cli_every_command_answers_when_a_named_file_is_a_fifo(specials: Path, tmp_pki_dir: Path, signed: bytes,
                                                               tmp_path: Path) -> None:
    """Every other command and option that reads a file the user names, given a FIFO (all
    run at once, each with a memory cap; after 20 s the ones still running are the
    failures). Each must answer with its own exit status and no traceback. Seen blocking:
    `sign --key/--cert FIFO`, `sign-pdf --key FIFO`, `report FIFO --html`, `inventory
    --trust FIFO`. Answering: `sign FIFO`, `sign-pdf FIFO` (not a file), `timestamp FIFO`,
    `verify-archive --trust FIFO`, `dossier hash DIR` holding a FIFO."""
    fifo = str(specials / "fifo.p7s")
    key, cert = str(tmp_pki_dir / "rsa_leaf.key.pem"), str(tmp_pki_dir / "rsa_leaf.pem")
    (tmp_path / "doc.txt").write_bytes(b"van ban\n")
    (tmp_path / "doc.pdf").write_bytes(signed)
    d = tmp_path / "dir"
    d.mkdir()
    (d / "x.txt").write_bytes(b"x")
    os.mkfifo(d / "f.txt")
    commands = {
        "sign FIFO": ["sign", fifo, "--key", key, "--cert", cert],
        "sign --key FIFO": ["sign", str(tmp_path / "doc.txt"), "--key", fifo, "--cert", cert],
        "sign --cert FIFO": ["sign", str(tmp_path / "doc.txt"), "--key", key, "--cert", fifo],
        "sign-pdf FIFO": ["sign-pdf", str(specials / "fifo.pdf"), "-o", str(tmp_path / "o1.pdf"), "--key", key,
                          "--cert", cert],
        "sign-pdf --key FIFO": ["sign-pdf", str(tmp_path / "doc.pdf"), "-o", str(tmp_path / "o2.pdf"), "--key", fifo,
                                "--cert", cert],
        "timestamp FIFO": ["timestamp", fifo, "--tsa", "http://127.0.0.1:9/"],
        "report FIFO --html": ["report", fifo, "--html", str(tmp_path / "r.html")],
        "inventory --trust FIFO": ["inventory", str(d), "--trust", fifo],
        "verify-archive --trust FIFO": ["verify-archive", str(d), "--trust", fifo, "--no-progress"],
        "dossier hash DIR-with-FIFO": ["dossier", "hash", str(d)],
    }
    env = dict(os.environ, PYTHONPATH=str(ROOT / "python"))
    procs = {n: subprocess.Popen([sys.executable, "-m", "govsig", *a], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 env=env, preexec_fn=_cap_memory, cwd=tmp_path) for n, a in commands.items()}
    blocked, broken = [], {}
    deadline = time.monotonic() + 20
    for n, p in procs.items():
        try:
            _, err = p.communicate(timeout=max(0.5, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
            p.communicate()
            blocked.append(n)
            continue
        if p.returncode not in (1, 2) or b"Traceback" in err:
            broken[n] = (p.returncode, err[-300:])
    assert not blocked and not broken, (blocked, broken)


def test_a_socket_named_pdf_or_p7s(tmp_path: Path) -> None:
    """A Unix socket named x.pdf / x.p7m: verify_pdf and verify_files answer at once with
    OSError or ValueError (a socket cannot be opened for reading: ENXIO)."""
    import socket
    socks = []
    for name in ("s.pdf", "s.p7m"):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(str(tmp_path / name))
        s.listen(1)
        socks.append(s)
    try:
        for name in ("s.pdf", "s.p7m"):
            for what in ("files", "pdf") if name.endswith(".pdf") else ("files",):
                out = _line(child([what, str(tmp_path / name)], code=API))
                assert out.startswith("raised OSError") or out.startswith("raised ValueError"), (name, what, out)
                assert name in out, out
    finally:
        for s in socks:
            s.close()


def test_a_sparse_file_past_the_size_bound_is_not_read_whole(tmp_path: Path, tmp_pki_dir: Path) -> None:
    """A regular (sparse) file of 4 GiB named x.pdf, past the 1 GiB bound: verify_files
    refuses it from its size, without reading it (pdf_malformed naming the bound);
    verify_pdf(path) and sign_pdf(path) must too. Seen: both read the whole file into memory
    first (MemoryError under the child's 2 GiB cap; without a cap a sparse file of any size
    is read, 100 GiB as easily as 4)."""
    big = tmp_path / "sparse.pdf"
    with open(big, "wb") as f:
        f.write(b"%PDF-1.7\n")
        f.truncate(4 << 30)
    outs = {}
    for what in ("files", "pdf", "sign"):
        outs[what] = _line(child([what, str(big), str(tmp_pki_dir / "rsa_leaf.pem"),
                                  str(tmp_pki_dir / "rsa_leaf.key.pem")], code=API))
    assert outs["files"].startswith("result False pdf_malformed") and "1073741824" in outs["files"], outs
    assert outs["pdf"] == outs["files"], outs
    assert "MemoryError" not in outs["sign"] and "1073741824" in outs["sign"], outs


def test_an_unreferenced_object_in_a_stream_past_the_inflate_bound(verifier: govsig.Verifier, signed: bytes) -> None:
    """Pinned: a new object nothing refers to, in an object stream that inflates past 64 MiB,
    is never read (objects are read lazily, and an update's new objects matter only through
    a changed object that refers to them): the file stays ok with every revision, and a page
    changed in a later update is still caught."""
    root, _, size = _root_and_size(signed)
    base = _nl(signed)
    header = b"%d 0 " % (size + 5)
    bomb = zlib.compress(header + b" " * (INFLATE_CAP + 1024), 9)
    at = len(base)
    obj = (b"%d 0 obj\n<< /Type /ObjStm /N 1 /First %d /Filter /FlateDecode /Length %d >>\nstream\n"
           % (size, len(header), len(bomb)) + bomb + b"\nendstream\nendobj\n")
    rows = bytes([1]) + at.to_bytes(4, "big") + b"\x00" + bytes([2]) + size.to_bytes(4, "big") + b"\x00"
    data = base + obj + (b"%d 0 obj\n<< /Type /XRef /Root %d 0 R /Prev %d /Size %d /W [1 4 1] /Index [%d 1 %d 1] "
                         b"/Length %d >>\nstream\n" % (size + 1, root, _last_startxref(signed), size + 6, size,
                                                       size + 5, len(rows))
                         + rows + b"\nendstream\nendobj\n" + _marker(at + len(obj)))
    r = verifier.verify_pdf(data)
    assert (r.code, r.revisions) == ("ok", signed.count(b"%%EOF") + 1), (r.code, r.reason)
    changed = pdfsign.add_page_content(data)
    r = verifier.verify_pdf(changed)
    assert r.code == "modified_after_signing", (r.code, r.reason)
