"""Long article texts: choosing spans and finding evidence sentences stay right (and no longer
scan everything found so far per mention; the speed is in ./scripts/bench-steps, line (d))."""
import random

import pytest

from leaderwatch.leaders.gazetteer import default_gazetteer
from leaderwatch.leaders.matcher import LeaderMatcher
from leaderwatch.leaders.spans import longest_first
from leaderwatch.pipeline.extract import MAX_SENTENCES_PER_LEADER, extract_page
from leaderwatch.records import PageCleaned


@pytest.fixture(scope="module")
def matcher():
    return LeaderMatcher(default_gazetteer())


def longest_first_by_scan(spans):
    """The reference: each span, longest first (ties leftmost), kept if it overlaps none kept."""
    taken = []
    for span in sorted(spans, key=lambda s: (-(s[1] - s[0]), s[0])):
        if all(span[1] <= a or span[0] >= b for a, b, *_ in taken):
            taken.append(span)
    return sorted(taken, key=lambda s: s[0])


@pytest.mark.parametrize("seed", range(300))
def test_longest_first_keeps_what_a_scan_of_every_kept_span_keeps(seed):
    rnd = random.Random(seed)
    spans = []
    for index in range(rnd.randint(2, 40)):
        start = rnd.randint(0, 120)
        spans.append((start, start + rnd.randint(1, 25), f"span{index}"))
    assert longest_first(spans) == longest_first_by_scan(spans)


def test_a_long_article_naming_one_leader_thousands_of_times_counts_each_and_keeps_its_sentences(matcher):
    sentences = [f"Paragraph {i}: Kim Jong Un met officials in Pyongyang on Tuesday." for i in range(8000)]
    text = "\n".join(sentences)
    page = PageCleaned(doc_id="d", url=None, title=None, site=None, language="en", published_at="2025-11-14T06:00:00Z",
                       fetched_at="2025-11-14T08:00:00Z", event_time="2025-11-14T06:00:00Z", text=text, content_hash="h")
    found = extract_page(page, matcher)
    kim = next(leader for leader in found.leaders if leader.qid == "Q56226")  # Kim Jong-un
    assert kim.mentions == 8000 and len(kim.offsets) == 8000
    starts = [text.index(sentence) for sentence in sentences]
    assert kim.sentence_ids == starts[:MAX_SENTENCES_PER_LEADER]  # each mention's own sentence, in text order
    assert kim.sentences == sentences[:MAX_SENTENCES_PER_LEADER]
