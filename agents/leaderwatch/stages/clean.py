"""pages.raw (bytes: PageFetched JSON) -> pages.clean (PageCleaned); rejects -> pages.dead.

Cleaning (trafilatura) is the pipeline's CPU. With LEADERWATCH_CLEAN_PROCESSES=0 (the default) it
runs in the worker's event loop: the least CPU a page. With N > 0 it runs in N child processes fed
through pipes by the event loop (stages/pool.py; they import the pure core only, no Faust, and the
worker's own process does not import trafilatura), up to
2N pages in flight, each sent and acknowledged once cleaned, in arrival order per message key (a
page's versions; runner.InKeyOrder): the loop stays free for the other stages while a page is
cleaned, so a page's entities and alerts do not wait behind the next page's cleaning, and with
N >= 2 a quick page does not wait behind a slow one (scripts/bench, one core, N=1: the later hops'
p99 ~20 ms instead of ~50, at ~0.87x the throughput; the page's own cleaning and the broker's
fetch waits remain).
"""
from __future__ import annotations

from leaderwatch.pipeline.envelope import CleanOptions
from leaderwatch.stages.runner import StageContext, run_pooled_stage, run_stage


def register(ctx: StageContext) -> None:
    settings, topics = ctx.settings, ctx.topics
    options = CleanOptions(max_page_bytes=settings.max_page_bytes, backfill_age_seconds=settings.backfill_age_seconds)

    if settings.clean_processes == 0:  # trafilatura only where the loop cleans, imported before the start-up GC freeze
        from leaderwatch.pipeline.clean import clean_message

    def sent_to(page) -> list:
        return [(topics.pages_clean, page.doc_id, page)]

    @ctx.app.agent(topics.pages_raw, name="leaderwatch.clean_pages")
    async def clean_pages(stream):
        """pages.raw -> pages.clean: validate the envelope, extract article text with trafilatura."""
        if settings.clean_processes > 0:
            await run_pooled_stage(ctx, stream, "clean", "leaderwatch.pipeline.clean:clean_message",
                                   (options, settings.schemas_dir), sent_to, processes=settings.clean_processes)
            return

        def clean(value: bytes) -> list:
            return sent_to(clean_message(value, options, settings.schemas_dir))

        async for outcome in run_stage(ctx, stream, "clean", clean):
            yield outcome
