"""Differential path validation: govsig against pyhanko-certvalidator on generated chains.

A seeded generator builds root -> 1..3 intermediates -> leaf chains that exercise
certificate policies (certificatePolicies, policyMappings, policyConstraints,
inhibitAnyPolicy and the four RFC 5280 §6.1.1 policy inputs), name constraints (dNSName,
rfc822Name and directoryName, permitted and excluded) and CRLs (good, revoked leaf, revoked
intermediate, missing). Both validators get the same inputs: one trust anchor, the
intermediates as untrusted certificates, the CRLs as the only revocation evidence, the same
moment, revocation hard-fail, no fetching. They must reach the same verdict.

pyhanko's "hard-fail" only checks certificates that declare where their status is published
(its CHECK_IF_DECLARED rule), so every generated non-anchor certificate carries a
cRLDistributionPoints extension; govsig's hard-fail checks every non-anchor certificate
regardless. pyhanko applies the bare RFC 5280 §6.1.5 success rule to the user policy set, so
govsig runs with ``require_acceptable_policy=False`` here (test_pkits_paths.py covers the
stricter default).

Known disagreements are listed in KNOWN_DISAGREEMENTS with the RFC clause that decides them;
any other disagreement fails the test and prints the case.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
from dataclasses import dataclass, field
from typing import Optional

import pytest
from asn1crypto import x509 as a_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.name import _ASN1Type
from cryptography.x509.oid import NameOID
from pyhanko_certvalidator import CertificateValidator, ValidationContext
from pyhanko_certvalidator.errors import PathBuildingError, PathValidationError, ValidationError
from pyhanko_certvalidator.policy_decl import PKIXValidationParams

import govsig
import pki

UTC = dt.timezone.utc
AT = dt.datetime(2026, 3, 1, tzinfo=UTC)
CA_FROM, CA_UNTIL = dt.datetime(2015, 1, 1, tzinfo=UTC), dt.datetime(2045, 1, 1, tzinfo=UTC)
LEAF_FROM, LEAF_UNTIL = dt.datetime(2025, 1, 1, tzinfo=UTC), dt.datetime(2030, 1, 1, tzinfo=UTC)
CRL_THIS, CRL_NEXT = dt.datetime(2026, 2, 1, tzinfo=UTC), dt.datetime(2026, 4, 1, tzinfo=UTC)
REVOKED_ON = dt.datetime(2026, 1, 10, tzinfo=UTC)

SEED = 5280
N_CASES = 64

ANY = "2.5.29.32.0"
# Under Vietnam's country arc (2.16.704): three document-signing policies of a test CA.
P1, P2, P3 = "2.16.704.1.99.1", "2.16.704.1.99.2", "2.16.704.1.99.3"
POLICY_MAPPINGS_OID = "2.5.29.33"

ORGS = ("UBND thành phố Hà Nội", "Bộ Tài chính", "Sở Tư pháp Huế")
CA_ORG = "Trung tâm Chứng thực điện tử thử nghiệm"


def _name(cn: str, org: str) -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "VN", _type=_ASN1Type.PrintableString),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, org, _type=_ASN1Type.UTF8String),
        x509.NameAttribute(NameOID.COMMON_NAME, cn, _type=_ASN1Type.UTF8String),
    ])


def _org_subtree(org: str) -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "VN", _type=_ASN1Type.PrintableString),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, org, _type=_ASN1Type.UTF8String),
    ])


def _policy_mappings(pairs: list[tuple[str, str]]) -> x509.UnrecognizedExtension:
    # cryptography has no PolicyMappings builder; asn1crypto encodes it (RFC 5280 §4.2.1.5).
    der = a_x509.PolicyMappings([
        {"issuer_domain_policy": i, "subject_domain_policy": s} for i, s in pairs]).dump()
    return x509.UnrecognizedExtension(x509.ObjectIdentifier(POLICY_MAPPINGS_OID), der)


def _ec_key(seed: str) -> ec.EllipticCurvePrivateKey:
    k = pki.derive_key("p256", seed)
    assert isinstance(k, ec.EllipticCurvePrivateKey)
    return k


@dataclass
class Node:
    label: str
    subject: x509.Name
    key: ec.EllipticCurvePrivateKey
    cert: Optional[x509.Certificate] = None

    @property
    def der(self) -> bytes:
        assert self.cert is not None
        return self.cert.public_bytes(serialization.Encoding.DER)


def _issue(node: Node, issuer: Node, *, ca: bool, extensions: list[tuple[x509.ExtensionType, bool]],
           serial: int) -> None:
    b = (x509.CertificateBuilder()
         .subject_name(node.subject).issuer_name(issuer.subject)
         .public_key(node.key.public_key()).serial_number(serial)
         .not_valid_before(CA_FROM if ca else LEAF_FROM).not_valid_after(CA_UNTIL if ca else LEAF_UNTIL)
         .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
         .add_extension(x509.KeyUsage(
             digital_signature=not ca, content_commitment=not ca, key_encipherment=False,
             data_encipherment=False, key_agreement=False, key_cert_sign=ca, crl_sign=ca,
             encipher_only=False, decipher_only=False), critical=True)
         .add_extension(x509.SubjectKeyIdentifier.from_public_key(node.key.public_key()), critical=False)
         .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), critical=False))
    if node is not issuer:
        # pyhanko's hard-fail checks only certificates that declare a CRL location.
        b = b.add_extension(x509.CRLDistributionPoints([x509.DistributionPoint(
            full_name=[x509.UniformResourceIdentifier(f"http://crl.invalid/{issuer.label}.crl")],
            relative_name=None, reasons=None, crl_issuer=None)]), critical=False)
    for ext, critical in extensions:
        b = b.add_extension(ext, critical=critical)
    node.cert = b.sign(issuer.key, hashes.SHA256(), ecdsa_deterministic=True)


CRL_OUTCOMES = ("good", "leaf", "intermediate", "missing", "stale", "foreign")


def _crl(issuer: Node, revoked: list[int], next_update: dt.datetime = CRL_NEXT) -> bytes:
    b = (x509.CertificateRevocationListBuilder().issuer_name(issuer.subject)
         .last_update(CRL_THIS).next_update(next_update)
         .add_extension(x509.CRLNumber(1), critical=False)
         .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), critical=False))
    for s in revoked:
        b = b.add_revoked_certificate(x509.RevokedCertificateBuilder().serial_number(s)
                                      .revocation_date(REVOKED_ON)
                                      .add_extension(x509.CRLReason(x509.ReasonFlags.key_compromise), critical=False)
                                      .build())
    return b.sign(issuer.key, hashes.SHA256(), ecdsa_deterministic=True).public_bytes(serialization.Encoding.DER)


@dataclass
class Case:
    id: str
    root: bytes
    intermediates: list[bytes]
    leaf: bytes
    crls: list[bytes]
    user_initial_policy_set: tuple[str, ...] = (ANY,)
    initial_explicit_policy: bool = False
    initial_policy_mapping_inhibit: bool = False
    initial_any_policy_inhibit: bool = False
    notes: list[str] = field(default_factory=list)


def _policy_extensions(rng: random.Random, is_leaf: bool, notes: list[str], who: str) -> list[tuple[x509.ExtensionType, bool]]:
    exts: list[tuple[x509.ExtensionType, bool]] = []
    choices = ([None, [P1], [P2], [P3], [P1, P2], [ANY]] if is_leaf else
               [None, [P1], [P2], [P1, P2], [ANY], [ANY], [P1, ANY], [P3]])
    pols = rng.choice(choices)
    if pols is not None:
        exts.append((x509.CertificatePolicies([x509.PolicyInformation(x509.ObjectIdentifier(o), None)
                                               for o in pols]), False))
        notes.append(f"{who}.policies={pols}")
    if is_leaf:
        return exts
    if rng.random() < 0.3:
        pairs = rng.choice([[(P1, P2)], [(P1, P3)], [(P2, P1), (P1, P3)], [(P1, P2), (P1, P3)]])
        exts.append((_policy_mappings(pairs), True))
        notes.append(f"{who}.mappings={pairs}")
    if rng.random() < 0.3:
        rep = rng.choice([None, 0, 1, 2])
        ipm = rng.choice([None, 0, 1]) if rep is not None else rng.choice([0, 1])
        exts.append((x509.PolicyConstraints(require_explicit_policy=rep, inhibit_policy_mapping=ipm), True))
        notes.append(f"{who}.policyConstraints(require={rep}, inhibitMapping={ipm})")
    if rng.random() < 0.2:
        skip = rng.choice([0, 1])
        exts.append((x509.InhibitAnyPolicy(skip), True))
        notes.append(f"{who}.inhibitAnyPolicy={skip}")
    return exts


DNS_TREES = ("gov.vn", "hanoi.gov.vn", "evil.example")
DNS_NAMES = ("hanoi.gov.vn", "gov.vn", "www.hanoi.gov.vn", "evil.example", "xgov.vn", "sub.evil.example")
EMAIL_TREES = ("gov.vn", ".gov.vn", "an@hanoi.gov.vn", "evil.example")
EMAILS = ("an@gov.vn", "an@hanoi.gov.vn", "binh@hanoi.gov.vn", "an@evil.example", "an@xgov.vn")


def _name_constraints(rng: random.Random, notes: list[str], who: str) -> Optional[x509.NameConstraints]:
    permitted: list[x509.GeneralName] = []
    excluded: list[x509.GeneralName] = []
    for kind in rng.sample(["dns", "email", "dn"], rng.choice([1, 1, 2])):
        target = permitted if rng.random() < 0.6 else excluded
        if kind == "dns":
            target.append(x509.DNSName(rng.choice(DNS_TREES)))
        elif kind == "email":
            target.append(x509.RFC822Name(rng.choice(EMAIL_TREES)))
        else:
            target.append(x509.DirectoryName(_org_subtree(rng.choice(ORGS + (CA_ORG,)))))
    notes.append(f"{who}.nameConstraints(permitted={[g.value if not isinstance(g, x509.DirectoryName) else g.value.rfc4514_string() for g in permitted]}, "
                 f"excluded={[g.value if not isinstance(g, x509.DirectoryName) else g.value.rfc4514_string() for g in excluded]})")
    return x509.NameConstraints(permitted_subtrees=permitted or None, excluded_subtrees=excluded or None)


def make_case(i: int) -> Case:
    rng = random.Random(f"{SEED}|{i}")
    kind = ("policy", "names", "crl", "mixed")[i % 4]
    depth = rng.choice([1, 1, 2, 3])
    notes = [f"kind={kind}", f"intermediates={depth}"]
    key = lambda label: _ec_key(f"diffpaths|{label}")  # noqa: E731 (seeded per role)
    root = Node(f"c{i}-root", _name(f"Root CA {i}", CA_ORG), key(f"c{i}-root"))
    _issue(root, root, ca=True, extensions=[], serial=rng.getrandbits(63) | 1)
    leaf_org = rng.choice(ORGS)
    chain: list[Node] = [root]
    for d in range(depth):
        org = leaf_org if kind in ("names", "mixed") and rng.random() < 0.6 else CA_ORG
        node = Node(f"c{i}-ca{d}", _name(f"CA {i}.{d}", org), key(f"c{i}-ca{d}"))
        exts: list[tuple[x509.ExtensionType, bool]] = []
        if kind in ("policy", "mixed"):
            exts += _policy_extensions(rng, False, notes, f"ca{d}")
        if kind in ("names", "mixed") and rng.random() < 0.7:
            nc = _name_constraints(rng, notes, f"ca{d}")
            if nc is not None:
                exts.append((nc, True))
        _issue(node, chain[-1], ca=True, extensions=exts, serial=rng.getrandbits(63) | 1)
        chain.append(node)
    leaf_subject = _name(f"Người ký {i}", leaf_org)
    if kind in ("names", "mixed") and rng.random() < 0.3:
        # RFC 5280 §4.2.1.10: without an rfc822Name in subjectAltName, rfc822Name
        # constraints apply to emailAddress attributes of the subject (legacy form).
        mail = rng.choice(EMAILS)
        leaf_subject = x509.Name([*leaf_subject, x509.NameAttribute(NameOID.EMAIL_ADDRESS, mail)])
        notes.append(f"leaf.subject_email={mail}")
    leaf = Node(f"c{i}-leaf", leaf_subject, key(f"c{i}-leaf"))
    exts = []
    if kind in ("policy", "mixed"):
        exts += _policy_extensions(rng, True, notes, "leaf")
    else:
        exts.append((x509.CertificatePolicies([x509.PolicyInformation(x509.ObjectIdentifier(P1), None)]), False))
    if kind in ("names", "mixed"):
        sans: list[x509.GeneralName] = []
        if rng.random() < 0.7:
            sans.append(x509.DNSName(rng.choice(DNS_NAMES)))
        if rng.random() < 0.7:
            sans.append(x509.RFC822Name(rng.choice(EMAILS)))
        if sans:
            exts.append((x509.SubjectAlternativeName(sans), False))
            notes.append(f"leaf.san={[g.value for g in sans]}")
        notes.append(f"leaf.org={leaf_org}")
    _issue(leaf, chain[-1], ca=False, extensions=exts, serial=rng.getrandbits(63) | 1)
    chain.append(leaf)

    # CRLs: one per CA, each listing (or not) the certificate below it. The CRL cases cycle
    # through the outcomes so that each appears whatever the seed.
    revoked_at: Optional[int] = None
    missing_at: Optional[int] = None
    what = "good"
    if kind == "crl":
        what = CRL_OUTCOMES[(i // 4) % len(CRL_OUTCOMES)]
    elif kind == "mixed" and rng.random() < 0.3:
        what = rng.choice(CRL_OUTCOMES)
    notes.append(f"crl={what}")
    if what == "leaf":
        revoked_at = len(chain) - 2
    elif what == "intermediate":
        revoked_at = rng.randrange(0, len(chain) - 2)
    elif what == "missing":
        missing_at = rng.randrange(0, len(chain) - 1)
    crls = []
    for idx, ca in enumerate(chain[:-1]):
        if idx == missing_at:
            continue
        child = chain[idx + 1]
        assert child.cert is not None
        if what == "stale" and idx == len(chain) - 2:
            # RFC 5280 §6.3.3 (a): a CRL whose nextUpdate has passed must be replaced; with
            # nothing newer, the status is undetermined.
            crls.append(_crl(ca, [], next_update=dt.datetime(2026, 2, 15, tzinfo=UTC)))
            continue
        crls.append(_crl(ca, [child.cert.serial_number] if idx == revoked_at else [rng.getrandbits(60) | 1]))
    if what == "foreign":
        # Another CA's CRL listing the leaf's serial: out of scope (RFC 5280 §6.3.3 (b)),
        # it must not revoke anything.
        other = Node(f"c{i}-other", _name(f"CA khác {i}", CA_ORG), key(f"c{i}-other"))
        assert leaf.cert is not None
        crls.append(_crl(other, [leaf.cert.serial_number]))

    case = Case(id=f"{i:02d}-{kind}", root=root.der, intermediates=[n.der for n in chain[1:-1]],
                leaf=leaf.der, crls=crls, notes=notes)
    if kind in ("policy", "mixed"):
        case.user_initial_policy_set = rng.choice([(ANY,), (ANY,), (P1,), (P2,), (P1, P3)])
        case.initial_explicit_policy = rng.random() < 0.4
        case.initial_policy_mapping_inhibit = rng.random() < 0.2
        case.initial_any_policy_inhibit = rng.random() < 0.2
        notes.append(f"inputs(policies={case.user_initial_policy_set}, explicit={case.initial_explicit_policy}, "
                     f"mapping_inhibit={case.initial_policy_mapping_inhibit}, any_inhibit={case.initial_any_policy_inhibit})")
    return case


def run_govsig(c: Case) -> govsig.PathResult:
    policy = govsig.Policy(
        trust=[c.root], at=AT, crls=c.crls, revocation="hard-fail", key_usage=(),
        user_initial_policy_set=c.user_initial_policy_set,
        initial_explicit_policy=c.initial_explicit_policy,
        initial_policy_mapping_inhibit=c.initial_policy_mapping_inhibit,
        initial_any_policy_inhibit=c.initial_any_policy_inhibit,
        require_acceptable_policy=False,
    )
    return govsig.Verifier(policy).verify_certificate(c.leaf, c.intermediates)


def run_pyhanko(c: Case) -> tuple[bool, str, Optional[set[str]]]:
    """(valid, error text, user-constrained policy set when valid)."""
    ctx = ValidationContext(
        trust_roots=[a_x509.Certificate.load(c.root)],
        moment=AT,
        allow_fetching=False,
        crls=c.crls,
        revocation_mode="hard-fail",
    )
    params = PKIXValidationParams(
        user_initial_policy_set=frozenset("any_policy" if o == ANY else o for o in c.user_initial_policy_set),
        initial_policy_mapping_inhibit=c.initial_policy_mapping_inhibit,
        initial_explicit_policy=c.initial_explicit_policy,
        initial_any_policy_inhibit=c.initial_any_policy_inhibit,
    )
    validator = CertificateValidator(
        a_x509.Certificate.load(c.leaf),
        intermediate_certs=[a_x509.Certificate.load(d) for d in c.intermediates],
        validation_context=ctx,
        pkix_params=params,
    )
    try:
        path = asyncio.run(validator.async_validate_path())
    except (PathBuildingError, PathValidationError, ValidationError) as e:
        return False, f"{type(e).__name__}: {e}", None
    qualified = path.qualified_policies()
    ucps = None if qualified is None else {q.user_domain_policy_id for q in qualified}
    return True, "", ucps


def email_case(case_id: str, permitted: str, san_email: Optional[str], subject_email: str) -> Case:
    """root -> CA (rfc822Name permitted subtree) -> leaf with an emailAddress attribute in
    its subject, and an rfc822Name subjectAltName or none: the legacy-email rule of
    RFC 5280 §4.2.1.10, directed rather than left to the seed."""
    key = lambda label: _ec_key(f"diffpaths|{case_id}|{label}")  # noqa: E731
    root = Node(f"{case_id}-root", _name(f"Root CA {case_id}", CA_ORG), key("root"))
    _issue(root, root, ca=True, extensions=[], serial=11)
    ca = Node(f"{case_id}-ca", _name(f"CA {case_id}", CA_ORG), key("ca"))
    _issue(ca, root, ca=True, serial=12, extensions=[
        (x509.NameConstraints(permitted_subtrees=[x509.RFC822Name(permitted)], excluded_subtrees=None), True)])
    subject = x509.Name([*_name(f"Người ký {case_id}", ORGS[0]), x509.NameAttribute(NameOID.EMAIL_ADDRESS, subject_email)])
    leaf = Node(f"{case_id}-leaf", subject, key("leaf"))
    exts: list[tuple[x509.ExtensionType, bool]] = []
    if san_email is not None:
        exts.append((x509.SubjectAlternativeName([x509.RFC822Name(san_email)]), False))
    _issue(leaf, ca, ca=False, extensions=exts, serial=13)
    return Case(id=case_id, root=root.der, intermediates=[ca.der], leaf=leaf.der,
                crls=[_crl(root, []), _crl(ca, [])],
                notes=[f"ca.nameConstraints(permitted=[{permitted!r}])", f"leaf.san={san_email}",
                       f"leaf.subject_email={subject_email}"])


CASES = [make_case(i) for i in range(N_CASES)] + [
    email_case("email-nosan-outside", "gov.vn", None, "an@evil.example"),
    email_case("email-nosan-inside", "gov.vn", None, "an@gov.vn"),
    email_case("email-san-inside-dn-inside", ".gov.vn", "an@hanoi.gov.vn", "an@hanoi.gov.vn"),
    email_case("email-san-inside-dn-outside", ".gov.vn", "an@hanoi.gov.vn", "an@evil.example"),
]

# The rfc822Name rule for a subject emailAddress when the certificate also has a
# subjectAltName. RFC 5280 §4.2.1.10 requires applying rfc822Name constraints to the
# subject's emailAddress attributes when there is no subjectAltName; it neither requires nor
# forbids it when there is one. govsig always applies them (as OpenSSL's
# NAME_CONSTRAINTS_check does): the certificate asserts a mailbox outside the CA's permitted
# space, and a relying party that reads the legacy attribute would trust it. pyhanko applies
# them only to the subjectAltName. Both readings conform; govsig's is the stricter, and it is
# kept deliberately. Any other disagreement fails the test.
_LEGACY_EMAIL = (False, True, "RFC 5280 §4.2.1.10: subject emailAddress beside a SAN; govsig stricter, both conform")
KNOWN_DISAGREEMENTS: dict[str, tuple[bool, bool, str]] = {
    "33-names": _LEGACY_EMAIL,
    "email-san-inside-dn-outside": _LEGACY_EMAIL,
}


def test_generator_covers_every_feature() -> None:
    """The seeded cases exercise what the differential claims to cover."""
    notes = " ".join(n for c in CASES for n in c.notes)
    for feature in ("policies=", "mappings=", "policyConstraints(", "inhibitAnyPolicy=",
                    "nameConstraints(", "crl=leaf", "crl=intermediate", "crl=good", "crl=missing",
                    "crl=stale", "crl=foreign",
                    "explicit=True", "mapping_inhibit=True", "any_inhibit=True"):
        assert feature in notes, f"no generated case exercises {feature!r}"
    kinds = {n.split(".")[0] for c in CASES for n in c.notes if "nameConstraints" in n}
    assert kinds, "no name constraints generated"
    assert len(CASES) >= 40
    assert len(KNOWN_DISAGREEMENTS) <= 2


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_same_verdict_as_pyhanko(case: Case) -> None:
    ours = run_govsig(case)
    ok, why, ucps = run_pyhanko(case)
    if case.id in KNOWN_DISAGREEMENTS:
        g, h, _ = KNOWN_DISAGREEMENTS[case.id]
        assert (ours.ok, ok) == (g, h), f"known disagreement changed: govsig {ours.code}, pyhanko {why or 'valid'}"
        assert ours.code == "name_constraints_violated" and "emailAddress" in ours.reason, ours.reason
        return
    assert ours.ok == ok, (
        f"govsig: {ours.code} {ours.reason!r}; pyhanko: {why or 'valid'}; case: {'; '.join(case.notes)}")
    if ok and ucps is not None:
        assert set(ours.user_constrained_policy_set) == {"2.5.29.32.0" if p == "any_policy" else p for p in ucps}, (
            f"user-constrained policy sets differ; case: {'; '.join(case.notes)}")


def test_verdicts_are_mixed() -> None:
    """A differential where everything passes (or fails) proves little."""
    verdicts = [run_govsig(c).ok for c in CASES]
    assert 0.2 < sum(verdicts) / len(verdicts) < 0.8, sum(verdicts)
