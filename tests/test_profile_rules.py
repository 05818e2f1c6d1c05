"""Path validation against outside truth (issue 11, items 1, 3 and 4): constraints carried by
a trust anchor (RFC 5937), certificate profile rules (RFC 5280 §4) with and without
``strict_profile``, algorithm refusals that say what they are, ``legacy_certificates``, and
a re-keyed CA that is not taken for the issuer.

Certificates come from the test PKI (tests/pki.py); the odd ones (an empty extendedKeyUsage,
serial zero, a critical authorityKeyIdentifier, MD5) are made by editing a well-formed
TBSCertificate with asn1crypto and signing it again with the issuer's key. Where OpenSSL has
an opinion (anchor constraints), ``openssl verify`` is asked too and must agree.
"""
from __future__ import annotations

import datetime as dt
import ipaddress
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from asn1crypto import core as a_core
from asn1crypto import x509 as a_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID

import govsig
import pki

UTC = dt.timezone.utc
AT = dt.datetime(2026, 3, 15, tzinfo=UTC)


def policy(root: pki.Issued, **knobs: object) -> govsig.Policy:
    return govsig.Policy(trust=[root.der], at=AT, revocation="off", **knobs)


def check(leaf: pki.Issued | bytes, *intermediates: pki.Issued | bytes, root: pki.Issued,
          **knobs: object) -> govsig.PathResult:
    der = leaf if isinstance(leaf, bytes) else leaf.der
    inter = [c if isinstance(c, bytes) else c.der for c in intermediates]
    return govsig.Verifier(policy(root, **knobs)).verify_certificate(der, inter)


# --- editing and re-signing certificates --------------------------------------------------

_SIG_OIDS = {"sha256_rsa": "1.2.840.113549.1.1.11", "sha1_rsa": "1.2.840.113549.1.1.5",
             "md5_rsa": "1.2.840.113549.1.1.4", "sha256_ecdsa": "1.2.840.10045.4.3.2"}


def resign(cert_der: bytes, issuer: pki.Issued, edit: Callable[[a_x509.TbsCertificate], None],
           sig: str | None = None, patch: tuple[bytes, bytes] | None = None) -> bytes:
    """``cert_der`` with its TBSCertificate changed by ``edit`` (then, for what asn1crypto
    will not encode, ``patch``: bytes replaced by others of the same length) and signed again
    by ``issuer``."""
    cert = a_x509.Certificate.load(cert_der)
    tbs = cert["tbs_certificate"]
    edit(tbs)
    key = issuer.key
    if sig is None:
        sig = "sha256_ecdsa" if isinstance(key, ec.EllipticCurvePrivateKey) else "sha256_rsa"
    alg = a_x509.SignedDigestAlgorithm({"algorithm": _SIG_OIDS[sig]})
    if sig.endswith("_rsa"):
        alg["parameters"] = a_core.Null()
    tbs["signature"] = alg
    data = tbs.dump(force=True)
    if patch is not None:
        old, new = patch
        assert len(old) == len(new) and data.count(old) == 1
        data = data.replace(old, new)
    if isinstance(key, ec.EllipticCurvePrivateKey):
        value = key.sign(data, ec.ECDSA(hashes.SHA256()))
    else:
        assert isinstance(key, rsa.RSAPrivateKey)
        digest = {"sha256_rsa": hashes.SHA256(), "sha1_rsa": hashes.SHA1(), "md5_rsa": hashes.MD5()}[sig]
        value = key.sign(data, padding.PKCS1v15(), digest)
    # Certificate ::= SEQUENCE { tbs, signatureAlgorithm, BIT STRING }, the TBS bytes as signed.
    return _tlv(0x30, data + alg.dump() + _tlv(0x03, b"\x00" + value))


def _tlv(tag: int, content: bytes) -> bytes:
    n = len(content)
    length = bytes([n]) if n < 0x80 else bytes([0x80 | ((n.bit_length() + 7) // 8)]) + n.to_bytes(
        (n.bit_length() + 7) // 8, "big")
    return bytes([tag]) + length + content


def set_extension(oid: str, raw: bytes | None, critical: bool | None = None) -> Callable[[a_x509.TbsCertificate], None]:
    """An edit replacing (or adding) extension ``oid`` with DER value ``raw`` (None: keep the
    value), and/or its criticality."""
    def edit(tbs: a_x509.TbsCertificate) -> None:
        exts = [e for e in tbs["extensions"]]
        old = next((e for e in exts if e["extn_id"].dotted == oid), None)
        value = raw if raw is not None else (old["extn_value"].contents if old is not None else b"")
        crit = critical if critical is not None else (bool(old["critical"].native) if old is not None else False)
        new = a_x509.Extension({"extn_id": oid, "critical": crit, "extn_value": a_core.ParsableOctetString(value)})
        out = [e for e in exts if e["extn_id"].dotted != oid] + [new]
        tbs["extensions"] = a_x509.Extensions(out)
    return edit


def set_serial(n: int) -> Callable[[a_x509.TbsCertificate], None]:
    def edit(tbs: a_x509.TbsCertificate) -> None:
        tbs["serial_number"] = n
    return edit


@pytest.fixture(scope="module")
def world() -> dict[str, pki.Issued]:
    root = pki.make_root("Root CA hồ sơ kiểm thử", "p256", seed="profile|root")
    ca = pki.make_intermediate("CA hồ sơ kiểm thử", root, "p256", seed="profile|ca")
    leaf = pki.make_leaf("Đinh Văn Bình", ca, "p256", seed="profile|leaf")
    return {"root": root, "ca": ca, "leaf": leaf}


def test_the_unedited_path_is_ok(world) -> None:
    assert check(world["leaf"], world["ca"], root=world["root"]).code == "ok"
    # Re-signing without an edit keeps it valid: the edits below are the only difference.
    same = resign(world["leaf"].der, world["ca"], lambda tbs: None)
    assert check(same, world["ca"], root=world["root"]).code == "ok"


# --- 1. trust anchors carry constraints (RFC 5937) -----------------------------------------

def _openssl_verify(tmp: Path, root: pki.Issued, chain: list[pki.Issued], leaf: pki.Issued) -> bool:
    (tmp / "root.pem").write_bytes(root.pem)
    (tmp / "chain.pem").write_bytes(b"".join(c.pem for c in chain) or root.pem)
    (tmp / "leaf.pem").write_bytes(leaf.pem)
    args = ["openssl", "verify", "-attime", str(int(AT.timestamp())), "-CAfile", str(tmp / "root.pem"),
            "-untrusted", str(tmp / "chain.pem"), str(tmp / "leaf.pem")]
    return subprocess.run(args, capture_output=True, timeout=60).returncode == 0


NC_CASES = {
    # form: (nameConstraints permitted subtree, SAN inside, SAN outside)
    "dns": (x509.DNSName("hagiang.gov.vn"), x509.DNSName("dvc.hagiang.gov.vn"), x509.DNSName("dvc.example.vn")),
    "rfc822": (x509.RFC822Name("hagiang.gov.vn"), x509.RFC822Name("binh@hagiang.gov.vn"),
               x509.RFC822Name("binh@example.vn")),
    "ip": (x509.IPAddress(ipaddress.ip_network("10.20.0.0/16")), x509.IPAddress(ipaddress.ip_address("10.20.1.2")),
           x509.IPAddress(ipaddress.ip_address("10.30.1.2"))),
    "dn": (x509.DirectoryName(x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
                                         x509.NameAttribute(NameOID.LOCALITY_NAME, "Hà Giang")])), None, None),
}


@pytest.mark.parametrize("form", list(NC_CASES))
def test_name_constraints_of_the_anchor_apply_to_the_whole_path(form: str, tmp_path: Path) -> None:
    permitted, inside, outside = NC_CASES[form]
    root = pki.make_root(f"Root ràng buộc tên ({form})", "p256", seed=f"profile|ncroot|{form}", extra_extensions=[
        (x509.NameConstraints(permitted_subtrees=[permitted], excluded_subtrees=None), True)])
    ca = pki.make_intermediate(f"CA ràng buộc tên ({form})", root, "p256", seed=f"profile|ncca|{form}",
                               org=None if form == "dn" else "Trung tâm Chứng thực điện tử thử nghiệm")
    if form == "dn":
        # The CA's name must itself be within the anchor's subtree; leaves in and out of it.
        ca = pki._build(name="ca-dn", subject=x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
                                                         x509.NameAttribute(NameOID.LOCALITY_NAME, "Hà Giang"),
                                                         x509.NameAttribute(NameOID.COMMON_NAME, "CA tỉnh")]),
                        key=pki.derive_key("p256", "profile|ncca-dn"), key_type="p256", issuer=root,
                        seed="profile|ncca-dn", not_before=pki.CA_NOT_BEFORE, not_after=pki.CA_NOT_AFTER, ca=True,
                        path_len=0, key_usage=("key_cert_sign", "crl_sign"), eku=None, with_ski=True, with_aki=True)
        good = pki.make_leaf("Đinh Văn Bình", ca, "p256", seed="profile|nc-in-dn", org=None, locality="Hà Giang")
        bad = pki.make_leaf("Đinh Văn Bình", ca, "p256", seed="profile|nc-out-dn", org=None, locality="Hà Nội")
    else:
        good = pki.make_leaf("Đinh Văn Bình", ca, "p256", seed=f"profile|nc-in|{form}",
                             extra_extensions=[(x509.SubjectAlternativeName([inside]), False)])
        bad = pki.make_leaf("Đinh Văn Bình", ca, "p256", seed=f"profile|nc-out|{form}",
                            extra_extensions=[(x509.SubjectAlternativeName([outside]), False)])
    assert check(good, ca, root=root).code == "ok"
    r = check(bad, ca, root=root)
    assert r.code == "name_constraints_violated", r.reason
    assert check(bad, ca, root=root, anchor_constraints=False).code == "ok"
    # OpenSSL applies the anchor's constraints too.
    assert _openssl_verify(tmp_path, root, [ca], good) is True
    assert _openssl_verify(tmp_path, root, [ca], bad) is False


def test_an_expired_anchor_fails_at_the_validation_time(tmp_path: Path) -> None:
    root = pki.make_root("Root đã hết hạn", "p256", seed="profile|oldroot",
                         not_before=dt.datetime(2005, 1, 1, tzinfo=UTC), not_after=dt.datetime(2020, 1, 1, tzinfo=UTC))
    ca = pki.make_intermediate("CA dưới root hết hạn", root, "p256", seed="profile|oldroot-ca")
    leaf = pki.make_leaf("Đinh Văn Bình", ca, "p256", seed="profile|oldroot-leaf")
    r = check(leaf, ca, root=root)
    assert r.code == "cert_expired" and "trust anchor" in r.reason and "2020-01-01" in r.reason, r.reason
    assert "anchor_constraints=False" in r.reason
    assert check(leaf, ca, root=root, anchor_constraints=False).code == "ok"
    assert _openssl_verify(tmp_path, root, [ca], leaf) is False
    # Inside the anchor's window the same path is fine.
    early = govsig.Verifier(policy(root).replace(at=dt.datetime(2019, 6, 1, tzinfo=UTC)))
    assert early.verify_certificate(leaf.der, [ca.der]).code == "cert_not_yet_valid"  # the leaf (2025-)


def test_an_anchor_with_an_unknown_critical_extension_is_refused(tmp_path: Path) -> None:
    root = pki.make_root("Root có phần mở rộng lạ", "p256", seed="profile|critroot", extra_extensions=[
        (x509.UnrecognizedExtension(x509.ObjectIdentifier("1.3.6.1.4.1.55555.7.1"), b"\x05\x00"), True)])
    ca = pki.make_intermediate("CA dưới root lạ", root, "p256", seed="profile|critroot-ca")
    leaf = pki.make_leaf("Đinh Văn Bình", ca, "p256", seed="profile|critroot-leaf")
    r = check(leaf, ca, root=root)
    assert r.code == "unknown_critical_extension" and "1.3.6.1.4.1.55555.7.1" in r.reason, r.reason
    assert check(leaf, ca, root=root, anchor_constraints=False).code == "ok"
    assert _openssl_verify(tmp_path, root, [ca], leaf) is False


# --- 3. profile rules (RFC 5280 §4) --------------------------------------------------------

EKU = "2.5.29.37"
SAN = "2.5.29.17"
AKI = "2.5.29.35"
SKI = "2.5.29.14"
BC = "2.5.29.19"


@pytest.mark.parametrize(("edit", "code", "clause"), [
    (set_extension(EKU, b"\x30\x00"), "cert_malformed", "§4.2.1.12"),
    (set_extension(SAN, b"\x30\x00"), "cert_malformed", "§4.2.1.6"),
    ((set_extension(SAN, b"\x30\x02\x82\x00"), (b"\x30\x02\x82\x00", b"\x30\x02\x04\x00")), "cert_malformed",
     "§4.2.1.6"),
    (set_extension("2.5.29.15", b"\x03\x02\x02\x04", critical=True), "basic_constraints_invalid", "§4.2.1.3"),
], ids=["empty-eku", "empty-san", "san-element-not-a-general-name", "keycertsign-without-ca"])
def test_profile_rules_that_are_always_on(world, edit, code: str, clause: str) -> None:
    edit, patch = edit if isinstance(edit, tuple) else (edit, None)
    bad = resign(world["leaf"].der, world["ca"], edit, patch=patch)
    for strict in (False, True):
        r = check(bad, world["ca"], root=world["root"], strict_profile=strict, key_usage=())
        assert r.code == code and clause in r.reason, r.reason


def test_an_empty_subject_needs_a_critical_subject_alt_name(world) -> None:
    def empty_subject(critical: bool) -> Callable[[a_x509.TbsCertificate], None]:
        def edit(tbs: a_x509.TbsCertificate) -> None:
            tbs["subject"] = a_x509.Name.build({})
            set_extension(SAN, a_x509.GeneralNames([a_x509.GeneralName(
                name="rfc822_name", value="binh@hagiang.gov.vn")]).dump(), critical)(tbs)
        return edit
    r = check(resign(world["leaf"].der, world["ca"], empty_subject(False)), world["ca"], root=world["root"])
    assert r.code == "cert_malformed" and "§4.1.2.6" in r.reason, r.reason
    assert check(resign(world["leaf"].der, world["ca"], empty_subject(True)), world["ca"],
                 root=world["root"]).code == "ok"


STRICT_LEAF_CASES = {
    "serial-zero": (set_serial(0), "cert_malformed", "serial number zero"),
    "serial-negative": (set_serial(-5), "cert_malformed", "negative serial"),
    "serial-21-octets": (set_serial(1 << 161), "cert_malformed", "21 octets"),
    "aki-critical": (set_extension(AKI, None, critical=True), "cert_malformed", "§4.2.1.1"),
    "ski-critical": (set_extension(SKI, None, critical=True), "cert_malformed", "§4.2.1.2"),
}


@pytest.mark.parametrize("case", list(STRICT_LEAF_CASES))
def test_strict_profile_rules_on_the_leaf(world, case: str) -> None:
    edit, code, said = STRICT_LEAF_CASES[case]
    bad = resign(world["leaf"].der, world["ca"], edit)
    # Off by default: archives of older CAs hold such certificates.
    assert check(bad, world["ca"], root=world["root"]).code == "ok"
    r = check(bad, world["ca"], root=world["root"], strict_profile=True)
    assert r.code == code and said in r.reason and "strict_profile" in r.reason, r.reason


def test_strict_profile_rules_on_the_ca(world) -> None:
    root = world["root"]
    no_aki_leaf = pki.make_leaf("Đinh Văn Bình (không AKI)", world["ca"], "p256", seed="profile|noaki", with_aki=False)
    assert check(no_aki_leaf, world["ca"], root=root).code == "ok"
    r = check(no_aki_leaf, world["ca"], root=root, strict_profile=True)
    assert r.code == "cert_malformed" and "no authorityKeyIdentifier" in r.reason, r.reason

    no_ski_ca = pki.make_intermediate("CA không SKI", root, "p256", seed="profile|noski", with_ski=False)
    leaf = pki.make_leaf("Đinh Văn Bình (CA không SKI)", no_ski_ca, "p256", seed="profile|noski-leaf")
    assert check(leaf, no_ski_ca, root=root).code == "ok"
    r = check(leaf, no_ski_ca, root=root, strict_profile=True)
    assert r.code == "cert_malformed" and "without subjectKeyIdentifier" in r.reason, r.reason

    soft_bc = resign(world["ca"].der, root, set_extension(BC, None, critical=False))
    # PKITS 4.6.4 expects a non-critical basicConstraints to be accepted: only strict refuses.
    assert check(world["leaf"], soft_bc, root=root).code == "ok"
    r = check(world["leaf"], soft_bc, root=root, strict_profile=True)
    assert r.code == "basic_constraints_invalid" and "§4.2.1.9" in r.reason, r.reason


# --- 4. algorithm refusals say what they are -----------------------------------------------

@pytest.fixture(scope="module")
def rsa_world() -> dict[str, pki.Issued]:
    root = pki.make_root("Root RSA kiểm thử thuật toán", "rsa2048", seed="profile|rsa-root")
    ca = pki.make_intermediate("CA RSA kiểm thử thuật toán", root, "rsa2048", seed="profile|rsa-ca")
    leaf = pki.make_leaf("Hoàng Thị Lan", ca, "p256", seed="profile|rsa-leaf")
    return {"root": root, "ca": ca, "leaf": leaf}


def test_a_sha1_certificate_is_not_allowed_and_says_so(rsa_world) -> None:
    root, ca, leaf = rsa_world["root"], rsa_world["ca"], rsa_world["leaf"]
    sha1_ca = resign(ca.der, root, lambda tbs: None, sig="sha1_rsa")
    r = check(leaf, sha1_ca, root=root)
    assert r.code == "algorithm_not_allowed", r.reason
    assert "sha1WithRSAEncryption" in r.reason and "CA RSA kiểm thử thuật toán" in r.reason, r.reason
    # legacy_certificates admits SHA-1 in certificate signatures; so does legacy.
    assert check(leaf, sha1_ca, root=root, legacy_certificates=True).code == "ok"
    assert check(leaf, sha1_ca, root=root, legacy=True).code == "ok"


def test_legacy_certificates_does_not_admit_sha1_document_signatures(rsa_world) -> None:
    root, ca, leaf = rsa_world["root"], rsa_world["ca"], rsa_world["leaf"]
    sha1_ca = resign(ca.der, root, lambda tbs: None, sig="sha1_rsa")
    content = "Quyết định số 12/QĐ-UBND".encode()
    # The path goes through the SHA-1-signed CA, given as an intermediate.
    pol = policy(root, legacy_certificates=True).replace(intermediates=[sha1_ca])
    sig = pki.sign_cms(content, leaf, digest="sha1", include_chain=False)
    r = govsig.Verifier(pol).verify(sig, content)
    assert r.code == "algorithm_not_allowed" and "sha1" in r.reason.lower(), r.reason
    assert govsig.Verifier(pol.replace(legacy=True)).verify(sig, content).code == "ok"
    sha256 = pki.sign_cms(content, leaf, include_chain=False)
    assert govsig.Verifier(pol).verify(sha256, content).code == "ok"
    assert govsig.Verifier(pol.replace(legacy_certificates=False)).verify(sha256, content).code == "algorithm_not_allowed"


def _crl(issuer: pki.Issued, sig: str = "sha256_rsa") -> bytes:
    """A CRL of ``issuer`` signed with ``sig`` (``cryptography`` refuses to sign with SHA-1,
    so the TBSCertList is signed here as ``resign`` signs certificates)."""
    from asn1crypto import crl as a_crl
    from cryptography.hazmat.primitives.serialization import Encoding

    der = (x509.CertificateRevocationListBuilder().issuer_name(issuer.cert.subject)
           .last_update(AT - dt.timedelta(days=1)).next_update(AT + dt.timedelta(days=7))
           .add_extension(x509.CRLNumber(1), critical=False)
           .sign(issuer.key, hashes.SHA256()).public_bytes(Encoding.DER))
    tbs = a_crl.CertificateList.load(der)["tbs_cert_list"]
    alg = a_x509.SignedDigestAlgorithm({"algorithm": _SIG_OIDS[sig], "parameters": a_core.Null()})
    tbs["signature"] = alg
    data = tbs.dump(force=True)
    assert isinstance(issuer.key, rsa.RSAPrivateKey)
    value = issuer.key.sign(data, padding.PKCS1v15(), {"sha256_rsa": hashes.SHA256(), "sha1_rsa": hashes.SHA1()}[sig])
    return _tlv(0x30, data + alg.dump() + _tlv(0x03, b"\x00" + value))


def test_results_say_where_a_legacy_algorithm_was_admitted(rsa_world) -> None:
    root, ca, leaf = rsa_world["root"], rsa_world["ca"], rsa_world["leaf"]
    sha1_ca = resign(ca.der, root, lambda tbs: None, sig="sha1_rsa")
    content = "Quyết định số 13/QĐ-UBND".encode()
    sha256 = pki.sign_cms(content, leaf, include_chain=False)
    # Nothing legacy: no warning.
    plain = govsig.Verifier(policy(root).replace(intermediates=[ca.der])).verify(sha256, content)
    assert (plain.code, plain.signers[0].warnings) == ("ok", [])
    # A SHA-1 certificate admitted by legacy_certificates: said, naming the certificate.
    pol = policy(root, legacy_certificates=True).replace(intermediates=[sha1_ca])
    s = govsig.Verifier(pol).verify(sha256, content).signers[0]
    assert (s.code, s.warnings) == ("ok", ["legacy_algorithm_certificate"])
    ((_, detail),) = s.warning_details
    assert "CA RSA kiểm thử thuật toán" in detail and "sha1WithRSAEncryption" in detail, detail
    # A SHA-1 document signature admitted by legacy: said too, apart from the certificate.
    sha1_doc = pki.sign_cms(content, leaf, digest="sha1", include_chain=False)
    s = govsig.Verifier(pol.replace(legacy=True)).verify(sha1_doc, content).signers[0]
    assert s.code == "ok", s.reason
    assert s.warnings == ["legacy_algorithm_signature", "legacy_algorithm_certificate"]
    assert "sha1" in s.warning_details[0][1].lower()
    # A CRL that decided a status, signed with SHA-1: the warning names the CRL.
    crls = [_crl(ca, "sha1_rsa"), _crl(root)]
    pol = policy(root, legacy_certificates=True).replace(intermediates=[ca.der], crls=crls, revocation="hard-fail")
    s = govsig.Verifier(pol).verify(sha256, content).signers[0]
    assert (s.code, s.warnings) == ("ok", ["legacy_algorithm_crl"]), s.reason
    assert "CA RSA kiểm thử thuật toán" in s.warning_details[0][1]
    assert set(govsig.warning_descriptions()) >= {"legacy_algorithm_certificate", "legacy_algorithm_crl",
                                                   "legacy_algorithm_ocsp", "legacy_algorithm_signature"}


def test_md5_is_never_allowed(rsa_world) -> None:
    root, ca, leaf = rsa_world["root"], rsa_world["ca"], rsa_world["leaf"]
    md5_ca = resign(ca.der, root, lambda tbs: None, sig="md5_rsa")
    for knobs in ({}, {"legacy": True}, {"legacy_certificates": True}):
        r = check(leaf, md5_ca, root=root, **knobs)
        assert r.code == "algorithm_not_allowed" and "md5WithRSAEncryption" in r.reason, (knobs, r.reason)


def test_a_rekeyed_ca_under_the_same_name_is_not_the_issuer(world) -> None:
    root = world["root"]
    old = world["ca"]
    # Same name, new key: the leaf it issues names the new key in its AKI.
    new = pki.make_intermediate("CA hồ sơ kiểm thử", root, "p256", seed="profile|ca-rekeyed")
    leaf = pki.make_leaf("Đinh Văn Bình (khóa mới)", new, "p256", seed="profile|rekeyed-leaf")
    assert check(leaf, old, new, root=root).code == "ok"
    r = check(leaf, old, root=root)
    assert r.code == "chain_untrusted", r.reason
    assert new.ski is not None and new.ski.hex() in r.reason and "key identifier" in r.reason, r.reason
