"""Dead letters: what a stage could not process, with the reason and the (truncated) input."""
from __future__ import annotations

import base64
import logging

from agents.app import processed, settings
from agents.clean import utc_now_iso
from agents.records import DeadLetter, Rejected, decode_record
from agents.topics import pages_dead_topic

log = logging.getLogger(__name__)


def dead_letter(stage: str, reason: str, error: str, value, event=None, limit: int = 64 * 1024,
                key: str | None = None) -> DeadLetter:
    """Any input (bytes, str or a record) + why it failed -> DeadLetter (input kept up to `limit` bytes);
    the key is the event's, or `key` when there is no event (ingest: the file's path)."""
    if hasattr(value, "dumps"):
        value = value.dumps()
    raw = value if isinstance(value, (bytes, bytearray)) else str(value if value is not None else "").encode("utf-8", "replace")
    head = bytes(raw[:limit])
    try:
        shown = head.decode("utf-8")
    except UnicodeDecodeError:
        shown = "base64:" + base64.b64encode(head).decode("ascii")
    message = getattr(event, "message", None)
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


async def send_dead_letter(stage: str, reason: str, error: str, value, event=None) -> None:
    """Publish a dead letter; the worker goes on with the next event."""
    letter = dead_letter(stage, reason, error, value, event, settings.dead_letter_input_bytes)
    log.warning("dead letter from %s: %s: %s", stage, reason, error[:200])
    processed[f"dead_{stage}_{reason}"] += 1
    await pages_dead_topic.send(key=letter.key, value=letter)


async def decoded_events(stream, record_type, stage: str, counter: str | None = None):
    """A stream of raw-bytes events -> (event, record) for each valid record; the others go to
    pages.dead (reason malformed_record or schema_invalid), counted in `counter`, and the stage goes on."""
    async for event in stream.events():
        try:
            record = decode_record(record_type, event.value)
        except Rejected as exc:
            await send_dead_letter(stage, exc.reason, str(exc), event.value, event)
            processed[counter or f"{stage}_in"] += 1
            continue
        yield event, record
