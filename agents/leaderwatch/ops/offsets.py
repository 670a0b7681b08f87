"""The first offset at or after a timestamp, right on any broker.

On Apache Kafka offsets_for_times is asked and its answer checked by reading the records around
it; where the check fails, and on the embedded broker (which answers 0 for every timestamp, so it
is not asked), a binary search reading one record at a time between the beginning offset and the
log end (leaderwatch.kafka.reader.log_end_offsets) finds it. Records out of timestamp order make the search land early, never late, when the
caller starts SKEW_MS before the time it wants and filters every record it then reads.
"""
from __future__ import annotations

import inspect
import time
from typing import Awaitable, Callable

from leaderwatch.kafka.reader import log_end_offsets, topic_partitions

SKEW_MS = 60_000  # search from this much earlier: records out of order by less (clock skew) are still found

TimestampAt = Callable[[int], "int | None | Awaitable[int | None]"]


async def _timestamp(timestamp_at: TimestampAt, offset: int) -> float:
    value = timestamp_at(offset)
    if inspect.isawaitable(value):
        value = await value
    return float("inf") if value is None else value


async def answer_holds(timestamp_at: TimestampAt, begin: int, end: int, target_ms: int, answer: int | None) -> bool:
    """True when `answer` is where timestamps cross `target_ms`: the record before it is older, the one at it not.

    `answer` None means "no record that late" (Kafka's answer): then it must hold at `end`.
    """
    answer = end if answer is None else answer
    if not begin <= answer <= end:
        return False
    if answer > begin and await _timestamp(timestamp_at, answer - 1) >= target_ms:
        return False
    return answer == end or await _timestamp(timestamp_at, answer) >= target_ms


async def search_offset(timestamp_at: TimestampAt, begin: int, end: int, target_ms: int) -> int:
    """The first offset in [begin, end) whose timestamp is >= target_ms (end if none), by binary search.

    timestamp_at(offset) gives the timestamp of the first usable record at or after `offset`
    (None: none before `end`); it may be a coroutine function. Exact for non-decreasing
    timestamps; otherwise some crossing point.
    """
    low, high = begin, end
    while low < high:
        middle = (low + high) // 2
        if await _timestamp(timestamp_at, middle) >= target_ms:
            high = middle
        else:
            low = middle + 1
    return low


async def locate(timestamp_at: TimestampAt, begin: int, end: int, target_ms: int, answer: int | None = None,
                 answered: bool = False) -> tuple[int, str]:
    """(offset, how): the broker's answer when it checks out ("broker"), else the binary search ("search")."""
    if answered and await answer_holds(timestamp_at, begin, end, target_ms, answer):
        return (end if answer is None else answer), "broker"
    return await search_offset(timestamp_at, begin, end, target_ms), "search"


class PartitionReader:
    """Reads single records of one partition by offset (seek + getmany), passing over `skip`ped ones."""

    def __init__(self, consumer, tp, end: int, skip: Callable = lambda record: False, timeout: float = 30.0):
        self.consumer, self.tp, self.end, self.skip, self.timeout = consumer, tp, end, skip, timeout

    async def first_original(self, offset: int):
        """The first record at or after `offset` (before end) not to skip, or None."""
        if offset >= self.end:
            return None
        self.consumer.seek(self.tp, offset)
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            batches = await self.consumer.getmany(self.tp, timeout_ms=500, max_records=100)
            for record in batches.get(self.tp, ()):
                if record.offset >= self.end:
                    return None
                if not self.skip(record):
                    return record
            if batches.get(self.tp) and batches[self.tp][-1].offset + 1 >= self.end:
                return None
        raise TimeoutError(f"{self.tp.topic}[{self.tp.partition}]: no record at offset {offset} within {self.timeout} s")

    async def timestamp_at(self, offset: int) -> int | None:
        record = await self.first_original(offset)
        return None if record is None else record.timestamp


async def _broker_answers(consumer, partitions, target_ms: int) -> dict:
    """offsets_for_times for every partition: {tp: offset or None}; {} when the broker cannot answer."""
    try:
        found = await consumer.offsets_for_times({tp: max(target_ms, 0) for tp in partitions})
    except Exception:
        return {}
    return {tp: (None if answer is None else answer.offset) for tp, answer in found.items()}


async def plan(consumer, topic: str, since_ms: int, traits, skew_ms: int = SKEW_MS, skip: Callable = lambda record: False) -> dict:
    """tp -> {begin, end, start, stop, by}: the offsets [start, stop) to scan in each partition.

    The scan runs to the high-watermark of now (not to --to: copies appended after the last original
    in range are still seen, and counted as skipped); its own copies land past it.
    """
    partitions = await topic_partitions(consumer, [topic], wait_s=2.0)
    if not partitions:
        raise ValueError(f"topic {topic!r} does not exist on the broker")
    consumer.assign(partitions)
    begins = await consumer.beginning_offsets(partitions)
    # the embedded broker answers 0 for every timestamp: not asked there (the search finds them)
    starts = await _broker_answers(consumer, partitions, since_ms - skew_ms) if traits.offsets_for_times else {}
    ends = await log_end_offsets(consumer, partitions, traits)
    result = {}
    for tp in partitions:
        begin, end = begins[tp], ends[tp]
        reader = PartitionReader(consumer, tp, end, skip)
        start, by = await locate(reader.timestamp_at, begin, end, since_ms - skew_ms, starts.get(tp), tp in starts)
        result[tp] = {"begin": begin, "end": end, "start": start, "stop": end, "by": by}
    return result
