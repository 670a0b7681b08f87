"""Shared fixtures: the broker (embedded tansu, or LEADERWATCH_BROKER), workers, topics, corpus paths."""
from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import gzip
import os
import uuid
from pathlib import Path

import orjson
import pytest

from leaderwatch.ops.broker import embedded_broker, free_port
from leaderwatch.settings import Settings

TESTS_DIR = Path(__file__).resolve().parent
PROJECT_DIR = TESTS_DIR.parent
SHARED_DIR = PROJECT_DIR.parent / "shared"
AEB_DIR = SHARED_DIR / "corpus" / "aeb"
TAKAICHI_PAGE = PROJECT_DIR / "agents" / "leaderwatch" / "samples" / "leaderwatch-takaichi-kim-2025-11-14.html"


def read_jsonl(path: Path) -> list[dict]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]


def shared_pages():
    """Every page of ../shared/corpus/aeb and readability (157): (file name, HTML as UTF-8, bad bytes replaced)."""
    for folder in (AEB_DIR, SHARED_DIR / "corpus" / "readability"):
        for path in sorted(folder.glob("*.html.gz")):
            yield path.name, gzip.decompress(path.read_bytes()).decode("utf-8", "replace")


def aeb_html(page_id: str) -> str:
    from leaderwatch.pipeline.clean import decode_bytes

    return decode_bytes(gzip.decompress((AEB_DIR / f"{page_id}.html.gz").read_bytes()))


# the broker of this pass: ./scripts/test starts the embedded one per xdist worker; ./scripts/test
# --kafka N (or LEADERWATCH_BROKER=... LEADERWATCH_BROKER_KIND=kafka) names Apache Kafka for all
BROKER_KIND = os.environ.get("LEADERWATCH_BROKER_KIND") or ("kafka" if os.environ.get("LEADERWATCH_BROKER") else "embedded")
EMBEDDED = BROKER_KIND == "embedded"
KAFKA_NODES = int(os.environ.get("LEADERWATCH_TEST_KAFKA_NODES") or 1)  # how many nodes the Kafka pass runs
# the Kafka pass can run every worker with transactions: LEADERWATCH_PROCESSING_GUARANTEE=exactly_once
PROCESSING_GUARANTEE = "at_least_once" if EMBEDDED else os.environ.get("LEADERWATCH_PROCESSING_GUARANTEE", "at_least_once")


def pytest_collection_modifyitems(config, items):
    """On the Apache Kafka pass, the tests that start brokers of their own ran in the embedded pass."""
    if EMBEDDED:
        return
    skip = pytest.mark.skip(reason="starts its own brokers: runs in the embedded pass (./scripts/test)")
    for item in items:
        if item.get_closest_marker("own_broker"):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def broker_url(tmp_path_factory):
    """A real Kafka-protocol broker: LEADERWATCH_BROKER if set, else the embedded one."""
    if os.environ.get("LEADERWATCH_BROKER"):
        yield os.environ["LEADERWATCH_BROKER"]
        return
    with embedded_broker(log_path=tmp_path_factory.mktemp("broker") / "broker.log") as url:
        yield url


@pytest.fixture
def settings_factory(broker_url, tmp_path):
    """Settings for one isolated pipeline: unique app id, topic names, web port and data dir."""

    def make(**overrides) -> Settings:
        tag = uuid.uuid4().hex[:8]
        base = Settings(
            app_id=f"lw-test-{tag}", broker=broker_url, web_port=free_port(), datadir=str(tmp_path / f"data-{tag}"),
            partitions=2, topic_raw=f"t{tag}.pages.raw", topic_clean=f"t{tag}.pages.clean",
            topic_entities=f"t{tag}.pages.entities", topic_alerts=f"t{tag}.alerts", topic_dead=f"t{tag}.pages.dead",
            topic_mention_updates=f"t{tag}.mention-updates", topic_leaders=f"t{tag}.leaders",
            broker_kind=BROKER_KIND, replicas=3 if KAFKA_NODES == 3 and not EMBEDDED else 1,
            processing_guarantee=PROCESSING_GUARANTEE,
        )
        return dataclasses.replace(base, **overrides)

    return make


@pytest.fixture
def start_worker(tmp_path):
    """start_worker(settings) -> a running, ready worker process; all stopped after the test."""
    from leaderwatch.ops.workers import wait_until_ready, worker_process

    stack = contextlib.ExitStack()

    def start(settings: Settings):
        process = stack.enter_context(worker_process(settings, tmp_path / f"{settings.app_id}.log"))
        try:
            wait_until_ready(settings, process, timeout=60)
        except Exception:
            print((tmp_path / f"{settings.app_id}.log").read_text()[-5000:])
            raise
        return process

    yield start
    stack.close()


async def read_all(settings: Settings, topic: str, expect: int = 0, timeout: float = 60.0) -> list[dict]:
    """Every message on `topic` (JSON), waiting until at least `expect` are there."""
    from leaderwatch.ops.follow import read_topic

    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        values = [orjson.loads(v) async for v in read_topic(settings, topic, idle_timeout=1.0)]
        if len(values) >= expect or asyncio.get_running_loop().time() > deadline:
            return values
        await asyncio.sleep(0.5)


async def partition_counts(settings: Settings, topics: list[str]) -> list[int]:
    """How many partitions each topic has, as the broker's metadata says (0: no such topic)."""
    from leaderwatch.kafka.reader import TopicReader

    counts = []
    for topic in topics:
        async with TopicReader(settings, topic, wait_s=2.0) as reader:
            counts.append(len(reader.partitions))
    return counts


async def create_topic(settings: Settings, topic: str, partitions: int) -> None:
    """Make `topic` with `partitions` partitions (Apache Kafka auto-creates topics with one)."""
    from aiokafka.admin import NewTopic

    from leaderwatch.kafka.clients import new_admin

    admin = new_admin(settings)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, partitions, settings.replicas)])
    finally:
        await admin.close()


def table_from_entities(entities: list[dict]) -> dict:
    """What the mentions table must hold: every document counted once."""
    latest = {e["doc_id"]: e for e in entities}
    table = collections.defaultdict(lambda: [0, 0])
    for page in latest.values():
        for leader in page["leaders"]:
            table[leader["qid"]][0] += 1
            table[leader["qid"]][1] += leader["mentions"]
    return {qid: tuple(v) for qid, v in table.items()}
