"""The test PKI is what it claims to be, judged by tools that share no code with tests/pki.py:
the openssl CLI (chains, CMS verification), asn1crypto (structure), and pyca/cryptography's
primitives (Ed25519, which OpenSSL 3.0's CMS code cannot handle)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
from asn1crypto import cms as a_cms
from asn1crypto import x509 as a_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

import pki as P
from conftest import StandardPki, build_standard_pki

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
import demo as demo_script  # noqa: E402
import make_archive as archive_script  # noqa: E402

CONTENT = ("QUYẾT ĐỊNH về việc phê duyệt kế hoạch cải cách hành chính năm 2026.\n" * 40).encode()
RSA_EC = ("rsa2048", "rsa3072", "p256", "p384", "p521")
DIGEST_OIDS = {"sha256": "2.16.840.1.101.3.4.2.1", "sha384": "2.16.840.1.101.3.4.2.2",
               "sha512": "2.16.840.1.101.3.4.2.3"}


def signed_data(der: bytes) -> a_cms.SignedData:
    ci = a_cms.ContentInfo.load(der)
    assert ci["content_type"].native == "signed_data"
    return ci["content"]


def accepted(cms: bytes, ca, content: bytes | None = None, **kw) -> bool:
    r = P.openssl_verify(cms, ca, content=content, **kw)
    if r.returncode == 0:
        # OpenSSL writes out what it verified: it must be exactly the signed content.
        assert r.stdout == (content if content is not None else CONTENT)
    return r.returncode == 0


def independent_check(cms: bytes, content: bytes) -> list[str]:
    """Verify every SignerInfo with pyca primitives only; one verdict per signer: "ok",
    "digest_mismatch" or "signature_invalid". Written from RFC 5652 §5.4/§5.6 and RFC 8419
    for what OpenSSL 3.0's CLI cannot judge (Ed25519, contentType mismatches). RSA here is
    PKCS#1 v1.5 only."""
    sd = signed_data(cms)
    certs = [c.chosen for c in sd["certificates"]]
    verdicts = []
    for si in sd["signer_infos"]:
        sid = si["sid"]
        if sid.name == "subject_key_identifier":
            cert = next(c for c in certs if c.key_identifier == sid.native)
        else:
            iss = sid.chosen
            cert = next(c for c in certs if c.serial_number == iss["serial_number"].native
                        and c.issuer == iss["issuer"])
        pub = x509.load_der_x509_certificate(cert.dump()).public_key()
        algo = si["digest_algorithm"]["algorithm"].native
        attrs = si["signed_attrs"]
        if len(attrs):
            md = next(a["values"][0].native for a in attrs if a["type"].native == "message_digest")
            if hashlib.new(algo, content).digest() != md:
                verdicts.append("digest_mismatch")
                continue
            signed = attrs.untag().dump()
        else:
            signed = content
        sig = si["signature"].native
        h = {"sha256": hashes.SHA256(), "sha384": hashes.SHA384(),
             "sha512": hashes.SHA512()}[algo]
        try:
            if isinstance(pub, ed25519.Ed25519PublicKey):
                pub.verify(sig, signed)
            elif isinstance(pub, rsa.RSAPublicKey):
                pub.verify(sig, signed, padding.PKCS1v15(), h)
            elif isinstance(pub, ec.EllipticCurvePublicKey):
                pub.verify(sig, signed, ec.ECDSA(h))
            else:
                raise AssertionError(f"unexpected key {type(pub).__name__}")
            verdicts.append("ok")
        except InvalidSignature:
            verdicts.append("signature_invalid")
    return verdicts


# -- certificates ---------------------------------------------------------------------------


def _openssl_verify_cert(openssl: str, tmp_path: Path, leaf: P.Issued, at: dt.datetime | None = None):
    (tmp_path / "root.pem").write_bytes(leaf.root.pem)
    (tmp_path / "untrusted.pem").write_bytes(P.pem_bundle(leaf.intermediates) or leaf.root.pem)
    (tmp_path / "leaf.pem").write_bytes(leaf.pem)
    cmd = [openssl, "verify", "-CAfile", str(tmp_path / "root.pem"),
           "-untrusted", str(tmp_path / "untrusted.pem")]
    if at is not None:
        cmd += ["-attime", str(int(at.timestamp()))]
    return subprocess.run(cmd + [str(tmp_path / "leaf.pem")], capture_output=True, text=True,
                          timeout=60)


@pytest.mark.parametrize("name", sorted(StandardPki.__dataclass_fields__))
def test_every_certificate_chains_to_its_root(pki, openssl, tmp_path, name):
    item: P.Issued = getattr(pki, name)
    # Inside every validity window except the deliberately expired / future ones.
    at = {"expired_leaf": dt.datetime(2020, 6, 1, tzinfo=dt.timezone.utc),
          "not_yet_valid_leaf": dt.datetime(2046, 1, 1, tzinfo=dt.timezone.utc)}.get(
        name, dt.datetime(2026, 6, 1, tzinfo=dt.timezone.utc))
    r = _openssl_verify_cert(openssl, tmp_path, item, at)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.strip().endswith(": OK")


def test_expired_and_future_leaves_fail_today_for_that_reason(pki, openssl, tmp_path):
    r = _openssl_verify_cert(openssl, tmp_path, pki.expired_leaf)
    assert r.returncode != 0 and "certificate has expired" in r.stdout + r.stderr
    r = _openssl_verify_cert(openssl, tmp_path, pki.not_yet_valid_leaf)
    assert r.returncode != 0 and "certificate is not yet valid" in r.stdout + r.stderr


def test_chain_shapes(pki):
    assert [c.name for c in pki.rsa_leaf.path] == [
        "Nguyễn Văn An", "CA ký số chuyên dùng thử nghiệm", "Root CA RSA thử nghiệm"]
    assert len(pki.p256_leaf.path) == 2 and pki.p256_leaf.intermediates == []
    assert pki.rsa_root.is_root and pki.rsa_root.cert.issuer == pki.rsa_root.cert.subject
    bc = pki.rsa_intermediate.cert.extensions.get_extension_for_class(x509.BasicConstraints)
    assert bc.critical and bc.value.ca and bc.value.path_length == 0
    for kt, leaf in pki.leaves.items():
        assert leaf.key_type == kt == P.key_type_of(leaf.key)


def test_names_are_utf8string_with_vietnamese_text(pki):
    cert = a_x509.Certificate.load(pki.rsa_leaf.der)
    kinds = {}
    for rdn in cert.subject.chosen:
        for atv in rdn:
            kinds[atv["type"].native] = (atv["value"].name, atv["value"].native)
    assert kinds["common_name"] == ("utf8_string", "Nguyễn Văn An")
    assert kinds["organization_name"] == ("utf8_string", "Ủy ban nhân dân tỉnh Hà Giang")
    assert kinds["country_name"] == ("printable_string", "VN")
    # The raw DER carries the UTF8String tag (0x0c) followed by the UTF-8 bytes.
    raw = "Nguyễn Văn An".encode()
    assert bytes([0x0C, len(raw)]) + raw in pki.rsa_leaf.der


def test_special_leaves_have_the_advertised_defect(pki):
    ku = pki.keycertsign_leaf.cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert ku.key_cert_sign and not ku.digital_signature and not ku.content_commitment
    with pytest.raises(x509.ExtensionNotFound):
        pki.no_ski_leaf.cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
    assert pki.no_ski_leaf.ski is None
    assert pki.expired_leaf.cert.not_valid_after_utc.year == 2021
    assert pki.not_yet_valid_leaf.cert.not_valid_before_utc.year == 2045
    aki = pki.rsa_leaf.cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier)
    assert aki.value.key_identifier == pki.rsa_intermediate.ski


def test_determinism(pki, tmp_path, monkeypatch):
    # A fresh process state (memo cleared, cold key cache) must rebuild identical bytes.
    monkeypatch.setattr(P, "_KEYS", {})
    monkeypatch.setenv("GOVSIG_PKI_KEYCACHE", str(tmp_path / "cache"))
    again = build_standard_pki()
    for name in StandardPki.__dataclass_fields__:
        assert getattr(again, name).der == getattr(pki, name).der, name
    assert P.derive_key("rsa2048", "Nguyễn Văn An").private_numbers() == \
        pki.rsa_leaf.key.private_numbers()
    assert list((tmp_path / "cache").iterdir()), "RSA keys were written to the cache"
    # Different seeds give different keys.
    assert P.make_root("X", "p256", seed="a").der != P.make_root("X", "p256", seed="b").der
    # Deterministic schemes through the native engine give byte-identical CMS.
    for leaf in (pki.rsa_leaf, pki.p256_leaf, pki.ed25519_leaf):
        assert P.sign_cms(CONTENT, leaf, engine="native") == P.sign_cms(CONTENT, leaf,
                                                                        engine="native")


def test_key_cache_survives_a_corrupt_file(tmp_path, monkeypatch):
    monkeypatch.setattr(P, "_KEYS", {})
    monkeypatch.setenv("GOVSIG_PKI_KEYCACHE", str(tmp_path))
    k1 = P.derive_key("rsa2048", "cache-test")
    (f,) = tmp_path.iterdir()
    f.write_bytes(b"\x30\x03junk")
    monkeypatch.setattr(P, "_KEYS", {})
    assert P.derive_key("rsa2048", "cache-test").private_numbers() == k1.private_numbers()


def test_bad_requests_raise_clear_errors(pki):
    with pytest.raises(P.PkiError, match="unknown key type"):
        P.derive_key("dsa1024", "x")
    with pytest.raises(P.PkiError, match="cannot sign with Ed25519"):
        P.sign_cms(CONTENT, pki.ed25519_leaf, engine="cryptography")
    with pytest.raises(P.PkiError, match="Ed25519"):
        P.sign_cms(CONTENT, pki.ed25519_leaf, engine="openssl")
    with pytest.raises(P.PkiError, match="no subjectKeyIdentifier"):
        P.sign_cms(CONTENT, pki.no_ski_leaf, ski_sid=True)
    with pytest.raises(P.PkiError, match="unknown keyUsage"):
        P.make_leaf("x", pki.p256_root, "p256", key_usage=("sign",))


# -- CMS: every engine, accepted by openssl -------------------------------------------------


@pytest.mark.parametrize("engine", ["cryptography", "native", "openssl"])
@pytest.mark.parametrize("detached", [True, False], ids=["detached", "attached"])
@pytest.mark.parametrize("attrs", [True, False], ids=["attrs", "noattr"])
def test_openssl_accepts_each_engine(pki, openssl, engine, detached, attrs):
    for kt in RSA_EC:
        leaf = pki.leaves[kt]
        cms = P.sign_cms(CONTENT, leaf, engine=engine, detached=detached, attrs=attrs)
        assert accepted(cms, pki.roots, CONTENT if detached else None), (engine, kt)
        sd = signed_data(cms)
        (si,) = sd["signer_infos"]
        assert si["sid"].name == "issuer_and_serial_number"
        assert si["digest_algorithm"]["algorithm"].dotted == DIGEST_OIDS["sha256"]
        assert (sd["encap_content_info"]["content"].native is None) == detached
        assert bool(len(si["signed_attrs"])) == attrs
        names = {c.chosen.subject.native["common_name"] for c in sd["certificates"]}
        assert leaf.name in names and leaf.root.name not in names


@pytest.mark.parametrize("engine", ["cryptography", "native", "openssl"])
def test_rsa_pss(pki, openssl, engine):
    for leaf in (pki.rsa_leaf, pki.rsa3072_leaf):
        cms = P.sign_cms(CONTENT, leaf, engine=engine, pss=True, digest="sha384")
        assert accepted(cms, pki.roots, CONTENT)
        si = signed_data(cms)["signer_infos"][0]
        assert si["signature_algorithm"]["algorithm"].native == "rsassa_pss"
        params = si["signature_algorithm"]["parameters"]
        assert params["hash_algorithm"]["algorithm"].native == "sha384"
        assert params["salt_length"].native == 48


@pytest.mark.parametrize("engine", ["cryptography", "native", "openssl"])
def test_several_signers(pki, openssl, engine):
    cms = P.sign_cms(CONTENT, pki.rsa_leaf, engine=engine,
                     extra_signers=(pki.p256_leaf, pki.p384_leaf), detached=False)
    assert accepted(cms, pki.roots)
    sd = signed_data(cms)
    assert len(sd["signer_infos"]) == 3
    # cryptography sorts SignerInfos as a DER SET OF; the others keep the signers' order.
    sigalgs = sorted(si["signature_algorithm"]["algorithm"].native for si in sd["signer_infos"])
    assert sigalgs == ["rsassa_pkcs1v15", "sha256_ecdsa", "sha256_ecdsa"]


@pytest.mark.parametrize("engine", ["native", "openssl"])
def test_subject_key_identifier_signer_id(pki, openssl, engine):
    cms = P.sign_cms(CONTENT, pki.p256_leaf, engine=engine, ski_sid=True)
    assert accepted(cms, pki.roots, CONTENT)
    sd = signed_data(cms)
    si = sd["signer_infos"][0]
    assert sd["version"].native == "v3" and si["version"].native == "v3"
    assert si["sid"].name == "subject_key_identifier" and si["sid"].native == pki.p256_leaf.ski


def test_openssl_stream_gives_indefinite_length_ber(pki, openssl):
    cms = P.sign_cms(CONTENT, pki.rsa_leaf, engine="openssl", detached=False, stream=True)
    assert cms[:2] == b"\x30\x80", "outer SEQUENCE uses the indefinite-length form"
    assert accepted(cms, pki.roots)


def test_native_signing_time_and_sha512(pki, openssl):
    when = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
    cms = P.sign_cms(CONTENT, pki.p521_leaf, signing_time=when, digest="sha512")
    si = signed_data(cms)["signer_infos"][0]
    attrs = {a["type"].native: a["values"][0].native for a in si["signed_attrs"]}
    assert attrs["signing_time"] == when
    assert attrs["content_type"] == "data"
    assert attrs["message_digest"] == hashlib.sha512(CONTENT).digest()
    assert si["signature_algorithm"]["algorithm"].native == "sha512_ecdsa"
    assert accepted(cms, pki.roots, CONTENT)


@pytest.mark.parametrize("detached", [True, False], ids=["detached", "attached"])
@pytest.mark.parametrize("attrs", [True, False], ids=["attrs", "noattr"])
def test_ed25519_native(pki, detached, attrs):
    # The same signer twice: Ed25519 is deterministic, so both SignerInfos carry identical
    # signature bytes, which tamper_signature must still tell apart.
    cms = P.sign_cms(CONTENT, pki.ed25519_leaf, detached=detached, attrs=attrs,
                     extra_signers=(pki.ed25519_leaf,), ski_sid=True)
    sis = signed_data(cms)["signer_infos"]
    assert sis[0]["signature"].native == sis[1]["signature"].native
    si = signed_data(cms)["signer_infos"][0]
    assert si["signature_algorithm"]["algorithm"].native == "ed25519"
    # RFC 8419 §3: SHA-512 is the digest with Ed25519 signed attributes.
    assert si["digest_algorithm"]["algorithm"].native == "sha512"
    assert independent_check(cms, CONTENT) == ["ok", "ok"]
    assert independent_check(P.tamper_signature(cms, 1), CONTENT) == ["ok", "signature_invalid"]
    bad = independent_check(cms, P.tamper_content(CONTENT))
    assert bad == (["digest_mismatch"] * 2 if attrs else ["signature_invalid"] * 2)


def test_signer_certificate_and_chain_omission(pki, openssl):
    no_chain = P.sign_cms(CONTENT, pki.rsa_leaf, include_chain=False)
    assert len(signed_data(no_chain)["certificates"]) == 1
    r = P.openssl_verify(no_chain, pki.roots, content=CONTENT)
    assert r.returncode != 0 and "unable to get local issuer" in r.stderr.decode()
    # The same signature validates once the intermediate is known (OpenSSL 3.0's cms has no
    # -untrusted, and its -certfile only feeds signer look-up, so it goes in the CA file).
    assert accepted(no_chain, [*pki.roots, pki.rsa_intermediate], CONTENT)
    bare = P.sign_cms(CONTENT, pki.rsa_leaf, include_signer_cert=False, include_chain=False,
                      engine="native")
    assert signed_data(bare)["certificates"].native in (None, [])


# -- tampering ------------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ["cryptography", "openssl"])
def test_tampered_material_is_rejected(pki, openssl, engine):
    leaf = pki.rsa_leaf
    det = P.sign_cms(CONTENT, leaf, engine=engine)
    att = P.sign_cms(CONTENT, leaf, engine=engine, detached=False)
    assert accepted(det, pki.roots, CONTENT) and accepted(att, pki.roots)
    cases = {
        "content": (det, P.tamper_content(CONTENT), "verification failure"),
        "encapsulated": (P.tamper_encapsulated(att), None, "verification failure"),
        "signature": (P.tamper_signature(det), CONTENT, "rsa routines"),
        "signing_time": (P.tamper_signed_attrs(det), CONTENT, "bad signature"),
        "message_digest": (P.tamper_signed_attrs(det, attr="message_digest"), CONTENT,
                           "bad signature"),
        "content_type": (P.tamper_signed_attrs(det, attr="content_type"), CONTENT,
                         "bad signature"),
    }
    for what, (cms, content, why) in cases.items():
        signed_data(cms)["signer_infos"][0]["signature"].native  # still parses
        r = P.openssl_verify(cms, pki.roots, content=content)
        assert r.returncode != 0 and why in r.stderr.decode(), (what, r.stderr)


def test_tampered_stream_ber_is_rejected(pki, openssl):
    cms = P.sign_cms(CONTENT, pki.p256_leaf, engine="openssl", detached=False, stream=True)
    assert not accepted(P.tamper_encapsulated(cms), pki.roots)
    assert not accepted(P.tamper_signature(cms), pki.roots)


def test_crafted_content_type_mismatch_keeps_a_valid_signature(pki):
    cms = P.sign_cms(CONTENT, pki.ed25519_leaf, attr_content_type="signed_data")
    si = signed_data(cms)["signer_infos"][0]
    attrs = {a["type"].native: a["values"][0].native for a in si["signed_attrs"]}
    assert attrs["content_type"] == "signed_data"
    assert signed_data(cms)["encap_content_info"]["content_type"].native == "data"
    assert independent_check(cms, CONTENT) == ["ok"]


def test_certificate_defects_are_seen_by_openssl(pki, openssl):
    for leaf, why in ((pki.expired_leaf, "certificate has expired"),
                      (pki.not_yet_valid_leaf, "certificate is not yet valid")):
        r = P.openssl_verify(P.sign_cms(CONTENT, leaf), pki.roots, content=CONTENT)
        assert r.returncode != 0 and why in r.stderr.decode()
    # The no-SKI leaf is a valid signer identified by issuer and serial.
    assert accepted(P.sign_cms(CONTENT, pki.no_ski_leaf), pki.roots, CONTENT)


# -- fixtures -------------------------------------------------------------------------------


def test_tmp_pki_dir_files_load(tmp_pki_dir, pki):
    root = x509.load_pem_x509_certificate((tmp_pki_dir / "rsa_root.pem").read_bytes())
    assert root == pki.rsa_root.cert
    roots = x509.load_pem_x509_certificates((tmp_pki_dir / "roots.pem").read_bytes())
    assert [r.subject for r in roots] == [pki.rsa_root.cert.subject, pki.p256_root.cert.subject]
    assert (tmp_pki_dir / "ed25519_leaf.key.pem").read_bytes().startswith(
        b"-----BEGIN PRIVATE KEY-----")


def test_conformance_dir_is_found(conformance_dir):
    assert (conformance_dir / "pkits").is_dir() and (conformance_dir / "wycheproof").is_dir()


# -- the demo archive -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_archive(tmp_path_factory):
    out = tmp_path_factory.mktemp("archive")
    return out, archive_script.make_archive(out, n=50, seed="test-archive")


def test_make_archive_layout_and_expectations(small_archive):
    out, res = small_archive
    docs = res["documents"]
    assert len(docs) == res["n"] == 50
    assert res["counts"] == {"cert_expired": 1, "digest_mismatch": 1, "ok": 47,
                             "signature_invalid": 1}
    assert json.loads((out / "expected.json").read_text(encoding="utf-8")) == res
    archive = out / "archive"
    on_disk = {p.relative_to(archive).as_posix() for p in archive.rglob("*.p7[sm]")}
    assert on_disk == set(docs)
    kinds = {Path(k).suffix for k in docs}
    assert kinds == {".p7s", ".p7m"}, "both detached and attached documents"
    for k in docs:
        if k.endswith(".p7s"):
            content = (archive / k[:-4]).read_bytes()
            assert 800 <= len(content) <= 5000
            content.decode("utf-8")


def test_make_archive_outcomes_agree_with_openssl(small_archive, openssl):
    out, res = small_archive
    archive = out / "archive"
    root = x509.load_pem_x509_certificate((out / "trust/root.pem").read_bytes())
    inter = x509.load_pem_x509_certificates((out / "trust/intermediates.pem").read_bytes())
    assert [c.issuer for c in inter] == [root.subject]
    anchor = P.Issued("root", root, None, "rsa2048")  # type: ignore[arg-type]
    signer_types = set()
    for rel, want in res["documents"].items():
        cms = (archive / rel).read_bytes()
        content = (archive / rel[:-4]).read_bytes() if rel.endswith(".p7s") else None
        certs = signed_data(cms)["certificates"]
        signer_types.add(certs[0].chosen.public_key.algorithm)
        r = P.openssl_verify(cms, anchor, content=content)
        err = r.stderr.decode()
        if want == "ok":
            assert r.returncode == 0, (rel, err)
        elif want == "cert_expired":
            assert r.returncode != 0 and "certificate has expired" in err
            # Only the date is wrong: inside the validity window it verifies.
            assert P.openssl_verify(cms, anchor, content=content,
                                    attime=dt.datetime(2020, 6, 1, tzinfo=dt.timezone.utc)
                                    ).returncode == 0
        else:
            assert r.returncode != 0 and "certificate verify error" not in err, (rel, err)
    assert signer_types == {"rsa", "ec"}


def test_make_archive_refuses_to_overwrite(small_archive):
    out, _ = small_archive
    with pytest.raises(FileExistsError):
        archive_script.make_archive(out, n=1)


def test_demo_comparison_reads_a_jsonl_report(small_archive, tmp_path, capsys):
    out, res = small_archive
    archive = out / "archive"
    docs = res["documents"]
    report = tmp_path / "report.jsonl"
    # Paths in the forms a report may plausibly use: absolute signature path, and for detached
    # documents the content path relative to the archive.
    lines = []
    for rel, code in docs.items():
        path = rel[:-4] if rel.endswith(".p7s") else str(archive / rel)
        lines.append(json.dumps({"path": path, "code": code, "ok": code == "ok"}))
    report.write_text("\n".join(lines) + "\n", encoding="utf-8")
    matched, problems = demo_script.compare(report, archive, docs)
    assert (matched, problems) == (50, [])

    first = next(iter(docs))
    lines[0] = json.dumps({"path": str(archive / first), "code": "malformed"})
    report.write_text("\n".join(lines[:-1]) + "\n", encoding="utf-8")
    matched, problems = demo_script.compare(report, archive, docs)
    assert matched == 48 and len(problems) == 2
    assert problems[0] == f"{first}: expected {docs[first]}, got malformed"
    assert "missing from report" in problems[1]
    assert "outcome" in capsys.readouterr().out


# -- the committed corpus in tests/data/cms -------------------------------------------------

CORPUS = Path(__file__).resolve().parent / "data" / "cms"


def test_committed_corpus_matches_its_generator(tmp_path):
    sys.path.insert(0, str(CORPUS))
    try:
        import generate as corpus_generator
    finally:
        sys.path.remove(str(CORPUS))
    corpus_generator.generate(tmp_path)
    fresh = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    committed = {p.name: p.read_bytes() for p in CORPUS.iterdir()
                 if p.is_file() and p.name != "generate.py"}
    assert sorted(fresh) == sorted(committed)
    stale = [n for n in fresh if fresh[n] != committed[n]]
    assert stale == [], f"re-run tests/data/cms/generate.py: {stale} differ"


def test_committed_corpus_outcomes_agree_with_openssl(pki, openssl):
    manifest = json.loads((CORPUS / "manifest.json").read_text(encoding="utf-8"))
    at = dt.datetime.fromisoformat(manifest["validation_time"])
    # Outcomes OpenSSL 3.0 cannot judge: it has no Ed25519 CMS support, and it does not compare
    # the contentType attribute with eContentType (RFC 5652 §11.1).
    blind = {"ed25519_detached.p7s", "three_signers.p7s", "content_type_mismatch.p7s"}
    seen = set()
    for name, entry in manifest["signatures"].items():
        cms = (CORPUS / name).read_bytes()
        content = (CORPUS / entry["content"]).read_bytes() if entry["content"] else None
        seen.add(entry["code"])
        if name in blind:
            continue
        # smimesign: OpenSSL's S/MIME purpose requires digitalSignature/nonRepudiation.
        r = P.openssl_verify(cms, pki.roots, content=content, attime=at, purpose="smimesign")
        if entry["code"] == "ok":
            assert r.returncode == 0, (name, r.stderr)
        else:
            assert r.returncode != 0, name
    for name in ("ed25519_detached.p7s", "three_signers.p7s", "content_type_mismatch.p7s"):
        cms = (CORPUS / name).read_bytes()
        verdicts = independent_check(cms, (CORPUS / "content.txt").read_bytes())
        assert verdicts and all(v == "ok" for v in verdicts), (name, verdicts)
    assert seen >= {"ok", "malformed", "content_missing", "digest_mismatch",
                    "content_type_mismatch", "signature_invalid", "signer_not_found",
                    "chain_untrusted", "cert_expired", "cert_not_yet_valid", "key_usage_invalid"}

