"""Find heads of state and government in a text: names, surnames in context, and dated role phrases.

text + page date -> [Mention(qid, start, end, surface, kind)]: one case-sensitive Aho-Corasick pass
("Bush" the person, not "bush" the plant) over the text with punctuation as spaces, so only whole
words match: full names, surnames, and role phrases ("Japan's PM", "the North Korean leader")
resolved by the page's date. Longest match wins, and a full name beats a role phrase it overlaps
("Jordan's King Abdullah").
"""
from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from datetime import date, timedelta

import ahocorasick_rs

from leaderwatch.leaders.gazetteer import Gazetteer
from leaderwatch.leaders.spans import BORDERS, bounded, longest_first, shadow, word_after, word_before
from leaderwatch.leaders.vocabulary import load_common_names, load_word_list, read_tsv, role_phrases

FULL, SHORT, ROLE = "full", "short", "role"
AROUND_DAYS = 183  # "in office around the page's date": within half a year of it
# a surname alone, not in office near the page's date, may still be a past leader ("Reagan" in
# 2011) or a rising one: news names candidates by surname through repeated campaigns that can
# precede the first term by a decade (Prabowo ran in 2014, took office in 2024; Petro ran in 2010,
# took office in 2022); never one whose first term is further off ("Petro" in 1987: someone else)
FUTURE_DAYS = 12 * 365
CAPS_MIN = 4  # surnames this long are also looked for in ALL CAPS ("GORBACHEV"; not "XI", "LEE")
# a prefix joined to a leader's name by a hyphen that leaves the name the leader's: "pro-Putin"
HYPHEN_PREFIXES = {"pro", "anti", "post", "pre", "non", "neo"}
TITLE_WORD = re.compile(r"[^\W\d_][\w'’-]*")  # a word of a headline
TITLE_LINE_MAX = 250  # characters: a headline, not a paragraph
# an office title before a surname names a holder of that office only: "King Philippe" is not
# Edouard Philippe (a prime minister), "President Johnson" not Boris Johnson. Title word -> the
# office words of countries.tsv (hos_titles, hog_titles) it stands for; titles not listed here
# ("Chairman", "Sheikh") restrict nothing
TITLE_OFFICES = {
    "President": ("president",), "Presidents": ("president",), "Ex-President": ("president",),
    "Prime": ("prime minister", "premier", "pm"), "PM": ("prime minister", "premier", "pm"),
    "Premier": ("prime minister", "premier", "pm"), "Minister": ("minister",), "Chancellor": ("chancellor",),
    "Taoiseach": ("taoiseach",), "King": ("king",), "Queen": ("queen",), "Emperor": ("emperor",),
    "Empress": ("emperor", "empress"), "Emir": ("emir", "amir"), "Sultan": ("sultan",),
    "Prince": ("prince", "crown prince", "co-prince"), "Pope": ("pope",),
    # German, French, Spanish, Portuguese, Italian
    **dict.fromkeys(("Präsident", "Präsidentin", "Staatspräsident", "Bundespräsident", "Président", "Présidente",
                     "président", "présidente", "Presidente", "presidente"), ("president",)),
    **dict.fromkeys(("Bundeskanzler", "Bundeskanzlerin", "Kanzler", "Kanzlerin"), ("chancellor",)),
    **dict.fromkeys(("Premierminister", "Premierministerin", "Ministerpräsident", "Ministerpräsidentin", "Premier-ministre",
                     "ministre", "Ministro", "ministro", "Primeiro-ministro", "primeiro-ministro", "premier", "Premiê",
                     "premiê"), ("prime minister", "premier", "minister")),
    **dict.fromkeys(("Papst", "Pape", "Papa"), ("pope",)),
    **dict.fromkeys(("König", "Roi", "Rey", "Rei"), ("king",)),
    **dict.fromkeys(("Königin", "Reine", "Reina", "Rainha", "Regina"), ("queen",)),
}


def _starts_sentence(text: str, start: int, before: str) -> bool:
    """Whether `before`, the word right before `start` (spaces between), begins its sentence or line."""
    at = start
    while at > 0 and text[at - 1] == " ":
        at -= 1
    at -= len(before)
    while at > 0 and text[at - 1] in " \"“‘'(":
        at -= 1
    return at <= 0 or text[at - 1] in ".!?:;\n—–"


def _word_joined_at(text: str, hyphen_at: int) -> str:
    """The word a hyphen at `hyphen_at` ends, lower case ("pro" of "pro-Putin"); "" when longer than 8 letters."""
    start = hyphen_at
    while start > 0 and text[start - 1].isalpha() and hyphen_at - start <= 8:
        start -= 1
    return "" if start > 0 and text[start - 1].isalnum() else text[start:hyphen_at].lower()


def _in_title_case(text: str, at: int, cache: dict[int, bool]) -> bool:
    """Whether the line holding `at` is a headline in Title Case: 3+ words of 4+ letters, all of
    them capitalised but one in ten (not ALL CAPS: the surnames in capitals have their own rule)."""
    line_start = text.rfind("\n", max(0, at - TITLE_LINE_MAX), at) + 1
    if line_start == 0 and at > TITLE_LINE_MAX:
        return False  # no line break within a headline's length: prose
    if line_start not in cache:
        line_end = text.find("\n", at, line_start + TITLE_LINE_MAX + 1)
        if line_end < 0 and len(text) > line_start + TITLE_LINE_MAX:
            cache[line_start] = False
            return False
        line = text[line_start:line_end if line_end >= 0 else len(text)]
        long_words = [w for w in TITLE_WORD.findall(line) if len(w) >= 4]
        cache[line_start] = (len(long_words) >= 3 and not line.isupper()
                             and sum(not w[0].isupper() for w in long_words) <= len(long_words) // 10)
    return cache[line_start]


def _names_over_roles(spans: list[tuple]) -> tuple[list[tuple], dict[int, str]]:
    """(spans without the role phrases that overlap a full name, {a full name's start: the country
    of the role phrase it overlapped}): in "Jordan's King Abdullah" the name "King Abdullah"
    decides, not the role "Jordan's King" (which, followed by a name, names no one), and where the
    name is shared by two persons in office (2010: two King Abdullahs), the role's country does."""
    fulls = sorted((start, end) for start, end, _, kind, _ in spans if kind == FULL)
    if not fulls or all(kind != ROLE for _, _, _, kind, _ in spans):
        return spans, {}
    longest = max(end - start for start, end in fulls)
    countries: dict[int, str] = {}

    def overlapped_name(start: int, end: int) -> int | None:
        at = bisect.bisect_left(fulls, (end, -1))  # the names starting before the role ends
        while at > 0 and fulls[at - 1][0] > start - longest:
            at -= 1
            if fulls[at][1] > start:
                return fulls[at][0]
        return None

    kept = []
    for span in spans:
        name_start = overlapped_name(span[0], span[1]) if span[3] == ROLE else None
        if name_start is None:
            kept.append(span)
        else:
            countries.setdefault(name_start, span[4][0])
    return kept, countries


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
        rows = read_tsv("honorifics.txt")
        self.honorifics = honorifics if honorifics is not None else {r[0] for r in rows}
        self.office_titles = {r[0] for r in rows if r[1:] == ["office"]}
        self.office_words = load_word_list("office_words.txt")
        self.eponym_words = load_word_list("eponym_words.txt")  # "Ho Chi Minh City", "... Airport"
        self.lead_words = load_word_list("lead_words.txt")  # "But Putin said", "Biden Meets Xi": never a first name
        # surnames that are also common names or words ("Johnson", "Moon") need context;
        # hand-curated short forms (aliases.tsv: "Trump", "Obama") are the well-known ones
        self.common_names, self.common_words = load_common_names()
        self.curated = {row[1] for row in read_tsv("aliases.tsv") if len(row) > 2 and row[2] == SHORT}
        place_words = {w.lower() for c in gazetteer.countries.values() for w in c.names + c.demonyms}
        names: dict[str, tuple[str, set[str]]] = {}
        self._caps_of: dict[str, str] = {}  # "GORBACHEV" -> "Gorbachev": surnames in ALL-CAPS copy
        for person in gazetteer.persons.values():
            for alias in person.aliases:
                for form in {alias, alias.upper()}:
                    kind, qids = names.get(form, (FULL, set()))
                    names[form] = (FULL, qids | {person.qid}) if kind == FULL else (FULL, {person.qid})
            for alias in person.short:
                if len(alias) < 2 or alias.lower() in place_words:
                    continue  # "Jordan" of "Abdullah II of Jordan" is the country
                forms = [alias]
                if len(alias) >= CAPS_MIN and not alias.isupper():
                    forms.append(alias.upper())  # wire copy and headlines in capitals
                    self._caps_of.setdefault(alias.upper(), alias)
                for form in forms:
                    if form in names and names[form][0] == FULL:
                        continue  # a full name beats a surname spelled the same
                    kind, qids = names.get(form, (SHORT, set()))
                    names[form] = (SHORT, qids | {person.qid})
        # keys are " shadow(form) ": the automaton then only reports whole-word matches
        merged: dict[str, tuple[str, set[str]]] = {}
        for form, (kind, qids) in names.items():
            key = f" {shadow(form)} "
            old_kind, old_qids = merged.get(key, (kind, set()))
            if old_kind == FULL and kind == SHORT:
                continue
            merged[key] = (kind, qids | (old_qids if old_kind == kind else set()))
        entries = {key: (len(key), kind, tuple(sorted(qids))) for key, (kind, qids) in merged.items()}
        for phrase, payload in role_phrases(gazetteer).items():
            key = f" {shadow(phrase)} "
            entries.setdefault(key, (len(key), ROLE, payload))
        # names and role phrases, case-sensitive, in one automaton: every (overlapping) match is
        # reported; the Rust automaton (contiguous NFA) scans ~1.4x faster than pyahocorasick's
        keys = sorted(entries)
        self._payloads = [entries[key] for key in keys]
        self._automaton = ahocorasick_rs.AhoCorasick(keys, matchkind=ahocorasick_rs.MatchKind.Standard,
                                                     implementation=ahocorasick_rs.Implementation.ContiguousNFA,
                                                     store_patterns=False)

    # ------------------------------------------------------------------ matching

    def find(self, text: str, day: date | None) -> list[Mention]:
        """All leader mentions in `text` as of `day` (None: role phrases are not resolved)."""
        spans, country_of_name = _names_over_roles(self._raw_matches(text))
        spans = longest_first(spans)
        title_case: dict[int, bool] = {}  # line start -> is the line a headline in Title Case
        context = {start: self._surname_context(text, start, end, title_case) for start, end, _, kind, _ in spans if kind == SHORT}
        resolved: list[Mention] = []
        named_in_doc: set[str] = set()
        # "the Soviet leader, Mikhail Gorbachev,": a full name in apposition decides, not the role
        self_named = {start for start, _, _, kind, _ in spans if kind == FULL}
        # 1. full names and surnames with a title or office word: these name a person for the document
        for start, end, _, kind, payload in spans:
            if kind == FULL:
                if word_after(text, end).rstrip(BORDERS) in self.eponym_words:
                    continue  # a place or an institution named after the person
                qid = self._pick(payload, day)
                if qid is None and start in country_of_name:  # "Jordan's King Abdullah" in 2010
                    qid = self._pick(tuple(q for q in payload if any(
                        t.country == country_of_name[start] for t in self.gazetteer.persons[q].terms)), day)
            elif kind == SHORT and context[start] in ("office", "courtesy"):
                titled = context[start] == "office"
                if titled:  # only holders of the office the title names
                    payload = self._fitting_title(payload, word_before(text, start))
                qid = self._resolve_short(text[start:end], payload, day, named_in_doc, titled=titled)
            else:
                continue
            if qid:
                named_in_doc.add(qid)
                resolved.append(Mention(qid, start, end, text[start:end], kind, self._is_former(text, start)))
        # 2. bare surnames and role phrases, in the light of who the document names
        for start, end, _, kind, payload in spans:
            if kind == SHORT and context[start] == "bare":
                qid = self._resolve_short(text[start:end], payload, day, named_in_doc)
                if qid:
                    resolved.append(Mention(qid, start, end, text[start:end], SHORT, self._is_former(text, start)))
            elif kind == ROLE and day is not None:
                if any(end + gap in self_named for gap in (2, 3)) and text[end:end + 1] == ",":
                    continue
                mention = self._resolve_role(text, start, end, payload, day, named_in_doc)
                if mention:
                    resolved.append(mention)
        resolved.sort(key=lambda m: m.start)
        return resolved

    def _surname_context(self, text: str, start: int, end: int, title_case: dict[int, bool] | None = None) -> str | None:
        """ "office" ("President Moon", "the Carter administration"), "courtesy" ("Mr. Xi"), "bare",
        or None when the surname is part of another name ("Melania Trump", "Trump Tower") or an
        abbreviation ("U" of "U.S."). A capitalised word before the surname keeps it apart unless it
        is a word that starts the sentence or a Title Case headline and is never a first name
        (lead_words.txt: "But Putin said", "Biden Meets Xi"; "Melania Trump" stays apart); in a
        headline in Title Case ("Biden Meets Xi In San Francisco") a capital after the surname
        blocks it only when it names a place or a building ("Trump Tower")."""
        if text[end:end + 1] == "." and text[end + 1:end + 2].isalpha():
            return None
        before = word_before(text, start)
        if text[start:end] in self._caps_of:  # a surname in capitals: the words around are capitals too
            if before and not before.isupper():
                return None
            title = before.capitalize() if before else ""
            if before in self.office_titles or title in self.office_titles:
                return "office"
            return "courtesy" if title in self.honorifics else "bare"
        title_case = title_case if title_case is not None else {}
        if before and before[0].isupper() and before not in self.honorifics:
            if before.lower() not in self.lead_words or not (
                    _starts_sentence(text, start, before) or _in_title_case(text, start, title_case)):
                return None
            before = ""
        after = word_after(text, end)
        if after and after[0].isupper() and not after.endswith(":"):
            if after.rstrip(BORDERS) in self.eponym_words or not _in_title_case(text, start, title_case):
                return None
        if before in self.office_titles or self._office_word_after(text, end):
            return "office"
        return "courtesy" if before in self.honorifics else "bare"

    def _raw_matches(self, text: str) -> list[tuple]:
        """[(start, end, length, kind, payload)] for every name and role phrase on word boundaries."""
        # match on " shadow(text) " (same offsets + 1): a key " Kim Jong un " spans start..end
        found, after_hyphen = [], []
        payloads = self._payloads
        for index, start, stop in self._automaton.find_matches_as_indexes(f" {shadow(text)} ", overlapping=True):
            end = stop - 2  # the key's spaces: text[start:end] is the name
            if bounded(text, start, end):
                _, kind, payload = payloads[index]
                found.append((start, end, end - start, kind, payload))
            elif text[start - 1:start] == "-" and payloads[index][1] != ROLE and bounded(text, start, end, hyphen=True):
                _, kind, payload = payloads[index]
                after_hyphen.append((start, end, end - start, kind, payload))
        if after_hyphen:  # "the Putin-Xi summit", "pro-Putin": not "Smith-Johnson", a double-barrelled name
            name_ends = {end for _, end, _, kind, _ in found if kind != ROLE}
            found += [span for span in after_hyphen
                      if span[0] - 1 in name_ends or _word_joined_at(text, span[0] - 1) in HYPHEN_PREFIXES]
        return found

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
        if in_office:  # two King Abdullahs reigning: not the one who died before either
            return None
        before = [(p.held_before(day), p) for p in persons if p.held_before(day)]
        if before:
            return max(before, key=lambda tp: tp[0].end)[1].qid
        return None

    def _resolve_short(self, surface: str, qids: tuple[str, ...], day: date | None, named_in_doc: set[str],
                       titled: bool = False) -> str | None:
        """A surname counts only when the document makes the person clear: the person is named
        in full in the document; or, for a surname that is not a common name or word (unless
        hand-curated, like "Trump"), the only bearer in office around the page's date; or, after
        an office title ("President Obama") or for a distinctive hand-curated surname ("Obama"),
        the only leader of that name at all."""
        surface = self._caps_of.get(surface, surface)
        known = [q for q in qids if q in named_in_doc]
        if known:
            return known[0] if len(known) == 1 else None
        common = surface in self.common_names or (surface in self.common_words and surface not in self.curated)
        if common and not titled:
            return None
        if day is not None:
            around = [q for q in qids if self.gazetteer.persons[q].in_office_around(day, AROUND_DAYS)]
            if len(around) > 1:  # an acting holder of the same name a month before: the one in office that day
                around = [q for q in around if self.gazetteer.persons[q].term_at(day)] or around
            if around:
                return around[0] if len(around) == 1 else None
            # not in office near the page's date: a past leader, or a rising one (FUTURE_DAYS)
            qids = tuple(q for q in qids if self._held_office_by(self.gazetteer.persons[q], day + timedelta(days=FUTURE_DAYS)))
        distinctive = surface in self.curated and surface not in self.common_words and surface not in self.common_names
        return qids[0] if (titled or distinctive) and len(qids) == 1 else None

    def _fitting_title(self, qids: tuple[str, ...], title: str) -> tuple[str, ...]:
        """The persons of `qids` who held an office `title` ("King", "PRESIDENT") stands for in one
        of their terms' countries; all of them for a title TITLE_OFFICES does not list."""
        offices = TITLE_OFFICES.get(title if title in TITLE_OFFICES else title.capitalize())
        if offices is None:
            return qids

        def fits(person) -> bool:
            for term in person.terms:
                country = self.gazetteer.countries.get(term.country)
                if country is None:
                    return True
                for word in country.titles.get(term.role, ()):
                    if any(word == o or word.startswith(o + " ") or word.endswith(" " + o) for o in offices):
                        return True
            return False

        return tuple(q for q in qids if fits(self.gazetteer.persons[q]))

    @staticmethod
    def _held_office_by(person, day: date) -> bool:
        return any(t.start <= day for t in person.terms)

    def _office_word_after(self, text: str, end: int) -> bool:
        """ "Obama administration", "Obama's government", "Bush-era", "Clinton impeachment", and across
        a coordination: "the Nixon and Clinton impeachment proceedings"."""
        rest = text[end:end + 60]
        for prefix in ("'s ", "’s ", " ", "-"):
            if rest.startswith(prefix):
                words = [w.strip(".,;:") for w in rest[len(prefix):].split()[:4]]
                if words[:1] and (words[0] in self.office_words or " ".join(words[:2]) in self.office_words):
                    return True
                # "<Surname> and <Surname> administrations"
                return (len(words) >= 3 and words[0] in ("and", "or") and words[1][:1].isupper()
                        and (words[2] in self.office_words or " ".join(words[2:4]) in self.office_words))
        return False

    def _resolve_role(self, text, start, end, payload, day, named_in_doc: set[str]) -> Mention | None:
        """"Japan's PM" on `day` -> the holder of that office on that day, unless a name follows.
        "The German leader" names either office: the one of that country's heads in office whom
        the page names (a page about the federal president calls him "the German leader" on
        second reference), else the holder of the country's usual leading office. Where the data
        has two holders on that day (year-precision terms overlap), the one the page names."""
        country, role, generic = payload
        if self._is_former(text, start):
            return None
        after = word_after(text, end)
        if after and after[0].isupper():
            return None  # "Japanese Prime Minister Fumio Kishida": the name decides, not the date
        if generic:
            named = [q for q in named_in_doc if any(t.country == country and t.covers(day) for t in self.gazetteer.persons[q].terms)]
            if len(named) == 1:
                return Mention(named[0], start, end, text[start:end], ROLE)
            if role is None:
                return None
            named = [q for q in named if self.gazetteer.persons[q].term_at(day) and any(
                t.country == country and t.role == role and t.covers(day) for t in self.gazetteer.persons[q].terms)]
            if len(named) == 1:
                return Mention(named[0], start, end, text[start:end], ROLE)
        holders = self.gazetteer.holders(country, role, day)
        if len(holders) > 1:
            holders = [p for p in holders if p.qid in named_in_doc]
        if len(holders) != 1:
            return None
        return Mention(holders[0].qid, start, end, text[start:end], ROLE)

    @staticmethod
    def _is_former(text: str, start: int) -> bool:
        window = text[max(0, start - 30):start].lower()
        return "former " in window[-20:] or "ex-" in window[-4:] or "late " in window[-6:]
