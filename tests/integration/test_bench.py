"""scripts/bench end to end on the embedded broker, small: every page through every stage, the
figures the issue asks for present, and --backlog's segments sent while the workers were stopped."""
import pytest

from tools import bench

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.own_broker]


async def test_a_small_backlog_run_takes_every_page_through_and_reports_its_pauses():
    bench.cores.cache_clear()
    try:
        figures = await bench.bench(bench.SAMPLES_DIR, pages=24, workers=1, latency_pages=6, rounds=2, backlog=True)
    finally:
        bench.cores.cache_clear()
    assert figures["backlog"] is True and figures["dead_letters"] == 0
    assert figures["distinct_doc_ids"] == 24 + 6  # each copy its own document, none lost
    assert figures["latency_pages"] == 6 and figures["latency_ms_p50"] > 0
    # one stop per segment, each far below the workers' session timeout (10 s): no rebalance
    assert len(figures["backlog_pauses_s"]) == 2 and all(0 < pause < 5 for pause in figures["backlog_pauses_s"])
    assert figures["pipeline_pages_per_s"] > 0 and figures["bare_extract_pages_per_s"] > 0 and figures["ratio"] > 0
    assert figures["text_f1"] is None or 0 < figures["text_f1"] <= 1
    # a library page the worker shares with other processes counts in its resident size in full,
    # in its proportional size in part
    assert 0 < figures["worker_pss_mb"] < figures["worker_rss_mb"]
