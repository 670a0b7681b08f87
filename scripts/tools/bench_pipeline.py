"""Pipeline benchmark: pages/s through every stage of one worker on the embedded broker, as ratios
to two ceilings measured in the same run.

  pipeline   N pages ingested -> counted in the mentions table (one worker, all stages)
  cpu        clean_page + extract_page of the same pages in this process (no Kafka)
  transport  aiokafka produce + consume of the same envelope bytes (no processing)
A human summary, then ONE JSON object as the last line.
"""
from __future__ import annotations

import argparse
import asyncio
import dataclasses
import tempfile
import time
from pathlib import Path

import orjson

from leaderwatch.ops.broker import embedded_broker, free_port
from leaderwatch.pipeline.clean import clean_page
from leaderwatch.ops.workers import wait_until_done, wait_until_ready, worker_process
from leaderwatch.pipeline.extract import build_matcher, extract_page
from leaderwatch.ops.ingest import SAMPLES_DIR, iter_page_files, page_envelope, publish_pages
from leaderwatch.settings import Settings

REPO = Path(__file__).resolve().parents[2]  # tools run from the repository, never from an installed package
AEB_DIR = REPO.parent / "shared" / "corpus" / "aeb"


def cpu_rate(files: list[Path]) -> float:
    """Pages/s of clean + extract in this process, one thread."""
    matcher = build_matcher()
    envelopes = [page_envelope(path) for path in files]
    start = time.perf_counter()
    for envelope in envelopes:
        try:
            extract_page(clean_page(envelope), matcher)
        except Exception:
            pass
    return len(envelopes) / (time.perf_counter() - start)


async def transport_rate(settings: Settings, files: list[Path]) -> float:
    """Messages/s for producing and then consuming the same envelope bytes with aiokafka."""
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

    values = [orjson.dumps(page_envelope(path)) for path in files]
    topic = "bench.transport"
    start = time.perf_counter()
    producer = AIOKafkaProducer(bootstrap_servers=settings.broker_bootstrap, max_request_size=settings.producer_max_request_size)
    await producer.start()
    for value in values:
        await producer.send(topic, value)
    await producer.flush()
    await producer.stop()
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=settings.broker_bootstrap, auto_offset_reset="earliest",
                                group_id=None, fetch_max_bytes=64 * 1024 * 1024)
    await consumer.start()
    seen = 0
    while seen < len(values):
        batches = await consumer.getmany(timeout_ms=1000)
        seen += sum(len(records) for records in batches.values())
    await consumer.stop()
    return len(values) / (time.perf_counter() - start)


async def pipeline_rate(settings: Settings, files: list[Path], workdir: Path) -> dict:
    with worker_process(settings, workdir / "worker.log") as process:
        wait_until_ready(settings, process)
        start = time.perf_counter()
        await publish_pages(settings, files, show_progress=False)
        progress = await wait_until_done(settings, len(files), timeout=1800)
        seconds = time.perf_counter() - start - 0.5  # wait_until_done waits 0.5 s after the last page
    return {"pages_per_s": len(files) / seconds, "seconds": seconds, "progress": progress}


async def bench(folder: Path, copies: int) -> dict:
    files = list(iter_page_files([folder])) * copies
    workdir = Path(tempfile.mkdtemp(prefix="leaderwatch-bench-"))
    with embedded_broker(log_path=workdir / "broker.log") as broker:
        settings = Settings(broker=broker, web_port=free_port(), datadir=str(workdir / "data"), producer_max_batch_size=1)
        settings = dataclasses.replace(settings, app_id=f"bench-{free_port()}")
        transport = await transport_rate(settings, files)
        pipeline = await pipeline_rate(settings, files, workdir)
    cpu = cpu_rate(files)
    return {
        "corpus": str(folder), "pages": len(files),
        "pipeline_pages_per_s": round(pipeline["pages_per_s"], 1),
        "cpu_pages_per_s": round(cpu, 1),
        "transport_messages_per_s": round(transport, 1),
        "pipeline_vs_cpu": round(pipeline["pages_per_s"] / cpu, 3),
        "pipeline_vs_transport": round(pipeline["pages_per_s"] / transport, 4),
        "dead_letters": sum(v for k, v in pipeline["progress"].items() if k.startswith("dead_")),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=AEB_DIR if AEB_DIR.is_dir() else SAMPLES_DIR)
    parser.add_argument("--copies", type=int, default=2, help="send the corpus this many times (re-sends are deduplicated)")
    args = parser.parse_args()
    figures = asyncio.run(bench(args.corpus, args.copies))
    print(f"{figures['pages']} pages of {figures['corpus']} through one worker (all stages) on the embedded broker")
    print(f"pipeline  {figures['pipeline_pages_per_s']:>9} pages/s")
    print(f"cpu       {figures['cpu_pages_per_s']:>9} pages/s  (clean + extract in-process; pipeline = {figures['pipeline_vs_cpu']}x)")
    print(f"transport {figures['transport_messages_per_s']:>9} msgs/s   (aiokafka produce + consume; pipeline = {figures['pipeline_vs_transport']}x)")
    print(orjson.dumps(figures).decode())


if __name__ == "__main__":
    main()
