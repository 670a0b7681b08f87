"""Operations on a real worker: /health/, /metrics, and the CLI's views of the live table and alerts."""
from __future__ import annotations

import re
import subprocess
import sys

import orjson
import pytest
from aiokafka import AIOKafkaProducer

from leaderwatch.cli.printing import fetch_json
from leaderwatch.ops.workers import wait_until_done, worker_environment
from leaderwatch.ops.ingest import publish_pages
from tests.conftest import TAKAICHI_PAGE, read_all

pytestmark = pytest.mark.integration


def metric(text: str, name: str, **labels) -> float:
    """The value of one sample in Prometheus text format (labels in any order)."""
    for line in text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            found = dict(re.findall(r'(\w+)="([^"]*)"', line.split("}")[0])) if "{" in line else {}
            if found == labels:
                return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"no sample {name}{labels}")


def line_within(process, seconds: float) -> str:
    """The next line `process` prints, or AssertionError after `seconds` (never hangs the suite)."""
    import selectors

    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        assert selector.select(timeout=seconds), f"no line within {seconds} s"
    return process.stdout.readline()


async def test_health_metrics_and_cli_views(settings_factory, start_worker, tmp_path):
    settings = settings_factory()
    start_worker(settings)
    assert fetch_json(settings.web_url + "/health/") == {"ready": True}

    page = tmp_path / "takaichi.html"
    page.write_bytes(TAKAICHI_PAGE.read_bytes())
    await publish_pages(settings, [page], show_progress=False)
    producer = AIOKafkaProducer(bootstrap_servers=settings.broker_bootstrap)
    await producer.start()
    await producer.send_and_wait(settings.topic_raw, b"\x00garbage", key=b"bad")
    await producer.stop()
    await wait_until_done(settings, 2, timeout=60)
    await read_all(settings, settings.topic_alerts, expect=1)

    import urllib.request
    with urllib.request.urlopen(settings.web_url + "/metrics", timeout=5) as response:
        text = response.read().decode()
    assert metric(text, "leaderwatch_pages_total", stage="clean", direction="in") == 2
    assert metric(text, "leaderwatch_pages_total", stage="clean", direction="out") == 1
    assert metric(text, "leaderwatch_dead_letters_total", stage="clean", reason="malformed_envelope") == 1
    assert metric(text, "leaderwatch_leaders_found_total") == 2
    assert metric(text, "leaderwatch_alerts_total", kind="engagement") == 1
    assert metric(text, "leaderwatch_end_to_end_lag_seconds_count") == 1
    assert metric(text, "leaderwatch_ready") == 1
    # what the worker held once started is out of the collector's reach (LEADERWATCH_GC_FREEZE):
    # modules, Faust and the gazetteer are tens of thousands of objects
    assert fetch_json(settings.web_url + "/progress/")["gc_frozen_objects"] > 20_000
    assert metric(text, "leaderwatch_gc_full_collections_total") >= 0
    assert "faust_" not in text  # Faust's own monitor only with LEADERWATCH_FAUST_METRICS=true (tests/unit/test_metrics.py)

    env = worker_environment(settings)
    table = subprocess.run([sys.executable, "-m", "leaderwatch", "mentions", "--json"], env=env, capture_output=True,
                           text=True, timeout=60, check=True).stdout
    assert {row["qid"] for row in orjson.loads(table)["leaders"]} == {"Q1705028", "Q56226"}
    printed = subprocess.run([sys.executable, "-m", "leaderwatch", "alerts", "--kind", "engagement"], env=env,
                             capture_output=True, text=True, timeout=60, check=True).stdout
    assert "[engagement]" in printed and "Sanae Takaichi (JP)" in printed and "Kim Jong-un (KP)" in printed
    listing = subprocess.run([sys.executable, "-m", "leaderwatch", "mentions", "--top", "1"], env=env,
                             capture_output=True, text=True, timeout=60, check=True).stdout
    assert listing.count("│ Q") == 1 and ("Sanae Takaichi" in listing or "Kim Jong-un" in listing)

    # `alerts --follow --leader`: what is there, then what comes later, for that leader only
    follower = subprocess.Popen([sys.executable, "-m", "leaderwatch", "alerts", "--follow", "--json", "--leader", "Q56226"],
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        first = orjson.loads(line_within(follower, 60))
        assert first["kind"] == "engagement" and "Q56226" in {l["qid"] for l in first["leaders"]}
        later = tmp_path / "later.txt"  # a new page after the follower started: Kim Jong Un meets Putin
        later.write_text("Kim and Putin meet again\n\nNorth Korean leader Kim Jong Un held talks with Russian "
                         "President Vladimir Putin in Vladivostok on Tuesday.\n")
        later.with_name("later.meta.json").write_text('{"url": "https://news.example.org/kim-putin", "published_at": "2025-11-15T08:00:00Z"}')
        await publish_pages(settings, [later], show_progress=False)
        second = orjson.loads(line_within(follower, 60))
        assert second["evidence"][0]["url"] == "https://news.example.org/kim-putin"
        assert {l["qid"] for l in second["leaders"]} == {"Q56226", "Q7747"}
    finally:
        follower.terminate()
        follower.wait(timeout=15)


@pytest.mark.own_broker
async def test_broker_and_ingest_commands(tmp_path):
    """`leaderwatch broker --port P` serves Kafka; `leaderwatch ingest FILE --published D` fills pages.raw."""
    import dataclasses
    import os

    from leaderwatch.ops.broker import free_port, stop_process, wait_for_port
    from leaderwatch.settings import Settings

    port = free_port()
    broker = subprocess.Popen([sys.executable, "-m", "leaderwatch", "broker", "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port("127.0.0.1", port)
        settings = dataclasses.replace(Settings(), broker=f"kafka://127.0.0.1:{port}", broker_kind="embedded", topic_raw="cli.pages.raw")
        page = tmp_path / "note.txt"
        page.write_text("Sanae Takaichi spoke.")
        env = {**os.environ, **worker_environment(settings)}
        subprocess.run([sys.executable, "-m", "leaderwatch", "ingest", str(page), "--published", "2025-11-14"], env=env,
                       capture_output=True, text=True, timeout=60, check=True)
        (envelope,) = await read_all(settings, "cli.pages.raw", expect=1)
        assert envelope["published_at"] == "2025-11-14T00:00:00Z" and envelope["content_type"] == "text/plain"
        assert envelope["body"] == "Sanae Takaichi spoke." and envelope["backfill"] is False
    finally:
        stop_process(broker, timeout=5)


def test_two_workers_with_default_port_and_data_dir_do_not_collide(settings_factory, tmp_path):
    """Two workers of one app on one machine, neither given a LEADERWATCH_WEB_PORT (one has it unset,
    the other set but empty, as compose passes `VAR=`), sharing one LEADERWATCH_DATADIR with RocksDB
    tables: each takes its own web port and data dir, both get ready."""
    import contextlib
    import time

    from leaderwatch.ops.broker import stop_process
    from leaderwatch.ops.workers import worker_environment

    settings = settings_factory(store="rocksdb://", datadir=str(tmp_path / "shared-data"))
    env = worker_environment(settings)
    del env["LEADERWATCH_WEB_PORT"]
    envs = [env, {**env, "LEADERWATCH_WEB_PORT": ""}]
    with contextlib.ExitStack() as stack:
        logs, processes = [tmp_path / "w0.log", tmp_path / "w1.log"], []
        for log_path, env in zip(logs, envs):
            handle = stack.enter_context(open(log_path, "wb"))
            process = subprocess.Popen([sys.executable, "-m", "leaderwatch", "worker", "-l", "info"], env=env,
                                       stdout=handle, stderr=subprocess.STDOUT)
            stack.callback(stop_process, process, 15)
            processes.append(process)
            time.sleep(0.1)  # both start at once: the port claim must not race
        announced = []
        for log_path in logs:
            deadline = time.monotonic() + 30
            while not (found := re.search(r"web server (http://\S+), data dir (\S+),", log_path.read_text(errors="replace"))):
                assert time.monotonic() < deadline, log_path.read_text()[-3000:]
                time.sleep(0.2)
            announced.append(found.groups())
        (url0, dir0), (url1, dir1) = announced
        assert url0 != url1 and dir0 != dir1
        assert all(d.startswith(str(tmp_path / "shared-data" / settings.app_id)) for d in (dir0, dir1))
        deadline = time.monotonic() + 60
        ready = set()
        while len(ready) < 2:  # each owns one of the 2 partitions (a locked RocksDB dir would never get ready)
            assert time.monotonic() < deadline, [p.read_text()[-2000:] for p in logs]
            assert all(p.poll() is None for p in processes), [p.read_text()[-2000:] for p in logs]
            for url in (url0, url1):
                with contextlib.suppress(Exception, SystemExit):  # SystemExit: the web server is not up yet
                    if fetch_json(url + "/health/", timeout=1).get("ready"):
                        ready.add(url)
            time.sleep(0.5)


def test_health_says_503_until_the_worker_owns_partitions_then_200(settings_factory, tmp_path):
    """/health/ from the first moment the web server answers: 503 {"ready": false} while the worker
    joins its group, then 200 {"ready": true}; /metrics' leaderwatch_ready follows it."""
    import time
    import urllib.error
    import urllib.request

    from leaderwatch.ops.workers import worker_process

    settings = settings_factory()
    statuses = []
    with worker_process(settings, tmp_path / "worker.log"):
        deadline = time.monotonic() + 60
        while not statuses or statuses[-1][0] != 200:
            assert time.monotonic() < deadline, (statuses[-5:], (tmp_path / "worker.log").read_text()[-3000:])
            try:
                with urllib.request.urlopen(settings.web_url + "/health/", timeout=1) as response:
                    statuses.append((response.status, orjson.loads(response.read())))
            except urllib.error.HTTPError as exc:
                statuses.append((exc.code, orjson.loads(exc.read())))
                with urllib.request.urlopen(settings.web_url + "/metrics", timeout=1) as response:
                    ready_metric = metric(response.read().decode(), "leaderwatch_ready")
                if ready_metric != 0:  # the worker got its partitions between the two requests: /health/ says so now
                    with urllib.request.urlopen(settings.web_url + "/health/", timeout=1) as response:
                        assert ready_metric == 1 and response.status == 200
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass  # the web server is not up yet
            time.sleep(0.05)
        with urllib.request.urlopen(settings.web_url + "/metrics", timeout=5) as response:
            assert metric(response.read().decode(), "leaderwatch_ready") == 1
    assert statuses[0] == (503, {"ready": False})
    assert statuses[-1] == (200, {"ready": True})


async def test_json_logs_are_json_lines_only(settings_factory, start_worker, tmp_path):
    """LEADERWATCH_LOG_FORMAT=json: every line a worker writes is one JSON object (no text banner),
    with the worker's own records (a dead letter's warning) among them."""
    settings = settings_factory(log_format="json")
    start_worker(settings)
    producer = AIOKafkaProducer(bootstrap_servers=settings.broker_bootstrap)
    await producer.start()
    await producer.send_and_wait(settings.topic_raw, b"not an envelope", key=b"bad")
    await producer.stop()
    await read_all(settings, settings.topic_dead, expect=1)
    lines = [line for line in (tmp_path / f"{settings.app_id}.log").read_text().splitlines() if line.strip()]
    records = [orjson.loads(line) for line in lines]  # raises on any line that is not JSON
    assert all(isinstance(r, dict) and r["level"] and "message" in r for r in records)
    assert any(r["message"].startswith("dead letter from clean: malformed_envelope") for r in records)
    assert any("web server http://" in r["message"] for r in records)


@pytest.mark.own_broker
def test_the_main_job_runs_end_to_end_and_leaves_nothing_running(tmp_path):
    """`leaderwatch demo` (what ./scripts/run runs): its own embedded broker and worker, the bundled
    sample pages through every stage, the table and the alerts printed, exit 0, no process left."""
    import os
    import time

    env = {k: v for k, v in os.environ.items() if not k.startswith("LEADERWATCH_")}
    result = subprocess.run([sys.executable, "-m", "leaderwatch", "demo"], env=env, capture_output=True, text=True,
                            timeout=240, cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    out = result.stdout
    assert re.search(r"9 pages through the pipeline in [\d.]+ s \(9 with text, 0 dead letters\)", out), out[:500]
    rows = {m.group(1): int(m.group(2)) for m in re.finditer(r"│ ([^│]+?)\s+│ [A-Z]{2}\s+│ Q\d+\s+│\s+(\d+) │", out)}
    assert rows["Sanae Takaichi"] == 2 and rows["Kim Jong-un"] == 2 and rows["Donald Trump"] == 5, rows
    assert '[engagement] 2025-11-14T06:30:00Z Sanae Takaichi (JP) & Kim Jong-un (KP)' in out
    assert re.search(r"\((\d+) alerts\)", out) and int(re.search(r"\((\d+) alerts\)", out).group(1)) >= 1
    import socket

    broker_port = int(re.search(r"broker kafka://127\.0\.0\.1:(\d+)", out).group(1))
    web_port = int(re.search(r"worker web http://127\.0\.0\.1:(\d+)", out).group(1))
    time.sleep(0.5)
    assert not subprocess.run(["pgrep", "-f", f"tcp://127.0.0.1:{broker_port}"], capture_output=True).stdout  # no tansu
    for port in (broker_port, web_port):  # nothing listens any more: broker and worker are gone
        with socket.socket() as probe:
            assert probe.connect_ex(("127.0.0.1", port)) != 0, port
