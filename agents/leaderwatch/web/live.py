"""The live view every worker serves: the same complete picture whichever worker is asked.

Design: a read replica in every worker. The mentions stage's tables are partitioned by leader, so
each worker's tables hold only its partitions. Every worker that runs the mentions stage also runs
one LiveView: a plain aiokafka consumer with no consumer group that is assigned every partition of

  <group>-leader_to_mentions-changelog         -> totals      qid -> {qid, name, country, docs, mentions}
  <group>-leader_window_to_mentions-changelog  -> windows     qid -> {window_start -> {docs, mentions, top, alerted}},
                                                              the newest `windows_kept` windows per leader
  alerts                                       -> alerts      the newest `alerts_kept`, by alert_id
  pages.entities                               -> evidence    per leader the newest `evidence_kept` documents
                                                              with their evidence sentences; last event time
  pages.dead                                   -> dead        dead letters by (stage, reason)

and applies each record as it comes (a changelog record sets or, with no value, deletes its key, so
re-deliveries and replays change nothing). The changelogs are what Faust itself recovers the tables
from, written by whichever worker owns the partition now, so the copy does not depend on the
consumer group at all: a rebalance or a killed worker leaves every surviving copy complete, and
the new owner's writes continue on the same topics. Sums repaired after a recovery
(MentionTables.repair) reach the changelogs at once (stages/mentions.py sends the no-op update that
writes them), so the copies agree with the owner's view.

Not a Faust GlobalTable: in faust-streaming 0.15 a GlobalTable's copies on other workers are fed as
standby partitions and are known to miss updates with several workers (faust-streaming/faust#283,
robinhood/faust#716, #751); the behaviour here is a plain consumer's, and measured in
tests/integration/test_scale.py. Not request routing either: `/mentions/` (the top of every
partition) would need every worker to answer, and a dead worker's keys none until the rebalance.
Memory: bounded by what the view shows, not by how long it has run: the totals (a few thousand
leaders), per leader its newest `windows_kept` event-time windows (a week of hourly windows: the
sparkline shows 24; older windows stay in the table), and the rings of alerts and evidence.
"""
from __future__ import annotations

import asyncio
import collections
import logging
import time
from dataclasses import dataclass, field

import orjson

from leaderwatch.kafka.clients import new_admin
from leaderwatch.kafka.reader import TopicReader
from leaderwatch.times import shift_window

log = logging.getLogger(__name__)

SPARK_WINDOWS = 24  # the sparkline: the last 24 event-time windows


@dataclass
class LiveSources:
    """The topics a LiveView reads (names), and what it keeps of them."""

    totals: str
    windows: str
    alerts: str
    entities: str
    dead: str
    window_seconds: int = 3600
    alerts_kept: int = 200
    evidence_kept: int = 10
    windows_kept: int = 168
    sentences_kept: int = 2
    # the group whose lag /live/ shows: input topic -> stages reading it
    group_id: str = ""
    inputs: dict = field(default_factory=dict)


def _key(raw: bytes | None) -> str | None:
    """A changelog key (JSON string) or a topic key (utf-8) -> str."""
    if raw is None:
        return None
    try:
        key = orjson.loads(raw)
        return key if isinstance(key, str) else str(key)
    except orjson.JSONDecodeError:
        return raw.decode("utf-8", "replace")


class LiveState:
    """What the view knows; apply() takes one record of one of the sources. No Kafka, no Faust."""

    def __init__(self, sources: LiveSources):
        self.sources = sources
        self.totals: dict[str, dict] = {}
        self.windows: dict[str, dict[str, dict]] = collections.defaultdict(dict)
        self.alerts: collections.OrderedDict[str, dict] = collections.OrderedDict()
        self.evidence: dict[str, collections.OrderedDict[str, dict]] = collections.defaultdict(collections.OrderedDict)
        self.dead: collections.Counter = collections.Counter()
        self.last_event_time: str | None = None
        self.version = 0  # +1 on every change: the page's push loop sends when it moved
        self.records = 0

    def apply(self, topic: str, key: bytes | None, value: bytes | None) -> None:
        self.records += 1
        s = self.sources
        try:
            if topic == s.totals:
                self._set_total(_key(key), orjson.loads(value) if value else None)
            elif topic == s.windows:
                self._set_window(_key(key), orjson.loads(value) if value else None)
            elif topic == s.alerts and value:
                self._add_alert(orjson.loads(value))
            elif topic == s.entities and value:
                self._add_page(orjson.loads(value))
            elif topic == s.dead and value:
                letter = orjson.loads(value)
                self.dead[(str(letter.get("stage")), str(letter.get("reason")))] += 1
            else:
                return
        except (orjson.JSONDecodeError, TypeError, AttributeError, KeyError, ValueError) as exc:
            log.warning("live view: unreadable record on %s skipped: %s", topic, exc)
            return
        self.version += 1

    def _set_total(self, qid: str | None, row: dict | None) -> None:
        if qid is None:
            return
        if row:
            self.totals[qid] = row
        else:
            self.totals.pop(qid, None)

    def _set_window(self, key: str | None, row: dict | None) -> None:
        if not key or "|" not in key:
            return
        qid, start = key.split("|", 1)
        rows = self.windows[qid]
        if not row:
            rows.pop(start, None)
            return
        rows[start] = row
        if len(rows) > self.sources.windows_kept:
            del rows[min(rows)]  # the oldest window (ISO starts sort as times); a late old one goes at once

    def _add_alert(self, alert: dict) -> None:
        self.alerts[alert["alert_id"]] = alert
        self.alerts.move_to_end(alert["alert_id"])
        while len(self.alerts) > self.sources.alerts_kept:
            self.alerts.popitem(last=False)

    def _add_page(self, page: dict) -> None:
        event_time = page.get("event_time")
        if event_time and (self.last_event_time is None or event_time > self.last_event_time):
            self.last_event_time = event_time
        for leader in page.get("leaders", []):
            ring = self.evidence[leader["qid"]]
            ring.pop(page["doc_id"], None)
            ring[page["doc_id"]] = {
                "doc_id": page["doc_id"], "url": page.get("url"), "title": page.get("title"), "event_time": event_time,
                "mentions": leader.get("mentions", 0),
                "sentences": [s[:280] for s in leader.get("sentences", [])[: self.sources.sentences_kept]]}
            while len(ring) > self.sources.evidence_kept:
                ring.popitem(last=False)

    # -- what the views show ---------------------------------------------------------------

    def top_leaders(self, limit: int | None = 20) -> list[dict]:
        """The live table (every partition), most documents first: the shape of /mentions/."""
        rows = [dict(v) for v in self.totals.values() if v and v.get("docs", 0) > 0]
        rows.sort(key=lambda r: (-r["docs"], -r["mentions"], r.get("name", "")))
        return rows if limit is None else rows[:limit]

    def leader(self, qid: str) -> dict | None:
        """One leader's totals and event-time windows, oldest first: the shape of /mentions/<qid>/."""
        totals = self.totals.get(qid)
        if not totals or totals.get("docs", 0) <= 0:
            return None
        windows = [{"window_start": start, "docs": v["docs"], "mentions": v["mentions"], "alerted": v.get("alerted")}
                   for start, v in self.windows.get(qid, {}).items() if v and v.get("docs", 0) > 0]
        return {**totals, "windows": sorted(windows, key=lambda r: r["window_start"])}

    def leader_detail(self, qid: str) -> dict | None:
        """/mentions/<qid>/ plus the documents counted in its windows and the newest evidence sentences."""
        found = self.leader(qid)
        if found is None:
            return None
        documents, seen = [], set()
        for start in sorted(self.windows.get(qid, {}), reverse=True):
            for doc in self.windows[qid][start].get("top", []):
                if doc["doc_id"] not in seen:
                    seen.add(doc["doc_id"])
                    documents.append({**doc, "window_start": start})
        evidence = list(reversed(self.evidence.get(qid, {}).values()))
        return {**found, "documents": documents, "evidence": evidence}

    def latest_window(self) -> str | None:
        starts = [start for rows in self.windows.values() for start, v in rows.items() if v and v.get("docs", 0) > 0]
        return max(starts) if starts else None

    def sparkline(self, qid: str, latest: str | None) -> list[int]:
        """Documents in each of the last SPARK_WINDOWS event-time windows, ending at the newest window
        of any leader (event time, so that every leader's line covers the same hours)."""
        if latest is None:
            return [0] * SPARK_WINDOWS
        rows = self.windows.get(qid, {})
        step = self.sources.window_seconds
        return [(rows.get(shift_window(latest, step, -k)) or {}).get("docs", 0) for k in range(SPARK_WINDOWS - 1, -1, -1)]

    def recent_alerts(self, kind: str = "", leader: str = "", limit: int = 50) -> list[dict]:
        """Newest first (by detected_at, then arrival), filtered by kind and leader qid."""
        ordered = sorted(enumerate(self.alerts.values()), key=lambda ia: (ia[1].get("detected_at", ""), ia[0]),
                         reverse=True)
        picked = [a for _, a in ordered if (not kind or a.get("kind") == kind)
                  and (not leader or any(x.get("qid") == leader for x in a.get("leaders", [])))]
        return picked[:limit]


class LiveView:
    """LiveState fed by a group-less consumer of every partition of the sources (run() as a task)."""

    def __init__(self, settings, sources: LiveSources):
        self.settings, self.sources = settings, sources
        self.state = LiveState(sources)
        self.caught_up = False  # the first catch-up with every source done
        self.caught_up_after: float | None = None  # seconds from start to that
        self.lag: dict[str, int | None] = {}  # input topic -> group lag (messages not yet committed)
        self.stopping = False
        self.changed = asyncio.Event()

    @property
    def topics(self) -> list[str]:
        s = self.sources
        return [s.totals, s.windows, s.alerts, s.entities, s.dead]

    async def run(self) -> None:
        """Read the sources until stopped; restarts the consumer after any error."""
        while not self.stopping:
            try:
                await self._consume()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("live view consumer failed; restarting in 2 s")
                await asyncio.sleep(2.0)

    async def _consume(self) -> None:
        started = time.monotonic()
        # the changelog topics appear once the worker has created them: wait for every source
        async with TopicReader(self.settings, self.topics, wait_s=float("inf"), fetch_max_wait_ms=100) as reader:
            lag_task = asyncio.ensure_future(self._watch_lag(reader.consumer))
            try:
                async for records in reader.batches(follow=True, timeout_ms=200, max_records=5000):
                    if self.stopping:
                        return
                    for record in records:
                        self.state.apply(record.topic, record.key, record.value)
                    if records:
                        self.changed.set()
                    if reader.caught_up and not self.caught_up:
                        self.caught_up, self.caught_up_after = True, round(time.monotonic() - started, 2)
                        log.info("live view caught up after %.2f s (%d records)", self.caught_up_after, self.state.records)
                        self.changed.set()
            finally:
                lag_task.cancel()

    async def _watch_lag(self, consumer) -> None:
        """Every 5 s: per input topic, messages not yet committed by the stages' consumer group."""
        from aiokafka import TopicPartition

        if not self.sources.inputs:
            return
        admin = new_admin(self.settings)
        await admin.start()
        try:
            while not self.stopping:
                try:
                    tps = [TopicPartition(t, p) for t in self.sources.inputs for p in sorted(consumer.partitions_for_topic(t) or ())]
                    ends = await consumer.end_offsets(tps)
                    committed = await admin.list_consumer_group_offsets(self.sources.group_id, partitions=tps)
                    lag = collections.Counter()
                    for tp in tps:
                        done = committed.get(tp)
                        offset = done.offset if done is not None and done.offset >= 0 else 0
                        lag[tp.topic] += max(0, ends.get(tp, 0) - offset)
                    self.lag = {t: lag[t] for t in self.sources.inputs}
                except Exception as exc:  # the page shows "n/a"; the view goes on
                    log.debug("live view: lag not known: %s", exc)
                    self.lag = {t: None for t in self.sources.inputs}
                await asyncio.sleep(5.0)
        finally:
            await admin.close()


def install_live_view(ctx) -> LiveView | None:
    """A LiveView for a worker that runs the mentions stage (whose changelogs it reads); None otherwise."""
    if ctx.mentions is None:
        return None
    settings, app = ctx.settings, ctx.app
    tables = ctx.mentions
    inputs = {}
    for stage, topic in (("clean", settings.topic_raw), ("extract", settings.topic_clean),
                         ("mentions", settings.topic_entities), ("alert", settings.topic_entities),
                         ("mentions", settings.topic_mention_updates)):
        if stage in settings.stages:
            inputs.setdefault(topic, []).append(stage)
    sources = LiveSources(
        totals=tables.leader_to_mentions.changelog_topic.get_topic_name(),
        windows=tables.leader_window_to_mentions.changelog_topic.get_topic_name(),
        alerts=settings.topic_alerts, entities=settings.topic_entities, dead=settings.topic_dead,
        window_seconds=settings.window_seconds, windows_kept=settings.live_windows_kept, group_id=settings.group_id,
        inputs=inputs)
    live = LiveView(settings, sources)

    @app.task
    async def live_view_consumer():
        await live.run()

    @app.on_before_shutdown.connect
    async def stop_live_view(sender, **kwargs):
        live.stopping = True
        live.changed.set()

    return live
