"""CMS as real signers write it (issue 11, items 6-10): SHA-3, a signature OID as
digestAlgorithm, signed-attribute syntax, PKCS#7 v1.5 content that is not an OCTET STRING,
several certificates under one signer identifier. Fixtures are built in the test (tests/cmsgen.py,
tests/pki.py, the openssl CLI); where OpenSSL has an opinion, it is asked in the same test."""
from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa

import cmsgen as G
import govsig
import pki as P

AT = dt.datetime(2026, 6, 1, tzinfo=dt.timezone.utc)
CONTENT = "Quyết định số 15/2025 — bản ký".encode()


@pytest.fixture(scope="module")
def verifier(pki) -> govsig.Verifier:
    return govsig.Verifier(govsig.Policy(trust=[r.der for r in pki.roots], at=AT))


# -- 6. SHA-3 ------------------------------------------------------------------------------------

# OpenSSL 3.0 cannot write an RSA-PSS AlgorithmIdentifier over SHA-3 (cms -sign -keyopt
# rsa_padding_mode:pss -md sha3-256 fails in rsa_generate_signature_aid): RSA-PSS with SHA-3
# is built with pyca/cryptography below and checked with `openssl cms -verify` instead. The
# same for ECDSA: OpenSSL 3.0's CMS_add1_signer refuses ECDSA with SHA-3 ("unsupported
# signature algorithm"), though it verifies it.
OPENSSL_SHA3 = [
    ("rsa_leaf", "sha3-256", False),
    ("rsa_leaf", "sha3-384", False),
    ("rsa_leaf", "sha3-512", False),
    ("rsa3072_leaf", "sha3-256", False),
]


@pytest.mark.parametrize(("leaf", "digest", "pss"), OPENSSL_SHA3,
                         ids=[f"{l}-{d}{'-pss' if p else ''}" for l, d, p in OPENSSL_SHA3])
def test_sha3_signed_by_openssl_verifies(pki, verifier, openssl, leaf, digest, pss) -> None:
    signer = getattr(pki, leaf)
    sig = P.sign_cms(CONTENT, signer, digest=digest, pss=pss, engine="openssl", detached=False)
    assert P.openssl_verify(sig, signer.root, attime=AT).returncode == 0
    r = verifier.verify(sig)
    assert r.code == "ok", r.reason
    assert r.signers[0].digest_algorithm == digest
    if pss:
        assert r.signers[0].signature_algorithm == "rsassa-pss"
    # Tampered: the signature value, then the encapsulated content; OpenSSL refuses both too.
    bad_sig = P.tamper_signature(sig)
    assert verifier.verify(bad_sig).code == "signature_invalid"
    assert P.openssl_verify(bad_sig, signer.root, attime=AT).returncode != 0
    bad_content = P.tamper_encapsulated(sig)
    assert verifier.verify(bad_content).code == "digest_mismatch"
    assert P.openssl_verify(bad_content, signer.root, attime=AT).returncode != 0


@pytest.mark.parametrize(("leaf", "digest", "sig_oid"), [
    ("rsa_leaf", "sha3-256", "2.16.840.1.101.3.4.3.14"),
    ("rsa_leaf", "sha3-384", "2.16.840.1.101.3.4.3.15"),
    ("rsa_leaf", "sha3-512", "2.16.840.1.101.3.4.3.16"),
    ("p256_leaf", "sha3-256", "2.16.840.1.101.3.4.3.10"),
    ("p384_leaf", "sha3-384", "2.16.840.1.101.3.4.3.11"),
    ("p521_leaf", "sha3-512", "2.16.840.1.101.3.4.3.12"),
    ("p256_leaf", "sha3-512", "2.16.840.1.101.3.4.3.12"),
])
def test_sha3_signature_oids_verify(pki, verifier, openssl, leaf, digest, sig_oid) -> None:
    signer = getattr(pki, leaf)
    params = G.null() if leaf.startswith("rsa") else None
    sig = G.attached(CONTENT, signer, digest=digest, signature_alg=G.alg(sig_oid, params))
    r = verifier.verify(sig)
    assert r.code == "ok", r.reason
    assert "sha3" in (r.signers[0].signature_algorithm or "")
    assert P.openssl_verify(sig, signer.root, attime=AT).returncode == 0
    bad = P.tamper_signature(sig)
    assert verifier.verify(bad).code == "signature_invalid"
    assert P.openssl_verify(bad, signer.root, attime=AT).returncode != 0


@pytest.mark.parametrize("digest", ["sha3-256", "sha3-384", "sha3-512"])
def test_sha3_rsa_pss_verifies(pki, verifier, openssl, digest) -> None:
    sig = G.attached(CONTENT, pki.rsa_leaf, digest=digest, pss=True)
    r = verifier.verify(sig)
    assert r.code == "ok", r.reason
    assert (r.signers[0].digest_algorithm, r.signers[0].signature_algorithm) == (digest, "rsassa-pss")
    assert P.openssl_verify(sig, pki.rsa_root, attime=AT).returncode == 0
    bad = P.tamper_signature(sig)
    assert verifier.verify(bad).code == "signature_invalid"
    assert P.openssl_verify(bad, pki.rsa_root, attime=AT).returncode != 0


def test_sha3_224_is_refused_naming_the_backend(pki, verifier) -> None:
    info = G.signer_info(CONTENT, pki.rsa_leaf, digest_alg=G.alg("2.16.840.1.101.3.4.2.7"))
    sig = G.signed_data([info], [pki.rsa_leaf, pki.rsa_intermediate], econtent=G.octets(CONTENT))
    r = verifier.verify(sig)
    assert r.code == "unsupported_algorithm"
    assert "sha3-224" in r.reason and "aws-lc-rs" in r.reason


def test_sha3_224_signature_oid_is_refused_by_name(pki, verifier) -> None:
    sig = G.attached(CONTENT, pki.p256_leaf, signature_alg=G.alg("2.16.840.1.101.3.4.3.9"))
    r = verifier.verify(sig)
    assert r.code == "unsupported_algorithm"
    assert "id-ecdsa-with-sha3-224" in r.reason


def test_signing_with_sha3_says_why_not(pki) -> None:
    # One DigestAlgorithm for the workspace: signing knows SHA-3 and explains its refusal.
    signer = govsig.KeySigner(pki.rsa_leaf.key, pki.rsa_leaf.cert)
    with pytest.raises(ValueError, match="verifies SHA-3 signatures, but aws-lc-rs"):
        govsig.sign(CONTENT, signer, digest="sha3-256")  # type: ignore[arg-type]


# -- 7. digestAlgorithm holding a signature OID ------------------------------------------------


@pytest.mark.parametrize(("leaf", "sig_oid"), [("rsa_leaf", G.SHA256_WITH_RSA),
                                               ("p256_leaf", G.ECDSA_WITH_SHA256)])
def test_signature_oid_as_digest_algorithm_is_read_as_its_hash(pki, verifier, openssl,
                                                               leaf, sig_oid) -> None:
    signer = getattr(pki, leaf)
    params = G.null() if leaf.startswith("rsa") else None
    sig = G.attached(CONTENT, signer, digest_alg=G.alg(sig_oid, params))
    r = verifier.verify(sig)
    assert r.code == "ok", r.reason
    s = r.signers[0]
    assert s.digest_algorithm == "sha256"
    assert s.warnings == ["digest_algorithm_is_signature_algorithm"]
    ((code, detail),) = s.warning_details
    assert code == "digest_algorithm_is_signature_algorithm" and "instead of a digest algorithm" in detail
    # The same signature with sha256 in digestAlgorithm (what the signer meant) verifies in
    # OpenSSL; OpenSSL 3.0 itself no longer maps the signature OID to its hash (1.1 did,
    # through the digest-name aliases; BouncyCastle does), so it is not the peer here.
    meant = G.attached(CONTENT, signer)
    assert P.openssl_verify(meant, signer.root, attime=AT).returncode == 0
    assert verifier.verify(meant).signers[0].warnings == []


def test_plain_signature_has_no_warnings(pki, verifier) -> None:
    r = verifier.verify(G.attached(CONTENT, pki.rsa_leaf))
    assert r.code == "ok" and r.signers[0].warnings == []


# -- 8. signed attributes ----------------------------------------------------------------------


def _with_attrs(pki, attrs: list[bytes]) -> bytes:
    return G.attached(CONTENT, pki.rsa_leaf, attrs=attrs)


def _base(content: bytes = CONTENT) -> dict[str, bytes]:
    a = G.default_attrs(content, "sha256")
    return {"ct": a[0], "st": a[1], "md": a[2]}


def test_utctime_with_offset_is_named(pki, verifier, openssl) -> None:
    b = _base()
    b["st"] = G.attr(G.SIGNING_TIME, G.utc_time("260501163000+0700"))
    r = verifier.verify(_with_attrs(pki, list(b.values())))
    assert r.code == "signed_attributes_invalid"
    assert "UTCTime with a timezone offset" in r.reason and "+0700" in r.reason


@pytest.mark.parametrize(("key", "value", "named"), [
    ("ct", G.attr(G.CONTENT_TYPE, G.integer(7)), "contentType"),
    ("md", G.attr(G.MESSAGE_DIGEST, G.integer(7)), "messageDigest"),
    ("st", G.attr(G.SIGNING_TIME, G.octets(b"yesterday")), "signingTime"),
    ("st", G.attr(G.SIGNING_TIME, G.tlv(0x18, b"20260501093000.000Z")), "GeneralizedTime"),
], ids=["contentType-not-oid", "messageDigest-not-octets", "signingTime-not-time",
        "signingTime-fraction"])
def test_attribute_syntax_is_checked_per_type(pki, verifier, key, value, named) -> None:
    b = _base()
    b[key] = value
    r = verifier.verify(_with_attrs(pki, list(b.values())))
    assert r.code == "signed_attributes_invalid"
    assert named in r.reason


def test_message_digest_of_the_wrong_length(pki, verifier) -> None:
    b = _base()
    b["md"] = G.attr(G.MESSAGE_DIGEST, G.octets(G.digest_of("sha256", CONTENT)[:31]))
    r = verifier.verify(_with_attrs(pki, list(b.values())))
    assert r.code == "signed_attributes_invalid"
    assert "messageDigest" in r.reason and "31 octets" in r.reason


def test_single_instance_attributes_may_not_repeat(pki, verifier) -> None:
    b = list(_base().values())
    b.append(G.attr(G.SIGNING_TIME, G.utc_time("260502093000Z")))
    r = verifier.verify(_with_attrs(pki, b))
    assert r.code == "signed_attributes_invalid"
    assert "signingTime appears more than once" in r.reason
    c = list(_base().values())
    c[1] = G.attr(G.SIGNING_TIME, G.utc_time("260501093000Z"), G.utc_time("260502093000Z"))
    r = verifier.verify(_with_attrs(pki, c))
    assert r.code == "signed_attributes_invalid" and "exactly one" in r.reason


def test_other_attributes_may_repeat(pki, verifier, openssl) -> None:
    b = list(_base().values())
    # Two content time-stamps (RFC 5652 §11 has no "at most once" for them): legal.
    b.append(G.attr(G.CONTENT_TIMESTAMP, G.seq(G.integer(1))))
    b.append(G.attr(G.CONTENT_TIMESTAMP, G.seq(G.integer(2))))
    sig = _with_attrs(pki, b)
    r = verifier.verify(sig)
    assert r.code == "ok", r.reason
    assert P.openssl_verify(sig, pki.rsa_root, attime=AT).returncode == 0


def _protection(digest_alg: bytes, signature_alg: bytes) -> bytes:
    # CMSAlgorithmProtection (RFC 6211 §2): signatureAlgorithm is [1] IMPLICIT.
    return G.attr(G.ALGORITHM_PROTECTION, G.seq(digest_alg, G.tlv(0xa1, signature_alg[2:])))


def test_algorithm_protection_must_match(pki, verifier, openssl) -> None:
    d = G.alg(G.HASHES["sha256"][1])
    s = G.signature_alg_for(pki.rsa_leaf, "sha256")
    good = _with_attrs(pki, [*_base().values(), _protection(d, s)])
    r = verifier.verify(good)
    assert r.code == "ok", r.reason
    assert P.openssl_verify(good, pki.rsa_root, attime=AT).returncode == 0
    # The protected signature algorithm is not the SignerInfo's: a substitution.
    other = G.alg(G.SHA256_WITH_RSA, G.null())
    bad = _with_attrs(pki, [*_base().values(), _protection(d, other)])
    r = verifier.verify(bad)
    assert r.code == "signed_attributes_invalid"
    assert "cmsAlgorithmProtection" in r.reason and "signatureAlgorithm" in r.reason
    bad = _with_attrs(pki, [*_base().values(), _protection(G.alg(G.HASHES["sha384"][1]), s)])
    r = verifier.verify(bad)
    assert r.code == "signed_attributes_invalid" and "digestAlgorithm" in r.reason


# -- 9. PKCS#7 v1.5 content that is not an OCTET STRING -------------------------------------------

SPC_INDIRECT_DATA = "1.3.6.1.4.1.311.2.1.4"  # Authenticode's content type: a SEQUENCE, not octets


def _pkcs7_v15(pki, *, digest_over_value: bool = True) -> tuple[bytes, bytes]:
    inner = G.seq(G.integer(42), G.octets("Tờ khai".encode()))
    value = inner[2:]  # the value octets: no tag, no length (RFC 2315 §9.3)
    attrs = [G.attr(G.CONTENT_TYPE, G.oid(SPC_INDIRECT_DATA)),
             G.attr(G.MESSAGE_DIGEST, G.octets(G.digest_of("sha256", value if digest_over_value
                                                            else inner)))]
    info = G.signer_info(value, pki.rsa_leaf, attrs=attrs)
    sig = G.signed_data([info], [pki.rsa_leaf, pki.rsa_intermediate], econtent=inner,
                        econtent_type=SPC_INDIRECT_DATA)
    return sig, value


def _openssl_smime_verify(openssl: str, d: Path, sig: bytes, ca: P.Issued,
                          content: bytes) -> subprocess.CompletedProcess[bytes]:
    (d / "sig.p7").write_bytes(sig)
    (d / "ca.pem").write_bytes(ca.pem)
    (d / "content").write_bytes(content)
    return subprocess.run([openssl, "smime", "-verify", "-binary", "-inform", "DER",
                           "-in", str(d / "sig.p7"), "-CAfile", str(d / "ca.pem"),
                           "-purpose", "any", "-attime", str(int(AT.timestamp())),
                           "-content", str(d / "content"), "-out", str(d / "out")],
                          capture_output=True, timeout=60)


def test_pkcs7_content_other_than_octet_string(pki, verifier, openssl, tmp_path: Path) -> None:
    sig, value = _pkcs7_v15(pki)
    r = verifier.verify(sig)
    assert r.code == "ok", r.reason
    assert r.signers[0].warnings == ["econtent_not_octet_string"]
    assert "not an OCTET STRING" in r.signers[0].warning_details[0][1]
    assert r.content == value
    # OpenSSL's PKCS7 API (`openssl smime`) parses this SignedData (`openssl cms` does not:
    # it wants an OCTET STRING) but digests nothing for "other" content when verifying it
    # attached; given the value octets as the content, it verifies: the same octets govsig
    # digests. Given the whole element (tag and length included), it refuses, as govsig does.
    ok = _openssl_smime_verify(openssl, tmp_path, sig, pki.rsa_root, value)
    assert ok.returncode == 0 and b"Verification successful" in ok.stderr, ok.stderr
    whole = G.seq(G.integer(42), G.octets("Tờ khai".encode()))
    assert _openssl_smime_verify(openssl, tmp_path, sig, pki.rsa_root, whole).returncode != 0


def test_pkcs7_content_digest_over_the_whole_element_is_refused(pki, verifier) -> None:
    sig, _ = _pkcs7_v15(pki, digest_over_value=False)
    assert verifier.verify(sig).code == "digest_mismatch"


# -- 10. several certificates match the signer identifier --------------------------------------


def _impostor(signer: P.Issued, seed: str) -> P.Issued:
    """A certificate with the signer's issuer, serial and subject but another key."""
    key = P.derive_key("rsa2048", seed)
    assert isinstance(key, rsa.RSAPrivateKey)
    c = signer.cert
    cert = (x509.CertificateBuilder().subject_name(c.subject).issuer_name(c.issuer)
            .serial_number(c.serial_number).not_valid_before(c.not_valid_before_utc)
            .not_valid_after(c.not_valid_after_utc).public_key(key.public_key())
            .sign(key, hashes.SHA256()))
    return P.Issued(f"impostor {seed}", cert, key, "rsa2048", signer.issuer)


def test_several_matching_certificates_are_each_tried(pki, verifier) -> None:
    leaf = pki.rsa_leaf
    impostor = _impostor(leaf, "cmsq-impostor-1")
    info = G.signer_info(CONTENT, leaf)
    sig = G.signed_data([info], [impostor, leaf, pki.rsa_intermediate], econtent=G.octets(CONTENT))
    r = verifier.verify(sig)
    assert r.code == "ok", r.reason
    s = r.signers[0]
    assert s.certificate == leaf.der
    assert s.warnings == ["signer_identifier_ambiguous"]
    assert any("matches 2 certificates" in d and "#2" in d for _, d in s.warning_details)


def test_no_matching_certificate_verifies_says_ambiguous(pki, verifier) -> None:
    leaf = pki.rsa_leaf
    a, b = _impostor(leaf, "cmsq-impostor-1"), _impostor(leaf, "cmsq-impostor-2")
    info = G.signer_info(CONTENT, leaf, sign_with=_impostor(leaf, "cmsq-impostor-3"))
    sig = G.signed_data([info], [a, b, pki.rsa_intermediate], econtent=G.octets(CONTENT))
    r = verifier.verify(sig)
    assert r.code == "signature_invalid"
    assert "ambiguous" in r.reason and "matches 2 certificates" in r.reason


def test_every_warning_is_a_described_snake_case_code() -> None:
    import re

    import govsig

    d = govsig.warning_descriptions()
    assert {"econtent_not_octet_string", "digest_algorithm_is_signature_algorithm",
            "signer_identifier_ambiguous", "revoked_after_signature", "signing_time_mismatch",
            "legacy_algorithm_certificate", "legacy_algorithm_crl", "legacy_algorithm_ocsp",
            "legacy_algorithm_signature", "countersignature_invalid",
            "signing_time_before_content_timestamp"} == set(d)
    for code, text in d.items():
        assert re.fullmatch(r"[a-z][a-z0-9_]*", code), code
        assert len(text) > 20 and "\n" not in text, (code, text)
