"""Time helpers, one home: ISO 8601 UTC strings ("2025-11-14T09:30:00Z") <-> datetimes, windows."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

ISO = "%Y-%m-%dT%H:%M:%SZ"


def to_iso(value) -> str | None:
    """A date or datetime string (or epoch seconds) -> "YYYY-MM-DDTHH:MM:SSZ" in UTC; None if unusable."""
    if value in (None, ""):
        return None
    try:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            moment = datetime.fromtimestamp(value, tz=timezone.utc)
        else:
            moment = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=timezone.utc)
    except (ValueError, OverflowError, OSError, TypeError):
        return None
    return moment.astimezone(timezone.utc).strftime(ISO)


def parse_iso(value: str) -> datetime:
    """"2025-11-14T09:30:00Z" (or any ISO form; naive = UTC) -> an aware datetime."""
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def utc_now_iso() -> str:
    return datetime.now(timezone.utc).strftime(ISO)


def epoch_ms(value: str) -> int:
    """ISO 8601 -> milliseconds since the epoch (a Kafka timestamp)."""
    return int(parse_iso(value).timestamp() * 1000)


def seconds_between(earlier: str, later: str) -> float:
    return (parse_iso(later) - parse_iso(earlier)) / timedelta(seconds=1)


def window_start(event_time: str, window_seconds: int) -> str:
    """The start of the tumbling window holding `event_time`, as ISO UTC."""
    start = int(parse_iso(event_time).timestamp() // window_seconds * window_seconds)
    return datetime.fromtimestamp(start, tz=timezone.utc).strftime(ISO)


def shift_window(start: str, window_seconds: int, count: int) -> str:
    """The window `count` windows after (negative: before) the one starting at `start`."""
    moment = parse_iso(start).timestamp() + count * window_seconds
    return datetime.fromtimestamp(moment, tz=timezone.utc).strftime(ISO)
