"""The .pyi stubs match the compiled module (mypy.stubtest)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_stubtest_compiled_module():
    env = {**os.environ, "PYTHONPATH": str(ROOT / "python")}
    proc = subprocess.run(
        [sys.executable, "-m", "mypy.stubtest", "govsig._govsig", "--allowlist", str(ROOT / "tests" / "stubtest-allowlist.txt")],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
