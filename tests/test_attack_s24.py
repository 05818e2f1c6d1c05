"""Attacks on issue 11's hardening (session 24), by someone who holds one validly signed
document and controls every unsigned byte around it: the certificate bag (several
certificates under one signer identifier), the transport form (PEM, S/MIME boundaries and
encodings), PKCS#7 bundles given as anchors or intermediates, the syntax of signed attributes,
legacy algorithms admitted for certificates only, a signature OID in digestAlgorithm, PKCS#7
v1.5 content, the command line (escaping, secrets, the signature writer) and inclusion proofs.

A passing test documents a defended attack (the exact code and a piece of the reason); a
failing one is a bug, kept failing. Fixtures come from tests/cmsgen.py, tests/pki.py and the
openssl CLI, under tmp_path; OpenSSL is asked on the same bytes where it has an opinion.
"""
from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import os
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

import cmsgen as G
import govsig
import pki as P
from govsig.cli import main
from test_cms_quirks import _impostor, _protection
from test_input_forms import _pem, _smime
from test_legacy_nested import sha1_cert

AT = dt.datetime(2026, 6, 1, tzinfo=dt.timezone.utc)
CONTENT = "Quyết định số 24/QĐ-UBND — bản ký".encode()
TEXT = "Tờ trình số 24\nDòng thứ hai\n".encode()
SHA1 = "1.3.14.3.2.26"
SHA1_WITH_RSA = "1.2.840.113549.1.1.5"
MD5 = "1.2.840.113549.2.5"
MD5_WITH_RSA = "1.2.840.113549.1.1.4"
ECDSA_WITH_SHA1 = "1.2.840.10045.4.1"


@pytest.fixture(scope="module")
def verifier(pki) -> govsig.Verifier:
    return govsig.Verifier(govsig.Policy(trust=[r.der for r in pki.roots], at=AT))


def _ski_sid_info(content: bytes, signer: P.Issued, *, ski: bytes | None = None,
                  sign_with: P.Issued | None = None) -> bytes:
    """A SignerInfo v3 naming its signer by subjectKeyIdentifier (RFC 5652 §5.3)."""
    attrs = G.default_attrs(content, "sha256")
    signed = G.der_set(*attrs)
    sig = G.raw_sign(sign_with or signer, signed, "sha256")
    return G.seq(G.integer(3), G.tlv(0x80, ski if ski is not None else (signer.ski or b"")),
                 G.alg(G.HASHES["sha256"][1]), b"\xa0" + signed[1:],
                 G.signature_alg_for(signer, "sha256"), G.octets(sig))


def _same_key_other_issuer(leaf: P.Issued, issuer: P.Issued, *, ca: bool = False) -> P.Issued:
    """The leaf's subject, public key and subjectKeyIdentifier in a certificate issued by
    ``issuer`` (an attacker's CA): it verifies the leaf's signatures, and chains elsewhere."""
    c = leaf.cert
    b = (x509.CertificateBuilder().subject_name(c.subject).issuer_name(issuer.cert.subject)
         .serial_number(c.serial_number + 1).not_valid_before(c.not_valid_before_utc)
         .not_valid_after(c.not_valid_after_utc).public_key(c.public_key())
         .add_extension(x509.SubjectKeyIdentifier.from_public_key(c.public_key()), critical=False)
         .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    cert = b.sign(issuer.key, hashes.SHA256())  # type: ignore[arg-type]
    return P.Issued(f"same key under {issuer.name}", cert, leaf.key, leaf.key_type, issuer)


def _other_key_same_sid(leaf: P.Issued, seed: str, *, ca: bool = False,
                        subject: x509.Name | None = None, ski: bytes | None = None) -> P.Issued:
    """The leaf's issuer, serial (and, with ``ski``, its subjectKeyIdentifier) on a
    certificate with another key: the identifier matches, the key does not."""
    key = P.derive_key("rsa2048", seed)
    assert isinstance(key, rsa.RSAPrivateKey)
    c = leaf.cert
    b = (x509.CertificateBuilder().subject_name(subject or c.subject).issuer_name(c.issuer)
         .serial_number(c.serial_number).not_valid_before(c.not_valid_before_utc)
         .not_valid_after(c.not_valid_after_utc).public_key(key.public_key())
         .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if ski is not None:
        b = b.add_extension(x509.SubjectKeyIdentifier(ski), critical=False)
    return P.Issued(f"decoy {seed}", b.sign(key, hashes.SHA256()), key, "rsa2048", leaf.issuer)


# -- 1. several certificates under one signer identifier -----------------------------------------


def test_decoy_last_real_first_reports_the_first_and_says_ambiguous(pki, verifier) -> None:
    leaf = pki.rsa_leaf
    decoy = _impostor(leaf, "s24-decoy-last")
    sig = G.signed_data([G.signer_info(CONTENT, leaf)], [leaf, decoy, pki.rsa_intermediate],
                        econtent=G.octets(CONTENT))
    r = verifier.verify(sig)
    assert r.code == "ok", r.reason
    assert r.signers[0].certificate == leaf.der
    assert r.signers[0].warnings == ["signer_identifier_ambiguous"]
    assert "matches 2 certificates; certificate #1" in r.signers[0].warning_details[0][1]


def test_the_same_certificate_twice_is_one_candidate_not_an_ambiguity(pki, verifier, openssl) -> None:
    leaf = pki.rsa_leaf
    sig = G.signed_data([G.signer_info(CONTENT, leaf)], [leaf, leaf, pki.rsa_intermediate, leaf],
                        econtent=G.octets(CONTENT))
    r = verifier.verify(sig)
    assert r.code == "ok", r.reason
    assert r.signers[0].warnings == []
    assert P.openssl_verify(sig, pki.rsa_root, attime=AT).returncode == 0


def test_a_bag_of_decoys_before_the_signer_is_tried_to_the_end(pki, verifier) -> None:
    # 250 decoys (the bag holds at most 256 certificates) and the signer last: each tried.
    leaf = pki.rsa_leaf
    decoys = [_impostor(leaf, f"s24-many-{i}") for i in range(5)]
    # Five distinct keys, each in 50 certificates differing by their validity (distinct DER).
    bag: list[P.Issued] = []
    for i in range(250):
        d = decoys[i % 5]
        c = d.cert
        cert = (x509.CertificateBuilder().subject_name(c.subject).issuer_name(c.issuer)
                .serial_number(c.serial_number)
                .not_valid_before(c.not_valid_before_utc + dt.timedelta(seconds=i))
                .not_valid_after(c.not_valid_after_utc).public_key(c.public_key())
                .sign(d.key, hashes.SHA256()))  # type: ignore[arg-type]
        bag.append(P.Issued(f"decoy {i}", cert, d.key, "rsa2048", leaf.issuer))
    sig = G.signed_data([G.signer_info(CONTENT, leaf)], [*bag, leaf, pki.rsa_intermediate],
                        econtent=G.octets(CONTENT))
    r = verifier.verify(sig)
    assert r.code == "ok", r.reason
    assert r.signers[0].certificate == leaf.der
    assert "matches 251 certificates; certificate #251" in r.signers[0].warning_details[0][1]
    # None of them verifies: the reason lists every failure, ambiguous.
    forged = G.signed_data([G.signer_info(CONTENT, leaf, sign_with=_impostor(leaf, "s24-x"))],
                           [*bag, pki.rsa_intermediate], econtent=G.octets(CONTENT))
    r = verifier.verify(forged)
    assert r.code == "signature_invalid"
    assert "is ambiguous: it matches 250 certificates" in r.reason and "#250: " in r.reason
    # Past the bag's bound the document is refused before any candidate is tried.
    over = G.signed_data([G.signer_info(CONTENT, leaf)], [*bag, *bag[:7], leaf, pki.rsa_intermediate],
                         econtent=G.octets(CONTENT))
    r = verifier.verify(over)
    assert r.code == "budget_exceeded" and "at most 64 CRLs and 256 certificates" in r.reason


def test_a_decoy_that_is_a_ca_named_like_the_signers_issuer_changes_nothing(pki, verifier) -> None:
    # The decoy matches the signer's issuer and serial, is a CA, and its subject is the
    # signer's issuer: it is both a candidate signer and a candidate issuer of the real one.
    leaf = pki.rsa_leaf
    decoy = _other_key_same_sid(leaf, "s24-ca-decoy", ca=True, subject=leaf.cert.issuer)
    sig = G.signed_data([G.signer_info(CONTENT, leaf)], [decoy, leaf, pki.rsa_intermediate],
                        econtent=G.octets(CONTENT))
    r = verifier.verify(sig)
    assert r.code == "ok", r.reason
    assert r.signers[0].certificate == leaf.der
    assert [c for c in r.signers[0].chain] == [leaf.der, pki.rsa_intermediate.der, pki.rsa_root.der]


def test_ski_decoys_with_other_keys_are_tried_and_the_signer_reported(pki, verifier, openssl) -> None:
    leaf = pki.rsa_leaf
    assert leaf.ski
    decoy = _other_key_same_sid(leaf, "s24-ski-decoy", ski=leaf.ski)
    sig = G.signed_data([_ski_sid_info(CONTENT, leaf)], [decoy, leaf, pki.rsa_intermediate],
                        econtent=G.octets(CONTENT))
    r = verifier.verify(sig)
    assert r.code == "ok", r.reason
    assert r.signers[0].certificate == leaf.der
    assert "subjectKeyIdentifier" in r.signers[0].warning_details[0][1]
    # OpenSSL takes the first certificate the identifier names, and fails on the decoy.
    assert P.openssl_verify(sig, pki.rsa_root, attime=AT).returncode != 0


def test_same_key_decoy_in_the_bag_defeats_the_callers_own_signer_certificate(pki) -> None:
    """The verifier holds the official's certificate and chain itself (intermediates=); the
    document's bag holds only the attacker's twin certificate (same key and SKI, another
    issuer). The caller's trusted certificate verifies the signature too, but the bag's
    twin is tried first and its path decides."""
    leaf = pki.rsa_leaf
    evil_root = P.make_root("Attacker CA s24", "rsa2048")
    twin = _same_key_other_issuer(leaf, evil_root)
    v = govsig.Verifier(govsig.Policy(trust=[pki.rsa_root.der], at=AT,
                                      intermediates=[leaf.der, pki.rsa_intermediate.der]))
    alone = G.signed_data([_ski_sid_info(CONTENT, leaf)], [], econtent=G.octets(CONTENT))
    assert v.verify(alone).code == "ok"
    sig = G.signed_data([_ski_sid_info(CONTENT, leaf)], [twin], econtent=G.octets(CONTENT))
    r = v.verify(sig)
    assert r.code == "ok", (r.code, r.reason)


def test_a_corrupted_copy_of_the_signers_certificate_first_in_the_bag(pki, verifier, openssl) -> None:
    """No CA needed: a copy of the signer's own certificate with one bit of its outer signature
    flipped has the same issuer, serial, key and SKI. Put first, it verifies the document
    signature, is taken, and its path fails (cert_signature_invalid); the intact certificate
    beside it is never validated. OpenSSL takes the first match as well and fails."""
    leaf = pki.rsa_leaf
    broken = P.flip_byte(leaf.der, len(leaf.der) - 5)
    info = G.signer_info(CONTENT, leaf)
    cert_bag = G.tlv(0xa0, broken + leaf.der + pki.rsa_intermediate.der)
    sd = G.seq(G.integer(1), G.der_set(G.alg(G.HASHES["sha256"][1])),
               G.seq(G.oid(G.DATA), G.tlv(0xa0, G.octets(CONTENT))), cert_bag, G.der_set(info))
    sig = G.seq(G.oid(G.SIGNED_DATA), G.tlv(0xa0, sd))
    assert P.openssl_verify(sig, pki.rsa_root, attime=AT).returncode != 0
    r = verifier.verify(sig)
    assert r.code == "ok", (r.code, r.reason)
    assert r.signers[0].certificate == leaf.der


def test_ess_signing_certificate_binds_the_candidate_whatever_the_bag_order(pki, verifier) -> None:
    # With signingCertificateV2 naming the real certificate, a same-key twin is refused by
    # the attribute before its path is looked at.
    from asn1crypto import cms as a_cms

    leaf = pki.rsa_leaf
    evil_root = P.make_root("Attacker CA s24", "rsa2048")
    twin = _same_key_other_issuer(leaf, evil_root)
    ess = G.attr("1.2.840.113549.1.9.16.2.47",
                 G.seq(G.seq(G.seq(G.octets(G.digest_of("sha256", leaf.der))))))
    attrs = [*G.default_attrs(CONTENT, "sha256"), ess]
    signed = G.der_set(*attrs)
    info = G.seq(G.integer(3), G.tlv(0x80, leaf.ski or b""), G.alg(G.HASHES["sha256"][1]),
                 b"\xa0" + signed[1:], G.signature_alg_for(leaf, "sha256"),
                 G.octets(G.raw_sign(leaf, signed, "sha256")))
    sig = G.signed_data([info], [twin, leaf, pki.rsa_intermediate], econtent=G.octets(CONTENT))
    assert a_cms.ContentInfo.load(sig)["content"]["signer_infos"][0]["sid"].name == "subject_key_identifier"
    r = verifier.verify(sig)
    assert r.code == "ok", r.reason
    assert r.signers[0].certificate == leaf.der
    assert "certificate #2" in r.signers[0].warning_details[0][1]


# -- 4. signed attributes ----------------------------------------------------------------------


def _attrs(**repl: bytes) -> list[bytes]:
    a = G.default_attrs(CONTENT, "sha256")
    base = {"ct": a[0], "st": a[1], "md": a[2]}
    base.update(repl)
    return [v for v in base.values() if v]


def test_signing_time_as_generalized_time_before_2050_is_refused(pki, verifier) -> None:
    """RFC 5652 §11.3: "Dates between 1 January 1950 and 31 December 2049 (inclusive) MUST be
    encoded as UTCTime." A GeneralizedTime for 2026 is not a valid signingTime."""
    sig = G.attached(CONTENT, pki.rsa_leaf,
                     attrs=_attrs(st=G.attr(G.SIGNING_TIME, G.tlv(0x18, b"20260501093000Z"))))
    r = verifier.verify(sig)
    assert r.code == "signed_attributes_invalid", (r.code, r.reason)
    assert "signingTime" in r.reason and "UTCTime" in r.reason


def test_signing_time_as_generalized_time_from_2050_is_legal(pki, verifier) -> None:
    sig = G.attached(CONTENT, pki.rsa_leaf,
                     attrs=_attrs(st=G.attr(G.SIGNING_TIME, G.tlv(0x18, b"20500101000000Z"))))
    r = verifier.verify(sig)
    assert r.code == "ok", r.reason
    assert r.signers[0].signing_time == dt.datetime(2050, 1, 1, tzinfo=dt.timezone.utc)


@pytest.mark.parametrize(("value", "says"), [
    (b"260501093000-0000", "offset '-0000'"),
    (b"2605010930+0700", "offset '+0700'"),
], ids=["minus-zero", "no-seconds-plus-seven"])
def test_utctime_offsets_are_named_whatever_their_sign(pki, verifier, value, says) -> None:
    sig = G.attached(CONTENT, pki.rsa_leaf, attrs=_attrs(st=G.attr(G.SIGNING_TIME, G.tlv(0x17, value))))
    r = verifier.verify(sig)
    assert r.code == "signed_attributes_invalid"
    assert "UTCTime with a timezone offset" in r.reason and says in r.reason


@pytest.mark.parametrize("n", [0, 20, 33, 64])
def test_message_digest_of_any_wrong_length_is_named(pki, verifier, n) -> None:
    md = (G.digest_of("sha256", CONTENT) * 2)[:n]
    sig = G.attached(CONTENT, pki.rsa_leaf, attrs=_attrs(md=G.attr(G.MESSAGE_DIGEST, G.octets(md))))
    r = verifier.verify(sig)
    assert r.code == "signed_attributes_invalid"
    assert f"messageDigest attribute holds {n} octets but a sha256 digest has 32" in r.reason


def test_duplicate_content_type_attribute_is_refused(pki, verifier, openssl) -> None:
    attrs = [*_attrs(), G.attr(G.CONTENT_TYPE, G.oid(G.DATA))]
    sig = G.attached(CONTENT, pki.rsa_leaf, attrs=attrs)
    r = verifier.verify(sig)
    assert r.code == "signed_attributes_invalid"
    assert "contentType appears more than once (RFC 5652 §11.1" in r.reason


def test_two_content_time_stamps_and_two_unknown_attributes_are_legal(pki, verifier) -> None:
    attrs = [*_attrs(), G.attr(G.CONTENT_TIMESTAMP, G.seq(G.integer(1))),
             G.attr(G.CONTENT_TIMESTAMP, G.seq(G.integer(2))),
             G.attr("1.3.6.1.4.1.99999.1", G.integer(1)), G.attr("1.3.6.1.4.1.99999.1", G.integer(2))]
    r = verifier.verify(G.attached(CONTENT, pki.rsa_leaf, attrs=attrs))
    assert r.code == "ok", r.reason


def test_algorithm_protection_with_signature_and_mac_algorithms_is_refused(pki, verifier) -> None:
    d = G.alg(G.HASHES["sha256"][1])
    s = G.signature_alg_for(pki.rsa_leaf, "sha256")
    hmac = G.alg("1.2.840.113549.2.9")
    both = G.attr(G.ALGORITHM_PROTECTION, G.seq(d, G.tlv(0xa1, s[2:]), G.tlv(0xa2, hmac[2:])))
    r = verifier.verify(G.attached(CONTENT, pki.rsa_leaf, attrs=[*_attrs(), both]))
    assert r.code == "signed_attributes_invalid"
    assert "must not carry a macAlgorithm (RFC 6211 §2)" in r.reason
    mac_only = G.attr(G.ALGORITHM_PROTECTION, G.seq(d, G.tlv(0xa2, hmac[2:])))
    r = verifier.verify(G.attached(CONTENT, pki.rsa_leaf, attrs=[*_attrs(), mac_only]))
    assert r.code == "signed_attributes_invalid" and "macAlgorithm" in r.reason
    neither = G.attr(G.ALGORITHM_PROTECTION, G.seq(d))
    r = verifier.verify(G.attached(CONTENT, pki.rsa_leaf, attrs=[*_attrs(), neither]))
    assert r.code == "signed_attributes_invalid" and "must carry signatureAlgorithm" in r.reason


def test_algorithm_protection_naming_pss_over_a_pkcs1_signature_is_refused(pki, verifier) -> None:
    # The protected algorithm is RSASSA-PSS, the SignerInfo says rsaEncryption (PKCS#1 v1.5):
    # an algorithm substitution after signing.
    d = G.alg(G.HASHES["sha256"][1])
    pss = G.signature_alg_for(pki.rsa_leaf, "sha256", pss=True)
    r = verifier.verify(G.attached(CONTENT, pki.rsa_leaf, attrs=[*_attrs(), _protection(d, pss)]))
    assert r.code == "signed_attributes_invalid"
    assert "cmsAlgorithmProtection names a signatureAlgorithm other than the SignerInfo's" in r.reason


def test_algorithm_protection_absent_versus_null_parameters_is_the_same_algorithm(pki, verifier) -> None:
    """RFC 5754 §2: sha256's parameters may be absent or NULL and implementations MUST accept
    both; RFC 3370 §2.1 and RFC 4055 say the same of rsaEncryption's NULL. A signer that writes
    sha256 with NULL in the SignerInfo and without it in cmsAlgorithmProtection names the same
    algorithms (BouncyCastle compares them with CMSUtils.isEquivalent, which treats absent
    and NULL alike). govsig compares the bytes and refuses the signature."""
    with_null = G.alg(G.HASHES["sha256"][1], G.null())
    without = G.alg(G.HASHES["sha256"][1])
    s = G.signature_alg_for(pki.rsa_leaf, "sha256")
    sig = G.attached(CONTENT, pki.rsa_leaf, digest_alg=with_null, attrs=[*_attrs(), _protection(without, s)])
    assert P.openssl_verify(sig, pki.rsa_root, attime=AT).returncode == 0
    r = verifier.verify(sig)
    assert r.code == "ok", (r.code, r.reason)


# -- 6. a signature OID in digestAlgorithm ---------------------------------------------------------


def _info(content: bytes, signer: P.Issued, *, digest_alg: bytes, sig_alg: bytes, hash_name: str) -> bytes:
    """A SignerInfo whose signature is made with ``hash_name`` (SHA-1 included, which
    cmsgen does not offer) and whose messageDigest is of that hash."""
    h = {"sha1": hashes.SHA1(), "sha256": hashes.SHA256(), "md5": hashes.MD5()}[hash_name]
    hh = hashes.Hash(h)
    hh.update(content)
    attrs = [G.attr(G.CONTENT_TYPE, G.oid(G.DATA)),
             G.attr(G.SIGNING_TIME, G.utc_time("260501093000Z")),
             G.attr(G.MESSAGE_DIGEST, G.octets(hh.finalize()))]
    signed = G.der_set(*attrs)
    key = signer.key
    if isinstance(key, rsa.RSAPrivateKey):
        value = key.sign(signed, padding.PKCS1v15(), h)
    else:
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        value = key.sign(signed, ec.ECDSA(h))
    return G.seq(G.integer(1), G.issuer_and_serial(signer), digest_alg, b"\xa0" + signed[1:],
                 sig_alg, G.octets(value))


def _doc(info: bytes, signer: P.Issued) -> bytes:
    return G.signed_data([info], [signer, *signer.intermediates], econtent=G.octets(CONTENT))


@pytest.mark.parametrize("policy", [{}, {"legacy": True}, {"legacy_certificates": True}],
                         ids=["default", "legacy", "legacy_certificates"])
def test_sha1_signature_oid_in_digest_algorithm_never_downgrades_a_sha256_signature(pki, policy) -> None:
    # Signed with SHA-256 (signatureAlgorithm sha256WithRSAEncryption) while digestAlgorithm,
    # which no signature covers, says sha1WithRSAEncryption: the two disagree, so the
    # signature is refused whatever the policy, never verified as SHA-1 nor as SHA-256.
    leaf = pki.rsa_leaf
    v = govsig.Verifier(govsig.Policy(trust=[pki.rsa_root.der], at=AT, **policy))
    info = _info(CONTENT, leaf, digest_alg=G.alg(SHA1_WITH_RSA, G.null()),
                 sig_alg=G.alg(G.SHA256_WITH_RSA, G.null()), hash_name="sha256")
    r = v.verify(_doc(info, leaf))
    assert r.code in ("unsupported_algorithm", "algorithm_not_allowed"), r.reason
    assert not r.ok
    if policy.get("legacy"):
        assert "hashes with sha256 but digestAlgorithm is sha1; they must match" in r.reason


def test_sha1_signature_oid_in_digest_algorithm_with_sha1_signature(pki) -> None:
    # The signer really hashed with SHA-1 and wrote sha1WithRSAEncryption twice: a SHA-1
    # document signature, admitted only by legacy=True, never by legacy_certificates.
    leaf = pki.rsa_leaf
    info = _info(CONTENT, leaf, digest_alg=G.alg(SHA1_WITH_RSA, G.null()),
                 sig_alg=G.alg(SHA1_WITH_RSA, G.null()), hash_name="sha1")
    doc = _doc(info, leaf)
    for knobs, code in (({}, "algorithm_not_allowed"), ({"legacy_certificates": True}, "algorithm_not_allowed"),
                        ({"legacy": True}, "ok")):
        r = govsig.Verifier(govsig.Policy(trust=[pki.rsa_root.der], at=AT, **knobs)).verify(doc)
        assert r.code == code, (knobs, r.reason)
        if code == "ok":
            assert set(r.signers[0].warnings) == {"digest_algorithm_is_signature_algorithm",
                                                  "legacy_algorithm_signature"}
        else:
            assert "sha1WithRSAEncryption with sha1 is a legacy algorithm" in r.reason


# -- 5. legacy_certificates against document signatures ---------------------------------------------


@pytest.mark.parametrize(("leaf_name", "digest_oid", "sig_oid", "hash_name"), [
    ("rsa_leaf", SHA1, G.RSA_ENCRYPTION, "sha1"),
    ("rsa_leaf", SHA1, SHA1_WITH_RSA, "sha1"),
    ("p256_leaf", SHA1, ECDSA_WITH_SHA1, "sha1"),
], ids=["rsa-sha1", "sha1WithRSA", "ecdsa-sha1"])
def test_legacy_certificates_never_admits_a_sha1_document_signature(pki, leaf_name, digest_oid,
                                                                     sig_oid, hash_name) -> None:
    leaf = getattr(pki, leaf_name)
    params = G.null() if sig_oid in (G.RSA_ENCRYPTION, SHA1_WITH_RSA) else None
    info = _info(CONTENT, leaf, digest_alg=G.alg(digest_oid), sig_alg=G.alg(sig_oid, params),
                 hash_name=hash_name)
    doc = _doc(info, leaf)
    r = govsig.Verifier(govsig.Policy(trust=[r.der for r in pki.roots], at=AT,
                                      legacy_certificates=True)).verify(doc)
    assert r.code == "algorithm_not_allowed", r.reason
    assert "is a legacy algorithm and the policy does not allow legacy" in r.reason
    ok = govsig.Verifier(govsig.Policy(trust=[r.der for r in pki.roots], at=AT, legacy=True)).verify(doc)
    assert ok.code == "ok", ok.reason
    assert "legacy_algorithm_signature" in ok.signers[0].warnings


def test_md5_document_signature_is_never_admitted(pki) -> None:
    """md5WithRSAEncryption is "known, and refused by policy rather than unsupported" in
    certificates (crypto/tests.rs); a document digested with MD5 gets unsupported_algorithm
    instead, under every policy."""
    leaf = pki.rsa_leaf
    info = _info(CONTENT, leaf, digest_alg=G.alg(MD5, G.null()), sig_alg=G.alg(MD5_WITH_RSA, G.null()),
                 hash_name="md5")
    got = {}
    for name, knobs in (("default", {}), ("legacy_certificates", {"legacy_certificates": True}),
                        ("legacy", {"legacy": True})):
        r = govsig.Verifier(govsig.Policy(trust=[pki.rsa_root.der], at=AT, **knobs)).verify(_doc(info, leaf))
        assert "md5" in r.reason.lower() and not r.ok
        got[name] = r.code
    assert set(got.values()) == {"algorithm_not_allowed"}, got


def test_sha1_chain_with_a_sha256_document_signature_under_legacy_certificates(pki) -> None:
    inter = sha1_cert(pki.rsa_intermediate)
    leaf = dataclasses.replace(sha1_cert(pki.rsa_leaf), issuer=inter)
    sig = G.signed_data([G.signer_info(CONTENT, leaf)], [leaf, inter], econtent=G.octets(CONTENT))
    roots = [pki.rsa_root.der]
    r = govsig.Verifier(govsig.Policy(trust=roots, at=AT)).verify(sig)
    assert r.code == "algorithm_not_allowed" and "sha1WithRSAEncryption" in r.reason
    r = govsig.Verifier(govsig.Policy(trust=roots, at=AT, legacy_certificates=True)).verify(sig)
    assert r.code == "ok", r.reason
    assert r.signers[0].warnings == ["legacy_algorithm_certificate"]
    # And a SHA-1 document signature over the same SHA-1 chain is still refused.
    info = _info(CONTENT, leaf, digest_alg=G.alg(SHA1), sig_alg=G.alg(G.RSA_ENCRYPTION, G.null()),
                 hash_name="sha1")
    r = govsig.Verifier(govsig.Policy(trust=roots, at=AT, legacy_certificates=True)).verify(
        G.signed_data([info], [leaf, inter], econtent=G.octets(CONTENT)))
    assert r.code == "algorithm_not_allowed"


def test_rekeyed_anchor_with_another_ski_is_issuer_not_found_naming_the_key_id(pki) -> None:
    # The root re-keyed under the same name: the trust store holds only the new key. The
    # leaf's AKI names the old key; the answer is "issuer not found" with that key id.
    old_root = pki.p256_root
    new_root = P.make_root("Root CA ECC thử nghiệm", "p256", seed="s24-rekeyed-root")
    assert new_root.cert.subject == old_root.cert.subject and new_root.ski != old_root.ski
    leaf = pki.p256_leaf
    sig = G.attached(CONTENT, leaf)
    r = govsig.Verifier(govsig.Policy(trust=[new_root.der], at=AT)).verify(sig)
    assert r.code == "chain_untrusted", r.reason
    assert (old_root.ski or b"").hex() in r.reason and "other key identifiers" in r.reason


def test_rekeyed_intermediate_in_the_bag_next_to_the_right_one(pki, verifier) -> None:
    # An attacker adds a same-named intermediate with another key before the real one: the
    # AKI/SKI ranking skips it and the real path is found.
    inter = pki.rsa_intermediate
    rekeyed = P.make_intermediate("CA ký số chuyên dùng thử nghiệm", pki.rsa_root, "rsa2048",
                                  seed="s24-rekeyed-int")
    assert rekeyed.cert.subject == inter.cert.subject
    leaf = pki.rsa_leaf
    sig = G.signed_data([G.signer_info(CONTENT, leaf)], [leaf, rekeyed, inter], econtent=G.octets(CONTENT))
    r = verifier.verify(sig)
    assert r.code == "ok", r.reason
    assert r.signers[0].chain[1] == inter.der
    alone = G.signed_data([G.signer_info(CONTENT, leaf)], [leaf, rekeyed], econtent=G.octets(CONTENT))
    r = verifier.verify(alone)
    assert r.code == "chain_untrusted" and (inter.ski or b"").hex() in r.reason


# -- 7. PKCS#7 v1.5 content that is not an OCTET STRING -----------------------------------------


SPC_INDIRECT_DATA = "1.3.6.1.4.1.311.2.1.4"


def _v15(pki, econtent: bytes, value: bytes) -> bytes:
    attrs = [G.attr(G.CONTENT_TYPE, G.oid(SPC_INDIRECT_DATA)),
             G.attr(G.MESSAGE_DIGEST, G.octets(G.digest_of("sha256", value)))]
    info = G.signer_info(value, pki.rsa_leaf, attrs=attrs)
    return G.signed_data([info], [pki.rsa_leaf, pki.rsa_intermediate], econtent=econtent,
                         econtent_type=SPC_INDIRECT_DATA)


def test_pkcs7_content_followed_by_a_second_element_is_malformed(pki, verifier) -> None:
    inner = G.seq(G.integer(42), G.octets("Tờ khai".encode()))
    extra = G.octets(b"smuggled")
    r = verifier.verify(_v15(pki, inner + extra, inner[2:]))
    assert r.code == "malformed", (r.code, r.reason)


def test_pkcs7_content_retagged_keeps_its_digest_and_says_so(pki, verifier) -> None:
    # The digest covers the value octets only (RFC 2315 §9.3), so the tag is not signed:
    # SEQUENCE re-tagged as SET verifies, and the result says the content is not octets.
    inner = G.seq(G.integer(42), G.octets("Tờ khai".encode()))
    value = inner[2:]
    as_set = bytes([0x31]) + inner[1:]
    r = verifier.verify(_v15(pki, as_set, value))
    assert r.code == "ok", r.reason
    assert r.signers[0].warnings == ["econtent_not_octet_string"]
    assert r.content == value


def test_pkcs7_content_empty_explicit_tag_is_not_taken_as_detached(pki, verifier) -> None:
    # eContent [0] present but empty: neither a content nor "detached" with caller content.
    info = G.signer_info(CONTENT, pki.rsa_leaf)
    encap = G.seq(G.oid(G.DATA), G.tlv(0xa0, b""))
    sd = G.seq(G.integer(1), G.der_set(G.alg(G.HASHES["sha256"][1])), encap,
               G.tlv(0xa0, pki.rsa_leaf.der + pki.rsa_intermediate.der), G.der_set(info))
    sig = G.seq(G.oid(G.SIGNED_DATA), G.tlv(0xa0, sd))
    r = verifier.verify(sig, CONTENT)
    assert r.code == "malformed", (r.code, r.reason)


# -- 2. PEM and S/MIME --------------------------------------------------------------------------------


def _openssl_smime(openssl: str, d: Path, msg: bytes, root: P.Issued) -> subprocess.CompletedProcess[bytes]:
    (d / "m.eml").write_bytes(msg)
    (d / "root.pem").write_bytes(root.pem)
    return subprocess.run([openssl, "cms", "-verify", "-in", str(d / "m.eml"), "-CAfile", str(d / "root.pem"),
                           "-purpose", "any", "-attime", str(int(AT.timestamp())), "-out", str(d / "out")],
                          capture_output=True, timeout=60)


def _crlf(msg: bytes) -> bytes:
    return msg.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def _boundary(msg: bytes) -> bytes:
    head = _crlf(msg).split(b"\r\n\r\n", 1)[0]
    return head.split(b'boundary="', 1)[1].split(b'"', 1)[0]


def _parts(msg: bytes) -> tuple[bytes, bytes, bytes, bytes]:
    """(top headers, first part, signature part, boundary) of an openssl multipart/signed,
    in CRLF form; each part without the line breaks that belong to its delimiters."""
    msg = _crlf(msg)
    b = _boundary(msg)
    head, body = msg.split(b"\r\n\r\n", 1)
    pieces = body.split(b"\r\n--" + b)
    first, second = pieces[1], pieces[2]
    assert first.startswith(b"\r\n") and second.startswith(b"\r\n")
    return head, first[2:], second[2:].rstrip(b"\r\n"), b


def _multipart(head: bytes, boundary: bytes, *parts: bytes, close: bool = True) -> bytes:
    out = head + b"\r\n\r\nThis is an S/MIME signed message\r\n\r\n"
    for p in parts:
        out += b"--" + boundary + b"\r\n" + p + b"\r\n"
    if close:
        out += b"--" + boundary + b"--\r\n"
    return out


@pytest.fixture()
def smime_msg(pki, openssl, tmp_path: Path) -> bytes:
    return _smime(openssl, tmp_path, pki.rsa_leaf, TEXT, detached=True)


def test_smime_rebuilt_by_the_parts_helper_still_verifies(pki, verifier, openssl, tmp_path, smime_msg) -> None:
    head, first, second, b = _parts(smime_msg)
    msg = _multipart(head, b, first, second)
    r = verifier.verify(msg)
    assert r.code == "ok", r.reason
    assert r.input_form == "smime-signed" and r.content == TEXT.replace(b"\n", b"\r\n")
    assert _openssl_smime(openssl, tmp_path, msg, pki.rsa_root).returncode == 0


def test_smime_signature_part_from_another_message_is_a_digest_mismatch(pki, verifier, openssl,
                                                                         tmp_path, smime_msg) -> None:
    other = _smime(openssl, tmp_path, pki.rsa_leaf, b"Quyet dinh khac\n", detached=True)
    head, first, _, b = _parts(smime_msg)
    _, _, other_sig, _ = _parts(other)
    msg = _multipart(head, b, first, other_sig)
    r = verifier.verify(msg)
    assert r.code == "digest_mismatch" and "messageDigest" in r.reason
    assert _openssl_smime(openssl, tmp_path, msg, pki.rsa_root).returncode != 0


def test_smime_attached_signature_in_the_signature_part_must_encapsulate_the_shown_part(
        pki, verifier, openssl, tmp_path, smime_msg) -> None:
    # The signature part is a valid ATTACHED signature of other text; the first part (what a
    # mail reader shows) is the attacker's. govsig must not verify the encapsulated text and
    # call the message ok.
    head, _, _, b = _parts(smime_msg)
    attached = P.sign_cms(b"Noi dung that\r\n", pki.rsa_leaf, detached=False)
    b64 = base64.encodebytes(attached).replace(b"\n", b"\r\n").rstrip()
    sig_part = (b"Content-Type: application/pkcs7-signature; name=\"smime.p7s\"\r\n"
                b"Content-Transfer-Encoding: base64\r\n\r\n" + b64)
    msg = _multipart(head, b, b"Noi dung gia mao\r\n", sig_part)
    r = verifier.verify(msg)
    assert r.code == "digest_mismatch"
    assert "encapsulates content that differs from the content given" in r.reason
    # The same signature part with the first part equal to the encapsulated text verifies.
    ok = verifier.verify(_multipart(head, b, b"Noi dung that\r\n", sig_part))
    assert ok.code == "ok", ok.reason


def test_smime_two_signature_parts_are_refused_like_openssl(pki, verifier, openssl, tmp_path, smime_msg) -> None:
    head, first, second, b = _parts(smime_msg)
    msg = _multipart(head, b, first, second, second)
    r = verifier.verify(msg)
    assert r.code == "malformed" and "has more than two parts" in r.reason
    assert _openssl_smime(openssl, tmp_path, msg, pki.rsa_root).returncode != 0


def test_smime_missing_close_delimiter_is_refused_like_openssl(pki, verifier, openssl, tmp_path, smime_msg) -> None:
    head, first, second, b = _parts(smime_msg)
    msg = _multipart(head, b, first, second, close=False)
    r = verifier.verify(msg)
    assert r.code == "malformed" and "no closing" in r.reason
    assert _openssl_smime(openssl, tmp_path, msg, pki.rsa_root).returncode != 0


def test_smime_trailing_whitespace_on_delimiters_and_folded_header(pki, verifier, openssl, tmp_path,
                                                                  smime_msg) -> None:
    head, first, second, b = _parts(smime_msg)
    msg = _multipart(head, b, first, second).replace(b"--" + b + b"\r\n", b"--" + b + b" \t\r\n")
    folded = msg.replace(b'; boundary="', b';\r\n\tboundary="', 1)
    r = verifier.verify(folded)
    assert r.code == "ok", r.reason
    assert _openssl_smime(openssl, tmp_path, folded, pki.rsa_root).returncode == 0


def test_smime_a_line_that_only_starts_with_the_delimiter_is_content(pki, verifier, openssl, tmp_path) -> None:
    """The signed text holds a line "--<boundary>-note": by RFC 2046 §5.1.1's grammar it is not
    a delimiter (only white space may follow), so govsig verifies the whole text; OpenSSL's
    mime_bound_check takes any line starting with the delimiter as one and refuses."""
    text = b"Dong 1\n--XYZ-note: not a delimiter\nDong 3\n"
    msg = _smime(openssl, tmp_path, pki.rsa_leaf, text, detached=True)
    b = _boundary(msg)
    head, first, second, _ = _parts(msg)
    rewrapped = _multipart(head.replace(b, b"XYZ"), b"XYZ", first, second)
    r = verifier.verify(rewrapped)
    assert r.code == "ok", r.reason
    assert r.content == text.replace(b"\n", b"\r\n")
    assert _openssl_smime(openssl, tmp_path, rewrapped, pki.rsa_root).returncode != 0


def test_smime_boundary_chosen_inside_the_signed_content_never_verifies_a_prefix(pki, verifier, openssl,
                                                                                 tmp_path) -> None:
    # The signed text is itself a MIME multipart; the attacker sets the outer boundary to the
    # inner one, so that the inner delimiter lines split the outer body elsewhere.
    inner = (b"Content-Type: multipart/mixed; boundary=\"IN\"\n\n--IN\nContent-Type: text/plain\n\n"
             b"Phan 1\n--IN\nContent-Type: text/plain\n\nPhan 2\n--IN--\n")
    msg = _smime(openssl, tmp_path, pki.rsa_leaf, inner, detached=True)
    assert verifier.verify(msg).code == "ok"
    b = _boundary(msg)
    head, first, second, _ = _parts(msg)
    evil = _multipart(head.replace(b, b"IN"), b"IN", first, second)
    r = verifier.verify(evil)
    assert r.code == "malformed" and "has more than two parts" in r.reason, r.reason
    assert _openssl_smime(openssl, tmp_path, evil, pki.rsa_root).returncode != 0
    # Only the part before the first inner delimiter, wrapped as the first part: a prefix of
    # what was signed, refused.
    prefix = first.split(b"\r\n--IN", 1)[0]
    r = verifier.verify(_multipart(head.replace(b, b"IN2"), b"IN2", prefix, second))
    assert r.code == "digest_mismatch"


def test_smime_signed_part_in_base64_is_verified_as_transferred(pki, verifier, openssl, tmp_path) -> None:
    # RFC 8551 §3.1: the signature covers the MIME entity as transferred (its base64 text),
    # not its decoded bytes; re-wrapping the base64 lines changes what was signed.
    payload = base64.encodebytes("Tờ khai số 24 — đính kèm".encode() * 4)
    entity = b"Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n" + payload
    (tmp_path / "in.txt").write_bytes(entity)
    (tmp_path / "s.pem").write_bytes(pki.rsa_leaf.pem)
    (tmp_path / "k.pem").write_bytes(pki.rsa_leaf.key_pem)
    (tmp_path / "chain.pem").write_bytes(pki.rsa_intermediate.pem)
    subprocess.run([openssl, "cms", "-sign", "-in", str(tmp_path / "in.txt"), "-signer", str(tmp_path / "s.pem"),
                    "-inkey", str(tmp_path / "k.pem"), "-certfile", str(tmp_path / "chain.pem"),
                    "-outform", "SMIME", "-out", str(tmp_path / "m.eml")], check=True, capture_output=True)
    msg = (tmp_path / "m.eml").read_bytes()
    r = verifier.verify(msg)
    assert r.code == "ok", r.reason
    assert r.content == entity.replace(b"\n", b"\r\n")
    head, first, second, b = _parts(msg)
    body = first.split(b"\r\n\r\n", 1)[1]
    rewrapped = first.replace(body, base64.b64encode(base64.b64decode(body)))
    assert rewrapped != first
    r = verifier.verify(_multipart(head, b, rewrapped, second))
    assert r.code == "digest_mismatch"


def test_smime_quoted_printable_signature_part_is_named(pki, verifier, smime_msg) -> None:
    head, first, second, b = _parts(smime_msg)
    qp = second.replace(b"Content-Transfer-Encoding: base64", b"Content-Transfer-Encoding: quoted-printable")
    r = verifier.verify(_multipart(head, b, first, qp))
    assert r.code == "malformed"
    assert "Content-Transfer-Encoding 'quoted-printable'; govsig reads base64, binary, 7bit and 8bit" in r.reason


def test_smime_signature_part_before_the_content_is_refused(pki, verifier, smime_msg) -> None:
    head, first, second, b = _parts(smime_msg)
    r = verifier.verify(_multipart(head, b, second, first))
    assert r.code == "malformed" and "has no ':'" in r.reason


def test_smime_content_given_beside_must_match_even_in_line_ends(pki, verifier, smime_msg) -> None:
    r = verifier.verify(smime_msg, TEXT)  # LF form of the text the message carries in CRLF
    assert r.code == "digest_mismatch" and "S/MIME message carries content that differs" in r.reason
    assert verifier.verify(smime_msg, TEXT.replace(b"\n", b"\r\n")).code == "ok"


def test_smime_signature_part_without_a_transfer_encoding_header(pki, verifier, openssl, tmp_path,
                                                                smime_msg) -> None:
    """A signature part in base64 whose Content-Transfer-Encoding header was dropped (MIME's
    default is 7bit): OpenSSL's S/MIME reader always base64-decodes the signature part and
    verifies; govsig takes the base64 text for DER and calls the message malformed. (The
    reverse, a DER part declared binary, govsig verifies and OpenSSL refuses.)"""
    head, first, second, b = _parts(smime_msg)
    msg = _multipart(head, b, first, second.replace(b"Content-Transfer-Encoding: base64\r\n", b""))
    assert _openssl_smime(openssl, tmp_path, msg, pki.rsa_root).returncode == 0
    r = verifier.verify(msg)
    assert r.code == "ok", (r.code, r.reason)


def test_pkcs7_mime_holding_a_detached_signature_needs_its_content(pki, verifier) -> None:
    detached = P.sign_cms(CONTENT, pki.rsa_leaf, detached=True)
    msg = (b"MIME-Version: 1.0\r\nContent-Type: application/pkcs7-mime; smime-type=signed-data; name=smime.p7m\r\n"
           b"Content-Transfer-Encoding: base64\r\n\r\n" + base64.encodebytes(detached))
    r = verifier.verify(msg)
    assert r.code == "content_missing" and r.input_form == "smime-opaque"
    assert verifier.verify(msg, CONTENT).code == "ok"
    assert verifier.verify(msg, CONTENT + b"x").code == "digest_mismatch"


def test_pkcs7_mime_certs_only_is_not_a_signature(pki, verifier) -> None:
    msg = (b"Content-Type: application/pkcs7-mime; smime-type=certs-only\r\n"
           b"Content-Transfer-Encoding: base64\r\n\r\n" + base64.encodebytes(pki.rsa_leaf.der))
    r = verifier.verify(msg)
    assert r.code == "malformed" and "smime-type=certs-only, not signed-data" in r.reason


def test_pem_label_mismatch_and_second_block(pki, verifier) -> None:
    attached = P.sign_cms(CONTENT, pki.rsa_leaf, detached=False)
    pem = _pem("CMS", attached)
    r = verifier.verify(pem.replace(b"-----END CMS-----", b"-----END PKCS7-----"))
    assert r.code == "malformed" and "no '-----END CMS-----' line" in r.reason
    # Two blocks: the first is read; a forged second block changes nothing.
    other = _pem("PKCS7", P.sign_cms(b"khac", pki.rsa_leaf, detached=False))
    r = verifier.verify(pem + other)
    assert r.code == "ok" and r.content == CONTENT
    r = verifier.verify(b"  \r\n\t" + pem)
    assert r.code == "ok" and r.input_form == "pem"


def test_pem_with_explanatory_text_before_the_boundary_verifies_like_openssl(pki, verifier, openssl,
                                                                           tmp_path) -> None:
    """RFC 7468 §2: "Data before the encapsulation boundaries are permitted, and parsers MUST
    NOT malfunction when processing such data." OpenSSL verifies such a file; govsig reads it
    as DER and refuses it."""
    signed = P.sign_cms(CONTENT, pki.rsa_leaf, detached=False)
    data = b"Quyet dinh 24, ban ky (PKCS#7)\n" + _pem("PKCS7", signed)
    (tmp_path / "s.pem").write_bytes(data)
    (tmp_path / "root.pem").write_bytes(pki.rsa_root.pem)
    p = subprocess.run([openssl, "cms", "-verify", "-inform", "PEM", "-in", str(tmp_path / "s.pem"),
                        "-CAfile", str(tmp_path / "root.pem"), "-purpose", "any",
                        "-attime", str(int(AT.timestamp())), "-out", os.devnull], capture_output=True, timeout=60)
    assert p.returncode == 0, p.stderr
    r = verifier.verify(data)
    assert r.code == "ok", (r.code, r.reason)


@pytest.mark.parametrize("data", [
    b"\x04\x03abc",
    b"\x30\x03\x02\x01\x00",
], ids=["octet-string", "sequence-of-integer"])
def test_malformed_reasons_are_sentences_not_rust_debug_text(verifier, data) -> None:
    """Issue 11 item 11: "a malformed input gets a message for a person, not a parser's debug
    text". The reason shows rust-asn1's Debug form of a tag: "Tag { value: 4, constructed:
    false, class: Universal }"."""
    r = verifier.verify(data)
    assert r.code == "malformed"
    assert "Tag {" not in r.reason and "class:" not in r.reason, r.reason


def _spoofed(msg: bytes, how: str) -> bytes:
    """The signed message with an unsigned second reading: a mail reader that takes the other
    Content-Type header (or the other boundary parameter) shows the attacker's text as the
    first part, while govsig verifies the real one. The decoy parts sit in the preamble, which
    nothing signs."""
    head, first, second, b = _parts(msg)
    decoy = (b"--EVIL\r\nContent-Type: text/plain\r\n\r\nChuyen 500.000.000 dong cho ke gian\r\n"
             b"--EVIL\r\n" + second + b"\r\n--EVIL--\r\n")
    if how == "header":
        head = head + b'\r\nContent-Type: multipart/signed; protocol="application/pkcs7-signature"; boundary="EVIL"'
    else:
        head = head.replace(b'boundary="' + b + b'"', b'boundary="' + b + b'"; boundary="EVIL"')
    body = b"\r\n\r\n" + decoy + b"\r\n"
    for p in (first, second):
        body += b"--" + b + b"\r\n" + p + b"\r\n"
    return head + body + b"--" + b + b"--\r\n"


@pytest.mark.parametrize("how", ["header", "parameter"])
def test_smime_two_readings_of_the_top_level_content_type_are_refused(pki, verifier, openssl, tmp_path,
                                                                       smime_msg, how) -> None:
    """Two Content-Type headers, or two boundary parameters, give the message two readings
    (MIME-wrapping spoofing, as in "Johnny, you are fired", USENIX Security 2019): govsig takes
    the first and says ok about the signed part, while a reader that takes the other shows the
    attacker's part. An S/MIME verifier must refuse the ambiguity, not pick one."""
    msg = _spoofed(smime_msg, how)
    # OpenSSL (and Python's email package) also take the first: no peer refuses it either.
    assert _openssl_smime(openssl, tmp_path, msg, pki.rsa_root).returncode == 0
    r = verifier.verify(msg)
    assert r.code == "malformed", (r.code, r.reason, r.content)


def test_smime_line_ending_cr_cr_lf_is_canonicalised_as_openssl_does(pki, verifier, openssl, tmp_path,
                                                                      smime_msg) -> None:
    """A gateway that converts line ends twice turns CRLF into CR CR LF. OpenSSL's S/MIME
    reader strips every CR before the LF of each line (strip_eol) and still verifies;
    govsig keeps the extra CR in the canonical form and reports a digest mismatch."""
    head, first, second, b = _parts(smime_msg)
    doubled = _multipart(head, b, first.replace(b"\r\n", b"\r\r\n"), second)
    assert _openssl_smime(openssl, tmp_path, doubled, pki.rsa_root).returncode == 0
    r = verifier.verify(doubled)
    assert r.code == "ok", (r.code, r.reason)


# -- 3. PKCS#7 certs-only bundles -------------------------------------------------------------------


def _bundle(certs: bytes, *, signers: bytes = b"", crls: bytes = b"") -> bytes:
    sd = G.seq(G.integer(1), G.der_set(), G.seq(G.oid(G.DATA)), G.tlv(0xa0, certs),
               G.tlv(0xa1, crls) if crls else b"", G.tlv(0x31, signers))
    return G.seq(G.oid(G.SIGNED_DATA), G.tlv(0xa0, sd))


def _ber_bundle(certs: bytes) -> bytes:
    """The same certs-only SignedData with every constructed length indefinite (BER)."""
    def indef(tag: int, body: bytes) -> bytes:
        return bytes([tag, 0x80]) + body + b"\x00\x00"
    sd = indef(0x30, G.integer(1) + G.der_set() + indef(0x30, G.oid(G.DATA)) + indef(0xa0, certs) + indef(0x31, b""))
    return indef(0x30, G.oid(G.SIGNED_DATA) + indef(0xa0, sd))


def test_a_signed_document_is_not_a_certs_only_bundle_of_anchors(pki, tmp_path) -> None:
    """A .p7b that is really a signed document (a SignerInfo, its signer's certificate and
    chain in the bag): read as a bundle, its leaf and intermediate become trust anchors. A
    certs-only bundle has no signer (RFC 8551 §3.8: a degenerate SignedData); one with
    signers is a signature given where anchors were expected, and should be refused."""
    signed = P.sign_cms(CONTENT, pki.rsa_leaf, detached=False)
    f = tmp_path / "ca-bundle.p7b"
    f.write_bytes(signed)
    with pytest.raises(ValueError, match="signer|certs-only"):
        ts = govsig.TrustStore.from_files([f])
        pytest.fail(f"a signed document became {len(ts)} trust anchors: {ts!r}")


def test_bundle_with_crls_and_ber_lengths_gives_its_certificates(pki, tmp_path) -> None:
    crl = (x509.CertificateRevocationListBuilder().issuer_name(pki.rsa_root.cert.subject)
           .last_update(AT - dt.timedelta(days=1)).next_update(AT + dt.timedelta(days=7))
           .sign(pki.rsa_root.key, hashes.SHA256()))  # type: ignore[arg-type]
    from cryptography.hazmat.primitives.serialization import Encoding

    der = _bundle(pki.rsa_root.der + pki.p256_root.der, crls=crl.public_bytes(Encoding.DER))
    (tmp_path / "with-crl.p7c").write_bytes(der)
    assert set(govsig.TrustStore.from_files([tmp_path / "with-crl.p7c"]).certificates) == {r.der for r in pki.roots}
    ber = _ber_bundle(pki.rsa_intermediate.der)
    sig = P.sign_cms(TEXT, pki.rsa_leaf, detached=False, include_chain=False)
    v = govsig.Verifier(govsig.Policy(trust=[pki.rsa_root.der], intermediates=ber, at=AT))
    assert v.verify(sig).code == "ok"


def test_bundle_with_a_non_certificate_is_refused_or_skipped_by_kind(pki) -> None:
    # Garbage where a certificate belongs: refused, saying the certificate is not valid.
    with pytest.raises(ValueError, match="not a valid X.509 certificate"):
        govsig.TrustStore([_bundle(pki.rsa_root.der + G.seq(G.integer(0)))])
    # An attribute certificate ([1], another CertificateChoices): not an anchor, skipped.
    ts = govsig.TrustStore([_bundle(pki.rsa_root.der + G.tlv(0xa1, G.seq(G.integer(0))))])
    assert ts.certificates == (pki.rsa_root.der,)
    # A bundle with no certificate at all says so.
    with pytest.raises(ValueError, match="holds no certificate"):
        govsig.TrustStore([_bundle(G.tlv(0xa1, G.seq(G.integer(0))))])


def test_trust_store_reads_openssl_x509_text_output(pki, openssl, tmp_path) -> None:
    """`openssl x509 -text` writes the certificate's description, then its PEM block: a file
    many CAs publish and OpenSSL reads. RFC 7468 §2 permits text before the boundary; govsig
    takes the file for DER and refuses it with rust-asn1's debug text."""
    (tmp_path / "root.pem").write_bytes(pki.rsa_root.pem)
    text = subprocess.run([openssl, "x509", "-in", str(tmp_path / "root.pem"), "-text"], check=True,
                          capture_output=True, timeout=60).stdout
    assert text.startswith(b"Certificate:") and b"-----BEGIN CERTIFICATE-----" in text
    (tmp_path / "root-text.pem").write_bytes(text)
    assert subprocess.run([openssl, "x509", "-in", str(tmp_path / "root-text.pem"), "-noout"],
                          capture_output=True, timeout=60).returncode == 0
    ts = govsig.TrustStore.from_files([tmp_path / "root-text.pem"])
    assert ts.certificates == (pki.rsa_root.der,)


def test_from_dir_with_a_fifo_a_device_link_and_a_dangling_link_never_blocks(pki, tmp_path) -> None:
    from test_attack_s23_bounds import child

    d = tmp_path / "anchors"
    d.mkdir()
    (d / "roots.p7b").write_bytes(_bundle(pki.rsa_root.der))
    os.mkfifo(d / "zz-fifo.pem")
    code = ("import sys, govsig\n"
            "try:\n"
            "    print('result', len(govsig.TrustStore.from_dir(sys.argv[1])))\n"
            "except Exception as e:\n"
            "    print('raised', type(e).__name__, str(e))\n")
    p = child([str(d)], code=code)
    out = p.stdout.decode()
    assert out.startswith("raised ValueError") and "is a FIFO" in out and "zz-fifo.pem" in out, out
    os.unlink(d / "zz-fifo.pem")
    os.symlink("/dev/zero", d / "zero.der")
    out = child([str(d)], code=code).stdout.decode()
    assert out.startswith("raised ValueError") and "is a device" in out, out
    os.unlink(d / "zero.der")
    os.symlink("missing.pem", d / "dangling.pem")
    out = child([str(d)], code=code).stdout.decode()
    assert out.startswith("raised FileNotFoundError") and "dangling.pem" in out, out


def test_bundle_and_signature_nested_past_the_ber_depth_bound_say_so_in_the_users_terms(verifier) -> None:
    """A BER certs-only bundle (or signature) nested 100,000 indefinite-length SEQUENCEs deep
    is refused at once; the reason tells a Python user to "raise Limits::max_depth", a Rust
    struct of govsig-asn1 that no govsig knob reaches (issue 11 item 12: reasons never show
    internal names)."""
    deep = b"\x30\x80" * 100_000 + b"\x00\x00" * 100_000
    with pytest.raises(ValueError, match="nested more than 64 constructed elements deep") as info:
        govsig.TrustStore([_ber_bundle(deep)])
    r = verifier.verify(_ber_bundle(deep))
    assert r.code == "malformed" and "nested more than 64 constructed elements deep" in r.reason
    assert "Limits::" not in str(info.value) and "Limits::" not in r.reason, r.reason


# -- 8. the command line ------------------------------------------------------------------------------


def _sign_argv(tmp_pki_dir: Path, *files: Path) -> list[str]:
    return ["sign", *map(str, files), "--key", str(tmp_pki_dir / "p256_leaf.key.pem"),
            "--cert", str(tmp_pki_dir / "p256_leaf.pem")]


def test_sign_suffix_that_names_another_folder_is_a_usage_error_not_a_traceback(tmp_pki_dir, tmp_path) -> None:
    from test_attack_s23_bounds import child

    doc = tmp_path / "to-khai.txt"
    doc.write_bytes(b"noi dung")
    p = child([*_sign_argv(tmp_pki_dir, doc), "--suffix", "/../../evil.p7s"])
    err = p.stderr.decode()
    assert "Traceback" not in err, err
    assert p.returncode == 2 and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path.parent / "evil.p7s").exists()


def test_sign_empty_suffix_never_replaces_the_document_with_its_signature(tmp_pki_dir, tmp_path, capsys) -> None:
    """`--suffix ''` makes the output name the input's; with --force the document is replaced
    by its own detached signature and the signed content is gone. `sign-pdf` refuses the same
    ("the output must not be the input file")."""
    doc = tmp_path / "quyet-dinh.txt"
    doc.write_bytes(b"van ban goc")
    rc = main([*_sign_argv(tmp_pki_dir, doc), "--suffix", "", "--force"])
    err = capsys.readouterr().err
    assert doc.read_bytes() == b"van ban goc", (rc, err)
    assert rc == 2 and "input" in err, err


def test_sign_output_path_holding_a_symlink_is_never_written_through(pki, tmp_pki_dir, tmp_path, capsys) -> None:
    doc = tmp_path / "cong-van.txt"
    doc.write_bytes(b"cong van")
    victim = tmp_path / "victim.txt"
    victim.write_bytes(b"untouched")
    out = tmp_path / "cong-van.txt.p7s"
    out.symlink_to(victim)
    assert main(_sign_argv(tmp_pki_dir, doc)) == 2
    assert "exists; pass --force" in capsys.readouterr().err
    assert victim.read_bytes() == b"untouched"
    # A dangling link: `exists()` says no, and the no-clobber link still refuses it.
    out.unlink()
    out.symlink_to(tmp_path / "planted-target")
    assert main(_sign_argv(tmp_pki_dir, doc)) == 2
    assert "appeared while signing; pass --force" in capsys.readouterr().err
    assert not (tmp_path / "planted-target").exists() and out.is_symlink()
    # --force replaces the link itself, never its target.
    out.unlink()
    out.symlink_to(victim)
    assert main([*_sign_argv(tmp_pki_dir, doc), "--force"]) == 0
    assert victim.read_bytes() == b"untouched" and not out.is_symlink()
    v = govsig.Verifier(govsig.Policy(trust=[pki.p256_root.der]))
    assert v.verify(out.read_bytes(), b"cong van").code == "ok"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_sign_into_a_folder_it_cannot_write_is_one_line(tmp_pki_dir, tmp_path, capsys, monkeypatch) -> None:
    # (The suite runs as root, for whom mode 0555 changes nothing: the refusal is simulated
    # where the writer meets it, creating its temporary file.)
    import tempfile

    import govsig._cli_sign as cli_sign

    def denied(*a, **kw):
        raise PermissionError(13, "Permission denied", str(kw.get("dir", "")))

    monkeypatch.setattr(tempfile, "mkstemp", denied)
    doc = tmp_path / "bao-cao.txt"
    doc.write_bytes(b"bao cao")
    assert cli_sign.tempfile is tempfile
    assert main(_sign_argv(tmp_pki_dir, doc)) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Permission denied" in err and str(tmp_path) in err
    assert not (tmp_path / "bao-cao.txt.p7s").exists()


def test_a_pin_glued_to_a_short_option_is_not_echoed(capsys) -> None:
    """`pkcs11-tool -p PIN` is how token users log in; typed as `-p987654` here, argparse
    leaves it unrecognised and govsig's message prints it whole: the PIN reaches the terminal
    and the logs."""
    for argv in (["verify", "x.p7s", "--trust", "t.pem", "-p987654"],
                 ["pkcs11", "keys", "--module", "m.so", "-p987654"],
                 ["sign", "x", "--key", "k", "--cert", "c", "-P987654"]):
        with pytest.raises(SystemExit) as info:
            main(argv)
        assert info.value.code == 2
        captured = capsys.readouterr()
        assert "unrecognized arguments" in captured.err
        assert "987654" not in captured.err + captured.out, (argv, captured.err)


def test_a_pin_run_on_to_a_mistyped_long_option_is_not_echoed(capsys) -> None:
    """`--pi1234` (a mistyped --pin with its value run on) is no option's name: the name is
    shown up to the first character an option name cannot hold, never the value."""
    with pytest.raises(SystemExit) as info:
        main(["verify", "x.p7s", "--trust", "t.pem", "--pi1234"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "--pi\u2026" in err and "1234" not in err, err


def test_cli_verify_prints_nul_cr_c1_and_separators_inert(pki, tmp_path, capsys) -> None:
    from test_attack_round4 import HOSTILE, raw_unsafe

    cn = "A\x00B\rC" + HOSTILE
    root = P.make_root("Gốc S24 CLI", "p256", seed="s24-cli-root")
    leaf = P.make_leaf(cn, root, "p256", seed="s24-cli-leaf", org=cn)
    sig = tmp_path / "ho so\r\u202e.p7m"
    sig.write_bytes(P.sign_cms(b"noi dung", leaf, detached=False))
    (tmp_path / "root.pem").write_bytes(root.pem)
    (tmp_path / "other.pem").write_bytes(pki.p256_root.pem)
    for trust, rc in (("root.pem", 0), ("other.pem", 1)):
        for extra in ([], ["--json"]):
            got = main(["verify", str(sig), "--trust", str(tmp_path / trust), *extra])
            out = capsys.readouterr().out
            assert got == rc, out
            assert raw_unsafe(out) == [] and "\r" not in out, repr(out)
            if not extra:
                assert out.count("\n") == 2, out
                assert "A\\x00B\\x0dC" in out


def test_sign_json_and_errors_print_hostile_file_names_inert(pki, tmp_pki_dir, tmp_path, capsys) -> None:
    from test_attack_round4 import raw_unsafe

    doc = tmp_path / "to\x1b[2J\u202ekhai\u2028.txt"
    doc.write_bytes(b"noi dung")
    assert main([*_sign_argv(tmp_pki_dir, doc), "--json"]) == 0
    out = capsys.readouterr().out
    assert raw_unsafe(out) == [] and out.count("\n") == 1, repr(out)
    assert main(_sign_argv(tmp_pki_dir, tmp_path / "missing\x1b]0;x\x07\n.txt")) == 2
    err = capsys.readouterr().err
    assert raw_unsafe(err) == [] and err.count("\n") == 1 and "not a file" in err, repr(err)


# -- dossiers: a signed bag, and 9. inclusion proofs --------------------------------------------------


def _signed_bag(pki, tmp_path: Path, name: str, files: dict[str, bytes]) -> Path:
    folder = tmp_path / f"{name}-src"
    folder.mkdir()
    for k, v in files.items():
        (folder / k).write_bytes(v)
    d = govsig.Dossier.hash(folder)
    bag = d.write_bag(tmp_path / name)
    govsig.Dossier.from_bag(bag).sign(govsig.KeySigner(pki.p256_leaf.key, pki.p256_leaf.cert))
    return bag


def test_dossier_signature_moved_from_another_trusted_bag_fails(pki, tmp_path, capsys) -> None:
    a = _signed_bag(pki, tmp_path, "bag-a", {"to-khai.txt": b"A"})
    b = _signed_bag(pki, tmp_path, "bag-b", {"to-khai.txt": b"B"})
    root = tmp_path / "root.pem"
    root.write_bytes(pki.p256_root.pem)
    argv = ["dossier", "verify", str(a), "--no-progress", "--trust", str(root)]
    assert main(argv) == 0, capsys.readouterr().out
    capsys.readouterr()
    sig_a = govsig.Dossier.from_bag(a).signature_path()
    sig_a.write_bytes(govsig.Dossier.from_bag(b).signature_path().read_bytes())
    assert main(argv) == 1
    out = capsys.readouterr().out
    assert "signature: digest_mismatch" in out
    # An attached signature of bag B's tag manifest: its own content is not A's manifest.
    tm_b = govsig.Dossier.from_bag(b).tag_manifest()
    sig_a.write_bytes(govsig.sign(tm_b, govsig.KeySigner(pki.p256_leaf.key, pki.p256_leaf.cert), detached=False))
    assert main(argv) == 1
    assert "encapsulates content that differs" in capsys.readouterr().out


def test_dossier_second_manifest_algorithm_added_by_the_attacker(pki, tmp_path, capsys) -> None:
    import hashlib

    bag = _signed_bag(pki, tmp_path, "bag", {"a.txt": b"goc", "b.txt": b"goc b"})
    root = tmp_path / "root.pem"
    root.write_bytes(pki.p256_root.pem)
    (bag / "data" / "a.txt").write_bytes(b"gia mao")
    # The attacker's manifests in another algorithm, consistent with the altered payload.
    lines = "".join(f"{hashlib.sha512((bag / 'data' / n).read_bytes()).hexdigest()}  data/{n}\n"
                    for n in ("a.txt", "b.txt"))
    (bag / "manifest-sha512.txt").write_text(lines)
    tags = "".join(f"{hashlib.sha512((bag / n).read_bytes()).hexdigest()}  {n}\n"
                   for n in ("bagit.txt", "bag-info.txt", "manifest-sha512.txt"))
    (bag / "tagmanifest-sha512.txt").write_text(tags)
    for extra, says in (([], "modified  a.txt"),
                        (["--algorithm", "sha512"], "signature: none (required: --trust was given")):
        assert main(["dossier", "verify", str(bag), "--no-progress", "--trust", str(root), *extra]) == 1, extra
        out = capsys.readouterr().out
        assert says in out, out


def test_dossier_signature_left_without_its_tag_manifest_is_one_line(pki, tmp_path, capsys) -> None:
    bag = _signed_bag(pki, tmp_path, "bag", {"a.txt": b"A"})
    root = tmp_path / "root.pem"
    root.write_bytes(pki.p256_root.pem)
    (bag / "tagmanifest-sha256.txt").unlink()
    assert main(["dossier", "verify", str(bag), "--no-progress", "--trust", str(root)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "has no tagmanifest-sha256.txt" in err, err


def test_inclusion_proof_replayed_with_another_size_on_the_command_line(tmp_path, capsys) -> None:
    import json

    from test_dossier_merkle import synthetic_dossier

    d, paths, files = synthetic_dossier(4)
    f = tmp_path / "doc.pdf"
    f.write_bytes(files[0])
    proof = d.proof(paths[0])
    good = tmp_path / "p.json"
    good.write_text(proof.to_json())
    assert main(["dossier", "check-proof", str(f), paths[0], str(good), d.hexroot, "--tree-size", "4"]) == 0
    capsys.readouterr()
    for claimed, size in ((3, "4"), (4, "3"), (4, "5"), (5, "5")):
        bad = tmp_path / f"p{claimed}.json"
        bad.write_text(json.dumps({**json.loads(proof.to_json()), "tree_size": claimed}))
        rc = main(["dossier", "check-proof", str(f), paths[0], str(bad), d.hexroot, "--tree-size", size])
        out = capsys.readouterr()
        assert rc == 1 and "FAILED: the proof does not hold" in out.out, (claimed, size, out)
    # Another dossier's root with this proof, whatever the size claimed.
    other, _, _ = synthetic_dossier(4, seed=1)
    assert main(["dossier", "check-proof", str(f), paths[0], str(good), other.hexroot, "--tree-size", "4"]) == 1


def test_inclusion_relpath_with_a_newline_cannot_forge_a_manifest_line() -> None:
    from test_dossier_merkle import synthetic_dossier

    d, paths, files = synthetic_dossier(3)
    p = d.proof(paths[1])
    for rel in (paths[1] + "\n", paths[1] + "\r", "./" + paths[1], "data/" + paths[1], paths[1] + "\x00"):
        try:
            assert not govsig.verify_inclusion(files[1], rel, p, d), rel
        except govsig.DossierError:
            pass
