"""clean_page and the envelope checks, on inline pages and saved real ones."""
from __future__ import annotations

import orjson
import pytest

from leaderwatch.pipeline.clean import (CleanOptions, Rejected, canonical_url, clean_page, make_doc_id, parse_envelope, to_iso)
from leaderwatch.schemas import validator_for
from tests.conftest import AEB_DIR, TAKAICHI_PAGE, aeb_html, read_jsonl

RAW = validator_for("pages.raw.v1.json")


def envelope(body, **extra):
    return {"url": "https://news.example.org/a?utm_source=x#top", "fetched_at": "2025-11-20T10:00:00Z", "body": body, **extra}


def test_takaichi_page_text_metadata_and_event_time():
    page = clean_page(envelope(TAKAICHI_PAGE.read_text()))
    assert page.title == "Japan's PM eyes face-to-face talks with Kim Jong Un"
    assert page.event_time.startswith("2025-11-14")
    assert "Sanae Takaichi" in page.text and "Most read" not in page.text and "Privacy" not in page.text
    assert page.language == "en"
    # the page's canonical link decides the doc_id, not the crawler's URL
    assert page.doc_id == make_doc_id("https://news.example.org/world/asia/2025/11/14/japan-pm-eyes-talks-with-kim-jong-un", page.text)
    assert not page.backfill or page.event_time < "2025-11-13"


def test_published_at_from_the_envelope_wins_and_old_pages_are_backfill():
    page = clean_page(envelope("Plain words about Sanae Takaichi.", content_type="text/plain", published_at="2023-09-19"))
    assert page.event_time == "2023-09-19T00:00:00Z" and page.backfill
    fresh = clean_page(envelope("Plain words.", content_type="text/plain", published_at="2025-11-20T09:00:00+01:00"))
    assert fresh.event_time == "2025-11-20T08:00:00Z" and not fresh.backfill


def test_doc_id_is_stable_across_tracking_parameters_and_falls_back_to_content():
    a = clean_page(envelope("Same text.", content_type="text/plain"))
    b = clean_page({**envelope("Same text.", content_type="text/plain"), "url": "http://www.news.example.org/a/"})
    assert a.doc_id == b.doc_id
    no_url = clean_page({**envelope("Same   text.", content_type="text/plain"), "url": None})
    assert no_url.doc_id == make_doc_id(None, "Same text.") != a.doc_id
    assert canonical_url("HTTPS://WWW.Example.org:443/x/?b=2&a=1&fbclid=z") == "https://example.org/x?a=1&b=2"


@pytest.mark.parametrize("data, reason", [
    (b"", "malformed_envelope"),
    (b"not json", "malformed_envelope"),
    (b"[1, 2]", "malformed_envelope"),
    (orjson.dumps({"body": "x"}), "schema_invalid"),  # no fetched_at
    (orjson.dumps({"fetched_at": "2025-01-01", "body": "x", "extra": 1}), "schema_invalid"),
    (orjson.dumps({"fetched_at": "2025-01-01", "body": "x", "content_type": "application/pdf"}), "schema_invalid"),
])
def test_bad_envelopes_are_rejected_with_a_reason(data, reason):
    with pytest.raises(Rejected) as caught:
        parse_envelope(data, RAW, max_page_bytes=1000)
    assert caught.value.reason == reason and str(caught.value)


@pytest.mark.parametrize("body, reason", [
    ("\x00\x01\x02PK\x03\x04" * 50, "binary"),
    ("<p>" + "r\ufffdsum\ufffd " * 100 + "</p>", "bad_charset"),
    ("<html><body><script>var x = 1;</script></body></html>", "no_text"),
    ("<p>" + "word " * 1000 + "</p>", "too_large"),
])
def test_unusable_pages_are_rejected_with_a_reason(body, reason):
    with pytest.raises(Rejected) as caught:
        clean_page(envelope(body), CleanOptions(max_page_bytes=4000))
    assert caught.value.reason == reason


def test_truncated_html_still_gives_text():
    page = clean_page(envelope(TAKAICHI_PAGE.read_text()[:1600]))
    assert "Takaichi" in page.text


def test_to_iso():
    assert to_iso("2025-11-14") == "2025-11-14T00:00:00Z"
    assert to_iso("2025-11-14T09:30:00+09:00") == "2025-11-14T00:30:00Z"
    assert to_iso("yesterday") is None and to_iso(None) is None


@pytest.mark.skipif(not AEB_DIR.exists(), reason="../shared/corpus/aeb not present")
@pytest.mark.slow
def test_every_aeb_page_cleans():
    truth = read_jsonl(AEB_DIR / "truth.jsonl")
    failures = []
    for row in truth:
        try:
            page = clean_page(envelope(aeb_html(row["id"]), url=row["url"]))
            assert page.text
        except Rejected as exc:
            failures.append((row["id"], exc.reason))
    assert len(failures) <= 2, failures


def test_the_description_is_kept_and_leaders_in_it_are_found():
    """Extractors often drop the lede; the page's own description still names the people."""
    from leaderwatch.pipeline.extract import build_matcher, extract_page

    html = ("<html><head><title>Protests in Bolivia</title><meta name='description' content="
            "'Protests against the interim government that ousted Evo Morales turned violent.'></head><body><article>"
            + "<p>Three people died in clashes near a fuel plant on Tuesday, officials said.</p>" * 5
            + "</article></body></html>")
    page = clean_page(envelope(html, published_at="2019-11-20"))
    assert page.description.startswith("Protests against the interim government")
    assert "Evo Morales" not in page.text
    assert [l.name for l in extract_page(page, build_matcher()).leaders] == ["Evo Morales"]


def test_teaser_lines_between_paragraphs_are_dropped():
    """Links to other stories that extractors keep ("DON'T MISS", "[VIDEO]" headlines, "READ MORE: ...")
    are not the article; a leader named only there is not on the page (aeb 624fcd903d: Macron)."""
    from leaderwatch.pipeline.clean import drop_teasers

    text = ("Chris Tang said police alone are not able to end the violence.\nDON'T MISS\n"
            "China furious at Macron for Hong Kong protest jibe\xa0[INSIGHT]|\n"
            "Lakers vs Nets: NBA make final decision on game [VIDEO]\n"
            "READ MORE: China plague outbreak confirmed\n\nProtesters believe the law [is] unjust.\n"
            "The UN [WHO] said more.")
    assert drop_teasers(text) == ("Chris Tang said police alone are not able to end the violence.\n\n"
                                  "Protesters believe the law [is] unjust.\nThe UN [WHO] said more.")
    assert drop_teasers("Read more about it in the report.") == "Read more about it in the report."


# ---------------------------------------------------------------- markup cut before parsing

from leaderwatch.pipeline import clean as clean_module  # noqa: E402


def test_hidden_markup_is_cut_but_json_scripts_and_text_stay():
    html = ('<html><head><style>p{color:red}</style><script>var a = "<p>not text</p>";</script>'
            '<script type="application/ld+json">{"headline": "H"}</script></head><body><!-- note -->'
            '<svg viewBox="0 0 1 1"><path d="M0"/></svg><p>Article words.</p><SCRIPT src=x></SCRIPT></body></html>')
    cut = clean_module.without_hidden_markup(html)
    assert cut == ('<html><head><script type="application/ld+json">{"headline": "H"}</script></head><body>'
                   '<p>Article words.</p></body></html>')


def test_a_script_tag_inside_a_comment_does_not_swallow_the_article():
    html = '<body><!-- <script src="old.js"> --><p>Article words.</p><script>x()</script></body>'
    assert clean_module.without_hidden_markup(html) == "<body><p>Article words.</p></body>"


def test_an_element_left_open_stops_the_cutting_there():
    html = "<body><style>a{}</style><p>One.</p><script>never closed <p>Two.</p>" + "<script>" * 5000
    assert clean_module.without_hidden_markup(html) == "<body><p>One.</p><script>never closed <p>Two.</p>" + "<script>" * 5000


def test_openings_without_ends_are_left_as_they_are():
    """Each search starts where the last ended: 200,000 unclosed openings are one pass, not 200,000."""
    for html in ("<p>x</p>" + "<script " * 200_000, "<p>x</p>" + "<!-- " * 200_000, "<p>x</p><style>" + "<script>" * 200_000):
        assert clean_module.without_hidden_markup(html) == html


@pytest.mark.slow
def test_cutting_hidden_markup_changes_no_text_or_metadata_on_the_shared_corpus(monkeypatch):
    """What the cut saves is only parsing: clean_page gives the same page with and without it."""
    files = sorted(AEB_DIR.glob("*.html.gz"))[:40]
    assert files
    for page_id, html in ((f.name.split(".")[0], aeb_html(f.name.split(".")[0])) for f in files):
        cut = clean_page(envelope(html))
        monkeypatch.setattr(clean_module, "without_hidden_markup", lambda markup: markup)
        whole = clean_page(envelope(html))
        monkeypatch.undo()
        assert (cut.text, cut.title, cut.published_at, cut.doc_id, cut.site) == \
            (whole.text, whole.title, whole.published_at, whole.doc_id, whole.site), page_id


def test_parse_html_builds_the_tree_trafilatura_would_without_the_python_class_lookup(monkeypatch):
    """parse_html is trafilatura's load_html with html_parser(): the same markup for a full page, a
    fragment, an encoding declaration in a str (the bytes fallback) and a page with form elements,
    every element an HtmlElement (text_content() works), and no Python lookup per element."""
    from lxml import etree
    from lxml.html import HtmlElement
    from trafilatura.utils import load_html

    pages = [TAKAICHI_PAGE.read_text(),
             "<div><p>A fragment about Sanae Takaichi.</p><p>Second.</p></div>",
             '<?xml version="1.0" encoding="utf-8"?><html><body><p>Declared.</p><p>x</p></body></html>',
             "<html><body><form><label>Name<input name=q value='Kim'></label><select><option>a</option></select>"
             "<textarea>t</textarea></form><p>After the form.</p></body></html>",
             "not html at all"]
    for html in pages:
        ours, theirs = clean_module.parse_html(html), load_html(html)
        assert (ours is None) == (theirs is None), html[:40]
        if ours is not None:
            assert etree.tostring(ours) == etree.tostring(theirs), html[:40]
            assert all(type(element) is HtmlElement for element in ours.iter(etree.Element))
            assert ours.text_content() == theirs.text_content()
    import lxml.html

    calls = []
    python_lookup = lxml.html.HtmlElementClassLookup.lookup
    monkeypatch.setattr(lxml.html.HtmlElementClassLookup, "lookup", lambda *args: calls.append(1) or python_lookup(*args))
    list(clean_module.parse_html(pages[0]).iter())
    assert calls == []
    list(load_html(pages[0]).iter())
    assert len(calls) > 10  # lxml.html's parser: one Python call per element object


@pytest.mark.slow
def test_parse_html_changes_no_page_of_the_shared_corpus(monkeypatch):
    """The parser's element classes change no cleaned page: every aeb page as with load_html."""
    from trafilatura.utils import load_html

    files = sorted(AEB_DIR.glob("*.html.gz"))
    assert files
    for page_id in (f.name.split(".")[0] for f in files):
        html = aeb_html(page_id)
        ours = clean_page(envelope(html))
        monkeypatch.setattr(clean_module, "parse_html", load_html)
        theirs = clean_page(envelope(html))
        monkeypatch.undo()
        assert ours == theirs, page_id
