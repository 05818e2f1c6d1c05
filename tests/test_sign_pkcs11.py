"""Signing through a real PKCS#11 token: SoftHSM2, with tokens made for this test run in a
temporary directory (SOFTHSM2_CONF), keys generated on the token, certificates issued by the
test CA and stored on the token.

A missing SoftHSM2 fails the run: skipping would report token signing as tested when it was
not. The token builder (tests/softhsm.py) is also used by benches/test_bench_sign.py.
"""
from __future__ import annotations

import logging
import struct
import subprocess
import sys
import threading
import time
import traceback
from pathlib import Path

import pytest

import govsig
import pki as P
from cryptography.hazmat.primitives import serialization

from govsig import pkcs11
from test_sign import CONTENT, WHEN, check_attributes, govsig_verify, signer_info
from test_sign_cli import docs, verify_files

from softhsm import USER_PIN, WRONG_PIN, SoftHsm

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def token(hsm: SoftHsm):
    with pkcs11.Token.open(hsm.module, token_label="govsig-test", pin=USER_PIN) as tok:
        yield tok


def assert_pin_absent(*texts: str) -> None:
    for t in texts:
        assert USER_PIN not in t and WRONG_PIN not in t, t


def assert_clean(exc: BaseException) -> None:
    """The PIN is in no str, repr or traceback (even one that prints local variables)."""
    tb = "".join(traceback.TracebackException.from_exception(exc, capture_locals=True).format())
    assert_pin_absent(str(exc), repr(exc), tb)


# -- listing ---------------------------------------------------------------------------------


def test_list_tokens_and_keys(hsm, token, pki):
    tokens = {t.label: t for t in pkcs11.list_tokens(hsm.module)}
    assert {"govsig-test", "pin-test"} <= set(tokens)
    assert tokens["govsig-test"].flags["login_required"] is True
    assert tokens["govsig-test"].manufacturer == "SoftHSM project"
    keys = {k.label: k for k in token.keys()}
    assert set(keys) == {"rsa-key", "p256-key", "nocert-key"}
    assert keys["rsa-key"].key_type == "rsa" and keys["rsa-key"].bits == 2048
    assert keys["rsa-key"].id == b"\x01"
    assert keys["rsa-key"].certificate == hsm.certificates[("govsig-test", "rsa-key")]
    assert keys["p256-key"].key_type == "ec_p256"
    assert keys["nocert-key"].certificate is None
    assert token.info.label == "govsig-test"
    assert "govsig-test" in repr(token) and "open" in repr(token)


# -- signatures ------------------------------------------------------------------------------


TOKEN_CASES = [(key, detached, pss) for key in ("rsa-key", "p256-key") for detached in (True, False)
               for pss in ((False, True) if key == "rsa-key" else (False,))]


@pytest.mark.parametrize("key_label,detached,pss", TOKEN_CASES,
                         ids=[f"{k}-{'detached' if d else 'attached'}{'-pss' if p else ''}"
                              for k, d, p in TOKEN_CASES])
def test_token_signatures_verify_with_openssl_and_govsig(hsm, token, pki, openssl, key_label, detached, pss):
    issuer = pki.rsa_intermediate if key_label == "rsa-key" else pki.p256_root
    signer = token.signer(key_label=key_label, sessions=2, chain=[c.cert for c in issuer.path if not c.is_root])
    cert = hsm.certificates[("govsig-test", key_label)]
    assert signer.certificate == cert
    sig = govsig.sign(CONTENT, signer, detached=detached, rsa_pss=pss, signing_time=WHEN)
    leaf = P.Issued(key_label, cert, issuer.key, "token", issuer)  # key unused: only .der/.root
    result = govsig_verify(sig, leaf, CONTENT if detached else None)
    assert result.ok, (result.code, result.reason)
    assert result.signers[0].signing_time == WHEN
    check_attributes(sig, leaf, CONTENT, WHEN)
    if pss:
        assert signer_info(sig)["signature_algorithm"]["algorithm"].native == "rsassa_pss"
    proc = P.openssl_verify(sig, leaf.root, content=CONTENT if detached else None)
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stdout == CONTENT


def test_token_key_by_id_and_supplied_certificate(hsm, token, pki):
    cert = hsm.certificates[("govsig-test", "p256-key")]
    signer = token.signer(key_id=b"\x02", certificate=cert.public_bytes(serialization.Encoding.PEM))
    assert signer.key_label == "p256-key" and signer.key_id == b"\x02" and signer.sessions == 4
    assert "p256-key" in repr(signer)
    leaf = P.Issued("p256", cert, pki.p256_root.key, "token", pki.p256_root)
    assert govsig_verify(govsig.sign(CONTENT, signer, digest="sha384"), leaf, CONTENT).ok


def read_framed(path: Path) -> list[bytes]:
    data = path.read_bytes()
    out, pos = [], 0
    while pos < len(data):
        (n,) = struct.unpack_from(">I", data, pos)
        out.append(data[pos + 4:pos + 4 + n])
        pos += 4 + n
    return out


SECOND_PROCESS = r"""
import os, struct, sys
import govsig
from govsig import pkcs11
module, label, count, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
with pkcs11.Token.open(module, token_label=label, pin=os.environ["GOVSIG_TEST_PIN"]) as tok:
    signer = tok.signer(key_label="p256-key", sessions=2)
    print("ready", flush=True)
    sigs = govsig.sign_many([b"second process %d" % i for i in range(count)], signer)
with open(out, "wb") as f:
    for s in sigs:
        f.write(struct.pack(">I", len(s)) + s)
"""


def test_bulk_1000_documents_4_sessions_4_threads_and_a_second_process(hsm, token, pki, tmp_path):
    signer = token.signer(key_label="p256-key", sessions=4)
    cert = hsm.certificates[("govsig-test", "p256-key")]
    out = tmp_path / "second.bin"
    env = {**hsm.env, "GOVSIG_TEST_PIN": USER_PIN, "PYTHONPATH": str(REPO / "python")}
    other = subprocess.Popen([sys.executable, "-c", SECOND_PROCESS, hsm.module, "govsig-test", "300", str(out)],
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    # Start this process's threads once the other process is logged in and about to sign.
    assert other.stdout is not None
    assert other.stdout.readline() == b"ready\n", other.stderr.read() if other.stderr else b""
    docs = [f"văn bản {i:04d}".encode() * (1 + i % 5) for i in range(1000)]
    sigs: list[bytes | None] = [None] * len(docs)
    errors: list[BaseException] = []

    def work(t: int) -> None:
        try:
            for i in range(t, len(docs), 4):
                sigs[i] = govsig.sign(docs[i], signer)
        except BaseException as exc:  # reported below, with the thread's failure
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=120)
    assert not errors, errors
    stdout, stderr = other.communicate(timeout=120)
    assert other.returncode == 0, stderr.decode()
    verifier = govsig.Verifier(govsig.Policy(trust=[pki.p256_root.cert]))
    batch = verifier.verify_many(zip(sigs, docs))
    assert len(batch) == 1000 and batch.ok.all(), batch.counts()
    # Each signature is over its own document: a session mix-up would break this.
    for i in (0, 1, 2, 3, 997, 998, 999):
        assert batch[i].signers[0].certificate == cert.public_bytes(serialization.Encoding.DER)
    second = read_framed(out)
    assert len(second) == 300
    batch2 = verifier.verify_many((s, b"second process %d" % i) for i, s in enumerate(second))
    assert batch2.ok.all(), batch2.counts()
    # And sign_many through the same 4-session pool, on 4 threads.
    many = govsig.sign_many(docs[:400], signer, threads=4)
    assert verifier.verify_many(zip(many, docs[:400])).ok.all()


FOREIGN_INIT = r"""
import os, struct, sys
import pkcs11 as python_pkcs11
import govsig
from govsig import pkcs11
module, label, out = sys.argv[1], sys.argv[2], sys.argv[3]
# python-pkcs11 initialises the library first, in its own way, and keeps it initialised.
peer = python_pkcs11.lib(module)
with pkcs11.Token.open(module, token_label=label, pin=os.environ["GOVSIG_TEST_PIN"]) as tok:
    signer = tok.signer(key_label="p256-key", sessions=4)
    sigs = govsig.sign_many([b"foreign %d" % i for i in range(400)], signer, threads=4)
with open(out, "wb") as f:
    for s in sigs:
        f.write(struct.pack(">I", len(s)) + s)
"""


def test_library_initialised_by_other_code_is_not_signed_on_concurrently(hsm, pki, tmp_path):
    """python-pkcs11 calls C_Initialize without CKF_OS_LOCKING_OK; a library initialised
    that way takes no locks, and 4 sessions signing at once corrupted SoftHSM's heap ("double
    free"). govsig now signs one at a time on a library it did not initialise. In a child
    process, so that a crash fails this test and not the run."""
    out = tmp_path / "foreign.bin"
    env = {**hsm.env, "GOVSIG_TEST_PIN": USER_PIN, "PYTHONPATH": str(REPO / "python")}
    proc = subprocess.run([sys.executable, "-c", FOREIGN_INIT, hsm.module, "govsig-test", str(out)],
                          env=env, capture_output=True, timeout=120)
    assert proc.returncode == 0, (proc.returncode, proc.stderr.decode(errors="replace")[-2000:])
    sigs = read_framed(out)
    batch = govsig.Verifier(govsig.Policy(trust=[pki.p256_root.cert])).verify_many(
        (s, b"foreign %d" % i) for i, s in enumerate(sigs))
    assert len(batch) == 400 and batch.ok.all(), batch.counts()


# -- errors ----------------------------------------------------------------------------------


def test_wrong_pin(hsm, caplog, capfd):
    caplog.set_level(logging.DEBUG)
    with pytest.raises(pkcs11.PinIncorrectError) as exc:
        pkcs11.Token.open(hsm.module, token_label="pin-test", pin=WRONG_PIN)
    err = exc.value
    assert isinstance(err, govsig.Pkcs11Error)
    assert err.ckr == "CKR_PIN_INCORRECT" and err.kind == "pin_incorrect"
    assert "rejected the PIN" in str(err)
    assert_clean(err)
    captured = capfd.readouterr()
    assert_pin_absent(caplog.text, captured.out, captured.err)
    # The right PIN still works (SoftHSM 2.6 never locks the PIN).
    with pkcs11.Token.open(hsm.module, token_label="pin-test", pin=USER_PIN) as tok:
        assert_pin_absent(repr(tok), repr(tok.keys()), repr(tok.signer(key_label="p256-key")))


def test_second_login_in_one_process_is_refused(hsm, token):
    with pytest.raises(pkcs11.AlreadyLoggedInError) as exc:
        pkcs11.Token.open(hsm.module, token_label="govsig-test", pin=WRONG_PIN)
    assert exc.value.ckr == "CKR_USER_ALREADY_LOGGED_IN"
    assert "share that open token" in str(exc.value)
    assert_clean(exc.value)


def test_pin_locked_class_contract():
    """SoftHSM 2.6 cannot lock a user PIN, so CKR_PIN_LOCKED is not produced here (the crate's
    own tests check the message); what Python sees is checked: type, fields, pickling."""
    import pickle
    err = pkcs11.PinLockedError("the token's user PIN is locked (CKR_PIN_LOCKED)", "CKR_PIN_LOCKED", "pin_locked")
    again = pickle.loads(pickle.dumps(err))
    assert type(again) is pkcs11.PinLockedError and again.ckr == "CKR_PIN_LOCKED"
    assert isinstance(again, govsig.Pkcs11Error) and str(again) == str(err)


def test_no_such_token(hsm):
    with pytest.raises(pkcs11.TokenNotFoundError) as exc:
        pkcs11.Token.open(hsm.module, token_label="khong-co", pin=USER_PIN)
    assert exc.value.ckr is None
    assert "govsig-test" in str(exc.value)  # lists the tokens present
    assert_clean(exc.value)


def test_no_such_key_no_certificate_and_mismatch(hsm, token, pki):
    with pytest.raises(pkcs11.KeyNotFoundError) as exc:
        token.signer(key_label="missing-key")
    assert "rsa-key" in str(exc.value) and "p256-key" in str(exc.value)
    assert_clean(exc.value)
    with pytest.raises(pkcs11.CertificateNotFoundError) as exc2:
        token.signer(key_label="nocert-key")
    assert "supply the certificate" in str(exc2.value)
    assert_clean(exc2.value)
    with pytest.raises(pkcs11.KeyCertificateMismatchError) as exc3:
        token.signer(key_label="rsa-key", certificate=pki.rsa_leaf.cert)
    assert "does not belong" in str(exc3.value)
    assert_clean(exc3.value)
    with pytest.raises(pkcs11.KeyCertificateMismatchError):
        token.signer(key_label="p256-key", certificate=pki.rsa_leaf.cert)
    with pytest.raises(pkcs11.Pkcs11ArgumentError):
        token.signer(key_label="p256-key", sessions=0)
    with pytest.raises(ValueError, match="key_label or key_id"):
        token.signer()


def test_mechanism_not_supported(token):
    signer = token.signer(key_label="p256-key", sessions=1)
    with pytest.raises(pkcs11.MechanismNotSupportedError) as exc:
        govsig.sign(CONTENT, signer, rsa_pss=True)
    assert "RSA-PSS needs an RSA key" in str(exc.value)
    assert_clean(exc.value)
    with pytest.raises(pkcs11.MechanismNotSupportedError):
        govsig.sign_many([CONTENT], signer, rsa_pss=True)


def test_missing_module_is_module_load_error(tmp_path):
    with pytest.raises(pkcs11.ModuleLoadError) as exc:
        pkcs11.list_tokens(tmp_path / "no-such-pkcs11.so")
    assert "cannot load the PKCS#11 module" in str(exc.value)
    not_a_library = tmp_path / "notes.so"
    not_a_library.write_bytes(b"not an ELF file")
    with pytest.raises(pkcs11.ModuleLoadError):
        pkcs11.Token.open(not_a_library, token_label="x", pin=USER_PIN)


def test_token_removed_mid_batch(hsm, pki):
    tok = pkcs11.Token.open(hsm.module, token_label="removable", pin=USER_PIN)
    signer = tok.signer(key_label="p256-key", sessions=2)
    signed = [0]
    lock = threading.Lock()
    ends: list[BaseException | None] = [None, None, None]
    good: list[tuple[bytes, bytes]] = []

    def work(t: int) -> None:
        deadline = time.monotonic() + 30
        i = 0
        while time.monotonic() < deadline:
            doc = f"thread {t} doc {i}".encode()
            i += 1
            try:
                sig = govsig.sign(doc, signer)
            except BaseException as exc:
                ends[t] = exc
                return
            with lock:
                signed[0] += 1
                good.append((sig, doc))

    threads = [threading.Thread(target=work, args=(t,)) for t in range(3)]
    for th in threads:
        th.start()
    while signed[0] < 100 and all(th.is_alive() for th in threads):
        time.sleep(0.005)
    hsm.vanish("removable")
    for th in threads:
        th.join(timeout=60)
    for t, exc in enumerate(ends):
        assert isinstance(exc, pkcs11.TokenRemovedError), (t, exc)
        assert exc.ckr in {"CKR_OBJECT_HANDLE_INVALID", "CKR_DEVICE_REMOVED", "CKR_TOKEN_NOT_PRESENT",
                           "CKR_SESSION_HANDLE_INVALID", "CKR_GENERAL_ERROR"}, exc.ckr
        assert "reinsert" in str(exc)
        assert_clean(exc)
    with pytest.raises(pkcs11.TokenRemovedError) as exc:
        govsig.sign_many([b"a", b"b", b"c"], signer)
    assert any("while signing document" in n for n in getattr(exc.value, "__notes__", []))
    assert_clean(exc.value)
    # What was signed before the token left is valid.
    batch = govsig.Verifier(govsig.Policy(trust=[pki.p256_root.cert])).verify_many(good)
    assert len(batch) >= 100 and batch.ok.all()
    try:
        tok.close()
    except pkcs11.Pkcs11Error as e:
        assert_clean(e)


def test_logout_ends_signing(hsm, pki):
    tok = pkcs11.Token.open(hsm.module, token_label="pin-test", pin=USER_PIN)
    signer = tok.signer(key_label="p256-key", sessions=1)
    govsig.sign(b"before", signer)
    with tok:
        pass
    assert tok.closed and "closed" in repr(tok)
    with pytest.raises(pkcs11.NotLoggedInError) as exc:
        govsig.sign(b"after", signer)
    assert "open the token again" in str(exc.value)
    with pytest.raises(pkcs11.NotLoggedInError):
        tok.keys()


# -- command line ----------------------------------------------------------------------------


def test_sign_with_the_token_and_pin_from_the_environment(hsm, token, pki, tmp_path):
    files = docs(tmp_path, 4)
    env = {**hsm.env, "SIGN_PIN": USER_PIN, "PYTHONPATH": str(REPO / "python")}
    (tmp_path / "chain.pem").write_bytes(pki.rsa_intermediate.pem)
    # A separate process: this one already holds the token's login (the `token` fixture).
    proc = subprocess.run(
        [sys.executable, "-m", "govsig", "sign", *map(str, files), "--pkcs11-module", hsm.module,
         "--token-label", "govsig-test", "--key-label", "rsa-key", "--pin-env", "SIGN_PIN",
         "--chain", str(tmp_path / "chain.pem"), "--sessions", "2", "--pss"],
        env=env, capture_output=True, timeout=120)
    assert proc.returncode == 0, proc.stderr.decode()
    verify_files(files, pki.rsa_root)
    assert_pin_absent(proc.stdout.decode(), proc.stderr.decode())
    wrong = subprocess.run(
        [sys.executable, "-m", "govsig", "sign", str(files[0]), "--force", "--pkcs11-module", hsm.module,
         "--token-label", "pin-test", "--key-label", "p256-key", "--pin-env", "SIGN_PIN"],
        env={**env, "SIGN_PIN": "406517"}, capture_output=True, timeout=120)
    assert wrong.returncode == 1
    assert b"CKR_PIN_INCORRECT" in wrong.stderr
    assert b"406517" not in wrong.stderr + wrong.stdout
    unset = subprocess.run(
        [sys.executable, "-m", "govsig", "sign", str(files[0]), "--force", "--pkcs11-module", hsm.module,
         "--key-label", "p256-key", "--pin-env", "NOT_SET_ANYWHERE"],
        env=env, capture_output=True, timeout=120, stdin=subprocess.DEVNULL)
    # The name is not echoed either: it may be the PIN itself, typed after --pin-env.
    assert unset.returncode == 2 and b"names is not set" in unset.stderr and b"NOT_SET_ANYWHERE" not in unset.stderr


def test_pkcs11_list_and_keys(hsm, tmp_path):
    env = {**hsm.env, "SIGN_PIN": USER_PIN, "PYTHONPATH": str(REPO / "python")}
    listed = subprocess.run([sys.executable, "-m", "govsig", "pkcs11", "list", "--module", hsm.module],
                            env=env, capture_output=True, timeout=60)
    assert listed.returncode == 0, listed.stderr.decode()
    assert b"'govsig-test'" in listed.stdout and b"SoftHSM" in listed.stdout
    keys = subprocess.run([sys.executable, "-m", "govsig", "pkcs11", "keys", "--module", hsm.module,
                           "--token-label", "pin-test", "--pin-env", "SIGN_PIN", "--json"],
                          env=env, capture_output=True, timeout=60)
    assert keys.returncode == 0, keys.stderr.decode()
    assert b'"label": "p256-key"' in keys.stdout and b'"key_type": "ec_p256"' in keys.stdout
    assert_pin_absent(keys.stdout.decode(), keys.stderr.decode())
    missing = subprocess.run([sys.executable, "-m", "govsig", "pkcs11", "list", "--module",
                              str(tmp_path / "nothing.so")], env=env, capture_output=True, timeout=60)
    assert missing.returncode == 1 and b"cannot load the PKCS#11 module" in missing.stderr


# -- PINs as bytes (issue 11, item 15) ---------------------------------------------------------


def _forms_of(pin: bytes) -> list[str]:
    """Every way the PIN could show up in text: its repr, escapes, and its decodings."""
    return [repr(pin), pin.hex(), pin.decode("latin-1"), pin.decode("utf-8", "surrogateescape"),
            pin.decode("utf-8", "replace"), pin.decode("utf-8", "backslashreplace")]


def assert_nowhere(exc: BaseException, pin: bytes) -> None:
    """The PIN is in no str, repr, args or traceback with locals, of the exception or of any
    exception chained to it (``__context__`` stays reachable even after ``from None``)."""
    seen: BaseException | None = exc
    while seen is not None:
        texts = [str(seen), repr(seen), repr(seen.args),
                 "".join(traceback.TracebackException.from_exception(seen, capture_locals=True).format())]
        for arg in seen.args:
            assert not (isinstance(arg, (bytes, bytearray)) and pin in arg), type(seen)
        for form in _forms_of(pin):
            for t in texts:
                assert form not in t, (type(seen), form)
        seen = seen.__cause__ or seen.__context__


def test_a_pin_that_is_not_utf8_logs_in_as_bytes(hsm):
    from softhsm import BINARY_PIN

    with pkcs11.Token.open(hsm.module, token_label="binary-pin", pin=BINARY_PIN) as tok:
        assert tok.keys() == []
    # The same bytes read from the environment arrive as surrogate-escaped text.
    as_text = BINARY_PIN.decode("utf-8", "surrogateescape")
    with pkcs11.Token.open(hsm.module, token_label="binary-pin", pin=as_text) as tok:
        assert tok.info.label == "binary-pin"


_WRONG_BINARY = b"\xff\xfe40\x93\x80wrong"
# Indexed, not bound to a local: the traceback checked below prints this frame's locals.
_WRONG_FORMS = (_WRONG_BINARY, bytearray(_WRONG_BINARY), _WRONG_BINARY.decode("utf-8", "surrogateescape"))


def test_a_wrong_pin_that_is_not_utf8_appears_nowhere(hsm):
    for i in range(len(_WRONG_FORMS)):
        with pytest.raises(pkcs11.PinIncorrectError) as exc:
            pkcs11.Token.open(hsm.module, token_label="binary-pin", pin=_WRONG_FORMS[i])
        assert exc.value.ckr == "CKR_PIN_INCORRECT"
        assert_nowhere(exc.value, _WRONG_BINARY)


def test_a_pin_that_cannot_be_encoded_is_refused_without_showing_it(hsm):
    with pytest.raises(ValueError, match="cannot be encoded") as exc:
        pkcs11.Token.open(hsm.module, token_label="binary-pin", pin="73\ud800\ud801 pin")
    assert exc.value.__context__ is None and exc.value.__cause__ is None
    assert "\ud800" not in repr(exc.value.args) and "73" not in str(exc.value)
    with pytest.raises(TypeError, match="not int"):
        pkcs11.Token.open(hsm.module, token_label="binary-pin", pin=739182)  # type: ignore[arg-type]


def test_cli_pin_env_that_is_not_utf8_reaches_the_token(hsm, tmp_path):
    from softhsm import BINARY_PIN

    env: dict = {**{k.encode(): v.encode() for k, v in hsm.env.items()},
                 b"SIGN_PIN": BINARY_PIN, b"PYTHONPATH": str(REPO / "python").encode()}
    keys = subprocess.run([sys.executable, "-m", "govsig", "pkcs11", "keys", "--module", hsm.module,
                           "--token-label", "binary-pin", "--pin-env", "SIGN_PIN", "--json"],
                          env=env, capture_output=True, timeout=60)
    assert keys.returncode == 0, keys.stderr.decode(errors="replace")
    env[b"SIGN_PIN"] = b"\xff\xfe40\x93\x80wrong"
    wrong = subprocess.run([sys.executable, "-m", "govsig", "pkcs11", "keys", "--module", hsm.module,
                            "--token-label", "binary-pin", "--pin-env", "SIGN_PIN"],
                           env=env, capture_output=True, timeout=60)
    assert wrong.returncode == 1 and b"CKR_PIN_INCORRECT" in wrong.stderr
    assert b"\xff\xfe40" not in wrong.stderr + wrong.stdout and b"40\\x93" not in wrong.stderr
