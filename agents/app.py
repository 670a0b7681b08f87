"""The faust.App, built once from Settings; importing the stage modules registers their agents.

Run: `leaderwatch worker -l info` (all stages, or those named in LEADERWATCH_STAGES).
"""
from __future__ import annotations

import collections
import fcntl
import os
import socket
import ssl
import sys
import tempfile
from pathlib import Path

import faust
import orjson

from agents import codec  # noqa: F401  (registers the "orjson" codec)
from agents.logs import logging_config
from agents.settings import Settings


def create_app(settings: Settings, worker: bool = False) -> faust.App:
    """Settings -> a configured faust.App (no agents yet). A worker process (`worker`) gets a data
    dir and web port no other worker on this machine holds."""
    datadir = Path(settings.datadir) / settings.app_id / socket.gethostname()
    web_port = settings.web_port
    if worker:
        datadir = claim_datadir(datadir)
        if "LEADERWATCH_WEB_PORT" not in os.environ:
            web_port = first_free_port(settings.web_host, settings.web_port)
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
        web_port=web_port,
        web_host=settings.web_host,
        table_cleanup_interval=30.0,
        version=1,
    )


_held_locks: list = []  # open lock files: a worker holds its data dir and web port until it exits


def _lock(path: Path):
    """An open file holding an exclusive flock on `path`, or None when another process holds it."""
    handle = open(path, "w")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        return None
    return handle


def claim_datadir(base: Path) -> Path:
    """<base>-<n> for the first n no running worker holds (an flock on its .lock file): two
    workers of one app on one host never share RocksDB files; a restarted one takes its old dir back."""
    for slot in range(64):
        path = base.with_name(f"{base.name}-{slot}")
        path.mkdir(parents=True, exist_ok=True)
        handle = _lock(path / ".lock")
        if handle:
            _held_locks.append(handle)
            return path
    raise RuntimeError(f"64 workers already hold data dirs under {base.parent}")


def first_free_port(host: str, port: int, tries: int = 100) -> int:
    """`port`, or the next one up that no other worker on this machine has claimed (an flock on
    <tmp>/leaderwatch-web-<port>.lock, held while this process runs: a worker that has not bound
    its port yet still holds it) and nothing else listens on: two workers get 6066 and 6067."""
    for candidate in range(port, port + tries):
        handle = _lock(Path(tempfile.gettempdir()) / f"leaderwatch-web-{candidate}.lock")
        if handle is None:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind((host if host not in ("", "0.0.0.0") else "0.0.0.0", candidate))
            except OSError:
                handle.close()
                continue
        _held_locks.append(handle)
        return candidate
    raise RuntimeError(f"no free web port in {port}..{port + tries - 1} on {host}")


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
app = create_app(settings, worker="worker" in sys.argv[1:3])
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
        started = (f"leaderwatch worker {settings.app_id}: web server http://{settings.web_host}:{app.conf.web_port}, "
                   f"data dir {app.conf.datadir}, stages {','.join(settings.stages)}")
        if settings.log_format.lower() == "json":
            sys.argv.insert(1, "--quiet")  # Faust's start-up banner is text: JSON lines only
            started = orjson.dumps({"level": "info", "logger": "leaderwatch", "message": started}).decode()
        print(started, file=sys.stderr, flush=True)
        if not any(a in ("-l", "--loglevel") or a.startswith("--loglevel=") for a in sys.argv):
            sys.argv[1:] = [*sys.argv[1:], "--loglevel", settings.log_level]  # LEADERWATCH_LOG_LEVEL
    app.main()


# registration order follows the flow
from agents import clean, extract, mentions, alert, cli, web  # noqa: E402,F401
