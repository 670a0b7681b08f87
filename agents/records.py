"""One faust.Record per topic, in flow order; the wire JSON of each matches schemas/<topic>.v1.json.

pages.raw (PageFetched) -> pages.clean (PageCleaned) -> pages.entities (PageEntities)
  -> alerts (Alert); every stage's rejects -> pages.dead (DeadLetter).
Times are ISO 8601 UTC strings ("2025-11-14T09:30:00Z").
"""
from __future__ import annotations

from typing import List, Optional

import faust
import orjson

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


class Rejected(Exception):
    """An input a stage cannot use; `reason` is a short stable code, the message says why."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


def decode_record(record_type: type[faust.Record], data: bytes | None) -> faust.Record:
    """Message bytes from one of leaderwatch's own topics -> its record, or Rejected
    ("malformed_record": not a JSON object; "schema_invalid": fields missing or of the wrong kind).
    Cheap on purpose (the topics are written by the stages; the schemas are tested on them):
    required fields present, strings where strings must be, lists where lists must be."""
    try:
        fields = orjson.loads(data) if data else None
    except orjson.JSONDecodeError as exc:
        raise Rejected("malformed_record", f"not JSON: {exc}") from None
    if not isinstance(fields, dict):
        raise Rejected("malformed_record", f"not a JSON object but {type(fields).__name__}")
    for name, kind in _REQUIRED[record_type]:
        if not isinstance(fields.get(name), kind):
            raise Rejected("schema_invalid", f"{record_type.__name__}.{name} must be {kind.__name__}, "
                                             f"not {type(fields.get(name)).__name__}")
    nested = _NESTED.get(record_type)
    if nested:
        name, item_type = nested
        for item in fields[name]:
            if not isinstance(item, dict) or not all(isinstance(item.get(f), k) for f, k in _REQUIRED[item_type]):
                raise Rejected("schema_invalid", f"{record_type.__name__}.{name} holds an invalid {item_type.__name__}")
    try:
        return record_type.from_data(fields)
    except (TypeError, ValueError) as exc:
        raise Rejected("schema_invalid", f"{record_type.__name__}: {exc}") from None


# the fields decode_record checks: (name, type) of each required field
_REQUIRED = {
    PageCleaned: [("doc_id", str), ("fetched_at", str), ("event_time", str), ("text", str), ("content_hash", str)],
    LeaderFound: [("qid", str), ("name", str), ("country", str), ("mentions", int), ("surfaces", list),
                  ("offsets", list), ("sentence_ids", list), ("sentences", list)],
    PageEntities: [("doc_id", str), ("event_time", str), ("fetched_at", str), ("content_hash", str), ("leaders", list)],
    MentionUpdate: [("qid", str), ("doc_id", str), ("name", str), ("country", str), ("mentions", int), ("event_time", str)],
}
_NESTED = {PageEntities: ("leaders", LeaderFound)}
