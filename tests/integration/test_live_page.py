"""The live page in a real browser (headless Chromium over the DevTools protocol, tests/cdp.py), on
both workers of one app: leaders and alerts shown, a new page's alert pushed without a reload,
readable with scripts off, usable at phone width. Screenshots are kept in test-artifacts/."""
from __future__ import annotations

import asyncio
import dataclasses
import os
import time
import urllib.request
from pathlib import Path

import pytest

from leaderwatch.cli.printing import fetch_json
from leaderwatch.ops.broker import free_port
from leaderwatch.ops.ingest import SAMPLES_DIR, iter_page_files, publish_pages
from tests.cdp import chromium, chromium_path
from tests.conftest import PROJECT_DIR, TAKAICHI_PAGE, read_all, table_from_entities

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(chromium_path() is None, reason="no chromium (Debian: apt-get install chromium)")]
ARTIFACTS = Path(os.environ.get("TEST_ARTIFACTS") or PROJECT_DIR / "test-artifacts")
TAKAICHI, KIM = "Q1705028", "Q56226"
TAKAICHI_KIM_ALERT = (f"Array.from(document.querySelectorAll('#alert-list li[data-kind=engagement]'))"
                      f".find(li => li.dataset.leaders.includes('{TAKAICHI}') && li.dataset.leaders.includes('{KIM}'))")


def get_html(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.headers["Content-Type"].startswith("text/html")
        return response.read().decode("utf-8")


async def test_the_live_page_of_each_worker_shows_leaders_and_pushes_a_new_alert(settings_factory, start_worker, tmp_path):
    first = settings_factory()
    second = dataclasses.replace(first, web_port=free_port(), datadir=str(tmp_path / "second"))
    start_worker(first)
    start_worker(second)
    workers = (first, second)
    files = [f for f in iter_page_files([SAMPLES_DIR]) if f.name != TAKAICHI_PAGE.name]
    await publish_pages(first, files, show_progress=False)
    deadline = time.monotonic() + 120
    while True:  # every page counted, both workers' answers complete and alike
        entities = await read_all(first, first.topic_entities)
        answers = [fetch_json(s.web_url + "/mentions/?top=50")["leaders"] for s in workers]
        truth = table_from_entities(entities)
        if (len({e["doc_id"] for e in entities}) == len(files) and answers[0] == answers[1]
                and {r["qid"]: (r["docs"], r["mentions"]) for r in answers[0]} == truth):
            break
        assert time.monotonic() < deadline, "the sample pages were not counted"
        await asyncio.sleep(0.5)
    leaders = answers[0]
    alerts_before = await read_all(first, first.topic_alerts, expect=1)

    for settings in workers:  # scripts off: the server's first paint holds the table and the alerts
        html = get_html(settings.web_url + "/")
        assert all(row["name"] in html for row in leaders)
        assert all(a["alert_id"] in html for a in alerts_before)
        assert "/static/live.js" in html and "cdn" not in html.lower()
        filtered = get_html(settings.web_url + f"/?kind=watch")  # the filter works without scripts too
        assert not any(a["alert_id"] in filtered for a in alerts_before if a["kind"] != "watch")

    async with chromium(tmp_path / "chromium.log") as new_page:
        pages = []
        for settings in workers:
            page = await new_page()
            await page.viewport(1280, 900)
            await page.goto(settings.web_url + "/")
            await page.wait_for("document.querySelector('#status').textContent === 'live'")
            names = await page.evaluate("Array.from(document.querySelectorAll('#leaders-body a.leader')).map(a => a.textContent)")
            assert names == [row["name"] for row in leaders]  # rank order, every leader, from either worker
            sparks = await page.evaluate("document.querySelectorAll('#leaders-body svg.spark polyline').length")
            assert sparks == len(leaders)
            assert await page.evaluate(f"!{TAKAICHI_KIM_ALERT}")  # that page is not in yet
            assert await page.evaluate("document.querySelectorAll('#health-body tr').length") > 4
            await page.evaluate("window.noReload = true")
            pages.append(page)

        await publish_pages(first, [TAKAICHI_PAGE], show_progress=False)
        started = time.monotonic()
        for page in pages:  # pushed to both pages, no reload
            await page.wait_for(f"{TAKAICHI_KIM_ALERT} !== undefined", timeout=60)
            assert await page.evaluate("window.noReload === true")
            evidence = await page.evaluate(f"{TAKAICHI_KIM_ALERT}.textContent")
            assert "face-to-face talks with Kim Jong Un" in evidence
            assert await page.evaluate(f"{TAKAICHI_KIM_ALERT}.classList.contains('fresh')")
            link = await page.evaluate(f"{TAKAICHI_KIM_ALERT}.querySelector('a').href")
            assert link == "https://news.example.org/world/asia/2025/11/14/japan-pm-eyes-talks-with-kim-jong-un"
        print(f"the new page's alert was on both pages {time.monotonic() - started:.1f} s after it was sent")
        alert = next(a for a in await read_all(first, first.topic_alerts, expect=len(alerts_before) + 1)
                     if {x["qid"] for x in a["leaders"]} == {TAKAICHI, KIM})
        assert await pages[1].evaluate(f"{TAKAICHI_KIM_ALERT}.dataset.alertId") == alert["alert_id"]

        page = pages[0]
        await page.evaluate("document.querySelector('#alert-filter select[name=kind]').value = 'spike';"
                            "document.querySelector('#alert-filter').dispatchEvent(new Event('change'))")
        assert await page.evaluate(f"{TAKAICHI_KIM_ALERT}.hidden")  # filtered out in place
        await page.evaluate("document.querySelector('#alert-filter select[name=kind]').value = 'engagement';"
                            f"document.querySelector('#alert-filter select[name=alert_leader]').value = '{KIM}';"
                            "document.querySelector('#alert-filter').dispatchEvent(new Event('change'))")
        shown = await page.evaluate("Array.from(document.querySelectorAll('#alert-list li.alert')).filter(li => !li.hidden)"
                                    ".map(li => li.dataset.leaders)")
        assert shown and all(KIM in leaders_of for leaders_of in shown)

        # a leader's panel: keyboard (focus the link, Enter), windows, documents, evidence sentences
        await page.evaluate(f"document.querySelector('a.leader[data-qid={TAKAICHI}]').focus()")
        await page.send("Input.dispatchKeyEvent", type="keyDown", key="Enter", code="Enter", windowsVirtualKeyCode=13,
                        text="\r")
        await page.send("Input.dispatchKeyEvent", type="keyUp", key="Enter", code="Enter", windowsVirtualKeyCode=13)
        await page.wait_for(f"document.querySelector('#detail[data-qid={TAKAICHI}]') && !document.querySelector('#detail').hidden")
        assert await page.evaluate("document.activeElement.id") == "detail"
        # the alert may come before the page's mentions are counted: the open panel follows the pushes
        await page.wait_for("document.querySelector('#detail').textContent.includes('2025-11-14T06:00:00Z')", timeout=30)
        detail = await page.evaluate("document.querySelector('#detail').textContent")
        assert "face-to-face talks" in detail
        docs = fetch_json(first.web_url + f"/mentions/{TAKAICHI}/")["docs"]
        assert f"{docs} documents" in detail
        await page.screenshot(ARTIFACTS / "live-view.png")
        await page.screenshot(tmp_path / "live-view.png")

        # phone width: nothing wider than the screen, the table scrolls inside its panel
        await page.viewport(390, 844, mobile=True)
        await page.goto(first.web_url + "/")
        await page.wait_for("document.querySelector('#status').textContent === 'live'")
        assert await page.evaluate("document.documentElement.scrollWidth") <= 390
        await page.screenshot(ARTIFACTS / "live-view-phone.png", full_page=False)
    assert (ARTIFACTS / "live-view.png").stat().st_size > 10_000
