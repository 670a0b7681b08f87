"""The cyclic garbage collector's pauses in this process, and keeping start-up objects out of
them; no Faust here.

A full (generation 2) collection walks every object the collector tracks while nothing else runs:
in a worker, the event loop stops for as long as it takes. Measured with scripts/bench: ~70,000
objects held from start-up (modules, Faust's services, the gazetteer) made each full collection
take 25-107 ms and free nothing; after freeze_startup_objects() they took 17-23 ms.
FullCollections counts them (count, total and longest pause) for /progress/ and /metrics.
"""
from __future__ import annotations

import gc
import time


def freeze_startup_objects() -> int:
    """Collect once, then move every object the process holds into the collector's permanent
    generation (gc.freeze): later collections skip them. They are still freed by reference
    counting; only a reference cycle among them would never be collected. Returns how many."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


class FullCollections:
    """A gc.callbacks entry adding each full collection to `counters`: gc_full_collections,
    gc_full_pause_ms (their sum) and gc_full_pause_ms_max (the longest), in milliseconds."""

    def __init__(self, counters):
        self.counters = counters
        self._started: float | None = None

    def __call__(self, phase: str, info: dict) -> None:
        if info.get("generation") != 2:
            return
        if phase == "start":
            self._started = time.perf_counter()
            return
        if self._started is None:
            return
        pause_ms = round((time.perf_counter() - self._started) * 1000, 1)
        self._started = None
        self.counters["gc_full_collections"] += 1
        self.counters["gc_full_pause_ms"] = round(self.counters["gc_full_pause_ms"] + pause_ms, 1)
        self.counters["gc_full_pause_ms_max"] = max(self.counters["gc_full_pause_ms_max"], pause_ms)

    def install(self) -> "FullCollections":
        if self not in gc.callbacks:
            gc.callbacks.append(self)
        return self
