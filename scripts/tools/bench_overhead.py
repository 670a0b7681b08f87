"""A page's own work in the pipeline, and the latency that is not it: `./scripts/bench`'s overhead.

  stage_cpu_ms(pages)   page_id -> CPU ms of each stage's work on that page (decode its input,
                        the stage's pure core, encode its output): clean (clean_message), extract
                        (extract_page), mentions (mention_updates), alert (engagement and
                        watch-list alerts), and their total; each the median of ROUNDS rounds,
                        timed with time.thread_time in this process (the caller pins it to the
                        worker's core while the workers are stopped)
  overhead(...)         per page of the latency phase: publish-to-out time minus that total;
                        its p50 and p99. What is left is every broker hop, fetch wait, commit and
                        flush, Faust's own per-event work, and the time a page queues behind other
                        pages in the worker's one loop
  cpu_wait_s(pids)      how long the workers' threads have waited runnable for a core (the
                        kernel's schedstat run_delay): the part of the overhead that is other
                        load on the machine, not the pipeline (the bench reports it per page)

Why measured here and not in the worker: no record carries a timing field, and a per-page timer
in the stages would add a field to every topic's contract. The same functions run on the same
page bytes on the same core, so the figure is the stages' core CPU as the worker spends it, less
what a cold cache costs the worker (the median of ROUNDS warm rounds: if anything the overhead is
counted a little high, never hidden).
"""
from __future__ import annotations

import functools
import statistics
import time

ROUNDS = 3
STAGES = ("clean", "extract", "mentions", "alert")


@functools.cache
def _cores():
    """What the extract and alert stages hold once per worker: matcher, rules, watch list."""
    from leaderwatch.pipeline.alerts import load_rules
    from leaderwatch.pipeline.extract import build_matcher

    rules = load_rules(None)
    return build_matcher(), rules, frozenset(rules["watch"]["leaders"])


def _one_page(value: bytes) -> dict[str, float]:
    """CPU seconds of each stage's work on one pages.raw value (stages after a rejected clean: 0)."""
    from leaderwatch.pipeline.alerts import engagement_alerts, watch_alerts
    from leaderwatch.pipeline.clean import clean_message
    from leaderwatch.pipeline.envelope import CleanOptions
    from leaderwatch.pipeline.extract import extract_page
    from leaderwatch.pipeline.mentions import mention_updates
    from leaderwatch.records import PageCleaned, PageEntities, Rejected, decode_record, encode

    matcher, rules, watch = _cores()
    spent = dict.fromkeys(STAGES, 0.0)
    clock = time.thread_time
    start = clock()
    try:
        cleaned = encode(clean_message(value, CleanOptions()))
    except Rejected:
        spent["clean"] = clock() - start
        return spent
    spent["clean"] = (now := clock()) - start
    entities = encode(extract_page(decode_record(PageCleaned, cleaned), matcher))
    spent["extract"] = (start := clock()) - now
    [encode(u) for u in mention_updates(decode_record(PageEntities, entities), None)]
    spent["mentions"] = (now := clock()) - start
    page = decode_record(PageEntities, entities)
    [encode(a) for a in engagement_alerts(page, rules, "2025-01-01T00:00:00Z", matcher.gazetteer)
     + watch_alerts(page, watch, "2025-01-01T00:00:00Z")]
    spent["alert"] = clock() - now
    return spent


def stage_cpu_ms(pages: list[tuple[str, bytes]], rounds: int = ROUNDS) -> dict[str, dict[str, float]]:
    """page_id -> {stage: CPU ms, ..., "total": ms} over (page_id, pages.raw value) pairs, each
    stage the median of `rounds` rounds. The first call builds the matcher (~1-2 s): warm it."""
    timed = {page_id: [_one_page(value) for _ in range(rounds)] for page_id, value in pages}
    result = {}
    for page_id, runs in timed.items():
        each = {stage: round(statistics.median(r[stage] for r in runs) * 1000, 2) for stage in STAGES}
        result[page_id] = {**each, "total": round(sum(each.values()), 2)}
    return result


def overhead(latency_ms: dict[str, int], page_of: dict[str, str], cpu: dict[str, dict[str, float]]) -> dict:
    """The latency phase's overhead: per url, its latency minus its corpus page's stage CPU."""
    from tools.bench import percentile

    left = [latency_ms[url] - cpu[page_of[url]]["total"] for url in latency_ms if page_of[url] in cpu]
    totals = [c["total"] for c in cpu.values()]
    return {
        "overhead_ms_p50": _ms(percentile(left, 0.5)), "overhead_ms_p99": _ms(percentile(left, 0.99)),
        # a corpus page's CPU in all stages (p50/p99/max) and each stage's p50: what the overhead leaves out
        "stage_cpu_ms_p50_p99_max": [_ms(percentile(totals, q)) for q in (0.5, 0.99, 1.0)],
        "stage_cpu_ms_p50": {stage: _ms(percentile([c[stage] for c in cpu.values()], 0.5)) for stage in STAGES},
    }


def cpu_wait_s(pids: list[int]) -> float:
    """Seconds the threads of `pids` and their descendants have spent runnable but not running."""
    from pathlib import Path

    from tools.bench import process_tree

    total = 0
    for pid in (each for pid in pids for each in process_tree(pid)):
        try:
            tasks = list(Path(f"/proc/{pid}/task").iterdir())
        except OSError:
            continue
        for task in tasks:
            try:
                total += int((task / "schedstat").read_text().split()[1])
            except (OSError, IndexError, ValueError):
                pass
    return total / 1e9


def _ms(value):
    return None if value is None else round(value, 1)
