"""Hand the memory a process has freed back to the system (glibc's malloc_trim); no Faust here.

Page bodies of ~190 KB (up to the 2 MiB limit) are freed between longer-lived smaller blocks, and
glibc keeps the holes they leave: scripts/bench, 20,000 pages, a worker at 233.2 MiB resident was
at 138.6 MiB after one malloc_trim. The worker (leaderwatch.worker) and its clean processes
(stages/pool.py) call it every LEADERWATCH_MALLOC_TRIM_SECONDS; a trim takes a few ms.
"""
from __future__ import annotations

import ctypes


def malloc_trimmer():
    """glibc's malloc_trim(pad) -> int, or None where the C library has none (musl, macOS)."""
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return trim
