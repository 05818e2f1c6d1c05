"""govsig: verify CMS/PKCS#7 signatures in bulk, validate RFC 5280 chains, hash dossiers.

The heavy lifting happens in the Rust core (``govsig._govsig``); this package is the thin,
friendly surface: argument conversion, file I/O and the command line.
"""
from __future__ import annotations

from govsig._api import (
    KEY_USAGE_NAMES,
    BatchResult,
    Policy,
    SignerResult,
    TrustStore,
    Verifier,
    VerifyResult,
    code_descriptions,
    codes,
)
from govsig._crl import Crl, RevokedEntry
from govsig._govsig import BUILD_PROFILE, __version__

__all__ = [
    "__version__",
    "BUILD_PROFILE",
    "codes",
    "code_descriptions",
    "KEY_USAGE_NAMES",
    "TrustStore",
    "Policy",
    "Verifier",
    "VerifyResult",
    "SignerResult",
    "BatchResult",
    "Crl",
    "RevokedEntry",
]
