"""pages.entities (PageEntities) -> leaderwatch.mention-updates (MentionUpdate, by qid) -> live tables.

  count_mentions      (by doc_id)  doc_to_contribution        doc_id -> what the page last contributed
  aggregate_mentions  (by qid)     leader_doc_to_mentions     "qid|doc_id" -> contribution (the truth)
                                   leader_to_mentions         qid -> {qid, name, country, docs, mentions}
                                   leader_window_to_mentions  "qid|window_start" -> {docs, mentions, top, alerted?}
Spike alerts -> alerts. The arithmetic is pipeline/mentions.py; this module reads and writes tables.
"""
from __future__ import annotations

import logging

from leaderwatch.pipeline.alerts import load_rules, spike_alert
from leaderwatch.pipeline.mentions import (add_to_totals, add_to_window, apply_update, doc_record, mention_updates,
                                           repaired_sum, sums_of_contributions)
from leaderwatch.records import MentionUpdate, PageEntities, decode_record, encode
from leaderwatch.stages.runner import Emit, StageContext, run_stage
from leaderwatch.times import shift_window, utc_now_iso, window_start

log = logging.getLogger(__name__)


class MentionTables:
    """The mentions stage's tables, and the sums as the views should show them.

    Without transactions a crash can persist one table's changelog write and not another's; after
    every recovery `repair` makes the sums agree with leader_doc_to_mentions again. A table cannot
    be written outside an event, so corrected rows wait in `repairs_pending` (qid -> {(table, key):
    row}), shown by the views and written by the next update of that leader."""

    def __init__(self, app, settings, counters, top_documents: int):
        def table(name):
            return app.Table(name, default=None, key_type=str, partitions=settings.partitions, options=settings.table_options)

        self.doc_to_contribution = table("doc_to_contribution")
        self.leader_to_mentions = table("leader_to_mentions")
        self.leader_doc_to_mentions = table("leader_doc_to_mentions")
        self.leader_window_to_mentions = table("leader_window_to_mentions")
        self.sum_tables = {t.name: t for t in (self.leader_to_mentions, self.leader_window_to_mentions)}
        self.repairs_pending: dict[str, dict[tuple[str, str], dict]] = {}
        self.counters, self.top_documents = counters, top_documents
        self.on_repaired = None  # async callable run after a repair that corrected something
        self.leader_doc_to_mentions.on_recover(self.repair)

    async def repair(self) -> None:
        """After a recovery: queue a corrected row wherever a sum disagrees with the documents."""
        totals, windows = sums_of_contributions(self.leader_doc_to_mentions.items())
        self.repairs_pending.clear()
        for table, want in ((self.leader_to_mentions, totals), (self.leader_window_to_mentions, windows)):
            for key in set(want) | {k for k, _ in table.items()}:
                row = repaired_sum(table.get(key), want.get(key), self.top_documents)
                if row is not None:
                    self.repairs_pending.setdefault(key.split("|", 1)[0], {})[(table.name, key)] = row
        repaired = sum(len(rows) for rows in self.repairs_pending.values())
        self.counters["sums_repaired"] += repaired
        if repaired:
            log.warning("%d per-leader sums disagreed with the per-document records after recovery (a crash cut "
                        "a changelog write short); corrected", repaired)
            if self.on_repaired:
                await self.on_repaired()

    def rewrite(self, qid: str, doc_key: str, window_key: str) -> None:
        """A re-delivered update: write its rows again, unchanged. RocksDB keeps on disk the writes
        of an event whose changelog records a SIGKILL stopped (its offset uncommitted, the event
        comes again and changes nothing); written again, they reach the changelogs, which every
        live view and any recovery elsewhere read."""
        for table, key in ((self.leader_doc_to_mentions, doc_key), (self.leader_to_mentions, qid),
                           (self.leader_window_to_mentions, window_key)):
            row = table.get(key)
            if row is not None:
                table[key] = row

    def write_pending_repairs(self, qid: str) -> None:
        for (table_name, key), row in self.repairs_pending.pop(qid, {}).items():
            self.sum_tables[table_name][key] = row

    def current_sum(self, table, key: str) -> dict | None:
        """A row of a sum table, corrected if a repair is pending."""
        return self.repairs_pending.get(key.split("|", 1)[0], {}).get((table.name, key)) or table.get(key)

    def current_sums(self, table) -> dict[str, dict]:
        rows = {k: v for k, v in table.items()}
        rows.update({key: row for pending in list(self.repairs_pending.values()) for (t, key), row in pending.items()
                     if t == table.name})
        return rows

    def top_leaders(self, limit: int = 20) -> list[dict]:
        """The live table (this worker's partitions), most documents first."""
        rows = [dict(v) for v in self.current_sums(self.leader_to_mentions).values() if v and v.get("docs", 0) > 0]
        return sorted(rows, key=lambda r: (-r["docs"], -r["mentions"], r["name"]))[:limit]

    def leader(self, qid: str) -> dict | None:
        """One leader's totals and event-time windows, oldest first; None if not counted here."""
        totals = self.current_sum(self.leader_to_mentions, qid)
        if not totals:
            return None
        prefix = f"{qid}|"
        windows = [{"window_start": k[len(prefix):], "docs": v["docs"], "mentions": v["mentions"], "alerted": v.get("alerted")}
                   for k, v in self.current_sums(self.leader_window_to_mentions).items()
                   if k.startswith(prefix) and v and v["docs"] > 0]
        return {**totals, "windows": sorted(windows, key=lambda r: r["window_start"])}


def register(ctx: StageContext) -> None:
    settings, topics, counters = ctx.settings, ctx.topics, ctx.counters
    rules = load_rules(settings.rules_file or None)
    tables = ctx.mentions = MentionTables(ctx.app, settings, counters, rules["spike"]["top_documents"])

    async def write_repairs_now() -> None:
        """After `repair`: one no-op update per corrected leader (doc_id "", 0 mentions: it counts
        nothing), so aggregate_mentions writes the corrected rows to the changelogs now, where every
        worker's live view (web/live.py) reads them, rather than at that leader's next page."""
        log.info("writing the repaired sums of %d leaders to the changelogs", len(tables.repairs_pending))
        for qid in list(tables.repairs_pending):
            await topics.mention_updates.send(key=qid.encode("utf-8"), value=encode(MentionUpdate(
                qid=qid, doc_id="", name="", country="", mentions=0, event_time="1970-01-01T00:00:00Z")))

    tables.on_repaired = write_repairs_now

    def count(page: PageEntities) -> Emit:
        previous = tables.doc_to_contribution.get(page.doc_id)
        updates = mention_updates(page, previous)
        if ctx.metrics:
            ctx.metrics.observe_lag(page.fetched_at)

        def record_sent() -> None:
            counters["mention_updates_sent"] += len(updates)
            if updates or previous is None:
                tables.doc_to_contribution[page.doc_id] = doc_record(page)
            else:
                counters["documents_seen_again"] += 1
                tables.doc_to_contribution[page.doc_id] = previous  # on the changelog again: see `rewrite`

        return Emit([(topics.mention_updates, u.qid, u) for u in updates], then=record_sent)

    def aggregate(update: MentionUpdate) -> Emit | None:
        tables.write_pending_repairs(update.qid)
        key = f"{update.qid}|{update.doc_id}"
        window = window_start(update.event_time, settings.window_seconds)
        previous = tables.leader_doc_to_mentions.get(key)
        new, deltas = apply_update(update, previous, window)
        if new != previous:
            if new:
                tables.leader_doc_to_mentions[key] = new
            else:
                tables.leader_doc_to_mentions.pop(key, None)
        elif new:
            tables.rewrite(update.qid, key, f"{update.qid}|{window}")
        if deltas:
            for window_key, d_docs, d_mentions in deltas:
                row_key = f"{update.qid}|{window_key}"
                tables.leader_window_to_mentions[row_key] = add_to_window(
                    tables.leader_window_to_mentions.get(row_key), update, d_docs, d_mentions, rules["spike"]["top_documents"])
            tables.leader_to_mentions[update.qid] = add_to_totals(tables.leader_to_mentions.get(update.qid), update, deltas)
        counts = tables.leader_window_to_mentions.get(f"{update.qid}|{window}")
        alert = None
        if new and counts and not counts.get("alerted"):
            # also when nothing changed: a crash may have come between counting and alerting
            alert = spike(update, window, counts)
        return alert

    def spike(update: MentionUpdate, window: str, counts: dict) -> Emit | None:
        """A spike alert once per (leader, window) when the window's count crosses the rule."""
        if update.backfill and not settings.alert_backfill_spikes:
            return None
        leader = tables.leader_to_mentions.get(update.qid) or {"qid": update.qid, "name": update.name, "country": update.country}
        earlier = [(tables.leader_window_to_mentions.get(f"{update.qid}|{shift_window(window, settings.window_seconds, -k)}")
                    or {}).get("docs", 0) for k in range(rules["spike"]["baseline_windows"], 0, -1)]
        alert = spike_alert(leader, window, shift_window(window, settings.window_seconds, 1), counts["docs"], earlier,
                            counts["top"], rules, utc_now_iso(), update.backfill)
        if alert is None:
            return None

        def record_sent() -> None:
            tables.leader_window_to_mentions[f"{update.qid}|{window}"] = {**counts, "alerted": alert.alert_id}
            counters["alerts_spike"] += 1

        return Emit([(topics.alerts, alert.leaders[0].qid, alert)], then=record_sent, durable=True)

    @ctx.app.agent(topics.pages_entities, name="leaderwatch.count_mentions")
    async def count_mentions(stream):
        """pages.entities -> mention updates: what each document (newly or differently) contributes."""
        async for outcome in run_stage(ctx, stream, "mentions", count, decode=lambda value: decode_record(PageEntities, value)):
            yield outcome

    @ctx.app.agent(topics.mention_updates, name="leaderwatch.aggregate_mentions")
    async def aggregate_mentions(stream):
        """mention updates -> leader_to_mentions (totals) and leader_window_to_mentions (event-time windows)."""
        async for outcome in run_stage(ctx, stream, "mentions", aggregate, decode=lambda value: decode_record(MentionUpdate, value),
                        counter_in="mention_updates_applied", counter_out=None):
            yield outcome
