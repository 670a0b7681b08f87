"""Library internals replaced for the duration of a `with`: the mechanism under the prune guards
(pipeline/prune_guards.py), clean's extraction without its backup copy (pipeline/extraction.py)
and the page-text measure (pipeline/baseline_text.py), and the source pins that decide whether a
replacement still fits. No Faust here.
"""
from __future__ import annotations

import contextlib
import hashlib
import inspect
import threading


def sources_match(module, pins: dict) -> bool:
    """Whether every `module.<name>` of `pins` ({name: SHA-1 of its source}) is there with that source."""
    for name, digest in pins.items():
        function = getattr(module, name, None)
        try:
            if function is None or hashlib.sha1(inspect.getsource(function).encode("utf-8")).hexdigest() != digest:
                return False
        except (OSError, TypeError):  # no source to read
            return False
    return True


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
