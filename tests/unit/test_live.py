"""The live view's state (web/live.py LiveState) and the page's HTML (web/page.py), without Kafka."""
from __future__ import annotations

import orjson

from leaderwatch.web.live import SPARK_WINDOWS, LiveSources, LiveState
from leaderwatch.web.page import render_alerts, render_leaders

SOURCES = LiveSources(totals="t", windows="w", alerts="a", entities="e", dead="d", alerts_kept=3, evidence_kept=2)


def j(value) -> bytes:
    return orjson.dumps(value)


def test_changelog_records_set_and_tombstones_delete_and_replays_change_nothing():
    state = LiveState(SOURCES)
    row = {"qid": "Q1", "name": "One", "country": "XX", "docs": 2, "mentions": 3}
    for _ in range(2):  # a re-delivered changelog record
        state.apply("t", j("Q1"), j(row))
        state.apply("w", j("Q1|2025-11-14T06:00:00Z"), j({"docs": 2, "mentions": 3, "top": []}))
    state.apply("t", j("Q2"), j({**row, "qid": "Q2", "name": "Two", "docs": 1}))
    assert [r["qid"] for r in state.top_leaders()] == ["Q1", "Q2"]
    assert state.leader("Q1")["windows"] == [{"window_start": "2025-11-14T06:00:00Z", "docs": 2, "mentions": 3, "alerted": None}]
    state.apply("t", j("Q2"), None)  # tombstone
    state.apply("t", j("Q1"), j({**row, "docs": 0, "mentions": 0}))  # every document withdrawn
    assert state.top_leaders() == [] and state.leader("Q1") is None and state.leader("Q2") is None


def test_alerts_and_evidence_are_bounded_rings_newest_first():
    state = LiveState(SOURCES)
    for i in range(5):
        state.apply("a", j("Q1"), j({"alert_id": f"a{i}", "kind": "watch" if i % 2 else "engagement",
                                     "leaders": [{"qid": "Q1", "name": "One", "country": "XX"}],
                                     "detected_at": f"2026-01-01T00:00:0{i}Z", "evidence": []}))
        state.apply("e", j(f"d{i}"), j({"doc_id": f"d{i}", "event_time": f"2025-01-0{i + 1}T00:00:00Z", "leaders": [
            {"qid": "Q1", "mentions": 1, "sentences": [f"sentence {i}"] * 5}]}))
    assert [a["alert_id"] for a in state.recent_alerts()] == ["a4", "a3", "a2"]
    assert [a["alert_id"] for a in state.recent_alerts(kind="watch")] == ["a3"]
    assert state.recent_alerts(leader="Q9") == []
    assert [d["doc_id"] for d in state.evidence["Q1"].values()] == ["d3", "d4"]
    assert len(state.evidence["Q1"]["d4"]["sentences"]) == SOURCES.sentences_kept
    assert state.last_event_time == "2025-01-05T00:00:00Z"
    state.apply("d", None, j({"stage": "clean", "reason": "no_text"}))
    state.apply("d", None, b"not json")  # skipped, not fatal
    assert state.dead == {("clean", "no_text"): 1}


def test_sparkline_covers_the_same_24_windows_for_every_leader():
    state = LiveState(SOURCES)
    state.apply("w", j("Q1|2025-11-14T06:00:00Z"), j({"docs": 4, "mentions": 4}))
    state.apply("w", j("Q1|2025-11-13T07:00:00Z"), j({"docs": 1, "mentions": 1}))  # 23 windows earlier
    state.apply("w", j("Q2|2025-11-14T05:00:00Z"), j({"docs": 2, "mentions": 2}))
    latest = state.latest_window()
    assert latest == "2025-11-14T06:00:00Z"
    assert state.sparkline("Q1", latest) == [1] + [0] * 22 + [4]
    assert state.sparkline("Q2", latest) == [0] * 22 + [2, 0]
    assert len(state.sparkline("Q3", latest)) == SPARK_WINDOWS


def test_each_leader_keeps_only_its_newest_windows_however_long_it_runs():
    import dataclasses

    state = LiveState(dataclasses.replace(SOURCES, windows_kept=3))
    for hour in range(10):  # a long run: ten windows of Q1, one of Q2
        state.apply("w", j(f"Q1|2025-11-14T{hour:02d}:00:00Z"), j({"docs": 1, "mentions": hour, "top": [{"doc_id": f"d{hour}"}]}))
    state.apply("w", j("Q2|2025-11-14T00:00:00Z"), j({"docs": 1, "mentions": 1}))
    state.apply("w", j("Q1|2025-11-13T23:00:00Z"), j({"docs": 5, "mentions": 5}))  # a late, older window: not kept
    assert sorted(state.windows["Q1"]) == ["2025-11-14T07:00:00Z", "2025-11-14T08:00:00Z", "2025-11-14T09:00:00Z"]
    assert list(state.windows["Q2"]) == ["2025-11-14T00:00:00Z"]
    state.apply("t", j("Q1"), j({"qid": "Q1", "name": "One", "country": "XX", "docs": 10, "mentions": 45}))
    assert [d["doc_id"] for d in state.leader_detail("Q1")["documents"]] == ["d9", "d8", "d7"]
    assert state.sparkline("Q1", state.latest_window())[-3:] == [1, 1, 1]


def test_the_page_escapes_what_pages_and_alerts_carry():
    state = LiveState(SOURCES)
    state.apply("t", j("Q1"), j({"qid": "Q1", "name": "<script>x</script>", "country": "XX", "docs": 1, "mentions": 1}))
    state.apply("a", j("Q1"), j({"alert_id": "a1", "kind": "watch", "leaders": [{"qid": "Q1", "name": "<b>", "country": "XX"}],
                                 "detected_at": "2026-01-01T00:00:00Z",
                                 "evidence": [{"url": "javascript:alert(1)", "title": "<i>t</i>", "sentence": "\"q\" & <p>"}]}))
    html = render_leaders(state) + render_alerts(state)
    assert "<script>" not in html and "&lt;script&gt;" in html and "<b>" not in html and "<i>" not in html
    assert "javascript:" not in html  # only http(s) links
    assert "&quot;q&quot; &amp; &lt;p&gt;" in html


def test_a_historical_engagement_is_marked_on_the_page_and_in_the_terminal():
    from leaderwatch.cli.printing import format_alert

    def alert(alert_id, details):
        return {"alert_id": alert_id, "kind": "engagement", "event_time": "2019-11-19T00:00:00Z", "detected_at": "2026-01-01T00:00:00Z",
                "leaders": [{"qid": "Q76", "name": "Barack Obama", "country": "US"}, {"qid": "Q23530", "name": "Dmitry Medvedev", "country": "RU"}],
                "evidence": [{"doc_id": "d", "url": "https://x.example/1", "title": "t", "sentence": "Obama phoned President Medvedev."}],
                "details": details}

    state = LiveState(SOURCES)
    state.apply("a", j("Q76"), j(alert("cited", {"words": ["phone"], "historical": True})))
    state.apply("a", j("Q76"), j(alert("news", {"words": ["phone"]})))
    items = render_alerts(state).split("<li class=\"alert ")[1:]
    marked = {item.split('data-alert-id="')[1].split('"')[0]: ">historical</span>" in item for item in items}
    assert marked == {"cited": True, "news": False}
    assert "(historical" in format_alert(alert("cited", {"historical": True})) and "historical" not in format_alert(alert("news", {}))
