"""trafilatura's two OVERALL_DISCARD_XPATH expressions answered in Python: the same elements, in
the same (document) order, in less than half the time. No Faust here.

main_extractor prunes each candidate article subtree with them, and the whole tree again when it
recovers wild text. Their branches test id, class and style through EXSLT re:test, a Python
callback per branch and element: on the slowest shared page (f6ac15a4) a quarter of its
cleaning. Here one XPath without callbacks picks the elements that carry an attribute some
branch reads, and the branches are tested on their values in Python, with the regular
expressions read from the expression's own source. prune_guards installs these only over the
expressions whose source has the SHA-1 they were written for.

XPath's rules kept: a test on a missing attribute sees ""; the string value of `@id|@class` is
the value of whichever of the two comes first in the element (source order; so is
`@id|@style`); `@class='comments-title'` compares the whole value.
"""
from __future__ import annotations

import re

from lxml import etree


def written_pattern(source: str, attributes: str) -> re.Pattern:
    """The regular expression of `re:test(@<attributes>, '...')` in an XPath source."""
    found = re.search(rf"re:test\({re.escape(attributes)}, '([^']*)'\)", source)
    if found is None:
        raise ValueError(f"no re:test({attributes}, ...) in the expression")
    return re.compile(found.group(1))


def first_of(element, name: str, value: str | None, other: str, other_value: str | None) -> str:
    """string(@name|@other), given both values (None: absent): the value of whichever of the two
    comes first in the element."""
    if value is None or other_value is None:
        return (value if other_value is None else other_value) or ""
    for each in element.keys():
        if each == name:
            return value
        if each == other:
            return other_value
    return ""


class SectionDiscard:
    """OVERALL_DISCARD_XPATH[0]: divs, items, lists, paragraphs, sections and spans that are
    navigation, sharing, ads, cookie notices and the like, by id, class, role or data attribute."""

    def __init__(self, source: str) -> None:
        self.candidates = etree.XPath(".//*[self::div or self::item or self::list or self::p or self::section or self::span]"
                                      "[@id or @class or @role or @data-component or @data-lp-replacement-content]")
        self.cookie = written_pattern(source, "@id|@class")
        self.ids, self.classes = written_pattern(source, "@id"), written_pattern(source, "@class")

    def __call__(self, tree) -> list:
        found = []
        for element in self.candidates(tree):
            get = element.get
            id_, class_ = get("id"), get("class")
            if (self.ids.search(id_ or "") or self.classes.search(class_ or "")
                    or self.cookie.search(first_of(element, "id", id_, "class", class_))
                    or get("data-lp-replacement-content") is not None
                    or "nav" in (get("role") or "").replace("N", "n")
                    or "MostPopularStories" in (get("data-component") or "")):
                found.append(element)
        return found


class HiddenDiscard:
    """OVERALL_DISCARD_XPATH[1]: any element hidden (style, aria-hidden, hide classes) or a
    comment-form part (reply-, akismet, comments-title)."""

    def __init__(self, source: str) -> None:
        self.candidates = etree.XPath(".//*[@id or @class or @style or @aria-hidden]")
        self.hidden = written_pattern(source, "@id|@style")
        self.ids, self.classes = written_pattern(source, "@id"), written_pattern(source, "@class")

    def __call__(self, tree) -> list:
        found = []
        for element in self.candidates(tree):
            get = element.get
            id_, class_, style = get("id"), get("class"), get("style")
            if (class_ == "comments-title" or first_of(element, "id", id_, "class", class_).startswith("reply-")
                    or self.hidden.search(first_of(element, "id", id_, "style", style))
                    or "display:none" in (style or "") or "display: none" in (style or "")
                    or self.ids.search(id_ or "") or self.classes.search(class_ or "")
                    or get("aria-hidden") == "true"):
                found.append(element)
        return found
