"""Attacks of session 25b, by someone who holds one validly signed document and controls what
surrounds it: the files and links beside an archive job's outputs, its journal, a folder given
to ``govsig timestamp``, the answers of a plain-HTTP server (a CRL distribution point, a TSA)
and certificate text handed to govsig.

Each test names the hole in its docstring: the attack, what happened before session 25's fix
("Now:", measured then: time, memory, traceback) and what should happen; every one of them
failed before its fix and passes since. The holes were:

- ``verify-archive --report/--parquet`` open their file with a plain ``open()`` /
  ``pyarrow.parquet.ParquetWriter``: a planted symbolic link is written through, and a FIFO
  planted at the report's name blocks the job before it starts.
- A job journal whose lines are not JSON (hand-edited, corrupted, nested past the json
  module's recursion) turns ``--resume --html/--parquet`` into a traceback.
- ``govsig timestamp DIR`` reads every ``*.p7s`` the walk lists with ``Path.read_bytes``: a
  FIFO blocks it for ever, a link to /dev/zero eats memory until MemoryError.
- ``TsaClient`` bounds the body it reads by its deadline, not the status line and headers: a
  TSA that drips its headers holds the caller for ever.
- The PEM patterns (``.+?`` / ``.*?`` between BEGIN and END) are tried from every BEGIN line
  to the end of the input: text of N unclosed BEGIN lines costs O(N^2). A CRL distribution
  point answering 150 KB of them costs 7 s of CPU after the fetch deadline (its 32 MiB cap:
  hours); a trust file or a certificate given to ``verify_certificate`` the same.
- ``read_cert_file`` reads a trust/intermediates file whole, whatever its size: a sparse file
  of 3 GB named ``--trust`` is a MemoryError traceback (or gigabytes of memory).
- A journal reached through a planted dangling link is created at the link's target; a
  resumed journal's outcome codes are printed raw in the summary (escape sequences, newlines).
- ``govsig report``: an object line of the wrong shape (``signers`` a number...) is a
  traceback; a file of one endless line is read whole (MemoryError).
- ``--follow-symlinks``: a diamond of folder links (no loop) is walked once per path: 2^n
  entries, the same document reported 2^n times.

Two tests pin what is defended (a FIFO journal; the CRL fetcher's header-drip deadline).
"""
from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import threading
import time
from pathlib import Path

import pytest

import govsig
import pki as P
from archive_util import env, govsig_cmd
from http_servers import LoopbackServer, RawServer
from test_attack_s23_bounds import child


def _cli(args: list[str], timeout: float = 30) -> subprocess.CompletedProcess[str]:
    """``python -m govsig args`` with a timeout; a block fails the test (measured, not hung)."""
    try:
        return subprocess.run(govsig_cmd(*args), capture_output=True, text=True, env=env(), timeout=timeout)
    except subprocess.TimeoutExpired:
        pytest.fail(f"blocked: no answer in {timeout} s from govsig {' '.join(args)}")


def _one_line(p: subprocess.CompletedProcess[str], status: int = 2) -> str:
    assert "Traceback" not in p.stderr, p.stderr[-1500:]
    assert p.returncode == status, (p.returncode, p.stderr[-1500:])
    assert p.stderr.count("\n") == 1, p.stderr[-1500:]
    return p.stderr


@pytest.fixture()
def archive(pki, tmp_path: Path) -> Path:
    d = tmp_path / "archive"
    d.mkdir()
    (d / "quyet-dinh.p7m").write_bytes(P.sign_cms(b"Quyet dinh 15/QD-UBND", pki.p256_leaf, detached=False))
    (d / "cong-van.p7m").write_bytes(P.sign_cms(b"Cong van 7/CV", pki.p256_leaf, detached=False))
    return d


def _archive_args(archive: Path, tmp_pki_dir: Path, *more: str) -> list[str]:
    return ["verify-archive", str(archive), "--trust", str(tmp_pki_dir / "roots.pem"), "--no-progress", *more]


# --- verify-archive outputs ------------------------------------------------------------------


@pytest.mark.timeout(60)
@pytest.mark.parametrize("option,name", [("--report", "report.jsonl"), ("--parquet", "report.parquet")])
def test_a_report_over_a_planted_symlink_is_never_written_through(archive, tmp_pki_dir, tmp_path, option,
                                                                   name) -> None:
    """Attack: the report is to be written in a folder the attacker can write (the archive's
    own export folder, a shared drop); they plant ``report.jsonl -> ~/.bashrc`` (here: a
    ``victim`` file). Now: ``JsonlWriter`` (archive/report.py) opens it with ``open(path,
    "w")`` and ``ParquetWriter`` hands it to pyarrow, both of which follow the link: the
    victim is truncated and overwritten with the report (exit 0, nothing said). ``govsig
    sign`` already refuses exactly this (test_attack_s24's symlink test), and the HTML
    report is written by a rename that replaces the link. Should: never write through the
    link: refuse it in one line (exit 2), or replace the link itself."""
    victim = tmp_path / "victim"
    victim.write_bytes(b"keep me")
    out = tmp_path / name
    out.symlink_to(victim)
    p = _cli(_archive_args(archive, tmp_pki_dir, option, str(out)))
    assert "Traceback" not in p.stderr, p.stderr[-1500:]
    assert victim.read_bytes() == b"keep me", f"exit {p.returncode}: the report was written through the link"


@pytest.mark.timeout(60)
def test_a_report_journal_through_a_planted_symlink_is_never_written_through(archive, tmp_pki_dir,
                                                                             tmp_path) -> None:
    """Attack: the same link, with --journal: the report is written from the journal after
    the whole job is done. Now: the same ``JsonlWriter`` follows the link and the victim is
    overwritten. Should: as above."""
    victim = tmp_path / "victim"
    victim.write_bytes(b"keep me")
    out = tmp_path / "report.jsonl"
    out.symlink_to(victim)
    p = _cli(_archive_args(archive, tmp_pki_dir, "--journal", str(tmp_path / "job.sqlite"), "--report", str(out)))
    assert "Traceback" not in p.stderr, p.stderr[-1500:]
    assert victim.read_bytes() == b"keep me", f"exit {p.returncode}: the report was written through the link"


@pytest.mark.timeout(60)
def test_a_fifo_planted_at_the_report_name_never_blocks_the_job(archive, tmp_pki_dir, tmp_path) -> None:
    """Attack: a FIFO planted where the report is to be written (nobody reads it). Now:
    ``JsonlWriter`` opens it for writing before the job starts, and the open waits for a
    reader for ever: the bulk job hangs without having verified anything (measured: still
    blocked after 20 s, killed). Should: answer at once: open without blocking (O_NONBLOCK;
    a FIFO nobody reads is ENXIO) and say so in one line, exit 2. (A FIFO somebody reads,
    as ``--report >(gzip > r.gz)`` makes, keeps working that way.)"""
    fifo = tmp_path / "report.jsonl"
    os.mkfifo(fifo)
    p = _cli(_archive_args(archive, tmp_pki_dir, "--report", str(fifo)), timeout=20)
    err = _one_line(p)
    assert "report.jsonl" in err, err


@pytest.mark.timeout(60)
def test_a_journal_planted_as_a_fifo_is_one_line(archive, tmp_pki_dir, tmp_path) -> None:
    """Defended (pinned): a FIFO at the journal's name is refused by SQLite at once, in one
    line (``not a usable govsig journal (disk I/O error)``), exit 2."""
    fifo = tmp_path / "job.sqlite"
    os.mkfifo(fifo)
    err = _one_line(_cli(_archive_args(archive, tmp_pki_dir, "--journal", str(fifo)), timeout=20))
    assert "job.sqlite" in err, err


def _corrupt_first_line(journal: Path, line: str) -> None:
    db = sqlite3.connect(journal)
    try:
        db.execute("UPDATE results SET line = ? WHERE seq = 0", (line,))
        db.commit()
    finally:
        db.close()


@pytest.mark.timeout(90)
@pytest.mark.parametrize("output", ["--html", "--parquet"])
@pytest.mark.parametrize("line", ['{"schema": "govsig.report/1", "path": "cut off', "[" * 100_000 + "]" * 100_000],
                         ids=["truncated", "nested"])
def test_a_journal_line_that_is_not_a_report_line_is_one_line_not_a_traceback(archive, tmp_pki_dir, tmp_path,
                                                                             output, line) -> None:
    """Attack: the journal of a long job (kept on shared storage between runs) has a line
    that is not a report object: cut off by a disk incident, or edited to JSON nested 100,000
    deep. Now: ``--resume --html`` / ``--parquet`` reads the journal's lines with
    ``archive/report.py:read_jsonl`` (plain ``json.loads``): a ``JSONDecodeError`` or
    ``RecursionError`` traceback, exit 1, the job's report never written, though every
    document was verified. (The standalone ``govsig report`` reader was fixed for the nested
    case in session 25; this reader was not.) Should: one line naming the journal and that a
    recorded line is not a report line, exit 2 (or skip the line as ``govsig report``
    does)."""
    journal = tmp_path / "job.sqlite"
    first = _cli(_archive_args(archive, tmp_pki_dir, "--journal", str(journal), "--chunk-size", "1"))
    assert first.returncode == 0, first.stderr[-1500:]
    _corrupt_first_line(journal, line)
    p = _cli(_archive_args(archive, tmp_pki_dir, "--journal", str(journal), "--resume",
                           output, str(tmp_path / ("out.html" if output == "--html" else "out.parquet"))))
    assert "Traceback" not in p.stderr, p.stderr[-800:]
    assert p.returncode in (0, 1, 2), p.stderr[-800:]


# --- govsig timestamp DIR --------------------------------------------------------------------


@pytest.mark.timeout(60)
@pytest.mark.parametrize("kind", ["fifo", "dev-zero"])
def test_timestamp_of_a_folder_never_reads_a_fifo_or_a_device(tmp_path, kind) -> None:
    """Attack: a folder of signatures to time-stamp (``govsig timestamp DIR``) holds
    ``x.p7s`` that is a FIFO, or a link to /dev/zero. Now: ``_files.walk_signature_files``
    lists every name (os.walk does not look at the kind) and ``_cli_timestamp._cmd_timestamp``
    reads each with ``Path.read_bytes()``: the FIFO blocks the command for ever (killed after
    20 s); /dev/zero is read until memory runs out (``MemoryError`` traceback under a 2 GiB
    cap; without a cap, the machine's memory). The TSA is never even asked. Should: skip or
    refuse what is not a regular file, as ``verify-archive`` and ``inventory`` do (their walk
    reads with ``read_regular``): one line for that file, the others stamped, no block."""
    d = tmp_path / "to-stamp"
    d.mkdir()
    if kind == "fifo":
        os.mkfifo(d / "x.p7s")
    else:
        os.symlink("/dev/zero", d / "x.p7s")
    # Nothing listens on port 9: the TSA is never reached either way.
    p = child(["timestamp", str(d), "--tsa", "http://127.0.0.1:9/tsa"], timeout=20)
    err = p.stderr.decode(errors="replace")
    assert "Traceback" not in err and "MemoryError" not in err, err[-1500:]
    assert "x.p7s" in err, err[-1500:]


# --- the TSA client's deadline -----------------------------------------------------------------


@pytest.mark.timeout(60)
def test_tsa_client_timeout_bounds_a_dripped_status_line_and_headers() -> None:
    """Attack: the TSA (or whoever answers at its plain-http URL) sends its status line and
    headers one byte every 0.2 s: each socket read is well within the timeout. Now:
    ``timestamps.py:TsaClient._post`` checks its deadline only between reads of the body,
    and urllib3's read timeout bounds each read, not the whole: ``TsaClient(url,
    timeout=1).timestamp(...)`` is still waiting after 10 s (the 6 KB of headers take 21
    minutes). ``HttpTransport`` (the CRL/OCSP fetcher) has a watchdog for exactly this; the
    TSA client does not use it. Should: TimestampError ``fetch_failed`` at the timeout. (The
    30 s join is a hang guard, not a measurement: the old client waited 21 minutes.)"""
    with RawServer("drip_headers", interval=0.2) as srv:
        out: list[tuple[str, float]] = []

        def go() -> None:
            t0 = time.monotonic()
            try:
                govsig.TsaClient(srv.url("/tsa"), timeout=1).timestamp(b"van ban")
                out.append(("returned", time.monotonic() - t0))
            except govsig.TimestampError as e:
                out.append((e.code, time.monotonic() - t0))
            except Exception as e:  # noqa: BLE001 - reported as the failure
                out.append((repr(e), time.monotonic() - t0))

        th = threading.Thread(target=go, daemon=True)
        th.start()
        th.join(30)
        assert out, "TsaClient(timeout=1) still waiting after 30 s"
        assert out[0][0] == "fetch_failed", out


def _crl_fetch_error(url: str, timeout: float) -> govsig.FetchError:
    """The FetchError a fresh fetcher raises for the CRL at ``url``."""
    f = govsig.HttpFetcher(timeout=timeout)
    try:
        with pytest.raises(govsig.FetchError) as e:
            f.fetch_crl(url)
    finally:
        f.close()
    return e.value


# --- PEM text: quadratic time --------------------------------------------------------------------


@pytest.mark.timeout(120)
def test_a_crl_answer_of_unclosed_pem_boundaries_is_refused_in_linear_time() -> None:
    """Attack: the CRL distribution point (plain http, so anyone on the path) answers
    150 KB: 6,000 lines ``-----BEGIN X509 CRL-----`` and no END. Now: the answer arrives
    at once (within the transport's deadline), then ``_evidence_cache._crl_der_and_next_update``
    -> ``_crl._pem_der`` searches ``BEGIN X509 CRL-----(.*?)-----END X509 CRL-----`` from every
    BEGIN line to the end of the body: O(N^2), measured 3.2 s for 100 KB, 7 s for 150 KB, on
    the fetcher's thread after its deadline; the body cap is 32 MiB, so one answer costs hours
    of CPU of a bulk job (and every document whose chain names that URL asks again once the
    refusal is not cached). Should: refuse the body as ``bad_response`` in time linear in its
    size. The body here is 2 MB: quadratic, it would take about 20 minutes, past the test's
    timeout (a hang guard, not a measurement); linear, milliseconds."""
    body = b"-----BEGIN X509 CRL-----\n" * 80_000
    with LoopbackServer() as srv:
        srv.serve("/ca.crl", body)
        assert _crl_fetch_error(srv.url("/ca.crl"), timeout=5).kind == "bad_response"


@pytest.mark.timeout(120)
def test_certificate_text_of_unclosed_pem_boundaries_is_refused_in_linear_time(pki, tmp_path) -> None:
    """Attack: 84 KB of certificate text: 3,000 lines ``-----BEGIN CERTIFICATE-----`` and no
    END, given as a trust/intermediates file, or as the certificate a portal checks with
    ``Verifier.verify_certificate`` (which promises a result, never an exception, for bad
    bytes). Now: ``_certs.pem_to_ders`` (``BEGIN ... CERTIFICATE-----\\s*(.+?)\\s*-----END``)
    and ``_pem.first_block_der`` scan from every BEGIN line to the end: O(N^2), measured
    ~5.5 s for ``TrustStore.from_files`` and 5.8 s for ``verify_certificate`` (10.5 s at
    112 KB, ~3 min at 450 KB). Should: the same refusal (ValueError / cert_malformed) in time
    linear in the size. The text here is 1.1 MB: quadratic, about a quarter of an hour for
    each call, past the test's timeout (a hang guard, not a measurement); linear,
    milliseconds."""
    text = b"-----BEGIN CERTIFICATE-----\n" * 40_000
    path = tmp_path / "anchors.pem"
    path.write_bytes(text)
    with pytest.raises(ValueError, match="no '-----BEGIN CERTIFICATE-----' block"):
        govsig.TrustStore.from_files([str(path)])
    v = govsig.Verifier(govsig.Policy(trust=[pki.p256_root.der]))
    r = v.verify_certificate(text)
    assert not r.ok and r.code == "cert_malformed", (r.code, r.reason)


# --- a huge trust file -----------------------------------------------------------------------


@pytest.mark.timeout(60)
def test_a_huge_sparse_trust_file_is_refused_by_its_size_not_read(archive, tmp_pki_dir, tmp_path) -> None:
    """Attack: ``--trust`` names a file of 3 GB (a sparse file: it costs no disk), or a
    trust folder (``TrustStore.from_dir``) holds one. Now: ``_certs.read_cert_file`` calls
    ``read_regular_file`` without a bound: the whole file is read into memory; under the
    test child's 2 GiB cap ``govsig verify`` ends in a ``MemoryError`` traceback (exit 1), and
    without a cap it takes 3 GB of memory before the regex even starts (any size works as
    easily: 100 GB). Should: a certificate file larger than a sane bound (a few MiB) is
    refused from its size, before it is read: one line naming the file, exit 2."""
    big = tmp_path / "huge.pem"
    with open(big, "wb") as f:
        f.truncate(3 * 10**9)
    p = child(["verify", str(archive / "quyet-dinh.p7m"), "--trust", str(big)], timeout=30)
    err = p.stderr.decode(errors="replace")
    assert "Traceback" not in err and "MemoryError" not in err, err[-1500:]
    assert p.returncode == 2 and "huge.pem" in err, (p.returncode, err[-1500:])


@pytest.mark.timeout(60)
def test_a_journal_through_a_planted_dangling_symlink_is_never_created_at_its_target(archive, tmp_pki_dir,
                                                                                   tmp_path) -> None:
    """Attack: a dangling link planted at the journal's name (``job.sqlite -> elsewhere``).
    Now: ``archive/journal.py:Journal.__init__`` sees no file (``os.path.exists`` follows the
    link), and ``sqlite3.connect`` follows it: the journal, with every report line of the job,
    is created at the place the attacker chose (exit 0, nothing said), beside its -wal/-shm
    files at the link's name. ``govsig sign`` refuses a dangling link at its output name for
    this reason. Should: refuse a journal path that is a symbolic link, in one line, exit 2."""
    target = tmp_path / "elsewhere" / "planted.sqlite"
    target.parent.mkdir()
    link = tmp_path / "job.sqlite"
    link.symlink_to(target)
    p = _cli(_archive_args(archive, tmp_pki_dir, "--journal", str(link)))
    assert "Traceback" not in p.stderr, p.stderr[-1500:]
    assert not target.exists(), f"exit {p.returncode}: the journal was created at the link's target"


# --- govsig report over a report file of the wrong shape -------------------------------------------


@pytest.mark.timeout(60)
@pytest.mark.parametrize("row", [
    {"ok": False, "code": "x", "signers": 7},
    {"ok": False, "code": "x", "signers": [{"subject_fields": [["CN"]]}]},
    {"ok": False, "code": "x", "signers": [{"subject_fields": [5]}]},
    {"ok": True, "code": "ok", "signers": [{"issuer": 5}]},
], ids=["signers-int", "subject-field-of-one", "subject-field-int", "issuer-int"])
def test_report_lines_of_the_wrong_shape_are_skipped_not_a_traceback(tmp_path, row) -> None:
    """Attack: a report file (``govsig report FILE --html``; the same ``ReportTotals`` makes
    the page of ``verify-archive --html``) holding a JSON object whose fields have the wrong
    type: ``signers`` a number, a ``subject_fields`` pair of one element, an ``issuer`` that is
    a number. Now: ``report_html.py:ReportTotals.add`` iterates and unpacks them as they come:
    ``TypeError: 'int' object is not iterable``, ``ValueError: not enough values to unpack``,
    ``TypeError: object of type 'int' has no len()`` tracebacks, exit 1, no page. A line that
    is not an object is already skipped and counted (session 25). Should: the same for an
    object of the wrong shape: skipped (or its bad fields ignored), the page written, exit 0."""
    report = tmp_path / "report.jsonl"
    good = {"schema": "govsig.report/1", "path": "/a/b.p7m", "ok": True, "code": "ok", "signers": []}
    report.write_text(json.dumps(good) + "\n" + json.dumps({"schema": "govsig.report/1", "path": "/a/c.p7m", **row})
                      + "\n", encoding="utf-8")
    p = _cli(["report", str(report), "--html", str(tmp_path / "r.html")])
    assert "Traceback" not in p.stderr, p.stderr[-1500:]
    assert p.returncode == 0 and (tmp_path / "r.html").is_file(), (p.returncode, p.stderr[-800:])


@pytest.mark.timeout(60)
def test_report_of_one_endless_line_is_read_in_bounded_memory(tmp_path) -> None:
    """Attack: a "report" of 3 GB that holds no newline (a sparse file: free on disk). Now:
    ``_cli_report.py:_Lines.__iter__`` iterates the text file by lines, and the first line is
    the whole file: under the test child's 2 GiB cap, a ``MemoryError`` traceback inside the
    UTF-8 decoder, exit 1 (without a cap: 3 GB of bytes plus the decoded text). Should: read
    lines with a bound (``readline(limit)``), count a line past it as skipped (or stop with one
    line), exit 0 or 2, in bounded memory."""
    big = tmp_path / "report.jsonl"
    with open(big, "wb") as f:
        f.truncate(3 * 10**9)
    p = child(["report", str(big), "--html", str(tmp_path / "r.html")], timeout=40)
    err = p.stderr.decode(errors="replace")
    assert "Traceback" not in err and "MemoryError" not in err, err[-1500:]
    assert p.returncode in (0, 2), (p.returncode, err[-800:])


# --- the walk with --follow-symlinks: a diamond of links --------------------------------------------


def _diamond(root: Path, levels: int, doc: bytes) -> Path:
    """Folders d0..d<levels>, each d<i> holding two links a, b -> d<i+1>; one signed document
    in the last. No link points back into a folder above it: there is no loop."""
    for i in range(levels + 1):
        (root / f"d{i}").mkdir()
    for i in range(levels):
        for name in ("a", "b"):
            (root / f"d{i}" / name).symlink_to(f"../d{i + 1}")
    (root / f"d{levels}" / "doc.p7m").write_bytes(doc)
    return root / "d0"


@pytest.mark.timeout(60)
def test_follow_symlinks_walks_each_folder_once_not_once_per_path(pki, tmp_path) -> None:
    """Attack: an archive verified with ``--follow-symlinks`` (or ``inventory
    --follow-symlinks``, or ``govsig.dask.verify_archive``) holding 40 folders, each with two
    links to the next: no loop, 80 links, one signed document. Now:
    ``archive/walk.py:_walk_dir`` only refuses a link back into a folder on the current
    stack (``ancestors``), so every folder is walked once per path to it: 2^40 paths, the
    job never ends and its report grows without bound, each line the same document "ok"
    again (measured: 16 levels give 65,536 entries in 2.5 s; here the walk is stopped at
    100,000 entries). The totals are forged the same way: one signed file counts as 2^n
    valid documents. Should: walk each folder (device, inode) once; a further link to a
    folder already walked gets one line (like ``file_symlink_loop``), so the walk lists
    about as many entries as there are links and files (here: under 1,000)."""
    import itertools

    from govsig.archive.walk import walk

    top = _diamond(tmp_path, 40, P.sign_cms(b"Quyet dinh", pki.p256_leaf, detached=False))
    t0 = time.monotonic()
    n = sum(1 for _ in itertools.islice(walk([os.fsencode(top)], follow_symlinks=True), 100_000))
    took = time.monotonic() - t0
    assert n < 1000, f"the walk listed {n:,} entries (stopped at 100,000) in {took:.1f} s for 81 links and files"


@pytest.mark.timeout(60)
def test_follow_symlinks_report_counts_one_document_once(pki, tmp_pki_dir, tmp_path) -> None:
    """The same attack seen by the operator: 10 levels of the diamond, one signed document.
    Now: ``govsig verify-archive --follow-symlinks`` reports "verified 1024 documents", 1,024
    ``ok`` lines for the one file (every path to it). Should: the document is reported at
    most once (or once per distinct file), not 2^10 times."""
    top = _diamond(tmp_path, 10, P.sign_cms(b"Quyet dinh", pki.p256_leaf, detached=False))
    report = tmp_path / "report.jsonl"
    p = _cli(["verify-archive", str(top), "--trust", str(tmp_pki_dir / "roots.pem"), "--no-progress",
              "--follow-symlinks", "--report", str(report)])
    assert "Traceback" not in p.stderr, p.stderr[-1500:]
    rows = [json.loads(t) for t in report.read_text(encoding="utf-8").splitlines() if t.strip()]
    ok = [r for r in rows if r["code"] == "ok"]
    assert len(ok) == 1, f"{len(ok)} ok lines for one signed document ({len(rows)} lines in all)"


@pytest.mark.timeout(60)
def test_a_resumed_journal_summary_prints_recorded_codes_inert(archive, tmp_pki_dir, tmp_path) -> None:
    """Attack: the journal of a job (on storage the attacker can write between runs) has an
    outcome code edited to ``ok`` + ESC[2J (clear screen) + an OSC title sequence + a
    newline and a forged line. Now: ``--resume`` prints the summary table from
    ``Journal.counts()`` with ``_cli_verify.py:_print_summary`` as is: the escape sequences
    reach the operator's terminal raw and the newline forges a line of the summary
    (``fake line: 0 failures``). Every other place that prints recorded or network text goes
    through ``shown``/``inert_json``. Should: the codes printed inert (escaped), one table row
    per code."""
    journal = tmp_path / "job.sqlite"
    first = _cli(_archive_args(archive, tmp_pki_dir, "--journal", str(journal), "--chunk-size", "1"))
    assert first.returncode == 0, first.stderr[-1500:]
    db = sqlite3.connect(journal)
    try:
        db.execute("UPDATE results SET code = ? WHERE seq = 0", ("ok\x1b[2J\x1b]0;owned\x07\nfake line: 0 failures",))
        db.commit()
    finally:
        db.close()
    p = _cli(_archive_args(archive, tmp_pki_dir, "--journal", str(journal), "--resume"))
    assert "Traceback" not in p.stderr, p.stderr[-1500:]
    assert "\x1b" not in p.stdout and "\x07" not in p.stdout, p.stdout
    assert not any(line.startswith("fake line") for line in p.stdout.splitlines()), p.stdout


@pytest.mark.timeout(60)
def test_crl_fetch_deadline_bounds_a_dripped_status_line_and_headers() -> None:
    """Defended (pinned, the contrast to the TSA client above): the CRL/OCSP fetcher's
    watchdog cuts an exchange whose headers drip, at twice its timeout: FetchError
    ``timeout`` in about 2 s for ``timeout=1``."""
    with RawServer("drip_headers", interval=0.2) as srv:
        assert _crl_fetch_error(srv.url("/ca.crl"), timeout=1).kind == "timeout"
