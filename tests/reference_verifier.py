"""An independent, straightforward CMS verifier built on asn1crypto (parsing) and
`cryptography` (signatures, and its x509.verification module for the chain). It is the
differential oracle of the test suite, written from RFC 5652 §5.4/§5.6 without looking at
govsig's implementation."""
from __future__ import annotations

import datetime as dt
import hashlib

import asn1crypto.cms as a_cms
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.x509.verification import ExtensionPolicy, PolicyBuilder, Store, VerificationError

_HASHES = {"sha256": hashes.SHA256, "sha384": hashes.SHA384, "sha512": hashes.SHA512, "sha224": hashes.SHA224}


def reference_verify(sig: bytes, content: bytes | None, roots: list[x509.Certificate], at: dt.datetime) -> bool:
    """True when every SignerInfo verifies and chains to one of ``roots`` at ``at``."""
    try:
        ci = a_cms.ContentInfo.load(sig, strict=True)
        sd = ci["content"]
        econtent = sd["encap_content_info"]["content"].native
        data = econtent if econtent is not None else content
        if data is None:
            return False
        certs = [x509.load_der_x509_certificate(c.chosen.dump()) for c in sd["certificates"] or []]
        if not len(sd["signer_infos"]):
            return False
        for si in sd["signer_infos"]:
            digest_name = si["digest_algorithm"]["algorithm"].native
            h = _HASHES[digest_name]
            sid = si["sid"]
            if sid.name == "issuer_and_serial_number":
                serial = sid.chosen["serial_number"].native
                signer = next(c for c in certs if c.serial_number == serial)
            else:
                ski = sid.chosen.native
                signer = next(
                    c for c in certs
                    if c.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest == ski
                )
            signed_attrs = si["signed_attrs"]
            if len(signed_attrs):
                attrs = {a["type"].native: a["values"] for a in signed_attrs}
                if attrs["content_type"][0].native != sd["encap_content_info"]["content_type"].native:
                    return False
                if attrs["message_digest"][0].native != hashlib.new(digest_name, data).digest():
                    return False
                message = signed_attrs.untag().dump(force=True)
            else:
                message = data
            key = signer.public_key()
            sig_alg = si["signature_algorithm"]["algorithm"].native
            sig_value = si["signature"].native
            if isinstance(key, rsa.RSAPublicKey):
                if sig_alg == "rsassa_pss":
                    params = si["signature_algorithm"]["parameters"]
                    ph = _HASHES[params["hash_algorithm"]["algorithm"].native]
                    pad = padding.PSS(mgf=padding.MGF1(ph()), salt_length=params["salt_length"].native)
                    key.verify(sig_value, message, pad, ph())
                else:
                    key.verify(sig_value, message, padding.PKCS1v15(), h())
            elif isinstance(key, ec.EllipticCurvePublicKey):
                key.verify(sig_value, message, ec.ECDSA(h()))
            elif isinstance(key, ed25519.Ed25519PublicKey):
                key.verify(sig_value, message)
            else:
                return False
            # CMS signers carry no subjectAltName and no clientAuth EKU: keep the web PKI's
            # CA rules, and check the end entity's keyUsage here (RFC 5280 §4.2.1.3).
            try:
                ku = signer.extensions.get_extension_for_class(x509.KeyUsage).value
                if not (ku.digital_signature or ku.content_commitment):
                    return False
            except x509.ExtensionNotFound:
                pass
            verifier = (
                PolicyBuilder()
                .store(Store(roots))
                .time(at)
                .extension_policies(ca_policy=ExtensionPolicy.webpki_defaults_ca(), ee_policy=ExtensionPolicy.permit_all())
                .build_client_verifier()
            )
            others = [c for c in certs if c != signer]
            verifier.verify(signer, others)
        return True
    except (InvalidSignature, VerificationError, StopIteration, KeyError, ValueError, x509.ExtensionNotFound):
        return False
