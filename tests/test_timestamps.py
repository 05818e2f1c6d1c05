"""RFC 3161 time-stamps against a real TSA: ``openssl ts -reply`` behind a loopback HTTP front
(tests/tsa_server.py), with TSA certificates from the test PKI.

Interoperability both ways: tokens OpenSSL issues verify in govsig (and their fields read as
an independent parser, asn1crypto, reads them); tokens govsig's client obtains verify with
``openssl ts -verify``; signatures govsig stamps still pass ``openssl cms -verify``.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from asn1crypto import cms as a_cms
from asn1crypto import tsp as a_tsp

import govsig
import pki
from tsa_server import DEFAULT_POLICY, OTHER_POLICY, Tsa, make_tsa_certificate, openssl_ts_verify

ROOT = Path(__file__).resolve().parent.parent
TST_INFO_OID = "1.2.840.113549.1.9.16.1.4"
SIGNATURE_TIME_STAMP_OID = "1.2.840.113549.1.9.16.2.14"
DATA = "Quyết định số 15/QĐ-UBND: phê duyệt hồ sơ".encode()


class Pki:
    def __init__(self) -> None:
        self.root = pki.make_root("TSP Root CA")
        self.ca = pki.make_intermediate("TSP Issuing CA", self.root)
        self.tsa = make_tsa_certificate("TSA Một", self.ca)
        # RFC 3161 §2.3 violations: the purpose not critical; a second purpose beside it.
        self.tsa_noncritical = make_tsa_certificate("TSA EKU không critical", self.ca, critical=False)
        self.tsa_two_purposes = make_tsa_certificate("TSA hai mục đích", self.ca,
                                                     eku=("time_stamping", "email_protection"))
        self.other_root = pki.make_root("Other Root CA")
        self.other_tsa = make_tsa_certificate("TSA lạ", self.other_root)
        self.signer = pki.make_leaf("Nguyễn Văn Ký", self.ca)
        self.signer2 = pki.make_leaf("Trần Thị Duyệt", self.ca, "p256")


@pytest.fixture(scope="module")
def p() -> Pki:
    return Pki()


@pytest.fixture(scope="module")
def tsa(p: Pki, openssl: str, tmp_path_factory: pytest.TempPathFactory):
    with Tsa(tmp_path_factory.mktemp("tsa"), openssl, signer=p.tsa) as t:
        yield t


@pytest.fixture(scope="module")
def verifier(p: Pki) -> govsig.Verifier:
    return govsig.Verifier(govsig.Policy(trust=govsig.TrustStore([p.root.der])))


@pytest.fixture
def client(tsa: Tsa, p: Pki) -> govsig.TsaClient:
    return govsig.TsaClient(tsa.url, trust=govsig.TrustStore([p.root.der]))


def _tst_info(token: bytes) -> a_tsp.TSTInfo:
    return a_cms.ContentInfo.load(token)["content"]["encap_content_info"]["content"].parsed


def _forge(tst_der: bytes, signer: pki.Issued) -> bytes:
    """A token over ``tst_der`` signed by ``signer`` (govsig's CMS signer writes ESS
    signing-certificate-v2), for TSA certificates OpenSSL refuses to sign with."""
    key = govsig.KeySigner(signer.key, signer.cert, [c.cert for c in signer.intermediates])
    return govsig.sign(tst_der, key, detached=False, content_type=TST_INFO_OID)


def _sig_tokens(cms_der: bytes) -> list[list[bytes]]:
    """The signature time-stamp tokens of each SignerInfo."""
    out = []
    for si in a_cms.ContentInfo.load(cms_der)["content"]["signer_infos"]:
        tokens = []
        for attr in si["unsigned_attrs"] if si["unsigned_attrs"].native else []:
            if attr["type"].dotted == SIGNATURE_TIME_STAMP_OID:
                tokens += [v.dump() for v in attr["values"]]
        out.append(tokens)
    return out


def _signature_values(cms_der: bytes) -> list[bytes]:
    return [si["signature"].native for si in a_cms.ContentInfo.load(cms_der)["content"]["signer_infos"]]


# --- tokens made by openssl ts, verified by govsig ------------------------------------------


@pytest.mark.parametrize("ess_alg", ["sha256", "sha1"], ids=["ess-v2", "ess-v1"])
def test_openssl_token_verifies_with_its_fields(p: Pki, openssl: str, tmp_path: Path,
                                                verifier: govsig.Verifier, ess_alg: str) -> None:
    with Tsa(tmp_path, openssl, signer=p.tsa, ess_alg=ess_alg) as t:
        token = t.stamp(DATA)
    r = verifier.verify_timestamp(token, DATA)
    assert (r.ok, r.code, r.reason, r.cause) == (True, "ok", "", None)
    info = _tst_info(token)
    # The fields as asn1crypto reads them from the same bytes.
    assert r.gen_time == info["gen_time"].native
    assert r.gen_time is not None and r.gen_time.tzinfo is not None
    # clock_precision_digits = 3: genTime carries milliseconds, written without trailing zeros.
    raw = info["gen_time"].contents.decode()  # e.g. 20261205221424.822Z
    assert r.gen_time_text == f"{raw[0:4]}-{raw[4:6]}-{raw[6:8]}T{raw[8:10]}:{raw[10:12]}:{raw[12:]}"
    assert r.serial == info["serial_number"].native
    assert r.policy_oid == DEFAULT_POLICY == info["policy"].dotted
    assert r.hash_algorithm == "sha256"
    assert r.imprint == hashlib.sha256(DATA).digest()
    assert r.accuracy == _dt.timedelta(seconds=1, milliseconds=500, microseconds=100)
    assert r.ordering is True
    assert r.nonce == info["nonce"].native
    assert r.tsa_subject == _subject(p.tsa)
    assert r.tsa_name == r.tsa_subject
    assert r.tsa_certificate == p.tsa.der
    assert r.chain == [p.tsa.der, p.ca.der, p.root.der]


def test_token_checked_against_a_precomputed_digest(tsa: Tsa, verifier: govsig.Verifier) -> None:
    token = tsa.stamp(DATA)
    r = verifier.verify_timestamp(token, digest=hashlib.sha256(DATA).digest(), hash="sha256")
    assert (r.code, r.reason) == ("ok", "")
    r = verifier.verify_timestamp(token, digest=hashlib.sha384(DATA).digest(), hash="sha384")
    assert r.code == "timestamp_imprint_mismatch"
    assert r.reason == ("the token's messageImprint is a sha256 hash but a sha384 digest was given to "
                        "check it against; give the stamped bytes or their sha256 digest")
    with pytest.raises(TypeError, match="hash="):
        verifier.verify_timestamp(token, digest=b"\0" * 32)
    with pytest.raises(TypeError, match="either data or digest"):
        verifier.verify_timestamp(token)


def test_sha384_imprint(tsa: Tsa, verifier: govsig.Verifier) -> None:
    token = tsa.stamp(DATA, digest="sha384")
    r = verifier.verify_timestamp(token, DATA)
    assert (r.code, r.hash_algorithm) == ("ok", "sha384")


# --- tokens that must not pass -------------------------------------------------------------


def test_token_of_other_data(tsa: Tsa, verifier: govsig.Verifier) -> None:
    token = tsa.stamp(b"another document")
    r = verifier.verify_timestamp(token, DATA)
    assert not r.ok
    assert r.code == "timestamp_imprint_mismatch"
    assert r.reason == ("the token stamps other data: its messageImprint (sha256 "
                        f"{hashlib.sha256(b'another document').hexdigest()}) is not the hash of the data given")
    # What the token says is still reported, for a person to look at.
    assert r.tsa_subject == r.tsa_name and r.gen_time is not None


def test_token_with_a_broken_signature(tsa: Tsa, verifier: govsig.Verifier, p: Pki) -> None:
    token = pki.tamper_signature(tsa.stamp(DATA))
    r = verifier.verify_timestamp(token, DATA)
    assert (r.code, r.cause) == ("timestamp_invalid", "signature_invalid")
    assert r.reason.startswith("the token's own signature is not intact: signature by "
                               f"'{_subject(p.tsa)}'")
    assert r.chain == []


def test_token_whose_tstinfo_was_altered(tsa: Tsa, verifier: govsig.Verifier) -> None:
    token = tsa.stamp(DATA)
    policy = _tst_info(token)["policy"].dump()
    altered = token.replace(policy, policy[:-1] + bytes([policy[-1] ^ 1]), 1)
    r = verifier.verify_timestamp(altered, DATA)
    # The TSTInfo is covered by messageDigest: changing it breaks the token.
    assert (r.code, r.cause) == ("timestamp_invalid", "digest_mismatch")


@pytest.mark.parametrize("which,why", [
    ("tsa_noncritical", "carries id-kp-timeStamping in a non-critical extendedKeyUsage; RFC 3161 §2.3 "
                        "requires it critical"),
    ("tsa_two_purposes", "is certified for other purposes too (extendedKeyUsage 1.3.6.1.5.5.7.3.8, "
                         "1.3.6.1.5.5.7.3.4); RFC 3161 §2.3 requires id-kp-timeStamping alone"),
    ("signer", "has no extendedKeyUsage; a TSA certificate must carry id-kp-timeStamping (RFC 3161 §2.3)"),
])
def test_tsa_certificate_without_the_sole_critical_timestamping_eku(
        tsa: Tsa, verifier: govsig.Verifier, p: Pki, which: str, why: str) -> None:
    genuine = tsa.stamp(DATA)
    tst = _tst_info(genuine).dump()
    # Control: the same TSTInfo signed the same way by the proper TSA certificate passes, so
    # the refusal below is about the certificate alone.
    assert verifier.verify_timestamp(_forge(tst, p.tsa), DATA).code == "ok"
    bad: pki.Issued = getattr(p, which)
    r = verifier.verify_timestamp(_forge(tst, bad), DATA)
    assert (r.code, r.cause) == ("timestamp_tsa_unauthorized", "key_usage_invalid")
    assert r.reason == f"the token was signed by '{_subject(bad)}' (serial {_serial_hex(bad)}), which {why}"


def _subject(c: pki.Issued) -> str:
    """The subject as govsig's reasons print it (RFC 4514, ", " between RDNs)."""
    return govsig._govsig.parse_certificate(c.der).subject


def _serial_hex(c: pki.Issued) -> str:
    n = c.cert.serial_number
    raw = n.to_bytes((n.bit_length() + 8) // 8, "big")
    return raw.hex()


def test_token_of_an_untrusted_tsa(p: Pki, openssl: str, tmp_path: Path, verifier: govsig.Verifier) -> None:
    with Tsa(tmp_path, openssl, signer=p.other_tsa) as t:
        token = t.stamp(DATA)
    r = verifier.verify_timestamp(token, DATA)
    assert (r.code, r.cause) == ("timestamp_untrusted", "chain_untrusted")
    assert r.reason.startswith("the TSA's certificate chain does not validate (chain_untrusted): ")
    assert r.tsa_subject == _subject(p.other_tsa)
    # Trusting that TSA's root makes the same token good.
    other = govsig.Verifier(govsig.Policy(trust=govsig.TrustStore([p.other_root.der])))
    assert other.verify_timestamp(token, DATA).code == "ok"


def test_no_trust_store_leaves_the_tsa_undecided(tsa: Tsa) -> None:
    r = govsig.Verifier().verify_timestamp(tsa.stamp(DATA), DATA)
    assert (r.code, r.cause) == ("timestamp_untrusted", "integrity_only")
    assert "there is no trust store" in r.reason


def test_token_dated_after_the_validation_time(tsa: Tsa, p: Pki) -> None:
    token = tsa.stamp(DATA)
    past = _dt.datetime(2026, 1, 1, tzinfo=_dt.timezone.utc)
    v = govsig.Verifier(govsig.Policy(trust=govsig.TrustStore([p.root.der]), at=past))
    r = v.verify_timestamp(token, DATA)
    assert r.code == "timestamp_invalid"
    assert r.reason.endswith("is after the validation time 2026-01-01T00:00:00Z: a time-stamp cannot "
                             "come from the future")


@pytest.mark.parametrize("blob,starts", [
    (b"", "not an RFC 3161 time-stamp token: not a CMS ContentInfo"),
    (b"\x30\x03\x02\x01\x01", "not an RFC 3161 time-stamp token: "),
    (os.urandom(0) + b"garbage bytes, not DER at all", "not an RFC 3161 time-stamp token: not a CMS ContentInfo"),
])
def test_garbage_is_a_result_not_an_exception(verifier: govsig.Verifier, blob: bytes, starts: str) -> None:
    r = verifier.verify_timestamp(blob, DATA)
    assert (r.ok, r.code) == (False, "timestamp_invalid")
    assert r.reason.startswith(starts)
    assert r.gen_time is None and r.chain == []


def test_an_ordinary_signature_is_not_a_token(p: Pki, verifier: govsig.Verifier) -> None:
    sig = pki.sign_cms(DATA, p.signer, detached=False)
    r = verifier.verify_timestamp(sig, DATA)
    assert r.code == "timestamp_invalid"
    assert r.reason == ("not an RFC 3161 time-stamp token: the SignedData carries 1.2.840.113549.1.7.1 "
                        "rather than id-ct-TSTInfo (1.2.840.113549.1.9.16.1.4)")


def test_timestamp_codes_are_listed() -> None:
    codes = govsig.codes()
    for c in ("timestamp_invalid", "timestamp_imprint_mismatch", "timestamp_untrusted",
              "timestamp_tsa_unauthorized", "timestamp_rejected", "timestamp_nonce_mismatch"):
        assert c in codes and govsig.code_descriptions()[c]


# --- the client: tokens obtained by govsig, verified by openssl ts -verify -------------------


def test_client_token_verifies_with_openssl(client: govsig.TsaClient, tsa: Tsa, p: Pki, openssl: str,
                                            tmp_path: Path, verifier: govsig.Verifier) -> None:
    token = client.timestamp(DATA)
    proc = openssl_ts_verify(openssl, token, data=DATA, ca=p.root, untrusted=[p.tsa, p.ca], workdir=tmp_path)
    assert proc.returncode == 0 and "Verification: OK" in proc.stdout, proc.stdout + proc.stderr
    r = verifier.verify_timestamp(token, DATA)
    assert r.code == "ok" and r.nonce is not None
    # The request carried that nonce (RFC 3161 §2.4.1) and asked for the TSA's certificate.
    req = a_tsp.TimeStampReq.load(tsa.requests[-1])
    assert req["nonce"].native == r.nonce and req["cert_req"].native is True


def test_client_policy_and_cache(tsa: Tsa, p: Pki, verifier: govsig.Verifier) -> None:
    cache: dict[bytes, bytes] = {}
    c = govsig.TsaClient(tsa.url, policy_oid=OTHER_POLICY, cache=cache, trust=govsig.TrustStore([p.root.der]))
    token = c.timestamp(DATA)
    assert verifier.verify_timestamp(token, DATA).policy_oid == OTHER_POLICY
    asked = len(tsa.requests)
    assert c.timestamp(DATA) == token and len(tsa.requests) == asked
    assert list(cache) == [b"sha256:" + hashlib.sha256(DATA).digest()]


def test_client_refuses_a_replayed_response(p: Pki, openssl: str, tmp_path: Path) -> None:
    with Tsa(tmp_path, openssl, signer=p.tsa, replay=True) as t:
        url = t.url
        c = govsig.TsaClient(url, trust=govsig.TrustStore([p.root.der]))
        first = c.timestamp(DATA)
        with pytest.raises(govsig.TimestampError) as e:
            c.timestamp(DATA)
    sent = a_tsp.TimeStampReq.load(t.requests[-1])["nonce"].native
    echoed = _tst_info(first)["nonce"].native
    assert sent != echoed
    assert e.value.code == "timestamp_nonce_mismatch"
    assert e.value.url == url
    assert e.value.reason == (f"the TSA's token carries nonce {_int_hex(echoed)} but the request sent "
                              f"{_int_hex(sent)}: a replayed or misrouted response")


def _int_hex(n: int) -> str:
    # govsig's nonces are 8 bytes with the top byte in 0x40..0x7f: minimal and positive, so
    # the INTEGER content octets are exactly 16 hex digits.
    return f"{n:016x}"


def test_client_reports_a_rejection(tsa: Tsa) -> None:
    # The test TSA accepts sha256 and sha384 imprints: openssl answers rejection/badAlg.
    c = govsig.TsaClient(tsa.url, hash="sha512")
    with pytest.raises(govsig.TimestampError) as e:
        c.timestamp(DATA)
    assert e.value.code == "timestamp_rejected"
    assert e.value.reason.startswith("the TSA answered rejection (2), failInfo badAlg")


def test_client_reports_an_unaccepted_policy(tsa: Tsa) -> None:
    c = govsig.TsaClient(tsa.url, policy_oid="1.3.6.1.4.1.99999.3161.9")
    with pytest.raises(govsig.TimestampError) as e:
        c.timestamp(DATA)
    assert e.value.code == "timestamp_rejected"
    assert "unacceptedPolicy" in e.value.reason


def test_client_refuses_an_untrusted_tsa(p: Pki, openssl: str, tmp_path: Path) -> None:
    with Tsa(tmp_path, openssl, signer=p.other_tsa) as t:
        c = govsig.TsaClient(t.url, trust=govsig.TrustStore([p.root.der]))
        with pytest.raises(govsig.TimestampError) as e:
            c.timestamp(DATA)
    assert e.value.code == "timestamp_untrusted"
    assert e.value.reason.startswith("the TSA's certificate chain does not validate (chain_untrusted)")


def test_client_reports_an_unreachable_tsa() -> None:
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    c = govsig.TsaClient(f"http://127.0.0.1:{port}/tsa", timeout=5)
    with pytest.raises(govsig.TimestampError) as e:
        c.timestamp(DATA)
    assert e.value.code == "fetch_failed"
    assert e.value.reason.startswith("cannot reach the TSA")


def test_client_argument_errors() -> None:
    with pytest.raises(ValueError, match="http:// or https://"):
        govsig.TsaClient("ftp://tsa.example/")
    with pytest.raises(ValueError, match="hash must be one of"):
        govsig.TsaClient("http://127.0.0.1/", hash="md5")
    with pytest.raises(TypeError, match="trust must be"):
        govsig.TsaClient("http://127.0.0.1/", trust=b"x")  # type: ignore[arg-type]


# --- signature time-stamps on CMS -----------------------------------------------------------


def _key(s: pki.Issued) -> govsig.KeySigner:
    return govsig.KeySigner(s.key, s.cert, [c.cert for c in s.intermediates])


def test_sign_with_tsa_adds_a_signature_timestamp(client: govsig.TsaClient, p: Pki, openssl: str,
                                                  tmp_path: Path, verifier: govsig.Verifier) -> None:
    sig = govsig.sign(DATA, _key(p.signer), tsa=client)
    assert pki.openssl_verify(sig, p.root, content=DATA).returncode == 0
    assert verifier.verify(sig, DATA).code == "ok"
    (token,), = _sig_tokens(sig)
    (value,) = _signature_values(sig)
    # RFC 3161 Appendix A: the imprint is over the signature value.
    assert verifier.verify_timestamp(token, value).code == "ok"
    proc = openssl_ts_verify(openssl, token, data=value, ca=p.root, untrusted=[p.tsa, p.ca], workdir=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_sign_many_with_tsa(client: govsig.TsaClient, p: Pki, verifier: govsig.Verifier) -> None:
    docs = [DATA + bytes([i]) for i in range(3)]
    sigs = govsig.sign_many(docs, _key(p.signer), tsa=client)
    for doc, sig in zip(docs, sigs):
        assert verifier.verify(sig, doc).code == "ok"
        (token,), = _sig_tokens(sig)
        assert verifier.verify_timestamp(token, _signature_values(sig)[0]).code == "ok"


def test_add_timestamps_to_every_signer_without_touching_signed_bytes(
        client: govsig.TsaClient, p: Pki, verifier: govsig.Verifier) -> None:
    # Made by OpenSSL, two signers, attached content.
    sig = pki.sign_cms(DATA, p.signer, detached=False, extra_signers=[p.signer2], engine="openssl")
    stamped = govsig.add_timestamps(sig, client)
    before = a_cms.ContentInfo.load(sig)["content"]
    after = a_cms.ContentInfo.load(stamped)["content"]
    assert after["encap_content_info"].dump() == before["encap_content_info"].dump()
    assert after["certificates"].dump() == before["certificates"].dump()
    for b, a in zip(before["signer_infos"], after["signer_infos"]):
        assert a["signed_attrs"].dump() == b["signed_attrs"].dump()
        assert a["signature"].native == b["signature"].native
        assert a["sid"].dump() == b["sid"].dump()
    assert pki.openssl_verify(stamped, p.root).returncode == 0
    assert verifier.verify(stamped).code == "ok"
    tokens = _sig_tokens(stamped)
    assert [len(t) for t in tokens] == [1, 1]
    for (token,), value in zip(tokens, _signature_values(stamped)):
        assert verifier.verify_timestamp(token, value).code == "ok"
    # Stamping again keeps the first tokens: two per signer, each judged on its own.
    twice = govsig.add_timestamps(stamped, client)
    assert [len(t) for t in _sig_tokens(twice)] == [2, 2]
    assert all(t[0] in _sig_tokens(twice)[i] for i, t in enumerate(tokens))
    assert pki.openssl_verify(twice, p.root).returncode == 0


def test_add_timestamps_refuses_what_is_not_a_signature(client: govsig.TsaClient) -> None:
    with pytest.raises(ValueError, match="not a CMS signature govsig can time-stamp"):
        govsig.add_timestamps(b"not a signature", client)


def test_sign_with_a_failing_tsa_raises(tsa: Tsa, p: Pki) -> None:
    with pytest.raises(govsig.TimestampError) as e:
        govsig.sign(DATA, _key(p.signer), tsa=govsig.TsaClient(tsa.url, hash="sha512"))
    assert e.value.code == "timestamp_rejected"
    with pytest.raises(TypeError, match="tsa must be a govsig.TsaClient"):
        govsig.sign(DATA, _key(p.signer), tsa=tsa.url)


# --- the command line -----------------------------------------------------------------------


def _govsig(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "python"), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([sys.executable, "-m", "govsig", *args], capture_output=True, text=True,
                          env=env, timeout=120, check=False)


def test_cli_timestamps_a_directory_in_place(tsa: Tsa, p: Pki, tmp_path: Path, verifier: govsig.Verifier) -> None:
    (tmp_path / "sub").mkdir()
    files = {tmp_path / "a.txt": b"van ban A", tmp_path / "sub" / "b.txt": b"van ban B"}
    for f, content in files.items():
        f.write_bytes(content)
        Path(str(f) + ".p7s").write_bytes(govsig.sign(content, _key(p.signer)))
        os.chmod(str(f) + ".p7s", 0o640)
    proc = _govsig("timestamp", str(tmp_path), "--tsa", tsa.url, "--trust", str(_pem(tmp_path, p.root)))
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.strip() == "time-stamped 2 files"
    for f, content in files.items():
        sig_path = Path(str(f) + ".p7s")
        sig = sig_path.read_bytes()
        assert verifier.verify(sig, content).code == "ok"
        (token,), = _sig_tokens(sig)
        assert verifier.verify_timestamp(token, _signature_values(sig)[0]).code == "ok"
        assert sig_path.stat().st_mode & 0o777 == 0o640
    # No temporary files left behind.
    assert sorted(x.name for x in tmp_path.rglob("*") if x.name.startswith(".")) == []


def _pem(d: Path, c: pki.Issued) -> Path:
    path = d.parent / f"{d.name}-anchor.pem"
    path.write_bytes(c.pem)
    return path


def test_cli_reports_each_failure_and_leaves_the_file_alone(tsa: Tsa, p: Pki, tmp_path: Path) -> None:
    good = tmp_path / "good.p7s"
    good.write_bytes(govsig.sign(b"x", _key(p.signer)))
    bad = tmp_path / "broken.p7s"
    bad.write_bytes(b"not a signature")
    proc = _govsig("timestamp", str(good), str(bad), "--tsa", tsa.url, "--json")
    assert proc.returncode == 1
    import json
    records = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [r["ok"] for r in records] == [True, False]
    assert records[1]["code"] == "malformed"
    assert records[1]["reason"].startswith("not a CMS signature govsig can time-stamp")
    assert bad.read_bytes() == b"not a signature"
    rejected = _govsig("timestamp", str(good), "--tsa", tsa.url, "--hash", "sha512")
    assert rejected.returncode == 1
    assert f"{good}: timestamp_rejected: the TSA answered rejection (2), failInfo badAlg" in rejected.stderr


def test_token_without_ess_signing_certificate(tsa: Tsa, verifier: govsig.Verifier, p: Pki, openssl: str,
                                               tmp_path: Path) -> None:
    # RFC 3161 §2.4.1 / RFC 5816: without the ESS attribute nothing binds the TSA
    # certificate to the signature (another certificate with the same key would do).
    tst = _tst_info(tsa.stamp(DATA)).dump()
    (tmp_path / "tst.der").write_bytes(tst)
    (tmp_path / "tsa.pem").write_bytes(p.tsa.pem)
    (tmp_path / "tsa.key").write_bytes(p.tsa.key_pem)
    (tmp_path / "ca.pem").write_bytes(p.ca.pem)
    # openssl cms -sign writes contentType, messageDigest and signingTime but no ESS
    # attribute unless asked (-cades).
    def openssl_token(*extra: str) -> bytes:
        subprocess.run([openssl, "cms", "-sign", "-binary", "-nodetach", "-nosmimecap",
                        "-in", str(tmp_path / "tst.der"), "-econtent_type", TST_INFO_OID,
                        "-signer", str(tmp_path / "tsa.pem"), "-inkey", str(tmp_path / "tsa.key"),
                        "-certfile", str(tmp_path / "ca.pem"), *extra,
                        "-outform", "DER", "-out", str(tmp_path / "token.der")],
                       check=True, capture_output=True, timeout=60)
        return (tmp_path / "token.der").read_bytes()

    # Control: the same signing with -cades (ESS signing-certificate-v2) is a good token.
    assert verifier.verify_timestamp(openssl_token("-cades"), DATA).code == "ok"
    token = openssl_token()
    r = verifier.verify_timestamp(token, DATA)
    assert (r.code, r.cause) == ("timestamp_invalid", "signed_attributes_invalid")
    assert r.reason == ("the token's signed attributes lack ESS signing-certificate(-v2), which binds "
                        "the TSA certificate (RFC 3161 §2.4.1, RFC 5816)")


# --- the transport: bounded, and honest about what went wrong --------------------------------


def test_client_without_nonce_and_with_sha384(tsa: Tsa, p: Pki, verifier: govsig.Verifier) -> None:
    c = govsig.TsaClient(tsa.url, hash="sha384", nonce=False, trust=govsig.TrustStore([p.root.der]))
    token = c.timestamp(DATA)
    assert a_tsp.TimeStampReq.load(tsa.requests[-1])["nonce"].native is None
    r = verifier.verify_timestamp(token, DATA)
    assert (r.code, r.hash_algorithm, r.nonce) == ("ok", "sha384", None)


def test_client_refuses_what_is_not_a_tsa_answer() -> None:
    from http_servers import LoopbackServer, Reply, drip, endless

    with LoopbackServer() as srv:
        srv.serve("/html", b"<html>maintenance</html>", content_type="text/html")
        srv.serve("/junk", b"\x30\x03\x02\x01", content_type="application/timestamp-reply")
        srv.route("/huge", lambda _s: Reply(endless(8 * 1024 * 1024), content_type="application/timestamp-reply"))
        srv.route("/error", lambda _s: Reply(b"busy", status=503, content_type="text/plain"))
        # 4 KiB, one byte every 0.2 s: each read is quick, the whole would take 14 minutes.
        srv.route("/drip", lambda _s: Reply(drip(srv, b"\x30" * 4096, 0.2), length=4096,
                                            content_type="application/timestamp-reply"))
        with pytest.raises(govsig.TimestampError) as e:
            govsig.TsaClient(srv.url("/drip"), timeout=1).timestamp(DATA)
        assert (e.value.code, e.value.reason) == ("fetch_failed", "the TSA took longer than 1 s")
        cases = {
            "/html": ("fetch_failed", "the TSA answered Content-Type 'text/html', not application/timestamp-reply "
                                      "(RFC 3161 §3.4)"),
            "/huge": ("fetch_failed", "the TSA's answer exceeds 1048576 bytes"),
            "/error": ("fetch_failed", "the TSA answered HTTP 503 Service Unavailable"),
        }
        for path, (code, reason) in cases.items():
            with pytest.raises(govsig.TimestampError) as e:
                govsig.TsaClient(srv.url(path)).timestamp(DATA)
            assert (e.value.code, e.value.reason) == (code, reason), path
        with pytest.raises(govsig.TimestampError) as e:
            govsig.TsaClient(srv.url("/junk")).timestamp(DATA)
        assert e.value.code == "timestamp_rejected"
        assert e.value.reason.startswith("the TSA did not answer with a TimeStampResp (RFC 3161 §2.4.2)")
        # Each request was a proper RFC 3161 §3.4 POST.
        seen = [s for s in srv.seen if s.path == "/html"][0]
        assert seen.method == "POST" and seen.headers["Content-Type"] == "application/timestamp-query"
        assert a_tsp.TimeStampReq.load(seen.body)["message_imprint"]["hashed_message"].native == \
            hashlib.sha256(DATA).digest()


def test_add_timestamps_to_a_ber_signature(client: govsig.TsaClient, p: Pki, verifier: govsig.Verifier) -> None:
    # Streamed (indefinite-length BER) by OpenSSL: normalised to DER, whose signatures are the
    # same (signed attributes are signed in DER, RFC 5652 §5.4; content octets are kept).
    sig = pki.sign_cms(DATA, p.signer, detached=False, stream=True, engine="openssl")
    assert verifier.verify(sig).was_ber
    stamped = govsig.add_timestamps(sig, client)
    r = verifier.verify(stamped)
    assert (r.code, r.was_ber) == ("ok", False)
    assert pki.openssl_verify(stamped, p.root).stdout == DATA
    (token,), = _sig_tokens(stamped)
    assert verifier.verify_timestamp(token, _signature_values(stamped)[0]).code == "ok"


def test_token_of_a_revoked_tsa(p: Pki, openssl: str, tmp_path: Path) -> None:
    # The TSA's chain goes through the ordinary path validation, revocation included.
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.serialization import Encoding

    revoked = make_tsa_certificate("TSA bị thu hồi", p.ca)
    now = _dt.datetime.now(_dt.timezone.utc)
    crl = (x509.CertificateRevocationListBuilder().issuer_name(p.ca.cert.subject)
           .last_update(now - _dt.timedelta(hours=1)).next_update(now + _dt.timedelta(days=1))
           # RFC 5280 §5.2.3: a v2 CRL without a cRLNumber is refused as evidence.
           .add_extension(x509.CRLNumber(1), critical=False)
           .add_revoked_certificate(x509.RevokedCertificateBuilder().serial_number(revoked.cert.serial_number)
                                    .revocation_date(now - _dt.timedelta(minutes=30)).build())
           .sign(p.ca.key, hashes.SHA256()).public_bytes(Encoding.DER))
    with Tsa(tmp_path, openssl, signer=revoked) as t:
        token = t.stamp(DATA)
    v = govsig.Verifier(govsig.Policy(trust=[p.root.der], crls=[crl]))
    r = v.verify_timestamp(token, DATA)
    assert (r.code, r.cause) == ("timestamp_untrusted", "cert_revoked")
    assert r.reason.startswith("the TSA's certificate chain does not validate (cert_revoked): ")
    # The TSA issuing for everyone else is untouched by that CRL.
    assert v.verify_timestamp(Tsa(tmp_path / "good", openssl, signer=p.tsa).stamp(DATA), DATA).code == "ok"


def test_token_without_certificates_needs_the_tsa_certificate_given(tsa: Tsa, p: Pki,
                                                                    verifier: govsig.Verifier) -> None:
    token = tsa.stamp(DATA, cert=False)
    assert not a_cms.ContentInfo.load(token)["content"]["certificates"].native
    r = verifier.verify_timestamp(token, DATA)
    assert (r.code, r.cause) == ("timestamp_untrusted", "signer_not_found")
    assert r.reason.startswith("the TSA certificate the token names is neither in the token nor among the "
                               "policy's certificates (give it as an intermediate): no certificate for signer")
    given = govsig.Verifier(govsig.Policy(trust=[p.root.der], intermediates=[p.tsa.der, p.ca.der]))
    assert given.verify_timestamp(token, DATA).code == "ok"
