#!/usr/bin/env python3
"""Regenerate the small CMS corpus in this folder (for Rust unit tests, which cannot call
tests/pki.py). Every file is byte-deterministic: native engine, fixed signingTime, RSA PKCS#1
v1.5, RFC 6979 ECDSA and Ed25519, seeded keys. tests/test_pki_fixtures.py re-runs this script
into a temporary folder and fails if the committed bytes differ.

    python3 tests/data/cms/generate.py [OUT_DIR]      (default: this folder)

manifest.json lists each signature, its content file (detached) and the outcome code a
verifier must give with trust = roots.pem, no extra intermediates, at = validation_time.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))  # tests/

import pki as P  # noqa: E402
from conftest import build_standard_pki  # noqa: E402

VALIDATION_TIME = dt.datetime(2026, 6, 1, tzinfo=dt.timezone.utc)


def generate(out: Path) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    s = build_standard_pki()
    stranger_root = P.make_root("Root CA không tin cậy", "p256")
    stranger = P.make_leaf("Người lạ", stranger_root, "p256")
    content = ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc\n\n"
               "QUYẾT ĐỊNH về việc công bố thủ tục hành chính mới ban hành.\n" * 8).encode()
    (out / "content.txt").write_bytes(content)
    (out / "content_tampered.txt").write_bytes(P.tamper_content(content))
    (out / "roots.pem").write_bytes(P.pem_bundle(s.roots))
    for name in ("rsa_root", "rsa_intermediate", "p256_root", "rsa_leaf", "p256_leaf"):
        (out / f"{name}.der").write_bytes(getattr(s, name).der)

    def sign(leaf: P.Issued, **kw) -> bytes:
        return P.sign_cms(content, leaf, engine="native", **kw)

    entries: dict[str, tuple[bytes, str | None, str]] = {}
    for kt, leaf in s.leaves.items():
        entries[f"{kt}_detached.p7s"] = (sign(leaf), "content.txt", "ok")
    entries["rsa2048_attached.p7m"] = (sign(s.rsa_leaf, detached=False), None, "ok")
    entries["p256_attached_noattr.p7m"] = (sign(s.p256_leaf, detached=False, attrs=False),
                                           None, "ok")
    entries["p256_ski_sid.p7s"] = (sign(s.p256_leaf, ski_sid=True), "content.txt", "ok")
    entries["three_signers.p7s"] = (
        sign(s.rsa_leaf, extra_signers=(s.p256_leaf, s.ed25519_leaf)), "content.txt", "ok")
    entries["rsa2048_sha512.p7s"] = (sign(s.rsa_leaf, digest="sha512"), "content.txt", "ok")
    entries["digest_mismatch.p7s"] = (sign(s.rsa_leaf), "content_tampered.txt",
                                      "digest_mismatch")
    entries["signature_invalid.p7s"] = (P.tamper_signature(sign(s.p256_leaf)), "content.txt",
                                        "signature_invalid")
    entries["signed_attrs_tampered.p7s"] = (P.tamper_signed_attrs(sign(s.rsa_leaf)),
                                            "content.txt", "signature_invalid")
    entries["content_type_mismatch.p7s"] = (sign(s.rsa_leaf, attr_content_type="signed_data"),
                                            "content.txt", "content_type_mismatch")
    entries["content_missing.p7s"] = (sign(s.rsa_leaf), None, "content_missing")
    entries["signer_not_found.p7s"] = (
        sign(s.rsa_leaf, include_signer_cert=False, include_chain=True), "content.txt",
        "signer_not_found")
    entries["chain_untrusted.p7s"] = (sign(stranger), "content.txt", "chain_untrusted")
    entries["cert_expired.p7s"] = (sign(s.expired_leaf), "content.txt", "cert_expired")
    entries["cert_not_yet_valid.p7s"] = (sign(s.not_yet_valid_leaf), "content.txt",
                                         "cert_not_yet_valid")
    entries["key_usage_invalid.p7s"] = (sign(s.keycertsign_leaf), "content.txt",
                                        "key_usage_invalid")
    entries["no_ski_leaf.p7s"] = (sign(s.no_ski_leaf), "content.txt", "ok")
    entries["truncated.p7s"] = (sign(s.rsa_leaf)[:-40], "content.txt", "malformed")

    manifest = {
        "trust": "roots.pem",
        "validation_time": VALIDATION_TIME.isoformat(),
        "signing_time": P.SIGNING_TIME.isoformat(),
        "signatures": {},
    }
    for name, (der, content_file, code) in sorted(entries.items()):
        (out / name).write_bytes(der)
        manifest["signatures"][name] = {"content": content_file, "code": code}
    (out / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return manifest


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE
    m = generate(target)
    print(f"{len(m['signatures'])} signatures written to {target}")
