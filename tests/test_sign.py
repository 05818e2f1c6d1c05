"""CMS signing with software keys: every signature verifies with `openssl cms -verify` and
with govsig's own verifier, and carries the signed attributes the issue asks for."""
from __future__ import annotations

import datetime as dt
import hashlib
import traceback

import pytest
from asn1crypto import cms as a_cms
from asn1crypto import tsp as _tsp  # noqa: F401  registers signing_certificate_v2 with asn1crypto.cms
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.serialization import pkcs12

import govsig
import pki as P

UTC = dt.timezone.utc
WHEN = dt.datetime(2026, 5, 4, 3, 2, 1, tzinfo=UTC)
CONTENT = "Tờ khai đăng ký hộ kinh doanh — bản ký số".encode() * 40


def signer_for(leaf: P.Issued) -> govsig.KeySigner:
    return govsig.KeySigner(leaf.key, leaf.cert, [i.cert for i in leaf.intermediates])


def govsig_verify(sig: bytes, leaf: P.Issued, content: bytes | None) -> govsig.VerifyResult:
    return govsig.Verifier(govsig.Policy(trust=[leaf.root.cert])).verify(sig, content)


def signer_info(sig: bytes) -> a_cms.SignerInfo:
    ci = a_cms.ContentInfo.load(sig)
    assert ci["content_type"].native == "signed_data"
    infos = ci["content"]["signer_infos"]
    assert len(infos) == 1
    return infos[0]


def attrs(sig: bytes) -> dict[str, object]:
    return {a["type"].native: a["values"] for a in signer_info(sig)["signed_attrs"]}


def check_attributes(sig: bytes, leaf: P.Issued, content: bytes, when: dt.datetime | None) -> None:
    """contentType, messageDigest, signingTime, ESS signing-certificate-v2 and
    CMSAlgorithmProtection are present, single-valued and right."""
    si = signer_info(sig)
    a = attrs(sig)
    assert set(a) == {"content_type", "message_digest", "signing_time",
                      "signing_certificate_v2", "cms_algorithm_protection"}
    assert all(len(v) == 1 for v in a.values())
    assert a["content_type"][0].native == "data"
    digest = si["digest_algorithm"]["algorithm"].native
    assert a["message_digest"][0].native == hashlib.new(digest, content).digest()
    signed_at = a["signing_time"][0].native
    if when is None:
        assert abs(signed_at - dt.datetime.now(UTC)) < dt.timedelta(minutes=5)
    else:
        assert signed_at == when
    ess = a["signing_certificate_v2"][0]["certs"][0]
    # hashAlgorithm absent = SHA-256 (RFC 5035 §4 DEFAULT, omitted in DER).
    assert ess["hash_algorithm"].native["algorithm"] == "sha256"
    assert ess["cert_hash"].native == hashlib.sha256(leaf.der).digest()
    issuer_serial = ess["issuer_serial"]
    assert issuer_serial["serial_number"].native == leaf.cert.serial_number
    assert issuer_serial["issuer"][0].name == "directory_name"
    assert issuer_serial["issuer"][0].chosen.untag().dump(force=True) == leaf.cert.issuer.public_bytes()
    protection = a["cms_algorithm_protection"][0]
    assert protection["digest_algorithm"].dump() == si["digest_algorithm"].dump()
    assert protection["signature_algorithm"].native == si["signature_algorithm"].native
    # DER SET OF: the attributes are sorted by their encodings (X.690 §11.6).
    encoded = [x.dump() for x in si["signed_attrs"]]
    assert encoded == sorted(encoded)


def check_ed25519_independently(sig: bytes, leaf: P.Issued) -> None:
    """OpenSSL 3.0 cannot verify Ed25519 CMS ("eddsa_digest_signverify_init: invalid
    digest"), so the signature over the signed attributes is checked with cryptography."""
    si = signer_info(sig)
    assert si["digest_algorithm"]["algorithm"].native == "sha512"  # RFC 8419 §3
    assert si["signature_algorithm"]["algorithm"].native == "ed25519"
    signed = si["signed_attrs"].untag().dump(force=True)
    assert signed[0] == 0x31
    public = leaf.cert.public_key()
    assert isinstance(public, ed25519.Ed25519PublicKey)
    public.verify(si["signature"].native, signed)


CASES = [(name, detached, pss)
         for name in ("rsa2048", "rsa3072", "p256", "p384", "p521", "ed25519")
         for detached in (True, False)
         for pss in ((False, True) if name.startswith("rsa") else (False,))]


@pytest.mark.parametrize("name,detached,pss", CASES,
                         ids=[f"{n}-{'detached' if d else 'attached'}{'-pss' if p else ''}"
                              for n, d, p in CASES])
def test_every_algorithm_verifies_with_openssl_and_govsig(pki, openssl, name, detached, pss):
    leaf = pki.leaves[name]
    sig = govsig.sign(CONTENT, signer_for(leaf), detached=detached, rsa_pss=pss, signing_time=WHEN)
    result = govsig_verify(sig, leaf, CONTENT if detached else None)
    assert result.ok, (result.code, result.reason)
    assert result.detached is detached
    assert result.signers[0].signing_time == WHEN
    assert result.signers[0].certificate == leaf.der
    check_attributes(sig, leaf, CONTENT, WHEN)
    si = signer_info(sig)
    if pss:
        assert si["signature_algorithm"]["algorithm"].native == "rsassa_pss"
        assert si["signature_algorithm"]["parameters"]["salt_length"].native == 32
    if name == "ed25519":
        check_ed25519_independently(sig, leaf)
        return
    proc = P.openssl_verify(sig, leaf.root, content=CONTENT if detached else None)
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stdout == CONTENT


def test_default_digest_follows_the_key(pki):
    expected = {"rsa2048": "sha256", "p256": "sha256", "p384": "sha384", "p521": "sha512",
                "ed25519": "sha512"}
    for name, digest in expected.items():
        sig = govsig.sign(b"x", signer_for(pki.leaves[name]))
        assert signer_info(sig)["digest_algorithm"]["algorithm"].native == digest, name


@pytest.mark.parametrize("name,digest", [("rsa2048", "sha384"), ("rsa2048", "sha512"),
                                         ("p521", "sha256"), ("p521", "sha384")])
def test_other_digests_verify(pki, name, digest):
    leaf = pki.leaves[name]
    sig = govsig.sign(CONTENT, signer_for(leaf), digest=digest)
    assert signer_info(sig)["digest_algorithm"]["algorithm"].native == digest
    assert govsig_verify(sig, leaf, CONTENT).ok
    assert P.openssl_verify(sig, leaf.root, content=CONTENT).returncode == 0


def test_digest_the_software_key_cannot_use_is_a_clear_error(pki):
    with pytest.raises(govsig.SigningError, match="sha256 only") as exc:
        govsig.sign(b"x", signer_for(pki.p256_leaf), digest="sha512")
    assert exc.value.kind == "unsupported"
    with pytest.raises(govsig.SigningError, match="RFC 8419"):
        govsig.sign(b"x", signer_for(pki.ed25519_leaf), digest="sha256")
    with pytest.raises(govsig.SigningError, match="RSA-PSS needs an RSA key"):
        govsig.sign(b"x", signer_for(pki.p256_leaf), rsa_pss=True)
    with pytest.raises(ValueError, match="digest must be"):
        govsig.sign(b"x", signer_for(pki.p256_leaf), digest="md5")  # type: ignore[arg-type]


def test_subject_key_identifier_signer(pki, openssl):
    leaf = pki.p256_leaf
    sig = govsig.sign(CONTENT, signer_for(leaf), signer_identifier="subject_key_identifier")
    si = signer_info(sig)
    assert si["version"].native == "v3"
    assert si["sid"].name == "subject_key_identifier"
    assert si["sid"].chosen.native == leaf.ski
    assert a_cms.ContentInfo.load(sig)["content"]["version"].native == "v3"  # RFC 5652 §5.1
    assert govsig_verify(sig, leaf, CONTENT).ok
    assert P.openssl_verify(sig, leaf.root, content=CONTENT).returncode == 0
    with pytest.raises(govsig.SigningError, match="no subjectKeyIdentifier"):
        govsig.sign(CONTENT, signer_for(pki.no_ski_leaf), signer_identifier="subject_key_identifier")


def test_issuer_and_serial_is_the_default(pki):
    leaf = pki.rsa_leaf
    sig = govsig.sign(CONTENT, signer_for(leaf))
    si = signer_info(sig)
    assert si["version"].native == "v1"
    ias = si["sid"].chosen
    assert ias["serial_number"].native == leaf.cert.serial_number
    assert ias["issuer"].dump() == leaf.cert.issuer.public_bytes()
    assert a_cms.ContentInfo.load(sig)["content"]["version"].native == "v1"


def test_included_certificates(pki):
    leaf = pki.rsa_leaf
    s = signer_for(leaf)

    def certs(sig: bytes) -> list[bytes]:
        field = a_cms.ContentInfo.load(sig)["content"]["certificates"]
        return [c.dump() for c in field] if field.native is not None else []

    chain = certs(govsig.sign(CONTENT, s))
    assert sorted(chain) == sorted([leaf.der, pki.rsa_intermediate.der])
    assert chain == sorted(chain)  # DER SET OF order
    assert certs(govsig.sign(CONTENT, s, certificates="signer")) == [leaf.der]
    bare = govsig.sign(CONTENT, s, certificates="none")
    assert certs(bare) == []
    # Without certificates, the verifier needs them from elsewhere.
    v = govsig.Verifier(govsig.Policy(trust=[leaf.root.cert], intermediates=[leaf.cert, pki.rsa_intermediate.cert]))
    assert v.verify(bare, CONTENT).ok


def test_signing_time_default_is_now_and_after_2049_is_generalized_time(pki):
    leaf = pki.p256_leaf
    check_attributes(govsig.sign(CONTENT, signer_for(leaf)), leaf, CONTENT, None)
    late = dt.datetime(2051, 1, 2, 3, 4, 5, tzinfo=UTC)
    sig = govsig.sign(CONTENT, signer_for(leaf), signing_time=late)
    raw = next(a for a in signer_info(sig)["signed_attrs"] if a["type"].native == "signing_time")
    assert raw["values"][0].name == "generalized_time"  # RFC 5652 §11.3
    assert raw["values"][0].native == late
    with pytest.raises(ValueError, match="timezone-aware"):
        govsig.sign(CONTENT, signer_for(leaf), signing_time=dt.datetime(2026, 1, 1))


def test_key_forms_pem_der_encrypted_pkcs12_and_paths(pki, tmp_path):
    leaf = pki.p256_leaf
    pem = leaf.key_pem
    encrypted = leaf.key.private_bytes(serialization.Encoding.PEM,
                                       serialization.PrivateFormat.PKCS8,
                                       serialization.BestAvailableEncryption(b"mat-khau"))
    sec1_der = leaf.key.private_bytes(serialization.Encoding.DER,
                                      serialization.PrivateFormat.TraditionalOpenSSL,
                                      serialization.NoEncryption())
    (tmp_path / "k.pem").write_bytes(pem)
    (tmp_path / "c.pem").write_bytes(leaf.pem)
    p12 = pkcs12.serialize_key_and_certificates(b"an", leaf.key, leaf.cert, [leaf.root.cert],
                                                serialization.BestAvailableEncryption(b"p12"))
    signers = [
        govsig.KeySigner(pem, leaf.pem),
        govsig.KeySigner(encrypted, leaf.der, password=b"mat-khau"),
        govsig.KeySigner(sec1_der, leaf.cert),
        govsig.KeySigner(tmp_path / "k.pem", str(tmp_path / "c.pem")),
        govsig.KeySigner.from_pkcs12(p12, b"p12"),
    ]
    for s in signers:
        assert s.key_type == "ec_p256"
        assert govsig_verify(govsig.sign(CONTENT, s), leaf, CONTENT).ok, s
    assert len(signers[-1].chain) == 1
    with pytest.raises(govsig.SigningError, match="wrong password") as exc:
        govsig.KeySigner(encrypted, leaf.der, password=b"sai")
    assert "sai" not in str(exc.value)
    with pytest.raises(govsig.SigningError, match="encrypted"):
        govsig.KeySigner(encrypted, leaf.der)
    with pytest.raises(govsig.SigningError, match="PKCS#12"):
        govsig.KeySigner.from_pkcs12(p12, b"wrong")


def test_key_that_does_not_belong_to_the_certificate(pki):
    with pytest.raises(govsig.SigningError, match="holds another EC P-256 public key") as exc:
        govsig.KeySigner(pki.p256_leaf.key, pki.keycertsign_leaf.cert)
    assert exc.value.kind == "key_certificate_mismatch"
    with pytest.raises(govsig.SigningError, match="the key is RSA but") as exc:
        govsig.KeySigner(pki.rsa_leaf.key, pki.p256_leaf.cert)
    assert exc.value.kind == "key_certificate_mismatch"
    with pytest.raises(govsig.SigningError, match="not an X.509 certificate"):
        govsig.KeySigner(pki.p256_leaf.key, b"not a certificate")
    with pytest.raises(govsig.SigningError, match="expected one certificate"):
        govsig.KeySigner(pki.p256_leaf.key, P.pem_bundle([pki.p256_leaf, pki.p256_root]))
    with pytest.raises(TypeError, match="private_key"):
        govsig.KeySigner(12345, pki.p256_leaf.cert)
    from cryptography.hazmat.primitives.asymmetric import x25519
    x25519_pem = x25519.X25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    with pytest.raises(govsig.SigningError, match="RSA, EC and Ed25519"):
        govsig.KeySigner(x25519_pem, pki.p256_leaf.cert)


def test_unsupported_curve_is_refused_at_construction(pki):
    k = ec.generate_private_key(ec.SECP256K1())
    with pytest.raises(govsig.SigningError, match="P-256/P-384/P-521") as exc:
        govsig.KeySigner(k, pki.p256_leaf.cert)
    assert exc.value.kind == "key"


def test_sign_many_keeps_order_and_every_signature_verifies(pki):
    leaf = pki.p256_leaf
    docs = [f"hồ sơ số {i}".encode() * (i % 7 + 1) for i in range(300)]
    sigs = govsig.sign_many(docs, signer_for(leaf), signing_time=WHEN)
    assert len(sigs) == len(docs)
    for doc, sig in zip(docs, sigs):
        assert attrs(sig)["message_digest"][0].native == hashlib.sha256(doc).digest()
    batch = govsig.Verifier(govsig.Policy(trust=[leaf.root.cert])).verify_many(zip(sigs, docs))
    assert batch.ok.all(), batch.counts()
    attached = govsig.sign_many(docs[:20], signer_for(pki.rsa_leaf), detached=False, threads=2)
    for doc, sig in zip(docs, attached):
        assert a_cms.ContentInfo.load(sig)["content"]["encap_content_info"]["content"].native == doc
    assert govsig.sign_many([], signer_for(leaf)) == []
    assert govsig.sign_many(iter([b"a", bytearray(b"b")]), signer_for(leaf))


def test_bad_arguments_are_type_errors(pki):
    s = signer_for(pki.p256_leaf)
    with pytest.raises(TypeError, match="content must be bytes"):
        govsig.sign("text", s)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"contents\[1\] must be bytes"):
        govsig.sign_many([b"a", "b"], s)  # type: ignore[list-item]
    with pytest.raises(TypeError, match="signer must be"):
        govsig.sign(b"a", object())
    with pytest.raises(ValueError, match="threads"):
        govsig.sign_many([b"a"], s, threads=0)
    with pytest.raises(ValueError, match="signer_identifier"):
        govsig.sign(b"a", s, signer_identifier="name")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="certificates must be"):
        govsig.sign(b"a", s, certificates="all")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="dotted object identifier"):
        govsig.sign(b"a", s, content_type="not-an-oid")


def test_other_content_type_makes_a_version_3_signed_data(pki, openssl):
    leaf = pki.p256_leaf
    tst_info = "1.2.840.113549.1.9.16.1.4"
    sig = govsig.sign(CONTENT, signer_for(leaf), content_type=tst_info, detached=False)
    sd = a_cms.ContentInfo.load(sig)["content"]
    assert sd["version"].native == "v3"
    assert sd["encap_content_info"]["content_type"].dotted == tst_info
    assert attrs(sig)["content_type"][0].dotted == tst_info
    result = govsig_verify(sig, leaf, None)
    assert result.ok, result.reason
    assert result.content_type == tst_info


def test_without_algorithm_protection(pki):
    sig = govsig.sign(CONTENT, signer_for(pki.rsa_leaf), algorithm_protection=False)
    assert "cms_algorithm_protection" not in attrs(sig)
    assert govsig_verify(sig, pki.rsa_leaf, CONTENT).ok


def test_signer_repr_and_errors_hold_no_key_material(pki):
    s = signer_for(pki.p256_leaf)
    secret = pki.p256_leaf.key.private_numbers().private_value
    assert str(secret) not in repr(s) and hex(secret)[2:] not in repr(s)
    assert "ec_p256" in repr(s) and "Trần Thị Bình" in repr(s)
    try:
        govsig.sign(b"x", s, digest="sha384")
    except govsig.SigningError as exc:
        text = "".join(traceback.format_exception(exc))
        assert hex(secret)[2:] not in text


def test_signature_over_attributes_uses_the_key(pki):
    """The signature is over the DER SET OF the attributes (RFC 5652 §5.4), checked with
    cryptography rather than a CMS library."""
    leaf = pki.p256_leaf
    sig = govsig.sign(CONTENT, signer_for(leaf))
    si = signer_info(sig)
    signed = si["signed_attrs"].untag().dump(force=True)
    leaf.cert.public_key().verify(si["signature"].native, signed, ec.ECDSA(hashes.SHA256()))
