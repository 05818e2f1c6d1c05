"""Countersignatures (issue 13 item 4, RFC 5652 §11.4): each id-countersignature value is a
SignerInfo over the signature value of the SignerInfo carrying it, verified like a signer
(its own certificate path included) and reported in ``SignerResult.countersigners``,
recursively. A countersignature is added after the fact, outside what the signer signed: a
broken one does not fail the signer (nor the document) but is reported with its own code,
and the signer gets the warning ``countersignature_invalid``.
"""
from __future__ import annotations

import pytest

import govsig
import pki
from countersign import (counter_signer_info, make_dsa_leaf, nest, signature_value_of,
                         with_countersignatures)

CONTENT = "Biên bản bàn giao hồ sơ lưu trữ".encode()


class Pki:
    def __init__(self) -> None:
        self.root = pki.make_root("Countersign Root CA", seed="cs-root")
        self.ca = pki.make_intermediate("Countersign Issuing CA", self.root, seed="cs-ca")
        self.official = pki.make_leaf("Trần Thị Bình", self.ca, seed="cs-official")
        self.notary = pki.make_leaf("Phạm Văn Công", self.ca, seed="cs-notary")
        self.archivist = pki.make_leaf("Lưu trữ viên", self.ca, seed="cs-archivist")
        self.stranger_root = pki.make_root("Stranger Root", seed="cs-stranger-root")
        self.stranger = pki.make_leaf("Người lạ", self.stranger_root, seed="cs-stranger")
        self.signed = pki.sign_cms(CONTENT, self.official)

    def verify(self, sig: bytes, **kw: object) -> govsig.SignerResult:
        policy = govsig.Policy(trust=[self.root.der], **kw)  # type: ignore[arg-type]
        r = govsig.Verifier(policy).verify(sig, CONTENT)
        (s,) = r.signers
        return s


def subject(i: pki.Issued) -> str:
    """The subject as govsig writes it (RFC 4514 with ", " between attributes)."""
    return i.cert.subject.rfc4514_string().replace(",", ", ")


@pytest.fixture(scope="module")
def p() -> Pki:
    return Pki()


def test_a_valid_countersignature_is_verified_with_its_path(p: Pki) -> None:
    cs = counter_signer_info(signature_value_of(p.signed), p.notary)
    s = p.verify(with_countersignatures(p.signed, 0, [cs], certs=[p.notary]))
    assert (s.code, s.warnings) == ("ok", [])
    (c,) = s.countersigners
    assert (c.code, c.subject) == ("ok", subject(p.notary))
    assert c.chain == [p.notary.der, p.ca.der, p.root.der]
    assert c.signing_time is not None and c.countersigners == []
    # The countersigner's certificate may also come from the policy's intermediates.
    s = p.verify(with_countersignatures(p.signed, 0, [cs]), intermediates=[p.notary.der])
    assert [c.code for c in s.countersigners] == ["ok"]


def test_a_countersignature_without_signed_attributes(p: Pki) -> None:
    cs = counter_signer_info(signature_value_of(p.signed), p.notary, attrs=False)
    s = p.verify(with_countersignatures(p.signed, 0, [cs], certs=[p.notary]))
    assert [c.code for c in s.countersigners] == ["ok"]


def test_a_broken_countersignature_is_reported_and_does_not_fail_the_signer(p: Pki) -> None:
    # Over another signature value: a genuine countersignature of something else.
    other = pki.sign_cms(b"van ban khac", p.official)
    cs = counter_signer_info(signature_value_of(other), p.notary)
    sig = with_countersignatures(p.signed, 0, [cs], certs=[p.notary])
    r = govsig.Verifier(govsig.Policy(trust=[p.root.der])).verify(sig, CONTENT)
    assert r.code == "ok"
    (s,) = r.signers
    assert (s.code, s.warnings) == ("ok", ["countersignature_invalid"])
    (c,) = s.countersigners
    assert c.code == "digest_mismatch"
    # Its own signature bit-flipped.
    good = counter_signer_info(signature_value_of(p.signed), p.notary)
    raw = bytearray(good["signature"].native)
    raw[-1] ^= 1
    good["signature"] = bytes(raw)
    s = p.verify(with_countersignatures(p.signed, 0, [good], certs=[p.notary]))
    assert (s.code, [c.code for c in s.countersigners], s.warnings) == \
        ("ok", ["signature_invalid"], ["countersignature_invalid"])


def test_an_untrusted_countersigner_is_reported_with_its_path_code(p: Pki) -> None:
    cs = counter_signer_info(signature_value_of(p.signed), p.stranger)
    s = p.verify(with_countersignatures(p.signed, 0, [cs], certs=[p.stranger]))
    assert (s.code, [c.code for c in s.countersigners], s.warnings) == \
        ("ok", ["chain_untrusted"], ["countersignature_invalid"])


def test_a_countersignature_must_not_carry_content_type(p: Pki) -> None:
    from asn1crypto import cms as a_cms

    # A whole SignerInfo of a signature over the signature value, contentType included.
    wrong = pki.sign_cms(signature_value_of(p.signed), p.notary, engine="native")
    si = a_cms.ContentInfo.load(wrong)["content"]["signer_infos"][0]
    s = p.verify(with_countersignatures(p.signed, 0, [si], certs=[p.notary]))
    (c,) = s.countersigners
    assert c.code == "signed_attributes_invalid" and "contentType" in c.reason


def test_countersignatures_nested_two_deep(p: Pki) -> None:
    cs1 = counter_signer_info(signature_value_of(p.signed), p.notary)
    cs2 = counter_signer_info(cs1["signature"].native, p.archivist)
    sig = with_countersignatures(p.signed, 0, [nest(cs1, [cs2])], certs=[p.notary, p.archivist])
    s = p.verify(sig)
    (c1,) = s.countersigners
    (c2,) = c1.countersigners
    assert [(x.code, x.subject) for x in (s, c1, c2)] == [
        ("ok", subject(p.official)), ("ok", subject(p.notary)), ("ok", subject(p.archivist))]
    # The inner one over the wrong value: reported two deep, warned one level up only.
    bad2 = counter_signer_info(signature_value_of(p.signed), p.archivist)
    s = p.verify(with_countersignatures(p.signed, 0, [nest(cs1, [bad2])], certs=[p.notary, p.archivist]))
    (c1,) = s.countersigners
    assert (s.code, s.warnings, c1.code, c1.warnings) == ("ok", [], "ok", ["countersignature_invalid"])
    assert c1.countersigners[0].code == "digest_mismatch"


def _seven_deep(p: Pki) -> bytes:
    """The signed document with countersignatures nested seven deep, past the core's bound."""
    chain = [counter_signer_info(signature_value_of(p.signed), p.notary)]
    for _ in range(6):
        chain.append(counter_signer_info(chain[-1]["signature"].native, p.notary))
    inner = chain[-1]
    for outer in reversed(chain[:-1]):
        inner = nest(outer, [inner])
    return with_countersignatures(p.signed, 0, [inner], certs=[p.notary])


def test_countersignature_depth_is_bounded(p: Pki) -> None:
    s = p.verify(_seven_deep(p))
    codes = []
    level = s.countersigners
    while level:
        codes.append(level[0].code)
        level = level[0].countersigners
    assert codes == ["ok"] * 4 + ["budget_exceeded"]


def test_dsa_countersignature_under_legacy(p: Pki) -> None:
    # RFC 4134 §4.x style: a DSA/SHA-1 countersignature on an RSA signature.
    dsa_signer = make_dsa_leaf("Công chứng viên DSA", p.ca)
    cs = counter_signer_info(signature_value_of(p.signed), dsa_signer, digest="sha1")
    sig = with_countersignatures(p.signed, 0, [cs], certs=[dsa_signer])
    s = p.verify(sig, legacy=True)
    assert (s.code, [c.code for c in s.countersigners], s.warnings) == ("ok", ["ok"], [])
    assert s.countersigners[0].signature_algorithm is not None
    s = p.verify(sig)
    assert (s.code, [c.code for c in s.countersigners]) == ("ok", ["algorithm_not_allowed"])


def test_a_countersignature_is_evidence_like_the_signer(p: Pki) -> None:
    cs = counter_signer_info(signature_value_of(p.signed), p.notary)
    sig = with_countersignatures(p.signed, 0, [cs], certs=[p.notary])
    r = govsig.Verifier(govsig.Policy(trust=[p.root.der])).verify(sig, CONTENT)
    assert p.notary.der in r.evidence.certificates


def test_garbage_countersignature_is_malformed_not_a_crash(p: Pki) -> None:
    from asn1crypto import cms as a_cms

    from countersign import COUNTER_SIGNATURE, _tlv

    attribute = _tlv(0x30, a_cms.CMSAttributeType(COUNTER_SIGNATURE).dump() + _tlv(0x31, b"\x04\x03abc"))
    ci = a_cms.ContentInfo.load(p.signed)
    si = ci["content"]["signer_infos"][0]
    si["unsigned_attrs"] = a_cms.CMSAttributes.load(_tlv(0x31, attribute))
    s = p.verify(bytes(ci.dump()))
    assert (s.code, [c.code for c in s.countersigners], s.warnings) == \
        ("ok", ["malformed"], ["countersignature_invalid"])
    assert "not a SignerInfo" in s.countersigners[0].reason


def test_countersigners_are_in_to_dict_and_to_json_recursively(p: Pki) -> None:
    import json

    cs = counter_signer_info(signature_value_of(p.signed), p.notary)
    sig = with_countersignatures(p.signed, 0, [cs], certs=[p.notary])
    r = govsig.Verifier(govsig.Policy(trust=[p.root.der])).verify(sig, CONTENT)
    d = r.to_dict()
    assert json.loads(json.dumps(d)) == d
    assert json.loads(r.to_json()) == d
    (signer,) = d["signers"]
    (counter,) = signer["countersigners"]
    assert (counter["code"], counter["subject"]) == ("ok", subject(p.notary))
    assert counter == r.signers[0].countersigners[0].to_dict()
    assert counter["countersigners"] == [] and counter["timestamps"] == []
    assert signer["timestamps"] == []


def test_the_deepest_countersigners_survive_the_parquet_report(p: Pki, tmp_path) -> None:
    """Arrow types cannot refer to themselves, so the Parquet report nests countersigners to
    the depth the core produces; the deepest document it can meet keeps every level there,
    equal to its JSONL line, which the report schema accepts."""
    import json
    import subprocess
    import sys

    import jsonschema
    import pyarrow.parquet as pq

    from govsig.archive.report import load_schema

    (tmp_path / "deep.p7s").write_bytes(_seven_deep(p))
    (tmp_path / "deep").write_bytes(CONTENT)
    (tmp_path / "root.pem").write_bytes(p.root.pem)
    done = subprocess.run(
        [sys.executable, "-m", "govsig", "verify-archive", str(tmp_path / "deep.p7s"),
         "--trust", str(tmp_path / "root.pem"), "--report", str(tmp_path / "r.jsonl"),
         "--parquet", str(tmp_path / "r.parquet"), "--no-progress"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    (line,) = [json.loads(x) for x in (tmp_path / "r.jsonl").read_text(encoding="utf-8").splitlines()]
    jsonschema.Draft202012Validator(load_schema()).validate(line)
    depth, level = 0, line["signers"][0]["countersigners"]
    while level:
        depth, level = depth + 1, level[0]["countersigners"]
    assert depth == 5 and line["signers"][0]["timestamps"] == []
    assert pq.read_table(tmp_path / "r.parquet").to_pylist() == [line]
