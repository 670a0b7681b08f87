"""Two workers of one app share the partitions; together their tables count every document once."""
from __future__ import annotations

import asyncio
import dataclasses
import time

import pytest

from leaderwatch.ops.broker import free_port
from leaderwatch.cli.printing import fetch_json
from leaderwatch.ops.ingest import iter_page_files, publish_pages
from tests.conftest import AEB_DIR, read_all, table_from_entities

pytestmark = [pytest.mark.integration, pytest.mark.skipif(not AEB_DIR.exists(), reason="../shared/corpus/aeb not present")]


def union_table(workers) -> dict:
    rows = {}
    for settings in workers:
        for row in fetch_json(settings.web_url + "/mentions/?top=5000")["leaders"]:
            assert row["qid"] not in rows, f"{row['qid']} is in two workers' tables"
            rows[row["qid"]] = (row["docs"], row["mentions"])
    return rows


async def test_two_workers_share_the_work_and_count_once(settings_factory, start_worker, tmp_path):
    first = settings_factory(partitions=4)
    second = dataclasses.replace(first, web_port=free_port(), datadir=str(tmp_path / "second"))
    start_worker(first)
    start_worker(second)
    deadline = time.monotonic() + 60  # both own partitions once the group has rebalanced
    while not all(fetch_json(s.web_url + "/health/").get("ready") for s in (first, second)):
        assert time.monotonic() < deadline, "the two workers did not both get partitions"
        await asyncio.sleep(0.5)

    files = list(iter_page_files([AEB_DIR]))
    await publish_pages(first, files, show_progress=False)
    deadline, stable, last = time.monotonic() + 180, 0, None
    while stable < 3:
        assert time.monotonic() < deadline, "the pipeline did not settle"
        await asyncio.sleep(1.0)
        entities = await read_all(first, first.topic_entities)
        current = (len({e["doc_id"] for e in entities}), union_table((first, second)))
        stable = stable + 1 if current[0] == len(files) and current == last else 0
        last = current

    progress = [fetch_json(s.web_url + "/progress/") for s in (first, second)]
    assert all(p.get("clean_in", 0) > 0 for p in progress)  # both did part of the work
    assert sum(p.get("clean_in", 0) for p in progress) >= len(files)
    assert union_table((first, second)) == table_from_entities(await read_all(first, first.topic_entities))
    ids = [a["alert_id"] for a in await read_all(first, first.topic_alerts)]
    assert len(ids) == len(set(ids)) > 0
