"""stages/pool.py: the clean core in child processes, answers in order, a dead child replaced."""
from __future__ import annotations

import asyncio
import os
import signal

import orjson
import pytest

from leaderwatch.pipeline.envelope import CleanOptions
from leaderwatch.records import PageCleaned, Rejected
from leaderwatch.stages.pool import PIPE_BYTES, ChildExited, ProcessPool

CLEAN = "leaderwatch.pipeline.clean:clean_message"  # imported by the children only


def page(text: str) -> bytes:
    return orjson.dumps({"url": f"https://x.example/{len(text)}", "fetched_at": "2025-11-14T08:00:00Z",
                         "content_type": "text/plain", "body": text})


async def test_pages_come_back_cleaned_and_rejects_as_rejected():
    # trimming after every value (as the worker's children do every LEADERWATCH_MALLOC_TRIM_SECONDS) changes no answer
    pool = ProcessPool(CLEAN, (CleanOptions(), None), processes=2, trim_seconds=1e-9)
    await pool.start()
    try:
        futures = [await pool.submit(page("Kim Jong Un spoke." + " more" * i)) for i in range(6)]
        futures.append(await pool.submit(b"{broken"))
        results = await asyncio.gather(*futures, return_exceptions=True)
        assert all(isinstance(r, PageCleaned) for r in results[:6])
        assert [r.text.count("more") for r in results[:6]] == list(range(6))  # each answer to its own page
        assert isinstance(results[6], Rejected) and results[6].reason == "malformed_envelope"
        assert {child.process.pid for child in pool.children} and len(pool.children) == 2
    finally:
        await pool.stop()


async def test_a_child_that_dies_fails_only_its_pages_and_is_replaced():
    pool = ProcessPool(CLEAN, (CleanOptions(), None), processes=1)
    await pool.start()
    try:
        first = pool.children[0].process.pid
        assert isinstance(await (await pool.submit(page("Before."))), PageCleaned)
        os.kill(first, signal.SIGKILL)
        await pool.children[0].process.wait()
        await asyncio.sleep(0.1)  # the reader sees the end of the pipe
        after = await pool.submit(page("After the crash."))
        result = await after
        assert isinstance(result, PageCleaned) and result.text == "After the crash."
        assert pool.children[0].process.pid != first
    finally:
        await pool.stop()


async def test_a_page_held_by_a_dying_child_fails_with_child_exited():
    pool = ProcessPool("os:kill", (signal.SIGKILL,), processes=1)  # work(pid) = os.kill(pid, SIGKILL): it kills itself
    await pool.start()
    try:
        doomed = await pool.submit(pool.children[0].process.pid)
        with pytest.raises(ChildExited):
            await asyncio.wait_for(doomed, 30)
    finally:
        await pool.stop()


async def test_children_freeze_what_they_hold_once_their_work_is_loaded_only_when_asked():
    """freeze=True: a child's start-up objects (trafilatura, lxml: tens of thousands) are out of its
    later full garbage collections, as in the worker (LEADERWATCH_GC_FREEZE)."""
    import gc

    counts = {}
    for freeze in (True, False):
        pool = ProcessPool("operator:call", (), processes=1, freeze=freeze)  # work(value) = value(): runs in the child
        await pool.start()
        try:
            counts[freeze] = await (await pool.submit(gc.get_freeze_count))
        finally:
            await pool.stop()
    assert counts[False] == 0 and counts[True] > 5_000


async def test_a_page_queued_behind_a_busy_child_is_in_its_pipe_whole():
    """The pipe to a child holds PIPE_BYTES (where the system allows): a 300 KB page sent while the
    child is busy is written at once, so the child starts on it without waiting for the event loop
    to write the rest (with Linux's default 64 KiB pipe, submit() waited until the child had read)."""
    import fcntl

    with open("/proc/sys/fs/pipe-max-size") as limit:
        if int(limit.read()) < PIPE_BYTES:
            pytest.skip("this system's pipes are smaller")
    pool = ProcessPool("time:sleep", (), processes=1)  # work(value) = time.sleep(value)
    await pool.start()
    try:
        stdin = pool.children[0].process.stdin
        assert fcntl.fcntl(stdin.get_extra_info("pipe").fileno(), fcntl.F_GETPIPE_SZ) == PIPE_BYTES
        busy = await pool.submit(1.0)
        queued = await pool.submit(b"x" * 300_000)  # time.sleep(bytes): an "error" answer, once read
        assert not busy.done() and stdin.transport.get_write_buffer_size() == 0
        with pytest.raises(RuntimeError, match="TypeError"):
            await asyncio.wait_for(queued, 30)
    finally:
        await pool.stop()
