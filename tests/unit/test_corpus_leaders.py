"""Every page of ../shared/corpus/aeb through the agents' clean + extract code; labelled leaders found."""
from __future__ import annotations

import pytest

from tools.evaluate import clean_envelope, corpus_pages, evaluate, make_envelope, read_jsonl
from leaderwatch.pipeline.extract import build_matcher, extract_page
from tests.conftest import AEB_DIR

pytestmark = [pytest.mark.skipif(not AEB_DIR.exists(), reason="../shared/corpus/aeb not present"), pytest.mark.slow]

# page id prefix -> Wikidata ids the labeller found (named, not role-only)
LABELLED = {
    "16c30add7e96": {"Q1058"},                      # Narendra Modi
    "702d1da63b8e": {"Q22686", "Q15031", "Q56226"},  # Trump, Xi Jinping, Kim Jong Un
    "e4c6a3b48240": {"Q15031", "Q3052772"},          # Xi Jinping, Emmanuel Macron
    "a1fca19b884e": {"Q22686", "Q172388", "Q7436908"},  # Trump, Ashraf Ghani, Scott Morrison
    "833caf3bdba5": {"Q43723", "Q22686"},            # Netanyahu, Trump
    "e7994d550087": {"Q180589", "Q6383803"},         # Boris Johnson, Keir Starmer
    "1f765c487806": {"Q9682"},                       # Elizabeth II
}


@pytest.fixture(scope="module")
def found_by_page():
    truth = read_jsonl(AEB_DIR / "truth.jsonl")
    matcher = build_matcher()
    found = {}
    for pid, path in corpus_pages(AEB_DIR):
        page = clean_envelope(make_envelope(path, truth.get(pid)))
        found[pid] = {l.qid for l in extract_page(page, matcher).leaders} if page else None
    return found


def test_every_page_passes_clean_and_extract(found_by_page):
    assert len(found_by_page) == 121
    assert all(v is not None for v in found_by_page.values())


@pytest.mark.parametrize("prefix", sorted(LABELLED))
def test_labelled_leaders_are_found(found_by_page, prefix):
    (pid,) = [p for p in found_by_page if p.startswith(prefix)]
    assert LABELLED[prefix] <= found_by_page[pid]


def test_pages_without_leaders_stay_empty(found_by_page):
    labels = read_jsonl(AEB_DIR / "leaders.jsonl")
    empty = [pid for pid, row in labels.items() if not row["leaders"]]
    wrong = {pid[:12]: found_by_page[pid] for pid in empty if found_by_page[pid]}
    assert len(empty) > 80 and len(wrong) <= 1, wrong


def test_precision_and_recall_floor():
    """The issue's targets on the labelled pages: measured P 1.000 (50/50), R 0.962 on 2026-12-01 (./scripts/eval)."""
    metrics, _ = evaluate(AEB_DIR, min_seconds=0.0)
    assert metrics["leader_precision"] >= 0.98 and metrics["leader_recall"] >= 0.95
    assert metrics["text_f1"] >= metrics["text_f1_trafilatura_baseline"]
