#!/usr/bin/env python3
"""Build agents/leaderwatch/leaders/data/gazetteer.jsonl from the two Wikidata extracts plus hand data.

Run from the repository root:

    python scripts/build_gazetteer.py --source ../shared/data/leaders \
        --out agents/leaderwatch/leaders/data/gazetteer.jsonl

Inputs
  <source>/heads_history_wikidata_2025-10.csv   (file 1: history, full dates, Portuguese labels)
  <source>/heads_current_wikidata_2026.csv      (file 2: 2026 snapshot, English labels, years)
  <data>/countries.tsv       sovereign countries (the only countries kept)
  <data>/manual_terms.csv    hand-curated terms and `drop` overrides (see NOTICE.md)
  <data>/english_names.tsv   qid -> English display name (fixes Portuguese / bare-QID labels)
  <data>/aliases.tsv         qid, alias, kind (full|short)

Output: one JSON object per person, sorted by qid, keys in fixed order. The output is fully
determined by the inputs and the --today date (default: the date in TODAY_DEFAULT, so that
re-running gives identical bytes; pass --today to move it).

pycountry is NOT needed: all country data is in countries.tsv.
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import re
import sys
import unicodedata
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SOURCE = (REPO / ".." / "shared" / "data" / "leaders")
DEFAULT_OUT = REPO / "agents" / "leaderwatch" / "leaders" / "data" / "gazetteer.jsonl"
FILE1 = "heads_history_wikidata_2025-10.csv"
FILE2 = "heads_current_wikidata_2026.csv"
# extra heads (former states, holes inside today's countries): file 1's columns, English labels,
# historical codes (SUN, DDR, CSK, YUG), dates also as reduced ISO 8601 (YYYY, YYYY-MM)
FILE_EXTRA = "heads_extra_wikidata.csv"
FILE_EXTRA_NOQID = "heads_extra_noqid_candidates.csv"  # same, no QID found: provisional "X-<slug>" ids

# Fixed "today" so the build is reproducible (the GAPS.md review date).
TODAY_DEFAULT = "2026-11-22"
MIN_DATE = "1945-01-01"
# An open-ended term that starts before this date is treated as a data error (drop the term).
OPEN_TERM_MIN_START = "1900-01-01"

ROLES = ("head_of_state", "head_of_government")

# Countries with collective / multiple simultaneous heads: never infer an end date there.
NO_AUTOCLOSE = {"CH", "BA", "AD", "NI"}
# Monarchs of several realms: file 1 lists some governors-general as heads of state too.
NO_AUTOCLOSE_PERSONS = {"Q43274"}

# Most newsworthy countries, used to break ties for the primary country of a person who holds
# office in several countries at once (Commonwealth monarchs, Andorra co-prince).
COUNTRY_RANK = (
    "US CN RU GB FR DE JP IN BR IT CA AU KR KP UA IL IR SA TR MX ID PK ZA AR ES NL PL EG NG AF "
    "IQ SY VE TW PH VN TH MY SG BD KE ET QA AE BY HU SE NO DK FI CH AT BE IE NZ CO CL PE CU GR "
    "PT VA"
).split()

# East Asian name order: family name first in the English label.
FAMILY_FIRST = {"CN", "TW", "KP", "KR", "KH", "MN", "HU_NEVER"}
# Japanese: English labels are given-name first; also emit the native (family-first) order.
FAMILY_LAST_REVERSIBLE = {"JP"}
KOREAN = {"KP", "KR"}

# Surnames / short forms never emitted as `short` (common English words or very common names).
SHORT_STOPLIST = {
    # common English words
    "may", "brown", "major", "rice", "church", "king", "young", "ford", "long", "love", "white",
    "black", "green", "rose", "hill", "wood", "woods", "little", "price", "banks", "bell", "cook",
    "hope", "faith", "grant", "hunt", "mark", "sharp", "best", "power", "rich",
    "small", "short", "strong", "wise", "good", "hall", "house", "page", "law",
    "land", "lord", "bishop", "pope", "prince", "queen", "emperor", "sultan", "emir", "sheikh",
    "shaikh", "general", "president", "minister", "chancellor", "premier", "captain", "regent",
    "duke", "grand", "saint", "san", "santa", "le", "la", "el", "al", "de", "da", "do", "dos",
    "van", "von", "der", "den", "bin", "ibn", "ben", "abu", "mac", "mc", "jr", "jr.", "sr",
    "sr.", "ii", "iii", "iv", "v", "vi", "x", "xiv", "first", "last", "new", "nation", "union",
    "free", "will", "hard", "golden", "gold", "silver", "stone", "field", "fields", "fox",
    "bird", "swan", "crane", "wolf", "lamb", "bull", "day", "night", "summer", "winter", "march",
    "april", "june", "august", "christmas", "english", "french", "german", "irish", "scott",
    "north", "south", "east", "west", "case", "head", "chief",
    "noble", "ward", "walker", "baker", "cooper", "fisher", "hunter", "mason", "turner",
    "parker", "miller", "taylor", "smith", "jones", "williams", "thomas",
    "james", "john", "charles", "george", "henry", "paul", "peter", "martin", "david",
    "michael", "joseph", "robert", "edward", "francis", "louis", "albert", "philip", "frederick",
    "william", "mary", "elizabeth", "anne", "victoria", "margaret", "juan", "jose", "josé",
    "carlos", "luis", "maria", "ali", "ahmed", "ahmad", "mohammed", "muhammad", "mohamed",
    "mohammad", "abdullah", "hassan", "hussein", "hamad", "khalifa", "salman", "zayed", "said",
    "sabah", "thani", "nahyan", "saud", "faisal", "fahd", "abdulaziz", "abdelaziz", "ahmed",
    "mohamud", "mahamat", "ibrahim", "ismail", "omar", "umar", "musa", "khan", "singh", "kumar",
    "sharma", "silva", "santos", "costa", "pereira", "fernandes", "rodrigues", "gonzalez",
    "gonzález", "rodríguez", "rodriguez", "garcia", "garcía", "martínez", "martinez", "lópez",
    "lopez", "pérez", "perez", "sánchez", "sanchez", "ramírez", "ramirez", "hernández",
    "hernandez", "diaz", "díaz", "gómez", "gomez", "torres", "flores",
    "cruz", "reyes", "rivera", "nguyen", "tran", "pham", "le", "jean", "pierre", "marie",
    "mr", "mrs", "dr", "sir", "lady", "dame", "mahmoud", "mustafa", "mostafa",
    "abdel", "abdul", "abd", "sheikh", "nasser", "jaber", "sultan", "rashid",
    "mansour", "bandar", "ould", "ag", "diallo", "traoré_never", "keita",
    "touré", "toure", "ba", "sow", "sy", "ndiaye", "diop", "kaba", "camara", "conde", "condé",
    "koroma", "kamara", "bangura", "sesay", "banda", "phiri", "mwale", "moyo", "ncube",
    "dlamini", "nkosi",
}
# (entries ending in _never are documentation placeholders for names deliberately allowed)

ROMAN = re.compile(r"^(?:[IVXLC]+)\.?$")
ARABIC_ARTICLE = r"^(?:al|el|Al|El|ad|as|an|ash|at|az)-(.+)$"  # the article joined to an Arabic surname
SUFFIXES = {"jr", "jr.", "sr", "sr.", "ii", "iii", "iv"}
PARTICLES = {"da", "de", "do", "dos", "das", "del", "della", "di", "du", "van", "von", "der",
             "den", "ter", "le", "la", "bin", "ibn", "ben", "al", "el", "abu", "ould", "ag",
             "bint", "y", "e"}
DATE_RE = re.compile(r"^(-?\d{4})-(\d{2})-(\d{2})")
REDUCED_DATE_RE = re.compile(r"^(\d{4})(?:-(\d{2}))?$")  # YYYY or YYYY-MM (file 3 precision)


# ----------------------------------------------------------------------------- helpers
def strip_diacritics(s: str) -> str:
    s = s.replace("ø", "o").replace("Ø", "O").replace("ł", "l").replace("Ł", "L")
    s = s.replace("đ", "d").replace("Đ", "D").replace("ß", "ss").replace("ı", "i")
    s = s.replace("æ", "ae").replace("Æ", "Ae").replace("œ", "oe").replace("þ", "th")
    s = s.replace("ð", "d").replace("ʻ", "'").replace("ʼ", "'").replace("’", "'")
    return "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c))


def parse_date(v: str, end: bool = False):
    """Return (status, 'YYYY-MM-DD'|None). status: 'ok', 'empty', 'unknown'. Reduced precision
    (YYYY, YYYY-MM) is the period's first day, or its last day for an `end`."""
    v = (v or "").strip()
    if not v:
        return "empty", None
    if v.startswith("http"):
        return "unknown", None
    reduced = REDUCED_DATE_RE.match(v)
    if reduced:
        y, mo = int(reduced.group(1)), int(reduced.group(2) or 0)
        if not end:
            return "ok", f"{y:04d}-{mo or 1:02d}-01"
        last = dt.date(y, 12, 31) if not mo else (dt.date(y + (mo == 12), mo % 12 + 1, 1) - dt.timedelta(days=1))
        return "ok", last.isoformat()
    m = DATE_RE.match(v)
    if not m or v.startswith("-"):
        return "unknown", None
    y, mo, d = m.groups()
    if mo == "00":
        mo = "01"
    if d == "00":
        d = "01"
    return "ok", f"{y}-{mo}-{d}"


def next_day(d: str) -> str:
    try:
        return (dt.date.fromisoformat(d) + dt.timedelta(days=1)).isoformat()
    except ValueError:
        return d


def read_tsv(path: Path):
    with path.open(encoding="utf-8", newline="") as fh:
        rows = [line.rstrip("\n").split("\t") for line in fh if line.strip() and not line.startswith("#")]
    header, body = rows[0], rows[1:]
    return [dict(zip(header, r + [""] * (len(header) - len(r)))) for r in body]


def read_csv(path: Path):
    with path.open(encoding="utf-8", newline="") as fh:
        return [r for r in csv.DictReader(line for line in fh if not line.startswith("#"))]


def is_qid(s: str) -> bool:
    return bool(re.fullmatch(r"Q\d+", s or ""))


# ----------------------------------------------------------------------------- loading
def load_countries(data_dir: Path):
    rows = read_tsv(data_dir / "countries.tsv")
    iso3 = {r["iso3"]: r["iso2"] for r in rows}
    qid = {r["qid"]: r["iso2"] for r in rows}
    # file 2 uses the "Kingdom of ..." items for Denmark and the Netherlands
    qid.setdefault("Q35", "DK")
    qid.setdefault("Q55", "NL")
    return rows, iso3, qid


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", strip_diacritics(name).lower()).strip("-")


def provisional_qid(name: str) -> str:
    """The gazetteer's placeholder for a person with no Wikidata id in any source: X-<slug>."""
    return f"X-{slug(name)}"


def load_file1(path: Path, iso3_map, src: str = "f1", provisional: bool = False):
    """File 1 or a file with its columns. `provisional`: rows without a QID get X-<slug> ids."""
    terms = []  # dicts: qid, label, country, role, start, end, src
    labels = {}
    stats = defaultdict(int)
    for r in read_csv(path):
        stats["rows"] += 1
        q = r["person_qid"].strip()
        if provisional and not q and r["person"].strip():
            q = provisional_qid(r["person"].strip())
            stats["provisional_ids"] += 1
        elif not is_qid(q):
            stats["bad_qid"] += 1
            continue
        c = iso3_map.get(r["iso3"])
        if c is None:
            stats["not_sovereign"] += 1
            continue
        ss, s = parse_date(r["start"])
        es, e = parse_date(r["end"], end=True)
        if s is None and e is None:
            stats["no_dates"] += 1
            continue
        if ss == "unknown" and e is None:
            stats["unknown_start_open"] += 1
            continue
        lab = r["person"].strip()
        if lab and not is_qid(lab) and not lab.startswith("http"):
            labels.setdefault(q, lab)
        if s and e and s > e:
            stats["start_after_end"] += 1
            continue
        terms.append(dict(qid=q, country=c, role=r["role"], start=s, end=e, src=src))
    return terms, labels, stats


def file2_role(position_label: str) -> str:
    p = position_label.lower()
    hog_words = ("prime minister", "premier", "chancellor", "taoiseach", "council of ministers",
                 "head of government", "state administration council")
    if any(w in p for w in hog_words):
        return "head_of_government"
    return "head_of_state"


def load_file2(path: Path, qid_map):
    rows = []
    labels = {}
    open_now = set()  # (qid, country) listed as in office at the 2026 snapshot
    gov_generals = set()
    for r in read_csv(path):
        c = qid_map.get(r["countryid"])
        q = r["officeholder"].strip()
        if c is None or not is_qid(q):
            continue
        lab = r["officeholderLabel"].strip()
        if lab and not is_qid(lab):
            labels.setdefault(q, lab)
        if "governor-general" in r["positionLabel"].lower():
            gov_generals.add(q)
            continue
        sy, ey = r["start_year"].strip(), r["end_year"].strip()
        if not sy:
            continue
        if not ey:
            open_now.add((q, c))
        rows.append(dict(qid=q, country=c, role=file2_role(r["positionLabel"]),
                         start=f"{int(sy):04d}-01-01", end=(f"{int(ey):04d}-12-31" if ey else None),
                         src="f2"))
    return rows, labels, open_now, gov_generals


# ----------------------------------------------------------------------------- term logic
def autoclose(terms, open_now, stats):
    """Close stale open-ended source terms at the next start of another person in the same
    country+role (unless the person is confirmed in office by file 2)."""
    by_slot = defaultdict(list)
    for t in terms:
        by_slot[(t["country"], t["role"])].append(t)
    for (c, role), ts in by_slot.items():
        if c in NO_AUTOCLOSE:
            continue
        for t in ts:
            if t["end"] is not None or t["start"] is None or t["src"] == "manual":
                continue
            if t["qid"] in NO_AUTOCLOSE_PERSONS:
                continue
            later = sorted(o["start"] for o in ts
                           if o["qid"] != t["qid"] and o["start"] and o["start"] > t["start"])
            if later:
                t["end"] = later[0]
                t["autoclosed"] = True
                stats["autoclosed"] += 1
                if (t["qid"], t["country"]) in open_now:
                    stats["autoclosed_despite_file2"] += 1
                    stats.setdefault("_autoclosed_f2", []).append((c, role, t["qid"], t["end"]))


def merge_terms(ts):
    """Merge overlapping / adjacent terms of one person+country+role."""
    ts = sorted(ts, key=lambda t: (t["start"] or "0000-00-00", t["end"] or "9999-99-99"))
    out = []
    for t in ts:
        if out:
            cur = out[-1]
            if cur["end"] is None:
                continue  # open term absorbs everything after it
            if t["start"] is None or t["start"] <= next_day(cur["end"]):
                if t["end"] is None or t["end"] > cur["end"]:
                    cur["end"] = t["end"]
                continue
        out.append(dict(start=t["start"], end=t["end"]))
    return out


def overlaps_window(t, lo, hi):
    s = t["start"] or "0000-01-01"
    e = t["end"] or "9999-12-31"
    return s <= hi and e >= lo


# ----------------------------------------------------------------------------- names/aliases
def tokens(name: str):
    return name.split()


def is_initial(tok: str) -> bool:
    return bool(re.fullmatch(r"[A-Z]\.(?:[A-Z]\.)*", tok))


def korean_variants(name: str):
    """'Kim Jong-un' -> Kim Jong Un / Kim Jong-Un / Kim Jong-un; 'Moon Jae-in' likewise."""
    toks = name.split()
    out = set()
    if len(toks) == 2 and "-" in toks[1]:
        a, b = toks[1].split("-", 1)
        out.add(f"{toks[0]} {a}-{b.lower()}")
        out.add(f"{toks[0]} {a}-{b.capitalize()}")
        out.add(f"{toks[0]} {a} {b.capitalize()}")
    elif len(toks) == 3 and all(t[:1].isupper() for t in toks):
        out.add(f"{toks[0]} {toks[1]}-{toks[2].lower()}")
        out.add(f"{toks[0]} {toks[1]}-{toks[2].capitalize()}")
        out.add(name)
    return out


def generated_forms(name: str, country: str):
    """Return (full_aliases, short_forms) generated from an English name."""
    full, short = [], []
    if not name or is_qid(name):
        return full, short
    toks = tokens(name)
    full.append(name)
    # without middle initials: "George W. Bush" -> "George Bush"
    if len(toks) >= 3:
        core = [t for i, t in enumerate(toks) if not (0 < i < len(toks) - 1 and is_initial(t))]
        if core != toks and len(core) >= 2:
            full.append(" ".join(core))
    # suffix-less: "Ferdinand Marcos Jr." -> "Ferdinand Marcos"
    base = list(toks)
    while len(base) > 2 and base[-1].lower().rstrip(",") in SUFFIXES:
        base = base[:-1]
    if base != toks:
        full.append(" ".join(base))
    # first + last for 3-token names without particles/initials ("Recep Tayyip Erdoğan")
    if len(base) == 3 and not any(t.lower() in PARTICLES or is_initial(t) for t in base) \
            and country not in FAMILY_FIRST and not ROMAN.match(base[-1]):
        full.append(f"{base[0]} {base[2]}")
    # without the Arabic article, as AP and many papers write it: "Nouri al-Maliki" -> "Nouri Maliki"
    article = re.match(ARABIC_ARTICLE, base[-1]) if len(base) >= 2 else None
    if article:
        full.append(" ".join(base[:-1] + [article.group(1)]))
    if country in KOREAN:
        full.extend(sorted(korean_variants(name)))
    if country in FAMILY_LAST_REVERSIBLE and len(base) == 2:
        full.append(f"{base[1]} {base[0]}")
    # short form
    if ROMAN.match(base[-1]) or len(base) == 1:
        pass  # regnal names ("Charles III") and mononyms: short forms come from aliases.tsv
    elif country in FAMILY_FIRST:
        short.append(base[0])
    else:
        last = base[-1]
        if len(base) >= 3 and base[-2].lower() in PARTICLES:
            short.append(f"{base[-2]} {last}")
        short.append(last)
        m = re.match(ARABIC_ARTICLE, last)
        if m:
            short.append(m.group(1))
    # diacritic-stripped variants
    for lst in (full, short):
        for a in list(lst):
            b = strip_diacritics(a)
            if b != a:
                lst.append(b)
    return full, short


# ------------------------------------------------------------------ monarchs by title and given name
MONARCH_TITLES = ("king", "queen", "emperor", "empress", "emir", "amir", "sultan", "prince", "grand duke",
                  "grand duchess", "pope", "shah")
TITLE_WORDS = {"king", "queen", "sultan", "sheikh", "emir", "amir", "prince", "tuanku", "pope", "papa", "saint"}


def regnal_given_name(name: str, place_names: set[str]) -> str | None:
    """The name a monarch is called by after a title ("King Abdullah", "Queen Beatrix", "Pope
    John Paul"), or None when `name` does not read as a monarch's: a territorial designation ("of
    Jordan", ", Prince of Monaco", "do Mónaco", or any "of/da ..." after a regnal number) is cut;
    with a regnal number every other word is kept ("Carl XVI Gustaf" -> "Carl Gustaf"), as is
    the whole name left of a designation ("Ahmad Tajuddin of Brunei"); a name with "bin" (Gulf
    dynasties) gives its first word ("Qaboos bin Said" -> "Qaboos"), a single word itself. A
    president's or a governor-general's "Bill Hayden" gives None."""
    base = re.sub(r",\s+(?:Grand Duke|Grand Duchess|Prince|Princess|King|Queen|Emir|Sultan|Crown Prince)\s+of\s+.+$", "", name)
    designated = base != name
    m = re.match(r"^(.+?)\s+(?:of|de|do|da|von)\s+(?:the\s+)?(.+)$", base)
    if m and (strip_diacritics(m.group(2)).lower() in place_names or ROMAN.match(m.group(1).split()[-1])
              or (len(m.group(1).split()) == 1 and m.group(2)[:1].isupper())):  # "Hussein da Jordânia"
        base, designated = m.group(1), True
    words = [w for w in base.split() if w.lower().strip(",") not in TITLE_WORDS]
    if not words:
        return None
    if any(ROMAN.match(w) for w in words[1:]):
        return " ".join(w for w in words if not ROMAN.match(w))
    if designated or len(words) == 1:
        return " ".join(words)
    return words[0] if "bin" in words else None


def monarch_titled_forms(person: dict, titles_of: dict, place_names: set[str], realm_monarch_terms: dict) -> list[str]:
    """"<Title> <given name>" for each monarchic title of each country whose head of state the
    person was, where that country's first title is a monarch's ("King Abdullah", "Amir Tamim",
    "Grand Duke Henri", "Pope Benedict"); not for a term that overlaps a realm monarch's in the
    same country (a governor-general). Several monarchs may share a form (two King Abdullahs):
    the matcher picks by the page's date."""
    given = regnal_given_name(person["name"], place_names)
    if not given:
        return []
    out = []
    for term in person["terms"]:
        titles = titles_of.get(term["country"], ())
        if term["role"] != "head_of_state" or not titles or titles[0] not in MONARCH_TITLES:
            continue
        if any(overlap(term, other) for other in realm_monarch_terms.get(term["country"], ()) if other is not term):
            continue
        out += [f"{title.title()} {given}" for title in titles if title in MONARCH_TITLES]
    # a monarch already called "King Felipe" (aliases.tsv) is not also "Queen Felipe"
    def called(title: str) -> bool:
        return any(a.lower().startswith(title + " ") for a in person.get("aliases", ()))

    for one, other in (("king", "queen"), ("emperor", "empress"), ("grand duke", "grand duchess")):
        for mine, theirs in ((one, other), (other, one)):
            if called(mine) and not called(theirs):
                out = [f for f in out if not f.lower().startswith(theirs + " ")]
    return uniq(out)


def overlap(a: dict, b: dict) -> bool:
    return (a["start"] or "") < (b["end"] or "9999") and (b["start"] or "") < (a["end"] or "9999")


CONSONANTS = "bcdfghjklmnpqrstvwxz"
DEGEMINATE_MIN = 7


def load_spelling_rules(data_dir: Path):
    path = data_dir / "spelling_rules.tsv"
    if not path.exists():
        return []
    rules = []
    for r in read_tsv(path):
        scope = None if r["countries"].strip() == "*" else set(r["countries"].split("|"))
        kind = r["kind"].strip()
        if kind not in ("given", "char", "surname", "degeminate"):
            raise SystemExit(f"spelling_rules.tsv: bad kind {kind!r}")
        rules.append((scope, kind, r["from"], r["to"]))
    return rules


def _apply(rule, name: str) -> str:
    _, kind, src, dst = rule
    toks = name.split()
    if kind == "given":
        return " ".join([dst] + toks[1:]) if len(toks) >= 2 and toks[0] == src else name
    if kind == "char":
        return name.replace(src, dst)
    if kind == "surname":
        return " ".join(toks[:-1] + [re.sub(src, dst, toks[-1])])
    return name


def degeminated(token: str):
    """'Mitterrand' -> ['Mitterand']: each doubled consonant written once (7+ letters only)."""
    if len(token) < DEGEMINATE_MIN:
        return []
    out = []
    for i in range(1, len(token)):
        if token[i] == token[i - 1] and token[i].lower() in CONSONANTS and i > 1:
            out.append(token[:i] + token[i + 1:])
    return out


def spelling_variants(name: str, countries: set[str], rules, surname_only: bool = False):
    """Other spellings of `name` by the rules for any of the person's countries: each rule alone,
    all of them together, the surname's doubled consonants written once, particles capitalised."""
    applicable = [r for r in rules if r[1] != "degeminate" and (r[0] is None or r[0] & countries)
                  and not (surname_only and r[1] == "given")]
    out = []
    combined = name
    for rule in applicable:
        v = _apply(rule, name)
        if v != name:
            out.append(v)
            combined = _apply(rule, combined)
    if combined != name:
        out.append(combined)
    toks = name.split()
    if any(r[1] == "degeminate" and (r[0] is None or r[0] & countries) for r in rules) and toks:
        out += [" ".join(toks[:-1] + [d]) for d in degeminated(toks[-1])]
    # particles in either case: "Ciriaco de Mita" / "Ciriaco De Mita", "de Mita" / "De Mita"
    for i, t in enumerate(toks[:-1]):
        if t.lower() in PARTICLES and t.islower() and (i > 0 or surname_only) and len(t) > 1:
            out.append(" ".join(toks[:i] + [t.capitalize()] + toks[i + 1:]))
    return [v for v in uniq(out) if v != name]


def uniq(seq):
    seen, out = set(), []
    for x in seq:
        if x and x not in seen:
            seen.add(x)
            out.append(x)
    return out


# ----------------------------------------------------------------------------- main build
def build(source: Path, data_dir: Path, today: str):
    stats = defaultdict(int)
    country_rows, iso3_map, qid_map = load_countries(data_dir)
    countries = {r["iso2"] for r in country_rows}
    rank = {c: i for i, c in enumerate(COUNTRY_RANK)}

    f1_terms, f1_labels, s1 = load_file1(source / FILE1, iso3_map)
    stats.update({f"file1_{k}": v for k, v in s1.items()})
    # file 3 (extra heads: former states, holes) counts as file 1: full or reduced-precision dates
    for name, provisional in ((FILE_EXTRA, False), (FILE_EXTRA_NOQID, True)):
        if (source / name).exists():
            x_terms, x_labels, sx = load_file1(source / name, iso3_map, src="f3", provisional=provisional)
            stats.update({f"{name}_{k}": v for k, v in sx.items()})
            f1_terms += x_terms
            for q, lab in x_labels.items():
                f1_labels.setdefault(q, lab)
    f2_terms, f2_labels, open_now, gov_generals = load_file2(source / FILE2, qid_map)
    # governors-general are not heads of state (file 1 lists a few of them as such)
    f1_terms = [t for t in f1_terms if t["qid"] not in gov_generals]

    # File 2 (year precision) is used only where file 1 lacks the person in that country, or
    # for a new term: file 2 start year after every (closed) file 1 term of person+country.
    f1_slots = defaultdict(list)
    for t in f1_terms:
        f1_slots[(t["qid"], t["country"])].append(t)
    terms = list(f1_terms)
    for t in f2_terms:
        prev = f1_slots.get((t["qid"], t["country"]))
        if prev:
            if any(p["end"] is None for p in prev):
                continue
            if t["start"][:4] <= max(p["end"] for p in prev)[:4]:
                continue
        terms.append(t)
        stats["file2_terms_used"] += 1

    # hand data
    manual = read_csv(data_dir / "manual_terms.csv")
    eng_names = {r["qid"]: r["name"] for r in read_tsv(data_dir / "english_names.tsv")}
    alias_rows = read_tsv(data_dir / "aliases.tsv")

    drop_person, drop_country, drop_role = set(), set(), set()
    manual_terms = []
    manual_names = {}
    for r in manual:
        q, role, c = r["qid"].strip(), r["role"].strip(), r["country"].strip()
        if role == "drop":
            if c:
                drop_country.add((q, c))
            else:
                drop_person.add(q)
            continue
        if role.startswith("drop_"):
            drop_role.add((q, c, role[5:]))
            continue
        if role not in ROLES:
            raise SystemExit(f"manual_terms.csv: bad role {role!r} for {q}")
        if c not in countries:
            raise SystemExit(f"manual_terms.csv: unknown country {c!r} for {q}")
        if r["name"].strip():
            manual_names.setdefault(q, r["name"].strip())
        manual_terms.append(dict(qid=q, country=c, role=role, start=r["start"].strip() or None,
                                 end=r["end"].strip() or None, src="manual"))

    terms = [t for t in terms
             if t["qid"] not in drop_person and (t["qid"], t["country"]) not in drop_country
             and (t["qid"], t["country"], t["role"]) not in drop_role]
    # open-ended terms starting before 1900 are bogus
    terms = [t for t in terms if not (t["end"] is None and (t["start"] or "") < OPEN_TERM_MIN_START)]
    # an open-ended source row with the same start as a closed row of the same
    # person+country+role is a stale duplicate statement: drop it
    closed_starts = {(t["qid"], t["country"], t["role"], t["start"]) for t in terms if t["end"]}
    n0 = len(terms)
    terms = [t for t in terms if not (t["end"] is None and
             (t["qid"], t["country"], t["role"], t["start"]) in closed_starts)]
    stats["stale_open_duplicates_dropped"] = n0 - len(terms)

    # manual rows replace all source terms of the same person+country+role
    manual_keys = {(t["qid"], t["country"], t["role"]) for t in manual_terms}
    terms = [t for t in terms if (t["qid"], t["country"], t["role"]) not in manual_keys]
    terms += manual_terms
    autoclose(terms, open_now, stats)
    stats["manual_terms"] = len(manual_terms)

    # group and merge
    grouped = defaultdict(list)
    for t in terms:
        grouped[(t["qid"], t["country"], t["role"])].append(t)
    person_terms = defaultdict(list)
    for (q, c, role), ts in grouped.items():
        for m in merge_terms(ts):
            if m["start"] and m["start"] > today:
                continue
            if m["end"] and m["end"] > today:
                m["end"] = None if m["end"] >= "9999" else m["end"]
            person_terms[q].append(dict(role=role, country=c, start=m["start"], end=m["end"]))

    # aliases from hand data
    hand_full, hand_short = defaultdict(list), defaultdict(list)
    for r in alias_rows:
        q, a, k = r["qid"].strip(), r["alias"].strip(), r["kind"].strip()
        if not a:
            continue
        if k == "full" and len(a.split()) >= 2:
            hand_full[q].append(a)
        elif k in ("full", "short"):
            hand_short[q].append(a)
        else:
            raise SystemExit(f"aliases.tsv: bad kind {k!r} for {q}")

    people = {}
    for q, ts in person_terms.items():
        if not any(overlaps_window(t, MIN_DATE, today) for t in ts):
            continue
        ts.sort(key=lambda t: (t["start"] or "", t["country"], t["role"]))
        # primary country: country of the most recent term (open > latest end > latest start)
        def recency(t):
            return (t["end"] or "9999-99-99", t["start"] or "", -rank.get(t["country"], 999))
        primary = max(ts, key=recency)["country"]
        name = (eng_names.get(q) or f2_labels.get(q) or manual_names.get(q)
                or f1_labels.get(q) or q)
        people[q] = dict(qid=q, name=name, country=primary, terms=ts)
    stats["persons"] = len(people)

    # generated aliases + collision handling
    rules = load_spelling_rules(data_dir)
    gen_full = {}
    gen_short = {}
    for q, p in people.items():
        f, s = generated_forms(p["name"], p["country"])
        held = {t["country"] for t in p["terms"]} | {p["country"]}
        f = uniq(f + [v for a in f if len(a.split()) >= 2 for v in spelling_variants(a, held, rules)])
        s = uniq(s + [v for a in s if a.lower() not in SHORT_STOPLIST for v in spelling_variants(a, held, rules, surname_only=True)])
        gen_full[q], gen_short[q] = f, s
    owners = defaultdict(set)
    for q, f in gen_full.items():
        for a in set(f):
            owners[a.lower()].add(q)
    hand_owner = defaultdict(set)
    for q, f in hand_full.items():
        if q in people:
            for a in f:
                hand_owner[a.lower()].add(q)
    name_owner = defaultdict(set)
    for q, p in people.items():
        name_owner[p["name"].lower()].add(q)
    collisions = []
    for q, p in people.items():
        full = []
        for a in gen_full[q]:
            key = a.lower()
            others = (owners[key] | hand_owner[key]) - {q}
            # a person's own display name beats another person's derived variant
            if name_owner[key] == {q} and not (hand_owner[key] - {q}):
                others = set()
            elif name_owner[key] - {q} and q not in name_owner[key]:
                others = others | name_owner[key]
            if others and q not in hand_owner[key]:
                collisions.append((a, q))
                continue
            full.append(a)
        full += hand_full.get(q, [])
        # single-token generated forms (mononyms such as "Akihito") stay in full: they are the
        # person's whole name; any other single token goes to short.
        full = uniq(full)
        short = uniq([s for s in gen_short[q] if s.lower() not in SHORT_STOPLIST]
                     + hand_short.get(q, []))
        full_lower = {a.lower() for a in full}
        short = [s for s in short if s.lower() not in full_lower or len(s.split()) == 1]
        if len(tokens(p["name"])) == 1 and p["name"] in short:
            short.remove(p["name"])
        p["aliases"] = full
        p["short"] = short
    stats["generated_full_collisions_dropped"] = len(collisions)
    # monarchs by title and given name: shared ones are kept (the matcher picks by date), unless
    # another person has that alias by hand or by display name
    titles_of = {r["iso2"]: tuple(x.strip().lower() for x in r["hos_titles"].split("|") if x.strip())
                 for r in country_rows}
    place_names = {strip_diacritics(n).lower() for r in country_rows for n in [r["name"], *r["names"].split("|")] if n}
    realm_monarch_terms = defaultdict(list)  # a head of state of 3+ countries: the Commonwealth realms' monarch
    for p in people.values():
        heads = [t for t in p["terms"] if t["role"] == "head_of_state"]
        if len({t["country"] for t in heads}) >= 3:
            for t in heads:
                realm_monarch_terms[t["country"]].append(t)
    for q, p in people.items():
        known = {a.lower() for a in p["aliases"]}
        for form in monarch_titled_forms(p, titles_of, place_names, realm_monarch_terms):
            key = form.lower()
            if key in known or (hand_owner[key] | name_owner[key]) - {q}:
                continue
            p["aliases"].append(form)
            stats["monarch_titled_forms"] += 1

    unknown_alias_qids = sorted((set(hand_full) | set(hand_short)) - set(people))
    return people, stats, collisions, unknown_alias_qids


def dump(people) -> bytes:
    lines = []
    for q in sorted(people):
        p = people[q]
        obj = {"qid": p["qid"], "name": p["name"], "country": p["country"],
               "aliases": p["aliases"], "short": p["short"],
               "terms": [{"role": t["role"], "country": t["country"], "start": t["start"],
                          "end": t["end"]} for t in p["terms"]]}
        lines.append(json.dumps(obj, ensure_ascii=False, separators=(", ", ": ")))
    return ("\n".join(lines) + "\n").encode("utf-8")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    ap.add_argument("--data", type=Path, default=REPO / "agents" / "leaderwatch" / "leaders" / "data",
                    help="hand data directory (countries.tsv, manual_terms.csv, ...)")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--today", default=TODAY_DEFAULT)
    ap.add_argument("--verbose", "-v", action="store_true")
    a = ap.parse_args(argv)
    people, stats, collisions, unknown = build(a.source, a.data, a.today)
    data = dump(people)
    a.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = a.out.with_suffix(a.out.suffix + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(a.out)
    nterms = sum(len(p["terms"]) for p in people.values())
    print(f"wrote {a.out}: {len(people)} persons, {nterms} terms", file=sys.stderr)
    if a.verbose:
        for k in sorted(stats):
            print(f"  {k}: {stats[k]}", file=sys.stderr)
        for al, q in sorted(collisions):
            print(f"  collision dropped: {al!r} ({q})", file=sys.stderr)
        for q in unknown:
            print(f"  aliases.tsv qid not in gazetteer: {q}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
