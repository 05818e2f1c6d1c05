"""What decided a verdict, kept: the certificates, CRLs and OCSP responses (DER) behind it.

``VerifyResult.evidence``, ``PdfResult.evidence`` (over every signature and document
time-stamp of the PDF; what its DSS carried counts only where it decided) and
``BatchResult.evidence()`` (CMS and PDF results alike) hand it back: the validated path of
each signer (for ``cert_revoked`` / ``cert_on_hold``: the path that was refused), the CRLs
(complete and delta) and OCSP responses that decided each certificate's status, and for each
valid signature time-stamp its TSA's path and evidence; where an indirect CRL's signer or a
delegated OCSP responder decided a status, its path and its own evidence too; issuers fetched
by caIssuers appear as the path's certificates. Fed back as
``Policy(intermediates=ev.certificates, crls=ev.crls, ocsp_responses=ev.ocsp_responses)``
with the same anchors and ``at`` and no fetcher, it reproduces the verdicts offline.
"""
from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Evidence"]


@dataclass(frozen=True)
class Evidence:
    """DER certificates, CRLs and OCSP responses, each once, in the order first met."""

    certificates: tuple[bytes, ...] = ()
    crls: tuple[bytes, ...] = ()
    ocsp_responses: tuple[bytes, ...] = ()

    def __len__(self) -> int:
        return len(self.certificates) + len(self.crls) + len(self.ocsp_responses)
