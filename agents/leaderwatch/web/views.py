"""Read-only JSON views on the worker's web server (LEADERWATCH_WEB_HOST:LEADERWATCH_WEB_PORT).

GET /                       the live page (web/page.py, static/): leaders, alerts, pipeline health
GET /live/events            Server-Sent Events: the page's sections whenever they change
GET /live/leader/{qid}/     one leader's panel (HTML fragment): windows, documents, evidence
GET /live/state/            the page's data as JSON (leaders with sparklines, alerts, health)
GET /mentions/?top=N        the live table: leaders by documents
GET /mentions/{qid}/        one leader: totals and event-time windows
GET /progress/              per-worker counters (events in/out per stage, dead letters, alerts,
                            objects frozen at start, full garbage collections and their pauses)
GET /health/                200 {"ready": true} once this worker has its partitions, else 503
GET /metrics                Prometheus: Faust's monitor and the pipeline counters (web/metrics.py)
Tables are partitioned by leader, but every worker that runs the mentions stage answers for every
leader: /, /mentions/ and /mentions/{qid}/ read its LiveView (web/live.py), a copy of the sum
tables kept from their changelogs by a consumer of every partition. A worker without the mentions
stage answers /mentions/ with no leaders.
"""
from __future__ import annotations

import asyncio
import time
from pathlib import Path

import orjson

from leaderwatch.gcpauses import FullCollections, freeze_startup_objects
from leaderwatch.stages.runner import StageContext
from leaderwatch.web.live import install_live_view
from leaderwatch.web.metrics import install_metrics
from leaderwatch.web.page import render_detail, render_page, render_sections

STATIC_DIR = Path(__file__).resolve().parent / "static"
EVENT_STREAM_SECONDS = 120  # then the browser reconnects (EventSource does), maybe to another worker

MAX_TOP = 10_000  # /mentions/?top=N: 1..MAX_TOP, else 400


def register_views(ctx: StageContext) -> None:
    app = ctx.app
    live = install_live_view(ctx)

    @app.page("/")
    async def live_page(web, request):
        q = request.query
        return web.html(render_page(live, ctx.counters, ctx.settings, kind=q.get("kind", ""),
                                    alert_leader=q.get("alert_leader", ""), leader=q.get("leader", "")),
                        headers={"Cache-Control": "no-store"})

    @app.page("/live/leader/{qid}/")
    async def live_leader(web, request, qid):
        detail = live.state.leader_detail(qid) if live else None
        return web.html(render_detail(detail, qid), status=200 if detail else 404, headers={"Cache-Control": "no-store"})

    @app.page("/live/state/")
    async def live_state(web, request):
        if live is None:
            return web.json({"error": "this worker does not run the mentions stage"}, status=404)
        state = live.state
        latest = state.latest_window()
        leaders = [{**row, "sparkline": state.sparkline(row["qid"], latest)} for row in state.top_leaders(None)]
        return web.json({"caught_up": live.caught_up, "caught_up_after": live.caught_up_after, "version": state.version, "latest_window": latest,
                         "leaders": leaders, "alerts": state.recent_alerts(limit=len(state.alerts)),
                         "dead_letters": [{"stage": s, "reason": r, "count": n} for (s, r), n in sorted(state.dead.items())],
                         "lag": live.lag, "last_event_time": state.last_event_time, "counters": dict(ctx.counters)})

    @app.page("/live/events")
    async def live_events(web, request):
        """Server-Sent Events: event "sections" with the page's fragments when they change (checked
        every 0.5 s), a comment every 15 s to keep proxies from closing the stream."""
        from aiohttp import web as aioweb

        response = aioweb.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store",
                                                  "X-Accel-Buffering": "no"})
        await response.prepare(request)
        await response.write(b"retry: 1500\n\n")
        if live is None:
            return response
        last, started, beat = None, time.monotonic(), time.monotonic()
        try:
            while not live.stopping and time.monotonic() - started < EVENT_STREAM_SECONDS:
                sections = render_sections(live, ctx.counters)
                payload = orjson.dumps(sections)
                if payload != last:
                    await response.write(b"event: sections\ndata: " + payload + b"\n\n")
                    last, beat = payload, time.monotonic()
                elif time.monotonic() - beat > 15:
                    await response.write(b": keep-alive\n\n")
                    beat = time.monotonic()
                live.changed.clear()
                try:
                    await asyncio.wait_for(live.changed.wait(), timeout=0.5)
                except asyncio.TimeoutError:
                    pass
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        return response

    app.web.add_static("/static/", STATIC_DIR)

    @app.page("/mentions/")
    async def mentions_view(web, request):
        try:
            top = int(request.query.get("top", "20"))
        except ValueError:
            return web.json({"error": "top must be an integer"}, status=400)
        if not 1 <= top <= MAX_TOP:
            return web.json({"error": f"top must be between 1 and {MAX_TOP}"}, status=400)
        return web.json({"leaders": live.state.top_leaders(top) if live else []})

    @app.page("/mentions/{qid}/")
    async def leader_view(web, request, qid):
        found = live.state.leader(qid) if live else None
        if not found:
            return web.json({"error": f"no mentions of {qid}"}, status=404)
        return web.json(found)

    @app.page("/progress/")
    async def progress_view(web, request):
        return web.json(dict(ctx.counters))

    def is_ready() -> bool:
        """True once the consumer has joined its group and owns partitions, outside a rebalance."""
        consumer = getattr(app, "_consumer", None)
        if consumer is None or app.rebalancing:
            return False
        try:
            return bool(consumer.assignment())
        except Exception:
            return False

    @app.page("/health/")
    async def health_view(web, request):
        ready = is_ready()
        return web.json({"ready": ready}, status=200 if ready else 503)

    ctx.metrics = install_metrics(app, ctx.settings, ctx.counters, is_ready)

    @app.task
    async def watch_garbage_collector() -> None:
        """At the worker's start: what it holds so far frozen out of later full garbage collections
        (LEADERWATCH_GC_FREEZE; counter gc_frozen_objects), then those collections and their
        pauses counted (leaderwatch.gcpauses)."""
        if ctx.settings.gc_freeze:
            ctx.counters["gc_frozen_objects"] = freeze_startup_objects()
        FullCollections(ctx.counters).install()
