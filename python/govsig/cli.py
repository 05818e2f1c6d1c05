"""The ``govsig`` command line. Each feature registers its own subcommands."""
from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def build_parser() -> argparse.ArgumentParser:
    # A one-line usage: the list of commands is in --help, not in every error message.
    parser = argparse.ArgumentParser(prog="govsig", description=__doc__,
                                     usage="govsig [--version] COMMAND ... (govsig --help lists the commands)")
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command")
    # Feature modules add their subcommands here; each exposes register(subparsers).
    from govsig import _cli_dossier, _cli_verify
    from govsig import _cli_sign, _cli_sign_pdf
    from govsig import _cli_timestamp

    _cli_verify.register(sub)
    _cli_dossier.register(sub)
    _cli_sign.register(sub)
    _cli_sign_pdf.register(sub)
    _cli_timestamp.register(sub)
    from govsig import _cli_inventory, _cli_report

    _cli_report.register(sub)
    _cli_inventory.register(sub)
    _refuse_secrets_everywhere(parser)
    return parser


def _refuse_secrets_everywhere(parser: argparse.ArgumentParser) -> None:
    """Every command, present and future, refuses a PIN or password given on the command
    line, without echoing it (see govsig._cli_text.RefuseSecret)."""
    from govsig._cli_text import SECRET_OPTIONS, refuse_secrets

    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in {id(p): p for p in action.choices.values()}.values():
                _refuse_secrets_everywhere(child)
    if not any(o in parser._option_string_actions for o in SECRET_OPTIONS):
        refuse_secrets(parser)


def _unrecognized(extras: list[str]) -> str:
    """argparse's "unrecognized arguments" error without the values: a mistyped secret
    option (``--pni 1234``, a PIN after an option that takes none) would be printed back,
    into logs and scrollback. Option names are shown; everything else is counted."""
    from govsig._cli_text import shown

    options = [t for t in extras if t[:2] == "--" or (t[:1] == "-" and t[1:2].isalpha())]
    hidden = len(extras) - len(options) + sum("=" in t for t in options)
    text = "unrecognized arguments: " + " ".join(shown(t.split("=", 1)[0]) for t in options)
    if hidden:
        text += f"{' and ' if options else ''}{hidden} value(s), not shown (one may be a secret)"
    return text


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, extras = parser.parse_known_args(argv)
    if extras:
        parser.error(_unrecognized(extras))
    # What was typed, for messages that tell how to run the command again (e.g. resume).
    args.argv = list(argv) if argv is not None else sys.argv[1:]
    if args.version:
        from govsig import __version__

        print(__version__)
        return 0
    if not getattr(args, "handler", None):
        parser.print_help(sys.stderr)
        return 2
    return int(args.handler(args))
