"""Read-only JSON views on the worker's web server (LEADERWATCH_WEB_HOST:LEADERWATCH_WEB_PORT).

GET /mentions/?top=N        the live table: leaders by documents
GET /mentions/{qid}/        one leader: totals and event-time windows
GET /progress/              per-worker counters (events in/out per stage, dead letters, alerts)
GET /health/                200 {"ready": true} once this worker has its partitions, else 503
GET /metrics                Prometheus: Faust's monitor and the pipeline counters (agents/metrics.py)
Tables are partitioned by leader: with several workers each answers for its own partitions.
"""
from __future__ import annotations

from agents.app import app, processed
from agents import mentions  # attributes read per request: mentions may still be importing
from agents.metrics import install_metrics


@app.page("/mentions/")
async def mentions_view(web, request):
    try:
        top = int(request.query.get("top", "20"))
    except ValueError:
        return web.json({"error": "top must be an integer"}, status=400)
    return web.json({"leaders": mentions.top_leaders(top)})


@app.page("/mentions/{qid}/")
async def leader_view(web, request, qid):
    totals = mentions.current_sum(mentions.leader_to_mentions, qid)
    if not totals:
        return web.json({"error": f"no mentions of {qid}"}, status=404)
    return web.json({**totals, "windows": mentions.leader_windows(qid)})


@app.page("/progress/")
async def progress_view(web, request):
    return web.json(dict(processed))


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


install_metrics(is_ready)  # GET /metrics (agents/metrics.py)
