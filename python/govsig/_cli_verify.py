"""``govsig verify`` and ``govsig verify-archive``."""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from typing import Any, Optional

from govsig._policy import Policy, TrustStore
from govsig._verifier import Verifier
from govsig._certs import read_cert_file
from govsig._cli_revocation import OptionError, add_revocation_args, revocation_options
from govsig._cli_text import inert_json, shown
from govsig._govsig import PdfResult, VerifyResult
from govsig._pdf import is_pdf_path, pdf_record
from govsig._regular import read_regular_file
from govsig._threads import MAX_THREADS


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Add ``verify`` and ``verify-archive`` to the ``govsig`` parser."""
    p = sub.add_parser("verify", help="verify one CMS/PKCS#7 signature or signed PDF",
                       # One line, so that a mistake costs two lines of output (this and the error).
                       usage="govsig verify FILE --trust PEM [options]   (-h lists them)")
    p.add_argument("signature", help="signature file (DER, BER or PEM CMS, or an S/MIME message), or a signed PDF (*.pdf)")
    p.add_argument("--content", help="the signed content, for a detached signature")
    _policy_args(p)
    add_revocation_args(p)
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(handler=_verify)

    a = sub.add_parser(
        "verify-archive",
        help="verify every signed document under folders (X.p7s beside X is detached); resumable",
        # One line, so that a mistake costs two lines of output (this and the error).
        usage="govsig verify-archive DIR [DIR ...] --trust PEM [options]   (-h lists them)",
        description="Verify every signed document under the folders, one report line per entry. "
                    "With --journal the job survives a crash or Ctrl-C: run it again with --resume.",
    )
    a.add_argument("directory", nargs="+", help="folder(s) to walk")
    _policy_args(a)
    add_revocation_args(a)
    a.add_argument("--report", metavar="FILE", help="write one JSON line per entry (schema govsig.report/1); - for stdout")
    a.add_argument("--parquet", metavar="FILE", help="write the same lines as a Parquet file (needs pyarrow)")
    a.add_argument("--html", metavar="FILE",
                   help="write a self-contained HTML report (totals, charts, failing documents) at the end")
    a.add_argument("--lang", choices=("vi", "en"), default=None,
                   help="language of the HTML report (default: Vietnamese under a vi_VN locale, else English)")
    a.add_argument("--journal", metavar="JOB.sqlite", help="record every outcome in this SQLite journal as the job goes")
    a.add_argument("--resume", action="store_true", help="continue the job recorded in --journal")
    a.add_argument("--follow-symlinks", action="store_true", help="follow symbolic links (loops are detected)")
    a.add_argument("--max-size", metavar="BYTES", type=_size, default=None,
                   help="do not read files larger than this (suffixes K, M, G); default: no cap")
    a.add_argument("--workers", "--threads", dest="threads", type=int, default=None, metavar="N",
                   help=f"govsig worker threads (1..{MAX_THREADS}; default: all cores)")
    a.add_argument("--chunk-size", type=int, default=512, help=argparse.SUPPRESS)
    a.add_argument("--log-interval", type=float, default=10.0, metavar="SECONDS",
                   help="seconds between progress log lines when stderr is not a terminal")
    a.add_argument("--no-progress", action="store_true", help="no progress bar or progress log lines")
    a.set_defaults(handler=_verify_archive)


def _policy_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--trust", action="append", default=[], metavar="PEM", required=True,
                   help="trust anchor certificate file(s) (PEM or DER); repeatable")
    p.add_argument("--intermediates", action="append", default=[], metavar="PEM",
                   help="untrusted intermediate certificate file(s); repeatable")
    p.add_argument("--at", help="validation time, ISO 8601 (default: now; naive means UTC)")
    p.add_argument("--legacy", action="store_true", help="accept SHA-1 and DSA")


def _size(text: str) -> int:
    units = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
    t = text.strip().lower().removesuffix("b").removesuffix("i")
    mult = 1
    if t and t[-1] in units:
        mult = units[t[-1]]
        t = t[:-1]
    try:
        n = int(t) * mult
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size (bytes, or with K, M, G)") from None
    if n < 0:
        raise argparse.ArgumentTypeError(f"{text!r}: a size cannot be negative")
    return n


def _policy(args: argparse.Namespace) -> Policy:
    trust = TrustStore.from_files(args.trust)
    inter: list[bytes] = []
    for f in args.intermediates:
        inter.extend(read_cert_file(f))
    at: Optional[dt.datetime] = None
    if args.at:
        at = dt.datetime.fromisoformat(args.at.replace("Z", "+00:00"))
    return Policy(trust=trust, intermediates=inter, at=at, legacy=args.legacy)


def result_record(r: VerifyResult | PdfResult, path: Optional[str] = None) -> dict[str, Any]:
    """A JSON-ready summary of one result."""
    if isinstance(r, PdfResult):
        return pdf_record(r, path)
    rec: dict[str, Any] = {}
    if path is not None:
        rec["path"] = path
    rec.update(
        ok=r.ok,
        code=r.code,
        reason=r.reason,
        detached=r.detached,
        ber=r.was_ber,
        signers=[
            {
                "code": s.code,
                "subject": s.subject,
                "issuer": s.issuer,
                "serial": None if s.serial is None else format(s.serial, "x"),
                "signing_time": None if s.signing_time is None else s.signing_time.isoformat(),
                "digest_algorithm": s.digest_algorithm,
                "signature_algorithm": s.signature_algorithm,
                "reason": s.reason,
            }
            for s in r.signers
        ],
    )
    return rec


def _verify(args: argparse.Namespace) -> int:
    try:
        policy, fetcher = revocation_options(args, _policy(args))
        v = Verifier(policy, fetcher)
        sig = read_regular_file(args.signature, "a signature")
        content = None
        if args.content:
            content = read_regular_file(args.content, "a signature's content")
    except OptionError as e:
        print(f"govsig verify: {e}", file=sys.stderr)
        return 2
    except (OSError, ValueError) as e:
        print(f"govsig: {shown(e)}", file=sys.stderr)
        return 2
    if is_pdf_path(args.signature) and content is None:
        return _verify_pdf(v, sig, args)
    r = v.verify(sig, content)
    if args.json:
        print(inert_json(result_record(r, args.signature)))
    else:
        print(f"{shown(args.signature)}: {r.code}" + (f" — {shown(r.reason)}" if r.reason else ""))
        for i, s in enumerate(r.signers, 1):
            when = s.signing_time.isoformat() if s.signing_time else "no signing time"
            print(f"  signer {i}: {s.code}  {shown(s.subject or s.sid)}  ({shown(s.signature_algorithm)}, {when})")
            for code, detail in s.warning_details:
                print(f"    warning: {code} — {shown(detail)}")
    return 0 if r.ok else 1


def _verify_pdf(v: Verifier, pdf: bytes, args: argparse.Namespace) -> int:
    r = v.verify_pdf(pdf)
    if args.json:
        print(inert_json(pdf_record(r, args.signature)))
        return 0 if r.ok else 1
    print(f"{shown(args.signature)}: {r.code}" + (f" — {shown(r.reason)}" if r.reason else ""))
    for s in r.signatures:
        who = s.signer.subject if s.signer is not None else None
        kind = "document time-stamp" if s.is_doc_timestamp else (s.subfilter or "?")
        print(f"  {shown(s.field)} (revision {s.revision}, {shown(kind)}): {s.code}  {shown(who or '-')}"
              f"  changed after: {s.modification}"
              + (f"  DocMDP P={s.docmdp}" if s.docmdp else ""))
    return 0 if r.ok else 1


# An operator mistake: one line, exit status 2.
_Mistake = OptionError


def _os_error_text(e: Exception) -> str:
    """One inert line for an output that could not be written: the file and the system's
    words for an OSError, the message of a ValueError."""
    if isinstance(e, OSError) and e.strerror:
        return f"{shown(e.filename)}: {e.strerror}" if e.filename else e.strerror
    return shown(e)


def _writable_path(option: str, path: Optional[str]) -> None:
    if path is None or path == "-":
        return
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise _Mistake(f"{option} {shown(path)}: folder {shown(folder)} does not exist; create it first")
    if os.path.isdir(path):
        raise _Mistake(f"{option} {shown(path)} is a folder; give a file name")


def _archive_setup(args: argparse.Namespace) -> tuple[Any, ...]:
    """Everything checked before the job starts: a mistake costs a line, not a half-run."""
    from govsig._threads import check_threads
    from govsig.archive import Journal, JournalError
    from govsig.archive.report import job_context

    try:
        check_threads(args.threads)
    except ValueError:
        raise _Mistake(f"--workers/--threads must be a whole number from 1 to {MAX_THREADS}, "
                       f"not {args.threads}; leave it out to use one thread per core") from None
    for option, files in (("--trust", args.trust), ("--intermediates", args.intermediates)):
        for f in files:
            if not os.path.isfile(f):
                raise _Mistake(f"{option} {shown(f)}: no such file; give the path of a PEM or DER certificate file")
    if args.chunk_size < 1:
        raise _Mistake("--chunk-size must be at least 1")
    if args.resume and not args.journal:
        raise _Mistake("--resume needs --journal JOB.sqlite (the journal of the job to continue)")
    for d in args.directory:
        if not os.path.exists(d):
            raise _Mistake(f"{shown(d)}: no such folder")
    _writable_path("--report", args.report)
    _writable_path("--parquet", args.parquet)
    _writable_path("--html", args.html)
    if args.html == "-":
        raise _Mistake("--html needs a file name (the page is not written to standard output)")
    _writable_path("--journal", args.journal)
    if args.parquet:
        try:
            from govsig.archive.report import arrow_schema

            arrow_schema()
        except ImportError as e:
            raise _Mistake(str(e)) from None
    try:
        policy = _policy(args)
    except (OSError, ValueError) as e:
        raise _Mistake(shown(e)) from None
    policy, fetcher = revocation_options(args, policy)
    import hashlib

    roots = [os.fsencode(os.path.abspath(d)) for d in args.directory]
    roots = list(dict.fromkeys(roots))
    trust = [] if policy.trust is None else sorted(hashlib.sha256(c).hexdigest() for c in policy.trust.certificates)
    job = {
        "roots": [os.fsdecode(r) for r in roots],
        "at": None if policy.at is None else _iso(policy.at),
        "revocation": policy.revocation,
        "legacy": policy.legacy,
        "trust_sha256": trust,
        "intermediates_sha256": sorted(hashlib.sha256(c).hexdigest() for c in policy.intermediates),
        "crls_sha256": sorted(hashlib.sha256(c).hexdigest() for c in policy.crls),
        "ocsp_sha256": sorted(hashlib.sha256(c).hexdigest() for c in policy.ocsp_responses),
        "fetch": bool(args.fetch),
        "max_size": args.max_size,
        "follow_symlinks": bool(args.follow_symlinks),
    }
    journal = None
    if args.journal:
        try:
            journal = Journal(args.journal, resume=args.resume, job=job)
        except JournalError as e:
            raise _Mistake(shown(e)) from None
    # One validation time for the whole job (kept by the journal across resumes), so every
    # line is judged at the same instant and a resumed job reports what one run would.
    at = policy.at
    if at is None:
        now = _iso(dt.datetime.now(dt.timezone.utc))
        stamp = journal.set_meta_once("validated_at", now) if journal is not None else now
        at = dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
        policy = policy.replace(at=at)
    context = job_context(policy, at=job["at"], validated_at=_iso(at), fetch=bool(args.fetch),
                          max_size=args.max_size, follow_symlinks=bool(args.follow_symlinks))
    return Verifier(policy, fetcher), roots, journal, context


def _verify_archive(args: argparse.Namespace) -> int:
    import logging
    import shlex
    import signal

    from govsig.archive import ArchiveJob, JobProgress
    from govsig.archive.report import JsonlWriter, ParquetWriter, read_jsonl

    try:
        verifier, roots, journal, context = _archive_setup(args)
    except _Mistake as e:
        print(f"govsig verify-archive: {e}", file=sys.stderr)
        return 2
    out = sys.stderr if args.report == "-" else sys.stdout
    if not args.no_progress and not sys.stderr.isatty() and not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(name)s: %(message)s")
    progress = JobProgress(enabled=not args.no_progress, interval=args.log_interval)
    jsonl = parquet = None
    if journal is None:
        # Without a journal the lines stream out as the job goes.
        try:
            jsonl = JsonlWriter(args.report) if args.report else None
            parquet = ParquetWriter(args.parquet) if args.parquet else None
        except (OSError, ValueError) as e:
            if jsonl is not None:
                jsonl.close()
            option = "--report" if jsonl is None and args.report else "--parquet"
            print(f"govsig verify-archive: {option}: {_os_error_text(e)}", file=sys.stderr)
            return 2

    # Without a journal, the HTML page is made at the end from a private copy of the lines
    # (the report itself may be a pipe, or replaced while the job runs).
    html_lines: Optional[Any] = None
    if args.html and journal is None:
        import tempfile

        html_lines = tempfile.TemporaryFile("w+", encoding="utf-8", suffix=".jsonl")

    def sink(text: str) -> None:
        if html_lines is not None:
            html_lines.write(text if text.endswith("\n") else text + "\n")
        if jsonl is not None:
            jsonl.write(text)
        if parquet is not None:
            parquet.write(json.loads(text))

    job = ArchiveJob(verifier, roots, context=context, journal=journal, follow_symlinks=args.follow_symlinks,
                     max_size=args.max_size, workers=args.threads, chunk_size=args.chunk_size,
                     progress=progress, sink=sink if journal is None else None)

    def on_term(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt()

    previous = signal.signal(signal.SIGTERM, on_term) if _main_thread() else None
    logging.getLogger("govsig.archive").info("job started over %d folder(s)", len(roots))
    try:
        summary = job.run()
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        if jsonl is not None:
            jsonl.close()
        if parquet is not None:
            parquet.close()
    if summary.interrupted:
        if html_lines is not None:
            html_lines.close()
        _print_summary(summary, out)
        if journal is not None:
            argv = list(getattr(args, "argv", None) or sys.argv[1:])
            if "--resume" not in argv:
                argv.append("--resume")
            print(f"interrupted: {summary.total} entries are recorded in {shown(journal.path)}; "
                  f"to continue: govsig {shlex.join(argv)}", file=sys.stderr)
            journal.close()
        else:
            print("interrupted: the report is partial and, without --journal, the job cannot resume",
                  file=sys.stderr)
        return 3
    if journal is not None:
        option = ""
        try:
            if args.report:
                option = "--report"
                w = JsonlWriter(args.report)
                for text in journal.lines():
                    w.write(text)
                w.close()
            if args.parquet:
                option = "--parquet"
                pw = ParquetWriter(args.parquet)
                for line in read_jsonl(journal.lines(), "the journal"):
                    pw.write(line)
                pw.close()
            if args.html:
                option = "--html"
                _write_html(args, read_jsonl(journal.lines(), "the journal"))
        except (OSError, ValueError) as e:
            print(f"govsig verify-archive: {option}: {_os_error_text(e)} (every result is kept in the journal "
                  f"{shown(journal.path)})", file=sys.stderr)
            return 2
        finally:
            journal.close()
    elif html_lines is not None:
        html_lines.seek(0)
        with html_lines:
            _write_html(args, read_jsonl(html_lines, "the report"))
    _print_summary(summary, out)
    logging.getLogger("govsig.archive").info("job done: %d entries", summary.total)
    return 0 if summary.all_ok else 1


def _write_html(args: argparse.Namespace, rows: Any) -> None:
    from govsig.report_html import write_html

    write_html(rows, args.html, lang=args.lang)


def _iso(t: dt.datetime) -> str:
    """ISO 8601 in UTC to the second, ``Z``-suffixed as every time in a report line."""
    return t.astimezone(dt.timezone.utc).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def _main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def _print_summary(summary: Any, out: Any) -> None:
    total = summary.total
    rate = summary.this_run / summary.elapsed if summary.elapsed > 0 else 0.0
    done = f"verified {total} documents in {summary.elapsed:.2f} s ({rate:,.0f} docs/s)"
    if summary.this_run != total:
        done += f"; {summary.this_run} in this run, the rest recorded earlier"
    print(done, file=out)
    if not total:
        print("no signed documents found (*.p7s, *.p7m, *.p7, *.cms)", file=out)
        return
    # The codes of a resumed job come from its journal, a file that may have been edited:
    # shown, so they never carry a control sequence or a line break to the terminal.
    counts: dict[str, int] = {}
    for k, n in summary.counts.items():
        counts[shown(k)] = counts.get(shown(k), 0) + n
    width = max(len(k) for k in counts) if counts else 4
    print(f"{'outcome':<{width}}  {'count':>8}  {'share':>6}", file=out)
    for k, n in sorted(counts.items(), key=lambda kv: (kv[0] != "ok", -kv[1], kv[0])):
        print(f"{k:<{width}}  {n:>8}  {100.0 * n / total:5.1f}%", file=out)
    rev = summary.revocation
    print(f"revocation status: proven {rev.get('proven', 0)}, unknown {rev.get('unknown', 0)}, "
          f"not checked {rev.get('not_checked', 0)}", file=out)
