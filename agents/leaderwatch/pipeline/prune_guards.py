"""Skip trafilatura's tree prunes that cannot match the page: same output, less XPath.

trafilatura prunes the raw tree with XPath expressions that test every div/section/list element's
id and class through EXSLT regular expressions (`re:test`, a Python callback per element): on the
shared corpora those prunes took 1.0-1.4 ms a page each, a tenth of cleaning, and the infinite-
scroll one matched 1 page of 157, the comment-section one 66. Every such match needs an id or a
class attribute that the expression's own regular expression finds; if no id or class of the
whole tree has it, the expression's answer is known: nothing.

skipped_impossible_prunes() swaps, for the duration of a `with`, the guarded expressions in
trafilatura.xpaths' lists for a Guarded wrapper that first searches the tree's id and class
values joined by newlines (a superset test: a match across two values or at a newline only makes
it run the real expression) and runs the real expression only when that finds something. An
expression is guarded only if its XPath source is byte for byte the one this module was written
for (GUARDS, by SHA-1): a trafilatura release that changes one runs it unguarded.
tests/unit/test_prune_guards.py compares the text of every shared page with and without.
"""
from __future__ import annotations

import contextlib
import functools
import hashlib
import re
import threading

from lxml import etree
from trafilatura import xpaths

_IDS = etree.XPath(".//@id", smart_strings=False)
_CLASSES = etree.XPath(".//@class", smart_strings=False)


class TreeAttributes:
    """The id and class values of one tree, each kind joined by newlines; computed once per tree
    (the last tree is held, so its id() cannot be reused while it is remembered)."""

    def __init__(self) -> None:
        self.tree, self.ids, self.classes = None, "", ""

    def of(self, tree) -> "TreeAttributes":
        if tree is not self.tree:
            self.tree, self.ids, self.classes = tree, "\n".join(_IDS(tree)), "\n".join(_CLASSES(tree))
        return self

    def forget(self) -> None:
        self.tree, self.ids, self.classes = None, "", ""


_COMMENTS_ID = re.compile(rf"^(?:{xpaths._COMMENTS_ID}|disqus_thread|dsq-comments)", re.M)
_COMMENTS_CLASS = re.compile(xpaths._COMMENTS_CLASS, re.M)
_INFINITE_SCROLL = re.compile(r"mvp-post-add-(?:box|wrap)|infinite-?scroll")


def _comment_section(attributes: TreeAttributes) -> bool:
    return bool(_COMMENTS_ID.search(attributes.ids) or _COMMENTS_CLASS.search(attributes.classes))


def _infinite_scroll(attributes: TreeAttributes) -> bool:
    return bool(_INFINITE_SCROLL.search(attributes.ids) or _INFINITE_SCROLL.search(attributes.classes))


def _elementor_share(attributes: TreeAttributes) -> bool:
    return "elementor-share-buttons" in attributes.classes


# (list in trafilatura.xpaths, index) -> (SHA-1 of the expression's source in trafilatura 2.3.1,
# a test on the tree's ids and classes that is true whenever the expression could match)
GUARDS = {
    ("RAW_TREE_PRUNE_XPATH", 0): ("c15751070b078a647446175f714fc52b5d51ca8c", _infinite_scroll),
    ("RAW_TREE_PRUNE_XPATH", 1): ("12b073ccb20e96330059aff8a9782a769ecf22e6", _elementor_share),
    ("REMOVE_COMMENTS_AND_LISTS_XPATH", 0): ("7e7d885e629a511978658d1420f16b1a4ac09d85", _comment_section),
    ("REMOVE_COMMENTS_XPATH", 0): ("97b3a45900e751deb0c5446b7456a1274778d954", _comment_section),
}


def source_digest(expression) -> str:
    return hashlib.sha1(expression.path.encode("utf-8")).hexdigest()


class Guarded:
    """An XPath expression that answers [] without running when `could_match` says it cannot."""

    def __init__(self, expression, could_match, attributes: TreeAttributes):
        self.expression, self.could_match, self.attributes = expression, could_match, attributes

    def __call__(self, tree):
        return self.expression(tree) if self.could_match(self.attributes.of(tree)) else []


class _Swap:
    """The guarded list entries: installed while at least one `with` is open (threads included)."""

    def __init__(self) -> None:
        self.attributes = TreeAttributes()
        self.entries = []  # (list, index, original, guarded)
        for (list_name, index), (digest, could_match) in GUARDS.items():
            expressions = getattr(xpaths, list_name, None)
            if isinstance(expressions, list) and index < len(expressions) and source_digest(expressions[index]) == digest:
                original = expressions[index]
                self.entries.append((expressions, index, original, Guarded(original, could_match, self.attributes)))
        self.lock, self.depth = threading.Lock(), 0

    def enter(self) -> None:
        with self.lock:
            self.depth += 1
            if self.depth == 1:
                for expressions, index, _, guarded in self.entries:
                    expressions[index] = guarded

    def leave(self) -> None:
        with self.lock:
            self.depth -= 1
            if self.depth == 0:
                for expressions, index, original, _ in self.entries:
                    expressions[index] = original
                self.attributes.forget()


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
