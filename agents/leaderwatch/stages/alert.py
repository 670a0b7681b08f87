"""pages.entities (PageEntities) -> alerts (Alert): engagement and watch-list alerts, each id once.

Table alert_id_to_detected_at: alert_id -> detected_at, written (and its changelog acknowledged)
once the broker has acknowledged the alert. A SIGKILL between the two acks would still repeat the
alert when the uncommitted event is read again, so before its first page the stage also reads the
ids already on the alerts topic (its last LEADERWATCH_ALERT_DEDUPE_TAIL records per partition,
outside any consumer group): an alert the broker has is never sent again.
"""
from __future__ import annotations

import asyncio
import logging
import time

import orjson

from leaderwatch.kafka.reader import TopicReader
from leaderwatch.leaders.gazetteer import gazetteer_from
from leaderwatch.pipeline.alerts import alert_key, engagement_alerts, load_rules, watch_alerts
from leaderwatch.records import PageEntities, decode_record
from leaderwatch.stages.runner import Emit, StageContext, run_stage
from leaderwatch.times import utc_now_iso

log = logging.getLogger(__name__)


async def read_sent_alert_ids(settings, sent: set, ready: asyncio.Event) -> None:
    """The alert ids on the alerts topic (the last `alert_dedupe_tail` per partition) -> `sent`."""
    started = time.monotonic()
    try:
        async with TopicReader(settings, settings.topic_alerts, tail=settings.alert_dedupe_tail, wait_s=0.5) as reader:
            async for records in reader.batches(timeout_ms=200):
                sent.update(orjson.loads(record.value).get("alert_id") for record in records if record.value)
        log.info("alert ids already sent, read in %.1f s: %d", time.monotonic() - started, len(sent))
    finally:
        ready.set()


def register(ctx: StageContext) -> None:
    settings, topics, counters = ctx.settings, ctx.topics, ctx.counters
    alert_id_to_detected_at = ctx.app.Table("alert_id_to_detected_at", default=None, key_type=str,
                                            partitions=settings.partitions, options=settings.table_options)
    sent_before: set = set()
    ready = ctx.alerts_ready = asyncio.Event()

    @ctx.app.task
    async def read_sent_alerts() -> None:
        """alerts -> the ids already sent (read once at start, before the first page)."""
        await read_sent_alert_ids(settings, sent_before, ready)

    @ctx.app.agent(topics.pages_entities, name="leaderwatch.raise_alerts")
    async def raise_alerts(stream):
        """pages.entities -> alerts: engagement and watch-list alerts, each alert id once."""
        rules = load_rules(settings.rules_file or None)
        watch = frozenset(rules["watch"]["leaders"]) | frozenset(settings.watch_list)
        # whose titles date a sentence ("President Medvedev" in 2019): the extract stage's current
        # gazetteer when this worker runs it (leader updates included), else its own copy
        own_gazetteer = None if ctx.leaders else await asyncio.to_thread(gazetteer_from, settings.gazetteer_file)
        await ready.wait()

        def alert(page: PageEntities) -> Emit:
            now = utc_now_iso()
            fresh, seen = [], set()
            gazetteer = ctx.leaders.matcher.gazetteer if ctx.leaders else own_gazetteer
            for each in engagement_alerts(page, rules, now, gazetteer) + watch_alerts(page, watch, now):
                if alert_id_to_detected_at.get(each.alert_id) or each.alert_id in sent_before or each.alert_id in seen:
                    counters["alerts_repeated"] += 1
                    continue
                seen.add(each.alert_id)
                fresh.append(each)

            def record_sent() -> None:
                for each in fresh:
                    alert_id_to_detected_at[each.alert_id] = each.detected_at
                    counters[f"alerts_{each.kind}"] += 1

            return Emit([(topics.alerts, alert_key(each), each) for each in fresh], then=record_sent, durable=bool(fresh))

        async for outcome in run_stage(ctx, stream, "alert", alert, decode=lambda value: decode_record(PageEntities, value)):
            yield outcome
