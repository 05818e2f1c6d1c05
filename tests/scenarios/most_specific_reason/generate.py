"""Every candidate path fails, each for a different reason: the result must be the most
specific failure, naming the certificate (as rustls-webpki ranks its errors: "expired" says
more than "unknown issuer").

Files:
- root.pem: the trust anchor;
- other_root.pem: a root nobody trusts;
- inter_expired.pem: "CA cấp dưới", key K, issued by root, expired in 2020;
- inter_untrusted.pem: "CA cấp dưới", key K, issued by other_root (valid, but leads to an
  untrusted root);
- inter_wrong_key.pem: "CA cấp dưới" with another key (the leaf's signature fails under it);
- leaf.pem: the signer, issued by "CA cấp dưới" with key K.

Candidate paths, given all three intermediates:
- leaf -> inter_expired -> root: cert_expired (rank 80 in govsig's outcome catalogue);
- leaf -> inter_untrusted: its issuer other_root is neither trusted nor supplied:
  chain_untrusted (rank 10);
- leaf -> inter_wrong_key: the leaf's signature does not verify: cert_signature_invalid
  (rank 78).
The expected result is cert_expired naming inter_expired; tests/test_scenarios.py also
drops candidates to show each lower-ranked reason surfacing in turn.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from _scenario_pki import UTC, issue, key, key_id, name, out_dir, self_signed, write  # noqa: E402


def generate(out: Path) -> None:
    rn, rk = name("Root CA tin cậy"), key("specific|root")
    on, ok_ = name("Root CA không tin cậy"), key("specific|other-root")
    root = self_signed("specific|root", rn, rk)
    other = self_signed("specific|other-root", on, ok_)
    n, k = name("CA cấp dưới"), key("specific|inter")
    expired = issue("specific|inter-expired", n, k, rn, rk, ca=True,
                    not_before=dt.datetime(2015, 1, 1, tzinfo=UTC), not_after=dt.datetime(2020, 1, 1, tzinfo=UTC))
    untrusted = issue("specific|inter-untrusted", n, k, on, ok_, ca=True)
    wrong = issue("specific|inter-wrong-key", n, key("specific|inter-wrong-key"), rn, rk, ca=True, ski=key_id(k))
    leaf = issue("specific|leaf", name("Đỗ Văn Hùng", "Sở Giáo dục"), key("specific|leaf"), n, k, ca=False)
    write(out, {"root.pem": root.pem, "other_root.pem": other.pem, "inter_expired.pem": expired.pem,
                "inter_untrusted.pem": untrusted.pem, "inter_wrong_key.pem": wrong.pem, "leaf.pem": leaf.pem})


if __name__ == "__main__":
    generate(out_dir(HERE))
