"""scripts/bench end to end, small: every page through every stage, the figures the issue asks for
present, --backlog's segments sent while the workers were stopped (embedded broker), and the same
run on a one-node Apache Kafka it starts (skipped where java, or Kafka's jars and mvn, are missing)."""
import shutil

import pytest

from tools import bench
from tools.kafka_cluster import cache_dir

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.own_broker]


def assert_every_page_through(figures, pages: int, latency_pages: int) -> None:
    assert figures["dead_letters"] == 0
    assert figures["distinct_doc_ids"] == pages + latency_pages  # each copy its own document, none lost
    assert figures["latency_pages"] == latency_pages and figures["latency_ms_p50"] > 0
    assert figures["pipeline_pages_per_s"] > 0 and figures["bare_extract_pages_per_s"] > 0 and figures["ratio"] > 0
    # the latency less the page's own stage CPU: positive stage CPU, an overhead below the latency
    assert figures["stage_cpu_ms_p50_p99_max"][0] > 0 and figures["stage_cpu_ms_p50"]["clean"] > 0
    assert figures["overhead_ms_p50"] < figures["latency_ms_p50"] and figures["overhead_ms_p99"] <= figures["latency_ms_p99"]


async def test_a_small_backlog_run_takes_every_page_through_and_reports_its_pauses():
    bench.cores.cache_clear()
    try:
        figures = await bench.bench(bench.SAMPLES_DIR, pages=24, workers=1, latency_pages=6, rounds=2, backlog=True)
    finally:
        bench.cores.cache_clear()
    assert figures["backlog"] is True and figures["broker"] == "embedded" and figures["producer_batch_bytes"] == 1
    assert_every_page_through(figures, 24, 6)
    # one stop per segment, each far below the workers' session timeout (10 s): no rebalance
    assert len(figures["backlog_pauses_s"]) == 2 and all(0 < pause < 5 for pause in figures["backlog_pauses_s"])
    assert figures["text_f1"] is None or 0 < figures["text_f1"] <= 1
    # a library page the worker shares with other processes counts in its resident size in full,
    # in its proportional size in part
    assert 0 < figures["worker_pss_mb"] < figures["worker_rss_mb"]


KAFKA_MISSING = ("java not found" if not shutil.which("java") else
                 "Kafka's jars not installed and no mvn to fetch them" if not ((cache_dir() / ".installed").is_file()
                                                                              or shutil.which("mvn")) else "")


@pytest.mark.skipif(bool(KAFKA_MISSING), reason=f"Apache Kafka cannot run here: {KAFKA_MISSING}")
async def test_a_small_run_on_one_kafka_node_gives_the_same_figures_with_normal_batching():
    bench.cores.cache_clear()  # ~40 s: the node starts in a few seconds
    try:
        figures = await bench.bench(bench.SAMPLES_DIR, pages=24, workers=1, latency_pages=6, rounds=2, kafka_nodes=1)
    finally:
        bench.cores.cache_clear()
    assert figures["broker"] == "kafka-1" and figures["replicas"] == 1
    assert figures["producer_batch_bytes"] == 16384  # batch size 1 is the embedded broker's workaround
    assert_every_page_through(figures, 24, 6)
    assert figures["phase1_cpu_s"]["broker"] > 0  # the JVM's CPU is counted as the broker's
