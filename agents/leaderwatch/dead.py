"""Dead letters, one home: any input a stage (or ingest) could not use + why -> DeadLetter.

Sending them is the runner's job (stages/runner.py) and ingest's (ops/ingest.py); both build them here.
"""
from __future__ import annotations

import base64

from leaderwatch.records import DeadLetter
from leaderwatch.times import utc_now_iso


def dead_letter(stage: str, reason: str, error: str, value, message=None, limit: int = 64 * 1024,
                key: str | None = None) -> DeadLetter:
    """Any input (bytes, str or a record) + why it failed -> DeadLetter (input kept up to `limit`
    bytes, base64 when not UTF-8); topic/partition/offset/key from the Kafka `message` when there
    is one, else `key` (ingest: the file's path)."""
    if not isinstance(value, (bytes, bytearray, str)) and value is not None:
        from leaderwatch.records import encode

        value = encode(value)
    raw = value if isinstance(value, (bytes, bytearray)) else str(value if value is not None else "").encode("utf-8", "replace")
    head = bytes(raw[:limit])
    try:
        shown = head.decode("utf-8")
    except UnicodeDecodeError:
        shown = "base64:" + base64.b64encode(head).decode("ascii")
    key = getattr(message, "key", key)
    return DeadLetter(
        stage=stage,
        reason=reason,
        error=error[:2000],
        topic=getattr(message, "topic", "") or "",
        partition=getattr(message, "partition", None),
        offset=getattr(message, "offset", None),
        key=key.decode("utf-8", "replace") if isinstance(key, bytes) else key,
        input=shown,
        input_bytes=len(raw),
        input_truncated=len(raw) > limit,
        failed_at=utc_now_iso(),
    )
