"""Memory benchmark of the table stages: N pages' entities into a mentions + alert worker, its
resident size after every tenth of them.

  N synthetic pages.entities records (seeded; 1-4 of the gazetteer's first --leaders leaders each,
  event times spread over --days days of hourly windows, the shape extract writes) -> one worker
  running only the mentions and alert stages (no trafilatura: what grows here is state) on the
  embedded broker, the backlog kept under 1,000 records
Memory: the worker's resident size after each tenth of the pages (once the worker has counted
them) and at the end; growth = end - first tenth, and per 1,000 pages over the second half (a
store or a cache that is bounded stops growing there, state that grows with the pages does not).
A human summary, then ONE JSON object as the last line.
"""
from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import random
import tempfile
import time
from pathlib import Path

import orjson

from leaderwatch.ops.broker import embedded_broker, stop_process
from leaderwatch.settings import Settings
from tools.bench import progress_of, ready, rss_mb, start_workers, wait_for

GAZETTEER = Path(__file__).resolve().parents[2] / "agents" / "leaderwatch" / "leaders" / "data" / "gazetteer.jsonl"


def synthetic_pages(count: int, leaders: list[dict], days: int, seed: int = 1):
    """count pages.entities dicts: random leaders, mention counts and hourly event times."""
    rnd = random.Random(seed)
    for i in range(count):
        found = [{"qid": g["qid"], "name": g["name"], "country": g["country"], "office": None, "mentions": rnd.randint(1, 6),
                  "surfaces": [g["name"]], "offsets": [[0, len(g["name"])]], "sentence_ids": [0],
                  "sentences": [f"{g['name']} said on Tuesday that talks would continue next week, officials confirmed."]}
                 for g in rnd.sample(leaders, rnd.choice([1, 1, 2, 2, 3, 4]))]
        hour = i * days * 24 // count
        yield {"doc_id": f"{rnd.getrandbits(96):024x}",
               "url": f"https://news.example.com/world/2025/11/{1 + hour // 24:02d}/story-{i}-leaders-meet-for-talks",
               "title": f"Leaders meet for talks on trade and security as the summit opens ({i})", "language": "en",
               "event_time": f"2025-11-{1 + hour // 24:02d}T{hour % 24:02d}:{rnd.randint(0, 59):02d}:00Z",
               "fetched_at": "2025-12-01T00:00:00Z", "content_hash": f"{rnd.getrandbits(128):032x}", "leaders": found}


def counted(progress: dict, pages: int) -> bool:
    p = lambda k: progress.get(k, 0)  # noqa: E731
    return p("mentions_in") >= pages and p("alert_in") >= pages and p("mention_updates_applied") >= p("mention_updates_sent")


async def bench(pages: int, store: str, leaders_used: int, days: int, overrides: dict) -> dict:
    from aiokafka import AIOKafkaProducer

    leaders = [orjson.loads(line) for line in GAZETTEER.read_text().splitlines()[:leaders_used]]
    workdir = Path(tempfile.mkdtemp(prefix="leaderwatch-bench-state-"))
    with embedded_broker(log_path=workdir / "broker.log") as broker:
        settings = Settings(broker=broker, app_id=f"bench-state-{os.getpid()}", datadir=str(workdir / "data"), store=store,
                            stages=("mentions", "alert"), broker_kind="embedded")
        settings = dataclasses.replace(settings, **overrides)
        (process, url), = start_workers(settings, [set(os.sched_getaffinity(0))], workdir)
        try:
            await wait_for(lambda: ready([url]), 120, "worker not ready")
            producer = AIOKafkaProducer(bootstrap_servers=settings.broker_bootstrap, linger_ms=5)
            await producer.start()
            started, tenths = time.monotonic(), []
            try:
                for i, page in enumerate(synthetic_pages(pages, leaders, days)):
                    await producer.send(settings.topic_entities, orjson.dumps(page), key=page["doc_id"].encode())
                    done = i + 1
                    if done % 500 == 0 or done == pages:
                        await producer.flush()
                        await wait_for(lambda: (progress_of([url]) or {}).get("mentions_in", 0) >= done - 1000, 600, "backlog")
                    if done * 10 // pages > len(tenths):
                        await wait_for(lambda: counted(progress_of([url]) or {}, done), 600, "counting", 0.2)
                        tenths.append(round(rss_mb(process.pid), 1))
            finally:
                await producer.stop()
            seconds = time.monotonic() - started
            progress = progress_of([url]) or {}
        finally:
            stop_process(process, timeout=15)
    half = tenths[len(tenths) // 2 - 1]
    return {"pages": pages, "store": store, "leaders": leaders_used, "days": days, "settings": overrides,
            "seconds": round(seconds, 1), "rss_mb_each_tenth": tenths, "worker_rss_mb": max(tenths),
            "rss_growth_mb": round(tenths[-1] - tenths[0], 1),
            "second_half_mb_per_1000_pages": round((tenths[-1] - half) / (pages / 2000), 2),
            "mention_updates": progress.get("mention_updates_applied", 0), "dead_letters": progress.get("dead_mentions", 0)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=10000)
    parser.add_argument("--store", default="rocksdb://", help="the worker's table store (default rocksdb://, as compose)")
    parser.add_argument("--leaders", type=int, default=400, help="distinct leaders the pages name (default 400)")
    parser.add_argument("--days", type=int, default=30, help="days of event time the pages cover (default 30)")
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=INT", help="an integer worker setting")
    args = parser.parse_args()
    overrides = {name: int(value) for name, _, value in (item.partition("=") for item in args.set)}
    unknown = set(overrides) - {f.name for f in dataclasses.fields(Settings)}
    if unknown:
        parser.error(f"no setting {sorted(unknown)[0]!r}")
    figures = asyncio.run(bench(args.pages, args.store, args.leaders, args.days, overrides))
    print(f"{figures['pages']} pages' entities ({figures['leaders']} leaders, {figures['days']} days) into one mentions+alert "
          f"worker on {figures['store']}, {figures['seconds']} s")
    print(f"memory    each tenth {figures['rss_mb_each_tenth']} MiB: growth after the first tenth {figures['rss_growth_mb']} MiB, "
          f"second half {figures['second_half_mb_per_1000_pages']} MiB per 1,000 pages")
    print(orjson.dumps(figures).decode())


if __name__ == "__main__":
    main()
