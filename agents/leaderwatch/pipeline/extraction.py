"""An lxml tree -> its article text: trafilatura's bare_extraction as clean calls it (fast, no
comments, tables, no metadata), without the two copies of the page's tree it makes for nothing
in that call. No Faust here.

  1. bare_extraction copies a tree it is given, in case the caller uses it again: clean never
     does (it parses each page once for this call and the metadata read before it).
  2. trafilatura_sequence keeps a copy of the cleaned tree (_prepare_tree's backup) for the
     fallback extractors (only when not fast) and the forum-comments path (only with comments).

  3. trafilatura_sequence's recall-escalation gate copies the whole tree again, in html2txt, to
     measure the page's text: pipeline/baseline_text.py writes the same text without the copy.

A full copy is 3.5% of clean's CPU on the shared corpus (0.68-0.74 ms a page of 19.7-20.6);
both are ~6% (cProfile: lxml's __copy__ 6.1% of clean, 3.6 copies a page). article_text() runs
trafilatura_sequence itself, with _prepare_tree swapped for one without the backup while it
runs, then bare_extraction's own checks for these options (too little text: None). Only when
the four functions involved are byte for byte the ones this was written for (SHA-1 of their
source; trafilatura is pinned); otherwise it calls bare_extraction. The tests compare both on
every shared page.
"""
from __future__ import annotations

import functools

import trafilatura
import trafilatura.core as core
from trafilatura.htmlprocessing import convert_tags, tree_cleaning
from trafilatura.settings import Extractor
from trafilatura.xml import xmltotxt

from leaderwatch.pipeline import baseline_text
from leaderwatch.pipeline.swaps import ScopedSwap, sources_match

# the sources this module was written for (trafilatura 2.3.1)
PINNED = {"bare_extraction": "256616fcd1f1ee5973f39f3b8b549b11a22d3785",
          "trafilatura_sequence": "0dc10fc96543a3b56ac6394d08ad710797843310",
          "_prepare_tree": "bfc95d6a60d54c9a60db38997ca78d4132a51227",
          "_extract_and_compare": "0403601160963820512afdeba9f907749779e7aa"}


@functools.cache
def pinned() -> bool:
    """Whether trafilatura.core's functions are those of PINNED."""
    return sources_match(core, PINNED)


@functools.cache
def extractor() -> Extractor:
    """The options bare_extraction builds for clean's call (trafilatura_sequence copies them before
    it changes any: one instance serves every page)."""
    return Extractor(config=trafilatura.settings.DEFAULT_CONFIG, output_format="python", fast=True, comments=False,
                     tables=True)


ORIGINAL_PREPARE_TREE = core._prepare_tree  # trafilatura's, put back when the last `with` of _swaps() ends


def _prepare_tree_without_backup(tree, options, url):
    """_prepare_tree without its backup copy; only while options.fast and not options.comments."""
    return convert_tags(tree_cleaning(core.copy(tree), options), options, url), None


@functools.cache
def _swaps() -> ScopedSwap:
    """trafilatura.core._prepare_tree swapped for _prepare_tree_without_backup while installed
    (process-wide, as the prune guards' swap; clean runs one page at a time per process), and
    core.html2txt for baseline_text.html2txt (the same text without a copy of the tree) where
    pinned."""
    entries = [(core, "_prepare_tree", ORIGINAL_PREPARE_TREE, _prepare_tree_without_backup)]
    if baseline_text.pinned():
        entries.append((core, "html2txt", core.html2txt, baseline_text.html2txt))
    return ScopedSwap(entries)


def article_text(tree) -> str | None:
    """The article text of `tree` (which it prunes in place: use it for nothing afterwards) as
    bare_extraction(tree, fast=True, include_comments=False, include_tables=True).text gives it;
    None where bare_extraction returns None (too little text, or its extraction failed)."""
    if not pinned():
        document = trafilatura.bare_extraction(tree, with_metadata=False, include_comments=False, include_tables=True,
                                               fast=True)
        return None if document is None else document.text or ""
    options = extractor()
    try:
        with _swaps().installed():
            body, text, _, comments = core.trafilatura_sequence(tree, options, None)
        if options.max_tree_size and len(body) > options.max_tree_size:  # bare_extraction's size checks
            core.strip_tags(body, "hi")
            if len(body) > options.max_tree_size:
                raise ValueError
        if len(text) < options.min_output_size and len(comments) < options.min_output_comm_size:
            raise ValueError
    except (TypeError, ValueError):  # as bare_extraction: no document
        return None
    return xmltotxt(body, options.formatting)
