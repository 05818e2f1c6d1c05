"""``govsig sign`` and ``govsig pkcs11`` (registered by govsig.cli).

The PIN is read from an environment variable (``--pin-env``) or a prompt, never from the
command line: argv is visible to every user of the machine (``ps``) and lands in shell
history.
"""
from __future__ import annotations

import argparse
import errno
import getpass
import json
import os
import sys
import tempfile
import unicodedata
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from govsig import pkcs11
from govsig._cli_text import shown
from govsig.signing import KeySigner, SigningError, sign_many

# Files are read and signed this many at a time: memory stays bounded for long file lists.
_BATCH = 256


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    s = sub.add_parser("sign", allow_abbrev=False, help="sign files, writing FILE.p7s (detached CMS, DER) beside each",
                       description="Sign each FILE with a software key (--key/--cert) or a key on a "
                       "PKCS#11 token (--pkcs11-module/--token-label/--key-label), writing FILE.p7s. "
                       "The token PIN comes from --pin-env VAR or a prompt, never from the command line.")
    s.add_argument("files", nargs="+", metavar="FILE")
    add_signer_args(s)
    s.add_argument("--attached", action="store_true", help="put the content inside the signature")
    s.add_argument("--digest", choices=("sha256", "sha384", "sha512"), help="default: what the key calls for")
    s.add_argument("--pss", action="store_true", help="RSA-PSS instead of PKCS#1 v1.5 (RSA keys)")
    s.add_argument("--signer-id", choices=("issuer-serial", "ski"), default="issuer-serial",
                   help="identify the signer by issuer and serial (default) or subjectKeyIdentifier")
    s.add_argument("--certificates", choices=("chain", "signer", "none"), default="chain",
                   help="certificates to include (default: signer and --chain)")
    s.add_argument("--suffix", default=".p7s",
                   help="appended to each FILE's name to name its signature, written in the same folder "
                   "(default .p7s); not empty, no '/'")
    s.add_argument("--force", action="store_true", help="overwrite existing signature files")
    s.add_argument("--json", action="store_true", help="print one JSON line per file")
    s.set_defaults(handler=_cmd_sign)

    p = sub.add_parser("pkcs11", help="list PKCS#11 tokens and their signing keys")
    commands = p.add_subparsers(dest="pkcs11_command")
    lst = commands.add_parser("list", help="list the tokens a PKCS#11 module sees")
    _module_arg(lst, required=True)
    lst.add_argument("--json", action="store_true")
    lst.set_defaults(handler=_cmd_list)
    keys = commands.add_parser("keys", allow_abbrev=False, help="log in to a token and list its signing keys")
    _module_arg(keys, required=True)
    keys.add_argument("--token-label")
    keys.add_argument("--slot", type=int)
    _pin_arg(keys)
    keys.add_argument("--json", action="store_true")
    keys.set_defaults(handler=_cmd_keys)
    p.set_defaults(handler=lambda args: _usage(p))


def add_signer_args(s: argparse.ArgumentParser) -> None:
    """The options that choose the signing key: a key file or a key on a PKCS#11 token
    (shared by ``sign`` and ``sign-pdf``)."""
    soft = s.add_argument_group("software key")
    soft.add_argument("--key", metavar="PEM", help="private key file (PEM or DER; PKCS#8, PKCS#1, SEC 1) or PKCS#12 (.p12/.pfx)")
    soft.add_argument("--cert", metavar="PEM", help="the key's certificate (PEM or DER); not needed with PKCS#12")
    soft.add_argument("--key-password-env", metavar="VAR", help="environment variable holding the key or PKCS#12 password")
    tok = s.add_argument_group("PKCS#11 token")
    _module_arg(tok, required=False)
    tok.add_argument("--token-label", help="the token's label (default: the first token)")
    tok.add_argument("--slot", type=int, help="the token's slot id, instead of its label")
    tok.add_argument("--key-label", help="the signing key's label (CKA_LABEL)")
    tok.add_argument("--key-id", metavar="HEX", help="the signing key's id (CKA_ID), hex")
    tok.add_argument("--token-cert", metavar="PEM", help="use this certificate instead of the token's")
    tok.add_argument("--sessions", type=int, default=4, help="sessions in the signing pool (default 4)")
    _pin_arg(tok)
    s.add_argument("--chain", action="append", default=[], metavar="PEM",
                   help="CA certificate file(s) to include after the signer's; repeatable")


def _module_arg(p: Any, required: bool) -> None:
    p.add_argument("--pkcs11-module", "--module", dest="module", required=required, metavar="SO",
                   help="the token vendor's PKCS#11 library (default: $GOVSIG_PKCS11_MODULE)"
                   if not required else "the token vendor's PKCS#11 library")


def _pin_arg(p: Any) -> None:
    # --pin itself is refused on every subcommand (govsig.cli adds it): see _cli_text.
    p.add_argument("--pin-env", metavar="VAR",
                   help="environment variable holding the user PIN (default: prompt)")


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def _fail(message: str, code: int = 1) -> int:
    print(f"govsig: error: {shown(message)}", file=sys.stderr)
    return code


def _read_pin(args: argparse.Namespace) -> bytes:
    """The PIN as the bytes the environment or the terminal gave (not decoded, so a PIN that
    is not UTF-8 reaches C_Login unchanged and never sits in a decoding error)."""
    if args.pin_env:
        value = _environ_bytes(args.pin_env)
        if value is None:
            # The name is not echoed: a user who typed the PIN itself after --pin-env would
            # see it printed (and logged) here.
            raise UsageError("--pin-env: the environment variable it names is not set")
        return value
    if not sys.stdin.isatty():
        raise UsageError("no PIN: pass --pin-env VAR (no terminal to prompt on)")
    typed = getpass.getpass("Token user PIN: ")
    # surrogateescape gives back the bytes of a terminal that is not UTF-8. An encoding
    # error would carry the PIN in its args: it is dropped and a new error raised outside.
    pin: bytes | None = None
    try:
        pin = typed.encode(sys.stdin.encoding or "utf-8", "surrogateescape")
    except UnicodeError:
        pass
    del typed
    if pin is None:
        raise UsageError("the PIN typed cannot be encoded in this terminal's encoding; use --pin-env VAR")
    return pin


def _environ_bytes(name: str) -> bytes | None:
    if os.supports_bytes_environ:
        return os.environb.get(os.fsencode(name))
    value = os.environ.get(name)
    return None if value is None else value.encode("utf-8", "surrogateescape")


class UsageError(Exception):
    pass


def _open_token(args: argparse.Namespace, stack: ExitStack) -> pkcs11.Token:
    pin = _read_pin(args)
    tok = pkcs11.Token.open(args.module, token_label=args.token_label, slot=args.slot, pin=pin)
    del pin
    return stack.enter_context(tok)


def signer_from_args(args: argparse.Namespace, stack: ExitStack) -> Any:
    uses_token = args.module or args.key_label or args.key_id or args.token_label
    if args.key and uses_token:
        raise UsageError("use either --key/--cert or the PKCS#11 options, not both")
    if args.key:
        password = None
        if args.key_password_env:
            pw = _environ_bytes(args.key_password_env)
            if pw is None:
                # Not echoed, as for --pin-env: the "name" may be the password mistyped.
                raise UsageError("--key-password-env: the environment variable it names is not set")
            password = pw
        if Path(args.key).suffix.lower() in (".p12", ".pfx"):
            return KeySigner.from_pkcs12(Path(args.key), password)
        if not args.cert:
            raise UsageError("--key needs --cert (the key's certificate)")
        return KeySigner(Path(args.key), Path(args.cert), [Path(c) for c in args.chain], password=password)
    if not (args.key_label or args.key_id):
        raise UsageError("give --key/--cert, or --key-label/--key-id with --pkcs11-module")
    if not args.module and not os.environ.get("GOVSIG_PKCS11_MODULE"):
        raise UsageError("--pkcs11-module is required (or set GOVSIG_PKCS11_MODULE)")
    tok = _open_token(args, stack)
    try:
        key_id = bytes.fromhex(args.key_id) if args.key_id else None
    except ValueError:
        raise UsageError(f"--key-id {args.key_id!r} is not hex") from None
    return tok.signer(key_label=args.key_label, key_id=key_id,
                      certificate=Path(args.token_cert) if args.token_cert else None,
                      sessions=args.sessions, chain=[Path(c) for c in args.chain])


def _batches(files: list[Path]) -> Iterator[list[Path]]:
    for i in range(0, len(files), _BATCH):
        yield files[i:i + _BATCH]


def _write_atomically(path: Path, data: bytes, overwrite: bool) -> None:
    """Write through a file only this process created (mkstemp: O_CREAT|O_EXCL, random name,
    mode 0600) in the target folder, then rename it into place. A predictable temporary name
    lets anyone who can write the folder plant a symlink there first and have the signature
    written through it onto a file of theirs choosing; a half-written file is never seen
    under ``path``. Without ``overwrite``, an existing ``path`` is kept (link fails with
    FileExistsError) even if it appeared after the check in _cmd_sign."""
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fchmod(f.fileno(), 0o666 & ~_umask())
            os.fsync(f.fileno())
        if overwrite:
            os.replace(tmp, path)
        else:
            _link_no_clobber(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _link_no_clobber(tmp: Path, path: Path) -> None:
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise
    except OSError:
        # Filesystems without hard links (FAT on a USB stick, some shares): the check and
        # the rename are then two steps, racy against a file appearing in between, but the
        # write still never goes through a name anyone could plant.
        if os.path.lexists(path):
            raise FileExistsError(errno.EEXIST, "file exists", str(path)) from None
        os.replace(tmp, path)


def _umask() -> int:
    mask = os.umask(0o077)
    os.umask(mask)
    return mask


def _check_suffix(suffix: str) -> None:
    """A signature is written beside its document, under the document's name plus
    ``suffix``. An empty suffix names the document itself (with --force the signed content
    would be replaced by its own detached signature); a separator ("/../x") would write
    into another folder, and a NUL cannot be in a file name."""
    if not suffix:
        raise UsageError("--suffix is empty: each signature would replace its input file; give one such as .p7s")
    if any(sep in suffix for sep in ("/", os.sep, os.altsep) if sep):
        raise UsageError("--suffix must not hold a path separator: a signature is written in its "
                         "input file's folder, under the file's name plus the suffix")
    if any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in suffix):
        # NUL cannot be in a file name; a line break, an escape or a bidi control in one
        # would make the signature's name lie in listings and logs.
        raise UsageError("--suffix must not hold control or formatting characters (line breaks, "
                         "escapes, NUL, bidi controls)")


def _entry(path: Path) -> tuple[int, int, str]:
    """A directory entry, however its path is spelled (./a, d/../a, a folder reached through
    a symlink): the folder's device and inode, and the name in it."""
    st = path.parent.stat()
    return st.st_dev, st.st_ino, path.name


def _signature_paths(files: list[Path], suffix: str) -> list[Path]:
    """Where each file's signature goes; UsageError when a signature would replace any of
    the input files (``sign a a.p7s``: a's signature over the document a.p7s)."""
    _check_suffix(suffix)
    inputs = {_entry(f) for f in files}
    outs = []
    for f in files:
        name = f.name + suffix
        out = f.with_name(name)
        if name in (".", "..") or _entry(out) in inputs:
            raise UsageError(f"the signature of {f} would be written over the input file {out}; "
                             "choose another --suffix")
        outs.append(out)
    return outs


def _cmd_sign(args: argparse.Namespace) -> int:
    files = [Path(f) for f in args.files]
    try:
        for f in files:
            if not f.is_file():
                return _fail(f"{f}: not a file", 2)
        outs = _signature_paths(files, args.suffix)
        for out in outs:
            if out.exists() and not args.force:
                return _fail(f"{out} exists; pass --force to overwrite it", 2)
    except UsageError as exc:
        return _fail(str(exc), 2)
    except OSError as exc:  # a name too long for the filesystem, a folder that cannot be searched
        return _fail(f"{exc.filename or ''}: {exc.strerror or exc}", 2)
    except ValueError as exc:  # a NUL in a FILE (possible only from Python, not from argv)
        return _fail(str(exc), 2)
    signature_of = dict(zip(files, outs))
    with ExitStack() as stack:
        try:
            signer = signer_from_args(args, stack)
            done = 0
            for batch in _batches(files):
                contents = [f.read_bytes() for f in batch]
                sigs = sign_many(contents, signer, detached=not args.attached, digest=args.digest,
                                 rsa_pss=args.pss, certificates=args.certificates,
                                 signer_identifier="subject_key_identifier" if args.signer_id == "ski" else "issuer_serial")
                for f, sig in zip(batch, sigs):
                    out = signature_of[f]
                    _write_atomically(out, sig, overwrite=args.force)
                    done += 1
                    if args.json:
                        print(json.dumps({"file": str(f), "signature": str(out), "bytes": len(sig)}))
        except UsageError as exc:
            return _fail(str(exc), 2)
        except (SigningError, pkcs11.Pkcs11Error) as exc:
            return _fail(str(exc))
        except FileExistsError as exc:
            return _fail(f"{exc.filename2 or exc.filename or ''} appeared while signing; pass --force to overwrite it", 2)
        except OSError as exc:
            return _fail(f"{exc.filename or ''}: {exc.strerror or exc}")
        except ValueError as exc:  # e.g. --key or --cert naming a FIFO or a device
            return _fail(str(exc), 2)
    if not args.json:
        print(f"signed {done} file{'s' if done != 1 else ''} ({shown(args.suffix)} beside each)", file=sys.stderr)
    return 0


def _cmd_list(args: argparse.Namespace) -> int:
    try:
        tokens = pkcs11.list_tokens(args.module)
    except pkcs11.Pkcs11Error as exc:
        return _fail(str(exc))
    if args.json:
        for t in tokens:
            print(json.dumps({"slot": t.slot_id, "label": t.label, "manufacturer": t.manufacturer,
                              "model": t.model, "serial": t.serial, "flags": t.flags}))
        return 0
    if not tokens:
        print("no tokens present")
    for t in tokens:
        state = [name for name in ("user_pin_locked", "user_pin_final_try", "user_pin_count_low")
                 if t.flags.get(name)]
        print(f"slot {t.slot_id}: {t.label!r}  {shown(t.manufacturer)} {shown(t.model)}  serial {shown(t.serial)}"
              + (f"  [{', '.join(state)}]" if state else ""))
    return 0


def _cmd_keys(args: argparse.Namespace) -> int:
    with ExitStack() as stack:
        try:
            tok = _open_token(args, stack)
            keys = tok.keys()
        except UsageError as exc:
            return _fail(str(exc), 2)
        except pkcs11.Pkcs11Error as exc:
            return _fail(str(exc))
    for k in keys:
        subject = k.certificate.subject.rfc4514_string() if k.certificate else None
        if args.json:
            print(json.dumps({"label": k.label, "id": k.id.hex(), "key_type": k.key_type,
                              "bits": k.bits, "certificate_subject": subject}))
        else:
            print(f"{k.label!r} id {k.id.hex() or '-'}  {k.key_type}"
                  + (f" {k.bits}" if k.bits else "") + f"  certificate: {shown(subject or 'none')}")
    return 0
