"""Reading a topic outside any consumer group: its partitions, and whether a reader has caught up.

"Caught up" is decided from the fetch high-watermark, not end_offsets, which the embedded broker
answers wrongly for multi-record batches (../shared/BROKER.md). Used by the CLI's reader
(ops/follow.py), the live view, the leaders reader and the alert ids reader.
"""
from __future__ import annotations

import asyncio


async def topic_partitions(consumer, topic: str, tries: int = 20, pause: float = 0.0) -> list:
    """The TopicPartitions of `topic`, refreshing metadata up to `tries` times; [] if it has none."""
    from aiokafka import TopicPartition

    for _ in range(tries):
        found = consumer.partitions_for_topic(topic)
        if found:
            return [TopicPartition(topic, p) for p in sorted(found)]
        await consumer._client.force_metadata_update()
        if pause:
            await asyncio.sleep(pause)
    return []


async def caught_up(consumer, partitions) -> bool:
    """True when the consumer's position has reached the fetch high-watermark of every partition."""
    for tp in partitions:
        highwater = consumer.highwater(tp)
        if highwater is None or await consumer.position(tp) < highwater:
            return False
    return True
