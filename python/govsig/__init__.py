"""govsig: verify CMS/PKCS#7 signatures in bulk, validate RFC 5280 chains, hash dossiers.

The heavy lifting happens in the Rust core (``govsig._govsig``); this package is the thin,
friendly surface: argument conversion, file I/O and the command line.
"""
from __future__ import annotations

from govsig.evidence import Evidence
from govsig._policy import (
    ANY_POLICY,
    KEY_USAGE_NAMES,
    REVOCATION_MODES,
    TIME_SOURCES,
    Policy,
    TrustStore,
    code_descriptions,
    codes,
    policy_defaults,
    policy_knobs,
)
from govsig._govsig import BatchResult, PathResult, PdfResult, SignerResult, TimestampResult, VerifyResult
from govsig._verifier import Verifier
from govsig._crl import Crl, RevokedEntry
from govsig._warnings import warning_descriptions
from govsig._inventory import Inventory, inventory
from govsig._records import BatchRecords, SignerRecord, VerifyRecord
from govsig.fetch import BulkFetcher, Fetcher, FetchError, HttpFetcher
from govsig._govsig import BUILD_PROFILE, InternalError, PdfSignature, __version__
from govsig._threads import MAX_THREADS
from govsig import ocsp, pkcs11
from govsig.pkcs11 import Pkcs11Error
from govsig.signing import KeySigner, SigningError, sign, sign_many
from govsig._pdf_sign import PdfSigningError, sign_pdf
from govsig.timestamps import TimestampError, TsaClient, add_timestamps
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
    "BUILD_PROFILE",
    "InternalError",
    "MAX_THREADS",
    "codes",
    "code_descriptions",
    "warning_descriptions",
    "KEY_USAGE_NAMES",
    "REVOCATION_MODES",
    "TIME_SOURCES",
    "Evidence",
    "policy_knobs",
    "policy_defaults",
    "ANY_POLICY",
    "PathResult",
    "TrustStore",
    "Policy",
    "Verifier",
    "VerifyResult",
    "SignerResult",
    "BatchResult",
    # archive reports
    "inventory",
    "Inventory",
    "VerifyRecord",
    "SignerRecord",
    "BatchRecords",
    "PdfResult",
    "PdfSignature",
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
    # revocation
    "Crl",
    "RevokedEntry",
    "FetchError",
    "HttpFetcher",
    "Fetcher",
    "BulkFetcher",
    "ocsp",
    # signing
    "KeySigner",
    "SigningError",
    "Pkcs11Error",
    "pkcs11",
    "sign",
    "sign_many",
    "sign_pdf",
    "PdfSigningError",
    # time-stamps (RFC 3161)
    "TimestampResult",
    "TimestampError",
    "TsaClient",
    "add_timestamps",
]
