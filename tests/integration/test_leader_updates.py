"""`leaderwatch leaders update FILE`: a leader who does not exist in the gazetteer is linked on the
next page, by every extract worker, also after a restart (it reads the leaders topic first)."""
from __future__ import annotations

import subprocess
import sys

import pytest

from leaderwatch.ops.workers import worker_environment
from leaderwatch.ops.ingest import publish_pages
from tests.conftest import read_all

pytestmark = pytest.mark.integration

CSV = ("iso3,country,role,person,person_qid,start,end,party,end_cause\n"
       "FRA,France,head_of_government,Zorvan Télquist,,2026-11,,,\n")


def story(tmp_path, name: str, text: str):
    path = tmp_path / f"{name}.txt"
    path.write_text(text)
    return path


async def test_a_new_leader_is_linked_on_the_next_page_and_after_a_restart(settings_factory, start_worker, tmp_path):
    settings = settings_factory(stages=("clean", "extract"))
    worker = start_worker(settings)
    before = story(tmp_path, "before", "Prime Minister Zorvan Télquist met the unions in Paris on Friday.")
    await publish_pages(settings, [before], published="2026-11-20", show_progress=False)
    await read_all(settings, settings.topic_entities, expect=1, timeout=90)

    csv = tmp_path / "leaders.csv"
    csv.write_text(CSV)
    result = subprocess.run([sys.executable, "-m", "leaderwatch", "leaders", "update", str(csv)],
                            env=worker_environment(settings), capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "X-zorvan-telquist" in result.stdout and "sent 1 leader updates" in result.stdout

    after = story(tmp_path, "after", "Prime Minister Zorvan Télquist met the unions again. Télquist offered talks.")
    linked = await extracted_until(settings, tmp_path, after, expect_pages=2)
    assert [l["mentions"] for l in linked["after"]["leaders"] if l["qid"] == "X-zorvan-telquist"] == [2]
    assert not [l for l in linked["before"]["leaders"] if l["qid"] == "X-zorvan-telquist"]  # sent before the update

    worker.terminate()
    worker.wait(timeout=30)
    start_worker(settings)  # a new process: it must read the leaders topic before its first page
    later = story(tmp_path, "later", "Télquist's government survived a vote. Prime Minister Zorvan Télquist thanked them.")
    linked = await extracted_until(settings, tmp_path, later, expect_pages=3)
    assert [l["qid"] for l in linked["later"]["leaders"]] == ["X-zorvan-telquist"]


async def extracted_until(settings, tmp_path, path, expect_pages: int) -> dict:
    """Send `path` dated 2026-11-20; wait for its entities; name -> entities of every page so far."""
    await publish_pages(settings, [path], published="2026-11-20", show_progress=False)
    entities = await read_all(settings, settings.topic_entities, expect=expect_pages, timeout=90)
    return {e["url"].rsplit("/", 1)[-1].removesuffix(".txt"): e for e in entities}
