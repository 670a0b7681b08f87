"""Replay a stage's input: a topic's messages in [from, to) -> the same topic again, marked with a replay id.

pages.raw (clean) | pages.clean (extract) | pages.entities (mentions + alert)  -> the same topic:
same key, value, timestamp and partition, plus header `leaderwatch-replay: <id>`. Copies made by
earlier replays carry that header and are skipped, so a replay never re-reads copies. Downstream
stays exact because processing is idempotent (tables keyed by doc_id / qid, each alert id once).

The start offset comes from ops/offsets.py (broker answer checked, else a binary search); every
record is still filtered by timestamp, so the search decides speed, not results.
"""
from __future__ import annotations

import asyncio
import collections
import time
import uuid
from datetime import datetime, timezone
from typing import Callable

from leaderwatch.times import parse_iso
from leaderwatch.ops.offsets import SKEW_MS, plan

REPLAY_HEADER = "leaderwatch-replay"
STAGE_INPUT = {"clean": "topic_raw", "extract": "topic_clean", "alert": "topic_entities"}
STAGE_COUNTERS = {"clean": ("clean_in",), "extract": ("extract_in",), "alert": ("mentions_in", "alert_in")}


# ---------------------------------------------------------------- pure parts

def stage_topic(settings, stage: str, topic: str | None = None) -> str:
    """The topic a stage reads (and a replay re-publishes to); `topic`, if given, must be that one."""
    if stage not in STAGE_INPUT:
        raise ValueError(f"unknown stage {stage!r}: choose one of {', '.join(STAGE_INPUT)}")
    expected = getattr(settings, STAGE_INPUT[stage])
    if topic not in (None, "", expected):
        pairs = ", ".join(f"--stage {s} --topic {getattr(settings, a)}" for s, a in STAGE_INPUT.items())
        raise ValueError(f"--stage {stage} replays topic {expected!r}, not {topic!r} (valid pairs: {pairs})")
    return expected


def parse_when(text: str | None, default: datetime | None = None) -> datetime:
    """An ISO 8601 date or datetime (UTC when it has no offset) -> an aware UTC datetime."""
    if text in (None, ""):
        if default is None:
            raise ValueError("a date is required")
        return default
    try:
        return parse_iso(text.strip().replace("z", "Z")).astimezone(timezone.utc)
    except ValueError:
        raise ValueError(f"not an ISO 8601 date or datetime: {text!r} (e.g. 2025-11-14 or 2025-11-14T08:00:00Z)") from None


def to_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def is_copy(record) -> bool:
    """A copy made by an earlier replay (it carries the replay header)."""
    return any(key == REPLAY_HEADER for key, _ in (record.headers or ()))


def worker_caught_up(before: dict, now: dict, stage: str, republished: int) -> bool:
    """The worker's /progress/ counters show every re-published message through the stage and downstream."""
    from leaderwatch.ops.workers import pipeline_done

    stage_done = all(now.get(c, 0) - before.get(c, 0) >= republished for c in STAGE_COUNTERS[stage])
    return stage_done and pipeline_done(now, 0)


def format_summary(summary: dict) -> str:
    lines = [f"replay {summary['replay_id']} of {summary['topic']} (stage {summary['stage']}), "
             f"{summary['from']} .. {summary['to']}",
             f"  read in range:            {summary['read']}",
             f"  re-published:             {summary['republished']}",
             f"  skipped (replay copies):  {summary['skipped_copies']}"]
    worker = summary.get("worker")
    if worker is None:
        lines.append(f"  no worker answers at {summary['web_url']}: downstream effect not measured")
    else:
        state = "processed" if worker["caught_up"] else f"NOT all processed within {worker['waited_s']} s"
        lines += [f"  worker: re-published messages {state} ({worker['waited_s']} s)",
                  f"  documents seen again:     {worker['documents_seen_again']}",
                  f"  alerts repeated (not re-sent): {worker['alerts_repeated']}"]
    return "\n".join(lines)


# ---------------------------------------------------------------- the broker side

async def replay_records(consumer, producer, offsets: dict, since_ms: int, until_ms: int, replay_id: str,
                         advance: Callable[[int], None] = lambda n: None, idle_timeout: float = 30.0) -> dict:
    """Scan each partition's [start, stop), re-publish every original record with since <= timestamp < until.

    Returns {"read", "republished", "skipped_copies"}; `advance(n)` reports n offsets scanned.
    """
    counts = {"read": 0, "republished": 0, "skipped_copies": 0}
    pending = []
    for tp, span in offsets.items():
        position, stop = span["start"], span["stop"]
        if position >= stop:
            continue
        consumer.seek(tp, position)
        last_data = time.monotonic()
        while position < stop:
            batches = await consumer.getmany(tp, timeout_ms=1000, max_records=500)
            records = [r for r in batches.get(tp, ()) if r.offset < stop]
            if not records:
                if batches.get(tp) or await consumer.position(tp) >= stop:  # past stop, or only transaction markers left
                    break
                if time.monotonic() - last_data > idle_timeout:
                    raise TimeoutError(f"{tp.topic}[{tp.partition}]: nothing fetched at offset {position} for {idle_timeout} s")
                continue
            last_data = time.monotonic()
            for record in records:
                if not since_ms <= record.timestamp < until_ms:
                    continue
                if is_copy(record):
                    counts["skipped_copies"] += 1
                    continue
                counts["read"] += 1
                headers = list(record.headers or ()) + [(REPLAY_HEADER, replay_id.encode())]
                pending.append(await producer.send(tp.topic, record.value, key=record.key, partition=tp.partition,
                                                   timestamp_ms=record.timestamp, headers=headers))
            advance(records[-1].offset + 1 - position)
            position = records[-1].offset + 1
            if len(pending) >= 1000:
                counts["republished"] += await _settle(pending)
    counts["republished"] += await _settle(pending)
    return counts


async def _settle(pending: list) -> int:
    results = await asyncio.gather(*pending, return_exceptions=True)
    pending.clear()
    failed = [r for r in results if isinstance(r, BaseException)]
    if failed:
        raise RuntimeError(f"{len(failed)} re-published messages failed: {failed[0]!r}")
    return len(results)


# ---------------------------------------------------------------- the whole replay

async def fetch_progress(web_url: str) -> dict | None:
    """A worker's /progress/ counters, or None when no worker answers."""
    import urllib.request

    import orjson

    def get():
        with urllib.request.urlopen(web_url + "/progress/", timeout=2) as response:
            return orjson.loads(response.read())

    try:
        return await asyncio.to_thread(get)
    except Exception:
        return None


async def fetch_progress_of(web_urls: list[str]) -> dict | None:
    """The /progress/ counters summed over the workers that answer (one per stage, or several
    sharing one: the counters are per stage), or None when none does."""
    answers = [a for a in await asyncio.gather(*(fetch_progress(url) for url in web_urls)) if a is not None]
    return dict(sum(map(collections.Counter, answers), collections.Counter())) if answers else None


async def wait_for_worker(web_urls: list[str], stage: str, before: dict, republished: int, timeout: float) -> dict:
    """Wait until the workers' counters show `republished` more messages through `stage` and downstream."""
    started = time.monotonic()
    now = before
    while time.monotonic() - started < timeout:
        now = await fetch_progress_of(web_urls) or now
        if worker_caught_up(before, now, stage, republished):
            await asyncio.sleep(0.5)  # let the last table writes and alert sends flush
            now = await fetch_progress_of(web_urls) or now
            break
        await asyncio.sleep(0.3)
    delta = lambda key: now.get(key, 0) - before.get(key, 0)  # noqa: E731
    return {"caught_up": worker_caught_up(before, now, stage, republished), "waited_s": round(time.monotonic() - started, 1),
            "documents_seen_again": delta("documents_seen_again"), "alerts_repeated": delta("alerts_repeated"),
            "counters": {k: delta(k) for k in sorted(set(now) | set(before)) if delta(k)}}


async def run_replay(settings, stage: str = "clean", topic: str | None = None, since: str | None = None,
                     until: str | None = None, wait_timeout: float = 300.0, show_progress: bool = True,
                     skew_ms: int = SKEW_MS, web_urls: list[str] | None = None) -> dict:
    """Replay `stage`'s input topic over [since, until) (default: everything up to now); the summary as a dict.
    `web_urls`: the workers whose counters show the copies through the pipeline (default: settings.web_url)."""
    from rich.progress import Progress

    from leaderwatch.kafka.clients import new_producer, new_reader_consumer

    topic = stage_topic(settings, stage, topic)
    start = parse_when(since, datetime.fromtimestamp(0, tz=timezone.utc))
    end = parse_when(until, datetime.now(timezone.utc))
    if start >= end:
        raise ValueError(f"--from {start.isoformat()} is not before --to {end.isoformat()}")
    replay_id = f"{datetime.now(timezone.utc):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"
    web_urls = list(web_urls or [settings.web_url])
    before = await fetch_progress_of(web_urls)

    consumer = new_reader_consumer(settings, fetch_max_wait_ms=500)
    producer = new_producer(settings)
    await consumer.start()
    await producer.start()
    try:
        offsets = await plan(consumer, topic, to_ms(start), settings.broker_traits, skew_ms, skip=is_copy)
        with Progress(disable=not show_progress, transient=True) as progress:
            task = progress.add_task(f"replay {topic}", total=sum(s["stop"] - s["start"] for s in offsets.values()))
            counts = await replay_records(consumer, producer, offsets, to_ms(start), to_ms(end), replay_id,
                                          lambda n: progress.advance(task, n))
        await producer.flush()
    finally:
        await producer.stop()
        await consumer.stop()

    summary = {"replay_id": replay_id, "stage": stage, "topic": topic, "from": start.isoformat(), "to": end.isoformat(),
               **counts, "partitions": {tp.partition: span for tp, span in offsets.items()},
               "web_url": ", ".join(web_urls), "worker": None}
    if before is not None:
        summary["worker"] = await wait_for_worker(web_urls, stage, before, counts["republished"], wait_timeout)
    return summary
