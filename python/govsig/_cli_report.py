"""``govsig report``: render a finished (or interrupted) job's JSONL report as HTML."""
from __future__ import annotations

import argparse
import io
import json
import sys
from collections.abc import Iterator
from typing import IO, Any, Optional

from govsig._cli_text import shown
from govsig._regular import open_regular_file
from govsig._html import LANGS


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    p = sub.add_parser("report", help="render a verify-archive JSONL report as one self-contained HTML page")
    p.add_argument("jsonl", help="the job's JSONL report (one JSON object per line; - reads standard input)")
    p.add_argument("--html", required=True, metavar="FILE", help="the HTML page to write")
    p.add_argument("--lang", choices=LANGS, default=None,
                   help="page language (default: vi under a Vietnamese locale, else en)")
    p.add_argument("--title", help="page title (default: the report's own)")
    p.add_argument("--max-failures", type=int, default=None, metavar="N",
                   help="list at most N failing documents (default 10000; the page says how many there were)")
    p.set_defaults(handler=_report)


#: The longest report line read, in characters: a line of a real report is a few KiB (a
#: document with many signers and its revocation evidence, tens of KiB). A longer one is
#: skipped as it is read, in bounded memory.
MAX_LINE = 16 << 20


class _Lines:
    """The report's JSON objects, streamed; a line that is not one (a job killed mid-write
    leaves a truncated last line), or is longer than :data:`MAX_LINE`, is counted and
    skipped, not fatal."""

    def __init__(self, f: IO[str]) -> None:
        self.f = f
        self.skipped = 0
        self.first_bad = 0

    def _lines(self) -> Iterator[Optional[str]]:
        """Each line, or None for one longer than MAX_LINE (read through, not kept)."""
        while line := self.f.readline(MAX_LINE):
            if len(line) == MAX_LINE and not line.endswith("\n"):
                while (rest := self.f.readline(MAX_LINE)) and not rest.endswith("\n"):
                    pass
                yield None
            else:
                yield line

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for n, line in enumerate(self._lines(), 1):
            if line is not None and not line.strip():
                continue
            try:
                row = None if line is None else json.loads(line)
            except (ValueError, RecursionError):  # RecursionError: nested too deeply for json
                row = None
            if not isinstance(row, dict):
                self.skipped += 1
                self.first_bad = self.first_bad or n
                continue
            yield row


def _report(args: argparse.Namespace) -> int:
    from govsig.report_html import DEFAULT_MAX_FAILURES, ReportTotals, _render
    from govsig import _html

    if args.max_failures is not None and args.max_failures < 0:
        print("govsig: --max-failures must be 0 or more", file=sys.stderr)
        return 2
    try:
        src: IO[str] = sys.stdin if args.jsonl == "-" else io.TextIOWrapper(
            open_regular_file(args.jsonl, "a report"), encoding="utf-8", errors="surrogateescape")
    except (OSError, ValueError) as e:
        print(f"govsig: cannot read the report: {shown(e)}", file=sys.stderr)
        return 2
    lang = _html.check_lang(_html.default_lang() if args.lang is None else args.lang)
    totals = ReportTotals(DEFAULT_MAX_FAILURES if args.max_failures is None else args.max_failures)
    lines = _Lines(src)
    try:
        with src:
            for row in lines:
                totals.add(row)
    except OSError as e:
        print(f"govsig: cannot read the report: {shown(e)}", file=sys.stderr)
        return 2
    try:
        _html.write_page(args.html, _render(totals, lang, args.title, lines.skipped))
    except OSError as e:
        print(f"govsig: cannot write the HTML page: {shown(e)} (does its folder exist?)", file=sys.stderr)
        return 2
    if lines.skipped:
        print(f"govsig: {lines.skipped} line(s) were not JSON objects and were skipped (first: line {lines.first_bad})",
              file=sys.stderr)
    print(f"{shown(args.html)}: {totals.documents:,} documents, {totals.ok:,} valid, "
          f"{totals.failures_total:,} not valid ({len(totals.failures):,} listed)")
    return 0
