"""/metrics: the pipeline collector always, Faust's Prometheus monitor only when asked for."""
from __future__ import annotations

import pytest


@pytest.mark.parametrize("faust_metrics", [False, True])
def test_faust_monitor_only_with_faust_metrics(faust_metrics):
    from faust.sensors.prometheus import PrometheusMonitor
    from prometheus_client import generate_latest

    from leaderwatch.__main__ import build_worker_app
    from leaderwatch.settings import Settings

    app, ctx = build_worker_app(Settings(app_id=f"metrics-{faust_metrics}", faust_metrics=faust_metrics))
    assert isinstance(app.monitor, PrometheusMonitor) is faust_metrics
    ctx.counters["clean_in"] += 3
    text = generate_latest(ctx.metrics.registry).decode()
    assert 'leaderwatch_pages_total{direction="in",stage="clean"} 3.0' in text
    assert ("faust_metrics_True_" in text) is faust_metrics  # Faust's series, prefixed with the app id
