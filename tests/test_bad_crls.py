"""CRLs as revocation evidence in path validation (RFC 5280 §6.3.3), good and bad.

The PKI: root -> CA -> signer, P-256, validated at 2026-03-01. The root's CRL for the CA is
always good, so the signer's status rests on the one CRL under test. Each bad CRL also lists
the signer as revoked (where the defect leaves an entry list to speak of): a CRL that may not
be used must never revoke anything.

What the API does with bad evidence: bytes that are not a CRL at all (truncated) make
``Policy(crls=...)`` raise ``ValueError`` naming the item's index (misuse). A CRL that is a CRL
but cannot be used (unknown critical extension or entry extension, duplicate entries, a bad
signature encoding, RFC 5280 §5.2.3 cRLNumber rules broken) is kept as evidence that decides
nothing, given by the policy or carried in the CMS alike: the result says which CRL was
refused and why (``revocation_unknown`` under hard-fail, an "unknown" status under
soft-fail), and it never revokes. A CRL that parses but fails at validation (wrong signer,
stale) is judged the same way, except that a stale CRL's permanent revocation dated at or
before T still counts: only its silence expires.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence

import pytest
from asn1crypto import cms as a_cms
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

import govsig
import pki
from crlgen import tlv

UTC = dt.timezone.utc
AT = dt.datetime(2026, 3, 1, tzinfo=UTC)
THIS_UPDATE = dt.datetime(2026, 2, 1, tzinfo=UTC)
NEXT_UPDATE = dt.datetime(2026, 4, 1, tzinfo=UTC)
REVOKED_ON = dt.datetime(2026, 1, 10, tzinfo=UTC)
CONTENT = "Hồ sơ đăng ký kết hôn".encode()


def dn(name: x509.Name) -> str:
    """A name as govsig's reasons print it: RFC 4514 order, ", " between RDNs."""
    return ", ".join(rdn.rfc4514_string() for rdn in reversed(name.rdns))


class Pki:
    def __init__(self) -> None:
        self.root = pki.make_root("Root CA kiểm thử CRL", "p256", seed="badcrl|root")
        self.ca = pki.make_intermediate("CA kiểm thử CRL", self.root, "p256", seed="badcrl|ca")
        self.leaf = pki.make_leaf("Ngô Thị Mai", self.ca, "p256", seed="badcrl|leaf")
        # Same name as the CA, another key: a CRL it signs claims to be the CA's.
        self.impostor_key = pki.derive_key("p256", "badcrl|impostor")

    @staticmethod
    def describe(c: pki.Issued) -> str:
        h = format(c.cert.serial_number, "x")
        return f"'{dn(c.cert.subject)}' (serial {h.zfill(len(h) + len(h) % 2)})"


@pytest.fixture(scope="module")
def p() -> Pki:
    return Pki()


def crl(issuer: pki.Issued, revoked: Sequence[tuple[int, x509.ReasonFlags | None]] = (), *,
        number: int | None = 1, signing_key: object = None, this_update: dt.datetime = THIS_UPDATE,
        next_update: dt.datetime = NEXT_UPDATE, delta_of: int | None = None,
        extensions: Sequence[tuple[x509.ExtensionType, bool]] = (),
        entry_extensions: Sequence[tuple[x509.ExtensionType, bool]] = ()) -> bytes:
    b = (x509.CertificateRevocationListBuilder()
         .issuer_name(issuer.cert.subject)
         .last_update(this_update)
         .next_update(next_update))
    if number is not None:
        b = b.add_extension(x509.CRLNumber(number), critical=False)
    if delta_of is not None:
        b = b.add_extension(x509.DeltaCRLIndicator(delta_of), critical=True)
    for ext, critical in extensions:
        b = b.add_extension(ext, critical=critical)
    for serial, reason in revoked:
        rb = x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(REVOKED_ON)
        if reason is not None:
            rb = rb.add_extension(x509.CRLReason(reason), critical=False)
        for ext, critical in entry_extensions:
            rb = rb.add_extension(ext, critical=critical)
        b = b.add_revoked_certificate(rb.build())
    key = signing_key if signing_key is not None else issuer.key
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    # Deterministic ECDSA (RFC 6979): the same arguments give the same CRL bytes.
    return b.sign(key, hashes.SHA256(), ecdsa_deterministic=True).public_bytes(serialization.Encoding.DER)


def good_root_crl(p: Pki) -> bytes:
    return crl(p.root)


def leaf_revoked(p: Pki) -> list[tuple[int, x509.ReasonFlags | None]]:
    return [(p.leaf.cert.serial_number, x509.ReasonFlags.key_compromise)]


def with_crls(cms_der: bytes, crls: Sequence[bytes]) -> bytes:
    """``cms_der`` with ``crls`` in SignedData.crls ([1] IMPLICIT RevocationInfoChoices,
    RFC 5652 §5.1), byte strings inserted verbatim so that malformed CRLs can be carried. The
    signature covers the signed attributes only, so it stays valid."""
    ci = a_cms.ContentInfo.load(cms_der)
    sd = ci["content"]
    parts = [sd["version"].dump(), sd["digest_algorithms"].dump(), sd["encap_content_info"].dump()]
    if sd["certificates"].native is not None:
        parts.append(sd["certificates"].dump())
    parts.append(tlv(0xA1, b"".join(crls)))
    parts.append(sd["signer_infos"].dump())
    signed_data = tlv(0x30, b"".join(parts))
    return tlv(0x30, ci["content_type"].dump() + tlv(0xA0, signed_data))


def sign(p: Pki) -> bytes:
    return pki.sign_cms(CONTENT, p.leaf, engine="native")


def check_cert(p: Pki, crls: Sequence[bytes], mode: str) -> govsig.PathResult:
    v = govsig.Verifier(govsig.Policy(trust=[p.root.der], at=AT, crls=crls, revocation=mode))
    return v.verify_certificate(p.leaf.der, [p.ca.der])


def check_cms(p: Pki, policy_crls: Sequence[bytes], carried: Sequence[bytes], mode: str) -> govsig.VerifyResult:
    v = govsig.Verifier(govsig.Policy(trust=[p.root.der], at=AT, crls=policy_crls, revocation=mode))
    cms = sign(p)
    if carried:
        cms = with_crls(cms, carried)
    return v.verify(cms, CONTENT)


def unknown_prefix(p: Pki) -> str:
    return f"revocation status of {p.describe(p.leaf)} is unknown: "


def ca_crl_name(p: Pki) -> str:
    return f"CRL #1 of '{dn(p.ca.cert.subject)}'"


def leaf_evidence(revocation: list[dict[str, object]], p: Pki) -> dict[str, object]:
    (e,) = [e for e in revocation if e["subject"] == dn(p.leaf.cert.subject)]
    return e


# --------------------------------------------------------------------------------------------
# The bad CRLs
# --------------------------------------------------------------------------------------------

def wrong_signer(p: Pki) -> bytes:
    return crl(p.ca, leaf_revoked(p), signing_key=p.impostor_key)


def stale(p: Pki) -> bytes:
    return crl(p.ca, leaf_revoked(p), this_update=dt.datetime(2026, 1, 15, tzinfo=UTC),
               next_update=dt.datetime(2026, 2, 15, tzinfo=UTC))


def stale_silent(p: Pki) -> bytes:
    """Stale and not listing the signer: its silence expired with its nextUpdate. (A stale
    CRL that lists the signer revoked before T does revoke: a revocation is permanent, RFC
    5280 §5.3.1; see test_a_stale_crl_still_proves_a_permanent_revocation.)"""
    return crl(p.ca, [], this_update=dt.datetime(2026, 1, 15, tzinfo=UTC),
               next_update=dt.datetime(2026, 2, 15, tzinfo=UTC))


def test_a_stale_crl_still_proves_a_permanent_revocation(p: Pki) -> None:
    for mode in ("hard-fail", "soft-fail"):
        r = check_cert(p, [stale(p), good_root_crl(p)], mode)
        assert r.code == "cert_revoked", (mode, r.reason)
        assert check_cms(p, [good_root_crl(p)], [stale(p)], mode).code == "cert_revoked"


def truncated(p: Pki) -> bytes:
    der = crl(p.ca, leaf_revoked(p))
    return der[: len(der) // 2]


def truncated_inside(p: Pki) -> bytes:
    """The same CRL cut before its signature but re-wrapped with a consistent outer length:
    what a CMS can carry without itself becoming malformed."""
    der = crl(p.ca, leaf_revoked(p))
    outer = _header_len(der, 0)
    tbs_len = _header_len(der, outer) + _content_len(der, outer)
    return tlv(0x30, der[outer:outer + tbs_len])


def _header_len(der: bytes, at: int) -> int:
    first = der[at + 1]
    return 2 if first < 0x80 else 2 + (first & 0x7F)


def _content_len(der: bytes, at: int) -> int:
    first = der[at + 1]
    if first < 0x80:
        return first
    n = first & 0x7F
    return int.from_bytes(der[at + 2:at + 2 + n], "big")


def unknown_critical(p: Pki) -> bytes:
    ext = x509.UnrecognizedExtension(x509.ObjectIdentifier("1.3.6.1.4.1.55555.7"), b"\x05\x00")
    return crl(p.ca, leaf_revoked(p), extensions=[(ext, True)])


def duplicate_entries(p: Pki) -> bytes:
    s = p.leaf.cert.serial_number
    return crl(p.ca, [(s, x509.ReasonFlags.key_compromise), (s + 2, None), (s, x509.ReasonFlags.superseded)])


def unknown_critical_entry(p: Pki) -> bytes:
    ext = x509.UnrecognizedExtension(x509.ObjectIdentifier("1.3.6.1.4.1.55555.8"), b"\x05\x00")
    return crl(p.ca, leaf_revoked(p), entry_extensions=[(ext, True)])


def no_crl_number(p: Pki) -> bytes:
    return crl(p.ca, leaf_revoked(p), number=None)


def critical_crl_number(p: Pki) -> bytes:
    return crl(p.ca, leaf_revoked(p), number=None, extensions=[(x509.CRLNumber(1), True)])


def bad_signature_encoding(p: Pki) -> bytes:
    """The signature BIT STRING claims an unused bit (PKITS 4.4.3's defect)."""
    from asn1crypto import crl as a_crl
    cl = a_crl.CertificateList.load(crl(p.ca, leaf_revoked(p)))
    sig = cl["signature"].contents
    # DER wants the unused bit itself zero: clear it, so only the count is wrong.
    bits = b"\x01" + sig[1:-1] + bytes([sig[-1] & 0xFE])
    return tlv(0x30, cl["tbs_cert_list"].dump() + cl["signature_algorithm"].dump() + tlv(0x03, bits))


USABLE_BAD = {
    # name: (builder, what the reason must say after "<CRL name> ")
    "wrong_signer": (wrong_signer, "cannot be used: signature of {crl} does not verify"),
    "stale": (stale_silent, "is stale at 2026-03-01T00:00:00Z: nextUpdate was 2026-02-15T00:00:00Z"),
}

NOT_A_CRL = {
    "truncated": (truncated, r"^crls\[0\] is not a CRL: CRL is truncated: \d+ more byte\(s\) needed"),
}

# CRLs that are CRLs but may not be used: (builder, how the CRL is named, why it is refused).
REFUSED = {
    "unknown_critical_extension": (unknown_critical, "CRL #1",
                                   "unknown critical CRL extension 1.3.6.1.4.1.55555.7 (RFC 5280 §5.2)"),
    "unknown_critical_entry_extension": (unknown_critical_entry, "CRL #1",
                                         "entry 0 (serial {serial}): unknown critical CRL entry extension "
                                         "1.3.6.1.4.1.55555.8 (RFC 5280 §5.3)"),
    "duplicate_entries": (duplicate_entries, "CRL #1",
                          "duplicate entries for serial {serial} of certificate issuer '{ca}'"),
    "bad_signature_encoding": (bad_signature_encoding, "CRL #1", "signature BIT STRING has unused bits"),
    "no_crl_number": (no_crl_number, "CRL",
                      "a v2 CRL without a cRLNumber (RFC 5280 §5.2.3: MUST include it)"),
    "critical_crl_number": (critical_crl_number, "CRL #1",
                            "cRLNumber is marked critical (RFC 5280 §5.2.3: MUST be non-critical)"),
}


def refused_text(p: Pki, name: str) -> str:
    _, crl_name, why = REFUSED[name]
    why = why.format(serial=f"{p.leaf.cert.serial_number:x}", ca=dn(p.ca.cert.subject))
    return f"{crl_name} of '{dn(p.ca.cert.subject)}' was refused: {why}"


@pytest.mark.parametrize("name", list(USABLE_BAD))
def test_usable_but_bad_crl_hard_fail(p: Pki, name: str) -> None:
    build, said = USABLE_BAD[name]
    bad = build(p)
    expected = unknown_prefix(p) + ca_crl_name(p) + " " + said.format(crl=ca_crl_name(p))
    r = check_cert(p, [bad, good_root_crl(p)], "hard-fail")
    assert r.code == "revocation_unknown"
    assert r.reason.startswith(expected), r.reason
    assert r.chain == [] and not r.ok
    # The same CRL given by the policy, and carried in the CMS instead.
    for policy_crls, carried in (([bad, good_root_crl(p)], []), ([good_root_crl(p)], [bad])):
        res = check_cms(p, policy_crls, carried, "hard-fail")
        assert res.code == "revocation_unknown", (carried != [], res.reason)
        assert res.reason.endswith(r.reason) or r.reason in res.reason, res.reason


@pytest.mark.parametrize("name", list(USABLE_BAD))
def test_usable_but_bad_crl_soft_fail_never_revokes(p: Pki, name: str) -> None:
    build, said = USABLE_BAD[name]
    bad = build(p)
    r = check_cert(p, [bad, good_root_crl(p)], "soft-fail")
    assert (r.code, r.reason) == ("ok", "")
    e = leaf_evidence(r.revocation, p)
    assert e["status"] == "unknown"
    assert str(e["reason"]).startswith(unknown_prefix(p) + ca_crl_name(p) + " " + said.format(crl=ca_crl_name(p)))
    assert e["crl_fingerprint"] is None
    res = check_cms(p, [good_root_crl(p)], [bad], "soft-fail")
    assert res.code == "ok", res.reason
    (signer,) = res.signers
    assert leaf_evidence(signer.revocation, p)["status"] == "unknown"


@pytest.mark.parametrize("name", list(NOT_A_CRL))
def test_bytes_that_are_not_a_crl_are_refused_by_the_policy_naming_the_index(p: Pki, name: str) -> None:
    build, message = NOT_A_CRL[name]
    bad = build(p)
    with pytest.raises(ValueError, match=message.replace(r"^crls\[0\] is not a CRL: ", "^")):
        govsig.Crl.from_der(bad)
    with pytest.raises(ValueError, match=message):
        govsig.Policy(trust=[p.root.der], at=AT, crls=[bad, good_root_crl(p)], revocation="hard-fail")
    with pytest.raises(ValueError, match=r"^crls\[1\] is not a CRL: "):
        govsig.Policy(trust=[p.root.der], at=AT, crls=[good_root_crl(p), bad], revocation="hard-fail")


def test_truncated_crl_message_says_how_much_is_missing(p: Pki) -> None:
    der = crl(p.ca, leaf_revoked(p))
    with pytest.raises(ValueError) as e:
        govsig.Crl.from_der(truncated(p))
    missing = len(der) - len(der) // 2
    assert str(e.value).startswith(f"CRL is truncated: {missing} more byte(s) needed"), str(e.value)


@pytest.mark.parametrize("name", list(REFUSED))
@pytest.mark.parametrize("mode", ["hard-fail", "soft-fail"])
def test_refused_crl_is_a_verdict_not_an_exception(p: Pki, name: str, mode: str) -> None:
    """Given by the policy or carried in the CMS, a CRL that may not be used decides nothing
    (it lists the signer as revoked: never believed) and the result says which and why."""
    bad = REFUSED[name][0](p)
    why = refused_text(p, name)
    with pytest.raises(ValueError, match=re.escape(why.split(" was refused: ")[1])):
        govsig.Crl.from_der(bad)
    expected = unknown_prefix(p) + why
    r = check_cert(p, [bad, good_root_crl(p)], mode)
    results = [("policy", r.code, r.reason, r.revocation)]
    for policy_crls, carried in (([bad, good_root_crl(p)], []), ([good_root_crl(p)], [bad])):
        res = check_cms(p, policy_crls, carried, mode)
        signers = res.signers
        results.append(("carried" if carried else "policy-cms", res.code, res.reason,
                        signers[0].revocation if signers else []))
    for where, code, reason, revocation in results:
        if mode == "hard-fail":
            assert code == "revocation_unknown", (where, reason)
            assert expected in reason, (where, reason)
        else:
            assert (code, reason) == ("ok", ""), where
            e = leaf_evidence(revocation, p)
            assert (e["status"], e["reason"]) == ("unknown", expected), where
            assert e["refused"] == [why], where


def test_refused_crl_beside_the_real_one_is_named_but_harmless(p: Pki) -> None:
    r = check_cert(p, [unknown_critical(p), crl(p.ca, number=2), good_root_crl(p)], "hard-fail")
    assert (r.code, r.reason) == ("ok", "")
    e = leaf_evidence(r.revocation, p)
    assert e["status"] == "good" and e["crl_number"] == 2
    assert e["refused"] == [refused_text(p, "unknown_critical_extension")]


def test_carried_bytes_that_are_not_a_crl_are_no_evidence(p: Pki) -> None:
    res = check_cms(p, [good_root_crl(p)], [truncated_inside(p)], "hard-fail")
    no_crl = unknown_prefix(p) + f"no CRL from '{dn(p.ca.cert.subject)}' was supplied"
    assert res.code == "revocation_unknown"
    assert no_crl in res.reason, res.reason


def test_only_a_delta_crl_says_so(p: Pki) -> None:
    delta = crl(p.ca, number=2, delta_of=1)
    r = check_cert(p, [delta, good_root_crl(p)], "hard-fail")
    assert r.code == "revocation_unknown"
    assert r.reason.startswith(
        unknown_prefix(p) + f"only delta CRL #2 of '{dn(p.ca.cert.subject)}' was supplied: a delta CRL applies "
        "only on top of its complete base CRL (RFC 5280 §5.2.4, §6.3.3 (c)), and no complete CRL of "
        f"'{dn(p.ca.cert.subject)}' in scope was supplied"), r.reason


def test_bad_crl_beside_a_good_one_is_harmless(p: Pki) -> None:
    """A forged CRL revoking the signer, next to the CA's real one: the real one decides."""
    r = check_cert(p, [wrong_signer(p), crl(p.ca), good_root_crl(p)], "hard-fail")
    assert (r.code, r.reason) == ("ok", "")
    assert leaf_evidence(r.revocation, p)["status"] == "good"


# --------------------------------------------------------------------------------------------
# Good CRLs that revoke
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["hard-fail", "soft-fail"])
def test_revoked_leaf(p: Pki, mode: str) -> None:
    crls = [crl(p.ca, leaf_revoked(p)), good_root_crl(p)]
    expected = (f"{p.describe(p.leaf)} was revoked on 2026-01-10T00:00:00Z (key_compromise) according to "
                f"CRL #1 of '{dn(p.ca.cert.subject)}'")
    r = check_cert(p, crls, mode)
    assert r.code == "cert_revoked"
    assert r.reason.startswith(expected), r.reason
    assert "CRL #1 of 'CN=CA kiểm thử CRL" in r.reason
    res = check_cms(p, crls, [], mode)
    assert res.code == "cert_revoked" and expected in res.reason
    res = check_cms(p, [good_root_crl(p)], [crl(p.ca, leaf_revoked(p))], mode)
    assert res.code == "cert_revoked" and expected in res.reason


def test_revoked_intermediate(p: Pki) -> None:
    crls = [crl(p.ca), crl(p.root, [(p.ca.cert.serial_number, x509.ReasonFlags.ca_compromise)])]
    r = check_cert(p, crls, "hard-fail")
    assert r.code == "cert_revoked"
    assert r.reason.startswith(f"{p.describe(p.ca)} was revoked on 2026-01-10T00:00:00Z (ca_compromise) according to "
                               f"CRL #1 of '{dn(p.root.cert.subject)}'"), r.reason
    assert check_cms(p, crls, [], "hard-fail").code == "cert_revoked"


def test_certificate_hold_is_on_hold(p: Pki) -> None:
    # A hold in force counts as revoked, under its own code (cert_on_hold) since it can be
    # released, unlike a revocation.
    crls = [crl(p.ca, [(p.leaf.cert.serial_number, x509.ReasonFlags.certificate_hold)]), good_root_crl(p)]
    r = check_cert(p, crls, "hard-fail")
    assert r.code == "cert_on_hold"
    assert r.reason.startswith(f"{p.describe(p.leaf)} is on hold (certificate_hold) since 2026-01-10T00:00:00Z "
                               f"according to CRL #1 of '{dn(p.ca.cert.subject)}'"), r.reason
    assert check_cert(p, crls, "soft-fail").code == "cert_on_hold"


def test_delta_crl_remove_from_crl_releases_a_hold(p: Pki) -> None:
    """RFC 5280 §5.3.1: removeFromCRL in a delta CRL means the certificate is no longer
    revoked (its hold was released) since the base CRL named in deltaCRLIndicator."""
    held = [(p.leaf.cert.serial_number, x509.ReasonFlags.certificate_hold)]
    base = crl(p.ca, held, number=1)
    delta = crl(p.ca, [(p.leaf.cert.serial_number, x509.ReasonFlags.remove_from_crl)], number=2, delta_of=1)
    assert check_cert(p, [base, good_root_crl(p)], "hard-fail").code == "cert_on_hold"
    r = check_cert(p, [base, delta, good_root_crl(p)], "hard-fail")
    assert (r.code, r.reason) == ("ok", "")
    e = leaf_evidence(r.revocation, p)
    assert e["status"] == "good"
    assert e["delta_crl_fingerprint"] is not None and e["crl_fingerprint"] is not None
    # And a delta that puts the signer on hold revokes it though the base does not.
    hold_delta = crl(p.ca, held, number=2, delta_of=1)
    r = check_cert(p, [crl(p.ca, number=1), hold_delta, good_root_crl(p)], "hard-fail")
    assert r.code == "cert_on_hold", r.reason
