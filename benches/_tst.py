"""RFC 3161 time-stamp tokens minted in-process for the benches, independent of govsig: the
TSTInfo (RFC 3161 §2.4.2) and its CMS SignedData (eContentType id-ct-TSTInfo, signed
attributes contentType, messageDigest and ESS signing-certificate-v2, RFC 5035) built with
asn1crypto and signed with pyca/cryptography. A process per token (``openssl ts -reply``)
bounds a corpus to about a thousand; this makes twenty thousand in seconds. The tests keep
using the real ``openssl ts`` TSA; the bench's peer (pyHanko) validates these tokens too,
which checks that they are what a TSA issues."""
from __future__ import annotations

import datetime as dt
import hashlib

from asn1crypto import algos as a_algos
from asn1crypto import cms as a_cms
from asn1crypto import core as a_core
from asn1crypto import tsp as a_tsp
from asn1crypto import x509 as a_x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

import pki

__all__ = ["TokenMint"]

POLICY_OID = "1.3.6.1.4.1.99999.3161.1"


class TokenMint:
    """Signs TSTInfos as the TSA ``tsa`` (a pki.Issued with a timeStamping certificate)."""

    def __init__(self, tsa: pki.Issued) -> None:
        self.tsa = tsa
        self._cert = a_x509.Certificate.load(tsa.der)
        self._sid = a_cms.SignerIdentifier({"issuer_and_serial_number": a_cms.IssuerAndSerialNumber({
            "issuer": self._cert.issuer, "serial_number": self._cert.serial_number})})
        ess = a_tsp.SigningCertificateV2({"certs": [a_tsp.ESSCertIDv2({
            "hash_algorithm": a_algos.DigestAlgorithm({"algorithm": "sha256"}),
            "cert_hash": hashlib.sha256(tsa.der).digest(),
            "issuer_serial": a_tsp.IssuerSerial({
                "issuer": [a_x509.GeneralName({"directory_name": self._cert.issuer})],
                "serial_number": self._cert.serial_number})})]})
        self._ess_attr = a_cms.CMSAttribute({"type": "signing_certificate_v2", "values": [ess]})

    def token(self, stamped: bytes, serial: int, gen_time: dt.datetime) -> bytes:
        """A DER TimeStampToken whose messageImprint is SHA-256 of ``stamped``."""
        info = a_tsp.TSTInfo({
            "version": "v1",
            "policy": POLICY_OID,
            "message_imprint": a_tsp.MessageImprint({
                "hash_algorithm": a_algos.DigestAlgorithm({"algorithm": "sha256"}),
                "hashed_message": hashlib.sha256(stamped).digest()}),
            "serial_number": serial,
            "gen_time": a_core.GeneralizedTime(gen_time),
            "accuracy": a_tsp.Accuracy({"seconds": 1}),
        })
        info_der = info.dump()
        attrs = a_cms.CMSAttributes([
            a_cms.CMSAttribute({"type": "content_type", "values": ["tst_info"]}),
            a_cms.CMSAttribute({"type": "message_digest", "values": [hashlib.sha256(info_der).digest()]}),
            self._ess_attr,
        ])
        signature = self.tsa.key.sign(attrs.dump(), padding.PKCS1v15(), hashes.SHA256())
        signed = a_cms.SignedData({
            "version": "v3",
            "digest_algorithms": [a_algos.DigestAlgorithm({"algorithm": "sha256"})],
            "encap_content_info": a_cms.EncapsulatedContentInfo({
                "content_type": "tst_info", "content": a_core.ParsableOctetString(info_der)}),
            "certificates": [a_cms.CertificateChoices({"certificate": self._cert})],
            "signer_infos": [a_cms.SignerInfo({
                "version": "v1",
                "sid": self._sid,
                "digest_algorithm": a_algos.DigestAlgorithm({"algorithm": "sha256"}),
                "signed_attrs": attrs,
                "signature_algorithm": a_algos.SignedDigestAlgorithm({"algorithm": "rsassa_pkcs1v15"}),
                "signature": signature,
            })],
        })
        return a_cms.ContentInfo({"content_type": "signed_data", "content": signed}).dump()
