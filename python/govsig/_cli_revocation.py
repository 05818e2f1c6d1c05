"""The revocation options of every command that verifies (``verify``, ``verify-archive``,
``inventory``): one definition and one reading, so the commands cannot drift apart."""
from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Optional

from govsig._cli_text import shown
from govsig._policy import Policy
from govsig._regular import read_regular_file

if TYPE_CHECKING:
    from govsig.fetch import HttpFetcher

__all__ = ["REVOCATION_MODES", "OptionError", "add_revocation_args", "revocation_options"]

REVOCATION_MODES = ("off", "soft-fail", "hard-fail")


class OptionError(Exception):
    """An operator mistake in the options: one line for standard error, exit status 2."""


def add_revocation_args(p: argparse.ArgumentParser) -> None:
    """``--revocation``, ``--crl``, ``--ocsp-response``, ``--fetch`` and ``--cache-dir``."""
    p.add_argument("--revocation", choices=REVOCATION_MODES, default="soft-fail",
                   help="soft-fail (default): an unknown status passes; hard-fail: it fails; off: not checked")
    p.add_argument("--crl", action="append", default=[], metavar="FILE", help="a CRL (DER or PEM); repeatable")
    p.add_argument("--ocsp-response", action="append", default=[], metavar="FILE",
                   help="an OCSP response (DER); repeatable")
    p.add_argument("--fetch", action="store_true",
                   help="fetch missing CRLs and OCSP responses over HTTP (CDP/AIA; http_proxy/no_proxy honoured)")
    p.add_argument("--cache-dir", metavar="DIR", help="with --fetch: keep fetched evidence in this folder")


def _read_evidence(option: str, paths: list[str]) -> list[bytes]:
    out = []
    for p in paths:
        try:
            out.append(read_regular_file(p, "a CRL or OCSP response"))
        except OSError as e:
            raise OptionError(f"{option} {shown(p)}: {shown(e.strerror)}") from None
        except ValueError as e:  # a FIFO or a device: the message names the file
            raise OptionError(f"{option}: {shown(str(e))}") from None
    return out


def revocation_options(args: argparse.Namespace, policy: Policy) -> tuple[Policy, Optional["HttpFetcher"]]:
    """``policy`` with the revocation mode and the evidence files of the options, and the
    fetcher ``--fetch`` asks for (None without it). OptionError says what to change."""
    if args.cache_dir and not args.fetch:
        raise OptionError("--cache-dir is where --fetch keeps what it fetched; add --fetch, or drop --cache-dir")
    crls = _read_evidence("--crl", args.crl)
    ocsp = _read_evidence("--ocsp-response", args.ocsp_response)
    try:
        policy = policy.replace(revocation=args.revocation, crls=crls, ocsp_responses=ocsp)
    except ValueError as e:
        raise OptionError(shown(e)) from None
    if not args.fetch:
        return policy, None
    from govsig.fetch import HttpFetcher

    try:
        return policy, HttpFetcher(cache_dir=args.cache_dir)
    except (OSError, ValueError) as e:
        raise OptionError(f"--cache-dir: {shown(e)}") from None
