"""The README's Python example runs as written (with its names bound to real material)."""
from __future__ import annotations

import re
from pathlib import Path

import pki as P

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_example_runs(pki, tmp_path):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    assert blocks, "README has no python example"
    root_pem = tmp_path / "root.pem"
    root_pem.write_bytes(pki.rsa_root.pem)
    content = "Giấy chứng nhận".encode()
    ns = {"root_pem": str(root_pem), "content": content, "signature": P.sign_cms(content, pki.rsa_leaf)}
    for code in blocks:
        exec(compile(code, str(README), "exec"), ns)
    assert ns["result"].code == "ok"
    assert ns["batch"].counts() == {"ok": 1000}


def test_readme_names_the_two_commands():
    text = README.read_text(encoding="utf-8")
    head = "\n".join(text.splitlines()[:20])
    assert "make demo" in head and "make test" in head
