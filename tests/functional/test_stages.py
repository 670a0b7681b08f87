"""Each stage through its agent (test_context, memory store): decode -> core -> send or dead-letter -> count."""
from __future__ import annotations

import orjson
import pytest

from leaderwatch.ops.ingest import page_envelope
from leaderwatch.pipeline.clean import clean_page
from leaderwatch.pipeline.extract import build_matcher, extract_page
from leaderwatch.records import PageCleaned, encode

from tests.conftest import TAKAICHI_PAGE

pytestmark = pytest.mark.asyncio


def takaichi_envelope() -> bytes:
    envelope = page_envelope(TAKAICHI_PAGE, fetched_at="2025-11-14T08:00:00Z")
    return orjson.dumps(envelope)


async def test_clean_sends_a_page_and_dead_letters_bad_envelopes(stage_app):
    app, ctx, sent = stage_app(stages=("clean",))
    agent = app.agents["leaderwatch.clean_pages"]
    async with agent.test_context() as stage:
        good = await stage.put(takaichi_envelope(), key=b"u1")
        await stage.put(b"{not json", key=b"u2")
        await stage.put(orjson.dumps({"url": "x", "body": "<p>hi</p>"}), key=b"u3")  # fetched_at missing
    assert list(stage.results.values()) == ["ok", "dead:malformed_envelope", "dead:schema_invalid"]
    [page] = sent.values_of(ctx.settings.topic_clean)
    assert page["title"] == "Japan's PM eyes face-to-face talks with Kim Jong Un" and page["event_time"].startswith("2025-11-14")
    dead = sent.values_of(ctx.settings.topic_dead)
    assert [d["reason"] for d in dead] == ["malformed_envelope", "schema_invalid"]
    assert dead[0]["input"] == "{not json" and dead[0]["key"] == "u2" and dead[0]["stage"] == "clean"
    assert ctx.counters["clean_in"] == 3 and ctx.counters["clean_out"] == 1
    assert good.message.key == b"u1"


async def cleaned_page() -> PageCleaned:
    return clean_page(orjson.loads(takaichi_envelope()))


async def test_extract_links_takaichi_and_kim(stage_app):
    app, ctx, sent = stage_app(stages=("extract",))
    ctx.leaders.ready.set()  # no app tasks run under test_context: the leaders topic reader is not there
    page = await cleaned_page()
    async with app.agents["leaderwatch.extract_leaders"].test_context() as stage:
        await stage.put(encode(page), key=page.doc_id.encode())
        await stage.put(b'{"doc_id": 7}', key=b"bad")
    assert list(stage.results.values()) == ["ok", "dead:schema_invalid"]
    [(key, entities)] = sent[ctx.settings.topic_entities]
    assert key == page.doc_id
    assert {(l["name"], l["country"]) for l in entities["leaders"]} >= {("Sanae Takaichi", "JP"), ("Kim Jong-un", "KP")}
    assert ctx.counters["leaders_found"] == len(entities["leaders"])


async def test_alert_raises_the_engagement_once(stage_app):
    app, ctx, sent = stage_app(stages=("alert",))
    ctx.alerts_ready.set()  # no app tasks under test_context: the reader of sent alert ids is not there
    entities = extract_page(await cleaned_page(), build_matcher())
    async with app.agents["leaderwatch.raise_alerts"].test_context() as stage:
        await stage.put(encode(entities), key=entities.doc_id.encode())
        await stage.put(encode(entities), key=entities.doc_id.encode())  # the same page again: no repeat
    alerts = sent.values_of(ctx.settings.topic_alerts)
    assert [a["kind"] for a in alerts] == ["engagement"]
    assert {l["name"] for l in alerts[0]["leaders"]} == {"Sanae Takaichi", "Kim Jong-un"}
    assert sent[ctx.settings.topic_alerts][0][0] == alerts[0]["leaders"][0]["qid"]  # keyed by the first leader
    assert ctx.counters["alerts_engagement"] == 1 and ctx.counters["alerts_repeated"] == 1


async def test_an_alert_only_worker_dates_a_sentence_by_its_titles_with_its_own_gazetteer(stage_app):
    """No extract stage in this worker: the alert stage loads the gazetteer itself, so "Russia's
    President Medvedev" on a 2019 page (prime minister then) marks the engagement historical."""
    app, ctx, sent = stage_app(stages=("alert",))
    ctx.alerts_ready.set()
    assert ctx.leaders is None
    text = "Leaders spoke.\n\nObama made a phone call to Russia's President Medvedev about missile defence."
    page = clean_page({"url": "https://news.example/2019/call", "body": text, "content_type": "text/plain",
                       "fetched_at": "2019-11-19T12:00:00Z", "published_at": "2019-11-19T06:00:00Z"})
    entities = extract_page(page, build_matcher())
    async with app.agents["leaderwatch.raise_alerts"].test_context() as stage:
        await stage.put(encode(entities), key=entities.doc_id.encode())
    (alert,) = sent.values_of(ctx.settings.topic_alerts)
    assert {l["name"] for l in alert["leaders"]} == {"Barack Obama", "Dmitry Medvedev"}
    assert alert["details"]["historical"] is True


async def test_mentions_counts_a_page_once_and_replaces_a_corrected_one(stage_app):
    app, ctx, sent = stage_app(stages=("mentions",))
    entities = extract_page(await cleaned_page(), build_matcher())
    async with app.agents["leaderwatch.count_mentions"].test_context() as counting:
        await counting.put(encode(entities), key=entities.doc_id.encode())
        await counting.put(encode(entities), key=entities.doc_id.encode())  # unchanged: nothing sent
    updates = sent[ctx.settings.topic_mention_updates]
    assert sorted(key for key, _ in updates) == sorted(l.qid for l in entities.leaders)
    assert ctx.counters["documents_seen_again"] == 1
    async with app.agents["leaderwatch.aggregate_mentions"].test_context() as aggregating:
        for key, update in updates + updates:  # re-delivered: counted once
            await aggregating.put(orjson.dumps(update), key=key.encode())
        takaichi = next(l for l in entities.leaders if l.name == "Sanae Takaichi")
        row = ctx.mentions.leader(takaichi.qid)
        assert (row["docs"], row["mentions"]) == (1, takaichi.mentions)
        assert row["windows"][0]["window_start"] == "2025-11-14T06:00:00Z"
        corrected = {**updates[0][1], "mentions": updates[0][1]["mentions"] + 4}
        await aggregating.put(orjson.dumps(corrected), key=updates[0][0].encode())
        row = ctx.mentions.leader(updates[0][0])
        assert row["docs"] == 1 and row["mentions"] == updates[0][1]["mentions"] + 4
        top = ctx.mentions.leader_window_to_mentions[f"{updates[0][0]}|2025-11-14T06:00:00Z"]["top"]
        assert [d["doc_id"] for d in top] == [entities.doc_id]  # listed once after the correction
    assert {r["qid"] for r in ctx.mentions.top_leaders()} == {key for key, _ in updates}
