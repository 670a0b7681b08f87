"""Replays and backfills on a real broker: re-processing never double-counts, --from reads only what it should."""
from __future__ import annotations

import asyncio
import dataclasses
import os
import time
from datetime import datetime, timezone

import pytest

from leaderwatch.ops.broker import free_port
from leaderwatch.cli.printing import fetch_json
from leaderwatch.ops.workers import wait_until_done
from leaderwatch.ops.ingest import SAMPLES_DIR, iter_page_files, publish_pages
from leaderwatch.ops.replay import run_replay
from leaderwatch.schemas import validator_for
from tests.conftest import AEB_DIR, EMBEDDED, create_topic, read_all

pytestmark = pytest.mark.integration

TAKAICHI, KISHIDA = "Q1705028", "Q359480"
ALERTS = validator_for("alerts.v1.json")


def aeb_pages() -> list:
    if not AEB_DIR.is_dir():
        pytest.skip(f"corpus not found: {AEB_DIR}")
    return list(iter_page_files([AEB_DIR]))


def table(settings) -> list[dict]:
    return fetch_json(settings.web_url + "/mentions/?top=1000")["leaders"]


def table_with_windows(settings) -> dict[str, dict]:
    """Every leader's totals and event-time windows, as /mentions/<qid>/ shows them."""
    return {row["qid"]: fetch_json(settings.web_url + f"/mentions/{row['qid']}/") for row in table(settings)}


async def test_replaying_pages_raw_twice_changes_nothing_downstream(settings_factory, start_worker):
    files = aeb_pages()
    assert len(files) == 121
    settings = settings_factory()
    start_worker(settings)
    await publish_pages(settings, files, show_progress=False)
    progress = await wait_until_done(settings, len(files), timeout=240)
    passed_clean = progress["clean_out"]
    before = table_with_windows(settings)
    alerts = await read_all(settings, settings.topic_alerts)
    alert_ids = sorted(a["alert_id"] for a in alerts)
    assert before and alert_ids and len(set(alert_ids)) == len(alert_ids)
    for alert in alerts:
        assert not list(ALERTS.iter_errors(alert)), alert
    assert all(leader["windows"] for leader in before.values())
    per_page_alerts = sum(a["kind"] != "spike" for a in alerts)  # spikes are kept once by their window, not counted

    first = await run_replay(settings, "clean", since="2000-01-01", show_progress=False, wait_timeout=240)
    assert (first["read"], first["republished"], first["skipped_copies"]) == (121, 121, 0)
    assert first["worker"]["caught_up"]
    assert first["worker"]["documents_seen_again"] == passed_clean
    assert first["worker"]["alerts_repeated"] == per_page_alerts  # every alert derived again, none re-sent
    assert table_with_windows(settings) == before
    assert sorted(a["alert_id"] for a in await read_all(settings, settings.topic_alerts)) == alert_ids

    second = await run_replay(settings, "clean", since="2000-01-01", show_progress=False, wait_timeout=240)
    assert (second["read"], second["republished"], second["skipped_copies"]) == (121, 121, 121)
    assert second["worker"]["caught_up"] and second["worker"]["documents_seen_again"] == passed_clean
    assert table_with_windows(settings) == before
    assert sorted(a["alert_id"] for a in await read_all(settings, settings.topic_alerts)) == alert_ids
    assert len(await read_all(settings, settings.topic_raw, expect=3 * 121)) == 3 * 121  # originals + 2 copies each


async def test_backfilled_pages_land_in_their_own_windows_once_and_alerts_say_backfill(settings_factory, start_worker, tmp_path):
    settings = settings_factory()
    start_worker(settings)
    kishida = tmp_path / "kishida-yoon-2023-09-19.txt"
    kishida.write_text(
        "Kishida and Yoon agree to deepen ties at UN General Assembly\n\n"
        "Japan's Prime Minister Fumio Kishida held talks with South Korean President Yoon Suk Yeol in New York "
        "on Tuesday, on the sidelines of the United Nations General Assembly.\n\n"
        "Kishida said the two countries would keep working together on North Korea and on supply chains.\n")
    takaichi = SAMPLES_DIR / "leaderwatch-takaichi-kim-2025-11-14.html"
    await publish_pages(settings, [kishida], published="2023-09-19", backfill=True, show_progress=False)
    await publish_pages(settings, [takaichi], published="2025-11-14", backfill=True, show_progress=False)
    await wait_until_done(settings, 2, timeout=60)

    for qid, day in ((KISHIDA, "2023-09-19"), (TAKAICHI, "2025-11-14")):
        leader = fetch_json(settings.web_url + f"/mentions/{qid}/")
        assert [w["window_start"][:10] for w in leader["windows"]] == [day]
        assert leader["docs"] == 1 and leader["windows"][0]["docs"] == 1
    totals = {row["qid"]: row for row in table(settings)}
    assert totals[KISHIDA]["docs"] == 1 and totals[TAKAICHI]["docs"] == 1
    alerts = await read_all(settings, settings.topic_alerts, expect=2)
    assert any(KISHIDA in {l["qid"] for l in a["leaders"]} for a in alerts)
    assert any(TAKAICHI in {l["qid"] for l in a["leaders"]} for a in alerts)
    assert all(a["backfill"] is True for a in alerts)

    # replay from the last stage: the table and the alerts stay as they are
    before = table(settings)
    summary = await run_replay(settings, "alert", since="2000-01-01", show_progress=False, wait_timeout=60)
    assert (summary["read"], summary["skipped_copies"]) == (2, 0)
    assert summary["worker"]["documents_seen_again"] == 2
    assert summary["worker"]["alerts_repeated"] == len(alerts)
    assert table(settings) == before
    assert len(await read_all(settings, settings.topic_alerts)) == len(alerts)


async def test_replay_from_a_time_reads_only_later_messages(settings_factory, start_worker):
    files = aeb_pages()
    batch_a, batch_b = files[:8], files[8:13]
    settings = settings_factory()
    start_worker(settings)
    await publish_pages(settings, batch_a, show_progress=False)
    await asyncio.sleep(1.5)
    since = datetime.now(timezone.utc)
    await asyncio.sleep(0.1)
    await publish_pages(settings, batch_b, show_progress=False)
    await wait_until_done(settings, len(batch_a) + len(batch_b), timeout=120)
    iso = since.isoformat()

    # no skew allowance: the start offsets come from the checked broker answer or the search alone
    started = time.monotonic()
    summary = await run_replay(settings, "clean", since=iso, show_progress=False, skew_ms=0, wait_timeout=60)
    assert summary["read"] == summary["republished"] == len(batch_b) and summary["skipped_copies"] == 0
    assert sum(span["start"] for span in summary["partitions"].values()) == len(batch_a)
    # the broker's answer is used only when the records around it confirm it (else: the search)
    assert {span["by"] for span in summary["partitions"].values()} <= {"broker", "search"}
    assert summary["worker"]["caught_up"]
    print(f"replay of {len(batch_b)} pages incl. processing: {time.monotonic() - started:.1f} s")

    # with the default skew allowance, and --to: still exactly the right messages, copies skipped
    earlier = await run_replay(settings, "clean", since="2000-01-01", until=iso, show_progress=False, wait_timeout=60)
    assert (earlier["read"], earlier["skipped_copies"]) == (len(batch_a), 0)
    later = await run_replay(dataclasses.replace(settings, web_port=free_port()), "clean", since=iso, show_progress=False)
    assert (later["read"], later["skipped_copies"]) == (len(batch_b), len(batch_b))
    assert later["worker"] is None  # no worker answers at that address: said so, not waited for


async def test_copies_keep_key_value_timestamp_and_the_search_replaces_a_wrong_broker_answer(settings_factory):
    """Producer-set timestamps (what the embedded broker's offsets_for_times answers 0 for); no worker running."""
    from aiokafka import AIOKafkaProducer

    settings = settings_factory()
    await create_topic(settings, settings.topic_raw, 2)
    base = int(datetime(2024, 1, 1, tzinfo=timezone.utc).timestamp() * 1000)
    producer = AIOKafkaProducer(bootstrap_servers=settings.broker_bootstrap, linger_ms=20)
    await producer.start()
    try:
        for partition, count in ((0, 30), (1, 20)):
            for i in range(count):
                await producer.send(settings.topic_raw, f"v{partition}-{i}".encode(), key=f"k{partition}-{i}".encode(),
                                    partition=partition, timestamp_ms=base + i * 1000)
        await producer.flush()
    finally:
        await producer.stop()

    since, until = "2024-01-01T00:00:12Z", "2024-01-01T00:00:25Z"  # i in 12..24: 13 of partition 0, 8 of partition 1
    summary = await run_replay(settings, "clean", since=since, until=until, show_progress=False, skew_ms=0)
    assert (summary["read"], summary["republished"], summary["skipped_copies"]) == (13 + 8, 13 + 8, 0)
    assert summary["partitions"][0]["start"] == 12 and summary["partitions"][1]["start"] == 12
    assert summary["partitions"][0]["stop"] == 30 and summary["partitions"][1]["stop"] == 20  # the high-watermarks
    # the embedded broker's offsets_for_times answers 0: not asked there, the search found the offsets
    assert {summary["partitions"][p]["by"] for p in (0, 1)} == {"search" if EMBEDDED else "broker"}
    assert summary["worker"] is None

    again = await run_replay(settings, "clean", since=since, until=until, show_progress=False)  # default skew
    assert (again["read"], again["skipped_copies"]) == (21, 21)

    from aiokafka import AIOKafkaConsumer, TopicPartition

    consumer = AIOKafkaConsumer(bootstrap_servers=settings.broker_bootstrap, group_id=None, auto_offset_reset="earliest")
    await consumer.start()
    try:
        tp = TopicPartition(settings.topic_raw, 0)
        consumer.assign([tp])
        records = []
        while len(records) < 30 + 2 * 13:
            records += (await consumer.getmany(tp, timeout_ms=2000)).get(tp, [])
    finally:
        await consumer.stop()
    originals = {r.key: r for r in records[:30]}
    copies = records[30:]
    assert len({dict(c.headers)["leaderwatch-replay"] for c in copies}) == 2  # two replays, two ids
    for copy in copies:
        original = originals[copy.key]
        assert (copy.value, copy.timestamp) == (original.value, original.timestamp)
        assert base + 12_000 <= copy.timestamp < base + 25_000


async def test_a_topic_that_does_not_match_the_stage_is_refused(settings_factory):
    settings = settings_factory()
    with pytest.raises(ValueError, match="--stage extract --topic " + settings.topic_clean):
        await run_replay(settings, "clean", topic=settings.topic_clean, show_progress=False)


async def test_replay_cli_across_workers_that_each_run_some_stages(settings_factory, start_worker):
    """As docker-compose deploys it: one worker for clean+extract, one for mentions+alert. `leaderwatch
    replay` (no --from: everything) with both workers' --web-url sees the copies through every stage,
    and the table and the alerts stay as they were."""
    import subprocess
    import sys

    from leaderwatch.ops.workers import worker_environment

    front = settings_factory(stages=("clean", "extract"))
    back = dataclasses.replace(front, stages=("mentions", "alert"), web_port=free_port())
    start_worker(front)
    start_worker(back)
    files = list(iter_page_files([SAMPLES_DIR]))
    await publish_pages(front, files, show_progress=False)
    deadline = time.monotonic() + 90
    while (fetch_json(back.web_url + "/progress/").get("mentions_in", 0) < len(files)
           or fetch_json(back.web_url + "/progress/").get("alert_in", 0) < len(files)):
        assert time.monotonic() < deadline, (fetch_json(front.web_url + "/progress/"), fetch_json(back.web_url + "/progress/"))
        await asyncio.sleep(0.5)
    await asyncio.sleep(1.0)
    before = table_with_windows(back)
    alerts = await read_all(front, front.topic_alerts, expect=1)
    assert before and fetch_json(front.web_url + "/mentions/?top=10")["leaders"] == []  # the table lives in `back`

    result = subprocess.run([sys.executable, "-m", "leaderwatch", "replay", "--stage", "clean", "--timeout", "90",
                             "--web-url", front.web_url, "--web-url", back.web_url],
                            env=worker_environment(front), capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"read in range:            {len(files)}" in result.stdout
    assert "re-published messages processed" in result.stdout, result.stdout
    assert f"documents seen again:     {len(files)}" in result.stdout, result.stdout
    assert table_with_windows(back) == before
    assert sorted(a["alert_id"] for a in await read_all(front, front.topic_alerts)) == sorted(a["alert_id"] for a in alerts)
