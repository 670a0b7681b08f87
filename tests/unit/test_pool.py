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


def parent_of(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as stat:
        return int(stat.read().rsplit(")", 1)[1].split()[1])


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
        source, forked = pool.children
        assert source.control is not None and forked.control is None and parent_of(forked.pid) == source.pid
    finally:
        await pool.stop()


async def test_a_child_that_dies_fails_only_its_pages_and_is_replaced():
    pool = ProcessPool(CLEAN, (CleanOptions(), None), processes=1)
    await pool.start()
    try:
        first = pool.children[0].pid
        assert isinstance(await (await pool.submit(page("Before."))), PageCleaned)
        os.kill(first, signal.SIGKILL)
        await pool.children[0].process.wait()
        await asyncio.sleep(0.1)  # the reader sees the end of the pipe
        after = await pool.submit(page("After the crash."))
        result = await after
        assert isinstance(result, PageCleaned) and result.text == "After the crash."
        assert pool.children[0].pid != first and pool.children[0].control is not None  # a new source
    finally:
        await pool.stop()


async def test_a_page_held_by_a_dying_child_fails_with_child_exited():
    pool = ProcessPool("os:kill", (signal.SIGKILL,), processes=1)  # work(pid) = os.kill(pid, SIGKILL): it kills itself
    await pool.start()
    try:
        doomed = await pool.submit(pool.children[0].pid)
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
        stdin = pool.children[0].stdin
        assert fcntl.fcntl(stdin.get_extra_info("pipe").fileno(), fcntl.F_GETPIPE_SZ) == PIPE_BYTES
        busy = await pool.submit(1.0)
        queued = await pool.submit(b"x" * 300_000)  # time.sleep(bytes): an "error" answer, once read
        assert not busy.done() and stdin.transport.get_write_buffer_size() == 0
        with pytest.raises(RuntimeError, match="TypeError"):
            await asyncio.wait_for(queued, 30)
    finally:
        await pool.stop()


async def test_children_are_forked_from_the_first_and_replaced_from_it_or_a_new_first():
    """The first child is a new interpreter, the others forks of it (sharing what it loaded); a
    dead fork is forked again, a dead first is replaced by a new interpreter that forks later ones."""
    pool = ProcessPool(CLEAN, (CleanOptions(), None), processes=3)
    await pool.start()
    try:
        source = pool.children[0]
        assert [parent_of(child.pid) for child in pool.children[1:]] == [source.pid, source.pid]
        os.kill(pool.children[1].pid, signal.SIGKILL)
        await asyncio.wait_for(pool.children[1].reader, 10)
        results = await asyncio.gather(*[await pool.submit(page(f"Page {n}.")) for n in range(6)])
        assert [r.text for r in results] == [f"Page {n}." for n in range(6)]
        assert parent_of(pool.children[1].pid) == source.pid and pool.children[1].control is None
        # the first dies: its forks go on; the next child started is a new interpreter
        os.kill(source.pid, signal.SIGKILL)
        await source.process.wait()
        await asyncio.wait_for(source.reader, 10)
        survivor = pool.children[2].pid
        results = await asyncio.gather(*[await pool.submit(page(f"After {n}.")) for n in range(6)])
        assert [r.text for r in results] == [f"After {n}." for n in range(6)]
        assert pool.children[2].pid == survivor and pool.children[0].control is not None
        assert parent_of(pool.children[0].pid) == os.getpid()
    finally:
        await pool.stop()

