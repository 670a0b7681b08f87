"""Replay's pure parts: dates, stage/topic pairs, the start-offset search and the check of the broker's answer."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from leaderwatch.ops.offsets import answer_holds, locate, search_offset
from leaderwatch.ops.replay import format_summary, is_copy, parse_when, stage_topic, to_ms, worker_caught_up
from leaderwatch.settings import Settings


def reader(timestamps: list[int], copies: frozenset[int] = frozenset()):
    """timestamp_at over a fake partition: the first non-copy record at or after an offset, None past the end."""
    reads = []

    def timestamp_at(offset: int):
        reads.append(offset)
        for o in range(offset, len(timestamps)):
            if o not in copies:
                return timestamps[o]
        return None

    timestamp_at.reads = reads
    return timestamp_at


def first_at_or_after(timestamps: list[int], target: int) -> int:
    return next((i for i, t in enumerate(timestamps) if t >= target), len(timestamps))


# ---------------------------------------------------------------- the search

@pytest.mark.parametrize("timestamps, target, expected", [
    ([10, 20, 30, 40, 50], 30, 2),           # monotonic, exact hit
    ([10, 20, 30, 40, 50], 25, 2),           # between two records
    ([10, 20, 20, 20, 30], 20, 1),           # duplicates: the first of them
    ([10, 20, 20, 20, 30], 21, 4),
    ([], 30, 0),                             # empty partition
    ([10, 20, 30], 99, 3),                   # all before: start at the end, nothing to read
    ([10, 20, 30], 5, 0),                    # all after: from the beginning
    ([7, 7, 7, 7], 7, 0),
])
async def test_search_finds_the_first_offset_at_or_after_the_target(timestamps, target, expected):
    assert await search_offset(reader(timestamps), 0, len(timestamps), target) == expected
    assert expected == first_at_or_after(timestamps, target)


async def test_search_reads_few_records():
    timestamps = list(range(0, 100_000, 10))
    timestamp_at = reader(timestamps)
    assert await search_offset(timestamp_at, 0, len(timestamps), 55_555) == 5556
    assert len(timestamp_at.reads) <= 15  # log2(10,000) + 1


async def test_search_respects_a_nonzero_beginning_offset():
    timestamps = [0] * 100 + [10, 20, 30]  # offsets below 100 deleted by retention: never read
    timestamp_at = reader(timestamps)
    assert await search_offset(timestamp_at, 100, 103, 20) == 101
    assert min(timestamp_at.reads) >= 100


async def test_search_skips_copies_of_earlier_replays():
    # originals 10..50 at offsets 0-4, then copies of them (old timestamps, out of order), then new records
    timestamps = [10, 20, 30, 40, 50, 10, 20, 30, 40, 50, 60, 70]
    copies = frozenset(range(5, 10))
    # 55: offset 5 is fine, the scan from there passes over the copies to the first original in range (10)
    for target, expected in [(30, 2), (55, 5), (70, 11), (80, 12)]:
        assert await search_offset(reader(timestamps, copies), 0, len(timestamps), target) == expected
    # without skipping copies the search would land inside the copies and miss originals 2-4
    assert await search_offset(reader(timestamps), 0, len(timestamps), 30) == 7


async def test_non_monotonic_timestamps_land_on_a_crossing_point():
    timestamps = [10, 40, 20, 50, 30, 60, 45, 70]  # producers with skewed clocks
    start = await search_offset(reader(timestamps), 0, len(timestamps), 45)
    assert timestamps[start - 1] < 45 <= timestamps[start]
    # the replay searches from `target - skew`: records out of order by less than the skew are still scanned
    skew = 30
    start = await search_offset(reader(timestamps), 0, len(timestamps), 45 - skew)
    assert all(start <= i for i, t in enumerate(timestamps) if t >= 45)


async def test_async_timestamp_reader_works_too():
    timestamps = [10, 20, 30]

    async def timestamp_at(offset):
        return timestamps[offset] if offset < len(timestamps) else None

    assert await search_offset(timestamp_at, 0, 3, 20) == 1


# ---------------------------------------------------------------- checking the broker's answer

@pytest.mark.parametrize("timestamps, target, answer, holds", [
    ([10, 20, 30, 40], 30, 2, True),         # right
    ([10, 20, 30, 40], 30, 0, False),        # the embedded broker: 0 for every timestamp
    ([10, 20, 30, 40], 5, 0, True),          # ... which is right when everything is in range
    ([10, 20, 30, 40], 99, 0, False),        # a future timestamp answered 0
    ([10, 20, 30, 40], 99, None, True),      # Kafka: None = no record that late
    ([10, 20, 30, 40], 30, None, False),
    ([10, 20, 30, 40], 30, 3, False),        # too late: offset 2 is in range already
    ([10, 20, 30, 40], 30, 9, False),        # outside the partition
    ([], 30, 0, True),
])
async def test_broker_answer_is_checked(timestamps, target, answer, holds):
    assert await answer_holds(reader(timestamps), 0, len(timestamps), target, answer) is holds


async def test_locate_uses_a_right_answer_and_searches_past_a_wrong_one():
    timestamps = list(range(0, 1000, 10))
    right = reader(timestamps)
    assert await locate(right, 0, 100, 500, answer=50, answered=True) == (50, "broker")
    assert len(right.reads) == 2  # the record before and the record at the answer
    assert await locate(reader(timestamps), 0, 100, 500, answer=0, answered=True) == (50, "search")
    assert await locate(reader(timestamps), 0, 100, 500) == (50, "search")  # no answer (offsets_for_times failed)


# ---------------------------------------------------------------- dates, stages, counters

def test_parse_when_dates_datetimes_and_offsets():
    utc = timezone.utc
    assert parse_when("2025-11-14") == datetime(2025, 11, 14, tzinfo=utc)
    assert parse_when("2025-11-14T08:30") == datetime(2025, 11, 14, 8, 30, tzinfo=utc)
    assert parse_when("2025-11-14T08:30:00Z") == datetime(2025, 11, 14, 8, 30, tzinfo=utc)
    assert parse_when("2025-11-14T17:30:00+09:00") == datetime(2025, 11, 14, 8, 30, tzinfo=utc)
    assert parse_when(None, datetime(2000, 1, 1, tzinfo=utc)).year == 2000
    assert to_ms(parse_when("1970-01-01T00:00:01Z")) == 1000
    with pytest.raises(ValueError, match="ISO 8601"):
        parse_when("last tuesday")
    with pytest.raises(ValueError):
        parse_when(None)


def test_stage_decides_the_topic_and_a_wrong_topic_names_the_valid_pairs():
    settings = Settings()
    assert stage_topic(settings, "clean") == "pages.raw"
    assert stage_topic(settings, "extract") == "pages.clean"
    assert stage_topic(settings, "alert", "pages.entities") == "pages.entities"
    with pytest.raises(ValueError) as error:
        stage_topic(settings, "clean", "pages.clean")
    assert "--stage extract --topic pages.clean" in str(error.value) and "pages.raw" in str(error.value)
    with pytest.raises(ValueError, match="unknown stage"):
        stage_topic(settings, "mentions")


def test_is_copy_looks_at_the_replay_header():
    class Record:
        def __init__(self, headers):
            self.headers = headers

    assert is_copy(Record([("leaderwatch-replay", b"r1")]))
    assert not is_copy(Record([("other", b"x")])) and not is_copy(Record(()))


def test_worker_caught_up_compares_deltas_of_cumulative_counters():
    before = {"clean_in": 100, "clean_out": 90, "extract_in": 90, "extract_out": 90, "mentions_in": 90, "alert_in": 90}
    halfway = {**before, "clean_in": 110, "clean_out": 99, "extract_in": 95, "extract_out": 95, "mentions_in": 95, "alert_in": 95}
    done = {**before, "clean_in": 110, "clean_out": 99, "extract_in": 99, "extract_out": 99, "mentions_in": 99, "alert_in": 99}
    assert not worker_caught_up(before, before, "clean", 10)
    assert not worker_caught_up(before, halfway, "clean", 10)
    assert worker_caught_up(before, done, "clean", 10)
    assert not worker_caught_up(before, done, "alert", 10)  # mentions_in and alert_in grew by 9 only
    assert worker_caught_up(before, done, "alert", 9)


def test_summary_text_says_when_no_worker_answers():
    summary = {"replay_id": "r", "stage": "clean", "topic": "pages.raw", "from": "a", "to": "b", "read": 3,
               "republished": 3, "skipped_copies": 1, "web_url": "http://127.0.0.1:1", "worker": None}
    text = format_summary(summary)
    assert "read in range:            3" in text and "no worker answers at http://127.0.0.1:1" in text


def test_summary_text_reports_the_worker_deltas():
    summary = {"replay_id": "r", "stage": "clean", "topic": "pages.raw", "from": "a", "to": "b", "read": 3,
               "republished": 3, "skipped_copies": 0, "web_url": "u",
               "worker": {"caught_up": True, "waited_s": 1.2, "documents_seen_again": 3, "alerts_repeated": 2}}
    text = format_summary(summary)
    assert "documents seen again:     3" in text and "alerts repeated (not re-sent): 2" in text
    assert "processed (1.2 s)" in text
