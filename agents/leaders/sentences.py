"""Split text into sentences with character offsets (rule-based, abbreviation-aware)."""
from __future__ import annotations

import bisect
import re

# a sentence ends at . ! ? (plus closing quotes/brackets) followed by space and an uppercase
# letter, digit or quote, or at a blank line; not after common abbreviations and initials
_BOUNDARY = re.compile(r"(?<=[.!?])[\"'”’)\]]*\s+(?=[\"'“‘(\[]?[A-Z0-9À-ÖØ-Þ])|\n\s*\n|\n(?=[A-Z0-9“\"])")
_ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "prof", "sen", "rep", "gov", "gen", "lt", "col", "sgt", "st", "jr", "sr",
    "u.s", "u.k", "u.n", "e.u", "no", "vs", "etc", "inc", "ltd", "co", "corp", "jan", "feb", "mar",
    "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "a.m", "p.m", "ft", "mt", "rev",
}


def split_sentences(text: str) -> list[tuple[int, int]]:
    """text -> [(start, end)] of each sentence, covering the text in order."""
    spans, start = [], 0
    for match in _BOUNDARY.finditer(text):
        head = text[start:match.start()].rstrip("\"'”’)]")
        last_word = head.rsplit(None, 1)[-1].lower().rstrip(".") if head.split() else ""
        if head.endswith(".") and (last_word in _ABBREVIATIONS or re.fullmatch(r"[a-z]", last_word)):
            continue
        if match.start() > start:
            spans.append((start, match.start()))
        start = match.end()
    if start < len(text):
        spans.append((start, len(text)))
    return spans


def sentence_index(spans: list[tuple[int, int]], offset: int) -> int:
    """Index of the sentence holding character `offset`."""
    return max(0, bisect.bisect_right([s for s, _ in spans], offset) - 1)
