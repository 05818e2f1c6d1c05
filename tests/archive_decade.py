"""A signed archive over a simulated decade, for the signature-time tests (issue 13).

Five officials sign in turn, each with a certificate valid two years; every signature is
made within its signer's validity and stamped at once by a real TSA (``openssl ts -reply``,
tests/tsa_server.py). The archive is then checked "today", ten years on, when every signer
certificate has long expired.

How the decade is simulated: ``openssl ts -reply`` takes genTime from the system clock and
has no option to set it, and faketime is not available, so the TSA cannot be sent back in
time. Instead the verifier is sent forward: the signing moment is the real now, the
certificate windows are placed around it (each signer's two years start at a different
point, between 4 and 20 months before the signature), and "today" is ``now + 10 years``
(the policy's ``at``). What the tests check is the same relation: stamped inside each
certificate's validity, verified years after every one expired. The TSA and its CA are valid
to 2050, so the time-stamps are trustworthy "today".

Deterministic: keys and certificates come from tests/pki.py's seeded derivation, the names and
validity offsets are fixed; only genTime (the real clock) differs from run to run.

Run as a script to write the archive into a folder:
``python tests/archive_decade.py OUT_DIR`` (needs openssl on PATH).
"""
from __future__ import annotations

import datetime as dt
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pki
from tsa_server import Tsa, make_tsa_certificate

import govsig._govsig as _g

UTC = dt.timezone.utc
YEAR = dt.timedelta(days=365)
OFFICIALS = ["Lê Văn An", "Phạm Thị Bình", "Hoàng Văn Cường", "Vũ Thị Dung", "Đặng Văn Em"]


def now() -> dt.datetime:
    return dt.datetime.now(UTC).replace(microsecond=0)


@dataclass
class ArchivePki:
    signing_moment: dt.datetime
    root: pki.Issued
    ca: pki.Issued
    tsa_root: pki.Issued
    tsa: pki.Issued
    signers: list[pki.Issued] = field(default_factory=list)


def make_pki(signing_moment: dt.datetime) -> ArchivePki:
    root = pki.make_root("Archive Root CA", seed="archive-root")
    ca = pki.make_intermediate("Archive Issuing CA", root, seed="archive-ca")
    tsa_root = pki.make_root("Archive TSA Root", seed="archive-tsa-root")
    tsa = make_tsa_certificate("Archive TSA", tsa_root, not_before=pki.CA_NOT_BEFORE,
                               not_after=pki.CA_NOT_AFTER)
    out = ArchivePki(signing_moment, root, ca, tsa_root, tsa)
    for k, name in enumerate(OFFICIALS):
        # Two years each, starting 4, 8, ... 20 months before the signature.
        start = signing_moment - dt.timedelta(days=120 * (k + 1))
        out.signers.append(pki.make_leaf(name, ca, seed=f"archive-signer-{k}", not_before=start,
                                         not_after=start + 2 * YEAR))
    return out


def document(k: int) -> bytes:
    return f"Quyết định số {k + 1}/QĐ-UBND lưu trữ".encode()


def signature_value(cms_der: bytes) -> bytes:
    from asn1crypto import cms as a_cms

    sv: bytes = a_cms.ContentInfo.load(cms_der)["content"]["signer_infos"][0]["signature"].native
    return sv


def with_tokens(cms_der: bytes, tokens: list[bytes]) -> bytes:
    """``cms_der`` with ``tokens`` as the first signer's signature time-stamps, in this order."""
    return bytes(_g.cms_add_signature_timestamps(cms_der, [tokens]))


def build(tsa: Tsa, p: ArchivePki) -> list[tuple[bytes, bytes]]:
    """(detached signature, document) per official, each stamped by ``tsa``."""
    out = []
    for k, signer in enumerate(p.signers):
        content = document(k)
        sig = pki.sign_cms(content, signer, signing_time=p.signing_moment)
        out.append((with_tokens(sig, [tsa.stamp(signature_value(sig))]), content))
    return out


def main(out_dir: str) -> None:
    dest = Path(out_dir)
    dest.mkdir(parents=True, exist_ok=True)
    p = make_pki(now())
    with Tsa(dest / "tsa", pki.openssl_binary(), signer=p.tsa) as tsa:
        for k, (sig, content) in enumerate(build(tsa, p)):
            (dest / f"doc{k}.txt").write_bytes(content)
            (dest / f"doc{k}.txt.p7s").write_bytes(sig)
    (dest / "trust.pem").write_bytes(pki.pem_bundle([p.root, p.tsa_root]))


if __name__ == "__main__":
    main(sys.argv[1])
