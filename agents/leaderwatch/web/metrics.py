"""Prometheus metrics at GET /metrics: the pipeline's counters (and Faust's own monitor with
LEADERWATCH_FAUST_METRICS=true).

The pipeline counters are the worker's counters (also served as /progress/), exported by a
collector, so there is one source of truth:
  leaderwatch_pages_total{stage, direction}        direction in, out
  leaderwatch_dead_letters_total{stage, reason}
  leaderwatch_leaders_found_total                  leaders found in pages (one per page and leader)
  leaderwatch_alerts_total{kind}                   alerts sent; kind="repeated" were suppressed
  leaderwatch_documents_seen_again_total           pages already counted (replays, resends)
  leaderwatch_end_to_end_lag_seconds               fetched_at -> counted in the mentions table
  leaderwatch_gc_full_collections_total            full garbage collections (each stops the event loop)
  leaderwatch_gc_full_pause_seconds_total          the time they took; _max: the longest
"""
from __future__ import annotations

from datetime import datetime, timezone

from prometheus_client import CollectorRegistry, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from leaderwatch.settings import ALL_STAGES
from leaderwatch.times import parse_iso


class PipelineMetrics:
    """The worker's registry: the counters as metric families, the end-to-end lag histogram."""

    def __init__(self, counts, is_ready):
        self.counts, self.is_ready = counts, is_ready
        self.registry = CollectorRegistry(auto_describe=True)
        self.end_to_end_lag = Histogram(
            "leaderwatch_end_to_end_lag_seconds", "From a page's fetched_at to its mentions being counted",
            buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, float("inf")), registry=self.registry)
        self.registry.register(self)

    def observe_lag(self, fetched_at: str) -> None:
        self.end_to_end_lag.observe(max(0.0, (datetime.now(timezone.utc) - parse_iso(fetched_at)).total_seconds()))

    def collect(self):
        counts = dict(self.counts)
        pages = CounterMetricFamily("leaderwatch_pages", "Pages per stage, in and out", labels=["stage", "direction"])
        for stage in ALL_STAGES:
            for direction in ("in", "out"):
                if f"{stage}_{direction}" in counts:
                    pages.add_metric([stage, direction], counts[f"{stage}_{direction}"])
        dead = CounterMetricFamily("leaderwatch_dead_letters", "Inputs sent to the dead-letter topic", labels=["stage", "reason"])
        alerts = CounterMetricFamily("leaderwatch_alerts", "Alerts sent (kind=repeated: suppressed repeats)", labels=["kind"])
        for key, value in counts.items():
            if key.startswith("dead_"):
                stage, reason = key[5:].split("_", 1)
                dead.add_metric([stage, reason], value)
            elif key.startswith("alerts_"):
                alerts.add_metric([key[7:]], value)
        yield from (pages, dead, alerts)
        yield CounterMetricFamily("leaderwatch_leaders_found", "Leaders found (one per page and leader)", value=counts.get("leaders_found", 0))
        yield CounterMetricFamily("leaderwatch_documents_seen_again", "Pages already counted", value=counts.get("documents_seen_again", 0))
        yield CounterMetricFamily("leaderwatch_gc_full_collections", "Full garbage collections of this worker",
                                  value=counts.get("gc_full_collections", 0))
        yield CounterMetricFamily("leaderwatch_gc_full_pause_seconds", "Time the full garbage collections stopped the worker",
                                  value=counts.get("gc_full_pause_ms", 0) / 1000)
        yield GaugeMetricFamily("leaderwatch_gc_full_pause_seconds_max", "The longest full garbage collection",
                                value=counts.get("gc_full_pause_ms_max", 0) / 1000)
        yield GaugeMetricFamily("leaderwatch_ready", "1 once the worker owns its partitions", value=int(self.is_ready()))


def install_metrics(app, settings, counts, is_ready) -> PipelineMetrics:
    """The pipeline collector served at /metrics, with Faust's PrometheusMonitor when
    settings.faust_metrics (it replaces app.monitor)."""
    metrics = PipelineMetrics(counts, is_ready)
    if settings.faust_metrics:
        from faust.sensors.prometheus import setup_prometheus_sensors

        setup_prometheus_sensors(app, pattern="/metrics", registry=metrics.registry, name_prefix="faust_" + settings.group_id)
        return metrics
    from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

    @app.page("/metrics")
    async def metrics_view(web, request):
        return web.bytes(generate_latest(metrics.registry), headers={"Content-Type": CONTENT_TYPE_LATEST})

    return metrics
