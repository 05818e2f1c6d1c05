#!/usr/bin/env python3
"""Seed corpora for the fuzz targets, derived from the repository's own test data.

    python3 fuzz/seed.py [CORPUS_DIR]        (default: fuzz/corpus)

Writes fuzz/corpus/<target>/seed-<name> and nothing else: files libFuzzer added to a corpus
(named by their SHA-1) are kept, and stale seeds are removed first, so re-running is safe.
Every byte is deterministic: certificates come from tests/data/cms and tests/scenarios or
from tests/pki.py (seeded keys, RFC 6979 ECDSA, fixed dates); CRLs and OCSP responses are
signed by the P-256 test root with deterministic ECDSA; BER seeds are re-encodings of the
DER signatures. The CRLs, responses and derived signatures are made to be *valid* for the
P-256 test leaf at the targets' validation time (fuzz/src/lib.rs), so the fuzzer starts
deep in revocation checking rather than at the first parse error.

Needs what the Python tests need (cryptography, asn1crypto); no network, no clock.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import ipaddress
import re
import sys
import unicodedata
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO / "tests"))

from asn1crypto import algos as a_algos  # noqa: E402
from asn1crypto import cms as a_cms  # noqa: E402
from asn1crypto import crl as a_crl  # noqa: E402
from asn1crypto import ocsp as a_ocsp  # noqa: E402
from asn1crypto import x509 as a_x509  # noqa: E402
from cryptography import x509  # noqa: E402
from cryptography.exceptions import InvalidSignature  # noqa: E402
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec, padding  # noqa: E402
from cryptography.x509 import ocsp  # noqa: E402
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID  # noqa: E402

import pki as P  # noqa: E402

CMS_DIR = REPO / "tests" / "data" / "cms"
UTC = dt.timezone.utc
# fuzz/src/lib.rs VALIDATION_TIME is 2026-06-01: every CRL and response below is fresh then.
THIS_UPDATE = dt.datetime(2026, 5, 25, tzinfo=UTC)
NEXT_UPDATE = dt.datetime(2026, 6, 25, tzinfo=UTC)
REVOKED_AT = dt.datetime(2026, 4, 1, tzinfo=UTC)
# fuzz_targets/ocsp_response.rs NONCE.
NONCE = b"govsig-fuzz-nonce"

PEM_BLOCK = re.compile(rb"-----BEGIN CERTIFICATE-----\s+(.*?)-----END CERTIFICATE-----", re.S)


class Corpus:
    """Seeds for one target: name -> bytes, written by `write_all`."""

    def __init__(self) -> None:
        self.seeds: dict[str, dict[str, bytes]] = {}

    def add(self, target: str, name: str, data: bytes) -> None:
        bucket = self.seeds.setdefault(target, {})
        if data in bucket.values():
            return
        bucket[re.sub(r"[^A-Za-z0-9_.-]", "_", name)] = data

    def write_all(self, root: Path) -> None:
        for target, seeds in sorted(self.seeds.items()):
            d = root / target
            d.mkdir(parents=True, exist_ok=True)
            for old in d.glob("seed-*"):
                old.unlink()
            for name, data in sorted(seeds.items()):
                (d / f"seed-{name}").write_bytes(data)
            print(f"{target}: {len(seeds)} seeds")


# ------------------------------------------------------------------------------------------
# The test PKI, rebuilt from its seeds (checked against the committed DER)
# ------------------------------------------------------------------------------------------


def standard_p256() -> tuple[P.Issued, P.Issued]:
    root = P.make_root("Root CA ECC thử nghiệm", "p256")
    leaf = P.make_leaf("Trần Thị Bình", root, "p256")
    for issued, file in ((root, "p256_root.der"), (leaf, "p256_leaf.der")):
        if issued.der != (CMS_DIR / file).read_bytes():
            raise SystemExit(f"tests/pki.py no longer rebuilds {file}: regenerate the fixtures")
    return root, leaf


def sign_deterministic(key, data: bytes) -> bytes:
    return key.sign(data, ec.ECDSA(hashes.SHA256(), deterministic_signing=True))


# ------------------------------------------------------------------------------------------
# Certificates
# ------------------------------------------------------------------------------------------


def repository_certificates() -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    for f in sorted(CMS_DIR.glob("*.der")):
        out[f.stem] = f.read_bytes()
    for f in sorted((REPO / "tests" / "scenarios").rglob("*.pem")) + [CMS_DIR / "roots.pem"]:
        for i, m in enumerate(PEM_BLOCK.finditer(f.read_bytes())):
            if i >= 8:  # same_subject_100 holds a hundred near-identical CAs
                break
            out[f"{f.parent.name}_{f.stem}_{i}"] = base64.b64decode(m.group(1))
    for f in sorted(CMS_DIR.glob("*.p7[sm]")):
        try:
            sd = a_cms.ContentInfo.load(f.read_bytes())["content"]
            for i, c in enumerate(sd["certificates"] or []):
                out[f"{f.stem}_cert{i}"] = c.chosen.dump()
        except ValueError:
            continue  # truncated.p7s
    return out


def rich_certificates(root: P.Issued) -> dict[str, P.Issued]:
    """Certificates carrying the extensions path validation and revocation read."""
    dns = x509.DNSName
    uri = x509.UniformResourceIdentifier
    constrained = P.make_intermediate(
        "CA có ràng buộc tên (fuzz)", root, "p256",
        extra_extensions=[
            (x509.NameConstraints(
                permitted_subtrees=[dns("gov.vn"), x509.RFC822Name("gov.vn"),
                                    x509.DirectoryName(P.vn_name("x", "Chính phủ")),
                                    x509.IPAddress(ipaddress.ip_network("10.0.0.0/8"))],
                excluded_subtrees=[dns("bad.gov.vn"), uri(".example.com")]), True),
            (x509.CertificatePolicies([
                x509.PolicyInformation(x509.ObjectIdentifier("2.16.704.1.2.1"), [
                    "https://ca.gov.vn/cps",
                    x509.UserNotice(x509.NoticeReference("Ban Cơ yếu", [1, 2]), "Chính sách"),
                ]),
                x509.PolicyInformation(x509.ObjectIdentifier("2.5.29.32.0"), None),
            ]), False),
            (x509.PolicyConstraints(require_explicit_policy=1, inhibit_policy_mapping=0), True),
            (x509.InhibitAnyPolicy(1), True),
            # policyMappings (RFC 5280 §4.2.1.5), which cryptography cannot build:
            # SEQUENCE { SEQUENCE { 2.16.704.1.2.1, 2.16.704.1.2.2 } }.
            (x509.UnrecognizedExtension(x509.ObjectIdentifier("2.5.29.33"), bytes.fromhex(
                "3012" "3010" "0606608540010201" "0606608540010202")), True),
        ])
    pointers = [
        (x509.SubjectAlternativeName([dns("ubnd.hagiang.gov.vn"), x509.RFC822Name("an@gov.vn"),
                                      uri("https://hagiang.gov.vn/")]), False),
        (x509.CRLDistributionPoints([
            x509.DistributionPoint([uri("http://crl.ca.gov.vn/root.crl")], None, None, None),
            x509.DistributionPoint(None, x509.RelativeDistinguishedName(
                [x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, "CRL1")]),
                frozenset([x509.ReasonFlags.key_compromise]), [x509.DirectoryName(root.cert.subject)]),
        ]), False),
        (x509.AuthorityInformationAccess([
            x509.AccessDescription(AuthorityInformationAccessOID.OCSP, uri("http://ocsp.ca.gov.vn")),
            x509.AccessDescription(AuthorityInformationAccessOID.CA_ISSUERS,
                                   uri("http://ca.gov.vn/root.cer")),
        ]), False),
        (x509.FreshestCRL([x509.DistributionPoint([uri("http://crl.ca.gov.vn/delta.crl")],
                                                  None, None, None)]), False),
        (x509.CertificatePolicies([x509.PolicyInformation(x509.ObjectIdentifier("2.16.704.1.2.2"),
                                                          None)]), False),
    ]
    return {
        "constrained_ca": constrained,
        "leaf_under_constraints": P.make_leaf(
            "Nguyễn Thị Ràng Buộc", constrained, "p256", eku=["email_protection", "1.3.6.1.4.1.311.10.3.12"],
            extra_extensions=pointers[:1]),
        "leaf_with_pointers": P.make_leaf("Lê Văn Con Trỏ", root, "p256", extra_extensions=pointers),
        "ocsp_responder": P.make_leaf(
            "OCSP thử nghiệm (fuzz)", root, "p256", key_usage=("digital_signature",),
            eku=["ocsp_signing"], extra_extensions=[(x509.OCSPNoCheck(), False)]),
        "crl_signer_indirect": P.make_leaf(
            "CRL thử nghiệm (fuzz)", root, "p256", key_usage=("crl_sign",)),
    }


# ------------------------------------------------------------------------------------------
# CRLs (issued by the P-256 root, covering the P-256 leaf)
# ------------------------------------------------------------------------------------------


def crl(root: P.Issued, entries: list[x509.RevokedCertificate], number: int,
        extensions: list[tuple[x509.ExtensionType, bool]] = ()) -> bytes:
    b = (x509.CertificateRevocationListBuilder()
         .issuer_name(root.cert.subject)
         .last_update(THIS_UPDATE)
         .next_update(NEXT_UPDATE)
         .add_extension(x509.CRLNumber(number), False)
         .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(root.key.public_key()),
                        False))
    for ext, critical in extensions:
        b = b.add_extension(ext, critical)
    for e in entries:
        b = b.add_revoked_certificate(e)
    return b.sign(root.key, hashes.SHA256(), ecdsa_deterministic=True).public_bytes(
        serialization.Encoding.DER)


def entry(serial: int, *exts: tuple[x509.ExtensionType, bool]) -> x509.RevokedCertificate:
    b = x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(REVOKED_AT)
    for ext, critical in exts:
        b = b.add_extension(ext, critical)
    return b.build()


def crls(root: P.Issued, leaf: P.Issued) -> dict[str, bytes]:
    s = leaf.cert.serial_number
    reason = lambda r: (x509.CRLReason(r), False)  # noqa: E731
    other = x509.DirectoryName(P.vn_name("CA khác", "Tổ chức khác"))
    uri = x509.UniformResourceIdentifier
    return {
        "empty": crl(root, [], 1),
        "leaf_revoked": crl(root, [
            entry(1),
            entry(s, reason(x509.ReasonFlags.key_compromise),
                  (x509.InvalidityDate(dt.datetime(2026, 3, 1)), False)),
            entry(0x7F_FFFF_FFFF_FFFF_FFFF_FFFF_FFFF_FFFF_FFFF, reason(x509.ReasonFlags.superseded)),
        ], 2),
        "leaf_on_hold": crl(root, [entry(s, reason(x509.ReasonFlags.certificate_hold))], 3),
        "delta_removes_leaf": crl(root, [entry(s, reason(x509.ReasonFlags.remove_from_crl))], 4,
                                  [(x509.DeltaCRLIndicator(2), True)]),
        "idp_user_certs": crl(root, [entry(s, reason(x509.ReasonFlags.affiliation_changed))], 5, [
            (x509.IssuingDistributionPoint(
                full_name=[uri("http://crl.ca.gov.vn/root.crl")], relative_name=None,
                only_contains_user_certs=True, only_contains_ca_certs=False,
                only_some_reasons=frozenset([x509.ReasonFlags.key_compromise,
                                             x509.ReasonFlags.affiliation_changed]),
                indirect_crl=False, only_contains_attribute_certs=False), True),
            (x509.FreshestCRL([x509.DistributionPoint([uri("http://crl.ca.gov.vn/delta.crl")],
                                                      None, None, None)]), False),
        ]),
        # Entry 8 inherits entry 7's certificateIssuer (RFC 5280 §5.3.3).
        "indirect": crl(root, [
            entry(s),
            entry(7, (x509.CertificateIssuer([other]), True), reason(x509.ReasonFlags.ca_compromise)),
            entry(8),
            entry(9, (x509.CertificateIssuer([x509.DirectoryName(root.cert.subject), other]), True)),
        ], 6, [
            (x509.IssuingDistributionPoint(
                full_name=None, relative_name=None, only_contains_user_certs=False,
                only_contains_ca_certs=False, only_some_reasons=None, indirect_crl=True,
                only_contains_attribute_certs=False), True),
        ]),
    }


# ------------------------------------------------------------------------------------------
# OCSP responses (for the P-256 leaf)
# ------------------------------------------------------------------------------------------


def resign_ocsp(der: bytes, key, second_serial: int | None = None) -> bytes:
    """cryptography stamps producedAt with the clock and signs OCSP with random-k ECDSA: fix
    producedAt and sign ResponseData again, deterministically. With `second_serial`, a second
    SingleResponse (status unknown, no nextUpdate) for that serial is added first, which
    cryptography's builder cannot do."""
    resp = a_ocsp.OCSPResponse.load(der)
    basic = resp["response_bytes"]["response"].parsed
    tbs = a_ocsp.ResponseData.load(basic["tbs_response_data"].dump())
    tbs["produced_at"] = THIS_UPDATE
    if second_serial is not None:
        first = tbs["responses"][0]
        second = a_ocsp.SingleResponse.load(first.dump())
        second["cert_id"]["serial_number"] = second_serial
        second["cert_status"] = a_ocsp.CertStatus(name="unknown", value=None)
        second["next_update"] = None
        tbs["responses"] = a_ocsp.Responses([a_ocsp.SingleResponse.load(first.dump()), second])
    tbs_der = tbs.dump(force=True)
    signed = a_ocsp.BasicOCSPResponse({
        "tbs_response_data": a_ocsp.ResponseData.load(tbs_der),
        "signature_algorithm": basic["signature_algorithm"],
        "signature": sign_deterministic(key, tbs_der),
    })
    if basic["certs"].native is not None:
        signed["certs"] = basic["certs"]
    return a_ocsp.OCSPResponse({
        "response_status": "successful",
        "response_bytes": {"response_type": "basic_ocsp_response", "response": signed},
    }).dump()


def ocsp_responses(root: P.Issued, leaf: P.Issued, responder: P.Issued,
                   rsa_leaf_serial: int) -> dict[str, bytes]:
    def build(status, *, signer: P.Issued = root, by_key: bool = True, nonce: bool = False,
              certs: list[x509.Certificate] = (), algorithm=hashes.SHA1(),
              extra_single: bool = False) -> bytes:
        b = ocsp.OCSPResponseBuilder().add_response(
            cert=leaf.cert, issuer=root.cert, algorithm=algorithm, cert_status=status,
            this_update=THIS_UPDATE, next_update=NEXT_UPDATE,
            revocation_time=REVOKED_AT if status == ocsp.OCSPCertStatus.REVOKED else None,
            revocation_reason=(x509.ReasonFlags.key_compromise
                               if status == ocsp.OCSPCertStatus.REVOKED else None))
        b = b.responder_id(ocsp.OCSPResponderEncoding.HASH if by_key else
                           ocsp.OCSPResponderEncoding.NAME, signer.cert)
        if nonce:
            b = b.add_extension(x509.OCSPNonce(NONCE), False)
        if certs:
            b = b.certificates(list(certs))
        return resign_ocsp(b.sign(signer.key, hashes.SHA256()).public_bytes(
            serialization.Encoding.DER), signer.key, rsa_leaf_serial if extra_single else None)

    good, revoked, unknown = (ocsp.OCSPCertStatus.GOOD, ocsp.OCSPCertStatus.REVOKED,
                              ocsp.OCSPCertStatus.UNKNOWN)
    out = {
        "good_by_key": build(good),
        "revoked_by_name": build(revoked, by_key=False),
        "unknown_sha256": build(unknown, algorithm=hashes.SHA256()),
        "good_nonce_two_singles": build(good, nonce=True, extra_single=True),
        "delegated_revoked": build(revoked, signer=responder, certs=[responder.cert], nonce=True),
        "delegated_by_name_with_root": build(good, signer=responder, by_key=False,
                                             certs=[responder.cert, root.cert]),
    }
    for status in (ocsp.OCSPResponseStatus.TRY_LATER, ocsp.OCSPResponseStatus.UNAUTHORIZED,
                   ocsp.OCSPResponseStatus.MALFORMED_REQUEST):
        out[f"unsuccessful_{status.name.lower()}"] = ocsp.OCSPResponseBuilder.build_unsuccessful(
            status).public_bytes(serialization.Encoding.DER)
    return out


# ------------------------------------------------------------------------------------------
# CMS: the test signatures, some carrying CRLs, and their BER re-encodings
# ------------------------------------------------------------------------------------------


def with_crls(cms_der: bytes, crl_ders: list[bytes]) -> bytes:
    """The SignedData with `crls` set: unsigned, so its signatures still verify."""
    ci = a_cms.ContentInfo.load(cms_der)
    sd = ci["content"]
    sd["crls"] = a_cms.RevocationInfoChoices(
        [a_cms.RevocationInfoChoice(name="crl", value=a_crl.CertificateList.load(d)) for d in crl_ders])
    return a_cms.ContentInfo({"content_type": "signed_data", "content": sd}).dump()


def tlvs(der: bytes):
    """Top-level (tag octets, content) pairs of DER `der`."""
    i = 0
    while i < len(der):
        start = i
        if der[i] & 0x1F == 0x1F:
            i += 1
            while der[i] & 0x80:
                i += 1
        i += 1
        tag = der[start:i]
        n = der[i]
        i += 1
        if n & 0x80:
            k = n & 0x7F
            n = int.from_bytes(der[i:i + k], "big")
            i += k
        yield tag, der[i:i + n]
        i += n


def definite(tag: bytes, content: bytes, pad: bool) -> bytes:
    n = len(content)
    if pad:  # BER allows a length in more octets than needed
        return tag + b"\x84" + n.to_bytes(4, "big") + content
    if n < 0x80:
        return tag + bytes([n]) + content
    ln = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return tag + bytes([0x80 | len(ln)]) + ln + content


def to_ber(der: bytes, style: str, depth: int = 0) -> bytes:
    """BER re-encoding of DER: `indefinite` (every constructed value indefinite-length, long
    OCTET STRINGs split into constructed chunks, as streaming signers write), `outer` (only
    the first two levels indefinite, like `openssl cms -stream`), `long_lengths`."""
    out = bytearray()
    for tag, content in tlvs(der):
        constructed = tag[0] & 0x20
        if constructed:
            inner = to_ber(content, style, depth + 1)
            if style == "indefinite" or (style == "outer" and depth < 2):
                out += tag + b"\x80" + inner + b"\x00\x00"
            else:
                out += definite(tag, inner, style == "long_lengths")
        elif tag == b"\x04" and len(content) > 64 and style == "indefinite":
            chunks = b"".join(definite(b"\x04", content[k:k + 64], False)
                              for k in range(0, len(content), 64))
            out += b"\x24\x80" + chunks + b"\x00\x00"
        else:
            out += definite(tag, content, style == "long_lengths")
    return bytes(out)


# ------------------------------------------------------------------------------------------
# Signatures: (key, algorithm, signature, message) as fuzz_targets/signature.rs reads them
# ------------------------------------------------------------------------------------------


def signature_input(spki: bytes, alg: bytes, sig: bytes, message: bytes) -> bytes:
    out = b""
    for part in (spki, alg, sig):
        out += len(part).to_bytes(2, "big") + part
    return out + message


def spki_of(cert: x509.Certificate) -> bytes:
    return cert.public_key().public_bytes(serialization.Encoding.DER,
                                          serialization.PublicFormat.SubjectPublicKeyInfo)


def certificate_signatures(certs: dict[str, bytes]) -> dict[str, bytes]:
    """Each certificate's signature with its issuer's key, for the issuers among `certs`."""
    parsed = {}
    for name, der in certs.items():
        try:
            parsed[name] = x509.load_der_x509_certificate(der)
        except ValueError:
            continue
    out: dict[str, bytes] = {}
    for name, cert in parsed.items():
        for issuer in parsed.values():
            try:
                cert.verify_directly_issued_by(issuer)
            except (ValueError, TypeError, InvalidSignature):
                continue  # not this certificate's issuer
            alg = a_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))[
                "signature_algorithm"].dump()
            out[name] = signature_input(spki_of(issuer), alg, cert.signature,
                                        cert.tbs_certificate_bytes)
            break
    return out


def pss_params(digest: str, salt: int) -> bytes:
    return a_algos.SignedDigestAlgorithm({
        "algorithm": "rsassa_pss",
        "parameters": a_algos.RSASSAPSSParams({
            "hash_algorithm": {"algorithm": digest},
            "mask_gen_algorithm": {"algorithm": "mgf1", "parameters": {"algorithm": digest}},
            "salt_length": salt,
        }),
    }).dump()


def rsa_signatures(message: bytes) -> dict[str, bytes]:
    """RSA signatures the pure-Rust fallback verifies (aws-lc-rs has no parameter set for
    them): RSASSA-PSS with an empty salt (deterministic) under the 2048-bit test root's key,
    and PSS and PKCS#1 v1.5 under 512- and 1024-bit keys, which a legacy policy with a
    lowered min_rsa_bits admits (old government CAs)."""
    root = P.make_root("Root CA RSA thử nghiệm", "rsa2048")
    hash_of = {"sha1": hashes.SHA1(), "sha256": hashes.SHA256(), "sha512": hashes.SHA512()}
    pkcs1 = {"sha1": "sha1_rsa", "sha256": "sha256_rsa"}
    out: dict[str, bytes] = {}
    cases = [(root.key, "rsa2048", "sha256", "pss"), (root.key, "rsa2048", "sha512", "pss")]
    for bits in (512, 1024):
        small = P._det_rsa(bits, f"govsig-fuzz|rsa{bits}")
        cases += [(small, f"rsa{bits}", "sha256", "pss"), (small, f"rsa{bits}", "sha1", "pss"),
                  (small, f"rsa{bits}", "sha256", "pkcs1"), (small, f"rsa{bits}", "sha1", "pkcs1")]
    for key, kname, digest, scheme in cases:
        h = hash_of[digest]
        spki = key.public_key().public_bytes(serialization.Encoding.DER,
                                             serialization.PublicFormat.SubjectPublicKeyInfo)
        if scheme == "pss":
            alg = pss_params(digest, 0)
            sig = key.sign(message, padding.PSS(mgf=padding.MGF1(h), salt_length=0), h)
        else:
            alg = a_algos.SignedDigestAlgorithm({"algorithm": pkcs1[digest]}).dump()
            sig = key.sign(message, padding.PKCS1v15(), h)
        out[f"{kname}_{scheme}_{digest}"] = signature_input(spki, alg, sig, message)
    return out


# ------------------------------------------------------------------------------------------
# Dossiers: manifests, tag files, inclusion proofs
# ------------------------------------------------------------------------------------------

ALGS = {"sha256": (1, hashlib.sha256), "sha384": (2, hashlib.sha384), "sha512": (3, hashlib.sha512)}
FILES = {
    "quyết định.pdf": b"%PDF-1.7 quyet dinh",
    "hồ sơ/tờ trình.docx": b"to trinh",
    "hồ sơ/phụ lục 100%.xlsx": b"phu luc",
    "a b/line\nbreak.txt": b"x",
    "B/a.pdf": b"a",
    "z.txt": b"",
}


def encode_path(p: str) -> str:
    return p.replace("%", "%25").replace("\n", "%0A").replace("\r", "%0D")


def manifests() -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    for alg, (_, h) in ALGS.items():
        items = sorted((unicodedata.normalize("NFC", p).encode(), h(c).hexdigest())
                       for p, c in FILES.items())
        out[f"govsig_{alg}"] = b"".join(d.encode() + b" data/" + encode_path(p.decode()).encode() + b"\n"
                                        for p, d in items)
    h = hashlib.sha256
    rows = [(h(c).hexdigest(), p) for p, c in FILES.items()]
    # What other tools write: upper-case hex, two spaces or a tab, sha256sum's '*', CRLF,
    # a BOM, comments, NFD names, no final newline.
    out["foreign_forms"] = ("\ufeff# bagit manifest\r\n" + "".join(
        f"{d.upper()}  data/{encode_path(p)}\r\n" if i % 3 == 0 else
        f"{d}\t*data/{encode_path(unicodedata.normalize('NFD', p))}\n" if i % 3 == 1 else
        f"{d} data/{encode_path(p)}\r" for i, (d, p) in enumerate(rows))).encode()[:-1]
    out["tagmanifest_sha256"] = b"".join(
        h(c).hexdigest().encode() + b" " + n.encode() + b"\n"
        for n, c in sorted(tag_files().items()))
    out["one_entry"] = f"{h(b'').hexdigest()} data/x\n".encode()
    return out


def tag_files() -> dict[str, bytes]:
    return {
        "bagit.txt": b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n",
        "bag-info.txt": ("Bag-Software-Agent: govsig 0.1.0\nBagging-Date: 2026-03-15\n"
                         "Payload-Oxum: 52.6\nGovsig-Dossier-Root: sha256:" + "ab" * 32 + "\n"
                         "Source-Organization: Sở Tư pháp tỉnh Hà Giang\n").encode(),
        "bag-info-folded.txt": ("\ufeffExternal-Description: Hồ sơ thủ tục hành chính\r\n"
                                "  tiếp nhận ngày 15/3\r\n\tvà trả kết quả\r\n"
                                "Contact-Email:an@gov.vn\r\n\r\nBag-Count: 1 of 2\r\n").encode(),
    }


def merkle_path(m: int, leaves: list[bytes], h) -> list[bytes]:
    """RFC 9162 §2.1.3.1 PATH(m, D[n]), written from the RFC, independent of the Rust tree."""
    def mth(ls: list[bytes]) -> bytes:
        if not ls:
            return h(b"").digest()
        if len(ls) == 1:
            return ls[0]
        k = 1 << ((len(ls) - 1).bit_length() - 1)
        return h(b"\x01" + mth(ls[:k]) + mth(ls[k:])).digest()

    n = len(leaves)
    if n <= 1:
        return []
    k = 1 << ((n - 1).bit_length() - 1)
    if m < k:
        return merkle_path(m, leaves[:k], h) + [mth(leaves[k:])]
    return merkle_path(m - k, leaves[k:], h) + [mth(leaves[:k])]


def inclusion_proofs() -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    for alg, (code, h) in ALGS.items():
        for n, m in ((1, 0), (2, 1), (5, 4), (7, 3), (64, 0), (300, 257)):
            leaves = [h(b"\x00" + f"line {i}".encode()).digest() for i in range(n)]
            path = merkle_path(m, leaves, h)
            out[f"{alg}_n{n}_m{m}"] = (bytes([1, code]) + n.to_bytes(8, "big") + m.to_bytes(8, "big")
                                       + bytes([len(path)]) + b"".join(path))
    return out


def smime_inputs(signatures: dict[str, bytes], content: bytes) -> dict[str, bytes]:
    """The test signatures as users have them: PEM (PKCS7 and CMS labels), S/MIME
    multipart/signed over the fixture content, application/pkcs7-mime, and a certs-only
    bundle."""
    out: dict[str, bytes] = {}

    def pem(label: str, der: bytes) -> bytes:
        b64 = base64.b64encode(der).decode()
        lines = "\n".join(b64[i:i + 64] for i in range(0, len(b64), 64))
        return f"-----BEGIN {label}-----\n{lines}\n-----END {label}-----\n".encode()

    for name, der in sorted(signatures.items())[:6]:
        out[f"pem_pkcs7_{name}"] = pem("PKCS7", der)
        out[f"pem_cms_{name}"] = pem("CMS", der)
        b64 = base64.encodebytes(der)
        if name.endswith(".p7s"):
            body = b"Content-Type: text/plain\r\n\r\n" + content
            out[f"smime_signed_{name}"] = (
                b'MIME-Version: 1.0\r\nContent-Type: multipart/signed; protocol="application/pkcs7-signature";'
                b' micalg=sha-256; boundary="----B"\r\n\r\n------B\r\n' + body + b"\r\n------B\r\n"
                b"Content-Type: application/pkcs7-signature; name=smime.p7s\r\n"
                b"Content-Transfer-Encoding: base64\r\n\r\n" + b64 + b"\r\n------B--\r\n")
        out[f"smime_opaque_{name}"] = (
            b"MIME-Version: 1.0\nContent-Type: application/pkcs7-mime; smime-type=signed-data; name=smime.p7m\n"
            b"Content-Transfer-Encoding: base64\n\n" + b64)
    return out


def pdf_seeds(leaf: P.Issued) -> dict[str, bytes]:
    """PDFs signed by pyHanko with the fuzz PKI's P-256 leaf: plain, over object streams,
    certified, and updated after signing (a form fill, new page content), so the fuzzer
    starts inside revision reading, /ByteRange checks and change classification. The one
    exception to this file's determinism: pyHanko writes the signing time (/M, CMS
    signingTime) from the clock."""
    import pdfsign

    form = pdfsign.base_pdf(text_field=True)
    signed = pdfsign.sign(form, leaf)
    return {
        "unsigned": form,
        "pades": signed,
        "adbe_object_streams": pdfsign.sign(pdfsign.with_object_streams(form), leaf, subfilter="adbe"),
        "certified_p1": pdfsign.sign(form, leaf, certify=1),
        "form_fill": pdfsign.fill_text_field(signed, "x"),
        "page_content": pdfsign.add_page_content(signed),
        "annotation": pdfsign.add_annotation(signed),
    }


# ------------------------------------------------------------------------------------------


def main() -> None:
    root_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "corpus"
    c = Corpus()
    root, leaf = standard_p256()
    rich = rich_certificates(root)

    certs = repository_certificates()
    certs.update({name: issued.der for name, issued in rich.items()})
    for name, der in certs.items():
        c.add("certificate", name, der)
    for name, data in certificate_signatures(certs).items():
        c.add("signature", name, data)
    for name, data in rsa_signatures((CMS_DIR / "content.txt").read_bytes()).items():
        c.add("signature", name, data)

    for name, data in pdf_seeds(leaf).items():
        c.add("pdf", name, data)

    crl_seeds = crls(root, leaf)
    for name, der in crl_seeds.items():
        c.add("crl", name, der)

    rsa_leaf_serial = x509.load_der_x509_certificate((CMS_DIR / "rsa_leaf.der").read_bytes()).serial_number
    for name, der in ocsp_responses(root, leaf, rich["ocsp_responder"], rsa_leaf_serial).items():
        c.add("ocsp_response", name, der)

    content = (CMS_DIR / "content.txt").read_bytes()
    signatures = {f.name: f.read_bytes() for f in sorted(CMS_DIR.glob("*.p7[sm]"))}
    p256 = signatures["p256_detached.p7s"]
    signatures["p256_with_revoking_crl.p7s"] = with_crls(p256, [crl_seeds["leaf_revoked"]])
    signatures["p256_with_crl_and_delta.p7s"] = with_crls(
        p256, [crl_seeds["leaf_revoked"], crl_seeds["delta_removes_leaf"]])
    signatures["p256_with_empty_crl.p7s"] = with_crls(p256, [crl_seeds["empty"]])
    signatures["pointers_leaf.p7s"] = P.sign_cms(content, rich["leaf_with_pointers"], engine="native")
    signatures["constrained_leaf.p7s"] = P.sign_cms(
        content, rich["leaf_under_constraints"], engine="native", extra_certs=[rich["constrained_ca"]])
    for name, der in signatures.items():
        c.add("cms_signed_data", name, der)
        c.add("ber_normalise", f"der_{name}", der)
        if name == "truncated.p7s":
            continue
        for style in ("indefinite", "outer", "long_lengths"):
            ber = to_ber(der, style)
            c.add("cms_ber", f"{style}_{name}", ber)
            c.add("ber_normalise", f"{style}_{name}", ber)

    for name, data in smime_inputs(signatures, content).items():
        c.add("smime_input", name, data)

    for name, text in manifests().items():
        c.add("bagit_manifest", name, text)
    for name, text in tag_files().items():
        c.add("bagit_tag_file", name, text)
    for name, data in inclusion_proofs().items():
        c.add("inclusion_proof", name, data)

    c.write_all(root_dir)


if __name__ == "__main__":
    main()
