"""The two brokers leaderwatch runs on, and every difference between them the code acts on.

Apache Kafka is what users run; the embedded broker (tansu, memory storage, `leaderwatch broker`)
serves ./scripts/run and the default test pass. LEADERWATCH_BROKER_KIND names which one a process
talks to ("kafka", the default, or "embedded"); nothing else in the package asks. What the embedded
broker lacks, as measured (docs/brokers.md):

  end_offsets        ListOffsets LATEST answers the last batch's base offset + 1 when a batch
                     holds several records: Faust's table recovery stops there, so every producer
                     writes one record per batch, and readers take the fetch high-watermark
  offsets_for_times  answers 0 for every timestamp: replay finds offsets by binary search
  idempotence        no idempotent producer and no transactions (UnknownError)
  fetch wait         a fetch naming several topics is held for the whole fetch_max_wait_ms even
                     when records arrive (Apache Kafka answers at once): 20 ms there bounds each
                     hop's latency, where Kafka's consumers wait 500 ms on an idle topic
"""
from __future__ import annotations

from dataclasses import dataclass

BROKER_KINDS = ("kafka", "embedded")


@dataclass(frozen=True)
class BrokerTraits:
    """What one kind of broker does right; each field names the path the code takes on it."""

    kind: str
    end_offsets_exact: bool  # ListOffsets LATEST is the log end (else: read to the fetch high-watermark)
    offsets_for_times: bool  # ListOffsets by timestamp answers right (else: binary search by reading)
    idempotence: bool  # idempotent producers, acks=all, and transactions
    records_per_batch_max: int | None  # None: producers batch freely
    fetch_max_wait_ms: int  # consumers' longest wait of an empty fetch, unless the settings say
    static_membership: bool  # group.instance.id honoured (not tried on the embedded broker: left off)

    @property
    def producer_max_batch_size(self) -> int | None:
        """Bytes per producer batch forced by the broker (1: one record per batch), else None."""
        return 1 if self.records_per_batch_max == 1 else None


APACHE_KAFKA = BrokerTraits("kafka", end_offsets_exact=True, offsets_for_times=True, idempotence=True,
                            records_per_batch_max=None, fetch_max_wait_ms=500, static_membership=True)
EMBEDDED = BrokerTraits("embedded", end_offsets_exact=False, offsets_for_times=False, idempotence=False,
                        records_per_batch_max=1, fetch_max_wait_ms=20, static_membership=False)


def broker_traits(kind: str) -> BrokerTraits:
    """LEADERWATCH_BROKER_KIND -> its traits."""
    if kind == "embedded":
        return EMBEDDED
    if kind == "kafka":
        return APACHE_KAFKA
    raise ValueError(f"LEADERWATCH_BROKER_KIND: {kind!r} is not one of {', '.join(BROKER_KINDS)}")
