"""The main job on one machine: embedded broker + one worker + pages in -> live table and alerts.

run_demo() starts what is missing (no LEADERWATCH_BROKER in the environment: the embedded broker
on a free port), waits until every page has passed every stage, prints, and shuts down.
"""
from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson

from agents.broker import embedded_broker, free_port, stop_process
from agents.cli import fetch_json, format_alert, print_table
from agents.follow import read_topic
from agents.ingest import SAMPLES_DIR, iter_page_files, publish_pages


def worker_environment(settings) -> dict:
    """The settings as LEADERWATCH_* variables for a worker process."""
    env = dict(os.environ)
    for field in dataclasses.fields(settings):
        value = getattr(settings, field.name)
        value = ",".join(value) if isinstance(value, tuple) else str(value).lower() if isinstance(value, bool) else str(value)
        env[f"LEADERWATCH_{field.name.upper()}"] = value
    return env


@contextlib.contextmanager
def worker_process(settings, log_path: Path):
    """A `leaderwatch worker` subprocess with `settings`; stopped (SIGTERM) on exit."""
    with open(log_path, "ab") as log:
        process = subprocess.Popen([sys.executable, "-m", "agents", "worker", "-l", "info"],
                                   env=worker_environment(settings), stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)  # Ctrl-C reaches the demo only; it stops the worker
        try:
            yield process
        finally:
            stop_process(process, timeout=15)


def wait_until_ready(settings, process, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the worker exited with code {process.returncode}")
        with contextlib.suppress(Exception, SystemExit):
            if fetch_json(settings.web_url + "/health/", timeout=1).get("ready"):
                return
        time.sleep(0.2)
    raise TimeoutError(f"the worker was not ready within {timeout} s")


def pipeline_done(progress: dict, pages: int) -> bool:
    """Every page through every stage, judged from the worker's /progress/ counters."""
    p = lambda k: progress.get(k, 0)  # noqa: E731
    return (p("clean_in") >= pages and p("extract_in") >= p("clean_out") and p("mentions_in") >= p("extract_out")
            and p("alert_in") >= p("extract_out") and p("mention_updates_applied") >= p("mention_updates_sent"))


async def wait_until_done(settings, pages: int, timeout: float = 300.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        progress = fetch_json(settings.web_url + "/progress/")
        if pipeline_done(progress, pages):
            await asyncio.sleep(0.5)  # let the last table writes and alert sends flush
            return fetch_json(settings.web_url + "/progress/")
        await asyncio.sleep(0.3)
    raise TimeoutError("pages did not pass every stage in time")


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
                                       web_port=settings.web_port if "LEADERWATCH_WEB_PORT" in os.environ else free_port(),
                                       # one record per batch: the embedded broker's end_offsets is then right
                                       producer_max_batch_size=1 if own_broker else settings.producer_max_batch_size)
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
