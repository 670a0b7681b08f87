"""pipeline/extraction.py: bare_extraction's text without its two needless tree copies."""
from __future__ import annotations


import pytest
import trafilatura
import trafilatura.core as core

from leaderwatch.pipeline import extraction
from leaderwatch.pipeline.clean import parse_html, without_hidden_markup
from leaderwatch.pipeline.prune_guards import skipped_impossible_prunes
from tests.conftest import AEB_DIR, shared_pages

ARTICLE = ("<html><head><title>Talks</title></head><body><nav><a href='/'>Home</a></nav><article><h1>Talks</h1>"
           + "".join(f"<p>Paragraph {i}: Sanae Takaichi said Japan seeks face-to-face talks with Kim Jong Un.</p>"
                     for i in range(12))
           + "</article><div class='comments'><p>A reader: great story</p></div></body></html>")


def tree_of(html: str):
    return parse_html(without_hidden_markup(html))


def bare_text(html: str) -> str | None:
    with skipped_impossible_prunes():
        document = trafilatura.bare_extraction(tree_of(html), with_metadata=False, include_comments=False,
                                               include_tables=True, fast=True)
    return None if document is None else document.text or ""


def article_text(html: str) -> str | None:
    with skipped_impossible_prunes():
        return extraction.article_text(tree_of(html))


def test_the_pinned_functions_are_this_trafilaturas():
    """Else every page silently takes bare_extraction's path, with its copies."""
    assert extraction.pinned()


def test_one_copy_of_the_tree_where_bare_extraction_makes_three(monkeypatch):
    copies = []
    original = core.copy
    monkeypatch.setattr(core, "copy", lambda thing: copies.append(type(thing).__name__) or original(thing))
    expected = bare_text(ARTICLE)
    trees_copied_by_bare, copies[:] = copies.count("HtmlElement"), []
    assert article_text(ARTICLE) == expected and "Paragraph 11" in expected
    assert (trees_copied_by_bare, copies.count("HtmlElement")) == (3, 1)
    assert core._prepare_tree is extraction.ORIGINAL_PREPARE_TREE  # trafilatura as installed afterwards


def test_no_text_is_none_as_in_bare_extraction():
    for empty in ("<html><body><div></div><div></div></body></html>", "<html><body><div><img src=x></div><div> </div></body></html>"):
        assert bare_text(empty) is None and article_text(empty) is None


def test_a_changed_trafilatura_falls_back_to_bare_extraction(monkeypatch):
    monkeypatch.setitem(extraction.PINNED, "_prepare_tree", "0" * 40)
    extraction.pinned.cache_clear()
    calls = []
    original = trafilatura.bare_extraction
    monkeypatch.setattr(trafilatura, "bare_extraction", lambda *a, **k: calls.append(1) or original(*a, **k))
    try:
        assert not extraction.pinned()
        assert article_text(ARTICLE) == bare_text(ARTICLE) and len(calls) == 2
    finally:
        monkeypatch.undo()
        extraction.pinned.cache_clear()


@pytest.mark.slow
@pytest.mark.skipif(not AEB_DIR.exists(), reason="../shared/corpus not present")
def test_the_same_text_as_bare_extraction_on_every_shared_page():
    compared = 0
    for name, html in shared_pages():
        assert article_text(html) == bare_text(html), name
        compared += 1
    assert compared == 157
