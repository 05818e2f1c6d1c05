"""Attacks on the session-24 fixes (504bde4..ace643a), by someone who holds one validly signed
document and controls every unsigned byte around it: candidates under one signer identifier
now each judged (verify.rs verify_one_signer / Judged::judge), the S/MIME and PEM readers
(cms/input.rs, python/govsig/_pem.py), and the command line's secret hiding (cli.py).

A passing test documents a defended attack (exact code, part of the reason); a failing one is
a bug, kept failing. Fixtures come from tests/cmsgen.py and tests/pki.py under tmp_path, and
OpenSSL is asked on the same bytes where it has an opinion.
"""
from __future__ import annotations

import datetime as dt
import itertools
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cmsgen as G
import govsig
import pki as P
from govsig.cli import main
from test_attack_s24 import (AT, CONTENT, TEXT, _multipart, _openssl_smime, _parts, _same_key_other_issuer,
                             _ski_sid_info)
from test_input_forms import _pem, _smime

REVOKED_ON = dt.datetime(2026, 3, 1, tzinfo=dt.timezone.utc)
ESS_V2 = "1.2.840.113549.1.9.16.2.47"


# -- a CA that certified one key twice ----------------------------------------------------------


class Twice:
    """A root, and two leaves it issued for ONE key (same subject and SKI, other serials)."""

    def __init__(self, tag: str, *, first: dict | None = None, second: dict | None = None) -> None:
        self.root = P.make_root(f"Root twice {tag}", "p256", seed=f"s24b-root-{tag}")
        self.a1 = P.make_leaf(f"Official {tag}", self.root, "p256", seed=f"s24b-key-{tag}",
                              **(first or {}))
        self.a2 = P.make_leaf(f"Official {tag} again", self.root, "p256", seed=f"s24b-key-{tag}",
                              subject=self.a1.cert.subject, **(second or {}))
        assert self.a1.cert.public_key() == self.a2.cert.public_key()
        assert self.a1.ski == self.a2.ski and self.a1.cert.serial_number != self.a2.cert.serial_number

    def crl(self, revoked: list[tuple[P.Issued, x509.ReasonFlags]]) -> bytes:
        b = (x509.CertificateRevocationListBuilder().issuer_name(self.root.cert.subject)
             .last_update(REVOKED_ON).next_update(AT + dt.timedelta(days=30))
             .add_extension(x509.CRLNumber(1), critical=False))
        for leaf, reason in revoked:
            b = b.add_revoked_certificate(
                x509.RevokedCertificateBuilder().serial_number(leaf.cert.serial_number)
                .revocation_date(REVOKED_ON).add_extension(x509.CRLReason(reason), critical=False).build())
        return b.sign(self.root.key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)  # type: ignore[arg-type]

    def verifier(self, crls: list[bytes] = ()) -> govsig.Verifier:  # type: ignore[assignment]
        return govsig.Verifier(govsig.Policy(trust=[self.root.der], at=AT, crls=list(crls)))

    def doc(self, bag: list[P.Issued], *, pin: P.Issued | None = None) -> bytes:
        """An attached document signed with the shared key, its signer named by SKI (which
        both certificates carry), optionally pinning one of them by signingCertificateV2."""
        if pin is None:
            info = _ski_sid_info(CONTENT, self.a1)
        else:
            ess = G.attr(ESS_V2, G.seq(G.seq(G.seq(G.octets(G.digest_of("sha256", pin.der))))))
            signed = G.der_set(*G.default_attrs(CONTENT, "sha256"), ess)
            info = G.seq(G.integer(3), G.tlv(0x80, self.a1.ski or b""), G.alg(G.HASHES["sha256"][1]),
                         b"\xa0" + signed[1:], G.signature_alg_for(self.a1, "sha256"),
                         G.octets(G.raw_sign(self.a1, signed, "sha256")))
        return G.signed_data([info], bag, econtent=G.octets(CONTENT))


def _openssl_crl_check(sig: bytes, t: Twice, crl: bytes, tmp_path: Path) -> int:
    """``openssl cms -verify -crl_check`` with the root and the CRL in the CAfile."""
    crl_pem = x509.load_der_x509_crl(crl).public_bytes(serialization.Encoding.PEM)
    (tmp_path / "all.pem").write_bytes(t.root.pem + crl_pem)
    (tmp_path / "sig.p7").write_bytes(sig)
    return subprocess.run([P.openssl_binary(), "cms", "-verify", "-binary", "-inform", "DER", "-in",
                           str(tmp_path / "sig.p7"), "-CAfile", str(tmp_path / "all.pem"), "-crl_check",
                           "-purpose", "any", "-attime", str(int(AT.timestamp())), "-out", str(tmp_path / "o")],
                          capture_output=True, timeout=60).returncode


@pytest.fixture(scope="module")
def kc() -> Twice:
    return Twice("kc")


def test_key_compromise_of_one_certificate_is_not_washed_out_by_its_twin(kc, tmp_path) -> None:
    """The CA revoked A1 for keyCompromise (RFC 5280 §5.3.1: "the subject's private key ... has
    been compromised") three months before the validation time; A2, an older re-certification
    of the same key, was never revoked. The document (signer named by SKI, no ESS pin) arrived
    with A1 alone: cert_revoked. Whoever holds it adds A2 to the unsigned bag. Before the fix
    the first candidate decided (OpenSSL still does: -crl_check fails with A1 first, passes with
    A2 first); now any trusted candidate wins, so the revoked document turns ok in every order.
    A keyCompromise revocation is a statement about the key: a signature by that key after the
    compromise date should stay cert_revoked whichever certificate for the key is offered."""
    crl = kc.crl([(kc.a1, x509.ReasonFlags.key_compromise)])
    v = kc.verifier([crl])
    alone = v.verify(kc.doc([kc.a1]))
    assert alone.code == "cert_revoked", alone.reason
    assert _openssl_crl_check(kc.doc([kc.a1, kc.a2]), kc, crl, tmp_path) != 0
    assert _openssl_crl_check(kc.doc([kc.a2, kc.a1]), kc, crl, tmp_path) == 0
    for bag in ([kc.a1, kc.a2], [kc.a2, kc.a1]):
        r = v.verify(kc.doc(bag))
        assert r.code == "cert_revoked", (bag.index(kc.a1), r.code, r.reason, r.signers[0].warnings)


def test_superseded_certificate_with_a_live_twin_is_ok_and_says_ambiguous(tmp_path) -> None:
    """The benign case the fix was for: A1 revoked as superseded (re-certified as A2, same
    key). The document verifies through A2 whatever the order; the ambiguity is reported."""
    t = Twice("sup")
    crl = t.crl([(t.a1, x509.ReasonFlags.superseded)])
    v = t.verifier([crl])
    assert v.verify(t.doc([t.a1])).code == "cert_revoked"
    for bag, n in (([t.a1, t.a2], "#2"), ([t.a2, t.a1], "#1")):
        r = v.verify(t.doc(bag))
        assert r.code == "ok", r.reason
        assert r.signers[0].certificate == t.a2.der
        assert r.signers[0].warnings == ["signer_identifier_ambiguous"]
        assert f"certificate {n} of them" in r.signers[0].warning_details[0][1]


def test_ess_pin_on_the_revoked_twin_keeps_the_document_revoked(kc) -> None:
    """signingCertificateV2 pins A1: the signer chose A1, so A2 in the bag must not rescue it."""
    crl = kc.crl([(kc.a1, x509.ReasonFlags.key_compromise)])
    v = kc.verifier([crl])
    for bag in ([kc.a1, kc.a2], [kc.a2, kc.a1]):
        r = v.verify(kc.doc(bag, pin=kc.a1))
        assert r.code == "cert_revoked", r.reason
        assert r.signers[0].certificate == kc.a1.der
    # Pinned to the live twin, the document is A2's and ok.
    r = v.verify(kc.doc([kc.a1, kc.a2], pin=kc.a2))
    assert r.code == "ok" and r.signers[0].certificate == kc.a2.der, r.reason


# -- the verdict must not depend on the bag's order ---------------------------------------------


class _Der:
    """A certificate given by its bytes alone (a corrupted copy, for the bag)."""

    def __init__(self, der: bytes) -> None:
        self.der = der


def _broken(leaf: P.Issued, at: int = 5) -> _Der:
    """The leaf with one bit of its outer signature flipped: same issuer, serial, key, SKI."""
    return _Der(P.flip_byte(leaf.der, len(leaf.der) - at))


@pytest.fixture(scope="module")
def lapsed() -> Twice:
    """A1 expired before the validation time, A2 (the same key re-certified) not yet valid:
    the signature verifies with both, neither is trusted, and cert_expired and
    cert_not_yet_valid share one rank (80)."""
    return Twice("lapsed", first={"not_after": dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)},
                 second={"not_before": dt.datetime(2027, 1, 1, tzinfo=dt.timezone.utc)})


def test_expired_and_not_yet_valid_twins_fail_in_either_order(lapsed) -> None:
    v = lapsed.verifier()
    codes = {v.verify(lapsed.doc(list(bag))).code for bag in itertools.permutations([lapsed.a1, lapsed.a2])}
    assert codes <= {"cert_expired", "cert_not_yet_valid"}
    assert len(codes) == 1, (
        f"the verdict code depends on the order of the unsigned certificate bag: {sorted(codes)}")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(order=st.permutations(range(4)))
def test_verdict_and_signer_are_the_same_for_every_bag_order(lapsed, order) -> None:
    """Property: the two lapsed twins and a corrupted copy of each, in any order, give one
    code; verify, verify_many agree."""
    pool = [lapsed.a1, lapsed.a2, _broken(lapsed.a1), _broken(lapsed.a2)]
    doc = lapsed.doc([pool[i] for i in order])
    v = lapsed.verifier()
    ref = v.verify(lapsed.doc(pool))
    r = v.verify(doc)
    (m,) = list(v.verify_many([(doc, None)], threads=1))
    assert m.code == r.code
    assert r.code == ref.code, (order, r.code, r.reason)


def test_a_revoked_signer_stays_revoked_among_decoys_in_every_order(kc) -> None:
    """The real certificate revoked, with attacker-made decoys that verify the signature: a
    corrupted copy (cert_signature_invalid) and a twin under the attacker's own CA
    (chain_untrusted). The gravest, cert_revoked, is the verdict whatever the order."""
    crl = kc.crl([(kc.a1, x509.ReasonFlags.key_compromise)])
    v = kc.verifier([crl])
    evil = P.make_root("Attacker CA s24b", "p256", seed="s24b-evil")
    twin = _same_key_other_issuer(kc.a1, evil)
    for bag in itertools.permutations([kc.a1, _broken(kc.a1), twin]):
        r = v.verify(kc.doc(list(bag), pin=None))
        assert r.code == "cert_revoked", (r.code, r.reason)
        assert "3 certificates matching the signer identifier verified the signature; none was trusted" \
            in r.reason, r.reason
        assert r.signers[0].certificate == kc.a1.der


def test_bulk_and_single_verification_agree_on_a_decoy_bag(pki) -> None:
    leaf = pki.rsa_leaf
    v = govsig.Verifier(govsig.Policy(trust=[pki.rsa_root.der], at=AT))
    docs = []
    for bag in itertools.permutations([leaf, _broken(leaf), _broken(leaf, 9), pki.rsa_intermediate]):
        docs.append(G.signed_data([G.signer_info(CONTENT, leaf)], list(bag), econtent=G.octets(CONTENT)))
    single = [v.verify(d) for d in docs]
    many = list(v.verify_many([(d, None) for d in docs], threads=2))
    assert [r.code for r in single] == ["ok"] * len(docs)
    assert [(r.code, r.signers[0].certificate) for r in many] == [(r.code, r.signers[0].certificate)
                                                                   for r in single]


def test_254_corrupted_copies_before_the_signer_are_each_judged_and_the_signer_found(pki) -> None:
    """The bag bound (256) filled with corrupted copies of the signer's certificate, each of
    which verifies the document signature and so is path-validated, the intact
    certificate last: ok, and the warning counts them."""
    leaf = pki.rsa_leaf
    copies = [_Der(P.flip_byte(leaf.der, len(leaf.der) - 1 - i)) for i in range(254)]
    assert len({c.der for c in copies}) == 254
    sig = G.signed_data([G.signer_info(CONTENT, leaf)], [*copies, leaf, pki.rsa_intermediate],
                        econtent=G.octets(CONTENT))
    soft = govsig.Verifier(govsig.Policy(trust=[pki.rsa_root.der], at=AT)).verify(sig)
    assert soft.code == "ok", soft.reason
    assert soft.signers[0].certificate == leaf.der
    assert "matches 255 certificates; certificate #255" in soft.signers[0].warning_details[0][1]


def test_a_corrupted_copy_never_outranks_the_genuine_certificates_missing_evidence(pki) -> None:
    """The s24 attack (a corrupted copy of the signer's certificate first in the bag) again,
    under revocation="hard-fail" with a fetcher: the genuine certificate's first judgement is
    revocation_unknown (rank 20) with the CRL it needs, the copy's is cert_signature_invalid
    (rank 78). The gravest wins, so the verdict is the copy's, its empty `needs` replace the
    genuine one's, the CRL is never fetched, and a valid document is a definitive failure.
    Without the copy the same Verifier fetches the CRL and says ok."""
    root = P.make_root("Root hard-fail s24b", "p256", seed="s24b-hf-root")
    url = "http://crl.s24b.test/root.crl"
    cdp = x509.CRLDistributionPoints([x509.DistributionPoint([x509.UniformResourceIdentifier(url)],
                                                            None, None, None)])
    leaf = P.make_leaf("Official hard-fail", root, "p256", seed="s24b-hf-leaf",
                       extra_extensions=[(cdp, False)])
    crl = (x509.CertificateRevocationListBuilder().issuer_name(root.cert.subject)
           .last_update(REVOKED_ON).next_update(AT + dt.timedelta(days=30))
           .add_extension(x509.CRLNumber(1), critical=False)
           .sign(root.key, hashes.SHA256()).public_bytes(serialization.Encoding.DER))  # type: ignore[arg-type]
    asked: list[str] = []

    def fetch(u: str, data: bytes | None = None, /) -> bytes:
        asked.append(u)
        assert u == url
        return crl

    def verifier() -> govsig.Verifier:
        return govsig.Verifier(govsig.Policy(trust=[root.der], at=AT, revocation="hard-fail"), fetch)

    clean = G.signed_data([G.signer_info(CONTENT, leaf)], [leaf], econtent=G.octets(CONTENT))
    r = verifier().verify(clean)
    assert r.code == "ok" and asked == [url], (r.code, r.reason, asked)
    asked.clear()
    decoyed = G.signed_data([G.signer_info(CONTENT, leaf)], [_broken(leaf), leaf], econtent=G.octets(CONTENT))
    r = verifier().verify(decoyed)
    assert r.code == "ok", (r.code, r.reason, asked)


# -- countersignatures and time-stamp tokens take their candidates the same way ---------------


def _prepend_cert(cms_der: bytes, der: bytes) -> bytes:
    """``cms_der`` with ``der`` first in its (unsigned) certificate bag."""
    from asn1crypto import cms as a_cms

    ci = a_cms.ContentInfo.load(cms_der)
    bag = list(ci["content"]["certificates"]) if ci["content"]["certificates"].native else []
    ci["content"]["certificates"] = [a_cms.CertificateChoices({"certificate": a_cms.Certificate.load(der)}), *bag]
    return bytes(ci.dump(force=True))


def test_a_corrupted_copy_of_the_countersigners_certificate_first(pki) -> None:
    from countersign import counter_signer_info, signature_value_of, with_countersignatures

    doc = P.sign_cms(CONTENT, pki.rsa_leaf, detached=False)
    notary = pki.p256_leaf
    cs = counter_signer_info(signature_value_of(doc), notary, signing_time=AT - dt.timedelta(days=1))
    sig = with_countersignatures(doc, 0, [cs], certs=[_broken(notary), notary])  # type: ignore[list-item]
    r = govsig.Verifier(govsig.Policy(trust=[c.der for c in pki.roots], at=AT)).verify(sig)
    assert r.code == "ok", r.reason
    (c,) = r.signers[0].countersigners
    assert c.code == "ok", c.reason
    assert c.certificate == notary.der
    assert c.warnings == ["signer_identifier_ambiguous"]


def test_a_corrupted_copy_of_the_tsa_certificate_first_in_the_token(openssl, tmp_path) -> None:
    from test_timestamps import Pki as TsPki
    from tsa_server import Tsa

    p = TsPki()
    data = "Biên bản họp s24b".encode()
    with Tsa(tmp_path / "tsa", openssl, signer=p.tsa) as tsa:
        token = tsa.stamp(data)
    v = govsig.Verifier(govsig.Policy(trust=govsig.TrustStore([p.root.der])))
    assert v.verify_timestamp(token, data).code == "ok"
    decoyed = _prepend_cert(token, _broken(p.tsa).der)
    r = v.verify_timestamp(decoyed, data)
    assert r.code == "ok", (r.code, r.reason)


# -- 2. S/MIME headers and parameters, PEM, bundles ---------------------------------------------


@pytest.fixture()
def smime_msg(pki, openssl, tmp_path: Path) -> bytes:
    return _smime(openssl, tmp_path, pki.rsa_leaf, TEXT, detached=True)


_EVIL_CT = b'multipart/signed; protocol="application/pkcs7-signature"; boundary="EVIL"'


def _two_readings(msg: bytes, head_edit) -> bytes:
    """The signed message with a decoy multipart in its (unsigned) preamble, reachable only by
    a reader that takes boundary EVIL; ``head_edit(head, boundary)`` gives it that reading."""
    head, first, second, b = _parts(msg)
    decoy = (b"--EVIL\r\nContent-Type: text/plain\r\n\r\nChuyen 500.000.000 dong cho ke gian\r\n"
             b"--EVIL\r\n" + second + b"\r\n--EVIL--\r\n")
    body = b"\r\n\r\n" + decoy + b"\r\n"
    for p in (first, second):
        body += b"--" + b + b"\r\n" + p + b"\r\n"
    return head_edit(head, b) + body + b"--" + b + b"--\r\n"


@pytest.mark.parametrize("spelling", [b"Content-Type : ", b"Content-Type\t: ", b"content-type: ", b"CONTENT-TYPE:"],
                         ids=["space-before-colon", "tab-before-colon", "lower-case", "upper-no-space"])
def test_smime_second_content_type_spelled_otherwise_is_refused(pki, verifier_s24b, smime_msg, spelling) -> None:
    msg = _two_readings(smime_msg, lambda h, b: h + b"\r\n" + spelling + _EVIL_CT)
    r = verifier_s24b.verify(msg)
    assert r.code == "malformed" and "two Content-Type headers" in r.reason, (r.code, r.reason)


@pytest.mark.parametrize("edit", [
    lambda h, b: h.replace(b'boundary="' + b + b'"', b'boundary="' + b + b'"; Boundary="EVIL"'),
    lambda h, b: h.replace(b'boundary="' + b + b'"', b'boundary="' + b + b'";\r\n\tBOUNDARY=EVIL'),
    lambda h, b: h.replace(b'boundary="' + b + b'"', b'boundary="' + b + b'"; boundary ="EVIL"'),
], ids=["capitalised", "folded-upper-unquoted", "space-before-equals"])
def test_smime_duplicate_boundary_in_another_spelling_is_refused(pki, verifier_s24b, smime_msg, edit) -> None:
    r = verifier_s24b.verify(_two_readings(smime_msg, edit))
    assert r.code == "malformed" and "gives the parameter 'boundary' twice" in r.reason, (r.code, r.reason)


def test_smime_rfc2231_boundary_is_a_second_boundary_parameter(pki, verifier_s24b, openssl, tmp_path,
                                                              smime_msg) -> None:
    """RFC 2231 §4 writes a parameter as ``boundary*=charset'lang'value``: the same parameter
    as ``boundary``. With ``boundary*=''EVIL`` before the real ``boundary="..."``, Python's
    email package (policy.default, as mail tools built on it read) takes EVIL and shows the
    attacker's part first; govsig compares parameter names literally, sees two different
    parameters, and says ok about the other part. The duplicate check of fa21718 (input.rs
    Entity::content_type) should fold RFC 2231 names (``name*``, ``name*0``...) into ``name``
    and refuse, as it does for ``Boundary``."""
    import email
    import email.policy

    msg = _two_readings(smime_msg, lambda h, b: h.replace(b'boundary="' + b + b'"',
                                                          b"boundary*=''EVIL; boundary=\"" + b + b'"'))
    shown = email.message_from_bytes(msg, policy=email.policy.default)
    assert shown.get_boundary() == "EVIL"
    assert "500.000.000" in shown.get_payload(0).get_content()
    assert _openssl_smime(openssl, tmp_path, msg, pki.rsa_root).returncode == 0  # OpenSSL: the first
    r = verifier_s24b.verify(msg)
    assert r.code == "malformed", (r.code, r.reason, r.content)


def test_smime_canonical_content_returned_is_the_signed_bytes(pki, verifier_s24b, openssl, tmp_path,
                                                            smime_msg) -> None:
    """CR CR LF line ends are now one line break: what govsig returns as the content is the
    canonical form that was hashed (never the doubled bytes), and OpenSSL outputs the same."""
    head, first, second, b = _parts(smime_msg)
    doubled = _multipart(head, b, first.replace(b"\r\n", b"\r\r\n") + b"\r\r", second)
    r = verifier_s24b.verify(doubled)
    assert r.code == "ok", r.reason
    assert r.content == TEXT.replace(b"\n", b"\r\n")
    assert _openssl_smime(openssl, tmp_path, doubled, pki.rsa_root).returncode == 0
    # A CR inside a line is content: it stays, and changes the digest.
    inner = _multipart(head, b, first.replace("Dòng".encode(), "\rDòng".encode()), second)
    assert verifier_s24b.verify(inner).code == "digest_mismatch"


@pytest.fixture(scope="module")
def verifier_s24b(pki) -> govsig.Verifier:
    return govsig.Verifier(govsig.Policy(trust=[r.der for r in pki.roots], at=AT))


def test_pem_boundary_only_at_a_line_start(pki, verifier_s24b) -> None:
    doc = P.sign_cms(CONTENT, pki.rsa_leaf, detached=False)
    pem = _pem("PKCS7", doc)
    r = verifier_s24b.verify(b"xem -----BEGIN PKCS7-----\n" + pem.split(b"\n", 1)[1])
    assert r.code == "malformed" and r.input_form == "der", r.reason
    # A certificate block first: refused by its label, never skipped to the next block.
    r = verifier_s24b.verify(b"x\n" + _pem("CERTIFICATE", pki.rsa_leaf.der) + pem)
    assert r.code == "malformed" and "the PEM block is 'CERTIFICATE', not a signature" in r.reason
    # MIME-looking text before a block: read as MIME, not as PEM after text.
    r = verifier_s24b.verify(b"Content-Type: text/plain\r\n\r\nChuyen tien\r\n" + pem)
    assert r.code == "malformed" and "not an S/MIME signature" in r.reason


@pytest.mark.parametrize("form", ["der", "pem-after-text", "cms-label"])
def test_a_signed_document_is_refused_as_anchors_intermediates_or_a_folder(pki, tmp_path, form) -> None:
    doc = P.sign_cms(CONTENT, pki.rsa_leaf, detached=False)
    data = {"der": doc, "pem-after-text": b"Bo chung thu CA\n" + _pem("PKCS7", doc),
            "cms-label": b"x\n" + _pem("CMS", doc)}[form]
    (tmp_path / "ca.p7b").write_bytes(data)
    for build in (lambda: govsig.TrustStore([data]), lambda: govsig.TrustStore.from_pem(data),
                  lambda: govsig.Policy(trust=[pki.rsa_root.der], intermediates=[data]),
                  lambda: govsig.TrustStore.from_dir(tmp_path)):
        with pytest.raises(ValueError, match=r"is a signed document \(1 signer\(s\)\), not a certs-only bundle"):
            build()


def test_ca_issuers_answer_that_is_a_signed_document_completes_no_path(pki) -> None:
    """A caIssuers URL (fetched, unsigned) answering a signed document whose bag holds the
    missing intermediate: not taken as a bundle, so the path stays incomplete."""
    root = P.make_root("Root aia s24b", "p256", seed="s24b-aia-root")
    inter = P.make_intermediate("Inter aia s24b", root, "p256", seed="s24b-aia-inter")
    url = "http://aia.s24b.test/inter.p7c"
    aia = x509.AuthorityInformationAccess([x509.AccessDescription(
        x509.AuthorityInformationAccessOID.CA_ISSUERS, x509.UniformResourceIdentifier(url))])
    leaf = P.make_leaf("Official aia s24b", inter, "p256", seed="s24b-aia-leaf", extra_extensions=[(aia, False)])
    carrier = P.sign_cms(b"x", inter, detached=False)  # a signed document by the intermediate
    asked: list[str] = []

    def fetch(u: str, data: bytes | None = None, /) -> bytes:
        asked.append(u)
        return carrier

    sig = G.signed_data([G.signer_info(CONTENT, leaf)], [leaf], econtent=G.octets(CONTENT))
    r = govsig.Verifier(govsig.Policy(trust=[root.der], at=AT), fetch).verify(sig)
    assert url in asked
    assert r.code == "chain_untrusted", (r.code, r.reason)


def test_verify_certificate_names_a_signed_document_given_as_a_certificate(pki) -> None:
    """verify_certificate now returns cert_malformed for bad bytes (not raising); but for a
    PEM signed document the actionable reason the reader found ("a signed document, not a
    certs-only bundle") is dropped (_verifier.py catches the ValueError and hands the raw PEM
    text to the core), and the result says the PEM text "is not DER: found a [2] application
    primitive element": a parser's view of ASCII letters."""
    v = govsig.Verifier(govsig.Policy(trust=[pki.rsa_root.der], at=AT))
    doc = P.sign_cms(CONTENT, pki.rsa_leaf, detached=False)
    assert v.verify_certificate(pki.rsa_leaf.der, [pki.rsa_intermediate.der]).code == "ok"
    r = v.verify_certificate(b"Chung thu\n" + _pem("PKCS7", doc))
    assert r.code == "cert_malformed"
    assert "signed document" in r.reason, r.reason


# -- 3. the command line never echoes a secret --------------------------------------------------


SECRET = "matkhau"


def _cli(argv: list[str], capsys) -> str:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    c = capsys.readouterr()
    return c.out + c.err


@pytest.mark.parametrize("argv", [
    ["verify", "x.p7s", "--trust", "t.pem", f"--pin={SECRET}"],
    ["verify", "x.p7s", "--trust", "t.pem", "--pin", SECRET],
    ["verify", "x.p7s", "--trust", "t.pem", f"--pi={SECRET}"],
    ["verify", "x.p7s", "--trust", "t.pem", f"--p={SECRET}"],
    ["verify", "x.p7s", "--trust", "t.pem", f"--key-pass={SECRET}"],
    ["verify", "x.p7s", "--trust", "t.pem", f"--pin{SECRET}"],
    ["verify", "x.p7s", "--trust", "t.pem", f"--pín{SECRET}"],
    ["verify", "x.p7s", "--trust", "t.pem", f"-p{SECRET}"],
    ["verify", "x.p7s", "--trust", "t.pem", f"-h{SECRET}"],
    ["verify", "x.p7s", "--trust", "t.pem", f"--json={SECRET}"],
    ["verify", "x.p7s", "--trust", "t.pem", "--", f"--pin={SECRET}"],
    ["sign", "x", "--key", "k", "--cert", "c", f"--key-password-env{SECRET}"],
    ["sign", "x", "--key", "k", "--cert", "c", f"--key-password-en={SECRET}"],
    ["pkcs11", "keys", "--module", "m.so", f"--pin-env{SECRET}"],
    ["pkcs11", "keys", "--module", "m.so", f"--user-pin={SECRET}"],
    [f"--version={SECRET}"],
], ids=lambda a: " ".join(a[-2:]))
def test_secret_glued_or_misplaced_is_never_echoed(argv, capsys) -> None:
    out = _cli(argv, capsys)
    assert SECRET not in out and "matk" not in out, out


@pytest.mark.parametrize("argv", [
    ["verify", "x.p7s", "--trust", "t.pem", f"--pi{SECRET}"],
    ["verify", "x.p7s", "--trust", "t.pem", f"--pasword{SECRET}"],
    ["verify", "x.p7s", "--trust", "t.pem", f"--PIN{SECRET}"],
    ["pkcs11", "keys", "--module", "m.so", f"--pni{SECRET}"],
], ids=["pi", "pasword", "PIN", "pni"])
def test_an_alphabetic_secret_run_on_to_a_mistyped_option_is_not_echoed(argv, capsys) -> None:
    """4145bf7/0bcfb25 cut an unrecognised long option at the first character that is not a
    letter or hyphen, assuming a secret starts with a digit (``--pi1234``). A password or an
    alphanumeric PIN that starts with a letter (``--pimatkhau``, ``--pimatkhau2024`` ->
    ``--pimatkhau…``) is echoed whole or up to its first digit, as is ``--PINmatkhau`` (the
    secret-name check is case-sensitive). cli._option_shown should show no more of an unknown
    option than a known option's name it resembles, or nothing."""
    out = _cli(argv, capsys)
    assert "unrecognized arguments" in out
    assert SECRET not in out and "matk" not in out, out


@pytest.mark.parametrize("argv", [
    [SECRET],
    ["pkcs11", SECRET],
    ["pkcs11", "keys", "--module", "m.so", "--slot", SECRET],
    ["sign", "x", "--key", "k", "--cert", "c", "--digest", SECRET],
], ids=["command", "pkcs11-command", "slot", "digest"])
def test_a_secret_typed_where_a_choice_or_number_belongs_is_not_echoed(argv, capsys) -> None:
    """argparse's "invalid choice: '...'" and "invalid int value: '...'" quote the value; a
    PIN typed one word too early (``govsig pkcs11 <PIN> keys``, ``--slot <PIN>``) reaches the
    terminal and logs. cli._Parser.error rewrites two argparse messages but not these."""
    out = _cli(argv, capsys)
    assert "invalid" in out
    assert SECRET not in out, out


def test_two_trusted_certificates_for_one_key_let_the_bag_order_choose_the_identity(kc) -> None:
    """Documented, not a fix regression: the CA certified one key under two subjects (a role
    and a person). Signed by SKI without an ESS pin, the signature is both's; whoever holds the
    document picks the reported signer by ordering (or pruning) the unsigned bag. The
    ambiguity warning is what tells the caller; the signer's ESS pin is the cure (above)."""
    role = P.make_leaf("Giam doc So Tu phap", kc.root, "p256", seed="s24b-key-kc")
    assert role.cert.public_key() == kc.a2.cert.public_key() and role.ski == kc.a2.ski
    v = kc.verifier()
    seen = set()
    for bag in ([kc.a2, role], [role, kc.a2]):
        r = v.verify(kc.doc(bag))
        assert r.code == "ok" and r.signers[0].warnings == ["signer_identifier_ambiguous"], r.reason
        seen.add(r.signers[0].certificate)
    assert seen == {kc.a2.der, role.der}


def test_a_twin_with_a_respelled_outer_signature_algorithm_is_no_second_valid_certificate(pki) -> None:
    """Without a CA, a second *valid* certificate for the signer's key would need another
    encoding of the same signed TBS: the outer signatureAlgorithm without its NULL. It is
    refused (RFC 5280 §4.1.1.2), so it can neither verify as a path nor win as a candidate."""
    from asn1crypto import x509 as a_x509

    leaf = pki.rsa_leaf
    outer = a_x509.Certificate.load(leaf.der)["signature_algorithm"].dump()
    assert outer.endswith(b"\x05\x00")
    bare = b"\x30" + bytes([len(outer) - 4]) + outer[2:-2]
    at = leaf.der.rfind(outer)
    body = leaf.der[4:at] + bare + leaf.der[at + len(outer):]
    twin = b"\x30\x82" + len(body).to_bytes(2, "big") + body
    v = govsig.Verifier(govsig.Policy(trust=[pki.rsa_root.der], at=AT, intermediates=[pki.rsa_intermediate.der]))
    r = v.verify_certificate(twin)
    assert r.code == "cert_malformed" and "signatureAlgorithm differs from TBSCertificate.signature" in r.reason
    sig = G.signed_data([G.signer_info(CONTENT, leaf)], [_Der(twin), leaf, pki.rsa_intermediate],
                        econtent=G.octets(CONTENT))
    r = v.verify(sig)
    assert r.code == "ok" and r.signers[0].certificate == leaf.der, r.reason


@pytest.mark.parametrize("suffix", [".p7s\n", ".p7s\r", "\x1b[2J.p7s", ".\u202ep7s", ".p7s\x00"],
                         ids=["LF", "CR", "ESC", "RLO", "NUL"])
def test_sign_suffix_with_control_characters_is_a_usage_error(tmp_path, capsys, suffix) -> None:
    """A suffix with a line break or a bidi control would create a signature whose name lies
    in listings and logs: refused as a usage error before anything is read or written."""
    doc = tmp_path / "b"
    doc.write_bytes(b"noi dung")
    rc = main(["sign", str(doc), "--key", str(tmp_path / "k.pem"), "--cert", str(tmp_path / "c.pem"),
               "--suffix", suffix])
    err = capsys.readouterr().err
    assert rc == 2 and "control or formatting characters" in err, (rc, err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b"]
