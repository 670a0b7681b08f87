"""pages.entities (PageEntities) -> alerts (Alert): engagement and watch-list alerts, each id once.

Table alert_id_to_detected_at: alert_id -> detected_at, written once the broker has acknowledged
the alert (a crash in between repeats it; consumers dedupe on alert_id; it is never lost).
"""
from __future__ import annotations

from leaderwatch.pipeline.alerts import alert_key, engagement_alerts, load_rules, watch_alerts
from leaderwatch.records import PageEntities, decode_record
from leaderwatch.stages.runner import Emit, StageContext, run_stage
from leaderwatch.times import utc_now_iso


def register(ctx: StageContext) -> None:
    settings, topics, counters = ctx.settings, ctx.topics, ctx.counters
    alert_id_to_detected_at = ctx.app.Table("alert_id_to_detected_at", default=None, key_type=str,
                                            partitions=settings.partitions)

    @ctx.app.agent(topics.pages_entities, name="leaderwatch.raise_alerts")
    async def raise_alerts(stream):
        """pages.entities -> alerts: engagement and watch-list alerts, each alert id once."""
        rules = load_rules(settings.rules_file or None)
        watch = frozenset(rules["watch"]["leaders"]) | frozenset(settings.watch_list)

        def alert(page: PageEntities) -> Emit:
            now = utc_now_iso()
            fresh, seen = [], set()
            for each in engagement_alerts(page, rules, now) + watch_alerts(page, watch, now):
                if alert_id_to_detected_at.get(each.alert_id) or each.alert_id in seen:
                    counters["alerts_repeated"] += 1
                    continue
                seen.add(each.alert_id)
                fresh.append(each)

            def record_sent() -> None:
                for each in fresh:
                    alert_id_to_detected_at[each.alert_id] = each.detected_at
                    counters[f"alerts_{each.kind}"] += 1

            return Emit([(topics.alerts, alert_key(each), each) for each in fresh], then=record_sent, durable=True)

        async for outcome in run_stage(ctx, stream, "alert", alert, decode=lambda value: decode_record(PageEntities, value)):
            yield outcome
