"""Two intermediates with the same name and key, one expired: the builder must pass over the
expired one and choose the other (RFC 4158 §3: build all candidate paths, not only the
first; RFC 5280 §6.1.3 (a)(2) fails the path through the expired one).

Files:
- root.pem: the trust anchor;
- inter_expired.pem: the intermediate, valid 2015-01-01..2020-01-01 (expired at the
  scenarios' validation time, 2026-03-01);
- inter_valid.pem: the same name and key, reissued, valid 2020-01-01..2045-01-01;
- leaf.pem: the signer, issued by that intermediate name and key.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from _scenario_pki import UTC, issue, key, name, out_dir, self_signed, write  # noqa: E402


def generate(out: Path) -> None:
    rn, rk = name("Root CA gia hạn"), key("expalt|root")
    root = self_signed("expalt|root", rn, rk)
    n, k = name("CA cấp dưới gia hạn"), key("expalt|inter")
    expired = issue("expalt|inter-expired", n, k, rn, rk, ca=True,
                    not_before=dt.datetime(2015, 1, 1, tzinfo=UTC), not_after=dt.datetime(2020, 1, 1, tzinfo=UTC))
    valid = issue("expalt|inter-valid", n, k, rn, rk, ca=True,
                  not_before=dt.datetime(2020, 1, 1, tzinfo=UTC), not_after=dt.datetime(2045, 1, 1, tzinfo=UTC))
    leaf = issue("expalt|leaf", name("Vũ Thị Hạnh", "Sở Y tế"), key("expalt|leaf"), n, k, ca=False)
    write(out, {"root.pem": root.pem, "inter_expired.pem": expired.pem, "inter_valid.pem": valid.pem,
                "leaf.pem": leaf.pem})


if __name__ == "__main__":
    generate(out_dir(HERE))
