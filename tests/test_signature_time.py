"""Judging each signature at the time it was made (issue 13, items 3-4): RFC 3161 signature
time-stamps from a real TSA (``openssl ts -reply``, tests/tsa_server.py) move the time a
signer is judged at; revocation is decided at that time from CRLs issued before or after it;
forged or swapped time-stamps never move it.

The archive (tests/archive_decade.py) is stamped at the real now; "today" is ten years on
(see that script for why the verifier, not the TSA, is moved in time).
"""
from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from pathlib import Path

import pytest
from asn1crypto import cms as a_cms
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import archive_decade as ad
import govsig
import pki
from tsa_server import Tsa, make_tsa_certificate

UTC = dt.timezone.utc
DAY = dt.timedelta(days=1)
TST_INFO_OID = "1.2.840.113549.1.9.16.1.4"


class World:
    def __init__(self, tmp: Path, openssl: str) -> None:
        self.moment = ad.now()
        self.p = ad.make_pki(self.moment)
        self.today = self.moment + 10 * ad.YEAR
        self.tsa = Tsa(tmp / "tsa", openssl, signer=self.p.tsa).start()
        # A genuine TSA nobody trusts here, and TSA certificates OpenSSL will not sign with.
        self.stranger_root = pki.make_root("Stranger TSA Root", seed="stranger-tsa-root")
        self.stranger = Tsa(tmp / "stranger", openssl,
                            signer=make_tsa_certificate("Stranger TSA", self.stranger_root,
                                                        not_before=pki.CA_NOT_BEFORE,
                                                        not_after=pki.CA_NOT_AFTER)).start()
        self.tsa_noncritical = make_tsa_certificate("TSA EKU not critical", self.p.tsa_root, critical=False,
                                                    not_before=pki.CA_NOT_BEFORE, not_after=pki.CA_NOT_AFTER)
        self.archive = ad.build(self.tsa, self.p)
        self.signer = self.p.signers[0]
        self.content = ad.document(0)
        self.bare = pki.sign_cms(self.content, self.signer, signing_time=self.moment)
        self.other_bare = pki.sign_cms(b"another document", self.signer, signing_time=self.moment)

    def close(self) -> None:
        self.tsa.stop()
        self.stranger.stop()

    def stamp(self, cms_der: bytes, tsa: Tsa | None = None) -> bytes:
        return (tsa or self.tsa).stamp(ad.signature_value(cms_der))

    def policy(self, **kw: object) -> govsig.Policy:
        base: dict[str, object] = dict(trust=[self.p.root.der], tsa_trust=[self.p.tsa_root.der],
                                       at=self.today, signature_time="timestamp")
        base.update(kw)
        return govsig.Policy(**base)

    def verify(self, sig: bytes, content: bytes | None = None, **kw: object) -> govsig.SignerResult:
        r = govsig.Verifier(self.policy(**kw)).verify(sig, self.content if content is None else content)
        assert len(r.signers) == 1
        return r.signers[0]


@pytest.fixture(scope="module")
def w(openssl: str, tmp_path_factory: pytest.TempPathFactory):
    world = World(tmp_path_factory.mktemp("sigtime"), openssl)
    yield world
    world.close()


def ts(d: dt.datetime) -> int:
    return int(d.timestamp())


# --- the archive: a decade later ---------------------------------------------------------------


def test_archive_checked_a_decade_later_is_ok_at_its_signature_times(w: World) -> None:
    for signer in w.p.signers:
        assert signer.cert.not_valid_after_utc < w.today, "every certificate has expired by today"
    v = govsig.Verifier(w.policy())
    batch = v.verify_many(w.archive)
    assert batch.counts() == {"ok": len(w.archive)}
    for k, (sig, content) in enumerate(w.archive):
        s = v.verify(sig, content).signers[0]
        assert (s.code, s.signature_time_source, s.warnings) == ("ok", "timestamp", [])
        (tok,) = s.timestamps
        assert (tok.ok, tok.kind, tok.code) == (True, "signature", "ok")
        assert s.signature_time == tok.gen_time.replace(microsecond=0)
        signer = w.p.signers[k]
        assert signer.cert.not_valid_before_utc <= s.signature_time <= signer.cert.not_valid_after_utc
        assert abs(s.signature_time - w.moment) < dt.timedelta(minutes=5)
        assert tok.validated_at == w.today
    assert batch.signature_time.dtype.name == "int64" and batch.time_source.dtype.name == "uint8"
    assert [govsig.TIME_SOURCES[i] for i in batch.time_source] == ["timestamp"] * len(w.archive)
    assert list(batch.signature_time) == [ts(v.verify(s, c).signers[0].signature_time) for s, c in w.archive]


def test_archive_judged_at_today_is_all_expired(w: World) -> None:
    v = govsig.Verifier(w.policy(signature_time="at"))
    batch = v.verify_many(w.archive)
    assert batch.counts() == {"cert_expired": len(w.archive)}
    assert set(batch.time_source) == {govsig.TIME_SOURCES.index("at")}
    assert set(batch.signature_time) == {ts(w.today)}
    s = v.verify(*w.archive[0]).signers[0]
    # "at" reads no time-stamps: today's behaviour and cost.
    assert (s.signature_time, s.signature_time_source, s.timestamps) == (w.today, "at", [])


def test_a_signature_without_timestamp_falls_back_to_at(w: World) -> None:
    s = w.verify(w.bare)
    assert (s.code, s.signature_time_source, s.signature_time, s.timestamps) == ("cert_expired", "at", w.today, [])
    s = w.verify(w.bare, require_timestamp=True)
    assert s.code == "timestamp_missing"
    assert "requires a signature time-stamp" in s.reason


def test_the_tsa_is_trusted_by_tsa_trust_only(w: World) -> None:
    sig = ad.with_tokens(w.bare, [w.stamp(w.bare)])
    # Without tsa_trust the trust store decides, and it does not hold the TSA's root.
    s = w.verify(sig, tsa_trust=None)
    assert (s.code, s.signature_time_source) == ("cert_expired", "at")
    assert s.timestamps[0].code == "timestamp_untrusted"
    # A trust store holding both roots trusts both roles.
    s = w.verify(sig, tsa_trust=None, trust=[w.p.root.der, w.p.tsa_root.der])
    assert (s.code, s.signature_time_source) == ("ok", "timestamp")


# --- revocation at the signature time ----------------------------------------------------------


def crl(issuer: pki.Issued, entries: Sequence[tuple[int, dt.datetime, x509.ReasonFlags | None]], *,
        this_update: dt.datetime, next_update: dt.datetime, number: int = 1,
        delta_of: int | None = None) -> bytes:
    b = (x509.CertificateRevocationListBuilder().issuer_name(issuer.cert.subject)
         .last_update(this_update).next_update(next_update)
         .add_extension(x509.CRLNumber(number), critical=False))
    if delta_of is not None:
        b = b.add_extension(x509.DeltaCRLIndicator(delta_of), critical=True)
    for serial, date, reason in entries:
        rb = x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(date)
        if reason is not None:
            rb = rb.add_extension(x509.CRLReason(reason), critical=False)
        b = b.add_revoked_certificate(rb.build())
    return b.sign(issuer.key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


@pytest.fixture(scope="module")
def stamped(w: World) -> bytes:
    return ad.with_tokens(w.bare, [w.stamp(w.bare)])


def leaf_crl(w: World, date: dt.datetime, reason: x509.ReasonFlags | None, **kw: object) -> bytes:
    kw.setdefault("this_update", w.moment + 30 * DAY)
    kw.setdefault("next_update", w.moment + 60 * DAY)
    return crl(w.p.ca, [(w.signer.cert.serial_number, date, reason)], **kw)  # type: ignore[arg-type]


def test_revoked_after_the_signature_is_ok_and_says_when_and_why(w: World, stamped: bytes) -> None:
    revoked_on = w.moment + 20 * DAY
    s = w.verify(stamped, crls=[leaf_crl(w, revoked_on, x509.ReasonFlags.key_compromise)])
    assert (s.code, s.signature_time_source, s.warnings) == ("ok", "timestamp", ["revoked_after_signature"])
    leaf = s.revocation[0]
    assert (leaf["status"], leaf["source"]) == ("good", "crl")
    assert (leaf["revoked_at"], leaf["revoked_reason"]) == (revoked_on, "key_compromise")
    # Judged today, the same evidence says revoked.
    s = w.verify(stamped, crls=[leaf_crl(w, revoked_on, x509.ReasonFlags.key_compromise)],
                 signature_time="at", at=w.moment + 25 * DAY)
    assert s.code == "cert_revoked"


def test_revoked_before_the_signature_fails(w: World, stamped: bytes) -> None:
    s = w.verify(stamped, crls=[leaf_crl(w, w.moment - 10 * DAY, x509.ReasonFlags.key_compromise)])
    assert (s.code, s.signature_time_source) == ("cert_revoked", "timestamp")


def test_a_stale_crl_listing_a_revocation_before_the_signature_still_counts(w: World, stamped: bytes) -> None:
    # Issued and expired before T: its silence says nothing about T, but a revocation is
    # permanent (RFC 5280 §5.3.1), so the entry dated before T decides.
    old = leaf_crl(w, w.moment - 40 * DAY, x509.ReasonFlags.key_compromise,
                   this_update=w.moment - 30 * DAY, next_update=w.moment - 20 * DAY)
    s = w.verify(stamped, crls=[old])
    assert (s.code, s.signature_time_source) == ("cert_revoked", "timestamp")
    # A hold in a stale CRL may have been lifted since: it decides nothing (soft-fail).
    held = leaf_crl(w, w.moment - 40 * DAY, x509.ReasonFlags.certificate_hold,
                    this_update=w.moment - 30 * DAY, next_update=w.moment - 20 * DAY)
    s = w.verify(stamped, crls=[held])
    assert (s.code, s.revocation[0]["status"]) == ("ok", "unknown")
    assert "stale" in s.revocation[0]["reason"]


def test_on_hold_at_the_signature_time(w: World, stamped: bytes) -> None:
    s = w.verify(stamped, crls=[leaf_crl(w, w.moment - 10 * DAY, x509.ReasonFlags.certificate_hold)])
    assert s.code == "cert_on_hold"


def test_hold_released_by_remove_from_crl_before_the_signature_is_ok(w: World, stamped: bytes) -> None:
    serial = w.signer.cert.serial_number
    base = crl(w.p.ca, [(serial, w.moment - 20 * DAY, x509.ReasonFlags.certificate_hold)],
               this_update=w.moment - 5 * DAY, next_update=w.moment + 60 * DAY, number=1)
    delta = crl(w.p.ca, [(serial, w.moment - 3 * DAY, x509.ReasonFlags.remove_from_crl)],
                this_update=w.moment - 2 * DAY, next_update=w.moment + 60 * DAY, number=2, delta_of=1)
    s = w.verify(stamped, crls=[base, delta])
    assert (s.code, s.warnings) == ("ok", [])
    assert s.revocation[0]["delta_crl_fingerprint"] is not None
    # Without the delta, the hold was in force at T.
    assert w.verify(stamped, crls=[base]).code == "cert_on_hold"


def test_hold_released_only_after_the_signature_was_in_force_at_it(w: World, stamped: bytes) -> None:
    serial = w.signer.cert.serial_number
    base = crl(w.p.ca, [(serial, w.moment - 20 * DAY, x509.ReasonFlags.certificate_hold)],
               this_update=w.moment - 5 * DAY, next_update=w.moment + 60 * DAY, number=1)
    delta = crl(w.p.ca, [(serial, w.moment + 3 * DAY, x509.ReasonFlags.remove_from_crl)],
                this_update=w.moment + 4 * DAY, next_update=w.moment + 60 * DAY, number=2, delta_of=1)
    assert w.verify(stamped, crls=[base, delta]).code == "cert_on_hold"


def test_silence_after_the_certificate_expired_proves_nothing(w: World, stamped: bytes) -> None:
    # A CRL issued after the signer's certificate expired that does not list it: the CA may
    # have dropped the entry (RFC 5280 §3.3), so it cannot say "good".
    after = w.signer.cert.not_valid_after_utc + DAY
    empty = crl(w.p.ca, [], this_update=after, next_update=after + 30 * DAY)
    s = w.verify(stamped, crls=[empty])
    assert (s.code, s.revocation[0]["status"]) == ("ok", "unknown")  # soft-fail
    assert "expired" in s.revocation[0]["reason"]
    # One issued after T but before expiry speaks for T.
    before = w.signer.cert.not_valid_after_utc - 30 * DAY
    fresh = crl(w.p.ca, [], this_update=before, next_update=before + 60 * DAY)
    s = w.verify(stamped, crls=[fresh])
    assert (s.code, s.revocation[0]["status"], s.revocation[0]["source"]) == ("ok", "good", "crl")


# --- forged and swapped time-stamps ------------------------------------------------------------


def tst_info_of(token: bytes) -> bytes:
    return bytes(a_cms.ContentInfo.load(token)["content"]["encap_content_info"]["content"].contents)


def forge(tst_der: bytes, signer: pki.Issued) -> bytes:
    """A token over ``tst_der`` signed by ``signer`` (govsig writes ESS signing-certificate-v2),
    for TSA certificates OpenSSL will not sign with."""
    key = govsig.KeySigner(signer.key, signer.cert, [c.cert for c in signer.intermediates])
    return govsig.sign(tst_der, key, detached=False, content_type=TST_INFO_OID)


def backdated(tst_der: bytes, years: int) -> bytes:
    from asn1crypto import tsp as a_tsp

    info = a_tsp.TSTInfo.load(tst_der)
    info["gen_time"] = info["gen_time"].native - years * ad.YEAR
    return bytes(info.dump(force=True))


def broken(token: bytes) -> bytes:
    """``token`` with the last bit of its SignerInfo's signature value flipped (in place)."""
    sig = a_cms.ContentInfo.load(token)["content"]["signer_infos"][0]["signature"].native
    assert token.count(sig) == 1
    return token.replace(sig, sig[:-1] + bytes([sig[-1] ^ 1]))


@pytest.fixture(scope="module")
def bad_tokens(w: World) -> dict[str, tuple[bytes, str]]:
    """Tokens on ``w.bare`` that must never move its time, with the code each gets."""
    own = w.stamp(w.bare)
    return {
        "imprint of another signature": (w.stamp(w.other_bare), "timestamp_imprint_mismatch"),
        "another TSA's token": (w.stamp(w.bare, w.stranger), "timestamp_untrusted"),
        "TSA without the critical EKU": (forge(backdated(tst_info_of(own), 3), w.tsa_noncritical),
                                         "timestamp_tsa_unauthorized"),
        "broken token signature": (broken(own), "timestamp_invalid"),
    }


@pytest.mark.parametrize("case", ["imprint of another signature", "another TSA's token",
                                  "TSA without the critical EKU", "broken token signature"])
def test_a_bad_timestamp_never_moves_the_signature_time(w: World, bad_tokens: dict[str, tuple[bytes, str]],
                                                        case: str) -> None:
    token, code = bad_tokens[case]
    sig = ad.with_tokens(w.bare, [token])
    s = w.verify(sig)
    assert (s.code, s.signature_time_source, s.signature_time) == ("cert_expired", "at", w.today)
    assert [(t.ok, t.code) for t in s.timestamps] == [(False, code)]
    s = w.verify(sig, require_timestamp=True)
    assert s.code == code
    # Beside a genuine token, the bad one is reported and the genuine one decides.
    good = w.stamp(w.bare)
    s = w.verify(ad.with_tokens(w.bare, [token, good]))
    assert (s.code, s.signature_time_source) == ("ok", "timestamp")
    assert sorted(t.code for t in s.timestamps) == sorted(["ok", code])


def test_a_gen_time_after_at_never_moves_the_signature_time(w: World, stamped: bytes) -> None:
    at = w.moment - 2 * DAY
    s = w.verify(stamped, at=at)
    assert (s.signature_time_source, s.signature_time) == ("at", at)
    assert s.timestamps[0].code == "timestamp_invalid" and "future" in s.timestamps[0].reason
    assert w.verify(stamped, at=at, require_timestamp=True).code == "timestamp_invalid"


def test_tsa_validation_gen_time_accepts_a_tsa_expired_since(w: World, openssl: str, tmp_path: Path) -> None:
    short = make_tsa_certificate("Short-lived TSA", w.p.tsa_root, not_before=w.moment - 30 * DAY,
                                 not_after=w.moment + 30 * DAY)
    with Tsa(tmp_path, openssl, signer=short) as t:
        sig = ad.with_tokens(w.bare, [w.stamp(w.bare, t)])
    s = w.verify(sig)
    assert (s.code, s.timestamps[0].code, s.timestamps[0].cause) == ("cert_expired", "timestamp_untrusted",
                                                                     "cert_expired")
    s = w.verify(sig, tsa_validation="gen_time")
    assert (s.code, s.signature_time_source) == ("ok", "timestamp")
    assert s.timestamps[0].validated_at == s.signature_time
    # Its revocation still counts as of `at`: revoked after genTime (key compromise), the
    # token proves nothing.
    tsa_crl = crl(w.p.tsa_root, [(short.cert.serial_number, w.moment + 10 * DAY, x509.ReasonFlags.key_compromise)],
                  this_update=w.moment + 20 * DAY, next_update=w.moment + 50 * DAY)
    s = w.verify(sig, tsa_validation="gen_time", crls=[tsa_crl])
    assert (s.code, s.signature_time_source) == ("cert_expired", "at")
    t = s.timestamps[0]
    assert (t.code, t.cause) == ("timestamp_untrusted", "cert_revoked")
    assert "revoked" in t.reason and "gen_time" in t.reason
    assert w.verify(sig, tsa_validation="gen_time", crls=[tsa_crl], require_timestamp=True).code == \
        "timestamp_untrusted"


# --- claimed signing time ----------------------------------------------------------------------


def test_backdated_signing_time_is_claimed_or_ignored(w: World) -> None:
    claimed_at = w.moment - 50 * DAY
    sig = pki.sign_cms(w.content, w.signer, signing_time=claimed_at)
    s = w.verify(sig, signature_time="claimed")
    assert (s.code, s.signature_time_source, s.signature_time) == ("ok", "claimed", claimed_at)
    s = w.verify(sig, signature_time="timestamp")
    assert (s.code, s.signature_time_source) == ("cert_expired", "at")
    # With a time-stamp, the proven time wins and the disagreement is a warning.
    stamped = ad.with_tokens(sig, [w.stamp(sig)])
    for mode in ("timestamp", "claimed"):
        s = w.verify(stamped, signature_time=mode)
        assert (s.code, s.signature_time_source, s.warnings) == ("ok", "timestamp", ["signing_time_mismatch"])
    s = w.verify(stamped, signing_time_tolerance=dt.timedelta(days=51))
    assert s.warnings == []


# --- the set of tokens, not their order --------------------------------------------------------


@pytest.fixture(scope="module")
def token_set(w: World, bad_tokens: dict[str, tuple[bytes, str]]) -> list[bytes]:
    return [w.stamp(w.bare), w.stamp(w.bare)] + [t for t, _ in bad_tokens.values()]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_the_verdict_does_not_depend_on_the_order_of_timestamps(w: World, token_set: list[bytes],
                                                                 data: st.DataObject) -> None:
    order = data.draw(st.permutations(range(len(token_set))))
    subset = data.draw(st.sets(st.sampled_from(range(len(token_set))), min_size=1))
    picked = [token_set[i] for i in order if i in subset]
    reference = [token_set[i] for i in sorted(subset)]

    def summary(tokens: list[bytes]) -> tuple[object, ...]:
        s = w.verify(ad.with_tokens(w.bare, tokens), require_timestamp=True)
        return (s.code, s.signature_time, s.signature_time_source, sorted(t.code for t in s.timestamps),
                sorted(w for w in s.warnings))

    assert summary(picked) == summary(reference)


def test_every_order_of_two_genuine_tokens_picks_the_earliest(w: World, token_set: list[bytes]) -> None:
    first, second = token_set[0], token_set[1]
    times = set()
    for tokens in itertools.permutations([first, second]):
        s = w.verify(ad.with_tokens(w.bare, list(tokens)))
        times.add(s.signature_time)
        assert s.signature_time == min(t.gen_time for t in s.timestamps).replace(microsecond=0)
    assert len(times) == 1


# --- the chain cache across signature times ----------------------------------------------------


def test_documents_signed_at_different_times_share_one_path(w: World) -> None:
    """A path validated at T1 is cached with the window its verdict holds in (validity of
    every certificate, evidence nextUpdate, revocations dated later): another document by
    the same certificate judged at T2 inside that window reuses it."""
    docs = []
    for k in range(12):
        content = f"Công văn {k}".encode()
        docs.append((pki.sign_cms(content, w.signer, signing_time=w.moment - k * 3 * DAY), content))
    v = govsig.Verifier(w.policy(signature_time="claimed"))
    batch = v.verify_many(docs, threads=1)
    assert batch.counts() == {"ok": len(docs)}
    assert len(set(batch.signature_time)) == len(docs), "each document has its own time"
    assert v._engine.path_builds() == 1
    # A revocation dated between the signatures splits the window: the later ones fail.
    revoked_on = w.moment - 16 * DAY
    v = govsig.Verifier(w.policy(signature_time="claimed",
                                 crls=[leaf_crl(w, revoked_on, x509.ReasonFlags.key_compromise)]))
    batch = v.verify_many(docs, threads=1)
    want = ["ok" if k * 3 > 16 else "cert_revoked" for k in range(len(docs))]
    assert [v.verify(s, c).signers[0].code for s, c in docs] == want
    assert [govsig.codes()[c] for c in batch.codes] == want


# --- OCSP evidence at the signature time -------------------------------------------------------


def ocsp_response(w: World, status: str, *, this_update: dt.datetime, revoked_on: dt.datetime | None = None,
                  reason: x509.ReasonFlags | None = None) -> bytes:
    from cryptography.x509 import ocsp

    cert_status = {"good": ocsp.OCSPCertStatus.GOOD, "revoked": ocsp.OCSPCertStatus.REVOKED}[status]
    b = (ocsp.OCSPResponseBuilder()
         .add_response(cert=w.signer.cert, issuer=w.p.ca.cert, algorithm=hashes.SHA1(), cert_status=cert_status,
                       this_update=this_update, next_update=this_update + 7 * DAY,
                       revocation_time=revoked_on, revocation_reason=reason)
         .responder_id(ocsp.OCSPResponderEncoding.HASH, w.p.ca.cert))
    return b.sign(w.p.ca.key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def test_ocsp_evidence_at_the_signature_time(w: World, stamped: bytes) -> None:
    later = w.moment + 40 * DAY
    revoked_on = w.moment + 10 * DAY
    s = w.verify(stamped, ocsp_responses=[ocsp_response(w, "revoked", this_update=later, revoked_on=revoked_on,
                                                        reason=x509.ReasonFlags.superseded)])
    assert (s.code, s.warnings) == ("ok", ["revoked_after_signature"])
    leaf = s.revocation[0]
    assert (leaf["source"], leaf["revoked_at"], leaf["revoked_reason"]) == ("ocsp", revoked_on, "superseded")
    s = w.verify(stamped, ocsp_responses=[ocsp_response(w, "revoked", this_update=later,
                                                        revoked_on=w.moment - DAY)])
    assert s.code == "cert_revoked"
    s = w.verify(stamped, ocsp_responses=[ocsp_response(w, "good", this_update=later)])
    assert (s.code, s.revocation[0]["status"], s.revocation[0]["source"]) == ("ok", "good", "ocsp")
    # "good" from a responder after the certificate expired proves nothing (RFC 6960 §4.4.4).
    after = w.signer.cert.not_valid_after_utc + DAY
    s = w.verify(stamped, ocsp_responses=[ocsp_response(w, "good", this_update=after)])
    assert (s.code, s.revocation[0]["status"]) == ("ok", "unknown")
    assert "expired" in s.revocation[0]["reason"]


def test_a_cached_path_is_not_reused_where_stale_evidence_was_current(w: World) -> None:
    """A CRL stale at T1 is current at an earlier T2 and may decide there: the path cached at
    T1 must not answer for T2. (A hold: a stale CRL's permanent revocation decides at T1 too.)"""
    a = pki.sign_cms(b"a", w.signer, signing_time=w.moment)
    b = pki.sign_cms(b"b", w.signer, signing_time=w.moment - 10 * DAY)
    old = leaf_crl(w, w.moment - 12 * DAY, x509.ReasonFlags.certificate_hold,
                   this_update=w.moment - 11 * DAY, next_update=w.moment - 9 * DAY)
    v = govsig.Verifier(w.policy(signature_time="claimed", crls=[old]))
    batch = v.verify_many([(a, b"a"), (b, b"b")], threads=1)
    assert [govsig.codes()[c] for c in batch.codes] == ["ok", "cert_on_hold"]
    assert v.verify(a, b"a").signers[0].revocation[0]["status"] == "unknown"


def test_archive_under_hard_fail_with_every_level_decided(w: World) -> None:
    """Every certificate on every path has its status decided by a CRL: the signers' and
    their CA's at the signature time (CRLs issued after it, before the signers expired), the
    TSA's at `at` (a CRL current today)."""
    after_t = dict(this_update=w.moment + 30 * DAY, next_update=w.moment + 60 * DAY)
    crls = [crl(w.p.root, [], **after_t), crl(w.p.ca, [], **after_t),  # type: ignore[arg-type]
            crl(w.p.tsa_root, [], this_update=w.today - DAY, next_update=w.today + 30 * DAY)]
    v = govsig.Verifier(w.policy(revocation="hard-fail", crls=crls))
    assert v.verify_many(w.archive).counts() == {"ok": len(w.archive)}
    s = v.verify(*w.archive[0]).signers[0]
    assert [(e["status"], e["source"]) for e in s.revocation] == [("good", "crl")] * 2
    assert [(e["status"], e["source"]) for e in s.timestamps[0].revocation] == [("good", "crl")]
    # Without the TSA's CRL the time-stamp is untrusted under hard-fail and T falls back.
    v = govsig.Verifier(w.policy(revocation="hard-fail", crls=crls[:2]))
    s = v.verify(*w.archive[0]).signers[0]
    assert (s.code, s.signature_time_source, s.timestamps[0].cause) == ("cert_expired", "at", "revocation_unknown")


# --- evidence kept: every verdict reproduced offline --------------------------------------------


def test_evidence_round_trip_reproduces_every_verdict_offline(w: World) -> None:
    """Each verdict's evidence (paths, the CRLs and OCSP answers that decided, the TSA's path
    and evidence) fed back with nothing else, the same anchors and ``at``, gives the same
    verdicts; evidence that decided nothing is not handed back."""
    stranger = pki.make_intermediate("Unrelated CA", w.p.root, seed="unrelated-ca")
    unrelated = crl(stranger, [], this_update=w.moment, next_update=w.moment + 60 * DAY)
    signers = w.p.signers
    revoked_later = (signers[1].cert.serial_number, w.moment + 20 * DAY, x509.ReasonFlags.key_compromise)
    revoked_before = (signers[2].cert.serial_number, w.moment - 20 * DAY, x509.ReasonFlags.key_compromise)
    on_hold = (signers[3].cert.serial_number, w.moment - 20 * DAY, x509.ReasonFlags.certificate_hold)
    after_t = dict(this_update=w.moment + 30 * DAY, next_update=w.moment + 60 * DAY)
    crls = [crl(w.p.root, [], **after_t), crl(w.p.ca, [revoked_later, revoked_before, on_hold], **after_t),
            crl(w.p.tsa_root, [], this_update=w.today - DAY, next_update=w.today + 30 * DAY), unrelated]
    w.signer = signers[4]
    try:
        ocsp = [ocsp_response(w, "good", this_update=w.moment + 40 * DAY)]
    finally:
        w.signer = signers[0]
    docs = [(sig, content) for sig, content in w.archive]
    knobs = dict(revocation="hard-fail", revocation_sources=("crl", "ocsp"))
    v = govsig.Verifier(w.policy(crls=crls, ocsp_responses=ocsp, **knobs))
    batch = v.verify_many(docs)
    verdicts = [govsig.codes()[c] for c in batch.codes]
    assert verdicts == ["ok", "ok", "cert_revoked", "cert_on_hold", "ok"]
    ev = batch.evidence()
    assert isinstance(ev, govsig.Evidence)
    assert unrelated not in ev.crls and len(ev.crls) == 3 and len(ev.ocsp_responses) == 0
    # Each document's own evidence reproduces its verdict alone.
    for (sig, content), want in zip(docs, verdicts):
        one = v.verify(sig, content).evidence
        offline = govsig.Verifier(w.policy(crls=one.crls, ocsp_responses=one.ocsp_responses,
                                           intermediates=one.certificates, **knobs))
        assert offline.verify(sig, content).code == want
    offline = govsig.Verifier(w.policy(crls=ev.crls, ocsp_responses=ev.ocsp_responses,
                                       intermediates=ev.certificates, **knobs))
    assert [govsig.codes()[c] for c in offline.verify_many(docs).codes] == verdicts
    # OCSP evidence is handed back when it decided: the last signer, with CRLs from its CA gone.
    v = govsig.Verifier(w.policy(crls=[crls[0], crls[2]], ocsp_responses=ocsp, **knobs))
    r = v.verify(*docs[4])
    assert r.code == "ok" and r.evidence.ocsp_responses == tuple(ocsp)
    offline = govsig.Verifier(w.policy(crls=r.evidence.crls, ocsp_responses=r.evidence.ocsp_responses,
                                       intermediates=r.evidence.certificates, **knobs))
    assert offline.verify(*docs[4]).code == "ok"
