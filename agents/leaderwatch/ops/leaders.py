"""`leaderwatch leaders update FILE`: a CSV of leaders (the shared data's format) -> the compacted
leaders topic, one record per person (key: qid); every extract worker applies it live."""
from __future__ import annotations

from pathlib import Path

import orjson

from leaderwatch.leaders.gazetteer import load_countries
from leaderwatch.leaders.updates import records_from_csv
from leaderwatch.kafka.clients import new_producer


async def publish_leader_updates(settings, path: str | Path) -> list[dict]:
    """Send each person of the CSV at `path` to settings.topic_leaders; returns the records sent."""
    records = records_from_csv(Path(path).read_text(encoding="utf-8"), load_countries())
    producer = new_producer(settings)
    await producer.start()
    try:
        for record in records:
            await producer.send(settings.topic_leaders, orjson.dumps(record), key=record["qid"].encode())
        await producer.flush()
    finally:
        await producer.stop()
    return records
