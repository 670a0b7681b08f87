"""Leader updates: CSV rows in the shared data's format -> gazetteer records -> a matcher that links them."""
from __future__ import annotations

from datetime import date

import pytest

from leaderwatch.leaders.gazetteer import load_countries, load_rows
from leaderwatch.leaders.matcher import LeaderMatcher
from leaderwatch.leaders.updates import merge_records, parse_day, records_from_csv, updated_gazetteer

HEADER = "iso3,country,role,person,person_qid,start,end,party,end_cause\n"


def test_reduced_precision_dates_span_their_period():
    assert parse_day("1987") == "1987-01-01" and parse_day("1987", end=True) == "1987-12-31"
    assert parse_day("2024-02", end=True) == "2024-02-29" and parse_day("2025-12", end=True) == "2025-12-31"
    assert parse_day("2019-10-30T00:00:00Z") == "2019-10-30" and parse_day("") is None
    with pytest.raises(ValueError, match="not a date"):
        parse_day("soon")


def test_a_new_leader_is_linked_by_full_name_and_then_by_surname():
    records = records_from_csv(HEADER + "FRA,France,head_of_government,Zorvan Télquist,,2026-11,,,\n", load_countries())
    assert records == [{"qid": "X-zorvan-telquist", "name": "Zorvan Télquist", "country": "FR",
                        "aliases": ["Zorvan Télquist", "Zorvan Telquist"], "short": ["Télquist"],
                        "terms": [{"role": "head_of_government", "country": "FR", "start": "2026-11-01", "end": None}]}]
    base = load_rows()
    before = LeaderMatcher(updated_gazetteer(base, {}, load_countries()))
    after = LeaderMatcher(updated_gazetteer(base, {r["qid"]: r for r in records}, load_countries()))
    text = "Prime Minister Zorvan Télquist met unions on Friday. Télquist promised talks."
    assert not [m for m in before.find(text, date(2026, 11, 20)) if m.qid.startswith("X-zorvan")]
    assert [m.surface for m in after.find(text, date(2026, 11, 20)) if m.qid == "X-zorvan-telquist"] == \
        ["Zorvan Télquist", "Télquist"]


def test_an_update_adds_a_term_to_a_known_leader_and_keeps_the_rest():
    base = load_rows()
    qid = "Q1705028"  # Sanae Takaichi
    [record] = records_from_csv(HEADER + f"JPN,Japan,head_of_state,Sanae Takaichi,{qid},2030,2031,,\n", load_countries())
    merged = merge_records(base, {qid: record})[qid]
    assert len(merged["terms"]) == len(base[qid]["terms"]) + 1 and merged["name"] == base[qid]["name"]
    assert set(base[qid]["aliases"]) <= set(merged["aliases"])


def test_bad_rows_are_refused_by_line():
    with pytest.raises(ValueError, match="line 2"):
        records_from_csv(HEADER + "XXX,Nowhere,head_of_state,A B,,2020,,,\n", load_countries())
    with pytest.raises(ValueError, match="start date"):
        records_from_csv(HEADER + "FRA,France,head_of_state,A B,,,,,\n", load_countries())
