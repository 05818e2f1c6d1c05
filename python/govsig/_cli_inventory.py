"""``govsig inventory``: the certificate inventory of an archive (CSV, HTML, or a summary)."""
from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from typing import Any, Optional

from govsig._cli_revocation import OptionError, add_revocation_args, revocation_options
from govsig._cli_text import shown
from govsig._cli_verify import _size as size_option
from govsig._html import LANGS

def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    p = sub.add_parser(
        "inventory",
        help="list every signer certificate seen in an archive: holder, unit, identifiers, expiry, revocation",
    )
    p.add_argument("directory")
    p.add_argument("--trust", action="append", default=[], metavar="PEM", required=True,
                   help="trust anchor certificate file(s) (PEM or DER); repeatable")
    p.add_argument("--intermediates", action="append", default=[], metavar="PEM",
                   help="untrusted intermediate certificate file(s); repeatable")
    p.add_argument("--at", help="the time expiry and revocation are judged at, ISO 8601 (default: now)")
    p.add_argument("--renewal-days", type=int, default=30, metavar="N",
                   help="a certificate expiring within N days is due for renewal (default 30)")
    add_revocation_args(p)
    p.add_argument("--follow-symlinks", action="store_true", help="follow symbolic links (loops are detected)")
    p.add_argument("--max-size", metavar="BYTES", type=size_option, default=None,
                   help="do not read files larger than this (suffixes K, M, G); default: no cap")
    p.add_argument("--csv", metavar="FILE", help="write the inventory as CSV (UTF-8, Excel-ready)")
    p.add_argument("--html", metavar="FILE", help="write the inventory as one self-contained HTML page")
    p.add_argument("--lang", choices=LANGS, default=None,
                   help="HTML language (default: vi under a Vietnamese locale, else en)")
    p.add_argument("--threads", type=int, default=None, help="worker threads (default: all cores)")
    p.set_defaults(handler=_inventory)


def _check_output(path: Optional[str], what: str) -> Optional[str]:
    if path is None:
        return None
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        return f"{what} {shown(path)}: the folder {shown(folder)} does not exist; create it or choose another path"
    return None


def _inventory(args: argparse.Namespace) -> int:
    from govsig import _inventory as inv_mod
    from govsig._policy import Policy, TrustStore
    from govsig._certs import read_cert_file

    def fail(msg: str) -> int:
        print(f"govsig: {msg}", file=sys.stderr)
        return 2

    if args.renewal_days < 0:
        return fail("--renewal-days must be 0 or more")
    if args.threads is not None and args.threads < 1:
        return fail("--threads must be 1 or more")
    for path, what in ((args.csv, "--csv"), (args.html, "--html")):
        problem = _check_output(path, what)
        if problem:
            return fail(problem)
    if not os.path.isdir(args.directory):
        return fail(f"{shown(args.directory)}: not a directory")
    try:
        trust = TrustStore.from_files(args.trust)
        inter: list[bytes] = []
        for f in args.intermediates:
            inter.extend(read_cert_file(f))
        at: Optional[dt.datetime] = None
        if args.at:
            try:
                at = dt.datetime.fromisoformat(args.at.replace("Z", "+00:00"))
            except ValueError:
                return fail(f"--at {shown(args.at)} is not an ISO 8601 time (e.g. 2026-12-31T00:00:00Z)")
        policy, fetcher = revocation_options(args, Policy(trust=trust, intermediates=inter, at=at))
    except OptionError as e:
        return fail(str(e))
    except (OSError, ValueError) as e:
        return fail(shown(e))
    try:
        inv = inv_mod.inventory(args.directory, policy, renewal_days=args.renewal_days, fetcher=fetcher,
                                threads=args.threads, max_size=args.max_size,
                                follow_symlinks=args.follow_symlinks)
    except (OSError, ValueError) as e:
        return fail(shown(e))
    try:
        if args.csv:
            inv_mod.write_csv(inv, args.csv)
        if args.html:
            inv_mod.write_inventory_html(inv, args.html, lang=args.lang)
    except OSError as e:
        return fail(f"cannot write the output: {shown(e)}")
    due = sum(1 for r in inv if r["renewal_due"] and not r["expired"])
    expired = sum(1 for r in inv if r["expired"])
    revoked = sum(1 for r in inv if r["revocation_status"] in ("revoked", "on_hold"))
    unknown = sum(1 for r in inv if r["revocation_status"] == "unknown")
    if not (args.csv or args.html):
        for r in inv:
            ids = " ".join(f"{k}:{','.join(v)}" for k, v in r["identifiers"].items())
            print(f"{r['not_after']:%Y-%m-%d}  {r['revocation_status']:<11}  {shown(r['holder'])}"
                  f"  [{shown(r['organisation'])}]  {shown(ids)}  ({r['documents_signed']} documents)")
    print(f"{len(inv)} certificates in {inv.documents} documents: {due} due for renewal within "
          f"{args.renewal_days} days, {expired} expired, {revoked} revoked or on hold, "
          f"{unknown} with revocation status unknown; {len(inv.skipped)} entries skipped", file=sys.stderr)
    return 0
