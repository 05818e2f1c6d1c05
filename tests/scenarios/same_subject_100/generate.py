"""A path-building trap: 100 CA certificates with one subject name, one key and one key
identifier, each issued by that same name and key, none of them a trust anchor.

Every one of the 100 is a valid issuer of the leaf and of each of the other 99 (names chain,
AKI equals SKI, signatures verify), so the candidate graph is complete: a depth-first builder
without a budget would walk up to 100*99*...*92 (about 10^16) paths of 8 intermediates before
concluding there is no path to the anchor. RFC 4158 §5 calls for loop detection and bounded
effort; the builder must stop on its budget.

Files:
- root.pem: the trust anchor (unrelated to the 100: its name is different);
- cas.pem: the 100 CA certificates, one PEM bundle;
- leaf.pem: the end entity, issued under that name and key.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from _scenario_pki import issue, key, key_id, name, out_dir, self_signed, write  # noqa: E402

COUNT = 100


def generate(out: Path) -> None:
    root = self_signed("same100|root", name("Root CA tin cậy"), key("same100|root"))
    n, k = name("CA trùng tên"), key("same100|ca")
    kid = key_id(k)
    cas = [issue(f"same100|ca-{i:03d}", n, k, n, k, ca=True, ski=kid, aki=kid) for i in range(COUNT)]
    leaf = issue("same100|leaf", name("Hoàng Văn Đức", "Sở Xây dựng"), key("same100|leaf"), n, k,
                 ca=False, aki=kid)
    write(out, {"root.pem": root.pem, "cas.pem": b"".join(c.pem for c in cas), "leaf.pem": leaf.pem})


if __name__ == "__main__":
    generate(out_dir(HERE))
