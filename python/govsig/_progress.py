"""A small progress line for long CLI runs (stderr, only when it is a terminal)."""
from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """``done/total  rate/s  eta`` on one line, redrawn at most 10 times a second."""

    def __init__(self, total: int, unit: str = "docs", stream: TextIO | None = None, enabled: bool | None = None):
        self.total = total
        self.unit = unit
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.start = time.monotonic()
        self.done = 0
        self._last = 0.0

    def update(self, n: int) -> None:
        self.done += n
        now = time.monotonic()
        if self.enabled and (now - self._last >= 0.1 or self.done >= self.total):
            self._last = now
            self._draw(now)

    def _draw(self, now: float) -> None:
        elapsed = max(now - self.start, 1e-9)
        rate = self.done / elapsed
        width = 30
        frac = 1.0 if self.total == 0 else min(self.done / self.total, 1.0)
        bar = "#" * int(frac * width) + "-" * (width - int(frac * width))
        eta = (self.total - self.done) / rate if rate > 0 else 0.0
        self.stream.write(
            f"\r[{bar}] {self.done}/{self.total} {self.unit}  {rate:,.0f} {self.unit}/s  eta {eta:4.0f}s"
        )
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self._draw(time.monotonic())
            self.stream.write("\n")
            self.stream.flush()
