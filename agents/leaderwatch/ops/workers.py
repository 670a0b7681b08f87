"""Worker processes from Python: start one with given settings, wait until it is ready, and judge
from its /progress/ counters when every page has passed every stage (demo, benchmarks, tests)."""
from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import subprocess
import sys
import time
from pathlib import Path

from leaderwatch.cli.printing import fetch_json
from leaderwatch.ops.broker import stop_process


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
        process = subprocess.Popen([sys.executable, "-m", "leaderwatch", "worker", "-l", "info"],
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
    """The worker's /progress/ counters once `pages` pages have passed every stage; TimeoutError
    (with the last counters, to show which stage stopped) after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    progress: dict = {}
    while time.monotonic() < deadline:
        progress = fetch_json(settings.web_url + "/progress/")
        if pipeline_done(progress, pages):
            await asyncio.sleep(0.5)  # let the last table writes and alert sends flush
            return fetch_json(settings.web_url + "/progress/")
        await asyncio.sleep(0.3)
    counters = {k: v for k, v in sorted(progress.items()) if k.endswith(("_in", "_out", "_sent", "_applied")) or k.startswith("dead_")}
    raise TimeoutError(f"{pages} pages did not pass every stage in {timeout:g} s; last counters at {settings.web_url}: {counters}")
