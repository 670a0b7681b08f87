"""leaderwatch/flow.py: events a rebalance clears from stream queues no longer hold it up, and
their offsets are never committed."""
from __future__ import annotations

import asyncio

from faust.transport.consumer import ConsumerMessage
from mode.utils.queues import FlowControlEvent

from leaderwatch.flow import StreamQueue, settle


class Event:
    """What Faust's conductor puts into a stream queue: an object with the consumed message."""

    def __init__(self, message):
        self.message = message


def message(offset: int, readers: int = 2) -> ConsumerMessage:
    m = ConsumerMessage("pages.entities", 0, offset, 0, None, None, b"k", b"v", None)
    m.incref(readers)  # one reference per agent reading the topic, as the conductor takes them
    return m


def test_a_copy_cleared_after_the_other_agent_finished_is_done_without_an_ack():
    queue = StreamQueue(maxsize=4, flow_control=FlowControlEvent(), clear_on_resume=True)
    finished_by_one = message(351)
    finished_by_one.decref()  # the mentions agent is done with it; its alert copy waits in the queue
    queue.put_nowait(Event(finished_by_one))
    queue.clear()
    assert finished_by_one.acked and finished_by_one.refcount == 1  # done, but its final ack never ran


def test_a_copy_cleared_while_the_other_agent_works_on_it_waits_for_that_agent():
    queue = StreamQueue(maxsize=4, flow_control=FlowControlEvent(), clear_on_resume=True)
    in_progress = message(352)
    queue.put_nowait(Event(in_progress))
    queue.clear()
    assert not in_progress.acked  # the rebalance still waits: an agent is on it
    in_progress.decref()  # that agent finishes (its ack takes its reference off, no final ack)
    assert settle(in_progress) and in_progress.acked


def test_a_message_no_copy_of_which_was_cleared_is_left_to_faust():
    untouched = message(353)
    untouched.decref()
    assert not settle(untouched) and not untouched.acked


def test_a_put_that_a_clear_cancels_counts_as_a_cleared_copy():
    async def run():
        flow = FlowControlEvent()
        flow.resume()  # a flow control starts suspended; a worker's runs
        queue = StreamQueue(maxsize=1, flow_control=flow, clear_on_resume=True)
        queue.put_nowait(Event(message(1, readers=1)))
        waiting = message(2)
        waiting.decref()  # the other agent has it already; this copy waits for room in a full queue
        put = asyncio.ensure_future(queue.put(Event(waiting)))
        await asyncio.sleep(0)
        queue.clear()
        await asyncio.wait([put])
        return waiting

    assert asyncio.run(run()).acked
