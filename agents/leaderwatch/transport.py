"""Faust's aiokafka transport: the consumer's fetch wait taken from the settings, and a producer
whose flush waits for everything it was given.

Faust creates its worker consumer with fetch_max_wait_ms=1500, fixed. Apache Kafka answers a
waiting fetch as soon as a record arrives, so the value only bounds idle polls there; the embedded
broker (tansu) holds a fetch that names several topics, as a worker's does, for the whole wait
even when a record arrives meanwhile (a one-topic fetch it ends: ./scripts/bench-broker), and every
hop of the pipeline then waits ~390 ms (p50, measured: 1500 ms -> 388, 500 -> 135, 100 -> 21,
20 -> 6). LEADERWATCH_CONSUMER_FETCH_MAX_WAIT_MS sets it; by default the broker kind's, 20 ms on
the embedded broker and 500 on Apache Kafka, where a shorter wait would only make an idle worker
poll more often (leaderwatch.kafka.brokers).

Faust's producer flush (ProducerBuffer.flush_atmost) returns as soon as its buffer has not moved
for 0.1 s, messages still in it, and never counts the message its task is handing to aiokafka;
the consumer commits the source offsets right after that flush. A table's changelog writes wait
in that buffer: with a slow broker (or batches of one message, as the embedded broker needs) an
event's offset was committed while its table writes were still only in memory, and a SIGKILL
then lost them for good (tests/integration/test_crash.py).

On Apache Kafka the producer is idempotent with acks=all (leaderwatch.kafka.brokers).

Faust creates a stage's table changelog topics just before its consumer subscribes. Apache Kafka
(KRaft) lists a topic in its metadata a moment after creating it: on the first start of
docker-compose.yml the mentions worker joined its group ~0.25 s after creating its last two
changelogs, the assignment left them out ("Ignoring missing topic"), and every update of those
tables failed ("changelog topic ... has 0 partitions", dead-lettered) until the consumer's next
metadata refresh, 5 minutes later. The consumer now subscribes once the metadata lists every topic.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging

from faust.transport import producer as faust_producer
from faust.transport.drivers import aiokafka as faust_aiokafka

from leaderwatch.flow import settle
from leaderwatch.kafka.reader import wait_for_topics


log = logging.getLogger(__name__)


class ConsumerThread(faust_aiokafka.AIOKafkaConsumerThread):
    def _create_worker_consumer(self, transport):
        consumer = super()._create_worker_consumer(transport)
        # read by AIOKafkaConsumer.start() when it builds its Fetcher (aiokafka 0.14)
        consumer._fetch_max_wait_ms = self.app.settings.fetch_wait_ms
        return consumer

    async def subscribe(self, topics) -> None:
        """Faust's subscribe, once the broker's metadata lists every topic (see the module's docstring)."""
        topics = set(topics)
        await self.call_thread(self._wait_for_topics, topics)
        await super().subscribe(topics)

    async def _wait_for_topics(self, topics: set[str]) -> None:
        missing = await wait_for_topics(self._ensure_consumer()._client, topics)
        if missing:
            log.warning("subscribing although the broker's metadata still lacks %s", ", ".join(sorted(missing)))


class Consumer(faust_aiokafka.Consumer):
    def _new_consumer_thread(self) -> ConsumerThread:
        return ConsumerThread(self, loop=self.loop, beacon=self.beacon)

    def _clean_unacked_messages(self) -> None:
        """wait_empty's sweep (every second of a rebalance): messages whose only references left
        are copies cleared from a stream queue are done, unacked (leaderwatch/flow.py)."""
        for message in list(self._unacked_messages):
            settle(message)
        super()._clean_unacked_messages()


class ProducerBuffer(faust_producer.ProducerBuffer):
    """Faust's buffer of send_soon() messages (table changelog writes), counting the one its task
    is handing to aiokafka (out of the queue, not yet in aiokafka's accumulator)."""

    in_transit = 0

    async def _send_pending(self, fut) -> None:
        self.in_transit += 1
        try:
            await super()._send_pending(fut)
        finally:
            self.in_transit -= 1


class Producer(faust_aiokafka.Producer):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        buffer = ProducerBuffer(loop=self.loop, beacon=self.beacon)
        buffer.app = self.app
        self.buffer = buffer  # not started yet: on_start adds it as a runtime dependency

    def _settings_extra(self):
        """On Apache Kafka an idempotent producer with acks=all (a retried send is written once);
        the embedded broker has no idempotence (leaderwatch.kafka.brokers)."""
        if self.app.settings.broker_traits.idempotence:
            return {"acks": "all", "enable_idempotence": True}
        return super()._settings_extra()

    async def flush(self) -> None:
        """Every message given to send_soon() so far into aiokafka (however long the broker
        takes), then aiokafka's accumulator flushed: acknowledged, or failed."""
        buffer = self.buffer
        while buffer.state == "running" and (buffer.size or buffer.in_transit):
            buffer.message_sent.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(buffer.message_sent.wait(), timeout=0.1)
        await super().flush()


class Transport(faust_aiokafka.Transport):
    Consumer = Consumer
    Producer = Producer
