"""Read a topic from the beginning without a consumer group: for the CLI, the demo and tests.

"Caught up" is decided from the fetch high-watermark, not end_offsets (which the embedded broker
answers wrongly for multi-record batches; see ../shared/BROKER.md).
"""
from __future__ import annotations

import time
from typing import AsyncIterator

from aiokafka import AIOKafkaConsumer

from leaderwatch.catchup import caught_up, topic_partitions
from leaderwatch.security import aiokafka_security


async def read_topic(settings, topic: str, follow: bool = False, idle_timeout: float = 3.0) -> AsyncIterator[bytes]:
    """Values of `topic`, oldest first; without `follow`, stop once every partition is caught up."""
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.broker_bootstrap, enable_auto_commit=False,
                                auto_offset_reset="earliest", group_id=None, **aiokafka_security(settings))
    await consumer.start()
    try:
        partitions = await topic_partitions(consumer, topic)
        if not partitions:
            return
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        last_record = time.monotonic()
        while True:
            batches = await consumer.getmany(timeout_ms=300)
            for records in batches.values():
                for record in records:
                    yield record.value
            if any(batches.values()):
                last_record = time.monotonic()
            if follow:
                continue
            if await caught_up(consumer, partitions) or time.monotonic() - last_record > idle_timeout:
                return
    finally:
        await consumer.stop()
