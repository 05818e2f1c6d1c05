"""Issue 11 item 2: a pathological certificate (thousands of SANs under a CA with thousands
of name constraints) ends with ``budget_exceeded``, a stated failure, not minutes of work.
Generated with ``cryptography``; no timing is asserted (the budget bounds the work)."""
from __future__ import annotations

from cryptography import x509

import govsig
import pki as P

N = 3000


def test_thousands_of_sans_against_thousands_of_constraints_exceed_the_budget() -> None:
    root = P.make_root("Root CA ràng buộc tên", "p256", seed="nc-budget|root")
    excluded = [x509.DNSName(f"cam{i}.example.vn") for i in range(N)]
    ca = P.make_intermediate("CA nhiều ràng buộc tên", root, "p256", seed="nc-budget|ca",
                             extra_extensions=[(x509.NameConstraints(None, excluded), True)])
    sans = [x509.DNSName(f"may{i}.dich-vu.gov.vn") for i in range(N)]
    leaf = P.make_leaf("Máy chủ nhiều tên", ca, "p256", seed="nc-budget|leaf",
                       extra_extensions=[(x509.SubjectAlternativeName(sans), False)])
    v = govsig.Verifier(govsig.Policy(trust=[root.cert], revocation="off"))
    r = v.verify_certificate(leaf.der, [ca.der])
    assert r.code == "budget_exceeded", (r.code, r.reason)
    assert "name-constraint checks exceeded their budget" in r.reason
    assert "Máy chủ nhiều tên" in r.reason
    # The same shape, small (100 names x 100 constraints, within the default budget of
    # 65,536 comparisons), passes: it is the size that ends the path, not a violation.
    small_ca = P.make_intermediate("CA ít ràng buộc tên", root, "p256", seed="nc-budget|small-ca",
                                   extra_extensions=[(x509.NameConstraints(None, excluded[:100]), True)])
    small = P.make_leaf("Máy chủ ít tên", small_ca, "p256", seed="nc-budget|small-leaf",
                        extra_extensions=[(x509.SubjectAlternativeName(sans[:100]), False)])
    ok = v.verify_certificate(small.der, [small_ca.der])
    assert ok.code == "ok", (ok.code, ok.reason)
