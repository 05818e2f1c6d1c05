"""Countersignatures for the tests (RFC 5652 §11.4): a SignerInfo over the signature value of
another SignerInfo, carried in that SignerInfo's unsigned attribute id-countersignature.
OpenSSL's CLI cannot make them, so they are written here with asn1crypto and cryptography:

    cs = counter_signer_info(signature_value_of(cms, 0), official)          # one level
    cs2 = counter_signer_info(cs["signature"].native, notary)
    cms = with_countersignatures(cms, 0, [nest(cs, [cs2])])                   # two deep

The countersignature's signed attributes are signingTime and messageDigest (the digest of
the countersigned signature value's octets) and never contentType (RFC 5652 §11.4).
"""
from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Sequence

from asn1crypto import algos as a_algos
from asn1crypto import cms as a_cms
from cryptography.hazmat.primitives import hashes

import pki

with warnings.catch_warnings():
    # cryptography deprecates DSA; the legacy countersignature test needs it all the same.
    warnings.simplefilter("ignore")
    from cryptography.hazmat.primitives.asymmetric import dsa

COUNTER_SIGNATURE = "1.2.840.113549.1.9.6"


def signature_value_of(cms_der: bytes, index: int = 0) -> bytes:
    sv: bytes = a_cms.ContentInfo.load(cms_der)["content"]["signer_infos"][index]["signature"].native
    return sv


def counter_signer_info(signature_value: bytes, signer: pki.Issued, *, digest: str = "sha256",
                        signing_time: dt.datetime | None = None, attrs: bool = True) -> a_cms.SignerInfo:
    """A SignerInfo by ``signer`` over ``signature_value`` (with signed attributes unless
    ``attrs=False``: then the signature is over the value's octets themselves)."""
    h = hashes.Hash(pki._hash(digest))
    h.update(signature_value)
    md = h.finalize()
    info: dict[str, object] = {
        "version": "v1",
        "sid": a_cms.SignerIdentifier({"issuer_and_serial_number": {
            "issuer": a_cms.Certificate.load(signer.der)["tbs_certificate"]["issuer"],
            "serial_number": signer.cert.serial_number}}),
        "digest_algorithm": {"algorithm": digest},
        "signature_algorithm": _algorithm(signer, digest),
    }
    if attrs:
        items = [
            a_cms.CMSAttribute({"type": "signing_time",
                                "values": [a_cms.Time({"utc_time": signing_time or dt.datetime.now(dt.timezone.utc)})]}),
            a_cms.CMSAttribute({"type": "message_digest", "values": [md]}),
        ]
        items.sort(key=lambda a: a.dump())
        signed = a_cms.CMSAttributes(items)
        info["signed_attrs"] = signed
        to_sign = signed.dump()
    else:
        to_sign = signature_value
    info["signature"] = _sign(signer, to_sign, digest)
    return a_cms.SignerInfo(info)


def nest(info: a_cms.SignerInfo, countersignatures: Sequence[a_cms.SignerInfo]) -> a_cms.SignerInfo:
    """``info`` (without unsigned attributes) with ``countersignatures`` (over its own
    signature value) as its unsigned attribute id-countersignature. Written as bytes:
    asn1crypto re-parses nested countersignatures at every level, exponentially."""
    body = _content(info.dump())
    values = b"".join(c.dump() for c in countersignatures)
    attribute = _tlv(0x30, a_cms.CMSAttributeType(COUNTER_SIGNATURE).dump() + _tlv(0x31, values))
    return a_cms.SignerInfo.load(_tlv(0x30, body + _tlv(0xA1, attribute)))


def _tlv(tag: int, body: bytes) -> bytes:
    n = len(body)
    if n < 0x80:
        return bytes([tag, n]) + body
    octets = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(octets)]) + octets + body


def _content(der: bytes) -> bytes:
    """The content octets of one definite-length DER TLV."""
    first = der[1]
    if first < 0x80:
        return der[2:2 + first]
    k = first & 0x7F
    n = int.from_bytes(der[2:2 + k], "big")
    return der[2 + k:2 + k + n]


def with_countersignatures(cms_der: bytes, index: int, countersignatures: Sequence[a_cms.SignerInfo], *,
                           certs: Sequence[pki.Issued] = ()) -> bytes:
    """``cms_der`` with ``countersignatures`` added to SignerInfo ``index`` and ``certs`` to the
    certificate bag; no signed byte changes (both are outside every signature)."""
    ci = a_cms.ContentInfo.load(cms_der)
    if certs:
        bag = list(ci["content"]["certificates"]) if ci["content"]["certificates"].native else []
        bag += [a_cms.CertificateChoices({"certificate": a_cms.Certificate.load(c.der)}) for c in certs]
        ci["content"]["certificates"] = bag
    si = ci["content"]["signer_infos"][index]
    attrs = list(si["unsigned_attrs"]) if si["unsigned_attrs"].native else []
    attrs.append(a_cms.CMSAttribute({"type": COUNTER_SIGNATURE, "values": list(countersignatures)}))
    si["unsigned_attrs"] = attrs
    return bytes(ci.dump())


def make_dsa_leaf(name: str, issuer: pki.Issued) -> pki.Issued:
    """A DSA-1024 certificate issued by ``issuer`` (RFC 4134's countersigner used DSA with
    SHA-1: legacy algorithms govsig accepts only with ``legacy=True``)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        key = dsa.generate_private_key(1024)
    return pki._build(name=name, subject=pki.vn_name(name, "Phòng công chứng số 1", None, "Hà Giang"),
                      key=key, key_type="dsa", issuer=issuer, seed=name, not_before=pki.NOT_BEFORE,
                      not_after=pki.NOT_AFTER, ca=False, path_len=None,
                      key_usage=("digital_signature", "content_commitment"), eku=None,
                      with_ski=True, with_aki=True)


def _algorithm(signer: pki.Issued, digest: str) -> a_algos.SignedDigestAlgorithm:
    if signer.key_type == "dsa":
        return a_algos.SignedDigestAlgorithm({"algorithm": f"{digest}_dsa"})
    return pki._signature_algorithm(signer, digest, False)


def _sign(signer: pki.Issued, data: bytes, digest: str) -> bytes:
    if signer.key_type == "dsa":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sig: bytes = signer.key.sign(data, pki._hash(digest))  # type: ignore[call-arg,arg-type]
            return sig
    return pki._raw_sign(signer, data, digest, False)
