"""Cross-signed roots: root A and root B certify each other.

Files:
- root_a.pem, root_b.pem: the two self-signed roots;
- a_by_b.pem: A's name and key, signed by B (B cross-certifies A);
- b_by_a.pem: B's name and key, signed by A;
- inter_a.pem -> leaf_a.pem: a CA and a signer under root A;
- inter_b.pem -> leaf_b.pem: the same under root B.

A relying party that trusts only B reaches leaf_a through inter_a -> a_by_b -> B
(RFC 5280 §6.1: a path is any chain of names and keys ending at an anchor; RFC 4158 §2.3
describes this mesh shape).
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from _scenario_pki import issue, key, name, out_dir, self_signed, write  # noqa: E402


def generate(out: Path) -> None:
    ka, kb = key("cross|root-a"), key("cross|root-b")
    na, nb = name("Root CA A liên thông"), name("Root CA B liên thông")
    root_a = self_signed("cross|root-a", na, ka)
    root_b = self_signed("cross|root-b", nb, kb)
    a_by_b = issue("cross|a-by-b", na, ka, nb, kb, ca=True)
    b_by_a = issue("cross|b-by-a", nb, kb, na, ka, ca=True)
    kia, kib = key("cross|inter-a"), key("cross|inter-b")
    inter_a = issue("cross|inter-a", name("CA cấp dưới của A"), kia, na, ka, ca=True)
    inter_b = issue("cross|inter-b", name("CA cấp dưới của B"), kib, nb, kb, ca=True)
    leaf_a = issue("cross|leaf-a", name("Nguyễn Văn An", "Sở Nội vụ"), key("cross|leaf-a"),
                   inter_a.subject, kia, ca=False)
    leaf_b = issue("cross|leaf-b", name("Trần Thị Bình", "Sở Tài chính"), key("cross|leaf-b"),
                   inter_b.subject, kib, ca=False)
    write(out, {f"{c.label.split('|')[1].replace('-', '_')}.pem": c.pem
                for c in (root_a, root_b, a_by_b, b_by_a, inter_a, inter_b, leaf_a, leaf_b)})


if __name__ == "__main__":
    generate(out_dir(HERE))
