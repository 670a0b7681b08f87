"""aiokafka clients for everything outside Faust's own consumer and producer: settings -> client.

Security (leaderwatch.kafka.security) and the broker's traits are applied here, once: a producer
on Apache Kafka is idempotent with acks=all (a retried send is written once, and acknowledged only
when min.insync.replicas hold it); on the embedded broker, which has neither, it writes one record
per batch. A reader has no consumer group and commits nothing.
"""
from __future__ import annotations

from leaderwatch.kafka.security import aiokafka_security


def producer_options(settings) -> dict:
    """aiokafka producer keyword arguments every producer of the project shares."""
    traits = settings.broker_traits
    options = {"bootstrap_servers": settings.broker_bootstrap, "max_request_size": settings.producer_max_request_size,
               "compression_type": settings.compression_type, **aiokafka_security(settings)}
    if traits.idempotence:
        options.update(acks="all", enable_idempotence=True)
    if traits.producer_max_batch_size:
        options["max_batch_size"] = traits.producer_max_batch_size
    return options


def new_producer(settings, **overrides):
    """An AIOKafkaProducer (not started); `overrides` win over the shared options (linger_ms ...)."""
    from aiokafka import AIOKafkaProducer

    return AIOKafkaProducer(**{**producer_options(settings), **overrides})


def new_reader_consumer(settings, **overrides):
    """An AIOKafkaConsumer outside any group (assign + seek), not started; no commits."""
    from aiokafka import AIOKafkaConsumer

    options = {"bootstrap_servers": settings.broker_bootstrap, "group_id": None, "enable_auto_commit": False,
               "auto_offset_reset": "earliest", "fetch_max_wait_ms": settings.fetch_wait_ms,
               **aiokafka_security(settings)}
    return AIOKafkaConsumer(**{**options, **overrides})


def new_admin(settings):
    """An AIOKafkaAdminClient, not started."""
    from aiokafka.admin import AIOKafkaAdminClient

    return AIOKafkaAdminClient(bootstrap_servers=settings.broker_bootstrap, **aiokafka_security(settings))
