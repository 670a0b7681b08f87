"""stages/runner.InKeyOrder: pooled events finish as their work ends, but one key's in arrival order."""
import asyncio

from leaderwatch.stages.runner import InKeyOrder


async def finish_all(events: list[tuple[bytes | None, str]], work_ends: list[str]) -> list[str]:
    """Start `events` (key, name) in order, as run_pooled_stage does, end their work in the order
    `work_ends` names them -> the order in which they finished."""
    order, finished = InKeyOrder(), []
    work = {name: asyncio.get_running_loop().create_future() for _, name in events}

    async def finish(name, key, before, mine):
        try:
            await work[name]
            if before is not None:
                await before
            finished.append(name)
        finally:
            order.leave(key, mine)

    tasks = [asyncio.ensure_future(finish(name, key, *order.enter(key))) for key, name in events]
    for name in work_ends:
        await asyncio.sleep(0)
        work[name].set_result(None)
    await asyncio.gather(*tasks)
    assert len(order) == 0  # nothing left waiting
    return finished


async def test_other_keys_pass_a_slow_event_and_one_keys_events_keep_their_order():
    events = [(b"a", "a1"), (b"b", "b1"), (b"a", "a2"), (b"c", "c1"), (b"a", "a3")]
    # a2 and a3 are done before a1: they wait for it; b1 and c1 do not
    assert await finish_all(events, ["a3", "b1", "a2", "c1", "a1"]) == ["b1", "c1", "a1", "a2", "a3"]
    assert await finish_all(events, ["a1", "a2", "a3", "b1", "c1"]) == ["a1", "a2", "a3", "b1", "c1"]


async def test_events_without_a_key_keep_their_order_among_themselves():
    events = [(None, "n1"), (b"k", "k1"), (None, "n2")]
    assert await finish_all(events, ["n2", "k1", "n1"]) == ["k1", "n1", "n2"]


async def test_an_event_that_failed_still_lets_the_next_of_its_key_finish():
    order = InKeyOrder()
    before_first, first = order.enter(b"a")
    before_second, second = order.enter(b"a")
    assert before_first is None and before_second is first
    order.leave(b"a", first)  # e.g. from a finally after an exception or a cancellation
    await asyncio.wait_for(before_second, 1)
    order.leave(b"a", second)
    assert len(order) == 0
