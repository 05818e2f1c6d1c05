"""``govsig dossier``: hash, bag, verify and prove dossiers (registered by govsig.cli)."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any, TextIO

from govsig._cli_text import inert_json, shown
from govsig._regular import read_regular_file
from govsig.dossier import (
    DOSSIER_ALGORITHMS,
    Dossier,
    DossierError,
    HashProgress,
    InclusionProof,
    verify_inclusion,
)

# "auto" shows the bar on a terminal once a hash looks long enough to be worth watching.
_AUTO_MIN_BYTES = 256 << 20
_AUTO_MIN_FILES = 20_000
_AUTO_MIN_SECONDS = 1.0


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Add this module's subcommands to the ``govsig`` parser."""
    parser = sub.add_parser(
        "dossier",
        help="hash, bag, verify and prove dossiers (BagIt + RFC 9162 Merkle root)",
        description="Hash a folder of documents, write it as a BagIt bag with a Merkle root, "
        "verify it later file by file, and prove that one file belongs to it.",
    )
    parser.set_defaults(handler=lambda _args: _usage(parser))
    commands = parser.add_subparsers(dest="dossier_command")

    h = commands.add_parser("hash", help="hash a folder and print its root; --bag writes a bag")
    h.add_argument("dir", type=Path, help="the dossier folder (for a bag: its payload)")
    h.add_argument("--bag", action="store_true", help="make DIR a BagIt bag in place")
    h.add_argument("--dest", type=Path, help="write the bag to this new folder (copies the payload)")
    _common(h)
    h.set_defaults(handler=_cmd_hash)

    v = commands.add_parser("verify", help="compare a bag (or folder) with its manifest, per file")
    v.add_argument("dir", type=Path, help="a bag")
    _common(v, algorithm=False)
    v.add_argument("--algorithm", choices=DOSSIER_ALGORITHMS, help="which manifest to use (default: sha256 if present)")
    v.add_argument("--trust", action="append", default=[], metavar="PEM",
                   help="trust anchor(s) for the bag's signature (tagmanifest-*.txt.p7s); without "
                        "it a signature is checked for integrity only")
    v.add_argument("--require-signature", action="store_true", help="fail when the bag is not signed")
    v.set_defaults(handler=_cmd_verify)

    p = commands.add_parser("prove", help="print the inclusion proof (JSON) of one file")
    p.add_argument("dir", type=Path, help="a bag (its manifest is used) or a folder (hashed now)")
    p.add_argument("file", help="the file: its path, or its relative path in the dossier")
    p.add_argument("-o", "--output", type=Path, help="write the proof here instead of stdout")
    _common(p, json_flag=False)
    p.set_defaults(handler=_cmd_prove)

    c = commands.add_parser("check-proof", help="check a file against an inclusion proof and a root")
    c.add_argument("file", type=Path, help="the file")
    c.add_argument("relpath", help="its relative path in the dossier")
    c.add_argument("proof", type=Path, help="the proof (JSON)")
    c.add_argument("root", help="the dossier root, hex")
    c.add_argument(
        "--tree-size", type=int, required=True, metavar="N",
        help="the number of entries the root covers (a proof for another size is refused)",
    )
    c.set_defaults(handler=_cmd_check_proof)


def _common(p: argparse.ArgumentParser, *, algorithm: bool = True, json_flag: bool = True) -> None:
    if algorithm:
        p.add_argument("--algorithm", default="sha256", choices=DOSSIER_ALGORITHMS)
    p.add_argument("--threads", type=int, default=None, help="worker threads (default: one per core)")
    if json_flag:
        p.add_argument("--json", action="store_true", help="print a JSON report")
    bar = p.add_mutually_exclusive_group()
    bar.add_argument("--progress", dest="progress", action="store_const", const="always", default="auto",
                     help="always show the progress bar on stderr")
    bar.add_argument("--no-progress", dest="progress", action="store_const", const="never")


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


class ProgressBar:
    """A one-line progress bar with throughput, drawn on ``stream``."""

    def __init__(self, mode: str, stream: TextIO | None = None, width: int = 24) -> None:
        self.mode = mode
        self.stream = stream if stream is not None else sys.stderr
        self.width = width
        self.shown = False

    def _wanted(self, p: HashProgress) -> bool:
        if self.mode == "always":
            return True
        if self.mode == "never" or not self.stream.isatty():
            return False
        return p.bytes_total >= _AUTO_MIN_BYTES or p.files_total >= _AUTO_MIN_FILES or p.elapsed >= _AUTO_MIN_SECONDS

    def __call__(self, p: HashProgress) -> None:
        if not (self.shown or self._wanted(p)):
            return
        self.shown = True
        if p.files_total == 0 and p.files_done == 0:
            line = f"listing files… {p.elapsed:5.1f}s"
        else:
            frac = p.bytes_done / p.bytes_total if p.bytes_total else p.files_done / max(p.files_total, 1)
            filled = int(frac * self.width)
            line = (
                f"[{'#' * filled}{'.' * (self.width - filled)}] {frac * 100:5.1f}%  "
                f"{_size(p.bytes_done)}/{_size(p.bytes_total)}  {_size(p.bytes_per_second)}/s  "
                f"{p.files_done}/{p.files_total} files"
            )
        self.stream.write("\r" + line + "\x1b[K")
        self.stream.flush()

    def close(self) -> None:
        if self.shown:
            self.stream.write("\n")
            self.stream.flush()


def _size(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


def _fail(message: str) -> int:
    print(f"govsig dossier: error: {shown(message)}", file=sys.stderr)
    return 2


def _hash(args: argparse.Namespace, path: Path, algorithm: str) -> Dossier:
    bar = ProgressBar(args.progress)
    try:
        return Dossier.hash(path, algorithm, args.threads, progress=bar)
    finally:
        bar.close()


def _print_json(obj: Any) -> None:
    print(inert_json(obj, indent=2))


def _cmd_hash(args: argparse.Namespace) -> int:
    try:
        d = _hash(args, args.dir, args.algorithm)
        bag = None
        if d.ok and (args.bag or args.dest):
            bag = d.write_bag(args.dest)
    except (DossierError, OSError, ValueError) as exc:
        return _fail(str(exc))
    if args.json:
        _print_json({
            "algorithm": d.algorithm,
            "root": d.hexroot,
            "files": len(d),
            "bytes": d.total_bytes,
            "errors": [{"path": e.relpath, "code": e.code, "message": e.message} for e in d.errors],
            "bag": str(bag) if bag else None,
        })
    else:
        print(f"root  {d.algorithm}:{d.hexroot}")
        print(f"files {len(d)}  bytes {d.total_bytes}")
        for e in d.errors:
            print(f"error {shown(e)}")
        if bag:
            print(f"bag   {shown(bag)}")
        elif d.errors and (args.bag or args.dest):
            print("no bag written: some files could not be hashed", file=sys.stderr)
    return 0 if d.ok else 1


def _cmd_verify(args: argparse.Namespace) -> int:
    try:
        recorded = Dossier.from_bag(args.dir, args.algorithm)
        bar = ProgressBar(args.progress)
        try:
            diff = recorded.compare(args.dir, threads=args.threads, progress=bar)
        finally:
            bar.close()
    except (DossierError, OSError, ValueError) as exc:
        return _fail(str(exc))
    try:
        signature = _check_signature(recorded, args)
    except (OSError, ValueError) as exc:
        return _fail(str(exc))
    # Giving trust anchors means a signature is required: a bag stripped of its signature
    # must not pass a check that was asked to establish who signed it.
    signature_required = args.require_signature or bool(args.trust)
    sig_ok = signature["ok"] if signature is not None else not signature_required
    if args.json:
        _print_json({"ok": diff.ok and sig_ok, "root": recorded.hexroot, "algorithm": recorded.algorithm,
                     "signature": signature, "signature_required": signature_required, "files": diff.report()})
    else:
        for row in diff.report():
            if row["status"] == "unchanged":
                continue
            extra = f" -> {shown(row['new_path'])}" if "new_path" in row else ""
            extra += f": {shown(row['message'])} ({row['code']})" if "code" in row else ""
            print(f"{row['status']:<9} {shown(row['path'])}{extra}")
        if signature is None:
            if args.trust:
                print("signature: none (required: --trust was given, so the bag must be signed)")
            elif args.require_signature:
                print("signature: none (required)")
        else:
            print(f"signature: {signature['code']}" + (f" — {shown(signature['reason'])}" if signature["reason"] else "")
                  + (f" ({shown(signature['signer'])})" if signature["signer"] else ""))
        print(f"{'OK' if diff.ok else 'CHANGED'}: {shown(diff)}")
    return 0 if diff.ok and sig_ok else 1


def _check_signature(recorded: Dossier, args: argparse.Namespace) -> dict[str, Any] | None:
    """The bag's signature over its tag manifest, when there is one: with --trust, valid and
    trusted; without, intact (integrity only)."""
    from govsig import Policy, TrustStore, Verifier

    # lexists: a signature that is there but is not a regular file in the bag (a FIFO, a link
    # out of the bag) is an error read_bag_file names, not an unsigned bag.
    if recorded.bag_dir is None or not os.path.lexists(recorded.signature_path()):
        return None
    trust = TrustStore.from_files(args.trust) if args.trust else None
    r = recorded.verify_signature(Verifier(Policy(trust=trust)))
    ok = r.ok if trust is not None else r.integrity_ok
    signer = r.signers[0].subject if r.signers else None
    return {"ok": ok, "code": r.code, "reason": r.reason, "signer": signer, "trusted": r.ok}


def _relpath_of(dossier: Dossier, folder: Path, file: str) -> str:
    """FILE as given on the command line: an existing path under the dossier, or a relpath."""
    candidate = Path(file)
    payload = folder / "data" if dossier.bag_dir is not None else folder
    if candidate.exists():
        for base in (payload, folder):
            try:
                return candidate.resolve().relative_to(base.resolve()).as_posix()
            except ValueError:
                continue
    return file


def _cmd_prove(args: argparse.Namespace) -> int:
    try:
        if (args.dir / "bagit.txt").is_file():
            d = Dossier.from_bag(args.dir)
        else:
            d = _hash(args, args.dir, args.algorithm)
        relpath = _relpath_of(d, args.dir, args.file)
        if relpath not in d:
            return _fail(f"{relpath!r} is not a file of this dossier")
        proof = d.proof(relpath)
        if d.bag_dir is not None:
            # A proof of a file that changed since bagging would prove nothing about it.
            if not verify_inclusion(d.bag_dir / "data" / relpath, relpath, proof, d):
                print(f"govsig dossier: {shown(relpath)} changed since the bag was made", file=sys.stderr)
                return 1
    except (DossierError, OSError, ValueError) as exc:
        return _fail(str(exc))
    text = proof.to_json(indent=2)
    if args.output:
        args.output.write_text(text + "\n", encoding="utf-8")
    else:
        print(text)
    print(f"root {d.algorithm}:{d.hexroot}", file=sys.stderr)
    print(f"tree size {len(d)}", file=sys.stderr)
    return 0


def _cmd_check_proof(args: argparse.Namespace) -> int:
    try:
        proof = InclusionProof.from_json(read_regular_file(args.proof, "an inclusion proof"))
        ok = verify_inclusion(args.file, args.relpath, proof, args.root, tree_size=args.tree_size)
    except (DossierError, OSError, ValueError) as exc:
        return _fail(str(exc))
    print("OK: the file is part of the dossier" if ok else "FAILED: the proof does not hold for this file, path and root")
    return 0 if ok else 1
