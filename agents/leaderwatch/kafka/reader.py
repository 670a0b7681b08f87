"""One way to read topics outside any consumer group: every partition, from the beginning (or the
last N records of each), until caught up or for good. Used by the CLI (`follow`, `mentions`), the
extract stage's leaders reader, the alert stage's sent-ids reader, the live view and the tools.

"Caught up" is the consumer's position at the partition's end as the last fetch saw it: the high
watermark, or the last stable offset when reading committed records only (on Apache Kafka, where a
producer in exactly_once mode writes transactions; an open one holds the stable offset back). Both
brokers answer these right in every fetch; the log end asked for on its own (end_offsets) is wrong
on the embedded broker, so log_end_offsets() reads it from a fetch there.
"""
from __future__ import annotations

import asyncio
import time
from typing import AsyncIterator

from leaderwatch.kafka.clients import new_reader_consumer


TOPICS_WAIT_SECONDS = 30.0


async def listed_topics(client, topics, timeout: float, interval: float = 0.2):
    """(cluster metadata, the topics it does not list yet), asking the broker for every topic's
    metadata until it lists them all or `timeout` s have passed. aiokafka's client keeps metadata
    only for the topics it was asked about; a fresh answer for all is its one way to see new ones."""
    from aiokafka.errors import KafkaError

    deadline = time.monotonic() + timeout
    while True:
        cluster = None
        try:
            cluster = await client.fetch_all_metadata()
            missing = {topic for topic in topics if not cluster.partitions_for_topic(topic)}
        except KafkaError:
            missing = set(topics)
        if not missing or time.monotonic() >= deadline:
            return cluster, missing
        await asyncio.sleep(interval)


async def wait_for_topics(client, topics: set[str], timeout: float = TOPICS_WAIT_SECONDS, interval: float = 0.2) -> set[str]:
    """Until the broker's metadata lists every topic, at most `timeout` seconds: the topics still missing."""
    return (await listed_topics(client, topics, timeout, interval))[1]


async def topic_partitions(consumer, topics: list[str], wait_s: float = 0.0) -> list:
    """The TopicPartitions of every topic in `topics`, once all exist (waiting up to `wait_s`); [] if not."""
    from aiokafka import TopicPartition

    cluster, missing = await listed_topics(consumer._client, topics, wait_s)
    if missing:
        return []
    return [TopicPartition(topic, p) for topic in topics for p in sorted(cluster.partitions_for_topic(topic))]


def partition_end(consumer, tp, read_committed: bool = False) -> int | None:
    """The end of `tp` as the last fetch saw it (high watermark, or last stable offset when
    reading committed records only); None before any fetch answered."""
    return consumer.last_stable_offset(tp) if read_committed else consumer.highwater(tp)


async def caught_up(consumer, partitions, read_committed: bool = False) -> bool:
    """True when the consumer's position has reached the end of every partition, as fetched."""
    for tp in partitions:
        end = partition_end(consumer, tp, read_committed)
        if end is None or await consumer.position(tp) < end:
            return False
    return True


async def log_end_offsets(consumer, partitions, traits, timeout: float = 15.0) -> dict:
    """tp -> the offset after its last record: ListOffsets on Apache Kafka; on the embedded broker,
    whose answer is short for multi-record batches, the end a one-record fetch from the start sees."""
    if traits.end_offsets_exact:
        return await consumer.end_offsets(partitions)
    begins = await consumer.beginning_offsets(partitions)
    ends = {}
    for tp in partitions:
        consumer.seek(tp, begins[tp])
        deadline = time.monotonic() + timeout
        while consumer.highwater(tp) is None:
            if time.monotonic() > deadline:
                raise TimeoutError(f"no fetch answer for {tp.topic}[{tp.partition}] within {timeout} s")
            await consumer.getmany(tp, timeout_ms=300, max_records=1)
        ends[tp] = consumer.highwater(tp)
    return ends


class TopicReader:
    """Every partition of `topics`, outside any group: `async with TopicReader(...) as reader`, then
    `async for records in reader.batches(...)`. `tail`: start that many records before each
    partition's end instead of at its beginning. `reader.partitions` is [] when a topic does not
    exist within `wait_s`."""

    def __init__(self, settings, topics: list[str] | str, tail: int | None = None, wait_s: float = 4.0,
                 **consumer_options):
        self.settings, self.tail, self.wait_s = settings, tail, wait_s
        self.topics = [topics] if isinstance(topics, str) else list(topics)
        if settings.broker_traits.idempotence:  # transactions exist there: never read an aborted one
            consumer_options.setdefault("isolation_level", "read_committed")
        self.read_committed = consumer_options.get("isolation_level") == "read_committed"
        self.consumer = new_reader_consumer(settings, **consumer_options)
        self.partitions: list = []
        self.caught_up = False  # set once every partition has been read to its end

    async def __aenter__(self) -> "TopicReader":
        await self.consumer.start()
        try:
            self.partitions = await topic_partitions(self.consumer, self.topics, self.wait_s)
            if self.partitions:
                self.consumer.assign(self.partitions)
                await self.seek_start()
        except BaseException:
            await self.consumer.stop()
            raise
        return self

    async def __aexit__(self, *exc) -> None:
        await self.consumer.stop()

    async def seek_start(self) -> None:
        if self.tail is None:
            await self.consumer.seek_to_beginning(*self.partitions)
            return
        ends = await log_end_offsets(self.consumer, self.partitions, self.settings.broker_traits)
        begins = await self.consumer.beginning_offsets(self.partitions)
        for tp in self.partitions:
            self.consumer.seek(tp, max(begins[tp], ends[tp] - self.tail))

    async def batches(self, follow: bool = False, idle_timeout: float | None = None, timeout_ms: int = 300,
                      max_records: int | None = None) -> AsyncIterator[list]:
        """The records of each fetch, oldest first per partition (a list, [] when none came).
        Without `follow`: stops once caught up, or after `idle_timeout` s with no record."""
        if not self.partitions:
            return
        last_record = time.monotonic()
        while True:
            fetched = await self.consumer.getmany(timeout_ms=timeout_ms, max_records=max_records)
            records = [record for batch in fetched.values() for record in batch]
            if records:
                last_record = time.monotonic()
            if not self.caught_up and await caught_up(self.consumer, self.partitions, self.read_committed):
                self.caught_up = True
            yield records
            if follow:
                continue
            if self.caught_up or (idle_timeout is not None and time.monotonic() - last_record > idle_timeout):
                return
