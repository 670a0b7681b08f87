"""Library internals replaced for the duration of a `with`: the mechanism under the prune guards
(pipeline/prune_guards.py) and clean's extraction without its backup copy (pipeline/extraction.py).
No Faust here.
"""
from __future__ import annotations

import contextlib
import threading


class ScopedSwap:
    """`entries`, each (holder, key, original, replacement), key an index (holder[key]) or an
    attribute name: the replacements are in place while at least one `with` is open (in any
    thread: the swap is process-wide), the originals back once the last one closes."""

    def __init__(self, entries) -> None:
        self.entries = list(entries)
        self.lock, self.depth = threading.Lock(), 0

    @staticmethod
    def _put(holder, key, value) -> None:
        if isinstance(key, int):
            holder[key] = value
        else:
            setattr(holder, key, value)

    def enter(self) -> None:
        with self.lock:
            self.depth += 1
            if self.depth == 1:
                for holder, key, _, replacement in self.entries:
                    self._put(holder, key, replacement)

    def leave(self) -> None:
        with self.lock:
            self.depth -= 1
            if self.depth == 0:
                for holder, key, original, _ in self.entries:
                    self._put(holder, key, original)

    @contextlib.contextmanager
    def installed(self):
        self.enter()
        try:
            yield self
        finally:
            self.leave()
