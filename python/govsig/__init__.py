"""govsig: verify CMS/PKCS#7 signatures in bulk, validate RFC 5280 chains, hash dossiers.

The heavy lifting happens in the Rust core (``govsig._govsig``); this package is the thin,
friendly surface: argument conversion, file I/O and the command line.
"""
from __future__ import annotations

from govsig._govsig import __version__
from govsig.dossier import (
    DOSSIER_ERROR_CODES,
    BagError,
    Dossier,
    DossierDiff,
    DossierError,
    HashError,
    HashProgress,
    InclusionProof,
    verify_inclusion,
)

__all__ = [
    "__version__",
    # dossiers
    "DOSSIER_ERROR_CODES",
    "BagError",
    "Dossier",
    "DossierDiff",
    "DossierError",
    "HashError",
    "HashProgress",
    "InclusionProof",
    "verify_inclusion",
]
