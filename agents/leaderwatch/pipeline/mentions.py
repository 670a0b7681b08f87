"""pages.entities (PageEntities) -> leaderwatch.mention-updates (MentionUpdate, by qid) -> table rows.

The pure side of the mentions stage (stages/mentions.py holds the tables and agents):

Two hops so every table is written from the partition that owns its key:
  count_mentions      (by doc_id)  doc_to_contribution: what each document last contributed;
                                   a page seen again unchanged sends nothing, a changed page
                                   sends "doc D now gives leader Q n mentions" (0 = withdrawn)
  aggregate_mentions  (by qid)     leader_to_mentions        qid -> {name, country, docs, mentions}
                                   leader_doc_to_mentions    "qid|doc_id" -> {mentions, window}
                                   leader_window_to_mentions "qid|window_start" -> {docs, mentions, ...}
Applying an update is idempotent: re-delivery (at-least-once) and replays never double-count.
leader_doc_to_mentions is the record of truth; the other two are sums over it. Without
transactions a crash can persist one table's changelog write and not another's, so after every
recovery `repair_aggregates` makes the sums agree with the truth again (in memory; the next
update of a key writes it to its changelog).
Windows are tumbling, in event time (the page's published time), size settings.window_seconds.
Row shapes: contribution {mentions, window, name, country, url, title}; totals {qid, name,
country, docs, mentions}; window {docs, mentions, top: [{doc_id, url, title}], alerted?}.
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterable

from leaderwatch.records import MentionUpdate, PageEntities
from leaderwatch.times import shift_window, window_start  # noqa: F401  (part of this core's API)


def contribution(page: PageEntities) -> dict[str, int]:
    """qid -> mentions this page contributes."""
    return {leader.qid: leader.mentions for leader in page.leaders}


def fingerprint(page: PageEntities) -> str:
    """Changes when the text or what was extracted from it changes."""
    parts = [page.content_hash, page.event_time] + [f"{q}:{n}" for q, n in sorted(contribution(page).items())]
    return hashlib.sha256("|".join(parts).encode("utf-8")).hexdigest()[:24]


def mention_updates(page: PageEntities, previous: dict | None) -> list[MentionUpdate]:
    """A page and what it contributed before (None: new) -> the updates to send, [] if unchanged."""
    if previous and previous.get("fingerprint") == fingerprint(page):
        return []
    now = contribution(page)
    names = {leader.qid: (leader.name, leader.country) for leader in page.leaders}
    names.update({q: tuple(v) for q, v in (previous or {}).get("names", {}).items() if q not in names})
    qids = sorted(set(now) | set((previous or {}).get("leaders", {})))
    return [
        MentionUpdate(qid=q, doc_id=page.doc_id, name=names[q][0], country=names[q][1], mentions=now.get(q, 0),
                      event_time=page.event_time, url=page.url, title=page.title, backfill=page.backfill)
        for q in qids
    ]


def apply_update(update: MentionUpdate, previous: dict | None, window: str) -> tuple[dict | None, list[tuple[str, int, int]]]:
    """An update and the doc's previous contribution to this leader -> (new contribution,
    [(window, d_docs, d_mentions)]) ; [] when nothing changes (a re-delivered update).
    A contribution is {mentions, window, name, country, url, title}."""
    new = None
    if update.mentions > 0:
        new = {"mentions": update.mentions, "window": window, "name": update.name, "country": update.country,
               "url": update.url, "title": update.title}
    if _counted(new) == _counted(previous):  # re-delivered, or only the url/title changed
        return new, []
    deltas = []
    if previous:
        deltas.append((previous["window"], -1, -previous["mentions"]))
    if new:
        deltas.append((window, 1, update.mentions))
    return new, deltas


def _counted(contribution: dict | None) -> tuple | None:
    return (contribution["mentions"], contribution["window"]) if contribution else None


def doc_record(page: PageEntities) -> dict:
    """What doc_to_contribution keeps of a page: its fingerprint, qid -> mentions, qid -> [name, country]."""
    return {"fingerprint": fingerprint(page), "leaders": contribution(page),
            "names": {leader.qid: [leader.name, leader.country] for leader in page.leaders}}


def add_to_totals(totals: dict | None, update: MentionUpdate, deltas: list[tuple[str, int, int]]) -> dict:
    """A leader's totals row + an update's deltas -> the new row (name and country as of the update)."""
    row = dict(totals or {"qid": update.qid, "docs": 0, "mentions": 0})
    row.update(name=update.name, country=update.country)
    for _, d_docs, d_mentions in deltas:
        row["docs"] += d_docs
        row["mentions"] += d_mentions
    return row


def add_to_window(counts: dict | None, update: MentionUpdate, d_docs: int, d_mentions: int, top_documents: int) -> dict:
    """A window row + one delta of document update.doc_id -> the new row. The top documents list
    each counted document once: a document leaving the window (withdrawn, or moved to another
    window) leaves the list, one entering it joins while there is room; a correction in the same
    window (-1 then +1) keeps one entry."""
    row = dict(counts or {"docs": 0, "mentions": 0, "top": []})
    row["docs"] += d_docs
    row["mentions"] += d_mentions
    top = [doc for doc in row.get("top", []) if doc["doc_id"] != update.doc_id]
    if d_docs > 0 and len(top) < top_documents:
        top.append({"doc_id": update.doc_id, "url": update.url, "title": update.title})
    row["top"] = top
    return row


def sums_of_contributions(contributions: Iterable[tuple[str, dict]]) -> tuple[dict[str, dict], dict[str, dict]]:
    """[("qid|doc_id", contribution)] -> ({qid: {qid, name, country, docs, mentions}},
    {"qid|window_start": {docs, mentions, top: [{doc_id, url, title}]}}): what the two sum tables must hold."""
    totals: dict[str, dict] = {}
    windows: dict[str, dict] = {}
    for key, value in contributions:
        if not value or value.get("mentions", 0) <= 0:
            continue
        qid, doc_id = key.split("|", 1)
        row = totals.setdefault(qid, {"qid": qid, "name": value.get("name", qid), "country": value.get("country", ""),
                                      "docs": 0, "mentions": 0})
        row["docs"] += 1
        row["mentions"] += value["mentions"]
        counts = windows.setdefault(f"{qid}|{value['window']}", {"docs": 0, "mentions": 0, "top": []})
        counts["docs"] += 1
        counts["mentions"] += value["mentions"]
        counts["top"].append({"doc_id": doc_id, "url": value.get("url"), "title": value.get("title")})
    return totals, windows


def repaired_sum(have: dict | None, want: dict | None, top_documents: int) -> dict | None:
    """A sum row as stored and as the truth says -> the row to store, or None if `have` is right.
    Keeps what the truth does not hold (name, spike `alerted`), and top documents still counted."""
    want_counts = (want["docs"], want["mentions"]) if want else (0, 0)
    have_counts = (have.get("docs", 0), have.get("mentions", 0)) if have else (0, 0)
    if want_counts == have_counts:
        return None
    row = {**(have or {}), **(want or {"docs": 0, "mentions": 0})}
    if "top" in row:
        counted = {d["doc_id"]: d for d in (want or {}).get("top", [])}
        kept = [d for d in (have or {}).get("top", []) if d["doc_id"] in counted]
        extra = [d for doc_id, d in counted.items() if doc_id not in {k["doc_id"] for k in kept}]
        row["top"] = (kept + extra)[:top_documents]
    return row
