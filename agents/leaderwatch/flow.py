"""Stream queues whose cleared events no longer hold a rebalance up (App.FlowControlQueue).

On a rebalance Faust clears every stream's queue (flow_control.clear()) and then waits until each
message a stream has started is acked (Consumer.wait_empty). A message two agents read
(pages.entities: the mentions and the alert stage) holds one reference per agent; when one agent
has finished it and the other's copy is cleared from its queue, nothing takes the second
reference off, and the first agent's stream still holds the message while it waits for its next
event: wait_empty waited for good and the worker never rejoined its group. Measured:
./scripts/faults --kafka 3 --seed 7 (load ~20), the second worker joining: "wait_empty: Waiting
for tasks [(1, pages.entities[2] offset=351)]" every 10 s for 3 minutes, every agent idle.

Here each cleared event is counted against its message (`drop`), and a message all of whose
unfinished references are cleared copies is marked done without an ack
(transport.Consumer._clean_unacked_messages, which wait_empty runs every second): wait_empty
still waits for an agent working on it, stops waiting once none is, and its offset is not
committed, so it is read again after the rebalance like every cleared event. (Not a decref:
the other agent's final ack would then commit the offset of an event this agent never had.)
"""
from __future__ import annotations

import asyncio
import contextlib
import weakref

from faust.types import tuples as faust_tuples
from mode.utils.queues import ThrowableQueue

_ack_lock = getattr(faust_tuples, "ack_lock", None) or contextlib.nullcontext()
# consumed messages -> how many of their references were cleared from a stream's queue
_cleared: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def drop(item) -> None:
    """`item` (a stream's event) is cleared unprocessed: count it against its message."""
    message = getattr(item, "message", None)
    if message is None or not hasattr(message, "refcount") or not hasattr(message, "on_final_ack"):
        return  # not a consumed message's event (a changelog record, a value sent to a channel)
    with _ack_lock:
        _cleared[message] = _cleared.get(message, 0) + 1
    settle(message)


def settle(message) -> bool:
    """Mark `message` done, unacked, when every reference still on it is a cleared copy; True if so."""
    with _ack_lock:
        cleared = _cleared.get(message, 0)
        if cleared and not message.acked and message.refcount <= cleared:
            message.acked = True  # its offset is never committed: read again after the rebalance
            return True
    return False


class StreamQueue(ThrowableQueue):
    """Faust's ThrowableQueue, giving back the reference of each event it clears or never puts."""

    def clear(self) -> None:
        for item in list(self._queue):  # type: ignore[attr-defined]
            drop(item)
        super().clear()  # also cancels the puts waiting for room: put() drops their events

    async def put(self, value) -> None:
        try:
            await super().put(value)
        except asyncio.CancelledError:
            drop(value)
            raise
