"""trafilatura's html2txt(tree) -> str, the same string, in one XSLT pass instead of a copy of the
tree, an XPath delete and a Python loop over its block elements. No Faust here.

trafilatura_sequence calls html2txt(tree) for one number: the page's whole text length, which
decides whether a short extraction is retried in recall mode (core.py, "recall escalation"). On
the shared corpora that call ran on 59 of 157 pages and took 8.6% of cleaning, up to 13 ms on the
slowest pages: it copies the whole tree, deletes basic_cleaning's elements (aside, footer, script,
`div[contains(@class|@id, 'footer')]`, ...; their tails kept in place), puts a space before and
after each block element (`_BLOCK_ELEMS`, each block's text and tail put through
remove_control_characters) and joins the text's words with single spaces.

Here the tree is not copied. basic_cleaning's own expression (prune guard included) picks the
elements to delete, each gets a marker attribute for the time of one XSLT pass (text_stylesheet),
and the pass writes the text from the tree as it is: a marked element writes nothing (its tail is
the following text node, so it stays where delete_element puts it), a block element writes a
space, its content, a space; comments and processing instructions write nothing (XSLT's built-in
rule for them, as text_content skips them). A character that is neither printable nor a space (a
soft hyphen, a zero-width space, an icon font's private-use glyph) is dropped, as
remove_control_characters drops it, from the texts and tails that end up in a block element's
text or tail after the deletes: those few text nodes are set without it for the second pass and
put back. The marker (`LW-Deleted`, upper case: lxml.html's parser lower-cases every attribute
name, so no page has it) and the texts are put back in a `finally`: the tree is left as it was.
Only when trafilatura's functions and expressions involved are byte for byte the ones this was
written for (PINNED, SHA-1 of their source; trafilatura is pinned): otherwise html2txt stays
trafilatura's. tests/unit/test_baseline_text.py compares both on every shared page and on random
trees.
"""
from __future__ import annotations

import functools
import hashlib
import importlib
import re
import threading

from lxml import etree
from lxml.html import HtmlElement

from leaderwatch.pipeline.prune_guards import source_digest
from leaderwatch.pipeline.swaps import sources_match

# the sources this module was written for (trafilatura 2.3.1)
PINNED = {"html2txt": "f944bfbfa102d7857c56500371dce2be4d1c04e1",
          "basic_cleaning": "192f4d035ee655949225bb4b54d5a5bdc44aca6a",
          "_spaced_text": "cbda97290f511bfdea12ed149e391bfdd91a9e3f",
          "delete_element": "fb2c130b17bf74891d9ae561d3d66dedfc5c0046",
          "remove_control_characters": "5981411ce99024f1daecf323029f89ea32dc29be",
          "load_html": "6b704c671124ecd5734bc8ad3fbaab66ce5376dd"}
BASIC_CLEAN_DIGEST = "841f8efcd6f3ebba22264ed53facd2000673b297"  # of BASIC_CLEAN_XPATH.path
BLOCK_ELEMS_DIGEST = "785adaa687030ccb61fbaf8d704beb18bd360d48"  # of " ".join(sorted(_BLOCK_ELEMS))
MARKER = "LW-Deleted"  # on the elements basic_cleaning deletes, during a pass


def _baseline():
    return importlib.import_module("trafilatura.baseline")  # the module: trafilatura exports a function of that name


@functools.cache
def pinned() -> bool:
    """Whether trafilatura's html2txt and what it calls are those of PINNED."""
    baseline = _baseline()
    if not sources_match(baseline, PINNED):
        return False
    expression = baseline.BASIC_CLEAN_XPATH
    expression = getattr(expression, "expression", expression)  # inside a `with`, the prune guard holds trafilatura's
    return (hasattr(expression, "path") and source_digest(expression) == BASIC_CLEAN_DIGEST
            and hashlib.sha1(" ".join(sorted(baseline._BLOCK_ELEMS)).encode("utf-8")).hexdigest() == BLOCK_ELEMS_DIGEST)


def text_stylesheet(block_tags) -> str:
    """The XSLT that writes a body's (or root's) text as html2txt spaces it, before the final join."""
    return f"""<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
<xsl:output method="text" encoding="UTF-8"/>
<xsl:template match="/"><xsl:apply-templates select="*/node()"/></xsl:template>
<xsl:template match="*[@{MARKER}]" priority="3"/>
<xsl:template match="{'|'.join(sorted(block_tags))}" priority="2"><xsl:text> </xsl:text><xsl:apply-templates/><xsl:text> </xsl:text></xsl:template>
</xsl:stylesheet>"""


class _Transforms(threading.local):
    """One compiled stylesheet per thread (built on first use)."""

    transform = None

    def get(self):
        if self.transform is None:
            self.transform = etree.XSLT(etree.XML(text_stylesheet(_baseline()._BLOCK_ELEMS)))
        return self.transform


_TRANSFORMS = _Transforms()


def html2txt(content, clean: bool = True) -> str:
    """trafilatura.baseline.html2txt(content, clean), the same string; a tree (HtmlElement) with
    clean=True through the XSLT pass, the tree left as it was, anything else through trafilatura's."""
    baseline = _baseline()
    if not clean or not isinstance(content, HtmlElement):
        return baseline.html2txt(content, clean)
    body = content.find(".//body")
    root = content if body is None else body
    deleted = baseline.BASIC_CLEAN_XPATH(root)
    for element in deleted:
        element.set(MARKER, "")
    try:
        words = str(_TRANSFORMS.get()(root)).split()
        if "".join(words).isprintable():
            return " ".join(words)
        text = _without_unprintable(root, set(deleted), " ".join(words))
    finally:
        for element in deleted:
            del element.attrib[MARKER]
    return baseline.html2txt(content, clean) if text is None else text


def _without_unprintable(root, deleted: set, text: str) -> str | None:
    """The pass again, the unprintable characters out of every text or tail that basic_cleaning's
    deletes leave in a block element's text or tail (as _spaced_text's remove_control_characters);
    None where one of them is not an XML character (lxml would refuse it back)."""
    baseline = _baseline()
    remove_control_characters, block_tags = baseline.remove_control_characters, baseline._BLOCK_ELEMS
    chars = "".join(char for char in set(text) if not (char.isprintable() or char.isspace()))
    if not all(_xml_char(char) for char in chars):
        return None
    holds = re.compile(f"[{re.escape(chars)}]").search
    changed = {}  # (element, "text" | "tail") -> the value it had
    try:
        # (a text inside a deleted element may be cleaned too, and the root's tail: neither is written)
        for element in root.iter():
            for attribute in ("text", "tail"):
                value = getattr(element, attribute)
                if value and holds(value) and _cleaned_where_it_ends(element, attribute, deleted, block_tags):
                    changed[(element, attribute)] = value
                    setattr(element, attribute, remove_control_characters(value))
        return " ".join(str(_TRANSFORMS.get()(root)).split())
    finally:
        for (element, attribute), value in changed.items():
            setattr(element, attribute, value)


def _xml_char(char: str) -> bool:
    code = ord(char)
    return code in (9, 10, 13) or 0x20 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD or code >= 0x10000


def _cleaned_where_it_ends(owner, attribute: str, deleted: set, block_tags) -> bool:
    """Whether owner.text (attribute "text") or owner.tail ends up, after the deletes, in a block
    element's text or tail: a deleted element's tail joins the previous kept sibling's tail, or
    the parent's text (trafilatura.xml.delete_element)."""
    if attribute == "text":
        return owner.tag in block_tags
    if owner in deleted:
        previous = owner.getprevious()
        while previous is not None and previous in deleted:
            previous = previous.getprevious()
        if previous is None:
            return owner.getparent().tag in block_tags
        owner = previous
    return owner.tag in block_tags
