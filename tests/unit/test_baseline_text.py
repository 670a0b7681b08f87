"""pipeline/baseline_text.py: trafilatura's html2txt(tree), the same string, without a copy of the tree."""
from __future__ import annotations

import importlib
import random

import pytest
import trafilatura.core as core
from lxml import etree
from lxml.html import HtmlElement, fromstring

from leaderwatch.pipeline import baseline_text, extraction
from leaderwatch.pipeline.clean import parse_html, without_hidden_markup
from leaderwatch.pipeline.prune_guards import skipped_impossible_prunes
from tests.conftest import AEB_DIR, shared_pages

trafilatura_html2txt = importlib.import_module("trafilatura.baseline").html2txt


def both(tree) -> tuple[str, str]:
    """(trafilatura's html2txt, baseline_text's) of `tree`, checking that neither changed it."""
    before = etree.tostring(tree)
    ours = baseline_text.html2txt(tree)
    theirs = trafilatura_html2txt(tree)
    assert etree.tostring(tree) == before
    return theirs, ours


def test_the_pinned_functions_are_this_trafilaturas():
    """Else every page silently measures its text with trafilatura's copy."""
    assert baseline_text.pinned()


@pytest.mark.parametrize("body", [
    # deleted elements keep their tails, after a block sibling, an inline sibling, or as a block's first child
    "<div>one</div><aside>gone</aside>two<p>three</p>",
    "<span>one</span><footer>gone</footer>two <b>three</b>",
    "<p><aside>gone</aside>tail<i>x</i>y</p>",
    "<div><aside>a</aside><aside>b</aside>c<template>t</template>d</div>",
    # nested deletions, and block elements inside deleted ones
    "<section><aside><p>in</p><footer>deep</footer>after</aside>out</section>",
    # div[contains(@class|@id, 'footer')] reads whichever attribute comes first in the element
    "<div class='x' id='footer'>kept</div><div id='site-footer' class='x'>gone</div>end",
    "<div class='page-footer' id='x'>gone</div><div class='footers'>gone too</div><p class='footer'>p kept</p>",
    # words run together across inline elements, and apart across block elements
    "foo<b>bar</b>baz<div>qux</div>quux<br>corge<hr>grault",
    "<ul><li>a</li><li>b</li></ul><table><tr><td>c</td><td>d</td></tr></table>",
    # comments and processing instructions write nothing, their tails stay
    "<p>one<!-- hidden -->two</p><?php echo 1 ?>three",
    "<script>var x = 1;</script><style>p {}</style><svg><text>s</text></svg>text",
    "",
    "<p>   </p> \n\t <div></div>",
    # a page cannot carry the marker: the parser lower-cases attribute names
    "<div LW-Deleted=''>kept</div><p lw-deleted='x'>kept too</p>",
])
def test_the_same_text_as_trafilaturas(body):
    theirs, ours = both(fromstring(f"<html><head><title>T</title></head><body>{body}</body></html>"))
    assert ours == theirs


def test_without_a_body_the_root_is_the_text():
    tree = fromstring("<html><head><title>T</title></head></html>")
    assert tree.find(".//body") is None
    theirs, ours = both(tree)
    assert ours == theirs


@pytest.mark.parametrize("body", [
    # basic_cleaning's cookie-banner branch (the prune guard lets it run)
    "<div class='cookie-banner'>Accept</div>tail<p>text</p><div id='CookieConsent-bar'><p>x</p></div>",
    # characters remove_control_characters drops from block texts and tails only
    "<p>Bundes\u00adkanzler</p><span>zero\u200bwidth</span>",
    "<p>\ufeffBOM</p><b>\ufeffinline</b>",
    "<div>icon \ue001 font<i>\ue002</i>\ue003<aside>\ue004</aside>\ue005</div>",
    # a deleted element's tail joins the previous kept sibling's tail, or the parent's text
    "<p>a</p><aside>x</aside>\u200bjoined<span>s</span><footer>y</footer>\u200bnot<p><aside>z</aside>\u200bfirst</p>",
    "<span><aside>z</aside>\u200binline parent</span><div><footer>f</footer><aside>a</aside>\u00adtwo deep</div>",
])
def test_the_same_text_without_trafilaturas_own(body, monkeypatch):
    """No case handed back to trafilatura's html2txt, inside the prune guards' `with` or outside."""
    calls = []
    monkeypatch.setattr(importlib.import_module("trafilatura.baseline"), "html2txt",
                        lambda *a, **k: calls.append(1) or trafilatura_html2txt(*a, **k))
    tree = fromstring(f"<html><body>{body}</body></html>")
    before = etree.tostring(tree)
    with skipped_impossible_prunes():
        inside = baseline_text.html2txt(tree)
    outside = baseline_text.html2txt(tree)
    assert etree.tostring(tree) == before and not calls
    assert inside == outside == trafilatura_html2txt(tree)


def test_a_character_lxml_would_not_take_back_goes_to_trafilaturas(monkeypatch):
    """lxml.html.fromstring keeps a C0 control character that lxml refuses to set again: such a
    tree is measured by trafilatura's html2txt, and left as it was."""
    calls = []
    monkeypatch.setattr(importlib.import_module("trafilatura.baseline"), "html2txt",
                        lambda *a, **k: calls.append(1) or trafilatura_html2txt(*a, **k))
    tree = fromstring("<html><body><p>a\x01b</p><div>c\x7fd</div></body></html>")
    theirs, ours = both(tree)
    assert ours == theirs and calls


TAGS = ["div", "p", "span", "b", "li", "aside", "footer", "br", "td", "section", "a", "script", "template", "em"]
WORDS = ["", "", " ", "word", "two words", " lead", "trail ", "\n", "x", "\u00ad", "\u200b", "end.", "\ue000", "a\u200eb"]


def random_tree(rng: random.Random, depth: int = 0) -> str:
    attributes = []
    for name in rng.sample(["class", "id"], rng.randint(0, 2)):
        attributes.append(f"{name}='{rng.choice(['footer', 'x', 'main-footer', 'cookie-notice', 'post', 'Footer'])}'")
    tag = rng.choice(TAGS)
    children = "".join(random_tree(rng, depth + 1) + rng.choice(WORDS) for _ in range(rng.randint(0, 4 if depth < 4 else 0)))
    comment = "<!-- c -->" if rng.random() < 0.1 else ""
    return f"<{tag} {' '.join(attributes)}>{rng.choice(WORDS)}{comment}{children}</{tag}>"


def test_random_trees_give_the_same_text():
    rng = random.Random(12)
    for _ in range(600):
        html = f"<html><body>{rng.choice(WORDS)}{random_tree(rng)}{random_tree(rng)}{rng.choice(WORDS)}</body></html>"
        tree = fromstring(html)
        with skipped_impossible_prunes():
            theirs, ours = both(tree)
        assert ours == theirs, html


def test_trafilatura_measures_the_page_with_it_while_clean_runs(monkeypatch):
    """The recall-escalation gate's html2txt is this one inside article_text, trafilatura's after."""
    seen = []
    original = baseline_text.html2txt
    monkeypatch.setattr(baseline_text, "html2txt", lambda *a, **k: seen.append(1) or original(*a, **k))
    extraction._swaps.cache_clear()
    try:
        short = "<html><body><nav>" + "<a href='/x'>menu entry</a> " * 400 + "</nav><p>" + "A short article. " * 12 + "</p></body></html>"
        with skipped_impossible_prunes():
            extraction.article_text(parse_html(without_hidden_markup(short)))
        assert seen  # the gate ran, through baseline_text
        assert core.html2txt is trafilatura_html2txt  # trafilatura as installed afterwards
    finally:
        monkeypatch.undo()
        extraction._swaps.cache_clear()


def test_a_changed_trafilatura_keeps_its_own_html2txt(monkeypatch):
    monkeypatch.setitem(baseline_text.PINNED, "_spaced_text", "0" * 40)
    baseline_text.pinned.cache_clear()
    extraction._swaps.cache_clear()
    try:
        assert not baseline_text.pinned()
        assert all(key != "html2txt" for _, key, _, _ in extraction._swaps().entries)
    finally:
        monkeypatch.undo()
        baseline_text.pinned.cache_clear()
        extraction._swaps.cache_clear()


@pytest.mark.slow
@pytest.mark.skipif(not AEB_DIR.exists(), reason="../shared/corpus not present")
def test_the_same_text_on_every_shared_page():
    compared = 0
    for name, html in shared_pages():
        tree = parse_html(without_hidden_markup(html))
        assert isinstance(tree, HtmlElement)
        with skipped_impossible_prunes():
            theirs, ours = both(tree)
        assert ours == theirs, name
        compared += 1
    assert compared == 157
