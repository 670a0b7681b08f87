"""Read a topic from the beginning without a consumer group: for the CLI, the demo and tests."""
from __future__ import annotations

from typing import AsyncIterator

from leaderwatch.kafka.reader import TopicReader


async def read_topic(settings, topic: str, follow: bool = False, idle_timeout: float = 3.0) -> AsyncIterator[bytes]:
    """Values of `topic`, oldest first; without `follow`, stop once every partition is caught up
    (or nothing came for `idle_timeout` s)."""
    async with TopicReader(settings, topic) as reader:
        async for records in reader.batches(follow=follow, idle_timeout=idle_timeout):
            for record in records:
                yield record.value
