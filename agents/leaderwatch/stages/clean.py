"""pages.raw (bytes: PageFetched JSON) -> pages.clean (PageCleaned); rejects -> pages.dead."""
from __future__ import annotations

from leaderwatch.pipeline.clean import CleanOptions, clean_page, parse_envelope
from leaderwatch.schemas import validator_for
from leaderwatch.stages.runner import StageContext, run_stage


def register(ctx: StageContext) -> None:
    settings, topics = ctx.settings, ctx.topics
    validator = validator_for("pages.raw.v1.json", settings.schemas_dir)
    options = CleanOptions(max_page_bytes=settings.max_page_bytes, backfill_age_seconds=settings.backfill_age_seconds)

    def clean(value: bytes) -> list:
        page = clean_page(parse_envelope(value, validator, settings.max_page_bytes), options)
        return [(topics.pages_clean, page.doc_id, page)]

    @ctx.app.agent(topics.pages_raw, name="leaderwatch.clean_pages")
    async def clean_pages(stream):
        """pages.raw -> pages.clean: validate the envelope, extract article text with trafilatura."""
        async for outcome in run_stage(ctx, stream, "clean", clean, in_thread=True):
            yield outcome
