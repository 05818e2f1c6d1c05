"""``govsig timestamp`` (registered by govsig.cli): add an RFC 3161 signature time-stamp to
every signer of existing CMS signature files, in place.

Each file is rewritten safely: the new bytes go to a fresh temporary file in the same
folder (same filesystem, so the rename is atomic), flushed to disk, then renamed over the
original. A crash or a full disk leaves either the old file or the new one, never half of
one; a failure on one file leaves it untouched and the others are still stamped.
"""
from __future__ import annotations

import argparse
import errno
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from govsig._cli_text import inert_json, shown
from govsig._files import walk_signature_files
from govsig._policy import TrustStore
from govsig._regular import read_regular_file
from govsig.timestamps import TimestampError, TsaClient, add_timestamps


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    p = sub.add_parser("timestamp", allow_abbrev=False,
                       help="add an RFC 3161 signature time-stamp to CMS signature files, in place",
                       description="Ask the TSA at --tsa for a time-stamp over each signer's signature "
                       "value (RFC 3161 Appendix A) and add it to the signature as an unsigned attribute; "
                       "signed bytes are not touched. A DIR stands for every signature file under it "
                       "(.p7s, .p7m, .p7, .cms).")
    p.add_argument("paths", nargs="+", metavar="FILE_OR_DIR")
    p.add_argument("--tsa", required=True, metavar="URL", help="the TSA's http(s) URL")
    p.add_argument("--hash", choices=("sha256", "sha384", "sha512"), default="sha256",
                   help="imprint hash (default sha256)")
    p.add_argument("--timeout", type=float, default=10, help="seconds per TSA request (default 10)")
    p.add_argument("--policy-oid", metavar="OID", help="ask for tokens under this TSA policy")
    p.add_argument("--no-nonce", action="store_true", help="send no nonce (for TSAs that refuse one)")
    p.add_argument("--trust", action="append", default=[], metavar="PEM",
                   help="trust anchor file(s) the TSA's chain must validate against; repeatable")
    p.add_argument("--json", action="store_true", help="print one JSON line per file")
    p.set_defaults(handler=_cmd_timestamp)


def _shown(path: Path) -> str:
    """A path for the terminal: as is when printable, else Python-escaped, so a file name
    carrying newlines or escape sequences cannot forge or hide report lines."""
    text = str(path)
    return text if text.isprintable() else repr(text)


def _fail(message: str, code: int = 1) -> int:
    print(f"govsig: error: {shown(message)}", file=sys.stderr)
    return code


def _files(paths: list[str]) -> list[Path]:
    out: list[Path] = []
    for p in paths:
        path = Path(p)
        if path.is_dir():
            out.extend(Path(f) for f in walk_signature_files(path))
        elif path.is_file():
            out.append(path)
        else:
            raise FileNotFoundError(p)
    return out


def write_atomically(path: Path, data: bytes) -> None:
    """Replaces ``path`` with ``data`` by a temporary file in the same folder and a rename;
    the file keeps its permission bits."""
    mode = path.stat().st_mode & 0o7777
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _cmd_timestamp(args: argparse.Namespace) -> int:
    try:
        files = _files(args.paths)
    except FileNotFoundError as exc:
        return _fail(f"{_shown(Path(exc.args[0]))}: no such file or directory", 2)
    try:
        trust = TrustStore.from_files(args.trust) if args.trust else None
        client = TsaClient(args.tsa, timeout=args.timeout, hash=args.hash, policy_oid=args.policy_oid,
                           nonce=not args.no_nonce, trust=trust)
    except (ValueError, OSError) as exc:
        return _fail(str(exc), 2)
    stamped = failed = 0
    for f in files:
        record: dict[str, Any] = {"file": str(f)}
        try:
            try:
                # A regular file only: a FIFO in the folder would block, a link to /dev/zero
                # would be read until memory runs out.
                data = read_regular_file(f, "a signature to time-stamp")
            except ValueError as exc:
                raise OSError(errno.EINVAL, str(exc)) from None
            new = add_timestamps(data, client)
            write_atomically(f, new)
            stamped += 1
            record.update(ok=True, bytes=len(new))
        except TimestampError as exc:
            failed += 1
            record.update(ok=False, code=exc.code, reason=exc.reason)
        except ValueError as exc:
            failed += 1
            record.update(ok=False, code="malformed", reason=str(exc))
        except OSError as exc:
            failed += 1
            record.update(ok=False, code="io_error", reason=exc.strerror or str(exc))
        if args.json:
            print(inert_json(record))
        elif not record["ok"]:
            # The reason may quote the TSA's statusString: text from the network.
            print(f"govsig: {_shown(f)}: {record['code']}: {shown(record['reason'])}", file=sys.stderr)
    if not args.json:
        print(f"time-stamped {stamped} file{'s' if stamped != 1 else ''}"
              + (f", {failed} failed" if failed else ""), file=sys.stderr)
    return 1 if failed else 0
