"""The matcher's word lists, as data: role phrases from the country table, honorifics, office
words, common names, curated short forms (files in data/)."""
from __future__ import annotations

from leaderwatch.leaders.gazetteer import DATA_DIR, Gazetteer

SHORT = "short"


LEADER = "leader"  # the generic title: either office (see LeaderMatcher._resolve_role)


def role_phrases(gazetteer: Gazetteer) -> dict[str, tuple[str, str | None, bool]]:
    """Phrase -> (country, role) for "<Country>'s <title>", "<Demonym> <title>", "<title> of <Country>";
    the country as written (capitalised: "told us president" is no role), the title in lower,
    Title and UPPER case, and the whole phrase in UPPER case (wire copy, headlines). A country form
    shared by two countries ("Congo") is left out. The generic "leader" maps to the country's
    leader_role (None: no default office); the payload's third item says the title was "leader"."""
    countries_of: dict[str, set[str]] = {}
    for country in gazetteer.countries.values():
        for form in country.names + country.demonyms:
            countries_of.setdefault(form.lower(), set()).add(country.iso2)
    phrases: dict[str, tuple[str, str | None, bool]] = {}
    for country in gazetteer.countries.values():
        titles = [(t, role) for role, words in country.titles.items() for t in words]
        titles.append((LEADER, country.leader_role))
        names = [n for n in country.names if len(countries_of[n.lower()]) == 1]
        demonyms = [d for d in country.demonyms if len(countries_of[d.lower()]) == 1]
        for title, role in titles:  # a title shared by two roles stays with the first one
            for cased in {title.lower(), title.title(), title.upper()}:
                for name in names:
                    for sep in ("'s ", "' "):
                        phrases.setdefault(f"{name}{sep}{cased}", (country.iso2, role, title == LEADER))
                    phrases.setdefault(f"{cased} of {name}", (country.iso2, role, title == LEADER))
                for form in demonyms + [n for n in names if n.replace(".", "").isupper()]:
                    phrases.setdefault(f"{form} {cased}", (country.iso2, role, title == LEADER))
                    phrases.setdefault(f"{form} {cased}".upper(), (country.iso2, role, title == LEADER))
                for name in names:
                    phrases.setdefault(f"{name}'S {cased}".upper(), (country.iso2, role, title == LEADER))
    # a seat of power or a capital for the state: "the Kremlin leader", "Beijing's leader" (seats.tsv)
    for form, iso2 in (row[:2] for row in read_tsv("seats.tsv")[1:]):
        country = gazetteer.countries.get(iso2)
        if country is None:
            continue
        titles = [(t, role) for role, words in country.titles.items() for t in words] + [(LEADER, country.leader_role)]
        for title, role in titles:
            for cased in {title.lower(), title.title()}:
                for phrase in (f"{form} {cased}", f"{form}'s {cased}", f"{form}’s {cased}"):
                    phrases.setdefault(phrase, (country.iso2, role, title == LEADER))
    # a title one country alone has, without its country: "the Pope", "the pontiff", "the Taoiseach"
    for title, iso2 in UNIQUE_TITLES.items():
        country = gazetteer.countries.get(iso2)
        role = next((r for r, words in (country.titles.items() if country else ()) if title in words), None)
        if role is not None:
            for cased in {title, title.title()}:
                phrases.setdefault(f"the {cased}", (iso2, role, False))
                phrases.setdefault(f"The {cased}", (iso2, role, False))
    return phrases


UNIQUE_TITLES = {"pope": "VA", "pontiff": "VA", "holy father": "VA", "taoiseach": "IE"}


def read_tsv(name: str) -> list[list[str]]:
    lines = (DATA_DIR / name).read_text(encoding="utf-8").splitlines()
    return [line.split("\t") for line in lines if line.strip() and not line.startswith("#")]


def load_word_list(name: str) -> set[str]:
    """data/<name>: one entry per line (first tab-separated column), # comments."""
    return {row[0].strip() for row in read_tsv(name)}


def load_common_names() -> tuple[set[str], set[str]]:
    """data/common_names.tsv -> (common surnames and first names, plain English words)."""
    rows = read_tsv("common_names.tsv")
    names = {r[0] for r in rows if "surname" in r[1] or "first name" in r[1]}
    return names, {r[0] for r in rows} - names
