"""Results say when a legacy algorithm was admitted, wherever it was (issue 11 item 4): not
only on the signer's own path but on the paths nested in what decided it — a separate
CRL-signing certificate's path and its own CRLs, a delegated OCSP responder's path, the OCSP
response's own signature, a time-stamping authority's path (of a signature time-stamp and of
a PDF's document time-stamp) — and for a revocation verdict as for an ok one. Under the
default policy the same evidence is refused and the verdict says ``algorithm_not_allowed``,
naming the algorithm, instead of a bare "unknown".

SHA-1 certificates and CRLs are made by re-signing with the issuer's key (tests/pki.py keys;
``cryptography`` will not sign with SHA-1); SHA-1 OCSP responses by ``openssl ocsp -rmd
sha1``; time-stamps by ``openssl ts`` behind the loopback TSA.
"""
from __future__ import annotations

import dataclasses
import subprocess
import datetime as dt
from pathlib import Path
from typing import Iterator

import pytest
from asn1crypto import core as a_core
from asn1crypto import crl as a_crl
from asn1crypto import tsp as a_tsp
from asn1crypto import x509 as a_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID

import govsig
from govsig import _govsig
import pdfsign
import pki as P
from crlgen import tlv
from govsig.ocsp import build_request
from ocsp_responder import IndexEntry, OcspResponder
from test_profile_rules import resign
from tsa_server import Tsa

UTC = dt.timezone.utc
NOW = dt.datetime.now(UTC).replace(microsecond=0)
# The validation time, an hour after the import: the real TSA stamps when each test runs, and
# a genTime more than five minutes after the validation time is refused as from the future.
AT = NOW + dt.timedelta(hours=1)
CONTENT = "Quyết định số 21/QĐ-UBND (thuật toán cũ)".encode()
SHA1_RSA = "1.2.840.113549.1.1.5"


def sha1_cert(c: P.Issued) -> P.Issued:
    """``c`` re-signed by its issuer with sha1WithRSAEncryption (same key, same TBS)."""
    assert c.issuer is not None
    der = resign(c.der, c.issuer, lambda tbs: None, sig="sha1_rsa")
    return dataclasses.replace(c, cert=x509.load_der_x509_certificate(der))


def crl(issuer_name: x509.Name, key: rsa.RSAPrivateKey, *, revoked: tuple[int, ...] = (),
        sha1: bool = False) -> bytes:
    """A CRL (cRLNumber 1, valid around now), signed with SHA-256, or with SHA-1 by re-signing
    its TBSCertList."""
    b = (x509.CertificateRevocationListBuilder().issuer_name(issuer_name)
         .last_update(NOW - dt.timedelta(hours=1)).next_update(NOW + dt.timedelta(days=7))
         .add_extension(x509.CRLNumber(1), critical=False))
    for serial in revoked:
        b = b.add_revoked_certificate(x509.RevokedCertificateBuilder().serial_number(serial)
                                      .revocation_date(NOW - dt.timedelta(days=3)).build())
    der = b.sign(key, hashes.SHA256()).public_bytes(Encoding.DER)
    if not sha1:
        return der
    tbs = a_crl.CertificateList.load(der)["tbs_cert_list"]
    alg = a_x509.SignedDigestAlgorithm({"algorithm": SHA1_RSA, "parameters": a_core.Null()})
    tbs["signature"] = alg
    data = tbs.dump(force=True)
    value = key.sign(data, padding.PKCS1v15(), hashes.SHA1())
    return tlv(0x30, data + alg.dump() + tlv(0x03, b"\x00" + value))


def rsa_key(c: P.Issued) -> rsa.RSAPrivateKey:
    assert isinstance(c.key, rsa.RSAPrivateKey)
    return c.key


def verify(sig: bytes, root: P.Issued, **kw: object) -> govsig.VerifyResult:
    kw.setdefault("revocation", "hard-fail")
    return govsig.Verifier(govsig.Policy(trust=[root.cert], at=AT, **kw)).verify(sig, CONTENT)  # type: ignore[arg-type]


def reproduced_offline(r: govsig.VerifyResult, sig: bytes, root: P.Issued) -> govsig.Evidence:
    """The verdict again from ``r.evidence`` alone (as intermediates, CRLs and OCSP answers,
    no fetcher, the same time): what was refused for its algorithm decided it, so it is kept."""
    ev = r.evidence
    again = verify(sig, root, intermediates=list(ev.certificates), crls=list(ev.crls),
                   ocsp_responses=list(ev.ocsp_responses))
    assert (again.code, again.reason) == (r.code, r.reason)
    return ev


# --- a CRL that decided a revocation verdict --------------------------------------------------


def test_a_sha1_crl_that_revoked_the_signer_is_said_and_refused_by_default() -> None:
    root = P.make_root("Gốc thuật toán cũ (thu hồi)", seed="legacy-nested|revoked-root")
    ca = P.make_intermediate("CA thuật toán cũ (thu hồi)", root, seed="legacy-nested|revoked-ca")
    leaf = P.make_leaf("Người ký bị thu hồi (CRL SHA-1)", ca, seed="legacy-nested|revoked-leaf")
    crls = [crl(ca.cert.subject, rsa_key(ca), revoked=(leaf.cert.serial_number,), sha1=True),
            crl(root.cert.subject, rsa_key(root))]
    sig = P.sign_cms(CONTENT, leaf)
    r = verify(sig, root, crls=crls, legacy_certificates=True)
    assert r.code == "cert_revoked", r.reason
    s = r.signers[0]
    assert s.warnings == ["legacy_algorithm_crl"]
    assert "CA thuật toán cũ (thu hồi)" in s.warning_details[0][1]
    assert "sha1WithRSAEncryption" in s.warning_details[0][1]
    r = verify(sig, root, crls=crls)
    assert r.code == "algorithm_not_allowed", r.reason
    assert "sha1WithRSAEncryption" in r.reason and "CA thuật toán cũ (thu hồi)" in r.reason
    # The status was sought and the evidence refused: "unknown" in reports, not "not checked".
    assert r.revocation_summary("hard-fail") == "unknown"
    assert crls[0] in reproduced_offline(r, sig, root).crls
    # A SHA-1 certificate on the signer's own path is refused before any status is sought.
    own = P.make_leaf("Người ký có chứng thư SHA-1", ca, seed="legacy-nested|own-sha1")
    r = verify(P.sign_cms(CONTENT, sha1_cert(own)), root, crls=crls)
    assert r.code == "algorithm_not_allowed" and r.revocation_summary("hard-fail") == "not_checked"
    # Under soft-fail the refused CRL leaves the status unknown (and says why).
    soft = verify(sig, root, crls=crls, revocation="soft-fail")
    assert soft.code == "ok"
    assert "sha1WithRSAEncryption" in soft.signers[0].revocation[0]["reason"]


# --- a separate CRL signer's path -----------------------------------------------------------


class CrlSignerWorld:
    """root -> "CA" -> signer, whose CRL "CA" issues with a separate key: a certificate named
    "CA" with cRLSign only, under root -> "CA khóa CRL". ``sha1`` picks what is SHA-1: the
    CRL signer's certificate (``"signer-cert"``) or the CRL that decides the CRL signer's own
    status (``"signer-crl"``)."""

    def __init__(self, sha1: str) -> None:
        tag = f"legacy-nested|{sha1}"
        self.root = P.make_root(f"Gốc khóa CRL riêng ({sha1})", seed=f"{tag}|root")
        self.ca = P.make_intermediate(f"CA khóa CRL riêng ({sha1})", self.root, seed=f"{tag}|ca")
        self.crl_ca = P.make_intermediate(f"CA phát hành khóa CRL ({sha1})", self.root, seed=f"{tag}|crl-ca")
        signer = P.make_leaf("khóa CRL", self.crl_ca, seed=f"{tag}|crl-signer",
                             subject=self.ca.cert.subject, key_usage=("crl_sign",))
        self.crl_signer = sha1_cert(signer) if sha1 == "signer-cert" else signer
        self.leaf = P.make_leaf(f"Người ký ({sha1})", self.ca, seed=f"{tag}|leaf")
        self.crls = [
            crl(self.root.cert.subject, rsa_key(self.root)),
            crl(self.ca.cert.subject, rsa_key(self.crl_signer)),
            crl(self.crl_ca.cert.subject, rsa_key(self.crl_ca), sha1=sha1 == "signer-crl"),
        ]
        self.sig = P.sign_cms(CONTENT, self.leaf, extra_certs=[self.crl_signer, self.crl_ca])


@pytest.mark.parametrize("sha1,warning,named", [
    ("signer-cert", "legacy_algorithm_certificate", "khóa CRL"),
    ("signer-crl", "legacy_algorithm_crl", "CA phát hành khóa CRL"),
])
def test_a_legacy_algorithm_in_the_crl_signers_path_is_said(sha1: str, warning: str, named: str) -> None:
    w = CrlSignerWorld(sha1)
    r = verify(w.sig, w.root, crls=w.crls, legacy_certificates=True)
    assert r.code == "ok", r.reason
    s = r.signers[0]
    # The CRL that decided the signer was issued by the separate key, whose path it is.
    assert any(e.get("crl_issuer", "").startswith("CN=CA khóa CRL riêng") for e in s.revocation)
    assert s.warnings == [warning]
    assert named in s.warning_details[0][1] and "sha1WithRSAEncryption" in s.warning_details[0][1]
    r = verify(w.sig, w.root, crls=w.crls)
    assert r.code == "algorithm_not_allowed", r.reason
    assert "sha1WithRSAEncryption" in r.reason and named in r.reason
    ev = reproduced_offline(r, w.sig, w.root)
    assert w.crls[1] in ev.crls and w.crl_signer.der in ev.certificates


# --- OCSP: the response's own signature, and a delegated responder's path ----------------------


@pytest.fixture(scope="module")
def ocsp_world(openssl: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    root = P.make_root("Gốc OCSP thuật toán cũ", seed="legacy-nested|ocsp-root")
    ca = P.make_intermediate("CA OCSP thuật toán cũ", root, seed="legacy-nested|ocsp-ca")
    delegate = P.make_leaf("Máy chủ OCSP SHA-1", ca, seed="legacy-nested|ocsp-delegate",
                           key_usage=("digital_signature",), eku=("ocsp_signing",),
                           extra_extensions=[(x509.OCSPNoCheck(), False)])
    leaf = P.make_leaf("Người ký (OCSP thuật toán cũ)", ca, seed="legacy-nested|ocsp-leaf")
    tmp = tmp_path_factory.mktemp("ocsp-legacy")
    request = build_request(leaf.der, ca.der)
    answers = {}
    for name, signer, rmd in [("sha1-response", ca, "sha1"), ("sha1-responder", sha1_cert(delegate), None)]:
        with OcspResponder(tmp / name, openssl, ca=ca, signer=signer, entries=[IndexEntry(leaf)], rmd=rmd) as r:
            answers[name] = r.answer(request)
    yield {"root": root, "ca": ca, "leaf": leaf, "answers": answers,
           "root_crl": crl(root.cert.subject, rsa_key(root)), "sig": P.sign_cms(CONTENT, leaf)}


@pytest.mark.parametrize("case,warning,named", [
    ("sha1-response", "legacy_algorithm_ocsp", "CA OCSP thuật toán cũ"),
    ("sha1-responder", "legacy_algorithm_certificate", "Máy chủ OCSP SHA-1"),
])
def test_a_legacy_algorithm_in_the_ocsp_evidence_is_said(ocsp_world: dict, case: str, warning: str,  # type: ignore[type-arg]
                                                         named: str) -> None:
    root, answer = ocsp_world["root"], ocsp_world["answers"][case]
    kw = dict(crls=[ocsp_world["root_crl"]], ocsp_responses=[answer])
    r = verify(ocsp_world["sig"], root, legacy_certificates=True, **kw)
    assert r.code == "ok", r.reason
    s = r.signers[0]
    assert s.revocation[0]["source"] == "ocsp"
    assert s.warnings == [warning]
    assert named in s.warning_details[0][1] and "sha1WithRSAEncryption" in s.warning_details[0][1]
    r = verify(ocsp_world["sig"], root, **kw)
    assert r.code == "algorithm_not_allowed", r.reason
    assert "sha1WithRSAEncryption" in r.reason
    assert answer in reproduced_offline(r, ocsp_world["sig"], root).ocsp_responses


# --- a time-stamping authority's path -------------------------------------------------------


@pytest.fixture(scope="module")
def sha1_tsa(openssl: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[P.Issued, Tsa]]:
    root = P.make_root("Gốc TSA thuật toán cũ", seed="legacy-nested|tsa-root")
    tsa_ca = P.make_intermediate("CA TSA thuật toán cũ", root, seed="legacy-nested|tsa-ca")
    tsa_cert = sha1_cert(P.make_leaf(
        "TSA ký bằng SHA-1", tsa_ca, seed="legacy-nested|tsa", eku=None,
        org="Trung tâm Cấp dấu thời gian thử nghiệm",
        extra_extensions=[(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), True)]))
    with Tsa(tmp_path_factory.mktemp("tsa-legacy"), openssl, signer=tsa_cert) as tsa:
        yield root, tsa


def test_a_sha1_tsa_certificate_behind_a_signature_timestamp_is_said(sha1_tsa: tuple[P.Issued, Tsa]) -> None:
    root, tsa = sha1_tsa
    ca = P.make_intermediate("CA người ký (TSA cũ)", root, seed="legacy-nested|tsa-signer-ca")
    leaf = P.make_leaf("Người ký có dấu thời gian cũ", ca, seed="legacy-nested|tsa-leaf")
    stamped = govsig.add_timestamps(P.sign_cms(CONTENT, leaf), govsig.TsaClient(tsa.url))
    knobs = dict(revocation="off", signature_time="timestamp")
    r = verify(stamped, root, legacy_certificates=True, **knobs)
    s = r.signers[0]
    assert (r.code, s.signature_time_source) == ("ok", "timestamp"), r.reason
    assert s.warnings == ["legacy_algorithm_certificate"]
    assert "TSA ký bằng SHA-1" in s.warning_details[0][1]
    # By default the token's TSA is refused for its algorithm, and the signer is judged at
    # `at`; requiring the time-stamp fails the signer saying why.
    r = verify(stamped, root, **knobs)
    assert (r.code, r.signers[0].signature_time_source, r.signers[0].warnings) == ("ok", "at", [])
    (t,) = r.signers[0].timestamps
    assert t.code == "timestamp_untrusted" and "sha1WithRSAEncryption" in t.reason
    r = verify(stamped, root, require_timestamp=True, **knobs)
    assert r.code == "timestamp_untrusted" and "sha1WithRSAEncryption" in r.reason


def test_a_sha1_signature_on_the_token_itself_is_said(openssl: str, tmp_path: Path) -> None:
    # The TSA's certificate is SHA-256; the token's own signature is SHA-1 (openssl ts
    # signer_digest = sha1). Admitted only under legacy=True, and then said on the signer.
    root = P.make_root("Gốc TSA chữ ký SHA-1", seed="legacy-nested|tst-root")
    tsa_cert = P.make_leaf(
        "TSA ký dấu bằng SHA-1", root, seed="legacy-nested|tst-tsa", eku=None,
        extra_extensions=[(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), True)])
    leaf = P.make_leaf("Người ký (dấu thời gian SHA-1)", root, seed="legacy-nested|tst-leaf")
    sig = P.sign_cms(CONTENT, leaf)
    (value,) = _govsig.cms_signature_values(sig)
    # govsig's TsaClient refuses such a token (it checks what it obtains under the default
    # policy), so the request goes to openssl ts directly and the token is inserted as is.
    request = subprocess.run([openssl, "ts", "-query", "-sha256", "-cert", "-no_nonce"], input=value,
                             capture_output=True, check=True).stdout
    with Tsa(tmp_path, openssl, signer=tsa_cert, signer_digest="sha1") as tsa:
        token = a_tsp.TimeStampResp.load(tsa.answer(request))["time_stamp_token"].dump()
    stamped = _govsig.cms_add_signature_timestamps(sig, [[token]])
    knobs = dict(revocation="off", signature_time="timestamp")
    r = verify(stamped, root, legacy=True, **knobs)
    s = r.signers[0]
    assert (r.code, s.signature_time_source) == ("ok", "timestamp"), r.reason
    assert s.warnings == ["legacy_algorithm_signature"], s.warning_details
    assert "time-stamp token" in s.warning_details[0][1] and "sha1" in s.warning_details[0][1].lower()
    r = verify(stamped, root, **knobs)
    (t,) = r.signers[0].timestamps
    assert (r.signers[0].signature_time_source, t.ok) == ("at", False), t.reason
    assert r.signers[0].warnings == []


def test_a_sha1_tsa_certificate_behind_a_pdf_document_timestamp_is_said(sha1_tsa: tuple[P.Issued, Tsa]) -> None:
    root, tsa = sha1_tsa
    ca = P.make_intermediate("CA người ký PDF (TSA cũ)", root, seed="legacy-nested|pdf-ca")
    leaf = P.make_leaf("Người ký PDF (TSA cũ)", ca, seed="legacy-nested|pdf-leaf")
    pdf = pdfsign.timestamp_document(pdfsign.sign(pdfsign.base_pdf(), leaf), tsa.url)
    v = govsig.Verifier(govsig.Policy(trust=[root.cert], revocation="off", legacy_certificates=True))
    r = v.verify_pdf(pdf)
    assert r.ok, r.reason
    sig, ts = r.signatures
    assert ts.is_doc_timestamp and ts.signer is not None and sig.signer is not None
    assert ts.signer.warnings == ["legacy_algorithm_certificate"]
    assert "TSA ký bằng SHA-1" in ts.signer.warning_details[0][1]
    assert sig.signer.warnings == []
    r = govsig.Verifier(govsig.Policy(trust=[root.cert], revocation="off")).verify_pdf(pdf)
    assert r.signatures[1].code != "ok" and "sha1WithRSAEncryption" in r.signatures[1].reason
