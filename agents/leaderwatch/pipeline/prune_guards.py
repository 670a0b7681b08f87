"""Skip trafilatura's tree prunes that cannot match the page, and answer the two it runs most in
Python: same output, less XPath.

trafilatura prunes its trees with XPath expressions that test the id and class of every element
(or every div/section/list) through EXSLT regular expressions (`re:test`, a Python callback per
element): on the shared corpora the raw-tree prunes took 1.0-1.4 ms a page each, and the
infinite-scroll one matched 1 page of 157, the comment-section one 66; baseline.basic_cleaning,
which measures the page's text (a tenth of cleaning, py-spy), tests every element for a
cookie-banner class. Every such match needs an id or a class attribute that the expression's own
regular expression finds; if no id or class of the whole tree has it, the answer is known.

skipped_impossible_prunes() swaps, for the duration of a `with`, each guarded expression in
trafilatura for a Guarded wrapper that first searches the id and class values of the tree's
whole document joined by newlines (read once per document, each guard's answer kept with them;
a superset test: a match across two values, at a newline or outside the tree only makes it run
the real expression) and otherwise answers [] or, for basic_cleaning's union, the union without its
re:test branch. An expression is guarded only if its XPath source is byte for byte the one this
module was written for (by SHA-1; trafilatura is pinned): a release that changes one runs it
unguarded, and tests/unit/test_prune_guards.py fails. EVALUATORS answer the two expressions run on
every page (twice) without a callback per element (pipeline/discard_rules.py). The tests
compare every shared page with and without all of it.
"""
from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib
import re
import threading

from lxml import etree

from leaderwatch.pipeline.discard_rules import HiddenDiscard, SectionDiscard
from leaderwatch.pipeline.swaps import ScopedSwap

_IDS = etree.XPath(".//@id", smart_strings=False)
_CLASSES = etree.XPath(".//@class", smart_strings=False)


class TreeAttributes(threading.local):
    """The id and class values of the whole document an element is in, each kind joined by
    newlines: a superset of any of its subtrees' while a page is cleaned (trafilatura sets no id or
    class, and runs the guarded expressions only on the page's tree and copies of it, which lose
    elements and never gain one). Computed once
    per document root and remembered for the last KEPT roots (held, so no id() is reused while
    remembered): a page's parsed tree and the copies trafilatura makes of it take turns. Per
    thread: two threads cleaning at once each test their own trees."""

    KEPT = 4

    def __init__(self) -> None:
        self.known: dict = {}  # document root -> (ids, classes, answers), oldest first
        self.ids, self.classes, self.answers = "", "", {}

    def of(self, tree) -> "TreeAttributes":
        """These attributes for `tree`'s document; `answers` keeps each guard's test of them (a
        case-blind regular expression over a page's classes took ~3 ms on the largest pages)."""
        root = tree.getroot() if isinstance(tree, etree._ElementTree) else tree.getroottree().getroot()
        found = self.known.pop(root, None)
        if found is None:
            found = "\n".join(_IDS(root)), "\n".join(_CLASSES(root)), {}
            if len(self.known) >= self.KEPT:
                del self.known[next(iter(self.known))]
        self.known[root] = found
        self.ids, self.classes, self.answers = found
        return self

    def forget(self) -> None:
        self.known.clear()
        self.ids, self.classes, self.answers = "", "", {}


# the regular expressions of the guarded expressions, as their sources in trafilatura 2.3.1 have
# them (xpaths._COMMENTS_ID, _COMMENTS_CLASS, settings._COOKIE_CONSENT_RE); ^ matches at each
# value's start in the joined text with re.M
_COMMENTS_ID = re.compile(r"^(?:[Cc]omment(?!ary)|comol|disqus_thread|dsq-comments)", re.M)
_COMMENTS_CLASS = re.compile(r"^[Cc]omment(?!ary)|(?:article|post)-comments", re.M)
_INFINITE_SCROLL = re.compile(r"mvp-post-add-(?:box|wrap)|infinite-?scroll")


def _comment_section(attributes: TreeAttributes) -> bool:
    return bool(_COMMENTS_ID.search(attributes.ids) or _COMMENTS_CLASS.search(attributes.classes))


def _infinite_scroll(attributes: TreeAttributes) -> bool:
    return bool(_INFINITE_SCROLL.search(attributes.ids) or _INFINITE_SCROLL.search(attributes.classes))


def _elementor_share(attributes: TreeAttributes) -> bool:
    return "elementor-share-buttons" in attributes.classes


_COOKIE_BANNER = re.compile(r"cookie[-_]?(?:banner|bar|consent|law|notice|policy|description)|notice[-_]{0,2}cookie|"
                            r"consent[-_]?(?:banner|manager|sdk)|borlabs|cookiebot|cmplz|onetrust|moove[-_]?gdpr", re.I | re.M)


def _cookie_banner(attributes: TreeAttributes) -> bool:
    return bool(_COOKIE_BANNER.search(attributes.classes) or _COOKIE_BANNER.search(attributes.ids))


# basic_cleaning's union without its last branch, the re:test one (`.//*[re:test(@class, ...)
# or re:test(@id, ...)]`): what the union answers when that branch matches nothing
_BASIC_CLEAN_WITHOUT_COOKIES = (".//aside|.//div[contains(@class|@id, 'footer')]|.//fencedframe|.//footer|"
                                ".//script|.//style|.//svg|.//template")


# (module, list name, index or None for the attribute itself) -> (SHA-1 of the expression's source
# in trafilatura 2.3.1, a test on the tree's ids and classes that is true whenever the expression
# could match, the expression that answers otherwise: None for [])
GUARDS = {
    ("trafilatura.xpaths", "RAW_TREE_PRUNE_XPATH", 0): ("c15751070b078a647446175f714fc52b5d51ca8c", _infinite_scroll, None),
    ("trafilatura.xpaths", "RAW_TREE_PRUNE_XPATH", 1): ("12b073ccb20e96330059aff8a9782a769ecf22e6", _elementor_share, None),
    ("trafilatura.xpaths", "REMOVE_COMMENTS_AND_LISTS_XPATH", 0): ("7e7d885e629a511978658d1420f16b1a4ac09d85",
                                                                  _comment_section, None),
    ("trafilatura.xpaths", "REMOVE_COMMENTS_XPATH", 0): ("97b3a45900e751deb0c5446b7456a1274778d954", _comment_section, None),
    ("trafilatura.baseline", "BASIC_CLEAN_XPATH", None): ("841f8efcd6f3ebba22264ed53facd2000673b297", _cookie_banner,
                                                          _BASIC_CLEAN_WITHOUT_COOKIES),
}

# (module, list name, index) -> (SHA-1 of the source in trafilatura 2.3.1, the class answering it
# in Python from that source): main_extractor's OVERALL_DISCARD_XPATH, run on every page, calls
# re:test on each element of its kinds (pipeline/discard_rules.py)
EVALUATORS = {
    ("trafilatura.xpaths", "OVERALL_DISCARD_XPATH", 0): ("d00545c1e3acd7dd0585191cc70e0104d49e5586", SectionDiscard),
    ("trafilatura.xpaths", "OVERALL_DISCARD_XPATH", 1): ("8c88600b03181df7a8d96c7c92ca3b0351f47e78", HiddenDiscard),
}


def source_digest(expression) -> str:
    return hashlib.sha1(expression.path.encode("utf-8")).hexdigest()


def pinned(module_name: str, name: str, index: int | None, digest: str):
    """(holder, key, expression): trafilatura's expression at module.name[index] (or module.name),
    if it is there and its source has `digest`; else None."""
    module = importlib.import_module(module_name)
    holder, key = (getattr(module, name, None), index) if index is not None else (module, name)
    try:
        expression = holder[key] if index is not None else getattr(holder, key)
    except (TypeError, IndexError, KeyError, AttributeError):
        return None
    if getattr(expression, "path", None) is None or source_digest(expression) != digest:
        return None
    return holder, key, expression


class Guarded:
    """An XPath expression that answers `otherwise(tree)` ([] if None) without running when
    `could_match` says it cannot match."""

    def __init__(self, expression, could_match, attributes: TreeAttributes, otherwise=None):
        self.expression, self.could_match, self.attributes = expression, could_match, attributes
        self.otherwise = otherwise

    def __call__(self, tree):
        attributes = self.attributes.of(tree)
        could_match = attributes.answers.get(self.could_match)
        if could_match is None:
            could_match = attributes.answers[self.could_match] = self.could_match(attributes)
        if could_match:
            return self.expression(tree)
        return self.otherwise(tree) if self.otherwise is not None else []


class _Swap(ScopedSwap):
    """The guarded expressions: installed while at least one `with` is open (threads included)."""

    def __init__(self) -> None:
        self.attributes = TreeAttributes()
        entries = []  # (holder, key, original, guarded): holder[key] or setattr(holder, key)
        for (module_name, name, index), (digest, could_match, otherwise) in GUARDS.items():
            if (found := pinned(module_name, name, index, digest)) is not None:
                fallback = etree.XPath(otherwise) if otherwise else None
                entries.append((*found, Guarded(found[2], could_match, self.attributes, fallback)))
        for (module_name, name, index), (digest, evaluator) in EVALUATORS.items():
            if (found := pinned(module_name, name, index, digest)) is not None:
                entries.append((*found, evaluator(found[2].path)))
        super().__init__(entries)

    def leave(self) -> None:
        super().leave()
        self.attributes.forget()  # this thread's last tree


@functools.cache
def _swap() -> _Swap:
    return _Swap()


@contextlib.contextmanager
def skipped_impossible_prunes():
    """Within: trafilatura skips the guarded prunes whose regular expressions no id or class of
    the tree has. Outside, trafilatura is as installed."""
    swap = _swap()
    swap.enter()
    try:
        yield swap
    finally:
        swap.leave()
