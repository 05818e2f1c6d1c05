"""What the command line needs to print text it does not control, and to refuse secrets.

Subjects, reasons, token labels and file names come from documents, tokens and folders that
anyone can craft. Printed raw, an ESC sequence rewrites the terminal (title, colours, a
cleared screen hiding earlier lines), a newline forges a line such as ``OK: ...`` that a
script or a reader trusts, and U+202E reorders what is shown. :func:`shown` escapes them.
"""
from __future__ import annotations

import argparse
import json
import unicodedata
from typing import Any

# Cc: C0/C1 controls and DEL; Cf: bidi overrides, zero-width characters; Zl/Zp: line and
# paragraph separators; Cs: lone surrogates (undecodable file names), which would also make
# print() raise.
_UNSAFE = frozenset(("Cc", "Cf", "Zl", "Zp", "Cs"))


def _escape(c: str) -> str:
    n = ord(c)
    if n < 0x100:
        return f"\\x{n:02x}"
    if n < 0x10000:
        return f"\\u{n:04x}"
    return f"\\U{n:08x}"


def shown(value: object) -> str:
    """``str(value)`` with every control, format and separator character escaped
    (``\\x1b``, ``\\u202e``), so untrusted text prints as one inert line."""
    text = str(value)
    # str.isprintable() is False for every category escaped here (and for others): a
    # printable text, Vietnamese names included, needs no look at each character.
    if text.isprintable():
        return text
    return "".join(_escape(c) if unicodedata.category(c) in _UNSAFE else c for c in text)


def inert_json(value: Any, **kw: Any) -> str:
    """``json.dumps(value, ensure_ascii=False, **kw)`` with every control, format and
    separator character written as a ``\\uXXXX`` escape. JSON escapes only C0 controls, so
    DEL, C1 controls (NEL splits a line for ``str.splitlines``, 0x9b is an 8-bit CSI), the
    line separators U+2028/U+2029 and bidi overrides (U+202E) would be printed raw; escaped,
    the text still loads back to the same value and stays one inert line."""
    return inert_json_text(json.dumps(value, ensure_ascii=False, **kw))


def inert_json_text(text: str) -> str:
    """JSON text (e.g. from the Rust serialiser) with the characters ``inert_json`` escapes
    escaped the same way: outside strings JSON has none of them, so this is safe on any
    JSON text and loads to the same value. Tab, CR and LF are left alone: inside strings JSON
    has already escaped them, and outside they are layout (``indent=``)."""
    # str.isprintable() is False for every category escaped here (and for others): a
    # printable text, Vietnamese names included, needs no look at each character.
    if text.isprintable():
        return text
    return "".join(_json_escape(c) if c not in "\t\r\n" and unicodedata.category(c) in _UNSAFE else c
                   for c in text)


def _json_escape(c: str) -> str:
    n = ord(c)
    if n < 0x10000:
        return f"\\u{n:04x}"
    n -= 0x10000
    return f"\\u{0xD800 + (n >> 10):04x}\\u{0xDC00 + (n & 0x3FF):04x}"


class RefuseSecret(argparse.Action):
    """An option that exists only to be refused without echoing its value: argparse would
    print an unknown ``--pin 1234`` back in its "unrecognized arguments" error, and would
    take ``--pin`` as an abbreviation of ``--pin-env`` and later print the PIN as a
    variable name."""

    def __init__(self, option_strings: Any, dest: str, **kwargs: Any) -> None:
        kwargs.setdefault("nargs", "?")
        kwargs.setdefault("help", argparse.SUPPRESS)
        super().__init__(option_strings, dest, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Any, option_string: Any = None) -> None:
        parser.error(f"govsig never takes a secret on the command line ({option_string} was refused; "
                     "other users see argv in ps, and shells keep it in history): name an environment "
                     "variable with --pin-env / --key-password-env, or answer the prompt")


# Options that would carry a secret itself; every subcommand refuses them.
SECRET_OPTIONS = ("--pin", "--user-pin", "--so-pin", "--password", "--key-password")


def refuse_secrets(parser: argparse.ArgumentParser) -> None:
    """Add the refusing secret options to ``parser`` (a subcommand)."""
    parser.add_argument(*SECRET_OPTIONS, dest="_refused_secret", action=RefuseSecret)
