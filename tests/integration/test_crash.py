"""At-least-once delivery without double counting: a worker SIGKILLed mid-stream, another takes over."""
from __future__ import annotations

import asyncio
import os
import time

import pytest

from agents.cli import fetch_json
from agents.demo import pipeline_done
from agents.ingest import iter_page_files, publish_pages
from tests.conftest import AEB_DIR, read_all, table_from_entities

pytestmark = [pytest.mark.integration, pytest.mark.skipif(not AEB_DIR.exists(), reason="../shared/corpus/aeb not present")]


def live_table(settings) -> dict:
    return {r["qid"]: (r["docs"], r["mentions"]) for r in fetch_json(settings.web_url + "/mentions/?top=5000")["leaders"]}


ROCKSDB_ON_TANSU = (
    "the embedded broker answers end_offsets with the last batch's base offset + 1, so Faust's "
    "RocksDB recovery check (persisted offset <= high-watermark) fails after a restart; runs when "
    "LEADERWATCH_BROKER names an Apache Kafka broker")


@pytest.mark.parametrize("store", ["memory://", pytest.param("rocksdb://", marks=pytest.mark.skipif(
    not os.environ.get("LEADERWATCH_BROKER"), reason=ROCKSDB_ON_TANSU))])
async def test_a_killed_worker_is_replaced_without_double_counting(settings_factory, start_worker, store):
    settings = settings_factory(store=store)
    first = start_worker(settings)
    files = list(iter_page_files([AEB_DIR]))
    await publish_pages(settings, files, show_progress=False)

    deadline = time.monotonic() + 120
    while fetch_json(settings.web_url + "/progress/").get("mention_updates_applied", 0) < 10:
        assert time.monotonic() < deadline, "the first worker made no progress"
        await asyncio.sleep(0.1)
    first.kill()  # SIGKILL: no commit, no LeaveGroup
    first.wait()

    start_worker(settings)  # same app, group and topics: re-reads what the first did not commit
    deadline, stable, last = time.monotonic() + 180, 0, None
    while stable < 3:
        assert time.monotonic() < deadline, "the pipeline did not settle after the restart"
        await asyncio.sleep(1.0)
        entities = await read_all(settings, settings.topic_entities)
        progress = fetch_json(settings.web_url + "/progress/")
        done = len({e["doc_id"] for e in entities}) == len(files) and pipeline_done(progress, 0)
        current = (len(entities), live_table(settings))
        stable = stable + 1 if done and current == last else 0
        last = current

    entities = await read_all(settings, settings.topic_entities)
    second = fetch_json(settings.web_url + "/progress/")
    print(f"entities {len(entities)} for {len(files)} pages; second worker: {second}")
    assert second.get("mentions_in", 0) > 0  # the second worker took over mid-stream ...
    assert live_table(settings) == table_from_entities(entities)  # ... and every document counts once
    alerts = await read_all(settings, settings.topic_alerts)
    ids = [a["alert_id"] for a in alerts]
    assert len(ids) == len(set(ids)) > 0


async def test_a_restarted_worker_restores_its_tables_from_the_changelogs(settings_factory, start_worker):
    """No new input after the restart: whatever the table holds came back from the changelog topics."""
    from agents.demo import wait_until_done
    from agents.ingest import SAMPLES_DIR

    settings = settings_factory()
    first = start_worker(settings)
    files = list(iter_page_files([SAMPLES_DIR]))
    await publish_pages(settings, files, show_progress=False)
    await wait_until_done(settings, len(files), timeout=60)
    before = live_table(settings)
    assert len(before) >= 5
    first.terminate()
    first.wait(timeout=30)

    start_worker(settings)
    deadline = time.monotonic() + 60
    while live_table(settings) != before:
        assert time.monotonic() < deadline, f"tables not restored: {live_table(settings)} != {before}"
        await asyncio.sleep(0.5)
    assert fetch_json(settings.web_url + "/progress/").get("clean_in", 0) == 0  # nothing was re-processed
