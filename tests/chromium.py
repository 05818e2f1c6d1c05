"""Headless Chromium (Debian's ``chromium`` package) for tests that check what a person sees
in an HTML page: the DOM after the page's scripts ran, and a screenshot."""
from __future__ import annotations

import shutil
import struct
import subprocess
import tempfile
import zlib
from pathlib import Path


def binary() -> str:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    raise RuntimeError("headless Chromium is needed: apt-get install chromium (scripts/setup-system.sh installs it)")


def _run(args: list[str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    # A profile of its own per run: concurrent test runs never share one, nothing persists.
    with tempfile.TemporaryDirectory(prefix="govsig-chromium-") as profile:
        cmd = [binary(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
               "--disable-extensions", "--disable-background-networking", f"--user-data-dir={profile}", *args]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"chromium failed ({done.returncode}): {done.stderr[-2000:]}")
    return done


def dump_dom(page: Path, fragment: str = "") -> str:
    """The serialised DOM of ``page`` once loaded and its scripts have run."""
    return _run(["--dump-dom", page.resolve().as_uri() + fragment]).stdout


def screenshot(page: Path, out: Path, size: tuple[int, int] = (1280, 1400)) -> None:
    _run([f"--screenshot={out}", f"--window-size={size[0]},{size[1]}", page.resolve().as_uri()])


def png_summary(path: Path) -> tuple[int, int, int]:
    """(width, height, distinct byte values in the decompressed pixel rows) of an 8-bit PNG:
    a blank page gives a handful of distinct values, a rendered report hundreds."""
    data = path.read_bytes()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError(f"{path} is not a PNG")
    width, height = struct.unpack(">II", data[16:24])
    idat = bytearray()
    pos = 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind = data[pos + 4:pos + 8]
        if kind == b"IDAT":
            idat += data[pos + 8:pos + 8 + length]
        pos += 12 + length
    return width, height, len(set(zlib.decompress(bytes(idat))))
