"""At-least-once delivery without double counting: a worker SIGKILLed mid-stream, another takes over."""
from __future__ import annotations

import asyncio
import time

import orjson
import pytest

from leaderwatch.cli.printing import fetch_json
from leaderwatch.ops.workers import pipeline_done
from leaderwatch.ops.ingest import iter_page_files, publish_pages
from tests.conftest import AEB_DIR, read_all, table_from_entities

pytestmark = [pytest.mark.integration, pytest.mark.skipif(not AEB_DIR.exists(), reason="../shared/corpus/aeb not present")]


def live_table(settings) -> dict:
    return {r["qid"]: (r["docs"], r["mentions"]) for r in fetch_json(settings.web_url + "/mentions/?top=5000")["leaders"]}


# Both table stores. RocksDB keeps tables on disk across restarts and checks its persisted offset
# against the changelog's end offset: right on the embedded broker only with one record per producer
# batch (settings_factory sets LEADERWATCH_PRODUCER_MAX_BATCH_SIZE=1 there; see README).
STORES = ["memory://", "rocksdb://"]


@pytest.mark.parametrize("store", STORES)
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
    from leaderwatch.ops.workers import wait_until_done
    from leaderwatch.ops.ingest import SAMPLES_DIR

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


@pytest.mark.parametrize("store", STORES)
async def test_sums_torn_by_a_crash_are_repaired_from_the_per_document_records(settings_factory, start_worker, store):
    """Without transactions a SIGKILL can persist one table's changelog write and not another's.
    Forge that state on the real changelog topics (a leader's total and one window lose a document)
    and restart: the table must again equal "each document once", and stay so as pages keep coming."""
    from aiokafka import AIOKafkaProducer

    from leaderwatch.ops.workers import wait_until_done
    from leaderwatch.ops.ingest import SAMPLES_DIR

    settings = settings_factory(store=store)
    first = start_worker(settings)
    files = sorted(iter_page_files([SAMPLES_DIR]))
    await publish_pages(settings, files[:-1], show_progress=False)
    await wait_until_done(settings, len(files) - 1, timeout=60)
    before = live_table(settings)
    first.terminate()
    first.wait(timeout=30)

    qid, (docs, mentions) = max(before.items(), key=lambda item: item[1])
    assert docs >= 2
    torn = {}  # changelog topic -> (partition, key, value): the last record of `qid` in it, one document short
    for table in ("leader_to_mentions", "leader_window_to_mentions"):
        topic = f"{settings.app_id}-{table}-changelog"
        for record in await read_changelog(settings, topic):
            key = orjson.loads(record.key)  # changelog keys are JSON
            if key == qid or key.startswith(qid + "|"):
                value = orjson.loads(record.value)
                if value.get("docs", 0) >= 1:
                    torn[topic] = (record.partition, record.key, {**value, "docs": value["docs"] - 1,
                                                                  "mentions": value["mentions"] - 1})
    assert len(torn) == 2
    producer = AIOKafkaProducer(bootstrap_servers=settings.broker_bootstrap)
    await producer.start()
    try:
        for topic, (partition, key, value) in torn.items():
            await producer.send_and_wait(topic, orjson.dumps(value), key=key, partition=partition)
    finally:
        await producer.stop()

    start_worker(settings)
    deadline = time.monotonic() + 60
    while live_table(settings) != before:
        if time.monotonic() >= deadline:  # say how far the repair got: rows found (sums_repaired), updates applied
            counters = {k: v for k, v in fetch_json(settings.web_url + "/progress/").items()
                        if k.startswith(("sums", "mention", "documents"))}
            raise AssertionError(f"not repaired in 60 s: live {live_table(settings).get(qid)} != {before[qid]}; "
                                 f"counters {counters}")
        await asyncio.sleep(0.5)
    assert fetch_json(settings.web_url + "/progress/")["sums_repaired"] >= 2
    assert sum(w["docs"] for w in fetch_json(f"{settings.web_url}/mentions/{qid}/")["windows"]) == docs

    await publish_pages(settings, files[-1:], show_progress=False)  # and updates after the repair keep it right
    await wait_until_done(settings, 1, timeout=60)
    entities = await read_all(settings, settings.topic_entities, expect=len(files))
    assert live_table(settings) == table_from_entities(entities)


async def read_changelog(settings, topic: str) -> list:
    """Every record of a changelog topic, oldest first, read to its end."""
    from leaderwatch.kafka.reader import TopicReader

    async with TopicReader(settings, topic) as reader:
        assert reader.partitions, f"no changelog topic {topic}"
        return [record async for records in reader.batches(timeout_ms=1500) for record in records]
