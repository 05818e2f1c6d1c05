"""The wheel `make wheel` builds is what a user without Rust installs: maturin builds it (and
checks its manylinux tag), it installs into a fresh virtual environment, and the README's first
example runs there against the installed copy, with no Rust toolchain and no checkout on the
path."""
from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

import pki as P

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"


@pytest.mark.slow
def test_wheel_installs_without_rust_and_runs_the_readme_example(pki, tmp_path):
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "maturin", "build", "--release", "--strip", "--out", str(dist)],
                   cwd=REPO, check=True, capture_output=True, timeout=1800)
    (wheel,) = dist.glob("govsig-*.whl")
    # abi3 (one wheel for every CPython >= 3.11) and a manylinux tag maturin has checked.
    assert re.search(r"-cp311-abi3-manylinux_\d+_\d+_x86_64\.whl$|-cp311-abi3-manylinux_\d+_\d+_aarch64\.whl$",
                     wheel.name), wheel.name
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
    assert "govsig/py.typed" in names and "govsig/_govsig.pyi" in names
    assert any(n.startswith("govsig/_govsig") and n.endswith(".so") for n in names)

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    py = venv / "bin" / "python"
    subprocess.run([str(py), "-m", "pip", "install", "-q", "--disable-pip-version-check", str(wheel)],
                   check=True, capture_output=True, timeout=900)

    root_pem = tmp_path / "root.pem"
    root_pem.write_bytes(pki.rsa_root.pem)
    content = "Giấy chứng nhận".encode()
    (tmp_path / "content.bin").write_bytes(content)
    (tmp_path / "sig.p7s").write_bytes(P.sign_cms(content, pki.rsa_leaf))
    example = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)[0]
    script = tmp_path / "example.py"
    script.write_text(textwrap.dedent(f"""\
        import json, pathlib
        import govsig
        root_pem = {str(root_pem)!r}
        content = pathlib.Path({str(tmp_path / "content.bin")!r}).read_bytes()
        signature = pathlib.Path({str(tmp_path / "sig.p7s")!r}).read_bytes()
        """) + example + textwrap.dedent("""\
        print(json.dumps({"file": govsig.__file__, "code": result.code,
                          "counts": batch.counts(), "profile": govsig.BUILD_PROFILE}))
        """), encoding="utf-8")
    # No checkout, no cargo: only the venv and the system's own directories on the way.
    env = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "HOME": str(tmp_path), "LANG": "C.UTF-8"}
    out = subprocess.run([str(py), str(script)], cwd=tmp_path, env=env, check=True,
                         capture_output=True, text=True, timeout=300)
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert Path(report["file"]).is_relative_to(venv), report["file"]
    assert report["code"] == "ok"
    assert report["counts"] == {"ok": 1000}
    assert report["profile"] == "release"
