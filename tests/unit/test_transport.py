"""leaderwatch.transport: the producer flush that every offset commit waits for."""
import asyncio
import types

from leaderwatch.app import create_app
from leaderwatch.settings import Settings


async def test_flush_waits_for_the_message_being_handed_to_the_client():
    """A table write taken out of Faust's buffer but not yet in aiokafka's accumulator (a slow
    broker, batches of one) was not waited for: Faust's flush saw an empty buffer and the consumer
    committed the offset of the event that wrote it."""
    producer = create_app(Settings(app_id="flush-test")).producer
    buffer = producer.buffer
    handed_over = []

    class SlowChannel:
        async def publish_message(self, fut, wait=False):
            await asyncio.sleep(0.3)  # aiokafka waiting for room in its accumulator
            handed_over.append(fut)

    await buffer.start()
    try:
        write = types.SimpleNamespace(message=types.SimpleNamespace(channel=SlowChannel()))
        buffer.put(write)
        await asyncio.sleep(0.05)
        assert buffer.size == 0 and buffer.in_transit == 1  # out of the queue, not yet handed over
        await producer.flush()  # the client itself is not started: nothing more to wait for there
        assert handed_over == [write]
    finally:
        await buffer.stop()


async def test_the_consumer_subscribes_once_the_metadata_lists_every_topic():
    """Apache Kafka lists a just-created changelog topic a moment later: subscribing before that left
    the topic out of the assignment and its table unwritable for 5 minutes (docker-compose.yml)."""
    from aiokafka.errors import KafkaConnectionError

    from leaderwatch.transport import wait_for_topics

    class Client:
        calls = 0

        async def fetch_all_metadata(self):
            self.calls += 1
            if self.calls == 1:
                raise KafkaConnectionError()
            known = {"pages.entities", "a-changelog"} | ({"b-changelog"} if self.calls >= 3 else set())
            return types.SimpleNamespace(partitions_for_topic=lambda topic: {0, 1} if topic in known else None)

    client = Client()
    assert await wait_for_topics(client, {"pages.entities", "a-changelog", "b-changelog"}, interval=0.01) == set()
    assert client.calls == 3
    late = Client()
    assert await wait_for_topics(late, {"never-created"}, timeout=0.05, interval=0.01) == {"never-created"}
