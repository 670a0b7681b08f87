"""Read-only JSON views on the worker's web server (LEADERWATCH_WEB_HOST:LEADERWATCH_WEB_PORT).

GET /mentions/?top=N        the live table: leaders by documents
GET /mentions/{qid}/        one leader: totals and event-time windows
GET /progress/              per-worker counters (events in/out per stage, dead letters, alerts)
GET /health/                200 {"ready": true} once this worker has its partitions, else 503
GET /metrics                Prometheus: Faust's monitor and the pipeline counters (web/metrics.py)
Tables are partitioned by leader: with several workers each answers for its own partitions.
"""
from __future__ import annotations

from leaderwatch.stages.runner import StageContext
from leaderwatch.web.metrics import install_metrics

MAX_TOP = 10_000  # /mentions/?top=N: 1..MAX_TOP, else 400


def register_views(ctx: StageContext) -> None:
    app = ctx.app

    @app.page("/mentions/")
    async def mentions_view(web, request):
        try:
            top = int(request.query.get("top", "20"))
        except ValueError:
            return web.json({"error": "top must be an integer"}, status=400)
        if not 1 <= top <= MAX_TOP:
            return web.json({"error": f"top must be between 1 and {MAX_TOP}"}, status=400)
        return web.json({"leaders": ctx.mentions.top_leaders(top) if ctx.mentions else []})

    @app.page("/mentions/{qid}/")
    async def leader_view(web, request, qid):
        found = ctx.mentions.leader(qid) if ctx.mentions else None
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
