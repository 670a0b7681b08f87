"""The one loop every stage runs: decode -> call the pure core -> send or dead-letter -> count.

A stage's `process(record)` returns the messages to send, [(topic, key, record)], or an Emit when
some table writes must wait until the broker has acknowledged them (send before recording: a
crash re-sends, harmlessly, and never loses). Rejected -> a dead letter with its reason; any other
exception -> a dead letter "internal_error"; the stage goes on with the next event either way.
"""
from __future__ import annotations

import asyncio
import collections
import inspect
import logging
from dataclasses import dataclass, field
from typing import Any, Callable

from leaderwatch.dead import dead_letter
from leaderwatch.records import Rejected, encode

log = logging.getLogger(__name__)


@dataclass
class StageContext:
    """What every stage and view shares in one worker: the app, settings, topics and counters."""

    app: Any
    settings: Any
    topics: Any
    counters: collections.Counter = field(default_factory=collections.Counter)  # /progress/ and /metrics
    metrics: Any = None  # web.metrics.PipelineMetrics, when installed
    mentions: Any = None  # stages.mentions.MentionTables, when this worker runs the mentions stage
    leaders: Any = None  # stages.extract.LeaderBook (the current matcher), when it runs the extract stage
    alerts_ready: Any = None  # set once the alert stage has read the alert ids already sent


@dataclass
class Emit:
    """Messages to send, and `then`: table writes to run once the broker has acknowledged them all."""

    messages: list
    then: Callable[[], None] | None = None
    # wait until `then`'s table writes are acknowledged too (their changelog records), not only the
    # messages: a SIGKILL right after an alert then cannot leave its "sent" mark unwritten, which
    # would send the alert again when the event is read again. Other table writes need no wait:
    # every offset commit first flushes the producer in full (leaderwatch.transport.Producer)
    durable: bool = False


async def run_stage(ctx: StageContext, stream, stage: str, process: Callable, decode: Callable | None = None,
                    counter_in: str | None = None, counter_out: str | None = ""):
    """Drive `stream` (raw-bytes events) through decode and process; yields one outcome per event
    once it is handled: "ok" or "dead:<reason>" (the agent yields it on: a test_context().put()
    then returns after the event's work, and tests see what happened).

    Counters: `counter_in` (default "<stage>_in") for every event, `counter_out` (default
    "<stage>_out"; None: none) for every event processed without a dead letter."""
    counters = ctx.counters
    counter_in = counter_in or f"{stage}_in"
    counter_out = f"{stage}_out" if counter_out == "" else counter_out
    async for event in stream.events():
        value = event.value
        try:
            record = decode(value) if decode else value
            result = process(record)
            if inspect.isawaitable(result):
                result = await result
            await send_result(ctx, result)
        except Rejected as exc:
            await send_dead_letter(ctx, stage, exc.reason, str(exc), value, event.message)
            outcome = f"dead:{exc.reason}"
        except Exception as exc:  # never let one event stop the worker
            log.exception("%s failed", stage)
            await send_dead_letter(ctx, stage, "internal_error", f"{type(exc).__name__}: {exc}", value, event.message)
            outcome = "dead:internal_error"
        else:
            if counter_out:
                counters[counter_out] += 1
            outcome = "ok"
        counters[counter_in] += 1
        yield outcome


class InKeyOrder:
    """Events of one key finish in arrival order; events of other keys pass them. A Kafka topic
    promises order per partition, and what depends on it (a page's later version after its
    earlier one) per key: a page cleaned quickly need not wait behind a slow page of another key.

    `before, mine = order.enter(key)` when an event starts; await `before` (if not None) before
    it finishes; `order.leave(key, mine)` once it has (always: a later event waits on it)."""

    def __init__(self) -> None:
        self._last: dict = {}  # key -> the future of its latest unfinished event

    def enter(self, key) -> tuple[asyncio.Future | None, asyncio.Future]:
        before = self._last.get(key)
        mine = asyncio.get_running_loop().create_future()
        self._last[key] = mine
        return before, mine

    def leave(self, key, mine: asyncio.Future) -> None:
        if not mine.done():
            mine.set_result(None)
        if self._last.get(key) is mine:
            del self._last[key]

    def __len__(self) -> int:
        return len(self._last)


async def run_pooled_stage(ctx: StageContext, stream, stage: str, work: str, work_args: tuple, to_messages: Callable,
                           processes: int) -> None:
    """run_stage for a CPU-bound core in child processes (stages/pool.py): `work(value, *work_args)`
    runs in one of `processes` children (`work` names a top-level function of the pure core,
    "module:function", imported by the children only),
    `to_messages(result)` -> what to send. Up to 2 x processes events in flight; each finishes
    (send or dead-letter, ack, count) as soon as its child answers, but never before an earlier
    event of the same message key (InKeyOrder): a page's later version is never overtaken by an
    earlier one. Acks out of offset order are safe: Faust commits an offset only once every
    offset below it is acknowledged."""
    from leaderwatch.stages.pool import ProcessPool

    pool = ProcessPool(work, work_args, processes, trim_seconds=ctx.settings.malloc_trim_seconds, freeze=ctx.settings.gc_freeze)
    await pool.start()
    slots = asyncio.Semaphore(2 * processes)
    order = InKeyOrder()
    finishing: set[asyncio.Task] = set()
    counters = ctx.counters

    async def finish(event, future: asyncio.Future, key, before: asyncio.Future | None, mine: asyncio.Future) -> None:
        try:
            await asyncio.wait([future])  # its outcome (a result, Rejected, a dead child) is read below
            if before is not None:
                await before
            try:
                await send_result(ctx, to_messages(future.result()))
            except Rejected as exc:
                await send_dead_letter(ctx, stage, exc.reason, str(exc), event.value, event.message)
            except Exception as exc:  # never let one event stop the worker
                log.exception("%s failed", stage)
                await send_dead_letter(ctx, stage, "internal_error", f"{type(exc).__name__}: {exc}", event.value, event.message)
            else:
                counters[f"{stage}_out"] += 1
            counters[f"{stage}_in"] += 1
            try:
                await source.ack(event)
            except Exception:
                log.exception("%s: ack failed", stage)
        finally:
            order.leave(key, mine)
            slots.release()

    source = stream.noack()
    try:
        async for event in source.events():
            await slots.acquire()
            try:
                future = await pool.submit(event.value)
            except BaseException:
                slots.release()
                raise
            key = event.message.key
            before, mine = order.enter(key)
            task = asyncio.ensure_future(finish(event, future, key, before, mine))
            finishing.add(task)
            task.add_done_callback(finishing.discard)
    finally:
        for task in list(finishing):
            task.cancel()
        await pool.stop()


async def send_result(ctx: StageContext, result) -> None:
    """Send a process() result: a plain list without waiting (Faust flushes before it commits the
    source offset), an Emit's messages acknowledged before its `then` runs."""
    if isinstance(result, Emit):
        pending = [await topic.send(key=_key(key), value=encode(record)) for topic, key, record in result.messages]
        for future in pending:
            await future
        if result.then:
            result.then()
        if result.durable:
            await flush_producer(ctx)
        return
    for topic, key, record in result or ():
        await topic.send(key=_key(key), value=encode(record))


async def flush_producer(ctx: StageContext) -> None:
    """Send what the producer buffers (tables' changelog writes included) and wait for the acks."""
    producer = ctx.app.producer
    if producer.buffer.state == "running":  # under test_context nothing is started: nothing to wait for
        await producer.flush()


async def send_dead_letter(ctx: StageContext, stage: str, reason: str, error: str, value, message=None) -> None:
    """Publish a dead letter for `value` (the input as received); the stage goes on."""
    letter = dead_letter(stage, reason, error, value, message, ctx.settings.dead_letter_input_bytes)
    log.warning("dead letter from %s: %s: %s", stage, reason, error[:200])
    ctx.counters[f"dead_{stage}_{reason}"] += 1
    await ctx.topics.pages_dead.send(key=_key(letter.key), value=encode(letter))


def _key(key) -> bytes | None:
    return key.encode("utf-8") if isinstance(key, str) else key
