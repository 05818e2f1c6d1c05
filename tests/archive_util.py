"""Helpers of the archive-job tests: a signed archive made cheaply, and the CLI as a process."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pki as P

ROOT = Path(__file__).resolve().parent.parent
CONTENT = "Quyết định số 15/QĐ-UBND".encode()


def env() -> dict[str, str]:
    e = dict(os.environ)
    e["PYTHONPATH"] = os.pathsep.join([str(ROOT / "python"), str(ROOT / "tests")])
    return e


def govsig_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "govsig", *args]


def run(*args: str, timeout: float = 120, **kw: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(govsig_cmd(*args), capture_output=True, text=True, env=env(), timeout=timeout, **kw)


def samples(signers: list[P.Issued]) -> list[tuple[str, bytes, bytes | None]]:
    """One attached and one detached signature per signer (sign once, copy many times)."""
    out: list[tuple[str, bytes, bytes | None]] = []
    for i, s in enumerate(signers):
        content = CONTENT + b" #%d" % i
        out.append((f"att{i}.p7m", P.sign_cms(content, s, detached=False), None))
        out.append((f"det{i}.pdf.p7s", P.sign_cms(content, s), content))
    return out


def make_archive(root: Path, n: int, kinds: list[tuple[str, bytes, bytes | None]], per_dir: int = 1000) -> None:
    """``n`` documents, copies of ``kinds`` in turn, ``per_dir`` to a folder."""
    for i in range(n):
        d = root / f"unit{i // per_dir:04d}"
        if i % per_dir == 0:
            d.mkdir(parents=True, exist_ok=True)
        name, sig, content = kinds[i % len(kinds)]
        stem = f"{i:06d}-{name}"
        (d / stem).write_bytes(sig)
        if content is not None:
            (d / stem[: -len(".p7s")]).write_bytes(content)


def lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(t) for t in text.splitlines() if t.strip()]
