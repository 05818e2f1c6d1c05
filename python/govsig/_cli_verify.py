"""``govsig verify`` and ``govsig verify-archive``."""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from typing import Any, Optional

from govsig._api import Policy, TrustStore, Verifier, _read_chunks, walk_signature_files
from govsig._certs import read_cert_file
from govsig._cli_text import shown
from govsig._govsig import BatchResult, PdfResult, VerifyResult
from govsig._pdf import is_pdf_path, pdf_record
from govsig._progress import Progress


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Add ``verify`` and ``verify-archive`` to the ``govsig`` parser."""
    p = sub.add_parser("verify", help="verify one CMS/PKCS#7 signature or signed PDF")
    p.add_argument("signature", help="signature file (DER or BER CMS), or a signed PDF (*.pdf)")
    p.add_argument("--content", help="the signed content, for a detached signature")
    _policy_args(p)
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(handler=_verify)

    a = sub.add_parser(
        "verify-archive",
        help="verify every signed document under a folder (X.p7s beside X is detached)",
    )
    a.add_argument("directory")
    _policy_args(a)
    a.add_argument("--report", help="write one JSON line per document to this file")
    a.add_argument("--threads", type=int, default=None, help="worker threads (default: all cores)")
    a.add_argument("--no-progress", action="store_true", help="never draw the progress bar")
    a.set_defaults(handler=_verify_archive)


def _policy_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--trust", action="append", default=[], metavar="PEM", required=True,
                   help="trust anchor certificate file(s) (PEM or DER); repeatable")
    p.add_argument("--intermediates", action="append", default=[], metavar="PEM",
                   help="untrusted intermediate certificate file(s); repeatable")
    p.add_argument("--at", help="validation time, ISO 8601 (default: now; naive means UTC)")
    p.add_argument("--legacy", action="store_true", help="accept SHA-1 and DSA")


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
        v = Verifier(_policy(args))
        with open(args.signature, "rb") as f:
            sig = f.read()
        content = None
        if args.content:
            with open(args.content, "rb") as f:
                content = f.read()
    except (OSError, ValueError) as e:
        print(f"govsig: {shown(e)}", file=sys.stderr)
        return 2
    if is_pdf_path(args.signature) and content is None:
        return _verify_pdf(v, sig, args)
    r = v.verify(sig, content)
    if args.json:
        print(json.dumps(result_record(r, args.signature), ensure_ascii=False))
    else:
        print(f"{shown(args.signature)}: {r.code}" + (f" — {shown(r.reason)}" if r.reason else ""))
        for i, s in enumerate(r.signers, 1):
            when = s.signing_time.isoformat() if s.signing_time else "no signing time"
            print(f"  signer {i}: {s.code}  {shown(s.subject or s.sid)}  ({shown(s.signature_algorithm)}, {when})")
    return 0 if r.ok else 1


def _verify_pdf(v: Verifier, pdf: bytes, args: argparse.Namespace) -> int:
    r = v.verify_pdf(pdf)
    if args.json:
        print(json.dumps(pdf_record(r, args.signature), ensure_ascii=False))
        return 0 if r.ok else 1
    print(f"{shown(args.signature)}: {r.code}" + (f" — {shown(r.reason)}" if r.reason else ""))
    for s in r.signatures:
        who = s.signer.subject if s.signer is not None else None
        kind = "document time-stamp" if s.is_doc_timestamp else (s.subfilter or "?")
        print(f"  {shown(s.field)} (revision {s.revision}, {shown(kind)}): {s.code}  {shown(who or '-')}"
              f"  changed after: {s.modification}"
              + (f"  DocMDP P={s.docmdp}" if s.docmdp else ""))
    return 0 if r.ok else 1


def _verify_archive(args: argparse.Namespace) -> int:
    try:
        v = Verifier(_policy(args))
    except (OSError, ValueError) as e:
        print(f"govsig: {shown(e)}", file=sys.stderr)
        return 2
    if not os.path.isdir(args.directory):
        print(f"govsig: {shown(args.directory)}: not a directory", file=sys.stderr)
        return 2
    paths = walk_signature_files(args.directory)
    progress = Progress(len(paths), enabled=False if args.no_progress else None)
    report = open(args.report, "w", encoding="utf-8") if args.report else None
    counts: dict[str, int] = {}
    total = 0
    t0 = time.monotonic()
    try:
        for chunk_paths, chunk in _read_chunks(paths, 512):
            b = v.verify_many(chunk, threads=args.threads)
            for i, p in enumerate(chunk_paths):
                code_name = _code_name(b, i)
                counts[code_name] = counts.get(code_name, 0) + 1
                if report is not None:
                    report.write(json.dumps(result_record(b[i], p), ensure_ascii=False) + "\n")
            total += len(chunk_paths)
            progress.update(len(chunk_paths))
    finally:
        progress.close()
        if report is not None:
            report.close()
    elapsed = time.monotonic() - t0
    _print_summary(counts, total, elapsed)
    return 0 if total > 0 and counts.get("ok", 0) == total else 1


def _code_name(b: BatchResult, i: int) -> str:
    return b[i].code


def _print_summary(counts: dict[str, int], total: int, elapsed: float) -> None:
    rate = total / elapsed if elapsed > 0 else 0.0
    print(f"verified {total} documents in {elapsed:.2f} s ({rate:,.0f} docs/s)")
    if not total:
        print("no signed documents found (*.p7s, *.p7m, *.p7, *.cms, *.pdf)")
        return
    width = max(len(k) for k in counts) if counts else 4
    print(f"{'outcome':<{width}}  {'count':>8}  {'share':>6}")
    for k, n in sorted(counts.items(), key=lambda kv: (kv[0] != "ok", -kv[1], kv[0])):
        print(f"{k:<{width}}  {n:>8}  {100.0 * n / total:5.1f}%")
