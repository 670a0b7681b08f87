"""pages.clean (PageCleaned) -> pages.entities (PageEntities): leaders linked to Wikidata ids."""
from __future__ import annotations

from leaderwatch.pipeline.extract import build_matcher, extract_page
from leaderwatch.records import PageCleaned, decode_record
from leaderwatch.stages.runner import StageContext, run_stage


def register(ctx: StageContext) -> None:
    topics = ctx.topics

    @ctx.app.agent(topics.pages_clean, name="leaderwatch.extract_leaders")
    async def extract_leaders(stream):
        """pages.clean -> pages.entities: find the leaders each page names, linked to Wikidata."""
        matcher = build_matcher(ctx.settings.gazetteer_file)

        def extract(page: PageCleaned) -> list:
            entities = extract_page(page, matcher)
            ctx.counters["leaders_found"] += len(entities.leaders)
            return [(topics.pages_entities, entities.doc_id, entities)]

        async for outcome in run_stage(ctx, stream, "extract", extract, decode=lambda value: decode_record(PageCleaned, value)):
            yield outcome
