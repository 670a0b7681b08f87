"""The faust.App, built once from Settings; importing the stage modules registers their agents.

Run: `leaderwatch worker -l info` (all stages, or those named in LEADERWATCH_STAGES).
"""
from __future__ import annotations

import collections
import socket
import ssl
import sys
from pathlib import Path

import faust

from agents import codec  # noqa: F401  (registers the "orjson" codec)
from agents.logs import logging_config
from agents.settings import Settings


def create_app(settings: Settings) -> faust.App:
    """Settings -> a configured faust.App (no agents yet)."""
    datadir = Path(settings.datadir) / socket.gethostname()  # replicas never share RocksDB files
    return faust.App(
        settings.app_id,
        broker=settings.broker,
        broker_credentials=broker_credentials(settings),
        broker_session_timeout=settings.broker_session_timeout,
        broker_heartbeat_interval=settings.broker_heartbeat_interval,
        broker_request_timeout=settings.broker_request_timeout,
        producer_max_request_size=settings.producer_max_request_size,
        producer_max_batch_size=settings.producer_max_batch_size,
        # the embedded broker has no idempotent producer / transactions: exactly-once comes
        # from idempotent processing keyed by doc_id, not from the broker
        processing_guarantee="at_least_once",
        store=settings.store,
        datadir=str(datadir),
        logging_config=logging_config(settings.log_format, settings.log_level),
        topic_partitions=settings.partitions,
        topic_replication_factor=settings.replicas,
        key_serializer="raw",
        value_serializer="orjson",
        web_bind=settings.web_host,
        web_port=settings.web_port,
        web_host=settings.web_host,
        table_cleanup_interval=30.0,
        version=1,
    )


def broker_credentials(settings: Settings):
    """SASL/SSL credentials for real clusters, or None for PLAINTEXT."""
    protocol = settings.broker_security_protocol.upper()
    context = None
    if protocol in ("SSL", "SASL_SSL"):
        context = ssl.create_default_context(cafile=settings.broker_ca_file or None)
    if protocol.startswith("SASL"):
        return faust.SASLCredentials(
            username=settings.broker_sasl_username,
            password=settings.broker_sasl_password,
            mechanism=settings.broker_sasl_mechanism,
            ssl_context=context,
        )
    if protocol == "SSL":
        return faust.SSLCredentials(context)
    return None


settings = Settings.from_env()
app = create_app(settings)
processed: collections.Counter = collections.Counter()  # per-worker counters: progress + metrics


def stage_agent(stage: str, channel, **options):
    """@app.agent(channel) when `stage` is one this worker runs, else leave the function alone."""
    if stage in settings.stages:
        return app.agent(channel, **options)
    return lambda fun: fun


async def send_acknowledged(topic, messages) -> None:
    """Send [(key, value)] to `topic` and wait until the broker has acknowledged them all."""
    pending = [await topic.send(key=key, value=value) for key, value in messages]
    for future in pending:
        await future


def stage_table(stage: str, name: str, **options):
    """app.Table(name) when `stage` is one this worker runs; else an empty dict (views stay valid).

    Values are plain JSON (the app's orjson codec): no value_type, which Faust cannot restore from the changelog
    for builtins (`dict.from_data`), so a restarted worker would lose its tables."""
    if stage in settings.stages:
        return app.Table(name, default=None, key_type=str, partitions=settings.partitions, **options)
    return {}


def main() -> None:
    """Console entry point `leaderwatch`: Faust's CLI plus the commands in agents.cli."""
    if "worker" in sys.argv[1:3]:
        Path(app.conf.datadir).mkdir(parents=True, exist_ok=True)  # Faust creates only the last level
        if not any(a in ("-l", "--loglevel") or a.startswith("--loglevel=") for a in sys.argv):
            sys.argv[1:] = [*sys.argv[1:], "--loglevel", settings.log_level]  # LEADERWATCH_LOG_LEVEL
    app.main()


# registration order follows the flow
from agents import clean, extract, mentions, alert, cli, web  # noqa: E402,F401
