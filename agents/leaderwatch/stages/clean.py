"""pages.raw (bytes: PageFetched JSON) -> pages.clean (PageCleaned); rejects -> pages.dead.

Cleaning (trafilatura) is the pipeline's CPU: with LEADERWATCH_CLEAN_PROCESSES=N > 0 it runs in
a pool of N processes (spawned; they import the pure core only, no Faust), up to 2N pages in
flight, sent and acknowledged in arrival order; with 0 in the worker's event loop (a thread would
only add hand-offs and GIL contention: bench CPU-time ratio 0.65-0.71 in a thread, 0.82 inline).
"""
from __future__ import annotations

from leaderwatch.pipeline.clean import CleanOptions, clean_message
from leaderwatch.stages.runner import StageContext, run_stage


def register(ctx: StageContext) -> None:
    settings, topics = ctx.settings, ctx.topics
    options = CleanOptions(max_page_bytes=settings.max_page_bytes, backfill_age_seconds=settings.backfill_age_seconds)

    def sent_to(page) -> list:
        return [(topics.pages_clean, page.doc_id, page)]

    @ctx.app.agent(topics.pages_raw, name="leaderwatch.clean_pages")
    async def clean_pages(stream):
        """pages.raw -> pages.clean: validate the envelope, extract article text with trafilatura."""
        if settings.clean_processes > 0:
            from leaderwatch.stages.runner import run_pooled_stage

            await run_pooled_stage(ctx, stream, "clean", clean_message, (options, settings.schemas_dir), sent_to,
                                   processes=settings.clean_processes)
            return
        def clean(value: bytes) -> list:
            return sent_to(clean_message(value, options, settings.schemas_dir))

        async for outcome in run_stage(ctx, stream, "clean", clean):
            yield outcome
