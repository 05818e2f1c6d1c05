"""CAdES signatures made by another tool (issue 13, "real components"): pyHanko signs with
a signature time-stamp and a content time-stamp from the loopback TSA (``openssl ts``);
govsig verifies them, and its signature time agrees with pyHanko's own validator.
"""
from __future__ import annotations

import asyncio
import warnings

import pytest

import govsig
import pdfsign
from test_signature_time import World

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from pyhanko.sign import timestamps
    from pyhanko.sign.ades.api import CAdESSignedAttrSpec
    from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes
    from pyhanko.sign.validation.generic_cms import async_validate_detached_cms


@pytest.fixture(scope="module")
def w(openssl: str, tmp_path_factory: pytest.TempPathFactory):
    world = World(tmp_path_factory.mktemp("pyhanko_cades"), openssl)
    yield world
    world.close()


def pyhanko_cades(w: World, content: bytes, *, content_timestamp: bool) -> bytes:
    settings = PdfCMSSignedAttributes(cades_signed_attrs=CAdESSignedAttrSpec(timestamp_content=content_timestamp))
    signer = pdfsign.pyhanko_signer(w.signer)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ci = asyncio.run(signer.async_sign_general_data(
            content, "sha256", detached=True, use_cades=True,
            timestamper=timestamps.HTTPTimeStamper(w.tsa.url), signed_attr_settings=settings))
    return bytes(ci.dump())


def pyhanko_signature_time(w: World, sig: bytes, content: bytes):  # type: ignore[no-untyped-def]
    from asn1crypto import cms as a_cms

    vc = pdfsign.validation_context([w.p.root, w.p.tsa_root])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        status = asyncio.run(async_validate_detached_cms(
            content, a_cms.ContentInfo.load(sig)["content"], signer_validation_context=vc,
            ts_validation_context=vc))
    return status


@pytest.mark.parametrize("content_timestamp", [False, True])
def test_pyhanko_cades_t_verifies_with_the_same_signature_time(w: World, content_timestamp: bool) -> None:
    sig = pyhanko_cades(w, w.content, content_timestamp=content_timestamp)
    status = pyhanko_signature_time(w, sig, w.content)
    assert status.bottom_line and status.timestamp_validity is not None
    # Checked a decade later: expired certificates, judged at the time-stamp's time.
    s = w.verify(sig)
    assert (s.code, s.signature_time_source, s.warnings) == ("ok", "timestamp", [])
    assert s.signature_time == status.timestamp_validity.timestamp.replace(microsecond=0)
    kinds = [(t.kind, t.code) for t in s.timestamps]
    assert kinds == [("signature", "ok")] + ([("content", "ok")] if content_timestamp else [])
    if content_timestamp:
        assert status.content_timestamp_validity is not None
        assert s.timestamps[1].gen_time == status.content_timestamp_validity.timestamp
    # Today's answer for the same document is still "expired".
    assert w.verify(sig, signature_time="at").code == "cert_expired"
    # Other content: pyHanko's time-stamps do not rescue a bad digest.
    r = govsig.Verifier(w.policy()).verify(sig, b"other content")
    assert r.code == "digest_mismatch"
