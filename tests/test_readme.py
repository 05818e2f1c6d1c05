"""The README's Python examples run as written, each with its names bound to real material
(a test PKI, a CRL, a SoftHSM2 token, a folder of documents)."""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding

import pki as P
from softhsm import USER_PIN

README = Path(__file__).resolve().parent.parent / "README.md"


def _blocks() -> list[str]:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    assert len(blocks) == 9, "the README's examples changed: bind their names here"
    return blocks


def _run(code: str, ns: dict) -> dict:
    exec(compile(code, str(README), "exec"), ns)
    return ns


def test_readme_verify_example(pki, tmp_path):
    root_pem = tmp_path / "root.pem"
    root_pem.write_bytes(pki.rsa_root.pem)
    content = "Giấy chứng nhận".encode()
    ns = _run(_blocks()[0], {"root_pem": str(root_pem), "content": content,
                             "signature": P.sign_cms(content, pki.rsa_leaf)})
    assert ns["result"].code == "ok"
    assert ns["batch"].counts() == {"ok": 1000}


def test_readme_revocation_example(pki, tmp_path):
    root_pem = tmp_path / "root.pem"
    root_pem.write_bytes(pki.p256_root.pem)
    now = dt.datetime.now(dt.timezone.utc)
    crl = (x509.CertificateRevocationListBuilder().issuer_name(pki.p256_root.cert.subject)
           .last_update(now - dt.timedelta(hours=1)).next_update(now + dt.timedelta(days=1))
           .add_extension(x509.CRLNumber(1), critical=False)  # RFC 5280 §5.2.3
           .sign(pki.p256_root.key, hashes.SHA256()).public_bytes(Encoding.DER))
    ns = _run(_blocks()[1], {"root_pem": str(root_pem), "cache_dir": str(tmp_path / "cache"),
                             "crl_der": crl, "cert_der": pki.p256_leaf.der})
    assert ns["path"].code == "ok"
    assert ns["path"].revocation[0]["status"] == "good"
    ns["fetcher"].close()


def test_readme_signing_example(pki, hsm):
    content = "Quyết định".encode()
    code = _blocks()[2].replace('"/usr/lib/softhsm/libsofthsm2.so"', repr(hsm.module))
    ns = _run(code, {"private_key": pki.p256_leaf.key, "certificate": pki.p256_leaf.cert,
                     "intermediate": pki.p256_root.cert, "content": content,
                     "contents": [content] * 8, "pin": USER_PIN})
    import govsig

    v = govsig.Verifier(govsig.Policy(trust=[pki.p256_root.cert]))
    assert v.verify(ns["signature"], content).code == "ok"
    assert [v.verify(s, content).code for s in ns["signatures"]] == ["ok"] * 8


def test_readme_timestamps_example(pki, openssl, tmp_path):
    import govsig
    from tsa_server import Tsa, make_tsa_certificate

    tsa_cert = make_tsa_certificate("TSA README", pki.rsa_root)
    tsa_root_pem = tmp_path / "tsa-root.pem"
    tsa_root_pem.write_bytes(pki.rsa_root.pem)
    content = "Biên bản".encode()
    signer = govsig.KeySigner(pki.rsa_leaf.key, pki.rsa_leaf.cert, [c.cert for c in pki.rsa_leaf.intermediates])
    old = P.sign_cms(content, pki.rsa_leaf)
    with Tsa(tmp_path / "tsa", openssl, signer=tsa_cert) as tsa:
        ns = _run(_blocks()[4], {"tsa_url": tsa.url, "tsa_root_pem": str(tsa_root_pem),
                                 "content": content, "signer": signer, "old_signature": old})
    assert ns["ts"].code == "ok" and ns["ts"].tsa_subject.startswith("CN=TSA README")
    v = govsig.Verifier(govsig.Policy(trust=[pki.rsa_leaf.root.cert]))
    assert v.verify(ns["signature"], content).code == "ok"
    assert v.verify(ns["stamped"], content).code == "ok" and len(ns["stamped"]) > len(old)


def test_readme_dossier_example(pki, tmp_path):
    import govsig

    folder = tmp_path / "ho-so"
    folder.mkdir()
    (folder / "to-khai.pdf").write_bytes(b"%PDF-1.7 to khai")
    (folder / "cccd.jpg").write_bytes(b"\xff\xd8 anh")
    signer = govsig.KeySigner(pki.p256_leaf.key, pki.p256_leaf.cert)
    ns = _run(_blocks()[3], {"folder": folder, "bag_dir": tmp_path / "bag", "signer": signer,
                             "file_bytes": b"%PDF-1.7 to khai"})
    assert (tmp_path / "bag" / "tagmanifest-sha256.txt.p7s").is_file()


def test_readme_long_term_archives_example(openssl, tmp_path):
    import govsig
    import archive_decade as ad
    from tsa_server import Tsa

    p = ad.make_pki(ad.now())
    with Tsa(tmp_path / "tsa", openssl, signer=p.tsa) as tsa:
        archive = ad.build(tsa, p)
    ns = _run(_blocks()[5], {"trust_store": govsig.TrustStore([p.root.der]),
                             "tsa_store": govsig.TrustStore([p.tsa_root.der]),
                             "archived_signature": archive[0][0], "archived_content": archive[0][1],
                             "archive": archive})
    assert (ns["signer"].code, ns["signer"].signature_time_source) == ("ok", "timestamp")
    assert ns["batch"].counts() == {"ok": len(archive)}


def test_readme_names_the_two_commands():
    text = README.read_text(encoding="utf-8")
    head = "\n".join(text.splitlines()[:20])
    assert "make demo" in head and "make test" in head


def test_readme_pdf_example(pki, tmp_path):
    import pdfsign

    root_pem = tmp_path / "root.pem"
    root_pem.write_bytes(pki.rsa_root.pem)
    folder = tmp_path / "pdfs"
    folder.mkdir()
    signed = pdfsign.sign(pdfsign.base_pdf(), pki.rsa_leaf)
    for i in range(3):
        (folder / f"{i}.pdf").write_bytes(signed)
    ns = _run(_blocks()[6], {"root_pem": str(root_pem), "pdf_path": str(folder / "0.pdf"), "folder": folder})
    assert ns["r"].code == "ok"
    assert ns["batch"].counts() == {"ok": 3}


def test_readme_sign_pdf_example(pki, openssl, tmp_path, monkeypatch):
    import govsig
    import pdfsign
    from tsa_server import Tsa, make_tsa_certificate

    monkeypatch.chdir(tmp_path)
    base = pdfsign.base_pdf()
    with Tsa(tmp_path / "tsa", openssl, signer=make_tsa_certificate("TSA README PDF", pki.rsa_root)) as tsa:
        ns = _run(_blocks()[7], {"private_key": pki.rsa_leaf.key, "certificate": pki.rsa_leaf.cert,
                                 "intermediate": pki.rsa_intermediate.cert, "pdf_bytes": base,
                                 "tsa_url": tsa.url})
    v = govsig.Verifier(govsig.Policy(trust=[pki.rsa_root.der]))
    assert v.verify_pdf(tmp_path / "signed.pdf").code == "ok"
    r = v.verify_pdf(ns["certified"])
    assert r.ok and r.signatures[0].docmdp == 2


def test_readme_cluster_example(pki, tmp_path):
    import pyarrow.parquet as pq
    from distributed import LocalCluster

    import govsig

    root_pem = tmp_path / "root.pem"
    root_pem.write_bytes(pki.rsa_root.pem)
    archive = tmp_path / "kho"
    archive.mkdir()
    content = "Hồ sơ lưu trữ".encode()
    sig = P.sign_cms(content, pki.rsa_leaf, detached=False)
    paths = []
    for i in range(1000):
        (archive / f"{i:04d}.p7m").write_bytes(sig)
        paths.append(str(archive / f"{i:04d}.p7m"))
    paths.append(str(tmp_path / "gone.p7m"))  # a path that is not there: a line, not a crash
    # "A real cluster" is one more LocalCluster here, reached by its scheduler's address.
    with LocalCluster(n_workers=1, threads_per_worker=1, dashboard_address=":0") as other:
        ns = _run(_blocks()[8], {"root_pem": str(root_pem), "archive": archive, "paths": paths,
                                 "report_dir": tmp_path / "report.parquet",
                                 "scheduler_address": other.scheduler_address})
    assert ns["summary"].counts == {"ok": 1000}
    assert pq.read_table(tmp_path / "report.parquet").num_rows == 1000
    assert list(ns["failed"]["code"]) == ["file_vanished"]
    assert govsig.dask.verify_paths is ns["govsig"].dask.verify_paths
