"""The one check of every ``threads=`` argument."""
from __future__ import annotations

from typing import Any

from govsig import _govsig

#: The most worker threads one call may ask for: a few per core of this machine. More only
#: add contention and memory (and a huge count would try to start that many threads).
MAX_THREADS: int = _govsig.MAX_THREADS


def check_threads(threads: Any) -> None:
    """ValueError unless ``threads`` is None or an int in 1..MAX_THREADS."""
    if threads is None:
        return
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ValueError(f"threads must be a positive int or None, not {threads!r}")
    if threads > MAX_THREADS:
        raise ValueError(
            f"threads={threads} is more than govsig.MAX_THREADS={MAX_THREADS} (a few per core of "
            "this machine); more threads only add contention. Use None for one per core."
        )
