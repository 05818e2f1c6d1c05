"""Missing issuers fetched by authorityInfoAccess caIssuers (issue 13 item 6, RFC 5280
§4.2.2.1): a signature that carries only the signer's certificate, whose issuer the verifier
does not hold, names the issuer's caIssuers URL as a need; the fetcher gets it once per batch
(a DER certificate, or a certs-only PKCS#7 ".p7c" made by ``openssl crl2pkcs7``) from a
loopback server, and what came joins the pool as an untrusted intermediate, never an anchor.
"""
from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import AuthorityInformationAccessOID

import govsig
import pdfsign
import pki
from http_servers import LoopbackServer, Reply

CONTENT = "Tờ trình số 17/TTr-UBND về việc phê duyệt dự toán".encode()


def ca_issuers(url: str) -> tuple[x509.ExtensionType, bool]:
    return x509.AuthorityInformationAccess([x509.AccessDescription(
        AuthorityInformationAccessOID.CA_ISSUERS, x509.UniformResourceIdentifier(url))]), False


def p7c(openssl: str, tmp: Path, certs: list[pki.Issued]) -> bytes:
    """A certs-only PKCS#7 (DER) as CAs publish them, made by ``openssl crl2pkcs7``."""
    pem = tmp / "bundle.pem"
    pem.write_bytes(pki.pem_bundle(certs))
    return subprocess.run([openssl, "crl2pkcs7", "-nocrl", "-certfile", str(pem), "-outform", "DER"],
                          check=True, capture_output=True).stdout


class World:
    """root (the only anchor) -> "CA cấp 1" -> "CA cấp 2" -> signers whose caIssuers point at
    the loopback server: the issuing CA's certificate as DER (/ca2.cer), both CAs as a .p7c
    (/chain.p7c), and CA cấp 2's own caIssuers at /ca1.cer (a path fetched in two rounds)."""

    def __init__(self, server: LoopbackServer, openssl: str, tmp: Path) -> None:
        self.server = server
        self.openssl = openssl
        self.tmp = tmp
        self.root = pki.make_root("AIA Root CA")
        self.ca1 = pki.make_intermediate("AIA CA cấp 1", self.root, path_len=1)
        self.ca2 = pki.make_intermediate("AIA CA cấp 2", self.ca1, path_len=0,
                                         extra_extensions=[ca_issuers(server.url("/ca1.cer"))])
        server.serve("/ca2.cer", self.ca2.der, "application/pkix-cert")
        server.serve("/ca1.cer", self.ca1.der, "application/pkix-cert")
        # PEM after explanatory text, as `openssl x509 -text` writes it (RFC 7468 §2).
        server.serve("/ca2-text.pem", b"Certificate:\n    Subject: AIA CA cap 2\n" + self.ca2.pem)
        self.chain_p7c = p7c(openssl, tmp, [self.ca2, self.ca1])
        server.serve("/chain.p7c", self.chain_p7c, "application/pkcs7-mime")
        server.serve("/chain-pem.p7c", subprocess.run(
            [openssl, "pkcs7", "-inform", "DER", "-outform", "PEM"],
            input=self.chain_p7c, check=True, capture_output=True).stdout)

    def leaf(self, name: str, path: str) -> pki.Issued:
        return pki.make_leaf(name, self.ca2, extra_extensions=[ca_issuers(self.server.url(path))])

    def signature(self, leaf: pki.Issued) -> bytes:
        # Only the signer's certificate travels with the signature.
        return pki.sign_cms(CONTENT, leaf, include_chain=False)

    def policy(self, **kw: object) -> govsig.Policy:
        return govsig.Policy(trust=[self.root.cert], revocation="off", **kw)  # type: ignore[arg-type]

    def verifier(self, **kw: object) -> govsig.Verifier:
        return govsig.Verifier(self.policy(**kw), govsig.HttpFetcher(timeout=5))


@pytest.fixture(scope="module")
def w(openssl: str, tmp_path_factory: pytest.TempPathFactory):
    with LoopbackServer() as server:
        yield World(server, openssl, tmp_path_factory.mktemp("aia"))


def test_without_a_fetcher_the_missing_issuer_is_named_as_a_need(w: World) -> None:
    leaf = w.leaf("Người ký chỉ có chứng thư (không tải)", "/ca2.cer")
    r = govsig.Verifier(w.policy()).verify(w.signature(leaf), CONTENT)
    assert r.code == "chain_untrusted"
    assert "no issuer named" in r.reason and "AIA CA cấp 2" in r.reason
    assert ("issuer", w.server.url("/ca2.cer"), None) in r.needs


@pytest.mark.parametrize("path", ["/ca2.cer", "/ca2-text.pem", "/chain.p7c", "/chain-pem.p7c"])
def test_a_leaf_only_signature_completes_its_path_from_the_issuers_published_certificates(
        w: World, path: str) -> None:
    leaf = w.leaf(f"Người ký AIA {path}", path)
    before = w.server.requests(path)
    r = w.verifier().verify(w.signature(leaf), CONTENT)
    assert (r.code, r.reason) == ("ok", "")
    assert r.needs == []
    assert r.signers[0].chain == [leaf.der, w.ca2.der, w.ca1.der, w.root.der]
    # From a DER certificate the path takes a second round (CA cấp 2's own caIssuers); a
    # .p7c brings both CAs at once. Each URL is asked for once.
    assert w.server.requests(path) - before == 1
    # What was fetched is kept as the evidence that decided: fed back with no fetcher, the
    # verdict is the same offline.
    ev = r.evidence
    assert {w.ca1.der, w.ca2.der} <= set(ev.certificates)
    again = govsig.Verifier(w.policy(intermediates=ev.certificates)).verify(w.signature(leaf), CONTENT)
    assert again.code == "ok"


def test_each_url_is_fetched_once_per_batch_across_many_documents_and_chunks(w: World) -> None:
    leaves = [w.leaf(f"Cán bộ số {i}", "/ca2.cer?batch") for i in range(6)]
    w.server.serve("/ca2.cer?batch", w.ca2.der, "application/pkix-cert")
    w.server.serve("/ca1.cer", w.ca1.der, "application/pkix-cert")
    items = [(w.signature(leaves[i % len(leaves)]), CONTENT) for i in range(120)]
    v = w.verifier()
    before_ca1 = w.server.requests("/ca1.cer")
    out = v.verify_many(items, chunk_size=16, threads=2)
    assert out.counts() == {"ok": 120}
    assert w.server.requests("/ca2.cer?batch") == 1
    # CA cấp 2's own caIssuers: at most once for this verifier (another test's verifier may
    # have asked for it before).
    assert w.server.requests("/ca1.cer") - before_ca1 <= 1
    # Later calls of the same verifier reuse what came.
    assert v.verify(items[0][0], CONTENT).code == "ok"
    assert w.server.requests("/ca2.cer?batch") == 1


@pytest.mark.parametrize("route,why", [
    ("/missing.cer", "HTTP 404"),
    ("/garbage.cer", "neither a DER certificate nor a PKCS#7"),
    ("/not-a-cert.cer", "not a usable certificate"),
    ("/too-big.p7c", "limit"),
])
def test_an_unusable_publication_point_gives_chain_untrusted_naming_the_url(
        w: World, route: str, why: str) -> None:
    w.server.serve("/garbage.cer", "<html><body>Trang không tồn tại</body></html>".encode(), "text/html")
    w.server.serve("/not-a-cert.cer", b"\x30\x03\x02\x01\x05", "application/pkix-cert")
    w.server.route("/too-big.p7c", lambda _seen: Reply(b"\x30" * (govsig.fetch.ISSUER_MAX_BYTES + 10)))
    leaf = w.leaf(f"Người ký với AIA hỏng {route}", route)
    v = w.verifier()
    r = v.verify(w.signature(leaf), CONTENT)
    assert r.code == "chain_untrusted"
    assert w.server.url(route) in r.reason and why in r.reason
    assert r.needs == []
    # Asked again within the back-off, the verdict and its reason stay; the server is not
    # hammered.
    seen = w.server.requests(route)
    assert v.verify(w.signature(leaf), CONTENT).reason == r.reason
    assert w.server.requests(route) == seen
    assert w.server.url(route) in v.fetch_errors


def test_a_fetched_certificate_that_is_not_the_issuer_is_said_so(w: World) -> None:
    w.server.serve("/wrong.cer", w.ca1.der, "application/pkix-cert")
    leaf = w.leaf("Người ký có AIA trỏ nhầm", "/wrong.cer")
    r = w.verifier().verify(w.signature(leaf), CONTENT)
    assert r.code == "chain_untrusted"
    assert w.server.url("/wrong.cer") in r.reason
    assert "did not complete the path" in r.reason


@pytest.mark.parametrize("root_name,code,said", [
    # A root of its own: the path ends there, and it is no anchor.
    ("Gốc tự xưng", "chain_untrusted", "which is not a trust anchor"),
    # A root that takes the real root's name: the real anchor is tried and its key refuses.
    ("AIA Root CA", "cert_signature_invalid", "does not verify with the key of"),
])
def test_an_attacker_controlled_aia_serving_a_self_signed_root_is_never_trusted(
        w: World, root_name: str, code: str, said: str) -> None:
    # Fetched, the attacker's root is an untrusted intermediate like any other.
    evil_root = pki.make_root(root_name, key_type="p256", seed=f"kẻ tấn công {root_name}")
    evil_ca = pki.make_intermediate("CA giả", evil_root, key_type="p256", seed=f"CA giả {root_name}",
                                    extra_extensions=[ca_issuers(w.server.url(f"/evil-root-{code}.cer"))])
    w.server.serve(f"/evil-ca-{code}.cer", evil_ca.der, "application/pkix-cert")
    w.server.serve(f"/evil-root-{code}.cer", evil_root.der, "application/pkix-cert")
    leaf = pki.make_leaf("Người ký giả mạo", evil_ca, key_type="p256", seed=f"giả mạo {root_name}",
                         extra_extensions=[ca_issuers(w.server.url(f"/evil-ca-{code}.cer"))])
    r = w.verifier().verify(pki.sign_cms(CONTENT, leaf, include_chain=False), CONTENT)
    assert (r.code, r.signers[0].chain) == (code, [])
    assert said in r.reason and root_name in r.reason
    assert w.server.requests(f"/evil-root-{code}.cer") == 1
    # Served at once as a bundle, nothing changes either.
    w.server.serve(f"/evil-bundle-{code}.p7c", p7c(w.openssl, w.tmp, [evil_root, evil_ca]),
                   "application/pkcs7-mime")
    leaf2 = pki.make_leaf("Người ký giả mạo 2", evil_ca, key_type="p256", seed=f"giả mạo 2 {root_name}",
                          extra_extensions=[ca_issuers(w.server.url(f"/evil-bundle-{code}.p7c"))])
    r2 = w.verifier().verify(pki.sign_cms(CONTENT, leaf2, include_chain=False), CONTENT)
    assert r2.code == code and said in r2.reason


def test_a_signer_expected_to_be_an_anchor_is_not_made_one_by_a_fetched_copy(w: World) -> None:
    # caIssuers serving the real root itself: it completes the path only because the root
    # is in the trust store; without it in the policy the fetched root trusts nothing.
    w.server.serve("/root.cer", w.root.der, "application/pkix-cert")
    ca = pki.make_intermediate("AIA CA trực thuộc gốc", w.root, extra_extensions=[ca_issuers(w.server.url("/root.cer"))])
    leaf = pki.make_leaf("Người ký dưới CA trực thuộc", ca)
    sig = pki.sign_cms(CONTENT, leaf, include_chain=True)
    other_root = pki.make_root("Gốc khác")
    r = govsig.Verifier(govsig.Policy(trust=[other_root.cert], revocation="off"),
                        govsig.HttpFetcher(timeout=5)).verify(sig, CONTENT)
    assert r.code == "chain_untrusted"
    assert "not a trust anchor" in r.reason


def _leaf_only_pdf(leaf: pki.Issued) -> bytes:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from asn1crypto import keys as a_keys
        from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
        from pyhanko.sign import signers
        from pyhanko_certvalidator.registry import SimpleCertificateStore

        key_der = leaf.key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                         serialization.NoEncryption())
        # No certificate registry: the PDF carries the signer's certificate alone.
        signer = signers.SimpleSigner(signing_cert=pdfsign._asn1_cert(leaf),
                                      signing_key=a_keys.PrivateKeyInfo.load(key_der),
                                      cert_registry=SimpleCertificateStore())
        out = io.BytesIO()
        signers.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(pdfsign.base_pdf())),
                         signers.PdfSignatureMetadata(field_name="Signature1"), signer=signer, output=out)
        return out.getvalue()


def test_a_pdf_signed_with_only_the_leaf_completes_its_path_by_aia(w: World, tmp_path: Path) -> None:
    w.server.serve("/pdf-chain.p7c", w.chain_p7c, "application/pkcs7-mime")
    leaf = w.leaf("Người ký PDF chỉ có chứng thư", "/pdf-chain.p7c")
    pdf = _leaf_only_pdf(leaf)
    offline = govsig.Verifier(w.policy()).verify_pdf(pdf)
    assert offline.code == "chain_untrusted"
    assert ("issuer", w.server.url("/pdf-chain.p7c"), None) in offline.needs
    r = w.verifier().verify_pdf(pdf)
    assert r.code == "ok", r.reason
    assert w.server.requests("/pdf-chain.p7c") == 1
    # In a batch of PDFs too, once.
    paths = []
    for i in range(5):
        paths.append(tmp_path / f"van-ban-{i}.pdf")
        paths[-1].write_bytes(pdf)
    out = w.verifier().verify_files(paths, chunk_size=2)
    assert out.counts() == {"ok": 5}
    assert w.server.requests("/pdf-chain.p7c") == 2


def test_openssl_builds_the_same_path_from_what_was_fetched(w: World, openssl: str, tmp_path: Path) -> None:
    """Cross-check: the certificates govsig took from the .p7c complete the leaf's path for
    ``openssl verify`` too (openssl given them as -untrusted, the root as the only anchor)."""
    leaf = w.leaf("Người ký đối chiếu OpenSSL", "/chain.p7c")
    r = w.verifier().verify(w.signature(leaf), CONTENT)
    assert r.code == "ok"
    (tmp_path / "root.pem").write_bytes(w.root.pem)
    (tmp_path / "leaf.pem").write_bytes(leaf.pem)
    fetched = [c for c in r.signers[0].chain[1:-1]]
    (tmp_path / "untrusted.pem").write_bytes(b"".join(
        x509.load_der_x509_certificate(c).public_bytes(serialization.Encoding.PEM) for c in fetched))
    done = subprocess.run([openssl, "verify", "-CAfile", str(tmp_path / "root.pem"),
                           "-untrusted", str(tmp_path / "untrusted.pem"), str(tmp_path / "leaf.pem")],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_plain_fetcher_is_called_with_the_url_and_a_bulk_one_without_fetch_issuers_is_named(w: World) -> None:
    asked: list[tuple[str, object]] = []

    def plain(url: str, data: bytes | None = None) -> bytes:
        asked.append((url, data))
        return w.ca2.der if url.endswith("/plain-ca2.cer") else w.ca1.der

    leaf = w.leaf("Người ký với bộ tải đơn giản", "/plain-ca2.cer")
    r = govsig.Verifier(w.policy(), plain).verify(w.signature(leaf), CONTENT)
    assert r.code == "ok", r.reason
    assert (w.server.url("/plain-ca2.cer"), None) in asked

    class OnlyRevocation:
        def fetch_many(self, crl_urls=(), ocsp=()):  # type: ignore[no-untyped-def]
            return {}

    leaf = w.leaf("Người ký với bộ tải không lấy chứng thư", "/bulk-ca2.cer")
    r = govsig.Verifier(w.policy(), OnlyRevocation()).verify(w.signature(leaf), CONTENT)
    assert r.code == "chain_untrusted"
    assert w.server.url("/bulk-ca2.cer") in r.reason and "fetch_issuers" in r.reason


def test_a_countersigners_missing_issuer_is_fetched_too(w: World) -> None:
    from countersign import counter_signer_info, signature_value_of, with_countersignatures

    signer = w.leaf("Người ký chính (có chuỗi)", "/ca2.cer")
    # Under a CA of its own, which the document does not carry.
    notary_ca = pki.make_intermediate("AIA CA công chứng", w.root)
    notary = pki.make_leaf("Công chứng viên chỉ có chứng thư", notary_ca,
                           extra_extensions=[ca_issuers(w.server.url("/counter-ca2.cer"))])
    w.server.serve("/counter-ca2.cer", notary_ca.der, "application/pkix-cert")
    signed = pki.sign_cms(CONTENT, signer, include_chain=True)
    cs = counter_signer_info(signature_value_of(signed), notary)
    # The countersigner's certificate travels alone; the main signer's chain is complete.
    sig = with_countersignatures(signed, 0, [cs], certs=[notary])
    offline = govsig.Verifier(w.policy()).verify(sig, CONTENT)
    assert offline.code == "ok"
    assert offline.signers[0].countersigners[0].code == "chain_untrusted"
    assert offline.signers[0].warnings == ["countersignature_invalid"]
    assert ("issuer", w.server.url("/counter-ca2.cer"), None) in offline.needs
    r = w.verifier().verify(sig, CONTENT)
    (c,) = r.signers[0].countersigners
    assert (r.code, c.code, r.signers[0].warnings) == ("ok", "ok", [])
    assert c.chain == [notary.der, notary_ca.der, w.root.der]
    assert w.server.requests("/counter-ca2.cer") == 1


def test_fetched_issuers_are_shared_through_the_disk_cache(w: World, tmp_path: Path) -> None:
    # A cluster's workers share one cache_dir: the publication point is asked once, whichever
    # fetcher (or process) asks first; the entry expires ISSUER_CACHE_SECONDS after its fetch.
    w.server.serve("/disk-chain.p7c", w.chain_p7c, "application/pkcs7-mime")
    leaf = w.leaf("Người ký (bộ nhớ đệm trên đĩa)", "/disk-chain.p7c")
    sig = w.signature(leaf)
    cache = tmp_path / "cache"

    def verify() -> tuple[str, dict[str, int]]:
        with govsig.HttpFetcher(timeout=5, cache_dir=cache) as f:
            return govsig.Verifier(w.policy(), f).verify(sig, CONTENT).code, f.stats

    code, stats = verify()
    assert code == "ok" and stats["fetches"] == 1
    code, stats = verify()
    assert code == "ok" and stats["fetches"] == 0 and stats["disk_hits"] == 1
    assert w.server.requests("/disk-chain.p7c") == 1
    # Another process with the same cache directory does not ask either.
    script = ("import sys, govsig\n"
              "from pathlib import Path\n"
              "f = govsig.HttpFetcher(timeout=5, cache_dir=sys.argv[1])\n"
              "print(f.fetch_issuer(sys.argv[2]) == Path(sys.argv[3]).read_bytes(), f.stats['fetches'])\n")
    (tmp_path / "p7c").write_bytes(w.chain_p7c)
    out = subprocess.run([sys.executable, "-c", script, str(cache), w.server.url("/disk-chain.p7c"),
                          str(tmp_path / "p7c")], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert out.stdout.split() == ["True", "0"], out.stderr
    assert w.server.requests("/disk-chain.p7c") == 1
    # A sidecar that claims a fetch in the future (a clock set back, a hand edit) is a miss,
    # and so is a body that no longer matches its sidecar: both are fetched again.
    (sidecar,) = (cache / "issuer").glob("*.json")
    meta = json.loads(sidecar.read_text())
    sidecar.write_text(json.dumps({**meta, "fetched_at": meta["fetched_at"] + 10 * 24 * 3600}))
    code, stats = verify()
    assert code == "ok" and stats["fetches"] == 1
    assert w.server.requests("/disk-chain.p7c") == 2
    (body,) = (cache / "issuer").glob("*.der")
    body.write_bytes(w.ca1.der)
    code, stats = verify()
    assert code == "ok" and stats["fetches"] == 1
    assert w.server.requests("/disk-chain.p7c") == 3


class _Der:
    """A certificate given by its bytes alone (a damaged copy, for the bag)."""

    def __init__(self, der: bytes) -> None:
        self.der = der


def test_a_damaged_copy_of_the_leaf_does_not_stop_its_issuer_being_fetched(w: World) -> None:
    """Two certificates verify the signature, the leaf and a copy with one bit of its outer
    signature flipped, and neither has its issuer at hand: the caIssuers need is kept
    whichever failure would be reported, the issuer is fetched, and the genuine leaf is
    trusted, in either order of the bag."""
    leaf = w.leaf("Người ký AIA cùng bản sao hỏng", "/ca2.cer")
    broken = _Der(pki.flip_byte(leaf.der, len(leaf.der) - 5))
    for bag in ([broken, leaf], [leaf, broken]):
        sig = pki.sign_cms(CONTENT, leaf, include_chain=False, include_signer_cert=False,
                           extra_certs=bag)  # type: ignore[arg-type]
        r = w.verifier().verify(sig, CONTENT)
        assert r.code == "ok", r.reason
        assert r.signers[0].chain[0] == leaf.der
        assert "signer_identifier_ambiguous" in r.signers[0].warnings
