"""pages.clean (PageCleaned) -> pages.entities (PageEntities): the leaders each page names.

build_matcher() loads the gazetteer once; extract_page() is then pure: PageCleaned -> PageEntities.

extract_leaders() is pure: text + event date -> LeaderFound per person, with mention count,
surface forms, character offsets, the sentences they appear in and the office held that day.
"""
from __future__ import annotations

import bisect
import math
from datetime import date

from leaderwatch.leaders.gazetteer import Gazetteer, gazetteer_from
from leaderwatch.leaders.matcher import LeaderMatcher, Mention
from leaderwatch.leaders.sentences import sentence_at
from leaderwatch.records import LeaderFound, PageCleaned, PageEntities

MAX_SENTENCES_PER_LEADER = 20  # evidence kept per leader; counts stay exact


def build_matcher(gazetteer_file: str = "") -> LeaderMatcher:
    """The matcher over a gazetteer file (JSON lines), or over the bundled one when empty."""
    return LeaderMatcher(gazetteer_from(gazetteer_file))


def find_leaders(text: str, day: date | None, matcher: LeaderMatcher) -> list[LeaderFound]:
    """Text as of `day` -> one LeaderFound per person named, in order of first mention."""
    mentions = matcher.find(text, day)
    if not mentions:
        return []
    sentences = _Sentences(text)
    by_person: dict[str, list[Mention]] = {}
    for mention in mentions:
        by_person.setdefault(mention.qid, []).append(mention)
    return [_leader(matcher.gazetteer, qid, found, sentences, day) for qid, found in by_person.items()]


def extract_page(page: PageCleaned, matcher: LeaderMatcher) -> PageEntities:
    """PageCleaned -> PageEntities (possibly with no leaders)."""
    day = date.fromisoformat(page.event_time[:10]) if page.event_time else None
    text = matched_text(page)
    return PageEntities(
        doc_id=page.doc_id,
        url=page.url,
        title=page.title,
        language=page.language,
        event_time=page.event_time,
        fetched_at=page.fetched_at,
        content_hash=page.content_hash,
        leaders=find_leaders(text, day, matcher),
        backfill=page.backfill,
    )


def matched_text(page: PageCleaned) -> str:
    """What leaders are looked for in (offsets point into it): the title and the description when
    the text does not already hold them (extractors often drop the lede), then the text."""
    head = page.text[:2000]
    parts = [part for part in (page.title, page.description) if part and part not in head]
    return "\n\n".join(parts + [page.text])


def office_on(gazetteer: Gazetteer, qid: str, day: date | None) -> str | None:
    """ "Prime Minister of Japan" on `day`, "former Prime Minister of Japan" after, None before/unknown."""
    person = gazetteer.persons[qid]
    if day is None:
        return None
    term = person.term_at(day)
    if term:
        return gazetteer.office_title(term)
    past = person.held_before(day)
    return f"former {gazetteer.office_title(past)}" if past else None


def _leader(gazetteer, qid, mentions, sentences: "_Sentences", day) -> LeaderFound:
    person = gazetteer.persons[qid]
    spans: list[tuple[int, int]] = []  # the first sentences naming the leader, in text order
    for mention in sorted(mentions, key=lambda m: m.start):
        span = sentences.around(mention.start)
        if not spans or spans[-1] != span:
            spans.append(span)
            if len(spans) == MAX_SENTENCES_PER_LEADER:
                break  # later mentions are counted, their sentences not looked for
    return LeaderFound(
        qid=qid,
        name=person.name,
        country=_country_at(person, day),
        office=office_on(gazetteer, qid, day),
        mentions=len(mentions),
        surfaces=sorted({m.surface for m in mentions}),
        offsets=[[m.start, m.end] for m in mentions],
        sentence_ids=[start for start, _ in spans],
        sentences=[" ".join(sentences.text[start:end].split()) for start, end in spans],
    )


class _Sentences:
    """The sentences of one text, found only around the offsets asked about; a sentence's id is
    the offset where it starts (two leaders with one id were named in one sentence)."""

    def __init__(self, text: str):
        self.text = text
        self._found: list[tuple[int, int]] = []  # (start, end) of the sentences found, in text order: they never overlap

    def around(self, offset: int) -> tuple[int, int]:
        at = bisect.bisect_right(self._found, (offset, math.inf)) - 1  # the last sentence starting at or before offset
        if at >= 0 and offset < self._found[at][1]:
            return self._found[at]
        span = sentence_at(self.text, offset)
        bisect.insort(self._found, span)
        return span


def _country_at(person, day) -> str:
    """The country led on `day` (the primary one when several, e.g. Charles III), else the primary one."""
    countries = {t.country for t in person.terms if day and t.covers(day)}
    return person.country if person.country in countries or not countries else sorted(countries)[0]
