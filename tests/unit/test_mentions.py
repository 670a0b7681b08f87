"""The idempotent table arithmetic: contributions, updates, windows."""
from __future__ import annotations

from leaderwatch.pipeline.mentions import (add_to_window, apply_update, fingerprint, mention_updates, repaired_sum,
                                           shift_window, sums_of_contributions, window_start)
from leaderwatch.records import LeaderFound, MentionUpdate, PageEntities


def page(leaders: dict[str, int], content_hash="h1", event_time="2025-11-14T06:30:00Z") -> PageEntities:
    return PageEntities(
        doc_id="d1", url="u", title="t", language="en", event_time=event_time, fetched_at=event_time,
        content_hash=content_hash,
        leaders=[LeaderFound(qid=q, name=q.lower(), country="JP", office=None, mentions=n, surfaces=[q], offsets=[[0, 1]],
                             sentence_ids=[0], sentences=["s"]) for q, n in leaders.items()],
    )


def stored(p: PageEntities) -> dict:
    return {"fingerprint": fingerprint(p), "leaders": {l.qid: l.mentions for l in p.leaders},
            "names": {l.qid: [l.name, l.country] for l in p.leaders}}


def test_new_page_sends_one_update_per_leader():
    updates = mention_updates(page({"Q1": 2, "Q2": 1}), None)
    assert [(u.qid, u.mentions) for u in updates] == [("Q1", 2), ("Q2", 1)]


def test_same_page_again_sends_nothing():
    p = page({"Q1": 2})
    assert mention_updates(p, stored(p)) == []


def test_changed_page_replaces_its_contribution_and_withdraws_dropped_leaders():
    old = page({"Q1": 2, "Q2": 1})
    new = page({"Q1": 3}, content_hash="h2")
    assert [(u.qid, u.mentions) for u in mention_updates(new, stored(old))] == [("Q1", 3), ("Q2", 0)]


def update(mentions: int, event_time="2025-11-14T06:30:00Z") -> MentionUpdate:
    return MentionUpdate(qid="Q1", doc_id="d1", name="n", country="JP", mentions=mentions, event_time=event_time)


def test_apply_update_is_idempotent_and_moves_windows():
    w1 = window_start("2025-11-14T06:30:00Z", 3600)
    first, deltas = apply_update(update(2), None, w1)
    assert deltas == [(w1, 1, 2)]
    again, deltas = apply_update(update(2), first, w1)
    assert deltas == [] and again == first  # re-delivered: nothing changes
    w2 = window_start("2025-11-15T00:00:00Z", 3600)
    moved, deltas = apply_update(update(5, "2025-11-15T00:00:00Z"), first, w2)
    assert deltas == [(w1, -1, -2), (w2, 1, 5)]
    gone, deltas = apply_update(update(0), moved, w1)
    assert gone is None and deltas == [(w2, -1, -5)]


def test_windows_are_tumbling_in_event_time():
    assert window_start("2025-11-14T06:30:00Z", 3600) == "2025-11-14T06:00:00Z"
    assert window_start("2023-09-19T23:59:59Z", 86400) == "2023-09-19T00:00:00Z"
    assert shift_window("2025-11-14T06:00:00Z", 3600, -7) == "2025-11-13T23:00:00Z"


def test_a_title_change_updates_the_record_without_counting_again():
    w1 = window_start("2025-11-14T06:30:00Z", 3600)
    first, _ = apply_update(update(2), None, w1)
    retitled = MentionUpdate(qid="Q1", doc_id="d1", name="n", country="JP", mentions=2, event_time="2025-11-14T06:30:00Z",
                             title="corrected")
    new, deltas = apply_update(retitled, first, w1)
    assert deltas == [] and new["title"] == "corrected"


def test_sums_of_contributions_are_the_tables_a_torn_crash_must_be_repaired_to():
    w1, w2 = "2025-11-14T06:00:00Z", "2025-11-14T07:00:00Z"
    records = [
        ("Q1|a", {"mentions": 2, "window": w1, "name": "One", "country": "JP", "url": "ua", "title": "ta"}),
        ("Q1|b", {"mentions": 1, "window": w2, "name": "One", "country": "JP", "url": "ub", "title": "tb"}),
        ("Q2|a", {"mentions": 3, "window": w1, "name": "Two", "country": "KP", "url": "ua", "title": "ta"}),
    ]
    totals, windows = sums_of_contributions(records)
    assert totals == {"Q1": {"qid": "Q1", "name": "One", "country": "JP", "docs": 2, "mentions": 3},
                      "Q2": {"qid": "Q2", "name": "Two", "country": "KP", "docs": 1, "mentions": 3}}
    assert {k: (v["docs"], v["mentions"]) for k, v in windows.items()} == {f"Q1|{w1}": (1, 2), f"Q1|{w2}": (1, 1),
                                                                           f"Q2|{w1}": (1, 3)}
    assert windows[f"Q1|{w1}"]["top"] == [{"doc_id": "a", "url": "ua", "title": "ta"}]


def test_repaired_sum_leaves_right_rows_alone_and_fixes_torn_ones():
    want = {"docs": 2, "mentions": 3, "top": [{"doc_id": "a"}, {"doc_id": "b"}]}
    assert repaired_sum({"docs": 2, "mentions": 3, "top": [{"doc_id": "a"}], "alerted": "x"}, want, 5) is None
    fixed = repaired_sum({"docs": 1, "mentions": 2, "top": [{"doc_id": "a"}], "alerted": "x"}, want, 5)
    assert fixed == {"docs": 2, "mentions": 3, "top": [{"doc_id": "a"}, {"doc_id": "b"}], "alerted": "x"}
    # counted in the sums but withdrawn in the truth (the withdrawal's sum write was lost)
    assert repaired_sum({"qid": "Q1", "name": "One", "docs": 1, "mentions": 2}, None, 5) == {
        "qid": "Q1", "name": "One", "docs": 0, "mentions": 0}
    assert repaired_sum(None, None, 5) is None


def run_window_updates(steps, top_documents=3) -> dict:
    """[(doc_id, mentions, event_time)] through apply_update + add_to_window -> the window rows."""
    contributions, rows = {}, {}
    for doc_id, mentions, event_time in steps:
        u = MentionUpdate(qid="Q1", doc_id=doc_id, name="n", country="JP", mentions=mentions, event_time=event_time,
                          url=f"https://x/{doc_id}", title=doc_id)
        new, deltas = apply_update(u, contributions.get(doc_id), window_start(event_time, 3600))
        contributions[doc_id] = new
        for window, d_docs, d_mentions in deltas:
            rows[window] = add_to_window(rows.get(window), u, d_docs, d_mentions, top_documents)
    return rows


def test_top_documents_list_each_counted_page_once_and_drop_pages_that_left():
    at, later = "2025-11-14T06:30:00Z", "2025-11-14T09:10:00Z"
    rows = run_window_updates([("a", 2, at), ("a", 3, at)])  # a correction in the same window
    assert [d["doc_id"] for d in rows["2025-11-14T06:00:00Z"]["top"]] == ["a"]
    assert rows["2025-11-14T06:00:00Z"]["docs"] == 1
    rows = run_window_updates([("a", 1, at), ("b", 1, at), ("c", 1, at),  # full
                               ("a", 0, at),                              # withdrawn
                               ("b", 1, later),                           # moved to another window
                               ("d", 1, at), ("e", 1, at)])               # new pages take the freed places
    window = rows["2025-11-14T06:00:00Z"]
    assert window["docs"] == 3 and [d["doc_id"] for d in window["top"]] == ["c", "d", "e"]
    assert [d["doc_id"] for d in rows["2025-11-14T09:00:00Z"]["top"]] == ["b"]
