"""The prune guards (leaderwatch.pipeline.prune_guards) change no output, only what runs."""
from __future__ import annotations

import contextlib
import gzip
import random
import threading

import pytest
from lxml import etree
from trafilatura import xpaths

from leaderwatch.pipeline import clean as clean_module
from leaderwatch.pipeline import prune_guards
from leaderwatch.pipeline.clean import CleanOptions, clean_page
from tests.conftest import AEB_DIR, SHARED_DIR

GUARDED_LISTS = sorted({name for name, _ in prune_guards.GUARDS})


def test_every_guard_is_installed_for_this_trafilatura():
    """The digests are those of the installed trafilatura's expressions: no guard silently off."""
    installed = {(id(expressions), index) for expressions, index, _, _ in prune_guards._swap().entries}
    for list_name, index in prune_guards.GUARDS:
        assert (id(getattr(xpaths, list_name)), index) in installed, (list_name, index)


def test_inside_the_with_the_lists_hold_guards_and_after_it_the_originals_again():
    before = {name: list(getattr(xpaths, name)) for name in GUARDED_LISTS}
    with prune_guards.skipped_impossible_prunes():
        with prune_guards.skipped_impossible_prunes():  # nested: the outer exit restores
            pass
        for list_name, index in prune_guards.GUARDS:
            assert isinstance(getattr(xpaths, list_name)[index], prune_guards.Guarded)
    for name in GUARDED_LISTS:
        assert getattr(xpaths, name) == before[name]
        assert not any(isinstance(e, prune_guards.Guarded) for e in getattr(xpaths, name))
    assert prune_guards._swap().attributes.tree is None  # the last tree is not kept


def test_a_changed_expression_is_left_unguarded(monkeypatch):
    """A trafilatura release whose expression differs (another digest) runs it as it is."""
    changed = etree.XPath(".//*[self::div][contains(@class, 'comment')]")
    monkeypatch.setattr(xpaths, "REMOVE_COMMENTS_XPATH", [changed])
    swap = prune_guards._Swap()
    assert all(expressions is not xpaths.REMOVE_COMMENTS_XPATH for expressions, *_ in swap.entries)
    assert len(swap.entries) == len(prune_guards.GUARDS) - 1


def test_two_threads_leave_the_originals_installed():
    originals = {name: list(getattr(xpaths, name)) for name in GUARDED_LISTS}
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
    for name in GUARDED_LISTS:
        assert getattr(xpaths, name) == originals[name]


# attribute values around what the guarded expressions look for: near misses, case changes,
# anchors mid-value, several classes in one value, newlines inside a value
_WORDS = ["comment", "Comment", "comments", "commentary", "xcomment", "comol", "disqus_thread", "dsq-comments",
          "post-comments", "article-comments", "article comments", "infinite-scroll", "infinitescroll", "infinite scroll",
          "mvp-post-add-box", "mvp-post-add-wrap", "mvp-post-add", "elementor-share-buttons", "elementor-share",
          "share", "main", "content", "a\ncomment", "", "Commentary"]
_TAGS = ["div", "section", "aside", "details", "ol", "ul", "li", "span", "p", "h1", "article"]


def random_tree(rng: random.Random) -> etree._Element:
    root = etree.Element("html")
    body = etree.SubElement(root, "body")
    parents = [body]
    for _ in range(rng.randint(1, 25)):
        element = etree.SubElement(rng.choice(parents), rng.choice(_TAGS))
        for attribute in ("id", "class"):
            if rng.random() < 0.5:
                value = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(1, 3)))
                element.set(attribute, value)
        if rng.random() < 0.5:
            element.set("class" if rng.random() < 0.5 else "id", element.get("class", "") + rng.choice(_WORDS))
        element.text = "text"
        parents.append(element)
    return root


@pytest.mark.parametrize("seed", range(40))
def test_a_guarded_expression_answers_as_the_expression_on_random_trees(seed):
    """Whenever the real expression matches something, the guard lets it run: on 40 x 25 trees
    built from near-miss attribute values, Guarded(tree) == expression(tree) for every guard."""
    rng = random.Random(seed)
    swap = prune_guards._Swap()
    matched = 0
    for _ in range(25):
        tree = random_tree(rng)
        for _, _, original, guarded in swap.entries:
            want = original(tree)
            matched += bool(want)
            assert guarded(tree) == want, etree.tostring(tree)
    swap.attributes.forget()
    assert matched  # the trees do exercise the expressions


def test_a_guard_skips_the_expression_when_no_attribute_could_match():
    tree = etree.fromstring("<html><body><div id='main' class='content'><p>text</p></div></body></html>")
    calls = []
    for expressions, index, original, guarded in prune_guards._Swap().entries:
        counting = prune_guards.Guarded(lambda t, original=original: calls.append(1) or original(t), guarded.could_match,
                                        prune_guards.TreeAttributes())
        assert counting(tree) == []
    assert calls == []


def corpus_pages():
    for folder in (AEB_DIR, SHARED_DIR / "corpus" / "readability"):
        for path in sorted(folder.glob("*.html.gz")):
            yield path.name, gzip.decompress(path.read_bytes()).decode("utf-8", "replace")


@pytest.mark.slow
@pytest.mark.skipif(not AEB_DIR.exists(), reason="../shared/corpus not present")
def test_the_guards_change_no_page_of_the_shared_corpora(monkeypatch):
    """Every aeb and readability page (157) cleans to the same PageCleaned with and without the
    guards, with the date search on (no published_at) and off."""
    options = CleanOptions(max_page_bytes=4 * 1024 * 1024)
    compared = 0
    for name, html in corpus_pages():
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
