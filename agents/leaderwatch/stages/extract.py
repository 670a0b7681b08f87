"""pages.clean (PageCleaned) -> pages.entities (PageEntities): leaders linked to Wikidata ids.

The matcher is built from the bundled gazetteer merged with the leader updates on the compacted
topic leaderwatch.leaders (`leaderwatch leaders update FILE`; key qid, value a gazetteer record,
leaders/updates.py). Every extract worker reads that topic whole, outside any consumer group, before
its first page and then follows it: a new leader is linked on the next page after the update.
"""
from __future__ import annotations

import asyncio
import logging
import time

import orjson

from leaderwatch.kafka.reader import TopicReader
from leaderwatch.leaders.gazetteer import load_countries, load_rows
from leaderwatch.leaders.matcher import LeaderMatcher
from leaderwatch.leaders.updates import updated_gazetteer
from leaderwatch.pipeline.extract import build_matcher, extract_page
from leaderwatch.records import PageCleaned, decode_record
from leaderwatch.stages.runner import StageContext, run_stage

log = logging.getLogger(__name__)


# leader updates are rare: an idle poll of the leaders topic twice a second, not 50 times (the
# embedded broker holds an empty fetch for the whole wait; at 20 ms an idle worker's polls took
# ~10% of a core between broker and worker). An update is followed within half a second.
LEADERS_FETCH_WAIT_MS = 500


class LeaderBook:
    """The current matcher: the bundled gazetteer (or LEADERWATCH_GAZETTEER_FILE) + updates."""

    def __init__(self, gazetteer_file: str = ""):
        self.gazetteer_file = gazetteer_file
        self.updates: dict[str, dict] = {}
        self.matcher: LeaderMatcher = build_matcher(gazetteer_file)
        self.ready = asyncio.Event()

    def apply(self, records: list[dict]) -> None:
        """Leader update records -> a new matcher over the merged gazetteer (swapped in whole)."""
        for record in records:
            self.updates[record["qid"]] = record
        base = load_rows(self.gazetteer_file or None)
        self.matcher = LeaderMatcher(updated_gazetteer(base, self.updates, load_countries()))
        log.info("leader updates applied: %d persons updated or added", len(self.updates))


async def follow_leader_updates(settings, book: LeaderBook) -> None:
    """Read the leaders topic from its start (no consumer group), apply it, set book.ready once
    caught up, then apply each new update as it comes."""
    started = time.monotonic()
    try:
        # the worker declares the topic at start; wait for it a little
        async with TopicReader(settings, settings.topic_leaders, wait_s=10.0,
                               fetch_max_wait_ms=LEADERS_FETCH_WAIT_MS) as reader:
            if not reader.partitions:
                log.warning("no topic %s: running without leader updates", settings.topic_leaders)
                return
            async for records in reader.batches(follow=True, timeout_ms=500):
                updates = [orjson.loads(record.value) for record in records if record.value]
                if updates:
                    await asyncio.to_thread(book.apply, updates)  # ~1-2 s of matcher building, off the event loop
                if reader.caught_up and not book.ready.is_set():
                    book.ready.set()
                    log.info("leader updates read in %.1f s: %d persons", time.monotonic() - started, len(book.updates))
    finally:
        book.ready.set()


def register(ctx: StageContext) -> None:
    topics = ctx.topics
    book = ctx.leaders = LeaderBook(ctx.settings.gazetteer_file)

    @ctx.app.task
    async def read_leader_updates() -> None:
        """leaderwatch.leaders -> the extract matcher: the leader updates, read whole, then followed."""
        await follow_leader_updates(ctx.settings, book)

    @ctx.app.agent(topics.pages_clean, name="leaderwatch.extract_leaders")
    async def extract_leaders(stream):
        """pages.clean -> pages.entities: find the leaders each page names, linked to Wikidata."""
        await book.ready.wait()

        def extract(page: PageCleaned) -> list:
            entities = extract_page(page, book.matcher)
            ctx.counters["leaders_found"] += len(entities.leaders)
            return [(topics.pages_entities, entities.doc_id, entities)]

        async for outcome in run_stage(ctx, stream, "extract", extract, decode=lambda value: decode_record(PageCleaned, value)):
            yield outcome
