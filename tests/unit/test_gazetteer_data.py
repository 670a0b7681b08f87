"""Fact checks on the leader gazetteer data (agents/leaderwatch/leaders/data/)."""
from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
DATA = ROOT / "agents/leaderwatch/leaders/data"
GAZ = DATA / "gazetteer.jsonl"
SOURCE = ROOT.parent / "shared" / "data" / "leaders"

# Full-name aliases legitimately shared by two persons (none at present; add with a reason).
ALLOWED_FULL_COLLISIONS: set[str] = set()
# ... except a monarch's title and given name, which several reigns share ("King Abdullah": Abdullah I
# and II of Jordan, Abdullah of Saudi Arabia); the matcher picks the one reigning on the page's date
MONARCH_TITLE = re.compile(r"^(?:king|queen|emperor|empress|emir|amir|sultan|prince|grand duke|grand duchess|pope|shah) ")


@pytest.fixture(scope="module")
def people():
    with GAZ.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


@pytest.fixture(scope="module")
def by_qid(people):
    return {p["qid"]: p for p in people}


@pytest.fixture(scope="module")
def countries():
    with (DATA / "countries.tsv").open(encoding="utf-8", newline="") as fh:
        return {r["iso2"]: r for r in csv.DictReader(fh, delimiter="\t")}


def terms(p, role=None, country=None):
    return [t for t in p["terms"]
            if (role is None or t["role"] == role) and (country is None or t["country"] == country)]


def test_jsonl_sorted_unique_and_shaped(people):
    qids = [p["qid"] for p in people]
    assert qids == sorted(qids)
    assert len(set(qids)) == len(qids)
    for p in people:
        assert list(p) == ["qid", "name", "country", "aliases", "short", "terms"]
        assert p["name"] and not re.fullmatch(r"Q\d+", p["name"]), p["qid"]


def test_takaichi(by_qid):
    p = by_qid["Q1705028"]
    assert p["name"] == "Sanae Takaichi" and p["country"] == "JP"
    assert terms(p, "head_of_government", "JP") == [
        {"role": "head_of_government", "country": "JP", "start": "2025-10-21", "end": None}]
    assert "Takaichi" in p["short"]
    assert "Takaichi Sanae" in p["aliases"]


def test_ishiba_ends(by_qid):
    ts = terms(by_qid["Q1335527"], "head_of_government", "JP")
    assert [(t["start"], t["end"]) for t in ts] == [("2024-10-01", "2025-10-21")]


def test_kishida_single_merged_term(by_qid):
    ts = terms(by_qid["Q359480"], "head_of_government", "JP")
    assert [(t["start"], t["end"]) for t in ts] == [("2021-10-04", "2024-10-01")]


def test_kim_jong_un(by_qid):
    p = by_qid["Q56226"]
    assert "Kim Jong Un" in p["aliases"] and "Kim Jong-un" in p["aliases"]
    assert "Kim" in p["short"]
    assert any(t["country"] == "KP" and t["end"] is None for t in p["terms"])


def test_charles_iii(by_qid):
    p = by_qid["Q43274"]
    assert p["name"] == "Charles III" and p["country"] == "GB"
    assert terms(p, "head_of_state", "GB")
    assert "King Charles" in p["aliases"]


def test_english_names_fixed(by_qid):
    assert by_qid["Q450675"]["name"] == "Pope Francis"
    assert by_qid["Q9682"]["name"] == "Elizabeth II"
    assert by_qid["Q34453"]["name"] == "Boris Yeltsin"
    for q, name in [("Q3052772", "Emmanuel Macron"), ("Q1058", "Narendra Modi"),
                    ("Q272201", "Liz Truss"), ("Q5771800", "Claudia Sheinbaum")]:
        assert by_qid[q]["name"] == name


def test_current_heads(by_qid):
    def open_in(q, role, c):
        return any(t["end"] is None for t in terms(by_qid[q], role, c))
    assert open_in("Q22686", "head_of_state", "US")          # Trump
    assert open_in("Q7747", "head_of_state", "RU")           # Putin
    assert open_in("Q15031", "head_of_state", "CN")          # Xi
    assert open_in("Q566257", "head_of_government", "DE")    # Merz
    assert not open_in("Q61053", "head_of_government", "DE")  # Scholz left
    assert not open_in("Q11869065", "head_of_government", "EE")  # Kallas left 2024


def test_bogus_rows_dropped(people, by_qid):
    names = {p["name"] for p in people}
    assert "Phil Baker" not in names
    assert "Q107054330" not in by_qid
    assert "Q124846311" not in by_qid  # Haiti council (organization)
    assert not terms(by_qid["Q58833335"], "head_of_government")  # Guaidó


def test_every_person_has_terms_in_known_countries(people, countries):
    for p in people:
        assert p["terms"], p["qid"]
        assert p["country"] in countries, p["qid"]
        for t in p["terms"]:
            assert t["country"] in countries, (p["qid"], t)
            assert t["role"] in ("head_of_state", "head_of_government")
            assert t["start"] is None or len(t["start"]) == 10
            assert t["end"] is None or len(t["end"]) == 10
            if t["start"] and t["end"]:
                assert t["start"] <= t["end"], (p["qid"], t)


def test_terms_overlap_modern_era(people):
    for p in people:
        assert any((t["end"] or "9999") >= "1945-01-01" for t in p["terms"]), p["qid"]


def test_no_shared_full_alias(people):
    owners = defaultdict(set)
    for p in people:
        for a in p["aliases"]:
            owners[a.lower()].add(p["qid"])
    shared = {a: q for a, q in owners.items() if len(q) > 1 and a not in ALLOWED_FULL_COLLISIONS}
    regnal = {a for a in shared if MONARCH_TITLE.match(a) and len(a.split()) <= 3}
    assert not set(shared) - regnal, sorted((a, q) for a, q in shared.items() if a not in regnal)[:10]
    assert {"king abdullah", "king mohammed"} <= regnal


def test_short_stoplist_respected(by_qid):
    assert "May" not in by_qid["Q264766"]["short"]     # Theresa May
    assert "Brown" not in by_qid["Q10648"]["short"]    # Gordon Brown
    assert "Major" not in by_qid["Q9559"]["short"]     # John Major
    assert "Bush" in by_qid["Q207"]["short"]
    for p in by_qid.values():
        for s in p["short"]:
            assert s.lower() not in {"may", "major", "rice", "church", "king", "young"}, p["qid"]


def test_common_surface_forms(by_qid):
    assert "Trump" in by_qid["Q22686"]["short"]
    assert "Modi" in by_qid["Q1058"]["short"]
    assert "Zelenskyy" in by_qid["Q3874799"]["short"]
    assert "Zelensky" in by_qid["Q3874799"]["short"]
    assert "Volodymyr Zelensky" in by_qid["Q3874799"]["aliases"]
    assert "Recep Tayyip Erdogan" in by_qid["Q39259"]["aliases"]
    assert "Lula" in by_qid["Q37181"]["short"]
    assert "Queen Elizabeth" in by_qid["Q9682"]["aliases"]
    assert "Xi" in by_qid["Q15031"]["short"]


def test_countries_titles(countries):
    for iso in ["JP", "KP", "US", "GB", "DE", "FR", "CN", "RU", "IN", "BR"]:
        r = countries[iso]
        assert r["hos_titles"] and r["hog_titles"], iso
        assert r["leader_role"] in ("head_of_state", "head_of_government")
        assert r["demonyms"] and r["names"]
    assert countries["DE"]["hog_titles"] == "chancellor"
    assert "prime minister" in countries["JP"]["hog_titles"].split("|")
    assert countries["JP"]["leader_role"] == "head_of_government"
    assert countries["US"]["leader_role"] == "head_of_state"
    assert "Korea" not in countries["KR"]["names"].split("|")
    for iso in ["XK", "PS", "TW", "VA"]:
        assert iso in countries
    former = {iso for iso, r in countries.items() if r.get("status") == "former"}
    assert former == {"SU", "DD", "CS", "YU"}
    assert len(countries) - len(former) == 197


@pytest.mark.skipif(not (SOURCE / "heads_history_wikidata_2025-10.csv").exists(),
                    reason="../shared/data/leaders not available")
def test_build_is_deterministic(tmp_path):
    out = tmp_path / "gazetteer.jsonl"
    subprocess.run([sys.executable, str(ROOT / "scripts/build_gazetteer.py"),
                    "--source", str(SOURCE), "--out", str(out)], check=True, cwd=ROOT)
    assert out.read_bytes() == GAZ.read_bytes()
