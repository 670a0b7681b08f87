"""One record type per topic, in flow order; the wire JSON of each matches schemas/<topic>.v1.json.

pages.raw (PageFetched) -> pages.clean (PageCleaned) -> pages.entities (PageEntities)
  -> leaderwatch.mention-updates (MentionUpdate) -> alerts (Alert); rejects -> pages.dead (DeadLetter).
Plain dataclasses (no Faust): the pure cores import them without loading Faust, and orjson writes
them natively (`encode`). Times are ISO 8601 UTC strings ("2025-11-14T09:30:00Z").
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Optional

import orjson


@dataclass(slots=True)
class PageFetched:
    """pages.raw: a fetched page as the crawler saw it (HTML or plain text)."""

    url: Optional[str]
    fetched_at: str
    body: str
    content_type: str = "text/html"
    published_at: Optional[str] = None
    source: Optional[str] = None
    backfill: bool = False


@dataclass(slots=True)
class PageCleaned:
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


@dataclass(slots=True)
class LeaderFound:
    """One leader in one document, with the evidence."""

    qid: str
    name: str
    country: str
    office: Optional[str]
    mentions: int
    surfaces: list[str]
    offsets: list[list[int]]
    sentence_ids: list[int]
    sentences: list[str]


@dataclass(slots=True)
class PageEntities:
    """pages.entities: the leaders found in one cleaned page."""

    doc_id: str
    url: Optional[str]
    title: Optional[str]
    language: Optional[str]
    event_time: str
    fetched_at: str
    content_hash: str
    leaders: list[LeaderFound]
    backfill: bool = False


@dataclass(slots=True)
class MentionUpdate:
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


@dataclass(slots=True)
class AlertLeader:
    qid: str
    name: str
    country: str


@dataclass(slots=True)
class AlertEvidence:
    doc_id: Optional[str]
    url: Optional[str]
    title: Optional[str]
    sentence: Optional[str]


@dataclass(slots=True)
class Alert:
    """alerts (contract schemas/alerts.v1.json): something worth telling a downstream team."""

    alert_id: str
    schema_version: int
    kind: str
    leaders: list[AlertLeader]
    event_time: str
    detected_at: str
    evidence: list[AlertEvidence]
    backfill: bool = False
    details: Optional[dict] = None


@dataclass(slots=True)
class DeadLetter:
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

    def __reduce__(self):  # picklable: it crosses the clean stage's process pool
        return type(self), (self.reason, str(self))


def encode(record) -> bytes:
    """A record (dataclass, nested ones included) -> its wire JSON."""
    return orjson.dumps(record)


def to_dict(record) -> dict:
    """A record -> plain JSON-ready dict (what `encode` writes)."""
    return orjson.loads(orjson.dumps(record))


def from_dict(record_type, fields: dict):
    """A wire dict -> the record (nested records built too); unknown keys are ignored, so a newer
    producer adding a field does not break an older stage. TypeError when a field is missing."""
    names = _FIELDS[record_type]
    values = {name: value for name, value in fields.items() if name in names}
    for name, item_type in _NESTED.get(record_type, ()):
        if name in values and values[name] is not None:
            values[name] = [from_dict(item_type, item) for item in values[name]]
    return record_type(**values)


def decode_record(record_type, data: bytes | None):
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
    _check(record_type, fields)
    for name, item_type in _NESTED.get(record_type, ()):
        for item in fields[name]:
            if not isinstance(item, dict):
                raise Rejected("schema_invalid", f"{record_type.__name__}.{name} holds an invalid {item_type.__name__}")
            _check(item_type, item, f"{record_type.__name__}.{name}[]")
    try:
        return from_dict(record_type, fields)
    except (TypeError, ValueError) as exc:
        raise Rejected("schema_invalid", f"{record_type.__name__}: {exc}") from None


def _check(record_type, fields: dict, where: str = "") -> None:
    for name, kind in _REQUIRED.get(record_type, ()):
        value = fields.get(name)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise Rejected("schema_invalid", f"{where or record_type.__name__}.{name} must be {kind.__name__}, "
                                             f"not {type(value).__name__}")


_FIELDS = {cls: frozenset(f.name for f in dataclasses.fields(cls))
           for cls in (PageFetched, PageCleaned, LeaderFound, PageEntities, MentionUpdate, AlertLeader, AlertEvidence,
                       Alert, DeadLetter)}
# the fields decode_record checks: (name, type) of each required field
_REQUIRED = {
    PageCleaned: [("doc_id", str), ("fetched_at", str), ("event_time", str), ("text", str), ("content_hash", str)],
    LeaderFound: [("qid", str), ("name", str), ("country", str), ("mentions", int), ("surfaces", list),
                  ("offsets", list), ("sentence_ids", list), ("sentences", list)],
    PageEntities: [("doc_id", str), ("event_time", str), ("fetched_at", str), ("content_hash", str), ("leaders", list)],
    MentionUpdate: [("qid", str), ("doc_id", str), ("name", str), ("country", str), ("mentions", int), ("event_time", str)],
    AlertLeader: [("qid", str), ("name", str), ("country", str)],
    Alert: [("alert_id", str), ("kind", str), ("leaders", list), ("event_time", str), ("evidence", list)],
}
_NESTED = {PageEntities: [("leaders", LeaderFound)], Alert: [("leaders", AlertLeader), ("evidence", AlertEvidence)]}
