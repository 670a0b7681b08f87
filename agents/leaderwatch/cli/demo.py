"""The main job on one machine: embedded broker + one worker + pages in -> live table and alerts.

run_demo() starts what is missing (no LEADERWATCH_BROKER in the environment: the embedded broker
on a free port), waits until every page has passed every stage, prints, and shuts down.
"""
from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import tempfile
import time
from pathlib import Path

import orjson

from leaderwatch.cli.printing import fetch_json, format_alert, print_table
from leaderwatch.ops.broker import embedded_broker, free_port
from leaderwatch.ops.follow import read_topic
from leaderwatch.ops.ingest import SAMPLES_DIR, iter_page_files, publish_pages
from leaderwatch.ops.workers import wait_until_done, wait_until_ready, worker_process


async def show(settings, top: int = 20) -> None:
    print_table(fetch_json(settings.web_url + f"/mentions/?top={top}")["leaders"])
    print("\nAlerts:")
    count = 0
    async for value in read_topic(settings, settings.topic_alerts, idle_timeout=1.5):
        print(format_alert(orjson.loads(value)))
        count += 1
    print(f"({count} alerts)")


async def run_demo(settings, paths: list[str], follow: bool = False, published: str | None = None) -> None:
    files = list(iter_page_files(paths or [SAMPLES_DIR]))
    own_broker = "LEADERWATCH_BROKER" not in os.environ
    workdir = Path(tempfile.mkdtemp(prefix="leaderwatch-"))
    with (embedded_broker(log_path=workdir / "broker.log") if own_broker else contextlib.nullcontext(settings.broker)) as broker:
        settings = dataclasses.replace(settings, broker=broker, datadir=str(workdir / "data"),
                                       web_port=settings.web_port or free_port(),
                                       broker_kind="embedded" if own_broker else settings.broker_kind)
        print(f"broker {broker}{' (embedded)' if own_broker else ''}; worker web {settings.web_url}; logs in {workdir}")
        with worker_process(settings, workdir / "worker.log") as process:
            wait_until_ready(settings, process)
            started = time.monotonic()
            await publish_pages(settings, files, published)
            progress = await wait_until_done(settings, len(files))
            dead = sum(v for k, v in progress.items() if k.startswith("dead_"))
            print(f"{len(files)} pages through the pipeline in {time.monotonic() - started:.1f} s "
                  f"({progress.get('extract_out', 0)} with text, {dead} dead letters)\n")
            await show(settings)
            while follow:
                await asyncio.sleep(2.0)
                print("\033[2J\033[H", end="")
                await show(settings)
