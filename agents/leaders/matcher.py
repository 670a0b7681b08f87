"""Find heads of state and government in a text: names, surnames in context, and dated role phrases.

text + page date -> [Mention(qid, start, end, surface, kind)], one pass of two Aho-Corasick
automatons: names case-sensitively ("Bush" the person, not "bush" the plant), role phrases
("Japan's PM", "the North Korean leader") on the lowercased text. Longest match wins.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import ahocorasick

from agents.leaders.gazetteer import DATA_DIR, Gazetteer, Person

FULL, SHORT, ROLE = "full", "short", "role"


@dataclass(frozen=True)
class Mention:
    qid: str
    start: int
    end: int
    surface: str
    kind: str  # full, short or role
    former: bool = False


class LeaderMatcher:
    """Built once per gazetteer; find() is pure and thread-safe."""

    def __init__(self, gazetteer: Gazetteer, honorifics: set[str] | None = None):
        self.gazetteer = gazetteer
        self.honorifics = honorifics if honorifics is not None else load_honorifics()
        self._names = ahocorasick.Automaton()
        self._roles = ahocorasick.Automaton()
        names: dict[str, tuple[str, set[str]]] = {}
        for person in gazetteer.persons.values():
            for alias in person.aliases:
                for form in {alias, alias.upper()}:
                    kind, qids = names.get(form, (FULL, set()))
                    names[form] = (FULL, qids | {person.qid}) if kind == FULL else (FULL, {person.qid})
            for alias in person.short:
                if alias in names and names[alias][0] == FULL:
                    continue  # a full name beats a surname spelled the same
                kind, qids = names.get(alias, (SHORT, set()))
                names[alias] = (SHORT, qids | {person.qid})
        for form, (kind, qids) in names.items():
            self._names.add_word(form, (len(form), kind, tuple(sorted(qids))))
        for phrase, value in role_phrases(gazetteer).items():
            self._roles.add_word(phrase, (len(phrase),) + value)
        self._names.make_automaton()
        self._roles.make_automaton()

    # ------------------------------------------------------------------ matching

    def find(self, text: str, day: date | None) -> list[Mention]:
        """All leader mentions in `text` as of `day` (None: role phrases are not resolved)."""
        candidates = list(self._raw_matches(text))
        spans = _longest_first(candidates)
        full = [s for s in spans if s[3] == FULL]
        resolved: list[Mention] = []
        named_in_doc: set[str] = set()
        for start, end, _, _, qids in full:
            qid = self._pick(qids, day)
            if qid:
                named_in_doc.add(qid)
                resolved.append(Mention(qid, start, end, text[start:end], FULL, self._is_former(text, start)))
        for start, end, _, kind, payload in spans:
            if kind == SHORT:
                qid = self._resolve_short(text, start, end, payload, day, named_in_doc)
                if qid:
                    resolved.append(Mention(qid, start, end, text[start:end], SHORT, self._is_former(text, start)))
            elif kind == ROLE and day is not None:
                mention = self._resolve_role(text, start, end, payload, day)
                if mention:
                    resolved.append(mention)
        resolved.sort(key=lambda m: m.start)
        return resolved

    def _raw_matches(self, text: str):
        """(start, end, length, kind, payload) for every name and role phrase on word boundaries."""
        for last, (length, kind, qids) in self._names.iter(text):
            start = last - length + 1
            if _bounded(text, start, last + 1):
                yield (start, last + 1, length, kind, qids)
        lowered = _lower_same_length(text)
        for last, (length, country, role, former_ok) in self._roles.iter(lowered):
            start = last - length + 1
            surface = text[start:last + 1]
            # "US president" yes, "told us president..." no: the country part must be capitalised
            if _bounded(text, start, last + 1) and any(ch.isupper() for ch in surface):
                yield (start, last + 1, length, ROLE, (country, role))

    def _pick(self, qids: tuple[str, ...], day: date | None) -> str | None:
        """One person for a full name: the only one, else the one in office (or latest before) `day`."""
        if len(qids) == 1:
            return qids[0]
        if day is None:
            return None
        persons = [self.gazetteer.persons[q] for q in qids]
        in_office = [p for p in persons if p.term_at(day)]
        if len(in_office) == 1:
            return in_office[0].qid
        before = [(p.held_before(day), p) for p in persons if p.held_before(day)]
        if before:
            return max(before, key=lambda tp: tp[0].end)[1].qid
        return None

    def _resolve_short(self, text, start, end, qids, day, named_in_doc) -> str | None:
        """A surname counts only when the document makes the person clear."""
        if not self._standalone_surname(text, start, end):
            return None
        known = [q for q in qids if q in named_in_doc]
        if len(known) == 1:
            return known[0]
        if known or day is None:
            return None
        in_office = [q for q in qids if self.gazetteer.persons[q].term_at(day)]
        return in_office[0] if len(in_office) == 1 else None

    def _standalone_surname(self, text: str, start: int, end: int) -> bool:
        """False for "Melania Trump", "Trump Tower", "Kim Kardashian": another name glued on."""
        before = _word_before(text, start)
        if before and before[0].isupper() and before not in self.honorifics:
            return False
        after = _word_after(text, end)
        return not (after and after[0].isupper() and not after.endswith(":"))

    def _resolve_role(self, text, start, end, payload, day) -> Mention | None:
        """"Japan's PM" on `day` -> the holder of that office on that day, unless a name follows."""
        country, role = payload
        if self._is_former(text, start):
            return None
        after = _word_after(text, end)
        if after and after[0].isupper():
            return None  # "Japanese Prime Minister Fumio Kishida": the name decides, not the date
        holders = self.gazetteer.holders(country, role, day)
        if len(holders) != 1:
            return None
        return Mention(holders[0].qid, start, end, text[start:end], ROLE)

    @staticmethod
    def _is_former(text: str, start: int) -> bool:
        window = text[max(0, start - 30):start].lower()
        return "former " in window[-20:] or "ex-" in window[-4:] or "late " in window[-6:]


# ---------------------------------------------------------------------- role phrases

def role_phrases(gazetteer: Gazetteer) -> dict[str, tuple[str, str, bool]]:
    """Lowercase phrase -> (country, role, True) for "<Country>'s <title>", "<Demonym> <title>", "<title> of <Country>"."""
    countries_of: dict[str, set[str]] = {}
    for country in gazetteer.countries.values():
        for form in country.names + country.demonyms:
            countries_of.setdefault(form.lower(), set()).add(country.iso2)
    phrases: dict[str, tuple[str, str, bool]] = {}
    for country in gazetteer.countries.values():
        titles = [(t, role) for role, words in country.titles.items() for t in words]
        titles.append(("leader", country.leader_role))
        names = [n for n in country.names if len(countries_of[n.lower()]) == 1]  # "Congo": ambiguous
        demonyms = [d for d in country.demonyms if len(countries_of[d.lower()]) == 1]
        for title, role in titles:  # a title shared by two roles stays with the first one
            for name in names:
                for sep in ("'s ", "' "):
                    phrases.setdefault(f"{name}{sep}{title}".lower(), (country.iso2, role, True))
                phrases.setdefault(f"{title} of {name}".lower(), (country.iso2, role, True))
            for form in demonyms + [n for n in names if n.replace(".", "").isupper()]:
                phrases.setdefault(f"{form} {title}".lower(), (country.iso2, role, True))
    return phrases


def load_honorifics(path: Path | None = None) -> set[str]:
    lines = (path or DATA_DIR / "honorifics.txt").read_text(encoding="utf-8").splitlines()
    return {line.strip() for line in lines if line.strip() and not line.startswith("#")}


# ---------------------------------------------------------------------- text helpers

def _bounded(text: str, start: int, end: int) -> bool:
    """True when text[start:end] is a whole word sequence (no letter or digit glued on)."""
    if start > 0 and (text[start - 1].isalnum() or text[start - 1] in "-_@#"):
        return False
    return end >= len(text) or not (text[end].isalnum() or text[end] == "_")


def _word_before(text: str, start: int) -> str:
    """The word right before `start`, if only spaces separate them (punctuation breaks the link)."""
    i = start
    while i > 0 and text[i - 1] == " ":
        i -= 1
    if i == start or i == 0:
        return ""
    j = i
    while j > 0 and not text[j - 1].isspace():
        j -= 1
    word = text[j:i]
    return "" if word[-1:] in ",;:!?)\"”" or (word.endswith(".") and word not in ("Mr.", "Mrs.", "Ms.", "Dr.", "Sen.", "Gen.")) else word


def _word_after(text: str, end: int) -> str:
    """The word right after `end` when only spaces separate them; "" after punctuation or 's."""
    if text[end:end + 2] in ("'s", "’s") or text[end:end + 1] in ("'", "’"):
        return ""
    i = end
    while i < len(text) and text[i] == " ":
        i += 1
    if i == end or i >= len(text):
        return ""
    j = i
    while j < len(text) and not text[j].isspace():
        j += 1
    return text[i:j]


def _lower_same_length(text: str) -> str:
    """text.lower() with the same length (offsets stay valid) and ’ as '."""
    lowered = text.lower()
    if len(lowered) != len(text):
        lowered = "".join(ch if len(ch.lower()) != 1 else ch.lower() for ch in text)
    return lowered.replace("’", "'")


def _longest_first(spans: list[tuple]) -> list[tuple]:
    """Keep non-overlapping spans, longest first (ties: leftmost); returned in text order."""
    chosen: list[tuple] = []
    taken: list[tuple[int, int]] = []
    for span in sorted(spans, key=lambda s: (-(s[1] - s[0]), s[0])):
        if all(span[1] <= a or span[0] >= b for a, b in taken):
            chosen.append(span)
            taken.append((span[0], span[1]))
    return sorted(chosen, key=lambda s: s[0])
