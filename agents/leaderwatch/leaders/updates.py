"""New leaders without a release: rows of a CSV in the shared data's format -> gazetteer records,
merged over the bundled gazetteer.

CSV columns (heads_*_wikidata.csv): iso3, country, role, person, person_qid, start, end[, party,
end_cause]; dates YYYY, YYYY-MM, YYYY-MM-DD or ISO datetimes (reduced precision: a start is the
period's first day, an end its last). A row without a Wikidata id gets the gazetteer's provisional
id X-<slug of the name>. The record of a person (one per qid, the leaders topic's key):
  {"qid", "name", "country", "aliases": [full forms], "short": [surname], "terms": [{role, country, start, end}]}
Merging adds a record's terms, aliases and short forms to the bundled person of that qid, or adds
the person. Forms here are the full name, its form without diacritics and the surname; the next
build of the gazetteer (scripts/build_gazetteer.py) adds its rule-made variants.
"""
from __future__ import annotations

import csv
import io
import re
import unicodedata
from datetime import date, timedelta

from leaderwatch.leaders.gazetteer import ROLES, Country, Gazetteer, person_from_row

_DATE = re.compile(r"^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?(?:T.*)?$")


def parse_day(value: str, end: bool = False) -> str | None:
    """"1987", "1987-06", "1987-06-09", "1987-06-09T00:00:00Z" -> "YYYY-MM-DD"; None if empty."""
    value = (value or "").strip()
    if not value:
        return None
    found = _DATE.match(value)
    if not found:
        raise ValueError(f"not a date: {value!r} (YYYY, YYYY-MM or YYYY-MM-DD)")
    year, month, day = int(found[1]), int(found[2] or 0), int(found[3] or 0)
    if day:
        return date(year, month, day).isoformat()
    if not end:
        return date(year, month or 1, 1).isoformat()
    last = date(year, 12, 31) if not month else date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1)
    return last.isoformat()


def without_diacritics(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def provisional_id(name: str) -> str:
    """The gazetteer's id for a person no source gives a Wikidata id: X-<slug>."""
    return "X-" + re.sub(r"[^a-z0-9]+", "-", without_diacritics(name).lower()).strip("-")


def records_from_csv(text: str, countries: list[Country]) -> list[dict]:
    """CSV text -> one gazetteer record per person, in file order; ValueError names a bad row."""
    iso3_to_iso2 = {}
    for country in countries:
        iso3_to_iso2[getattr(country, "iso3", "") or ""] = country.iso2
    by_name = {c.name.lower(): c.iso2 for c in countries}
    records: dict[str, dict] = {}
    for line, row in enumerate(csv.DictReader(io.StringIO(text)), start=2):
        name = (row.get("person") or "").strip()
        role = (row.get("role") or "").strip()
        country = iso3_to_iso2.get((row.get("iso3") or "").strip().upper()) or by_name.get((row.get("country") or "").strip().lower())
        if not name or role not in ROLES or not country:
            raise ValueError(f"line {line}: needs person, role ({' or '.join(ROLES)}) and a known iso3 or country: {row}")
        qid = (row.get("person_qid") or "").strip() or provisional_id(name)
        start = parse_day(row.get("start") or "")
        if start is None:
            raise ValueError(f"line {line}: {name}: a term needs a start date")
        end = parse_day(row.get("end") or "", end=True)
        record = records.setdefault(qid, {"qid": qid, "name": name, "country": country, "aliases": [], "short": [],
                                          "terms": []})
        for form in (name, without_diacritics(name)):
            if form not in record["aliases"]:
                record["aliases"].append(form)
        surname = name.split()[-1]
        if len(name.split()) > 1 and surname not in record["short"]:
            record["short"].append(surname)
        record["terms"].append({"role": role, "country": country, "start": start, "end": end})
    return list(records.values())


def merge_records(base: dict[str, dict], updates: dict[str, dict]) -> dict[str, dict]:
    """qid -> record of the bundled gazetteer, with every update's terms and forms added."""
    merged = dict(base)
    for qid, update in updates.items():
        known = base.get(qid)
        if known is None:
            merged[qid] = update
            continue
        terms = list(known.get("terms") or [])
        have = {(t["role"], t["country"], t["start"]) for t in terms}
        terms += [t for t in update["terms"] if (t["role"], t["country"], t["start"]) not in have]
        merged[qid] = {**known, "terms": terms,
                       "aliases": list(dict.fromkeys([*known.get("aliases", []), *update["aliases"]])),
                       "short": list(dict.fromkeys([*known.get("short", []), *update["short"]]))}
    return merged


def updated_gazetteer(base: dict[str, dict], updates: dict[str, dict], countries: list[Country]) -> Gazetteer:
    return Gazetteer([person_from_row(row) for row in merge_records(base, updates).values()], countries)
