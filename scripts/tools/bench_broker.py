"""The embedded broker's cost per fetch as a partition fills: why long runs on it slow down.

  one partition filled with one-record batches (what workers write on the embedded broker, where
  LEADERWATCH_PRODUCER_MAX_BATCH_SIZE=1) up to each --levels count
  -> at each level, --probes single records sent and read back one by one on that partition
     (produce, then the consumer's fetch), and the same on a fresh empty topic (the baseline)
  -> per level: median produce->read latency, the broker's CPU ms per probe, the broker's CPU per
     second of an idle consumer at the end of the partition, and the ratio of both CPU figures to
     the fresh topic's, measured in the same step.
  and, apart: the read-back latency when the consumer's fetch names one topic and when it names
  three (as every Faust worker's fetch does), with a long fetch wait (--hold-wait-ms): whether the
  broker ends a waiting fetch when a record arrives or holds it for the whole wait.
The broker is the one the project starts (tansu, memory storage). A human table, then ONE JSON
object as the last line.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from pathlib import Path

import orjson

from leaderwatch.ops.broker import embedded_broker
from tools.bench import cpu_seconds, process_tree


def broker_pid() -> int:
    """The tansu process this one started."""
    return next(pid for pid in process_tree(os.getpid()) if "tansu" in Path(f"/proc/{pid}/comm").read_text())


async def probe(bootstrap: str, pid: int, topic: str, start_offset: int, probes: int, value: bytes,
                fetch_wait_ms: int = 20) -> dict:
    """`probes` records sent one by one to partition 0 of `topic` and read back from `start_offset`
    -> median latency ms, broker CPU ms per probe, idle broker CPU ms per second."""
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, max_batch_size=1, max_request_size=16 * 1024 * 1024)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, fetch_max_wait_ms=fetch_wait_ms, enable_auto_commit=False,
                                max_partition_fetch_bytes=16 * 1024 * 1024)
    await producer.start()
    await consumer.start()
    try:
        partition = TopicPartition(topic, 0)
        consumer.assign([partition])
        consumer.seek(partition, start_offset)
        await asyncio.sleep(0.5)
        idle_cpu, idle_start = cpu_seconds(pid), time.monotonic()
        await asyncio.sleep(2.0)  # the consumer polls an empty end of the partition meanwhile
        idle_ms_per_s = 1000 * (cpu_seconds(pid) - idle_cpu) / (time.monotonic() - idle_start)
        latencies, start_cpu = [], cpu_seconds(pid)
        for _ in range(probes):
            sent = time.monotonic()
            await producer.send_and_wait(topic, value, partition=0)
            await consumer.getone()
            latencies.append(1000 * (time.monotonic() - sent))
        return {"latency_ms": round(statistics.median(latencies), 2),
                "cpu_ms_per_probe": round(1000 * (cpu_seconds(pid) - start_cpu) / probes, 2),
                "idle_cpu_ms_per_s": round(idle_ms_per_s, 1)}
    finally:
        await consumer.stop()
        await producer.stop()


async def bench(levels: list[int], probes: int, record_bytes: int, fetch_wait_ms: int = 20) -> dict:
    from aiokafka import AIOKafkaProducer

    value = b"x" * record_bytes
    rows = []
    with embedded_broker() as broker:
        bootstrap, pid = broker.removeprefix("kafka://"), broker_pid()
        filler = AIOKafkaProducer(bootstrap_servers=bootstrap, max_batch_size=1, max_request_size=16 * 1024 * 1024)
        await filler.start()
        try:
            held = 0
            for step, level in enumerate(sorted(levels)):
                fill_cpu, fill_start = cpu_seconds(pid), time.monotonic()
                for _ in range(level - held):
                    await filler.send("held", value, partition=0)
                await filler.flush()
                fill_ms = 1000 * (cpu_seconds(pid) - fill_cpu) / max(1, level - held)
                held = level
                filled = await probe(bootstrap, pid, "held", held, probes, value, fetch_wait_ms)
                held += probes
                fresh = await probe(bootstrap, pid, f"fresh-{step}", 0, probes, value, fetch_wait_ms)
                rows.append({"batches_held": level, "filled": filled, "fresh": fresh,
                             "fill_cpu_ms_per_batch": round(fill_ms, 3),
                             "cpu_ratio_to_fresh": round(filled["cpu_ms_per_probe"] / max(fresh["cpu_ms_per_probe"], 0.01), 2),
                             "idle_ratio_to_fresh": round(filled["idle_cpu_ms_per_s"] / max(fresh["idle_cpu_ms_per_s"], 0.01), 2),
                             "seconds": round(time.monotonic() - fill_start, 1)})
                print(f"{level:>7} batches held: read-back {filled['latency_ms']:>6} ms (fresh topic {fresh['latency_ms']}), "
                      f"broker CPU {filled['cpu_ms_per_probe']:>6} ms a probe (fresh {fresh['cpu_ms_per_probe']}: "
                      f"{rows[-1]['cpu_ratio_to_fresh']}x), idle {filled['idle_cpu_ms_per_s']} ms/s "
                      f"(fresh {fresh['idle_cpu_ms_per_s']}), filling {fill_ms:.3f} ms a batch", flush=True)
        finally:
            await filler.stop()
    first, last = rows[0], rows[-1]
    slope = ((last["filled"]["cpu_ms_per_probe"] - first["filled"]["cpu_ms_per_probe"])
             / max(1, last["batches_held"] - first["batches_held"]) * 1000)
    return {"record_bytes": record_bytes, "probes": probes, "fetch_wait_ms": fetch_wait_ms, "levels": rows,
            "cpu_ms_per_probe_per_1000_batches": round(slope, 3)}


async def held_fetch(wait_ms: int, probes: int) -> dict:
    """Median produce -> read-back ms with the consumer's fetch over 1 and over 3 topics."""
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

    figures = {}
    with embedded_broker() as broker:
        bootstrap = broker.removeprefix("kafka://")
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, max_batch_size=1)
        await producer.start()
        try:
            for topics in (1, 3):
                names = [f"hold-{topics}-{i}" for i in range(topics)]
                for name in names:  # create each topic (auto-created on first write) before the fetch names it
                    await producer.send_and_wait(name, b"", partition=0)
                consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, fetch_max_wait_ms=wait_ms, enable_auto_commit=False)
                await consumer.start()
                try:
                    partitions = [TopicPartition(name, 0) for name in names]
                    consumer.assign(partitions)
                    for partition in partitions:
                        consumer.seek(partition, 1)
                    await asyncio.sleep(0.5)
                    latencies = []
                    for i in range(probes):
                        await asyncio.sleep(0.05 + (i * 0.037) % 0.2)  # not in step with the fetch cycle
                        sent = time.monotonic()
                        await producer.send_and_wait(names[-1], b"y", partition=0)
                        await consumer.getone()
                        latencies.append(1000 * (time.monotonic() - sent))
                    figures[f"{topics}_topics_latency_ms"] = round(statistics.median(latencies), 1)
                finally:
                    await consumer.stop()
        finally:
            await producer.stop()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--levels", default="0,2500,5000,10000,20000",
                        help="batches held in the partition at each step (default 0,2500,5000,10000,20000)")
    parser.add_argument("--probes", type=int, default=60, help="records sent and read back per step and topic (default 60)")
    parser.add_argument("--fetch-wait-ms", type=int, default=20,
                        help="the consumer's fetch_max_wait_ms (default 20, LEADERWATCH_CONSUMER_FETCH_MAX_WAIT_MS on it)")
    parser.add_argument("--record-bytes", type=int, default=1000, help="bytes per record (default 1000)")
    parser.add_argument("--hold-wait-ms", type=int, default=500,
                        help="the fetch wait of the one-topic / three-topic read-back comparison (default 500)")
    args = parser.parse_args()
    figures = asyncio.run(bench([int(v) for v in args.levels.split(",")], args.probes, args.record_bytes, args.fetch_wait_ms))
    print(f"broker CPU per probe grows {figures['cpu_ms_per_probe_per_1000_batches']} ms per 1,000 batches held in the partition")
    figures["held_fetch"] = {"fetch_wait_ms": args.hold_wait_ms, **asyncio.run(held_fetch(args.hold_wait_ms, min(args.probes, 20)))}
    print(f"a record read back with a {args.hold_wait_ms} ms fetch wait: {figures['held_fetch']['1_topics_latency_ms']} ms "
          f"(median) when the fetch names one topic, {figures['held_fetch']['3_topics_latency_ms']} ms when it names three")
    print(orjson.dumps(figures).decode())


if __name__ == "__main__":
    main()
