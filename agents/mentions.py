"""pages.entities -> leaderwatch.mention-updates (keyed by qid) -> the live per-leader tables.

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
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime, timezone

from agents.records import MentionUpdate, PageEntities


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


def window_start(event_time: str, window_seconds: int) -> str:
    """The start of the tumbling window holding `event_time`, as ISO UTC."""
    moment = datetime.fromisoformat(event_time.replace("Z", "+00:00")).timestamp()
    start = int(moment // window_seconds * window_seconds)
    return datetime.fromtimestamp(start, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def shift_window(start: str, window_seconds: int, count: int) -> str:
    moment = datetime.fromisoformat(start.replace("Z", "+00:00")).timestamp() + count * window_seconds
    return datetime.fromtimestamp(moment, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


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


# ---------------------------------------------------------------- tables and agents

import logging  # noqa: E402

from agents.alert import load_rules, spike_alert  # noqa: E402
from agents.app import processed, send_acknowledged, settings, stage_agent, stage_table  # noqa: E402
from agents.clean import utc_now_iso  # noqa: E402
from agents.dead import decoded_events, send_dead_letter  # noqa: E402
from agents.metrics import observe_lag  # noqa: E402
from agents.topics import alerts_topic, mention_updates_input, mention_updates_topic, pages_entities_input  # noqa: E402

log = logging.getLogger(__name__)
doc_to_contribution = stage_table("mentions", "doc_to_contribution")
leader_to_mentions = stage_table("mentions", "leader_to_mentions")
leader_doc_to_mentions = stage_table("mentions", "leader_doc_to_mentions")
leader_window_to_mentions = stage_table("mentions", "leader_window_to_mentions")
# qid -> {(table name, key): corrected row}: found by repair_aggregates, read by the views, written
# to the tables (and so their changelogs) by the next update of that leader, inside its event
repairs_pending: dict[str, dict[tuple[str, str], dict]] = {}


@stage_agent("mentions", pages_entities_input)
async def count_mentions(stream):
    """pages.entities -> mention updates: what each document (newly or differently) contributes."""
    async for event, page in decoded_events(stream, PageEntities, "mentions"):
        try:
            previous = doc_to_contribution.get(page.doc_id)
            updates = mention_updates(page, previous)
            # acknowledged before the table records them: a crash re-sends (harmless), never loses
            await send_acknowledged(mention_updates_topic, [(u.qid, u) for u in updates])
            processed["mention_updates_sent"] += len(updates)
            if updates or previous is None:
                doc_to_contribution[page.doc_id] = {
                    "fingerprint": fingerprint(page),
                    "leaders": contribution(page),
                    "names": {l.qid: [l.name, l.country] for l in page.leaders},
                }
            else:
                processed["documents_seen_again"] += 1
            observe_lag(page.fetched_at)
        except Exception as exc:
            log.exception("count_mentions failed")
            await send_dead_letter("mentions", "internal_error", f"{type(exc).__name__}: {exc}", event.value, event)
        else:
            processed["mentions_out"] += 1
        processed["mentions_in"] += 1


@stage_agent("mentions", mention_updates_input)
async def aggregate_mentions(stream):
    """mention updates -> leader_to_mentions (totals) and leader_window_to_mentions (event-time windows)."""
    rules = load_rules(settings.rules_file or None)
    async for event, update in decoded_events(stream, MentionUpdate, "mentions", counter="mention_updates_applied"):
        try:
            await _aggregate(update, rules)
        except Exception as exc:
            log.exception("aggregate_mentions failed")
            await send_dead_letter("mentions", "internal_error", f"{type(exc).__name__}: {exc}", event.value, event)
        processed["mention_updates_applied"] += 1


async def _aggregate(update: MentionUpdate, rules: dict) -> None:
    for (table_name, sum_key), row in repairs_pending.pop(update.qid, {}).items():
        SUM_TABLES[table_name][sum_key] = row
    key = f"{update.qid}|{update.doc_id}"
    window = window_start(update.event_time, settings.window_seconds)
    new, deltas = apply_update(update, leader_doc_to_mentions.get(key), window)
    if new != leader_doc_to_mentions.get(key):
        if new:
            leader_doc_to_mentions[key] = new
        else:
            leader_doc_to_mentions.pop(key, None)
    if deltas:
        totals = dict(leader_to_mentions.get(update.qid) or {"qid": update.qid, "docs": 0, "mentions": 0})
        totals.update(name=update.name, country=update.country)
        for window_key, d_docs, d_mentions in deltas:
            totals["docs"] += d_docs
            totals["mentions"] += d_mentions
            counts = dict(leader_window_to_mentions.get(f"{update.qid}|{window_key}") or {"docs": 0, "mentions": 0, "top": []})
            counts["docs"] += d_docs
            counts["mentions"] += d_mentions
            if d_docs > 0 and len(counts["top"]) < rules["spike"]["top_documents"]:
                counts["top"] = counts["top"] + [{"doc_id": update.doc_id, "url": update.url, "title": update.title}]
            leader_window_to_mentions[f"{update.qid}|{window_key}"] = counts
        leader_to_mentions[update.qid] = totals
    counts = leader_window_to_mentions.get(f"{update.qid}|{window}")
    if new and counts and not counts.get("alerted"):
        # also when nothing changed: a crash may have come between counting and alerting
        leader = leader_to_mentions.get(update.qid) or {"qid": update.qid, "name": update.name, "country": update.country}
        await _maybe_spike(update, leader, window, counts, rules)


async def repair_aggregates() -> None:
    """After a recovery: where leader_to_mentions or leader_window_to_mentions is not the sum of
    leader_doc_to_mentions, put the right row in repairs_pending (a table cannot be written
    outside an event: its changelog partition comes from the event)."""
    totals, windows = sums_of_contributions(leader_doc_to_mentions.items())
    top_documents = load_rules(settings.rules_file or None)["spike"]["top_documents"]
    repairs_pending.clear()
    for table, want in ((leader_to_mentions, totals), (leader_window_to_mentions, windows)):
        for key in set(want) | {k for k, _ in table.items()}:
            row = repaired_sum(table.get(key), want.get(key), top_documents)
            if row is not None:
                repairs_pending.setdefault(key.split("|", 1)[0], {})[(table.name, key)] = row
    repaired = sum(len(rows) for rows in repairs_pending.values())
    processed["sums_repaired"] += repaired
    if repaired:
        log.warning("%d per-leader sums disagreed with the per-document records after recovery (a crash cut "
                    "a changelog write short); corrected", repaired)


if hasattr(leader_doc_to_mentions, "on_recover"):  # a Faust table: this worker runs the mentions stage
    leader_doc_to_mentions.on_recover(repair_aggregates)
    SUM_TABLES = {table.name: table for table in (leader_to_mentions, leader_window_to_mentions)}


def current_sum(table, key: str) -> dict | None:
    """A row of a sum table as the views should show it: corrected if a repair is pending."""
    return repairs_pending.get(key.split("|", 1)[0], {}).get((getattr(table, "name", ""), key)) or table.get(key)


def current_sums(table) -> dict[str, dict]:
    """key -> row of a sum table, pending repairs applied."""
    rows = {k: v for k, v in table.items()}
    name = getattr(table, "name", "")
    rows.update({key: row for pending in list(repairs_pending.values()) for (t, key), row in pending.items() if t == name})
    return rows


async def _maybe_spike(update: MentionUpdate, leader: dict, window: str, counts: dict, rules: dict) -> None:
    """Raise a spike alert once per (leader, window) when the count crosses the rule."""
    if update.backfill and not settings.alert_backfill_spikes:
        return
    n = rules["spike"]["baseline_windows"]
    previous = [
        (leader_window_to_mentions.get(f"{update.qid}|{shift_window(window, settings.window_seconds, -k)}") or {}).get("docs", 0)
        for k in range(n, 0, -1)
    ]
    alert = spike_alert(leader, window, shift_window(window, settings.window_seconds, 1), counts["docs"], previous,
                        counts["top"], rules, utc_now_iso(), update.backfill)
    if alert:
        await send_acknowledged(alerts_topic, [(alert.leaders[0].qid, alert)])
        leader_window_to_mentions[f"{update.qid}|{window}"] = {**counts, "alerted": alert.alert_id}
        processed["alerts_spike"] += 1


def top_leaders(limit: int = 20) -> list[dict]:
    """The live table, most documents first."""
    rows = [dict(v) for v in current_sums(leader_to_mentions).values() if v and v.get("docs", 0) > 0]
    return sorted(rows, key=lambda r: (-r["docs"], -r["mentions"], r["name"]))[:limit]


def leader_windows(qid: str) -> list[dict]:
    """One leader's windows, oldest first (scans this worker's partitions)."""
    prefix = f"{qid}|"
    rows = [{"window_start": k[len(prefix):], "docs": v["docs"], "mentions": v["mentions"], "alerted": v.get("alerted")}
            for k, v in current_sums(leader_window_to_mentions).items() if k.startswith(prefix) and v and v["docs"] > 0]
    return sorted(rows, key=lambda r: r["window_start"])
