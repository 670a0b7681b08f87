"""Alert rules as pure functions: engagement, watch, spike, ids."""
from __future__ import annotations

from leaderwatch.pipeline.alerts import alert_id, engagement_alerts, ewma, load_rules, spike_alert, watch_alerts
from leaderwatch.records import encode
from leaderwatch.records import LeaderFound, PageEntities
from leaderwatch.schemas import validator_for

RULES = load_rules()
ALERTS = validator_for("alerts.v1.json")


def leader(qid, country, sentence_ids, sentences):
    return LeaderFound(qid=qid, name=qid, country=country, office=None, mentions=len(sentence_ids), surfaces=[qid],
                       offsets=[[0, 1]] * len(sentence_ids), sentence_ids=sentence_ids, sentences=sentences)


def page(*leaders, doc_id="d1") -> PageEntities:
    return PageEntities(doc_id=doc_id, url="https://x.example/1", title="t", language="en", event_time="2025-11-14T06:30:00Z",
                        fetched_at="2025-11-14T07:00:00Z", content_hash="h", leaders=list(leaders))


TALKS = "Takaichi seeks face-to-face talks with Kim."


def test_engagement_needs_two_countries_one_sentence_and_a_word():
    alerts = engagement_alerts(page(leader("Q1", "JP", [0], [TALKS]), leader("Q2", "KP", [0], [TALKS])), RULES, "2025-11-14T07:00:00Z")
    assert len(alerts) == 1 and alerts[0].details == {"words": ["face-to-face", "talks"]}
    assert not list(ALERTS.iter_errors(orjson_dict(alerts[0])))
    same_country = page(leader("Q1", "JP", [0], [TALKS]), leader("Q3", "JP", [0], [TALKS]))
    assert engagement_alerts(same_country, RULES, "now") == []
    no_word = "Takaichi and Kim were both born in spring."
    assert engagement_alerts(page(leader("Q1", "JP", [0], [no_word]), leader("Q2", "KP", [0], [no_word])), RULES, "now") == []
    apart = page(leader("Q1", "JP", [0], ["Takaichi spoke of talks."]), leader("Q2", "KP", [1], ["Kim was silent."]))
    assert engagement_alerts(apart, RULES, "now") == []


def test_alert_ids_are_deterministic():
    p = page(leader("Q1", "JP", [0], [TALKS]), leader("Q2", "KP", [0], [TALKS]))
    first = engagement_alerts(p, RULES, "2025-11-14T07:00:00Z")[0]
    later = engagement_alerts(p, RULES, "2026-01-01T00:00:00Z")[0]
    assert first.alert_id == later.alert_id == alert_id("engagement", "d1", "Q1", "Q2")
    assert engagement_alerts(page(*p.leaders, doc_id="d2"), RULES, "now")[0].alert_id != first.alert_id


def test_watch_list():
    p = page(leader("Q1", "JP", [0], [TALKS]), leader("Q2", "KP", [0], [TALKS]))
    alerts = watch_alerts(p, frozenset({"Q2"}), "2025-11-14T07:00:00Z")
    assert [a.leaders[0].qid for a in alerts] == ["Q2"]
    assert alerts[0].details == {"mentions": 1} and alerts[0].evidence[0].sentence == TALKS
    assert not list(ALERTS.iter_errors(orjson_dict(alerts[0])))


def test_the_contract_requires_each_kinds_details():
    """alerts.v1.json: the details a kind carries are part of the contract, as is its number of leaders."""
    p = page(leader("Q1", "JP", [0], [TALKS]), leader("Q2", "KP", [0], [TALKS]))
    engagement = orjson_dict(engagement_alerts(p, RULES, "2025-11-14T07:00:00Z")[0])
    watch = orjson_dict(watch_alerts(p, frozenset({"Q1"}), "2025-11-14T07:00:00Z")[0])
    assert not list(ALERTS.iter_errors(engagement)) and not list(ALERTS.iter_errors(watch))
    broken = [
        {**engagement, "details": {}},  # no words
        {**engagement, "leaders": engagement["leaders"][:1]},  # an engagement needs two leaders
        {**watch, "details": {"mentions": "many"}},
        {**watch, "kind": "spike"},  # a spike's window and counts missing
        {**watch, "details": None},
    ]
    for alert in broken:
        assert list(ALERTS.iter_errors(alert)), alert


def test_spike_needs_minimum_and_multiple_of_baseline():
    who = {"qid": "Q1", "name": "n", "country": "JP"}
    args = dict(window_start="2025-11-14T06:00:00Z", window_end="2025-11-14T07:00:00Z", top_documents=[{"doc_id": "d"}],
                rules=RULES, detected_at="2025-11-14T07:00:00Z", backfill=False)
    assert spike_alert(who, documents=4, previous=[0] * 24, **args) is None  # below min_documents
    assert spike_alert(who, documents=6, previous=[3] * 24, **args) is None  # only 2x baseline
    alert = spike_alert(who, documents=6, previous=[0] * 23 + [1], **args)
    assert alert and alert.kind == "spike" and alert.details["documents"] == 6
    assert not list(ALERTS.iter_errors(orjson_dict(alert)))
    assert ewma([], 0.3) == 0.0 and ewma([2, 2, 2], 0.3) == 2.0


def orjson_dict(record):
    import orjson
    return orjson.loads(encode(record))


def test_a_rules_file_changes_only_what_it_sets(tmp_path):
    import pytest

    custom = tmp_path / "rules.json"
    custom.write_text('{"spike": {"min_documents": 10, "ratio": 2}, "watch": {"leaders": ["Q7747"]}}')
    rules = load_rules(str(custom))
    assert rules["spike"]["min_documents"] == 10 and rules["spike"]["ratio"] == 2
    assert rules["spike"]["baseline_windows"] == RULES["spike"]["baseline_windows"]  # the defaults stay
    assert rules["watch"]["leaders"] == ["Q7747"] and rules["engagement"] == RULES["engagement"]
    for bad, complaint in (('{"spik": {}}', "unknown rule 'spik'"), ('{"spike": {"min_docs": 3}}', "unknown field spike.min_docs"),
                           ('{"spike": {"ratio": "3"}}', "spike.ratio must be float"), ('{"watch": {"leaders": "Q1"}}', "must be list")):
        wrong = tmp_path / f"wrong-{len(complaint)}.json"  # load_rules is cached by path
        wrong.write_text(bad)
        with pytest.raises(ValueError, match=complaint):
            load_rules(str(wrong))


def found(qid, country, surfaces, sentence, office=None):
    return LeaderFound(qid=qid, name=qid, country=country, office=office, mentions=1, surfaces=surfaces,
                       offsets=[[0, 1]], sentence_ids=[0], sentences=[sentence])


def test_a_leader_named_only_as_a_modifier_is_no_party_to_the_engagement():
    s = "Hu held talks with Kim Jong Un's father, Kim Jong Il, in Beijing in May 2011."
    p = page(found("Q1", "CN", ["Hu"], s), found("Q2", "KP", ["Kim Jong Un"], s), found("Q3", "KP", ["Kim Jong Il"], s))
    alerts = engagement_alerts(p, RULES, "now")
    assert [[l.qid for l in a.leaders] for a in alerts] == [["Q1", "Q3"]]
    assert alerts[0].details["historical"] is True  # dated 2011 on a 2025 page
    s2 = "Bill Clinton's secretary of state, Madeleine Albright, met Kim Jong Il in 2000."
    assert engagement_alerts(page(found("Q4", "US", ["Bill Clinton"], s2), found("Q3", "KP", ["Kim Jong Il"], s2)), RULES, "now") == []


def test_past_engagements_cited_in_passing_are_historical():
    cited = "Former President Moon Jae-in, who held three summits with Kim Jong Un in 2018, said talks were the way."
    news = "Putin held talks with Kim Jong Un in Pyongyang on Wednesday, the day after he arrived."
    bombed = "Duda welcomed the German leader in Wielun, the first town bombed in 1939."
    for sentence, historical in ((cited, True), (news, False), (bombed, False)):
        p = page(found("Q1", "KR", ["Moon Jae-in", "Putin", "Duda"], sentence), found("Q2", "KP", ["Kim Jong Un", "the German leader"], sentence))
        (alert,) = engagement_alerts(p, RULES, "2025-11-14T07:00:00Z")
        assert alert.details.get("historical", False) is historical, sentence
        assert not list(ALERTS.iter_errors(orjson_dict(alert)))  # "historical" fits the v1 contract


def test_a_title_of_an_office_held_only_before_the_page_date_makes_the_engagement_historical():
    """The title news give a leader dates the sentence: "Russia's President Medvedev" on a 2019 page
    (prime minister then, president 2008-2012) tells of his presidency; on a 2010 page it is news.
    "then-" says so outright; "former President Obama" is a former leader in the day's news."""
    from leaderwatch.leaders.gazetteer import default_gazetteer
    from leaderwatch.pipeline.clean import clean_page
    from leaderwatch.pipeline.extract import build_matcher, extract_page

    matcher, gazetteer = build_matcher(), default_gazetteer()

    def engagement(text: str, day: str) -> dict:
        cleaned = clean_page({"url": f"https://news.example/{day}/{abs(hash(text))}", "body": text, "content_type": "text/plain",
                              "fetched_at": f"{day}T12:00:00Z", "published_at": f"{day}T06:00:00Z"})
        (alert,) = engagement_alerts(extract_page(cleaned, matcher), RULES, "now", gazetteer)
        return {"pair": sorted(l.name for l in alert.leaders), "historical": alert.details.get("historical", False)}

    call = "Leaders spoke.\n\nObama made a phone call to Russia's President Medvedev about missile defence."
    assert engagement(call, "2019-11-19") == {"pair": ["Barack Obama", "Dmitry Medvedev"], "historical": True}
    assert engagement(call, "2010-03-26") == {"pair": ["Barack Obama", "Dmitry Medvedev"], "historical": False}
    # "then-" dates it even when the leader holds that office again
    assert engagement("Summit.\n\nKim Jong Un met then-President Trump in Hanoi.", "2025-11-14")["historical"] is True
    assert engagement("Summit.\n\nKim Jong Un met President Trump in Hanoi.", "2025-11-14")["historical"] is False
    assert engagement("Visit.\n\nFormer President Obama met Chancellor Merkel in Berlin on Thursday.", "2017-05-25")["historical"] is False
    # a title the leader holds on the page's date, though another office came first: news
    assert engagement("Talks.\n\nPresident Putin held talks with Xi Jinping in Beijing.", "2015-05-08")["historical"] is False
    assert engagement("Talks.\n\nPrime Minister Putin held talks with Xi Jinping in Beijing.", "2015-05-08")["historical"] is True
    # without the gazetteer the rule has nothing to go by
    cleaned = clean_page({"url": "https://news.example/x", "body": call, "content_type": "text/plain",
                          "fetched_at": "2019-11-19T12:00:00Z", "published_at": "2019-11-19T06:00:00Z"})
    (alert,) = engagement_alerts(extract_page(cleaned, matcher), RULES, "now")
    assert "historical" not in alert.details


def test_calls_visits_and_handshakes_as_wires_write_them_are_engagements():
    for sentence in ("Takaichi telephoned Kim on Friday.", "Takaichi is hosting Kim in Tokyo.",
                     "Takaichi shook hands with Kim.", "Takaichi congratulated Kim on his re-election.",
                     "Takaichi and Kim held a videoconference."):
        found = engagement_alerts(page(leader("Q1", "JP", [0], [sentence]), leader("Q2", "KP", [0], [sentence])), RULES, "now")
        assert len(found) == 1, sentence
