"""The prune guards (leaderwatch.pipeline.prune_guards) change no output, only what runs."""
from __future__ import annotations

import contextlib
import copy
import importlib
import random
import threading

import pytest
from lxml import etree
from trafilatura import xpaths

from leaderwatch.pipeline import clean as clean_module
from leaderwatch.pipeline import prune_guards
from leaderwatch.pipeline.clean import CleanOptions, clean_page
from tests.conftest import AEB_DIR, shared_pages

def current(module_name: str, name: str, index):
    """What trafilatura would use now for a GUARDS key."""
    found = getattr(importlib.import_module(module_name), name)
    return found[index] if index is not None else found


ALL_KEYS = [*prune_guards.GUARDS, *prune_guards.EVALUATORS]


def test_every_guard_is_installed_for_this_trafilatura():
    """The digests are those of the installed trafilatura's expressions: no guard silently off."""
    assert len(prune_guards._swap().entries) == len(ALL_KEYS)
    with prune_guards.skipped_impossible_prunes():
        for key in prune_guards.GUARDS:
            assert isinstance(current(*key), prune_guards.Guarded), key
        for key, (_, evaluator) in prune_guards.EVALUATORS.items():
            assert isinstance(current(*key), evaluator), key


def test_each_guard_searches_with_the_regular_expression_of_the_expression_it_guards():
    """The guards' patterns are the ones written in the guarded XPath sources (not imported from
    trafilatura's private names, which a release may drop)."""
    sources = {key: current(*key).path for key in prune_guards.GUARDS}
    assert prune_guards._INFINITE_SCROLL.pattern in sources[("trafilatura.xpaths", "RAW_TREE_PRUNE_XPATH", 0)]
    assert "'elementor-share-buttons'" in sources[("trafilatura.xpaths", "RAW_TREE_PRUNE_XPATH", 1)]
    for key in (("trafilatura.xpaths", "REMOVE_COMMENTS_AND_LISTS_XPATH", 0), ("trafilatura.xpaths", "REMOVE_COMMENTS_XPATH", 0)):
        assert f"re:test(@id, '{prune_guards._COMMENTS_ID.pattern}')" in sources[key]
        assert f"re:test(@class, '{prune_guards._COMMENTS_CLASS.pattern}')" in sources[key]
    basic_clean = sources[("trafilatura.baseline", "BASIC_CLEAN_XPATH", None)]
    assert basic_clean == prune_guards._BASIC_CLEAN_WITHOUT_COOKIES + \
        f"|.//*[re:test(@class, '{prune_guards._COOKIE_BANNER.pattern}', 'i') or re:test(@id, '{prune_guards._COOKIE_BANNER.pattern}', 'i')]"


def test_after_the_with_trafilatura_has_its_own_expressions_again():
    before = {key: current(*key) for key in ALL_KEYS}
    with prune_guards.skipped_impossible_prunes():
        with prune_guards.skipped_impossible_prunes():  # nested: only the outer exit restores
            pass
        assert all(current(*key) is not before[key] for key in ALL_KEYS)
    assert {key: current(*key) for key in ALL_KEYS} == before
    assert not any(isinstance(expression, prune_guards.Guarded) for expression in before.values())
    assert not prune_guards._swap().attributes.known  # no tree is kept


def test_a_changed_expression_is_left_unguarded(monkeypatch):
    """A trafilatura release whose expression differs (another digest) runs it as it is."""
    changed = etree.XPath(".//*[self::div][contains(@class, 'comment')]")
    monkeypatch.setattr(xpaths, "REMOVE_COMMENTS_XPATH", [changed])
    swap = prune_guards._Swap()
    assert all(holder is not xpaths.REMOVE_COMMENTS_XPATH for holder, *_ in swap.entries)
    assert len(swap.entries) == len(ALL_KEYS) - 1


def test_two_threads_leave_the_originals_installed():
    originals = {key: current(*key) for key in ALL_KEYS}
    entered, release = threading.Barrier(2), threading.Event()

    def hold():
        with prune_guards.skipped_impossible_prunes():
            entered.wait(5)
            release.wait(5)

    threads = [threading.Thread(target=hold) for _ in range(2)]
    for thread in threads:
        thread.start()
    release.set()
    for thread in threads:
        thread.join(5)
    assert {key: current(*key) for key in ALL_KEYS} == originals


# attribute values around what the guarded expressions look for: near misses, case changes,
# anchors mid-value, several classes in one value, newlines inside a value
_WORDS = ["comment", "Comment", "comments", "commentary", "xcomment", "comol", "disqus_thread", "dsq-comments",
          "post-comments", "article-comments", "article comments", "infinite-scroll", "infinitescroll", "infinite scroll",
          "mvp-post-add-box", "mvp-post-add-wrap", "mvp-post-add", "elementor-share-buttons", "elementor-share",
          "share", "main", "content", "a\ncomment", "", "Commentary", "cookie-banner", "Cookie_Consent", "cookiebanner",
          "cookie banner", "notice--cookie", "onetrust-x", "OneTrust", "cmplz-cookiebanner", "cookie", "footer"]
_WORDS += ["hidden", "reply-to", "comments-title", "akismet-x", "hide-print", "ad-slot", "navbar", "sidebar", "menu",
           "byline", "share-", "meta", "related", "nav", "Nav", "premium", "^ad-"]
_TAGS = ["div", "section", "aside", "details", "ol", "ul", "li", "span", "p", "h1", "article", "footer", "script",
         "item", "list", "a", "em"]
_OTHER_ATTRIBUTES = [("style", "display:none"), ("style", "visibility: hidden"), ("id", "hidden-x"), ("style", "color: red"), ("style", "display: none"), ("aria-hidden", "true"),
                     ("aria-hidden", "false"), ("role", "Navigation"), ("role", "main"), ("data-component", "MostPopularStories"),
                     ("data-component", "x"), ("data-lp-replacement-content", "")]


def random_tree(rng: random.Random) -> etree._Element:
    root = etree.Element("html")
    body = etree.SubElement(root, "body")
    parents = [body]
    for _ in range(rng.randint(1, 25)):
        element = etree.SubElement(rng.choice(parents), rng.choice(_TAGS))
        attributes = {}
        for attribute in ("id", "class"):
            if rng.random() < 0.5:
                attributes[attribute] = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(1, 3)))
        if rng.random() < 0.5:
            attributes["class" if rng.random() < 0.5 else "id"] = attributes.get("class", "") + rng.choice(_WORDS)
        if rng.random() < 0.3:
            name, value = rng.choice(_OTHER_ATTRIBUTES)
            attributes[name] = value
        if rng.random() < 0.3:  # no attribute at all: what the evaluators' candidates leave out
            attributes.clear()
        # in any order: the string value of `@id|@class` is whichever comes first in the element
        for name in rng.sample(list(attributes), len(attributes)):
            element.set(name, attributes[name])
        element.text = "text"
        parents.append(element)
    return root


def test_a_guarded_expression_answers_as_the_expression_on_random_trees():
    """Whenever the real expression matches something, the guard lets it run, and an evaluator finds
    the same elements: on 1,000 trees built from near-miss attribute values (and elements with
    none), each replacement answers as trafilatura's expression, and each expression both matched
    some trees and (if guarded) was skipped on others."""
    rng = random.Random(12)
    swap = prune_guards._Swap()
    matched, skipped = [0] * len(swap.entries), [0] * len(swap.entries)
    for _ in range(1000):
        tree = random_tree(rng)
        for number, (_, _, original, faster) in enumerate(swap.entries):
            want = original(tree)
            matched[number] += bool(want)
            guard = getattr(faster, "could_match", None)  # an evaluator always runs
            skipped[number] += guard is None or not guard(swap.attributes.of(tree))
            assert faster(tree) == want, etree.tostring(tree)
    swap.attributes.forget()
    assert all(matched) and all(skipped), (matched, skipped)


@pytest.mark.parametrize("element", [
    '<div class="x" id="cookie">', '<div id="cookie" class="x">', '<div class="cookie" id="x">', '<div id="x" class="cookie">',
    '<span style="x" id="hidden">', '<span id="hidden" style="x">', '<span style="hidden" id="x">',
    '<p class="reply-x" id="y">', '<p id="y" class="reply-x">', '<div class="comments-title">', '<div class="comments-title x">',
    '<div role="mainNavigation">', '<div data-lp-replacement-content="">', '<em aria-hidden="true">', '<em style="display: none">',
])
def test_the_evaluators_answer_as_the_expressions_on_attribute_order(element):
    """XPath reads `@id|@class` (and `@id|@style`) as the value of whichever comes first in the
    element: the evaluators do too, and each case here matches one of the two expressions or not."""
    tag = element[1:].split()[0]
    tree = etree.fromstring(f"<html><body>{element}text</{tag}></body></html>")
    for key, (_, evaluator) in prune_guards.EVALUATORS.items():
        original = current(*key)
        assert evaluator(original.path)(tree) == original(tree), (key, element)


def test_a_guard_skips_the_expression_when_no_attribute_could_match():
    tree = etree.fromstring("<html><body><div id='main' class='content'><p>text</p></div></body></html>")
    calls = []
    for _, _, original, guarded in prune_guards._Swap().entries[:len(prune_guards.GUARDS)]:
        counting = prune_guards.Guarded(lambda t, original=original: calls.append(1) or original(t), guarded.could_match,
                                        prune_guards.TreeAttributes(), guarded.otherwise)
        assert counting(tree) == original(tree)
    assert calls == []


def test_each_thread_tests_its_own_tree():
    """The attributes a guard tests are per thread: a tree another thread looks at meanwhile does
    not replace this thread's (with one shared record, a guard could test another page's classes
    and skip a prune that matches here)."""
    attributes = prune_guards._swap().attributes
    mine = etree.fromstring("<html><body><div class='comment-list'/></body></html>")
    theirs = etree.fromstring("<html><body><div class='article'/></body></html>")
    assert "comment-list" in attributes.of(mine).classes
    other = threading.Thread(target=lambda: attributes.of(theirs))
    other.start()
    other.join(5)
    assert list(attributes.known) == [mine] and "comment-list" in attributes.classes
    attributes.forget()


def test_a_documents_elements_and_copies_are_read_once_each(monkeypatch):
    """An element is tested with its whole document's ids and classes (a superset of its own),
    read once per document while it is among the last TreeAttributes.KEPT."""
    reads = []
    monkeypatch.setattr(prune_guards, "_IDS", lambda tree: reads.append(tree) or etree.XPath(".//@id")(tree))
    attributes = prune_guards.TreeAttributes()
    page = etree.fromstring("<html><body><div class='comment-list'><p id='x'>a</p></div></body></html>")
    copied = copy.copy(page)
    for tree in (page, page.find("body"), page.find(".//p"), copied, copied.find("body"), page):
        assert "comment-list" in attributes.of(tree).classes and attributes.ids == "x"
    assert reads == [page, copied]
    for _ in range(prune_guards.TreeAttributes.KEPT):
        attributes.of(etree.fromstring("<html><body/></html>"))
    assert page not in attributes.known and len(attributes.known) == prune_guards.TreeAttributes.KEPT


@pytest.mark.slow
@pytest.mark.skipif(not AEB_DIR.exists(), reason="../shared/corpus not present")
def test_the_guards_change_no_page_of_the_shared_corpora(monkeypatch):
    """Every aeb and readability page (157) cleans to the same PageCleaned with and without the
    guards, with the date search on (no published_at) and off."""
    options = CleanOptions(max_page_bytes=4 * 1024 * 1024)
    compared = 0
    for name, html in shared_pages():
        for published in (None, "2025-01-01T00:00:00Z"):
            envelope = {"body": html, "url": f"https://example.org/{name}", "fetched_at": "2025-06-01T00:00:00Z",
                        "published_at": published}
            guarded = clean_page(envelope, options)
            monkeypatch.setattr(clean_module, "skipped_impossible_prunes", contextlib.nullcontext)
            plain = clean_page(envelope, options)
            monkeypatch.undo()
            assert guarded == plain, name
            compared += 1
    assert compared == 2 * 157
