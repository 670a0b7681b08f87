"""pages.entities (PageEntities) -> alerts (Alert, contract schemas/alerts.v1.json).

Rules live in leaderwatch/rules/alerts.json. Pure functions build alerts; each alert_id is a hash
of its evidence, and the alert stage emits an id once (table alert_id_to_detected_at), replays
included. Spike alerts are raised by the mentions stage with spike_alert().
"""
from __future__ import annotations

import hashlib
import re
from datetime import date
from functools import lru_cache
from itertools import combinations
from pathlib import Path

import orjson

from leaderwatch.records import Alert, AlertEvidence, AlertLeader, LeaderFound, PageEntities

SCHEMA_VERSION = 1
RULES_FILE = Path(__file__).resolve().parents[1] / "rules" / "alerts.json"


@lru_cache(maxsize=4)
def load_rules(path: str | None = None) -> dict:
    """The bundled rules (leaderwatch/rules/alerts.json), with a custom file's values over them, rule by
    rule and field by field: the file sets only what it changes ({"spike": {"min_documents": 10}}).
    An unknown rule or field, or a value of the wrong kind, is a ValueError naming it."""
    rules = orjson.loads(RULES_FILE.read_bytes())
    if not path:
        return rules
    custom = orjson.loads(Path(path).read_bytes())
    for kind, fields in custom.items():
        if kind not in rules or not isinstance(fields, dict):
            raise ValueError(f"{path}: unknown rule {kind!r} (rules: {', '.join(rules)})")
        for name, value in fields.items():
            default = rules[kind].get(name)
            if default is None:
                raise ValueError(f"{path}: unknown field {kind}.{name} (fields: {', '.join(rules[kind])})")
            numeric = isinstance(default, (int, float)) and isinstance(value, (int, float)) and not isinstance(value, bool)
            if not (numeric or type(value) is type(default)):
                raise ValueError(f"{path}: {kind}.{name} must be {type(default).__name__}, not {type(value).__name__}")
        rules[kind] = {**rules[kind], **fields}
    return rules


def alert_id(kind: str, *evidence: str) -> str:
    """Deterministic: the same kind and evidence always give the same id."""
    return f"{kind}-" + hashlib.sha256("|".join((kind,) + evidence).encode("utf-8")).hexdigest()[:24]


def alert_key(alert: Alert) -> str:
    """Kafka key of an alert: its first leader's Wikidata id, so one leader's alerts keep their order."""
    return alert.leaders[0].qid


@lru_cache(maxsize=16)
def _word_pattern(words: tuple[str, ...]) -> re.Pattern:
    return re.compile(r"\b(" + "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)) + r")\b", re.I)


def engagement_alerts(page: PageEntities, rules: dict, detected_at: str, gazetteer=None) -> list[Alert]:
    """Two leaders of different countries in one sentence with an engagement word, both participants
    in it -> one alert per pair, from the first such sentence that reports news (else the first one,
    marked historical). With the `gazetteer` (leaders.gazetteer.Gazetteer), a sentence that gives
    either leader the title of an office held only before the page's date is historical too."""
    rule = rules["engagement"]
    pattern = _word_pattern(tuple(rule["words"]))
    nouns = frozenset(rule.get("modifier_nouns") or ())
    year_words = tuple(rule.get("historical_year_words") or ())
    page_year = int(page.event_time[:4]) if page.event_time and page.event_time[:4].isdigit() else None
    try:
        page_day = date.fromisoformat(page.event_time[:10]) if page.event_time else None
    except ValueError:
        page_day = None
    sentences = {i: s for leader in page.leaders for i, s in zip(leader.sentence_ids, leader.sentences)}
    alerts = []
    for a, b in combinations(sorted(page.leaders, key=lambda l: l.qid), 2):
        if a.country == b.country:
            continue
        chosen = None
        for sid in sorted(set(a.sentence_ids) & set(b.sentence_ids)):
            sentence = sentences[sid]
            words = sorted({m.lower() for m in pattern.findall(sentence)})
            if not words or not (participates(a, sentence, nouns) and participates(b, sentence, nouns)):
                continue
            historical = (_dated_before(sentence, page_year, year_words, pattern) or (_former(a) and _former(b))
                          or titled_in_past_office(a, sentence, page_day, gazetteer)
                          or titled_in_past_office(b, sentence, page_day, gazetteer))
            if chosen is None or (chosen[2] and not historical):
                chosen = (sentence, words, historical)
            if not historical:
                break
        if chosen:
            sentence, words, historical = chosen
            details = {"words": words, **({"historical": True} if historical else {})}
            alerts.append(_alert("engagement", [a, b], page, sentence, detected_at, details, page.doc_id, a.qid, b.qid))
    return alerts


def participates(leader: LeaderFound, sentence: str, modifier_nouns: frozenset[str]) -> bool:
    """False when every mention of the leader in the sentence is a possessive before a modifier
    noun ("Kim Jong Un's father, Kim Jong Il", "Bill Clinton's top envoy"): the sentence is then
    about someone else. True when no surface is found in the sentence (nothing to judge by)."""
    seen = False
    for surface in leader.surfaces:
        for match in re.finditer(re.escape(surface), sentence):
            seen = True
            rest = sentence[match.end():match.end() + 60]
            possessive = re.match(r"(?:'s|’s|'|’)\s+((?:[a-z-]+\s+){0,2}?)([a-z-]+)\b", rest)
            if not (possessive and possessive.group(2) in modifier_nouns):
                return True
    return not seen


_MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"


@lru_cache(maxsize=16)
def _year_pattern(words: tuple[str, ...]) -> re.Pattern:
    lead = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return re.compile(rf"\b(?:{lead})\s+(?:(?:early|late|mid)[- ])?(?:(?:{_MONTHS})\s+)?(?:\d{{1,2}},?\s+)?((?:19|20)\d\d)\b")


def _dated_before(sentence: str, page_year: int | None, words: tuple[str, ...], engagement: re.Pattern) -> bool:
    """ "... held a summit with Y in 2018" on a later page: the engagement is cited, not news. The
    year must date the engagement: it stands in a clause (between commas, dashes, brackets) that
    holds an engagement word (", who met Reagan in Reykjavik in 1986,") or that continues the main
    clause (", in Beijing in May 2011"); not in an appositive about something else ("welcomed him
    in Wielun, the first town bombed in 1939")."""
    if page_year is None or not words:
        return False
    years = _year_pattern(words)
    for clause in re.split(r"[,;()\u2013\u2014]| - ", sentence):
        if any(int(year) < page_year for year in years.findall(clause)):
            if engagement.search(clause) or clause.strip().startswith(words):
                return True
    return False


def titled_in_past_office(leader: LeaderFound, sentence: str, day: date | None, gazetteer) -> bool:
    """True when `sentence` names the leader with the title of an office held before `day` and not
    on it: "Russia's President Medvedev" on a 2019 page (prime minister then, president 2008-2012),
    "then-Prime Minister Erdogan" in 2016, "President Obama" in 2019. The sentence tells of that
    earlier time. Not "former President Obama" (a former leader in the day's news), nor a title
    of an office held on `day`, nor a leader the gazetteer does not know."""
    person = gazetteer.persons.get(leader.qid) if gazetteer is not None and day is not None else None
    if person is None:
        return False
    held_then = {(t.country, t.role) for t in person.terms if t.end is not None and t.end <= day}
    if not held_then:
        return False
    held_now = {(t.country, t.role) for t in person.terms if t.covers(day)}
    titles_by_office = {office: titles_of(office, gazetteer) for office in held_then | held_now}
    titles = {title for names in titles_by_office.values() for title in names}
    if not titles:
        return False
    title_before = _title_before_name(tuple(sorted(titles)))
    for surface in leader.surfaces:
        for match in re.finditer(re.escape(surface), sentence):
            found = title_before.search(sentence, max(0, match.start() - 80), match.start())
            if not found:
                continue
            marker, title = (found.group(1) or "").lower(), found.group(2).lower()
            if marker.startswith(("former", "ex")):
                continue
            titled = {office for office, names in titles_by_office.items() if title in names}
            if titled & held_then and (marker.startswith("then") or not titled & held_now):
                return True
    return False


def titles_of(office: tuple[str, str], gazetteer) -> tuple[str, ...]:
    """(country, role) -> the lowercase titles news give its holder (countries.tsv), e.g. ("RU",
    "head_of_government") -> ("prime minister", "premier", "pm")."""
    country = gazetteer.countries.get(office[0])
    return country.titles.get(office[1], ()) if country else ()


@lru_cache(maxsize=1024)
def _title_before_name(titles: tuple[str, ...]) -> re.Pattern:
    """A title right before a name (up to two capitalised first names between): "then-President
    George W. ", "Russia's President ", "former Prime Minister "; group 1 then-/former/ex-, group 2 the title."""
    names = "|".join(re.escape(t) for t in sorted(titles, key=len, reverse=True))
    return re.compile(rf"(?:^|[^\w-])((?i:then[- ]|former |ex-))?((?i:{names}))\s+(?:[A-Z][\w.'’-]*\s+){{0,2}}$")


def _former(leader: LeaderFound) -> bool:
    return bool(leader.office) and leader.office.startswith("former ")


def watch_alerts(page: PageEntities, watch_list: frozenset[str], detected_at: str) -> list[Alert]:
    """A page naming a watched leader -> one alert per (page, leader)."""
    return [
        _alert("watch", [leader], page, leader.sentences[0] if leader.sentences else None, detected_at,
               {"mentions": leader.mentions}, page.doc_id, leader.qid)
        for leader in page.leaders
        if leader.qid in watch_list
    ]


def spike_alert(leader: dict, window_start: str, window_end: str, documents: int, previous: list[int],
                top_documents: list[dict], rules: dict, detected_at: str, backfill: bool) -> Alert | None:
    """A window's document count vs the EWMA of earlier windows (oldest first) -> a spike alert or None."""
    spike = rules["spike"]
    baseline = ewma(previous, spike["ewma_alpha"])
    if documents < spike["min_documents"] or documents < spike["ratio"] * max(baseline, spike["baseline_floor"]):
        return None
    return Alert(
        alert_id=alert_id("spike", leader["qid"], window_start),
        schema_version=SCHEMA_VERSION,
        kind="spike",
        leaders=[AlertLeader(qid=leader["qid"], name=leader["name"], country=leader["country"])],
        event_time=window_start,
        detected_at=detected_at,
        evidence=[AlertEvidence(doc_id=d["doc_id"], url=d.get("url"), title=d.get("title"), sentence=None) for d in top_documents],
        backfill=backfill,
        details={"window_start": window_start, "window_end": window_end, "documents": documents,
                 "baseline": round(baseline, 3), "ratio": round(documents / max(baseline, spike["baseline_floor"]), 3)},
    )


def ewma(values: list[int], alpha: float) -> float:
    """Exponentially weighted mean, oldest first; 0.0 for no history."""
    mean = None
    for value in values:
        mean = value if mean is None else alpha * value + (1 - alpha) * mean
    return float(mean or 0.0)


def _alert(kind, leaders: list[LeaderFound], page, sentence, detected_at, details, *evidence) -> Alert:
    return Alert(
        alert_id=alert_id(kind, *evidence),
        schema_version=SCHEMA_VERSION,
        kind=kind,
        leaders=[AlertLeader(qid=l.qid, name=l.name, country=l.country) for l in leaders],
        event_time=page.event_time,
        detected_at=detected_at,
        evidence=[AlertEvidence(doc_id=page.doc_id, url=page.url, title=page.title, sentence=sentence)],
        backfill=page.backfill,
        details=details,
    )
