"""Key rollover of a root CA (RFC 4210 §4.4): one name, an old and a new key, and the two
link certificates that let relying parties on either side reach the other.

Files:
- old_root.pem: the old self-signed root (old key);
- new_root.pem: the new self-signed root (new key, same name);
- old_with_new.pem: the old key, signed by the new key ("OldWithNew");
- new_with_old.pem: the new key, signed by the old key ("NewWithOld");
- leaf_new.pem: a signer issued by the new key;
- leaf_old.pem: a signer issued by the old key.

All four CA certificates carry the same subject and issuer name, so only the key
identifiers (AKI/SKI) and the signatures tell them apart. A party trusting only the old root
validates leaf_new through new_with_old; one trusting only the new root validates leaf_old
through old_with_new.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from _scenario_pki import issue, key, name, out_dir, self_signed, write  # noqa: E402


def generate(out: Path) -> None:
    n = name("Root CA Chính phủ (đổi khóa)")
    old, new = key("rollover|old"), key("rollover|new")
    certs = {
        "old_root.pem": self_signed("rollover|old-root", n, old),
        "new_root.pem": self_signed("rollover|new-root", n, new),
        "old_with_new.pem": issue("rollover|old-with-new", n, old, n, new, ca=True),
        "new_with_old.pem": issue("rollover|new-with-old", n, new, n, old, ca=True),
        "leaf_new.pem": issue("rollover|leaf-new", name("Lê Văn Cường", "Bộ Tư pháp"),
                              key("rollover|leaf-new"), n, new, ca=False),
        "leaf_old.pem": issue("rollover|leaf-old", name("Phạm Thị Dung", "Bộ Tư pháp"),
                              key("rollover|leaf-old"), n, old, ca=False),
    }
    write(out, {f: c.pem for f, c in certs.items()})


if __name__ == "__main__":
    generate(out_dir(HERE))
