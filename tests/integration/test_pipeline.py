"""The whole flow on a real broker: pages.raw -> pages.clean -> pages.entities -> alerts + the live table."""
from __future__ import annotations

import asyncio
import collections
from pathlib import Path

import pytest

from leaderwatch.cli.printing import fetch_json
from leaderwatch.ops.workers import wait_until_done
from leaderwatch.ops.ingest import publish_pages
from leaderwatch.schemas import validator_for
from tests.conftest import TAKAICHI_PAGE, partition_counts, read_all, table_from_entities

pytestmark = pytest.mark.integration

TAKAICHI, KIM = "Q1705028", "Q56226"


def assert_valid(schema: str, messages: list[dict]) -> None:
    validator = validator_for(schema)
    for message in messages:
        errors = list(validator.iter_errors(message))
        assert not errors, f"{schema}: {errors[0].message} in {message}"


async def test_takaichi_kim_page_flows_to_entities_table_and_engagement_alert(settings_factory, start_worker, tmp_path):
    settings = settings_factory(watch_list=(KIM,))  # and a watch-list alert for Kim Jong Un
    start_worker(settings)
    page = tmp_path / "takaichi.html"
    page.write_bytes(TAKAICHI_PAGE.read_bytes())

    await publish_pages(settings, [page], show_progress=False)
    await wait_until_done(settings, 1, timeout=60)

    cleaned = await read_all(settings, settings.topic_clean, expect=1)
    assert_valid("pages.clean.v1.json", cleaned)
    assert cleaned[0]["event_time"].startswith("2025-11-14")
    assert "Sabae" not in cleaned[0]["text"] and "Most read" not in cleaned[0]["text"]  # boilerplate gone

    entities = await read_all(settings, settings.topic_entities, expect=1)
    assert_valid("pages.entities.v1.json", entities)
    leaders = {l["qid"]: l for l in entities[0]["leaders"]}
    assert set(leaders) == {TAKAICHI, KIM}
    assert leaders[TAKAICHI]["country"] == "JP" and leaders[KIM]["country"] == "KP"
    assert leaders[TAKAICHI]["office"] == "Prime Minister of Japan"

    table = {row["qid"]: row for row in fetch_json(settings.web_url + "/mentions/")["leaders"]}
    assert table[TAKAICHI]["docs"] == 1 and table[KIM]["docs"] == 1
    assert table[TAKAICHI]["mentions"] == leaders[TAKAICHI]["mentions"]
    windows = fetch_json(settings.web_url + f"/mentions/{TAKAICHI}/")["windows"]
    assert [w["window_start"][:10] for w in windows] == ["2025-11-14"]

    alerts = await read_all(settings, settings.topic_alerts, expect=2)
    assert_valid("alerts.v1.json", alerts)
    assert sorted(a["kind"] for a in alerts) == ["engagement", "watch"]
    engagement = [a for a in alerts if a["kind"] == "engagement"]
    assert {l["qid"] for l in engagement[0]["leaders"]} == {TAKAICHI, KIM}
    assert "talks" in engagement[0]["evidence"][0]["sentence"]
    watch = next(a for a in alerts if a["kind"] == "watch")
    assert [l["qid"] for l in watch["leaders"]] == [KIM] and watch["details"] == {"mentions": leaders[KIM]["mentions"]}


async def test_bad_inputs_go_to_dead_letters_and_the_worker_keeps_running(settings_factory, start_worker, tmp_path):
    """Binary, truncated, huge, wrong charset and malformed envelopes: each a dead letter with a reason."""
    from aiokafka import AIOKafkaProducer
    import orjson

    settings = settings_factory(max_page_bytes=200_000)
    start_worker(settings)
    good = orjson.loads(orjson.dumps({"url": "https://x.example/ok", "fetched_at": "2025-11-14T08:00:00Z",
                                      "body": TAKAICHI_PAGE.read_text()}))
    bad = {
        "malformed_envelope": b'{"url": "https://x.example/broken", "body": "<html',
        "schema_invalid": orjson.dumps({"url": 5, "body": "<p>hi</p>"}),
        "binary": orjson.dumps({"url": "https://x.example/bin", "fetched_at": "2025-11-14",
                                "body": bytes(range(256)).decode("latin-1") * 20}),
        "bad_charset": orjson.dumps({"url": "https://x.example/cs", "fetched_at": "2025-11-14",
                                     "body": "<p>" + "caf\ufffd na\ufffdve " * 200 + "</p>"}),
        "too_large": orjson.dumps({"url": "https://x.example/huge", "fetched_at": "2025-11-14",
                                   "body": "<p>" + "word " * 100_000 + "</p>"}),
        "not_utf8": "{\"url\": \"caf\u00e9\"}".encode("latin-1"),
    }
    producer = AIOKafkaProducer(bootstrap_servers=settings.broker_bootstrap)
    await producer.start()
    try:
        for reason, value in bad.items():
            await producer.send_and_wait(settings.topic_raw, value, key=reason.encode())
        truncated = TAKAICHI_PAGE.read_text()[:1500]  # cut mid-article: still usable text
        await producer.send_and_wait(settings.topic_raw, orjson.dumps({**good, "url": "https://x.example/cut", "body": truncated}))
        await producer.send_and_wait(settings.topic_raw, orjson.dumps(good))
    finally:
        await producer.stop()

    await wait_until_done(settings, len(bad) + 2, timeout=60)
    dead = await read_all(settings, settings.topic_dead, expect=len(bad))
    assert_valid("pages.dead.v1.json", dead)
    reasons = {d["key"]: d["reason"] for d in dead}
    assert reasons == {"malformed_envelope": "malformed_envelope", "schema_invalid": "schema_invalid", "binary": "binary",
                       "bad_charset": "bad_charset", "too_large": "too_large", "not_utf8": "malformed_envelope"}
    huge = next(d for d in dead if d["key"] == "too_large")
    assert huge["input_truncated"] and len(huge["input"]) <= settings.dead_letter_input_bytes < huge["input_bytes"]
    assert all(d["error"] and d["stage"] == "clean" for d in dead)

    entities = await read_all(settings, settings.topic_entities, expect=2)
    assert len(entities) == 2  # the good page and the truncated one: nothing else lost
    assert all(any(l["qid"] == TAKAICHI for l in e["leaders"]) for e in entities)
    await asyncio.sleep(0)


async def test_bad_records_on_every_stage_topic_are_dead_lettered_and_nothing_else_is_lost(settings_factory, start_worker, tmp_path):
    """A message that is not a valid record on pages.clean, pages.entities or the mention updates
    (another producer, a corrupted replay) goes to pages.dead with the stage and reason; the stages
    keep going: a good page sent after them still comes through as entities, table and alert."""
    from aiokafka import AIOKafkaProducer
    import orjson

    settings = settings_factory(producer_max_request_size=300_000, partitions_raw=3, partitions_clean=4)
    start_worker(settings)
    bad = [
        (settings.topic_clean, b"clean-not-json", b"{not json"),
        (settings.topic_clean, b"clean-missing", orjson.dumps({"doc_id": "x"})),
        (settings.topic_entities, b"entities-not-utf8", b"\xff\xfe\x00binary"),
        (settings.topic_entities, b"entities-bad-leader", orjson.dumps(
            {"doc_id": "d", "event_time": "2025-11-14T00:00:00Z", "fetched_at": "2025-11-14T00:00:00Z",
             "content_hash": "h", "leaders": [{"qid": 5}]})),
        (settings.topic_mention_updates, b"update-list", b"[1, 2, 3]"),
    ]
    producer = AIOKafkaProducer(bootstrap_servers=settings.broker_bootstrap)
    await producer.start()
    try:
        for topic, key, value in bad:
            await producer.send_and_wait(topic, value, key=key)
    finally:
        await producer.stop()
    # through ingest: a page file too big for the producer, a broken .gz, and the good page last
    huge = tmp_path / "huge.txt"
    huge.write_text("Takaichi " * 40_000)
    broken = tmp_path / "broken.html.gz"
    broken.write_bytes(b"\x1f\x8b\x08\x00 not really gzip")
    good = tmp_path / "takaichi.html"
    good.write_bytes(TAKAICHI_PAGE.read_bytes())
    assert await publish_pages(settings, [huge, broken, good], show_progress=False) == 1

    dead = await read_all(settings, settings.topic_dead, expect=len(bad) + 2 + 2)  # pages.entities' two read by two stages
    assert_valid("pages.dead.v1.json", dead)
    # pages.entities feeds two stages (mentions and alert): each dead-letters what it cannot read
    reasons = {(d["stage"], d["key"]): d["reason"] for d in dead}
    assert reasons == {
        ("extract", "clean-not-json"): "malformed_record", ("extract", "clean-missing"): "schema_invalid",
        ("alert", "entities-not-utf8"): "malformed_record", ("mentions", "entities-not-utf8"): "malformed_record",
        ("alert", "entities-bad-leader"): "schema_invalid", ("mentions", "entities-bad-leader"): "schema_invalid",
        ("mentions", "update-list"): "malformed_record",
        ("ingest", str(huge)): "too_large", ("ingest", str(broken)): "unreadable",
    }
    by_stage = collections.Counter((d["stage"], d["key"]) for d in dead)
    for key in (b"entities-not-utf8", b"entities-bad-leader"):
        assert by_stage[("alert", key.decode())] == 1 and by_stage[("mentions", key.decode())] == 1
    assert by_stage[("extract", "clean-not-json")] == by_stage[("extract", "clean-missing")] == 1
    assert by_stage[("ingest", str(huge))] == by_stage[("ingest", str(broken))] == 1
    assert len(dead) == 2 * 2 + 2 + 1 + 2  # entities x 2 stages, clean x 1, update x 1, ingest x 2
    letter = next(d for d in dead if d["key"] == "entities-not-utf8")
    assert letter["topic"] == settings.topic_entities and letter["input"].startswith("base64:")
    assert next(d for d in dead if d["key"] == str(huge))["input_truncated"]

    alerts = await read_all(settings, settings.topic_alerts, expect=1)
    assert [a["kind"] for a in alerts] == ["engagement"]
    # the stateless stages' inputs had their own partition counts (LEADERWATCH_PARTITIONS_RAW/_CLEAN)
    assert await partition_counts(settings, [settings.topic_raw, settings.topic_clean, settings.topic_entities,
                                             settings.topic_mention_updates]) == [3, 4, 2, 2]
    for _ in range(100):  # the bad records are counted in too: wait for the good page itself
        if fetch_json(settings.web_url + f"/mentions/{TAKAICHI}/").get("docs") == 1:
            break
        await asyncio.sleep(0.2)
    assert fetch_json(settings.web_url + f"/mentions/{TAKAICHI}/")["docs"] == 1


async def test_clean_in_a_process_pool_counts_every_page_in_order_and_dead_letters_bad_ones(settings_factory, start_worker,
                                                                                              tmp_path):
    """LEADERWATCH_CLEAN_PROCESSES=2: pages cleaned by two spawned processes reach every stage; a
    bad envelope among them is a dead letter; two versions of one page sent back to back are
    finished in arrival order, so the table holds the later one."""
    import orjson
    from aiokafka import AIOKafkaProducer

    from leaderwatch.ops.ingest import SAMPLES_DIR, iter_page_files

    settings = settings_factory(clean_processes=2)
    worker = start_worker(settings)
    samples = list(iter_page_files([SAMPLES_DIR]))
    await publish_pages(settings, samples, show_progress=False)
    producer = AIOKafkaProducer(bootstrap_servers=settings.broker_bootstrap)
    await producer.start()
    page = {"url": "https://x.example/story", "fetched_at": "2025-11-14T08:00:00Z", "content_type": "text/plain",
            "published_at": "2025-11-14T06:00:00Z"}
    await producer.send_and_wait(settings.topic_raw, b"{broken", key=b"bad")
    for text in ("Kim Jong Un spoke.", "Kim Jong Un spoke. Kim Jong Un left. Kim Jong Un returned."):
        await producer.send_and_wait(settings.topic_raw, orjson.dumps({**page, "body": text}), key=b"story")
    await producer.stop()
    progress = await wait_until_done(settings, len(samples) + 3, timeout=120)
    assert progress["clean_in"] == len(samples) + 3 and progress["dead_clean_malformed_envelope"] == 1
    dead = await read_all(settings, settings.topic_dead, expect=1)
    assert [d["reason"] for d in dead] == ["malformed_envelope"]
    entities = await read_all(settings, settings.topic_entities, expect=len(samples) + 2)
    story = [e for e in entities if e["url"] == page["url"]]
    assert [next(l["mentions"] for l in e["leaders"] if l["qid"] == KIM) for e in story] == [1, 3]  # in arrival order
    table = {row["qid"]: (row["docs"], row["mentions"]) for row in fetch_json(settings.web_url + "/mentions/?top=1000")["leaders"]}
    assert table == table_from_entities(entities)  # every page once, the story by its later version
    assert table[KIM][1] >= 3 and table[TAKAICHI][0] >= 2
    # the cleaning's libraries live in the children only (~15 MiB less in the worker's own process);
    # the first child is a new interpreter, the second forked from it (stages/pool.py)
    first = [int(pid) for pid in Path(f"/proc/{worker.pid}/task/{worker.pid}/children").read_text().split()]
    assert len(first) == 1
    forked = [int(pid) for pid in Path(f"/proc/{first[0]}/task/{first[0]}/children").read_text().split()]
    assert len(forked) == 1 and uses_lxml(first[0]) and uses_lxml(forked[0])
    assert not uses_lxml(worker.pid)


def uses_lxml(pid: int) -> bool:
    """Whether process `pid` has lxml's compiled parser (trafilatura's) loaded."""
    return "lxml/etree" in Path(f"/proc/{pid}/maps").read_text()


async def test_with_two_clean_processes_a_quick_page_is_not_held_behind_a_slow_one(settings_factory, start_worker):
    """LEADERWATCH_CLEAN_PROCESSES=2: a page that takes a second to clean (887 KB of paragraphs)
    and a short one sent right after it under another key: the short one is on pages.clean first
    (record timestamps), and both reach pages.entities (runner.InKeyOrder; one key's pages keep
    their order: the test above)."""
    import orjson
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

    settings = settings_factory(clean_processes=2)
    start_worker(settings)
    envelope = {"fetched_at": "2025-11-14T08:00:00Z", "published_at": "2025-11-14T06:00:00Z"}
    paragraphs = "".join(f"<p>Paragraph {i}: Kim Jong Un met officials in Pyongyang on Tuesday to discuss the harvest.</p>"
                         for i in range(8000))
    slow = {**envelope, "url": "https://x.example/slow", "content_type": "text/html",
            "body": f"<html><body><article>{paragraphs}</article></body></html>"}
    quick = {**envelope, "url": "https://x.example/quick", "content_type": "text/plain", "body": "Kim Jong Un spoke."}
    producer = AIOKafkaProducer(bootstrap_servers=settings.broker_bootstrap, max_request_size=settings.producer_max_request_size)
    await producer.start()
    await producer.send_and_wait(settings.topic_raw, orjson.dumps(slow), key=b"slow")
    await producer.send_and_wait(settings.topic_raw, orjson.dumps(quick), key=b"quick")
    await producer.stop()
    await wait_until_done(settings, 2, timeout=120)

    consumer = AIOKafkaConsumer(settings.topic_clean, bootstrap_servers=settings.broker_bootstrap, auto_offset_reset="earliest",
                                enable_auto_commit=False, max_partition_fetch_bytes=settings.producer_max_request_size)
    await consumer.start()
    cleaned_at: dict[str, int] = {}
    try:
        deadline = asyncio.get_running_loop().time() + 30
        while len(cleaned_at) < 2 and asyncio.get_running_loop().time() < deadline:
            for records in (await consumer.getmany(timeout_ms=500)).values():
                for record in records:
                    cleaned_at[orjson.loads(record.value)["url"]] = record.timestamp
    finally:
        await consumer.stop()
    assert set(cleaned_at) == {slow["url"], quick["url"]}
    assert cleaned_at[quick["url"]] < cleaned_at[slow["url"]], cleaned_at
    entities = await read_all(settings, settings.topic_entities, expect=2)
    assert {e["url"] for e in entities} == {slow["url"], quick["url"]}


@pytest.mark.parametrize("codec", ["gzip", "lz4", "zstd", "snappy"])
async def test_pages_compressed_by_the_producer_are_read_with_every_kafka_codec(settings_factory, start_worker, codec):
    """Crawlers compress their batches (lz4 and zstd are common; the producer picks, the broker
    keeps them as they are): a worker reads pages.raw whatever Kafka codec it was written with
    (aiokafka needs cramjam for lz4, zstd and snappy), and its own sends can be compressed too."""
    from aiokafka import AIOKafkaProducer
    import orjson

    settings = settings_factory(producer_compression=codec)
    start_worker(settings)
    producer = AIOKafkaProducer(bootstrap_servers=settings.broker_bootstrap, compression_type=codec)
    await producer.start()
    try:
        for i in range(3):
            envelope = {"url": f"https://x.example/{codec}/{i}", "fetched_at": "2025-11-14T08:00:00Z",
                        "body": TAKAICHI_PAGE.read_text().replace("japan-pm-eyes-talks-with-kim-jong-un", f"{codec}-{i}")}
            await producer.send_and_wait(settings.topic_raw, orjson.dumps(envelope), key=envelope["url"].encode())
    finally:
        await producer.stop()
    progress = await wait_until_done(settings, 3, timeout=60)
    assert progress["clean_out"] == 3 and not any(k.startswith("dead_") for k in progress)
    entities = await read_all(settings, settings.topic_entities, expect=3)
    assert len({e["doc_id"] for e in entities}) == 3
    assert all({l["qid"] for l in e["leaders"]} == {TAKAICHI, KIM} for e in entities)
