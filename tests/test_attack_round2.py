"""Round-2 attacks on what was just built: Policy edge cases, exceptions, input forms,
reports. Each test states the attack and asserts what govsig must do."""

from __future__ import annotations

import datetime as dt
import pickle

import pytest

import govsig
from govsig import Policy


def test_policy_at_near_year_10000_is_refused_not_unpicklable() -> None:
    # 9999-12-31 23:59:59 at UTC-5 is year 10000 in UTC: accepted before, then repr, pickle
    # and replace raised OverflowError on the built policy.
    late = dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
    with pytest.raises(ValueError, match="^at must fall within years 1..9999 in UTC"):
        Policy(at=late)


def test_policy_at_datetime_max_reads_back_and_round_trips() -> None:
    # float timestamp() rounded .999999 up into year 10000; exact arithmetic keeps 9999.
    p = Policy(at=dt.datetime.max)
    assert p.at == dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=dt.timezone.utc)
    assert pickle.loads(pickle.dumps(p)) == p
    assert "9999" in repr(p)


def test_policy_at_ignores_overridden_timestamp() -> None:
    # A datetime subclass whose timestamp() is NaN used to become 1970-01-01.
    class Lying(dt.datetime):
        def timestamp(self) -> float:
            return float("nan")

    p = Policy(at=Lying(2020, 1, 1, 12, 0, 0))
    assert p.at == dt.datetime(2020, 1, 1, 12, 0, 0, tzinfo=dt.timezone.utc)


def test_policy_refused_huge_value_message_is_bounded() -> None:
    with pytest.raises(ValueError) as e:
        Policy(max_chain_depth=2**10000)
    msg = str(e.value)
    assert msg.startswith("max_chain_depth must be between 0 and 64")
    assert len(msg) < 300


def test_policy_iterable_that_raises_propagates_its_error() -> None:
    def names():  # type: ignore[no-untyped-def]
        yield "digital_signature"
        raise RuntimeError("from the iterable")

    with pytest.raises(RuntimeError, match="from the iterable"):
        Policy(key_usage=names())


def test_policy_str_subclass_is_read_as_its_text() -> None:
    class Liar(str):
        def __eq__(self, other: object) -> bool:
            return True

        __hash__ = str.__hash__

    # The core compares the text, not the object's __eq__.
    with pytest.raises(ValueError, match="revocation must be one of"):
        Policy(revocation=Liar("nope"))
    assert Policy(revocation=Liar("hard-fail")).revocation == "hard-fail"


def test_policy_subclass_pickle_keeps_class_and_knobs() -> None:
    p = _SubPolicy(revocation="hard-fail", max_chain_depth=3)
    q = pickle.loads(pickle.dumps(p))
    assert type(q) is _SubPolicy and q == p and hash(q) == hash(p)
    assert q.replace(max_chain_depth=4).max_chain_depth == 4


class _SubPolicy(Policy):
    pass


# --- S/MIME multipart/signed: what a mail reader shows must be what is signed -------------

def _signed_lf(pki, openssl: str, tmp_path) -> tuple[bytes, bytes]:  # type: ignore[no-untyped-def]
    import re

    from test_input_forms import TEXT, _smime

    msg = _smime(openssl, tmp_path, pki.rsa_leaf, TEXT, detached=True).replace(b"\r\n", b"\n")
    m = re.search(rb'boundary="([^"]+)"', msg)
    assert m is not None
    return msg, m.group(1)


def _verifier(pki) -> govsig.Verifier:  # type: ignore[no-untyped-def]
    from test_input_forms import AT

    return govsig.Verifier(Policy(trust=[r.der for r in pki.roots], at=AT))


def test_smime_third_unsigned_part_is_refused(pki, openssl, tmp_path) -> None:  # type: ignore[no-untyped-def]
    # RFC 1847: exactly two parts. A third (unsigned) part before the close delimiter was
    # ignored and the message reported ok, while a mail reader shows it.
    msg, b = _signed_lf(pki, openssl, tmp_path)
    v = _verifier(pki)
    assert v.verify(msg).code == "ok"
    close = b"--" + b + b"--"
    evil = b"--" + b + b"\nContent-Type: text/html\n\n<b>pay the attacker</b>\n"
    for bad in (msg.replace(close, evil + close), msg.replace(close, evil)):
        r = v.verify(bad)
        assert r.code == "malformed", r.reason
        assert "more than two parts" in r.reason


def test_smime_line_that_only_starts_with_the_boundary_is_content(pki, openssl, tmp_path) -> None:  # type: ignore[no-untyped-def]
    # "--<boundary>X" is not a delimiter (RFC 2046 §5.1.1): it stays in the first part, which
    # the signature then does not cover.
    msg, b = _signed_lf(pki, openssl, tmp_path)
    first = msg.index(b"--" + b + b"\n") + len(b) + 3
    bad = msg[:first] + b"--" + b + b"X\n" + msg[first:]
    r = _verifier(pki).verify(bad)
    assert r.code != "ok" and r.code != "malformed", (r.code, r.reason)


def test_smime_preamble_and_epilogue_are_not_content(pki, openssl, tmp_path) -> None:  # type: ignore[no-untyped-def]
    # Text outside the parts is ignored by mail readers too; content is only the signed part.
    msg, b = _signed_lf(pki, openssl, tmp_path)
    j = msg.index(b"--" + b + b"\n")
    bad = msg[:j] + b"PREAMBLE TEXT\n" + msg[j:] + b"\nEPILOGUE TEXT\n"
    r = _verifier(pki).verify(bad)
    assert r.code == "ok", r.reason
    assert r.content is not None
    assert b"PREAMBLE" not in r.content and b"EPILOGUE" not in r.content


# --- exceptions defined in the glue -----------------------------------------------------

def test_token_and_signing_exceptions_pickle_with_their_fields() -> None:
    import govsig.pkcs11 as p11
    import govsig.signing as signing

    cases = [
        p11.PinIncorrectError("the token rejected the PIN", "CKR_PIN_INCORRECT", "pin_incorrect"),
        p11.Pkcs11ArgumentError("sessions must be 1 or more", None, "invalid_argument"),
        signing.SigningError("key and certificate differ", kind="key_certificate_mismatch"),
    ]
    for e in cases:
        q = pickle.loads(pickle.dumps(e))
        assert type(q) is type(e) and q.args == e.args and str(q) == str(e)
        assert q.ckr == e.ckr and q.kind == e.kind
        # repr and str hold the message only: nothing else given to the constructor.
        assert repr(q) == f"{type(e).__name__}({e.args[0]!r})"
    assert isinstance(cases[1], ValueError) and isinstance(cases[1], p11.Pkcs11Error)
    with pytest.raises(TypeError):
        p11.Pkcs11Error()


# --- reports: hostile text from certificates, paths and reasons -------------------------

_HOSTILE = '</title><script>alert(1)</script><img src=x onerror=alert(2)>"\'\u202e'


def test_html_report_escapes_hostile_path_reason_subject_and_version(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from govsig import report_html

    rows = [{
        "path": _HOSTILE + ".p7s", "code": "digest_mismatch", "ok": False, "reason": _HOSTILE,
        "govsig_version": _HOSTILE,
        "signers": [{"subject": f"CN={_HOSTILE}, O={_HOSTILE}", "issuer": f"CN={_HOSTILE}",
                     "signing_time": _HOSTILE}],
    }]
    out = tmp_path / "r.html"
    report_html.write_html(rows, out, lang="en", title=_HOSTILE)
    page = out.read_text(encoding="utf-8")
    assert page.count("<script>") == 1  # the page's own filter script
    assert "<img" not in page and "</title><script" not in page
    assert "\u202e" not in page  # bidi override shown escaped, not applied
    assert "&lt;script&gt;" in page


def test_inventory_csv_neutralises_formulas_from_subjects(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import csv

    from govsig._inventory import _COLUMNS, write_csv

    row: dict[str, object] = {k: "" for k in _COLUMNS}
    row["identifiers"] = {"MST": ["=1+1"]}
    row["holder"] = '=HYPERLINK("http://x","y")'
    row["organisation"] = "+cmd|' /C calc'!A0"
    row["unit"] = "@SUM(1)"
    row["issuing_ca"] = "-1+1"
    row["serial"] = "\t=1"
    out = tmp_path / "i.csv"
    write_csv([row], out)
    with open(out, encoding="utf-8-sig", newline="") as f:
        got = list(csv.DictReader(f))[0]
    for k in ("holder", "organisation", "unit", "issuing_ca", "serial"):
        assert got[k].startswith("'"), (k, got[k])
    assert all(not v.startswith(("=", "+", "-", "@", "\t", "\r")) for v in got.values())


# --- path building: decoy issuers in the certificate bag -------------------------------

def test_decoy_issuers_with_the_sought_key_identifier_do_not_hide_the_real_one() -> None:
    # An attacker adds certificates named like the real CA, carrying the key identifier the
    # leaf's AKI asks for but another key. They are tried and fail; the real CA still makes
    # the path, and the leaf verifies against none of the decoys.
    from cryptography import x509 as cx509
    from test_profile_rules import check, resign, set_extension

    import pki

    root = pki.make_root("Root CA decoy test", "p256", seed="attack2|root")
    ca = pki.make_intermediate("CA decoy test", root, "p256", seed="attack2|ca")
    leaf = pki.make_leaf("Lê Thị Decoy", ca, "p256", seed="attack2|leaf")
    ski = cx509.load_der_x509_certificate(ca.der).extensions.get_extension_for_class(
        cx509.SubjectKeyIdentifier).value.digest
    evil_root = pki.make_root("Root CA decoy test", "p256", seed="attack2|evil-root")
    decoys = []
    for i in range(6):
        fake = pki.make_intermediate("CA decoy test", evil_root, "p256", seed=f"attack2|fake{i}")
        decoys.append(resign(fake.der, evil_root,
                             set_extension("2.5.29.14", b"\x04" + bytes([len(ski)]) + ski)))
    assert check(leaf, *decoys, ca, root=root).code == "ok"
    assert check(leaf, ca, *decoys, root=root).code == "ok"
    r = check(leaf, *decoys, root=root)
    assert r.code == "cert_signature_invalid", (r.code, r.reason)
    # Under a small budget the decoys exhaust it: a stated budget failure, never "ok".
    tight = check(leaf, *decoys, ca, root=root, max_signature_checks=3)
    assert tight.code == "budget_exceeded", (tight.code, tight.reason)


# --- PEM with several blocks; bounded work on hostile MIME --------------------------------

def test_pem_with_two_blocks_verifies_the_first_and_shows_its_content(pki) -> None:  # type: ignore[no-untyped-def]
    # Which block is verified must be the one whose content is returned (openssl cms
    # -inform PEM also reads the first): a second block cannot swap the shown content.
    import pki as P
    from test_input_forms import _pem

    first = P.sign_cms(b"first document", pki.rsa_leaf, detached=False)
    second = P.sign_cms(b"second document", pki.rsa_leaf, detached=False)
    r = _verifier(pki).verify(_pem("PKCS7", first) + _pem("PKCS7", second))
    assert r.code == "ok", r.reason
    assert r.content == b"first document"
    # A block after a broken first one does not rescue it.
    broken = _pem("PKCS7", first[:-1] + bytes([first[-1] ^ 1]))
    assert _verifier(pki).verify(broken + _pem("PKCS7", second)).code != "ok"


def test_hostile_multipart_shapes_are_malformed() -> None:
    v = govsig.Verifier(Policy())
    head = b'Content-Type: multipart/signed; protocol="application/pkcs7-signature"; boundary=b\n\n'
    # Many lines that only start with the boundary: no delimiter at all.
    r = v.verify(head + b"--bX\n" * 200_000)
    assert r.code == "malformed" and "delimited by '--b'" in r.reason
    # A close delimiter where the signature part should start.
    r = v.verify(head + b"--b\nhello\n--b--\n--b\n")
    assert r.code == "malformed", r.reason
    # Two parts and no close delimiter: truncated.
    r = v.verify(head + b"--b\nhello\n--b\nContent-Type: application/pkcs7-signature\n\nMAA=\n")
    assert r.code == "malformed" and "no closing '--b--'" in r.reason


def test_policy_pickle_round_trip_verifies_the_same(pki) -> None:  # type: ignore[no-untyped-def]
    import pki as P

    cms = P.sign_cms(b"round trip", pki.rsa_leaf, detached=False)
    at = dt.datetime(2026, 6, 1, tzinfo=dt.timezone.utc)
    for knobs in ({"revocation": "off"}, {"revocation": "hard-fail", "legacy_certificates": True}):
        pol = Policy(trust=govsig.TrustStore([r.der for r in pki.roots]), at=at, **knobs)  # type: ignore[arg-type]
        q = pickle.loads(pickle.dumps(pol))
        assert q == pol and hash(q) == hash(pol) and repr(q) == repr(pol)
        assert isinstance(q.trust, govsig.TrustStore)
        a, b = govsig.Verifier(pol).verify(cms), govsig.Verifier(q).verify(cms)
        assert (a.code, a.reason) == (b.code, b.reason)
    assert govsig.Verifier(Policy(trust=govsig.TrustStore([r.der for r in pki.roots]), at=at,
                                  revocation="off")).verify(cms).code == "ok"
