"""The middle tier: each stage's agent driven through Faust's test_context() with the memory
store, no broker. What a stage sends is captured per topic (decoded JSON)."""
from __future__ import annotations

import asyncio
import collections
import uuid

import orjson
import pytest

from leaderwatch.__main__ import build_worker_app
from leaderwatch.settings import Settings


class Sent(collections.defaultdict):
    """topic name -> [(key, value as JSON)], in send order."""

    def __init__(self):
        super().__init__(list)

    def values_of(self, topic: str) -> list:
        return [value for _, value in self[topic]]


def capture_sends(topics) -> Sent:
    sent = Sent()
    for topic in topics.all():
        name = topic.get_topic_name()

        async def send(*, key=None, value=None, _name=name, **_):
            sent[_name].append((key.decode() if isinstance(key, bytes) else key, orjson.loads(value)))
            done = asyncio.get_running_loop().create_future()
            done.set_result(None)
            return done

        object.__setattr__(topic, "send", send)
    return sent


@pytest.fixture
def stage_app(tmp_path):
    """stage_app(**settings) -> (app, ctx, sent): a worker's app with the memory store and every
    topic's send captured; drive agents with app.agents[name].test_context()."""

    def make(**overrides):
        settings = Settings(app_id=f"lw-func-{uuid.uuid4().hex[:8]}", store="memory://", datadir=str(tmp_path),
                            **overrides)
        app, ctx = build_worker_app(settings)
        app.finalize()
        app.flow_control.resume()
        return app, ctx, capture_sends(ctx.topics)

    return make
