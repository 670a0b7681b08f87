"""One faust.Record per topic, in flow order; the wire JSON of each matches schemas/<topic>.v1.json.

pages.raw (PageFetched) -> pages.clean (PageCleaned) -> pages.entities (PageEntities)
  -> alerts (Alert); every stage's rejects -> pages.dead (DeadLetter).
Times are ISO 8601 UTC strings ("2025-11-14T09:30:00Z").
"""
from __future__ import annotations

from typing import List, Optional

import faust

from agents import codec  # noqa: F401  (registers the "orjson" codec)

# no "__faust" key on the wire; explicit namespaces keep wire names stable across refactors
_WIRE = dict(include_metadata=False, serializer="orjson")


class PageFetched(faust.Record, namespace="leaderwatch.PageFetched", **_WIRE):
    """pages.raw: a fetched page as the crawler saw it (HTML or plain text)."""

    url: Optional[str]
    fetched_at: str
    body: str
    content_type: str = "text/html"
    published_at: Optional[str] = None
    source: Optional[str] = None
    backfill: bool = False


class PageCleaned(faust.Record, namespace="leaderwatch.PageCleaned", **_WIRE):
    """pages.clean: the article text and metadata trafilatura found, keyed by doc_id."""

    doc_id: str
    url: Optional[str]
    title: Optional[str]
    site: Optional[str]
    language: Optional[str]
    published_at: Optional[str]
    fetched_at: str
    event_time: str
    text: str
    content_hash: str
    backfill: bool = False
    description: Optional[str] = None  # the page's own summary (meta description), often the lede


class LeaderFound(faust.Record, namespace="leaderwatch.LeaderFound", **_WIRE):
    """One leader in one document, with the evidence."""

    qid: str
    name: str
    country: str
    office: Optional[str]
    mentions: int
    surfaces: List[str]
    offsets: List[List[int]]
    sentence_ids: List[int]
    sentences: List[str]


class PageEntities(faust.Record, namespace="leaderwatch.PageEntities", **_WIRE):
    """pages.entities: the leaders found in one cleaned page."""

    doc_id: str
    url: Optional[str]
    title: Optional[str]
    language: Optional[str]
    event_time: str
    fetched_at: str
    content_hash: str
    leaders: List[LeaderFound]
    backfill: bool = False


class MentionUpdate(faust.Record, namespace="leaderwatch.MentionUpdate", **_WIRE):
    """Internal, keyed by qid: "document doc_id now contributes `mentions` to leader qid".

    mentions == 0 withdraws the document's earlier contribution (a corrected page).
    """

    qid: str
    doc_id: str
    name: str
    country: str
    mentions: int
    event_time: str
    url: Optional[str] = None
    title: Optional[str] = None
    backfill: bool = False


class AlertLeader(faust.Record, namespace="leaderwatch.AlertLeader", **_WIRE):
    qid: str
    name: str
    country: str


class AlertEvidence(faust.Record, namespace="leaderwatch.AlertEvidence", **_WIRE):
    doc_id: Optional[str]
    url: Optional[str]
    title: Optional[str]
    sentence: Optional[str]


class Alert(faust.Record, namespace="leaderwatch.Alert", **_WIRE):
    """alerts (contract schemas/alerts.v1.json): something worth telling a downstream team."""

    alert_id: str
    schema_version: int
    kind: str
    leaders: List[AlertLeader]
    event_time: str
    detected_at: str
    evidence: List[AlertEvidence]
    backfill: bool = False
    details: Optional[dict] = None


class DeadLetter(faust.Record, namespace="leaderwatch.DeadLetter", **_WIRE):
    """pages.dead: an input a stage could not process, with the reason; nothing is lost."""

    stage: str
    reason: str
    error: str
    topic: str
    partition: Optional[int]
    offset: Optional[int]
    key: Optional[str]
    input: str
    input_bytes: int
    input_truncated: bool
    failed_at: str
