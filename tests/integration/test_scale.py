"""Two workers of one app share the partitions, and either one answers for every leader: their
/mentions/ and /mentions/<qid>/ are identical and complete, also after one is killed (SIGKILL) and
the other takes its partitions, and after it comes back."""
from __future__ import annotations

import asyncio
import dataclasses
import subprocess
import sys
import time

import orjson
import pytest

from leaderwatch.cli.printing import fetch_json
from leaderwatch.ops.broker import free_port
from leaderwatch.ops.ingest import iter_page_files, publish_pages
from leaderwatch.ops.workers import worker_environment
from tests.conftest import AEB_DIR, read_all, table_from_entities

pytestmark = [pytest.mark.integration, pytest.mark.skipif(not AEB_DIR.exists(), reason="../shared/corpus/aeb not present")]


def answer(settings) -> dict:
    """qid -> (docs, mentions) as this worker's /mentions/ answers (each leader once)."""
    rows = fetch_json(settings.web_url + "/mentions/?top=5000")["leaders"]
    assert len({r["qid"] for r in rows}) == len(rows)
    return {r["qid"]: (r["docs"], r["mentions"]) for r in rows}


async def settle(workers, truth_of, pages: int, timeout: float = 180.0) -> tuple[float, dict]:
    """Wait until all `pages` are on pages.entities and every worker's /mentions/ equals the truth
    (each of those documents once), three polls in a row; -> (seconds it took, the answer)."""
    started, deadline, stable = time.monotonic(), time.monotonic() + timeout, 0
    while True:
        docs, truth = await truth_of()
        answers = [answer(s) for s in workers]
        stable = stable + 1 if docs == pages and all(a == truth for a in answers) else 0
        if stable >= 3:
            return round(time.monotonic() - started, 1), truth
        if time.monotonic() >= deadline:  # say what differs: which leaders, and what each worker counted
            differing = [{q: (a.get(q), truth.get(q)) for q in set(a) | set(truth) if a.get(q) != truth.get(q)} for a in answers]
            counters = [{k: v for k, v in fetch_json(s.web_url + "/progress/").items()
                         if k.startswith(("mention", "sums", "documents", "extract", "clean"))} for s in workers]
            raise AssertionError(f"not complete and identical after {timeout} s: {docs} of {pages} documents on "
                                 f"pages.entities; (answer, truth) where they differ: {differing}; counters: {counters}")
        await asyncio.sleep(0.5)


async def test_every_worker_answers_for_every_leader_through_a_kill_and_a_restart(settings_factory, start_worker,
                                                                                   tmp_path):
    first = settings_factory(partitions=4)
    second = dataclasses.replace(first, web_port=free_port(), datadir=str(tmp_path / "second"))
    start_worker(first)
    killed = start_worker(second)
    deadline = time.monotonic() + 60  # both own partitions once the group has rebalanced
    while not all(fetch_json(s.web_url + "/health/").get("ready") for s in (first, second)):
        assert time.monotonic() < deadline, "the two workers did not both get partitions"
        await asyncio.sleep(0.5)

    files = sorted(iter_page_files([AEB_DIR]))
    half = len(files) // 2

    async def truth() -> tuple[int, dict]:
        entities = await read_all(first, first.topic_entities)
        return len({e["doc_id"] for e in entities}), table_from_entities(entities)

    await publish_pages(first, files[:half], show_progress=False)
    took, table = await settle((first, second), truth, half)
    print(f"first half ({half} files): both answers complete and identical after {took} s")
    assert len(table) >= 10
    progress = [fetch_json(s.web_url + "/progress/") for s in (first, second)]
    assert all(p.get("mention_updates_applied", 0) > 0 for p in progress)  # both hold part of the tables
    leaders = sorted(table)
    details = [{q: fetch_json(f"{s.web_url}/mentions/{q}/") for q in leaders} for s in (first, second)]
    assert details[0] == details[1]
    assert all(sum(w["docs"] for w in d["windows"]) == d["docs"] for d in details[0].values())

    # SIGKILL the second worker (no LeaveGroup, nothing flushed), then the rest of the corpus
    killed.kill()
    killed.wait(timeout=10)
    killed_at = time.monotonic()
    assert answer(first) == table  # nothing of what was counted is lost to the first worker's answer
    await publish_pages(first, files[half:], show_progress=False)
    took, table = await settle((first,), truth, len(files), timeout=240)
    after_kill = round(time.monotonic() - killed_at, 1)
    print(f"after the kill: the survivor's answer complete for all {len(files)} files {after_kill} s after the SIGKILL")

    # the killed worker comes back (same data dir): it catches up and both answer alike again
    restarted_at = time.monotonic()
    start_worker(second)
    took, table = await settle((first, second), truth, len(files))
    print(f"after the restart: both complete and identical {round(time.monotonic() - restarted_at, 1)} s after start")
    details = [{q: fetch_json(f"{s.web_url}/mentions/{q}/") for q in sorted(table)} for s in (first, second)]
    assert details[0] == details[1] and set(details[0]) == set(table)

    # `leaderwatch mentions` (the CLI) gives the same table from either worker
    printed = []
    for settings in (first, second):
        result = subprocess.run([sys.executable, "-m", "leaderwatch", "mentions", "--top", "5000", "--json"],
                                env=worker_environment(settings), capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr[-2000:]
        printed.append(orjson.loads(result.stdout))
    assert printed[0] == printed[1]
    assert {r["qid"]: (r["docs"], r["mentions"]) for r in printed[0]["leaders"]} == table
    ids = [a["alert_id"] for a in await read_all(first, first.topic_alerts)]
    assert len(ids) == len(set(ids)) > 0
