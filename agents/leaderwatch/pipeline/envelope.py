"""pages.raw message bytes -> the envelope dict (parse_envelope), and the limits cleaning applies
(CleanOptions). No trafilatura or lxml here: a worker whose cleaning runs in child processes
(LEADERWATCH_CLEAN_PROCESSES > 0) imports this, not pipeline/clean.py (~15 MiB less resident).
"""
from __future__ import annotations

from dataclasses import dataclass

import orjson

from leaderwatch.records import Rejected


@dataclass(frozen=True)
class CleanOptions:
    """What clean_page needs from the settings."""

    max_page_bytes: int = 2 * 1024 * 1024
    backfill_age_seconds: int = 7 * 24 * 3600
    min_text_chars: int = 1  # 0-threshold friendly: tests feed tiny inline pages
    fast: bool = True  # trafilatura's fast mode: no fallback extractors (readability, jusText)


def parse_envelope(data: bytes | str | None, validator, max_page_bytes: int) -> dict:
    """Bytes from pages.raw -> the envelope dict, or Rejected (malformed, invalid, too large)."""
    if data is None or len(data) == 0:
        raise Rejected("malformed_envelope", "empty message value")
    if len(data) > max_page_bytes + 64 * 1024:
        raise Rejected("too_large", f"message of {len(data)} bytes exceeds the {max_page_bytes}-byte page limit")
    try:
        envelope = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise Rejected("malformed_envelope", f"not a UTF-8 JSON document: {exc}") from None
    if not isinstance(envelope, dict):
        raise Rejected("malformed_envelope", f"expected a JSON object, got {type(envelope).__name__}")
    errors = sorted(validator.iter_errors(envelope), key=lambda e: list(e.path))
    if errors:
        where = "/".join(str(p) for p in errors[0].path) or "(root)"
        raise Rejected("schema_invalid", f"pages.raw.v1: {where}: {errors[0].message}")
    return envelope
