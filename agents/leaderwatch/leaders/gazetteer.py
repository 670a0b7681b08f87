"""The leader gazetteer: persons with aliases and dated offices, and the country table.

Data files (built by scripts/build_gazetteer.py, refreshed without touching code):
  data/gazetteer.jsonl  {"qid","name","country","aliases":[..],"short":[..],
                         "terms":[{"role","country","start","end"}]}   one person per line
  data/countries.tsv    iso2 iso3 qid name names demonyms hos_titles hog_titles leader_role status
                        (leader_role "-": "the <demonym> leader" names only a leader the page names;
                        status "former": a state that no longer exists, e.g. SU, DD, CS, YU)
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path

import orjson

DATA_DIR = Path(__file__).resolve().parent / "data"
ROLES = ("head_of_state", "head_of_government")


@dataclass(frozen=True)
class Term:
    role: str
    country: str
    start: date
    end: date | None  # None: still in office

    def covers(self, day: date) -> bool:
        return self.start <= day and (self.end is None or day < self.end)


@dataclass(frozen=True)
class Person:
    qid: str
    name: str
    country: str
    aliases: tuple[str, ...]
    short: tuple[str, ...]
    terms: tuple[Term, ...]

    def term_at(self, day: date) -> Term | None:
        return next((t for t in self.terms if t.covers(day)), None)

    def in_office_around(self, day: date, days: int) -> bool:
        """In office at some time within `days` of `day`."""
        low, high = day - timedelta(days=days), day + timedelta(days=days)
        return any(t.start <= high and (t.end is None or t.end > low) for t in self.terms)

    def held_before(self, day: date) -> Term | None:
        """The latest term that ended on or before `day`."""
        past = [t for t in self.terms if t.end is not None and t.end <= day]
        return max(past, key=lambda t: t.end) if past else None


@dataclass(frozen=True)
class Country:
    iso2: str
    name: str
    names: tuple[str, ...]
    demonyms: tuple[str, ...]
    titles: dict  # role -> tuple of lowercase office words
    leader_role: str | None  # the office "the <demonym> leader" means by default; None: no default
    former: bool = False
    iso3: str = ""


class Gazetteer:
    """Persons by qid, countries by ISO code, and who held which office on a given day."""

    def __init__(self, persons: list[Person], countries: list[Country]):
        self.persons = {p.qid: p for p in persons}
        self.countries = {c.iso2: c for c in countries}
        self._holders: dict[tuple[str, str], list[tuple[Term, Person]]] = {}
        for person in persons:
            for term in person.terms:
                self._holders.setdefault((term.country, term.role), []).append((term, person))

    def holders(self, country: str, role: str, day: date) -> list[Person]:
        """Everyone holding `role` of `country` on `day` (usually one)."""
        found = []
        for term, person in self._holders.get((country, role), ()):
            if term.covers(day) and person not in found:
                found.append(person)
        return found

    def office_title(self, term: Term) -> str:
        country = self.countries.get(term.country)
        if country is None:
            return term.role.replace("_", " ")
        words = country.titles.get(term.role) or (term.role.replace("_", " "),)
        title = words[0] if len(words[0]) > 3 else (words[1] if len(words) > 1 else words[0])
        return f"{title.title()} of {country.name}"


def load_gazetteer(path: str | Path | None = None, countries_path: str | Path | None = None) -> Gazetteer:
    """Read the data files (defaults: the bundled ones)."""
    persons = [person_from_row(row) for row in load_rows(path).values()]
    return Gazetteer(persons, load_countries(countries_path))


def load_rows(path: str | Path | None = None) -> dict[str, dict]:
    """qid -> the JSON record of each person in a gazetteer file (default: the bundled one)."""
    rows = [orjson.loads(line) for line in Path(path or DATA_DIR / "gazetteer.jsonl").read_bytes().splitlines() if line.strip()]
    return {row["qid"]: row for row in rows}


@lru_cache(maxsize=4)
def default_gazetteer() -> Gazetteer:
    return load_gazetteer()


def gazetteer_from(path: str | Path | None) -> Gazetteer:
    """The gazetteer in a file, or the bundled one (loaded once a process) when `path` is empty."""
    return load_gazetteer(path) if path else default_gazetteer()


def load_countries(path: str | Path | None = None) -> list[Country]:
    with open(path or DATA_DIR / "countries.tsv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    return [
        Country(
            iso2=row["iso2"],
            name=row["name"],
            names=_split(row["names"]) or (row["name"],),
            demonyms=_split(row["demonyms"]),
            titles={"head_of_state": _split(row["hos_titles"].lower()), "head_of_government": _split(row["hog_titles"].lower())},
            leader_role=None if row.get("leader_role") == "-" else (row.get("leader_role") or "head_of_state"),
            former=(row.get("status") or "") == "former",
            iso3=row.get("iso3") or "",
        )
        for row in rows
    ]


def _split(cell: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (cell or "").split("|") if part.strip())


def person_from_row(row: dict) -> Person:
    return Person(
        qid=row["qid"],
        name=row["name"],
        country=row["country"],
        aliases=tuple(row.get("aliases") or ()),
        short=tuple(row.get("short") or ()),
        terms=tuple(
            Term(t["role"], t["country"], date.fromisoformat(t["start"]), date.fromisoformat(t["end"]) if t.get("end") else None)
            for t in row.get("terms") or ()
            if t.get("start")
        ),
    )
