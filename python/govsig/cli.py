"""The ``govsig`` command line. Each feature registers its own subcommands."""
from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from typing import NoReturn


def build_parser() -> argparse.ArgumentParser:
    # A one-line usage: the list of commands is in --help, not in every error message.
    # Subcommand parsers are made by add_parser with the parent's class: all are _Parser.
    parser: argparse.ArgumentParser = _Parser(prog="govsig", description=__doc__,
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


# argparse errors that quote what was typed: an abbreviation matching several options
# ("--p=1234": --pin or --password?) is echoed whole, value included, and a value glued to
# a flag that takes none ("--force=1234", "-h1234") is quoted.
_AMBIGUOUS = re.compile(r"(ambiguous option: -{1,2}[^=\s]*)=.*( could match )", re.S)
_IGNORED_VALUE = re.compile(r"ignored explicit argument .*", re.S)
# argparse quotes a value it refuses ("invalid choice: 'x'", "invalid int value: 'x'"): a
# secret typed where a command, a choice or a number belongs.
_REFUSED_VALUE = re.compile(r"invalid (choice|[\w.]+ value): '.*?'(?= \(choose from|$)", re.S)


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors never quote a value glued to an option: it may be a
    PIN or password typed where it does not belong, and would reach scrollback and logs."""

    def error(self, message: str) -> NoReturn:
        message = _AMBIGUOUS.sub("\\1=\u2026\\2", message)
        message = _IGNORED_VALUE.sub("ignored the value glued to it (not shown)", message)
        message = _REFUSED_VALUE.sub("invalid \\1 (the value is not shown)", message)
        super().error(message)


def _option_shown(token: str, known: frozenset[str] = frozenset()) -> tuple[str, bool]:
    """An unrecognised option as an error shows it, and whether a glued value was hidden.
    ``known`` holds every option string of the command line (of all subcommands)."""
    from govsig._cli_text import SECRET_OPTIONS, shown

    if token[:2] == "--":
        name, eq, _ = token.partition("=")
        if name in known:
            return shown(name), bool(eq)
        # "--pin1234": a secret option's name with the secret run on. (The options that
        # name an environment variable holding the secret are shown whole.)
        for secret in SECRET_OPTIONS:
            if name.lower().startswith(secret) and name not in ("--pin-env", "--key-password-env"):
                return secret + "\u2026", True
        # "--pimatkhau", "--pnimatkhau": what begins like a secret option may be one mistyped
        # with the secret run on; only as much as some real option begins with is shown.
        # Other unknown options ("--frobnicate") are shown whole, to be corrected.
        if any(_common_prefix(name.lower(), secret) > 2 for secret in SECRET_OPTIONS):
            keep = max(2, max((_common_prefix(name, k) for k in known), default=2))
            if keep < len(name):
                return shown(name[:keep]) + "\u2026", True
        return shown(name), bool(eq)
    # "-p1234": a short option takes its value glued on (`pkcs11-tool -p PIN`), so all
    # after the letter may be the secret.
    if len(token) > 2:
        return shown(token[:2]) + "\u2026", True
    return shown(token), False


def _common_prefix(a: str, b: str) -> int:
    """How many leading characters ``a`` and ``b`` share."""
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


def _option_strings(parser: argparse.ArgumentParser) -> frozenset[str]:
    """Every long option string of ``parser`` and its subcommands."""
    out: set[str] = set()
    todo = [parser]
    while todo:
        p = todo.pop()
        for action in p._actions:
            out.update(o for o in action.option_strings if o.startswith("--"))
            if isinstance(action, argparse._SubParsersAction):
                todo.extend(action.choices.values())
    return frozenset(out)


def _unrecognized(extras: list[str], known: frozenset[str] = frozenset()) -> str:
    """argparse's "unrecognized arguments" error without the values: a mistyped secret
    option (``--pni 1234``, a PIN after an option that takes none, ``-p1234``) would be
    printed back, into logs and scrollback. Option names are shown (a short option by its
    letter only); everything else is counted."""
    options = [_option_shown(t, known) for t in extras if t[:2] == "--" or (t[:1] == "-" and t[1:2].isalpha())]
    hidden = len(extras) - len(options) + sum(glued for _, glued in options)
    text = "unrecognized arguments: " + " ".join(name for name, _ in options)
    if hidden:
        text += f"{' and ' if options else ''}{hidden} value(s), not shown (one may be a secret)"
    return text


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, extras = parser.parse_known_args(argv)
    if extras:
        parser.error(_unrecognized(extras, _option_strings(parser)))
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
