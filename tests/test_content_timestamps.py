"""Content time-stamps (issue 13 item 2): the signed attribute id-aa-ets-contentTimestamp
(1.2.840.113549.1.9.16.2.20, RFC 5126 §5.11.4, ETSI EN 319 122-1 §5.2.8) holds a time-stamp
token whose messageImprint is the hash of the content (the eContent value octets, or the
detached content). It proves the content existed at its genTime: a lower bound on the
signing time, never the signature time itself. Tokens come from a real TSA
(``openssl ts -reply``, tests/tsa_server.py).
"""
from __future__ import annotations

import datetime as dt

import pytest
from asn1crypto import cms as a_cms

import archive_decade as ad
import govsig
import pki
from test_signature_time import DAY, World, forge, tst_info_of

CONTENT_TIME_STAMP = "1.2.840.113549.1.9.16.2.20"


@pytest.fixture(scope="module")
def w(openssl: str, tmp_path_factory: pytest.TempPathFactory):
    world = World(tmp_path_factory.mktemp("content_ts"), openssl)
    yield world
    world.close()


def content_stamped(w: World, tokens: list[bytes], *, content: bytes | None = None,
                    signing_time: dt.datetime | None = None, detached: bool = True) -> bytes:
    """A signature over ``content`` (default w.content) whose signed attributes carry
    ``tokens`` as content time-stamps, signed now (after the tokens were made: a signingTime
    before a content time-stamp is a warning)."""
    attr = a_cms.CMSAttribute({"type": CONTENT_TIME_STAMP,
                               "values": [a_cms.ContentInfo.load(t) for t in tokens]})
    return pki.sign_cms(w.content if content is None else content, w.signer, engine="native",
                        detached=detached, signing_time=signing_time or dt.datetime.now(dt.timezone.utc),
                        extra_attrs=[attr])


def test_the_attribute_type_is_the_etsi_oid() -> None:
    assert a_cms.CMSAttributeType("content_time_stamp").dotted == CONTENT_TIME_STAMP


@pytest.mark.parametrize("detached", [True, False])
def test_content_and_signature_timestamps_are_both_judged_and_reported(w: World, detached: bool) -> None:
    sig = content_stamped(w, [w.tsa.stamp(w.content)], detached=detached)
    sig = ad.with_tokens(sig, [w.stamp(sig)])
    s = w.verify(sig, None if not detached else w.content)
    assert (s.code, s.signature_time_source, s.warnings) == ("ok", "timestamp", [])
    assert [(t.kind, t.code) for t in s.timestamps] == [("signature", "ok"), ("content", "ok")]
    sig_ts, content_ts = s.timestamps
    # The signature time is the signature time-stamp's, never the content time-stamp's.
    assert s.signature_time == sig_ts.gen_time.replace(microsecond=0)
    assert content_ts.gen_time <= sig_ts.gen_time
    assert content_ts.tsa_subject == sig_ts.tsa_subject and content_ts.hash_algorithm == "sha256"
    # Its TSA chain is kept as evidence like the signature time-stamp's.
    r = govsig.Verifier(w.policy()).verify(sig, w.content if detached else None)
    assert set(content_ts.chain) <= set(r.evidence.certificates)


def test_a_content_timestamp_alone_does_not_move_the_signature_time(w: World) -> None:
    sig = content_stamped(w, [w.tsa.stamp(w.content)])
    s = w.verify(sig)
    # The content existed at genTime; when it was signed, nothing says: judged at `at`.
    assert (s.code, s.signature_time_source, s.signature_time) == ("cert_expired", "at", w.today)
    assert [(t.kind, t.code) for t in s.timestamps] == [("content", "ok")]
    # require_timestamp asks for a signature time-stamp; a content one is not that.
    assert w.verify(sig, require_timestamp=True).code == "timestamp_missing"


def test_a_content_timestamp_of_other_content_is_reported_not_used(w: World) -> None:
    sig = content_stamped(w, [w.tsa.stamp(b"another document")])
    sig = ad.with_tokens(sig, [w.stamp(sig)])
    s = w.verify(sig)
    assert (s.code, s.signature_time_source) == ("ok", "timestamp")
    assert [(t.kind, t.code) for t in s.timestamps] == [("signature", "ok"),
                                                          ("content", "timestamp_imprint_mismatch")]


def test_a_content_timestamp_from_an_untrusted_tsa_is_reported(w: World) -> None:
    sig = content_stamped(w, [w.tsa.stamp(w.content), w.stranger.stamp(w.content)])
    s = w.verify(sig)
    assert sorted(t.code for t in s.timestamps if t.kind == "content") == ["ok", "timestamp_untrusted"]


def test_a_signature_timestamp_before_the_content_timestamp_fails_the_signer(w: World) -> None:
    # A genuine TSA key stamping the content a day after the signature was stamped: the two
    # cannot both be true (ETSI EN 319 102-1 time-stamp order).
    later = forge(_shifted(tst_info_of(w.tsa.stamp(w.content)), DAY), w.p.tsa)
    sig = content_stamped(w, [later])
    sig = ad.with_tokens(sig, [w.stamp(sig)])
    s = w.verify(sig)
    assert s.code == "timestamp_order_failure"
    assert "earlier than the content time-stamp" in s.reason
    assert [(t.kind, t.code) for t in s.timestamps] == [("signature", "ok"), ("content", "ok")]
    # A content time-stamp within the TSAs' accuracy of the signature one is consistent.
    close = forge(_shifted(tst_info_of(w.tsa.stamp(w.content)), dt.timedelta(seconds=1)), w.p.tsa)
    sig = content_stamped(w, [close])
    assert w.verify(ad.with_tokens(sig, [w.stamp(sig)])).code == "ok"


def test_a_signing_time_before_the_content_existed_is_a_warning(w: World) -> None:
    sig = content_stamped(w, [w.tsa.stamp(w.content)], signing_time=w.moment - 3 * DAY)
    s = w.verify(sig, signature_time="claimed")
    assert (s.code, s.signature_time_source) == ("ok", "claimed")
    assert s.warnings == ["signing_time_before_content_timestamp"]


def test_signature_time_at_reads_no_content_timestamps(w: World) -> None:
    sig = content_stamped(w, [w.tsa.stamp(b"another document")])
    s = w.verify(sig, signature_time="at")
    assert (s.code, s.timestamps) == ("cert_expired", [])


def test_content_and_signature_timestamps_are_in_to_dict_and_to_json(w: World) -> None:
    import json

    sig = content_stamped(w, [w.tsa.stamp(w.content), w.tsa.stamp(b"another document")])
    sig = ad.with_tokens(sig, [w.stamp(sig)])
    r = govsig.Verifier(w.policy()).verify(sig, w.content)
    d = r.to_dict()
    assert json.loads(json.dumps(d)) == d
    assert json.loads(r.to_json()) == d
    (signer,) = d["signers"]
    s = r.signers[0]
    assert signer == s.to_dict()
    assert sorted((t["kind"], t["code"]) for t in signer["timestamps"]) == [
        ("content", "ok"), ("content", "timestamp_imprint_mismatch"), ("signature", "ok")]
    for t, live in zip(signer["timestamps"], s.timestamps):
        assert t["gen_time"] == live.gen_time_text and t["tsa_subject"] == live.tsa_subject
        assert int(t["serial"], 16) == live.serial and t["hash_algorithm"] == "sha256"
        assert t["policy_oid"] == live.policy_oid and t["reason"] == live.reason
    import hashlib

    for t, live in zip(signer["timestamps"], s.timestamps):
        assert t["chain_sha256"] == [hashlib.sha256(c).hexdigest() for c in live.chain]
        assert (t["kind"], t["code"]) == (live.kind, live.code)
    assert signer["countersigners"] == []


def _shifted(tst_der: bytes, by: dt.timedelta) -> bytes:
    from asn1crypto import tsp as a_tsp

    info = a_tsp.TSTInfo.load(tst_der)
    info["gen_time"] = info["gen_time"].native + by
    return bytes(info.dump(force=True))


def _pyhanko_pades_with_content_timestamp(w: World) -> bytes:
    """A PDF signed by pyHanko (PAdES) whose CMS carries a content time-stamp (signed
    attribute, imprint over the /ByteRange bytes) and a signature time-stamp, both from the
    loopback openssl TSA."""
    import io
    import warnings

    import pdfsign

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
        from pyhanko.sign import signers, timestamps
        from pyhanko.sign.ades.api import CAdESSignedAttrSpec

        meta = signers.PdfSignatureMetadata(
            field_name="Signature1", subfilter=pdfsign.fields.SigSeedSubFilter.PADES,
            cades_signed_attr_spec=CAdESSignedAttrSpec(timestamp_content=True))
        out = io.BytesIO()
        signers.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(pdfsign.base_pdf("Quyết định lưu trữ số 9"))), meta,
                         signer=pdfsign.pyhanko_signer(w.signer),
                         timestamper=timestamps.HTTPTimeStamper(w.tsa.url), output=out)
        return out.getvalue()


def test_a_content_timestamp_inside_a_pdf_signature_is_judged_over_the_byte_ranges(w: World) -> None:
    pdf = _pyhanko_pades_with_content_timestamp(w)
    r = govsig.Verifier(w.policy()).verify_pdf(pdf)
    assert r.code == "ok", r.reason
    (sig,) = r.signatures
    s = sig.signer
    assert s is not None
    assert (s.code, s.signature_time_source, s.warnings) == ("ok", "timestamp", [])
    # Its imprint is the hash of the signed /ByteRange bytes: "ok" says govsig hashed the
    # same bytes pyHanko's TSA stamped.
    assert sorted((t.kind, t.code) for t in s.timestamps) == [("content", "ok"), ("signature", "ok")]
    content_ts = next(t for t in s.timestamps if t.kind == "content")
    sig_ts = next(t for t in s.timestamps if t.kind == "signature")
    assert content_ts.gen_time <= sig_ts.gen_time
    assert s.signature_time == sig_ts.gen_time.replace(microsecond=0)
    # Today's question ("at"): the signer's certificate expired years ago, and no
    # time-stamp is read.
    at = govsig.Verifier(w.policy(signature_time="at")).verify_pdf(pdf)
    assert at.code == "cert_expired"
    assert at.signatures[0].signer.timestamps == []
    # TSAs trusted by another root: both tokens are reported untrusted, neither moves the
    # signature time, and the expired signer fails.
    other = govsig.Verifier(w.policy(tsa_trust=[w.p.root.der])).verify_pdf(pdf)
    s = other.signatures[0].signer
    assert (other.code, s.signature_time_source) == ("cert_expired", "at")
    assert sorted((t.kind, t.code) for t in s.timestamps) == [("content", "timestamp_untrusted"),
                                                              ("signature", "timestamp_untrusted")]
