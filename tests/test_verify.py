"""CMS verification through the public API: every key type, both engines that make CMS in
the wild (cryptography and the openssl CLI), tampering, trust decisions, bad input."""
from __future__ import annotations

import datetime as dt
import pickle

import numpy as np
import pytest

import govsig
import pki as P

CONTENT = "Quyết định số 123/QĐ-UBND về việc cấp giấy phép — nội dung đã ký.\n".encode() * 20
REQUIRED_CODES = {
    "ok", "malformed", "unsupported_algorithm", "content_missing", "digest_mismatch",
    "content_type_mismatch", "signature_invalid", "signer_not_found", "chain_untrusted",
    "cert_expired", "cert_not_yet_valid", "key_usage_invalid", "path_too_long", "budget_exceeded",
}


@pytest.fixture(scope="module")
def verifier(pki) -> govsig.Verifier:
    return govsig.Verifier(govsig.Policy(trust=govsig.TrustStore.from_der([r.der for r in pki.roots])))


def test_codes_catalogue():
    codes = govsig.codes()
    assert codes[0] == "ok"
    assert REQUIRED_CODES <= set(codes)
    assert len(set(codes)) == len(codes)
    desc = govsig.code_descriptions()
    assert set(desc) == set(codes) and all(desc.values())


@pytest.mark.parametrize("key", ["rsa2048", "rsa3072", "p256", "p384", "p521", "ed25519"])
@pytest.mark.parametrize("detached", [True, False])
def test_every_key_type_verifies(pki, verifier, key, detached):
    leaf = pki.leaves[key]
    sig = P.sign_cms(CONTENT, leaf, detached=detached, engine="native" if key == "ed25519" else "auto")
    r = verifier.verify(sig, CONTENT if detached else None)
    assert r.code == "ok", r.reason
    assert r.ok and bool(r)
    assert r.detached is detached
    (s,) = r.signers
    assert s.ok and s.code == "ok"
    assert s.subject is not None and leaf.name in s.subject
    assert s.serial == leaf.cert.serial_number
    assert s.certificate == leaf.der
    assert s.chain[0] == leaf.der and s.chain[-1] == leaf.root.der
    assert len(s.chain) == len(leaf.path)
    assert s.signing_time is not None and s.signing_time.tzinfo is not None
    assert s.digest_algorithm in {"sha256", "sha512"}


@pytest.mark.parametrize(
    "opts",
    [
        dict(detached=True),
        dict(detached=False),
        dict(detached=True, smime_capabilities=True),
        dict(detached=True, attrs=False),
        dict(detached=False, attrs=False),
        dict(detached=True, pss=True),
        dict(detached=True, ski_sid=True),
        dict(detached=True, digest="sha384"),
        dict(detached=True, digest="sha512"),
    ],
    ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items()),
)
def test_openssl_cms_sign_interop(pki, verifier, opts):
    sig = P.sign_cms(CONTENT, pki.rsa_leaf, engine="openssl", **opts)
    r = verifier.verify(sig, CONTENT if opts.get("detached") else None)
    assert r.code == "ok", r.reason
    if opts.get("pss"):
        assert r.signers[0].signature_algorithm == "rsassa-pss"


def test_openssl_several_signers(pki, verifier):
    sig = P.sign_cms(CONTENT, pki.rsa_leaf, extra_signers=[pki.p256_leaf], engine="openssl")
    r = verifier.verify(sig, CONTENT)
    assert r.code == "ok", r.reason
    assert {s.subject for s in r.signers} == {
        _subject(verifier, pki.rsa_leaf), _subject(verifier, pki.p256_leaf)}


def _subject(verifier, leaf):
    return verifier.verify(P.sign_cms(b"x", leaf), b"x").signers[0].subject


def test_openssl_streaming_ber_is_normalised(pki, verifier):
    sig = P.sign_cms(CONTENT, pki.p256_leaf, engine="openssl", detached=False, stream=True)
    r = verifier.verify(sig)
    assert r.code == "ok", r.reason
    assert r.was_ber


def test_cryptography_builder_interop(pki, verifier):
    for leaf in (pki.rsa_leaf, pki.p256_leaf, pki.p384_leaf):
        for detached in (True, False):
            sig = P.sign_cms(CONTENT, leaf, engine="cryptography", detached=detached)
            assert verifier.verify(sig, CONTENT if detached else None).code == "ok"


def test_one_signer_bad_fails_the_document(pki, verifier):
    sig = P.sign_cms(CONTENT, pki.rsa_leaf, extra_signers=[pki.expired_leaf], engine="native")
    r = verifier.verify(sig, CONTENT)
    assert not r.ok
    # SignerInfos are a SET OF: their order is the encoder's, not the caller's.
    assert sorted(s.code for s in r.signers) == ["cert_expired", "ok"]
    assert r.code == "cert_expired" and "signer #" in r.reason


# --- tampering -----------------------------------------------------------------------------

def test_tampered_content(pki, verifier):
    sig = P.sign_cms(CONTENT, pki.rsa_leaf)
    r = verifier.verify(sig, P.tamper_content(CONTENT))
    assert r.code == "digest_mismatch" and not r.ok


def test_tampered_encapsulated_content(pki, verifier):
    unique = "Tờ khai đăng ký hộ tịch, bản duy nhất: ".encode() + bytes(range(256))
    sig = P.sign_cms(unique, pki.p256_leaf, detached=False)
    assert verifier.verify(sig).code == "ok"
    assert verifier.verify(P.tamper_encapsulated(sig)).code == "digest_mismatch"


def test_tampered_signature_value(pki, verifier):
    for leaf in (pki.rsa_leaf, pki.p256_leaf, pki.ed25519_leaf):
        sig = P.sign_cms(CONTENT, leaf, engine="native")
        r = verifier.verify(P.tamper_signature(sig), CONTENT)
        assert r.code == "signature_invalid", (leaf.key_type, r.reason)


def test_tampered_signed_attributes(pki, verifier):
    sig = P.sign_cms(CONTENT, pki.rsa_leaf, engine="native")
    assert verifier.verify(P.tamper_signed_attrs(sig, attr="signing_time"), CONTENT).code == "signature_invalid"
    assert verifier.verify(P.tamper_signed_attrs(sig, attr="message_digest"), CONTENT).code == "digest_mismatch"


def test_content_type_mismatch(pki, verifier):
    sig = P.sign_cms(CONTENT, pki.rsa_leaf, engine="native", attr_content_type="1.2.840.113549.1.7.5")
    r = verifier.verify(sig, CONTENT)
    assert r.code == "content_type_mismatch", r.reason


def test_attached_content_differs_from_given(pki, verifier):
    sig = P.sign_cms(CONTENT, pki.rsa_leaf, detached=False)
    assert verifier.verify(sig, CONTENT).code == "ok"
    assert verifier.verify(sig, CONTENT + b"!").code == "digest_mismatch"


# --- trust decisions -----------------------------------------------------------------------

def test_expired_and_not_yet_valid(pki, verifier):
    r = verifier.verify(P.sign_cms(CONTENT, pki.expired_leaf), CONTENT)
    assert r.code == "cert_expired"
    assert "expired" in r.reason and pki.expired_leaf.name in r.reason
    r = verifier.verify(P.sign_cms(CONTENT, pki.not_yet_valid_leaf), CONTENT)
    assert r.code == "cert_not_yet_valid"


def test_validation_time_is_policy(pki):
    trust = govsig.TrustStore.from_der([pki.rsa_root.der])
    sig = P.sign_cms(CONTENT, pki.rsa_leaf)
    at = dt.datetime(2030, 6, 1)  # naive = UTC
    assert govsig.Verifier(govsig.Policy(trust=trust, at=at)).verify(sig, CONTENT).code == "ok"
    late = dt.datetime(2060, 1, 1, tzinfo=dt.timezone.utc)
    r = govsig.Verifier(govsig.Policy(trust=trust, at=late)).verify(sig, CONTENT)
    assert r.code == "cert_expired" and "2060-01-01T00:00:00Z" in r.reason
    early = dt.datetime(2024, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=7)))
    assert govsig.Verifier(govsig.Policy(trust=trust, at=early)).verify(sig, CONTENT).code == "cert_not_yet_valid"


def test_key_usage(pki, verifier):
    sig = P.sign_cms(CONTENT, pki.keycertsign_leaf)
    r = verifier.verify(sig, CONTENT)
    assert r.code == "key_usage_invalid" and "keyUsage" in r.reason
    # With no keyUsage required the leaf is still refused: it asserts keyCertSign without
    # basicConstraints cA, which RFC 5280 §4.2.1.3 forbids (a profile rule, always on).
    anything = govsig.Verifier(verifier.policy.replace(key_usage=()))
    r = anything.verify(sig, CONTENT)
    assert r.code == "basic_constraints_invalid" and "keyCertSign" in r.reason and "§4.2.1.3" in r.reason
    # A leaf whose keyUsage allows only key encipherment passes when nothing is required.
    enc = P.make_leaf("Lý Thị Thu (keyEncipherment)", pki.p256_root, "p256", key_usage=["key_encipherment"])
    enc_sig = P.sign_cms(CONTENT, enc)
    assert verifier.verify(enc_sig, CONTENT).code == "key_usage_invalid"
    assert anything.verify(enc_sig, CONTENT).code == "ok"


def test_extended_key_usage(pki, verifier):
    # A signer whose certificate carries extendedKeyUsage emailProtection (RFC 5280 §4.2.1.12).
    leaf = P.make_leaf("Lý Thị Thu (EKU)", pki.p256_root, "p256", eku=["1.3.6.1.5.5.7.3.4"])
    sig = P.sign_cms(CONTENT, leaf)
    assert govsig.Verifier(verifier.policy.replace(extended_key_usage=None)).verify(sig, CONTENT).code == "ok"
    wanted = govsig.Verifier(verifier.policy.replace(extended_key_usage=["1.3.6.1.5.5.7.3.4"]))
    assert wanted.verify(sig, CONTENT).code == "ok"
    other = govsig.Verifier(verifier.policy.replace(extended_key_usage=["1.2.3.4.5"]))
    r = other.verify(sig, CONTENT)
    assert r.code == "key_usage_invalid" and "extendedKeyUsage" in r.reason
    # Without the extension the certificate is unrestricted (RFC 5280 §4.2.1.12).
    assert other.verify(P.sign_cms(CONTENT, pki.rsa_leaf), CONTENT).code == "ok"


def test_integrity_only_is_not_trusted(pki):
    v = govsig.Verifier(govsig.Policy(trust=None))
    r = v.verify(P.sign_cms(CONTENT, pki.rsa_leaf), CONTENT)
    assert r.code == "integrity_only"
    assert not r.ok and not bool(r)
    assert r.integrity_ok
    assert "not trusted" in r.reason
    bad = v.verify(P.sign_cms(CONTENT, pki.rsa_leaf), P.tamper_content(CONTENT))
    assert bad.code == "digest_mismatch" and not bad.integrity_ok


def test_unknown_root(pki):
    other = P.make_root("Root CA khác", "p256")
    v = govsig.Verifier(govsig.Policy(trust=govsig.TrustStore.from_der([other.der])))
    r = v.verify(P.sign_cms(CONTENT, pki.rsa_leaf), CONTENT)
    assert r.code == "chain_untrusted"
    assert "no path" in r.reason


def test_intermediate_from_policy(pki):
    sig = P.sign_cms(CONTENT, pki.rsa_leaf, include_chain=False)
    trust = govsig.TrustStore.from_der([pki.rsa_root.der])
    assert govsig.Verifier(govsig.Policy(trust=trust)).verify(sig, CONTENT).code == "chain_untrusted"
    with_inter = govsig.Verifier(govsig.Policy(trust=trust, intermediates=[pki.rsa_intermediate.cert]))
    r = with_inter.verify(sig, CONTENT)
    assert r.code == "ok", r.reason
    assert len(r.signers[0].chain) == 3


def test_max_chain_depth(pki):
    trust = govsig.TrustStore.from_der([pki.rsa_root.der])
    sig = P.sign_cms(CONTENT, pki.rsa_leaf)
    r = govsig.Verifier(govsig.Policy(trust=trust, max_chain_depth=0)).verify(sig, CONTENT)
    assert r.code == "path_too_long", r.reason
    assert govsig.Verifier(govsig.Policy(trust=trust, max_chain_depth=1)).verify(sig, CONTENT).code == "ok"


def test_signer_certificate_not_included(pki, verifier):
    sig = P.sign_cms(CONTENT, pki.p256_leaf, include_signer_cert=False, engine="native")
    r = verifier.verify(sig, CONTENT)
    assert r.code == "signer_not_found"
    assert "serial" in r.reason
    v = govsig.Verifier(verifier.policy.replace(intermediates=[pki.p256_leaf.der]))
    assert v.verify(sig, CONTENT).code == "ok"


def test_sha1_is_legacy(pki):
    trust = govsig.TrustStore.from_der([pki.rsa_root.der])
    sig = P.sign_cms(CONTENT, pki.rsa_leaf, digest="sha1", engine="native")
    r = govsig.Verifier(govsig.Policy(trust=trust)).verify(sig, CONTENT)
    assert r.code == "algorithm_not_allowed"
    assert govsig.Verifier(govsig.Policy(trust=trust, legacy=True)).verify(sig, CONTENT).code == "ok"


def test_detached_without_content(pki, verifier):
    r = verifier.verify(P.sign_cms(CONTENT, pki.rsa_leaf))
    assert r.code == "content_missing"


# --- bad input -----------------------------------------------------------------------------

@pytest.mark.parametrize("blob", [b"", b"\x00", b"garbage", b"\x30\x80", b"\x30\x84\xff\xff\xff\xff",
                                  b"\x30" * 100_000, b"\x30\x80" * 50_000])
def test_garbage_is_malformed(verifier, blob):
    r = verifier.verify(blob, b"x")
    assert r.code == "malformed" and r.reason


def test_truncations_never_crash(pki, verifier):
    sig = P.sign_cms(CONTENT, pki.p256_leaf, detached=False)
    for n in range(0, len(sig), 7):
        r = verifier.verify(sig[:n])
        assert r.code == "malformed", (n, r.code)


def test_misuse_raises_type_errors(verifier):
    with pytest.raises(TypeError):
        verifier.verify("not bytes")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        verifier.verify(b"x", content=123)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        govsig.Verifier("policy")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        govsig.Policy(key_usage=("sign_everything",))
    with pytest.raises(TypeError):
        govsig.Policy(at="2024-01-01")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="not a valid X.509 certificate"):
        govsig.TrustStore.from_der([b"not a cert"])


# --- objects -------------------------------------------------------------------------------

def test_policy_and_truststore_are_immutable_and_pickle(pki, verifier):
    pol = verifier.policy
    with pytest.raises(AttributeError):
        pol.legacy = True  # type: ignore[misc]
    with pytest.raises(AttributeError):
        pol.trust._ders = ()  # type: ignore[misc]
    assert pickle.loads(pickle.dumps(pol)) == pol
    assert pickle.loads(pickle.dumps(pol.trust)) == pol.trust
    v2 = pickle.loads(pickle.dumps(verifier))
    assert v2.verify(P.sign_cms(CONTENT, pki.p256_leaf), CONTENT).code == "ok"
    assert pol.replace(legacy=True).legacy and not pol.legacy


def test_truststore_sources(pki, tmp_pki_dir, tmp_path):
    a = govsig.TrustStore.from_pem((tmp_pki_dir / "roots.pem").read_bytes())
    b = govsig.TrustStore.from_files([tmp_pki_dir / "rsa_root.pem", tmp_pki_dir / "p256_root.pem"])
    d = tmp_path / "anchors"
    d.mkdir()
    (d / "a.pem").write_bytes(pki.rsa_root.pem)
    (d / "b.der").write_bytes(pki.p256_root.der)
    (d / "notes.txt").write_text("ignored")
    c = govsig.TrustStore.from_dir(d)
    e = govsig.TrustStore([pki.rsa_root.cert, pki.p256_root.cert])
    assert len(a) == len(b) == len(c) == len(e) == 2
    assert set(a.certificates) == set(c.certificates) == {pki.rsa_root.der, pki.p256_root.der}
    with pytest.raises(FileNotFoundError):
        govsig.TrustStore.from_files([tmp_path / "missing.pem"])


# --- bulk ----------------------------------------------------------------------------------

def test_verify_many_order_and_arrays(pki, verifier):
    good = P.sign_cms(CONTENT, pki.rsa_leaf)
    ec = P.sign_cms(CONTENT, pki.p256_leaf, detached=False)
    expired = P.sign_cms(CONTENT, pki.expired_leaf)
    items = []
    expected = []
    for i in range(300):
        k = i % 4
        if k == 0:
            items.append((good, CONTENT)); expected.append("ok")
        elif k == 1:
            items.append((ec, None)); expected.append("ok")
        elif k == 2:
            items.append((good, P.tamper_content(CONTENT))); expected.append("digest_mismatch")
        else:
            items.append((expired, CONTENT)); expected.append("cert_expired")
    items.append((b"junk", None)); expected.append("malformed")
    b = verifier.verify_many(iter(items), threads=2, chunk_size=64)
    assert len(b) == len(items)
    assert b.codes.dtype == np.uint8 and b.ok.dtype == np.bool_
    names = govsig.codes()
    assert [names[c] for c in b.codes] == expected
    assert [b[i].code for i in range(len(b))] == expected
    assert b[-1].code == "malformed"
    assert b.ok.sum() == expected.count("ok")
    assert b.counts() == {k: expected.count(k) for k in set(expected)}
    with pytest.raises(IndexError):
        b[len(b)]


def test_verify_stream_matches_verify(pki, verifier):
    sig = P.sign_cms(CONTENT, pki.p384_leaf)
    items = ((sig, CONTENT if i % 3 else b"x") for i in range(50))
    got = [r.code for r in verifier.verify_stream(items, chunk_size=7)]
    assert got == ["digest_mismatch" if i % 3 == 0 else "ok" for i in range(50)]


def test_verify_files(pki, verifier, tmp_path):
    (tmp_path / "a.pdf").write_bytes(CONTENT)
    (tmp_path / "a.pdf.p7s").write_bytes(P.sign_cms(CONTENT, pki.rsa_leaf))
    (tmp_path / "b.p7m").write_bytes(P.sign_cms(CONTENT, pki.p256_leaf, detached=False))
    (tmp_path / "c.p7s").write_bytes(P.sign_cms(CONTENT, pki.p256_leaf))  # no content beside
    b = verifier.verify_files([tmp_path / "a.pdf.p7s", tmp_path / "b.p7m", tmp_path / "c.p7s"])
    assert [b[i].code for i in range(3)] == ["ok", "ok", "content_missing"]


def test_bad_threads_argument(verifier):
    with pytest.raises(ValueError):
        verifier.verify_many([], threads=0)
