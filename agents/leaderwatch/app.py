"""create_app(settings) -> faust.App, configured and with no stage: the entry point registers them.

The process-level parts of a worker (its data dir and web port on this machine) are claimed by
leaderwatch.worker.Worker when the `worker` command actually starts one, not here.
"""
from __future__ import annotations

from pathlib import Path

import faust

from leaderwatch.codec import register_codec
from leaderwatch.logs import logging_config
from leaderwatch.kafka.security import faust_credentials
from leaderwatch.settings import DEFAULT_WEB_PORT, Settings


class App(faust.App):
    """faust.App whose consumer takes its fetch wait from the settings (leaderwatch.transport) and
    whose stream queues let a rebalance go on past the events they clear (leaderwatch.flow)."""

    def _new_transport(self):
        from leaderwatch.transport import Transport

        return Transport(self.conf.broker_consumer, self, loop=self.loop)

    def FlowControlQueue(self, maxsize=None, *, clear_on_resume: bool = False):
        """Faust's stream queue, whose cleared events do not hold a rebalance up (leaderwatch/flow.py)."""
        from leaderwatch.flow import StreamQueue

        return StreamQueue(maxsize=maxsize, flow_control=self.flow_control, clear_on_resume=clear_on_resume)


def create_app(settings: Settings) -> App:
    """Settings -> a configured App (no agents, tables or pages yet); `app.settings` keeps them."""
    register_codec()
    app = App(
        settings.group_id,
        broker=settings.broker,
        broker_credentials=faust_credentials(settings),
        broker_session_timeout=settings.broker_session_timeout,
        broker_heartbeat_interval=settings.broker_heartbeat_interval,
        broker_request_timeout=settings.broker_request_timeout,
        producer_max_request_size=settings.producer_max_request_size,
        producer_max_batch_size=settings.producer_batch_bytes,
        producer_compression_type=settings.compression_type,
        stream_buffer_maxsize=settings.stream_buffer_maxsize,
        # at_least_once: exactly-once results come from idempotent processing keyed by doc_id;
        # exactly_once: Kafka transactions as well (docs/guarantees.md)
        processing_guarantee=settings.processing_guarantee,
        store=settings.faust_store,
        # <datadir>/<group>/<host>; a worker process takes <...>-<n> (leaderwatch.worker)
        datadir=str(Path(settings.datadir) / settings.group_id / "unclaimed"),
        logging_config=logging_config(settings.log_format, settings.log_level),
        topic_partitions=settings.partitions,
        topic_replication_factor=settings.replicas,
        key_serializer="raw",
        value_serializer="orjson",
        web_bind=settings.web_host,
        web_port=settings.web_port or DEFAULT_WEB_PORT,
        web_host=settings.web_host,
        table_cleanup_interval=30.0,
        Worker="leaderwatch.worker:Worker",
        autodiscover=False,
        version=1,
    )
    app.settings = settings
    return app
