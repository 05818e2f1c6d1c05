"""The catalogue of signer warnings (``SignerResult.warnings`` holds their codes)."""
from __future__ import annotations

from govsig import _govsig


def warning_descriptions() -> dict[str, str]:
    """``{code: what it means}`` for every signer warning code. A signer's
    ``warning_details`` gives the text about its own case, ``[(code, detail)]``."""
    return dict(_govsig.warning_descriptions())
