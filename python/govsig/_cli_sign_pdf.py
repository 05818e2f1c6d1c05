"""``govsig sign-pdf`` (registered by govsig.cli): sign a PDF as an incremental update.

The key options are those of ``govsig sign`` (a key file, or a key on a PKCS#11 token with
its PIN from --pin-env or a prompt, never from the command line).
"""
from __future__ import annotations

import argparse
import json
import sys
from contextlib import ExitStack
from pathlib import Path

from govsig import pkcs11
from govsig._cli_sign import UsageError, _fail, _write_atomically, add_signer_args, signer_from_args
from govsig._cli_text import shown
from govsig._pdf_sign import sign_pdf
from govsig.signing import SigningError
from govsig.timestamps import TimestampError


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    s = sub.add_parser("sign-pdf", allow_abbrev=False,
                       help="sign a PDF (PAdES, an incremental update), writing OUT.pdf",
                       description="Add a signature to PDF as an incremental update (the original bytes "
                       "are kept): an invisible signature field (or an existing empty one filled), SubFilter "
                       "ETSI.CAdES.detached unless --subfilter says otherwise. Key from "
                       "--key/--cert or a PKCS#11 token; the PIN comes from --pin-env VAR or a prompt.")
    s.add_argument("pdf", metavar="PDF")
    s.add_argument("-o", "--output", metavar="OUT",
                   help="where to write the signed PDF (default: PDF with -signed before .pdf)")
    add_signer_args(s)
    s.add_argument("--field", default="Signature1",
                   help="name of the new signature field, or of an existing empty one to fill (default Signature1)")
    s.add_argument("--subfilter", choices=("ETSI.CAdES.detached", "adbe.pkcs7.detached"),
                   default="ETSI.CAdES.detached",
                   help="PAdES (default) or adbe.pkcs7.detached (a CMS with signingTime, for older readers)")
    s.add_argument("--reason", help="/Reason of the signature")
    s.add_argument("--location", help="/Location of the signature")
    s.add_argument("--name", help="/Name: the signer's name as readers show it")
    s.add_argument("--certify", type=int, choices=(1, 2, 3),
                   help="a certification signature with this DocMDP level (1: no changes, 2: forms "
                   "and signatures, 3: also annotations)")
    s.add_argument("--tsa", metavar="URL", help="add a signature time-stamp from this TSA (PAdES B-T)")
    s.add_argument("--digest", choices=("sha256", "sha384", "sha512"), help="default: what the key calls for")
    s.add_argument("--pss", action="store_true", help="RSA-PSS instead of PKCS#1 v1.5 (RSA keys)")
    s.add_argument("--contents-size", type=int, metavar="BYTES",
                   help="bytes reserved for the signature (default: estimated from the certificates)")
    s.add_argument("--force", action="store_true", help="overwrite OUT if it exists")
    s.add_argument("--json", action="store_true", help="print one JSON line describing the result")
    s.set_defaults(handler=_cmd_sign_pdf)


def _cmd_sign_pdf(args: argparse.Namespace) -> int:
    src = Path(args.pdf)
    if not src.is_file():
        return _fail(f"{src}: not a file", 2)
    out = Path(args.output) if args.output else src.with_name(f"{src.stem}-signed{src.suffix or '.pdf'}")
    if out.exists() and not args.force:
        return _fail(f"{out} exists; pass --force to overwrite it", 2)
    if out.resolve() == src.resolve():
        return _fail("the output must not be the input file (write elsewhere, then rename)", 2)
    with ExitStack() as stack:
        try:
            signer = signer_from_args(args, stack)
            signed = sign_pdf(src, signer, field=args.field, reason=args.reason, location=args.location,
                              name=args.name, certify=args.certify, tsa=args.tsa, digest=args.digest,
                              rsa_pss=args.pss, contents_size=args.contents_size, subfilter=args.subfilter)
            _write_atomically(out, signed, overwrite=args.force)
        except UsageError as exc:
            return _fail(str(exc), 2)
        except (SigningError, pkcs11.Pkcs11Error, TimestampError) as exc:
            return _fail(str(exc))
        except FileExistsError:
            return _fail(f"{out} appeared while signing; pass --force to overwrite it", 2)
        except OSError as exc:
            return _fail(f"{exc.filename or ''}: {exc.strerror or exc}")
        except ValueError as exc:
            return _fail(str(exc), 2)
    if args.json:
        print(json.dumps({"file": str(src), "signed": str(out), "bytes": len(signed), "field": args.field}))
    else:
        print(f"signed {shown(src)} -> {shown(out)}", file=sys.stderr)
    return 0
