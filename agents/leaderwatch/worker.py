"""The worker process: faust.Worker plus what one process holds on its machine.

Faust's `worker` command instantiates app.conf.Worker, so whichever CLI starts a worker
(`leaderwatch worker`, `leaderwatch -L uvloop worker`, `python -m leaderwatch worker`) gets
these claims, and no other command takes them:
- a data dir <datadir>/<group>/<host>-<n> held by an flock, so two workers of one app on one host
  never share RocksDB files, and a restarted one takes its old dir back (and, on Apache Kafka,
  its static group member name with it);
- without LEADERWATCH_WEB_PORT, the first web port from 6066 up no other worker has claimed;
- every LEADERWATCH_MALLOC_TRIM_SECONDS, the memory it has freed handed back to the system.
"""
from __future__ import annotations

import fcntl
import hashlib
import socket
import sys
import tempfile
import warnings
from pathlib import Path

import faust
import orjson
from faust.exceptions import AlreadyConfiguredWarning

from leaderwatch.malloc import malloc_trimmer
from leaderwatch.settings import DEFAULT_WEB_PORT

_held_locks: list = []  # open lock files: held until the process exits


class Worker(faust.Worker):
    """faust.Worker that claims its data dir and web port first and says where it runs."""

    def __init__(self, app, *services, **kwargs):
        settings = app.settings
        app.conf.datadir = claim_datadir(Path(settings.datadir) / settings.group_id / socket.gethostname())
        if settings.group_instance_id_wanted:  # one member name per data dir: a restarted worker takes both back
            app.conf.consumer_group_instance_id = group_instance_id(settings.group_id, Path(app.conf.datadir))
        if not settings.web_port and app.conf.web_port == DEFAULT_WEB_PORT:  # no port set, nor --web-port
            # Faust warns of a change to a key already read; the only read is the check above, and
            # nothing has started that could hold the old value
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", AlreadyConfiguredWarning)
                app.conf.web_port = first_free_port(settings.web_host, DEFAULT_WEB_PORT)
        started = (f"leaderwatch worker {settings.group_id}: web server http://{settings.web_host}:{app.conf.web_port}, "
                   f"data dir {app.conf.datadir}, stages {','.join(settings.stages)}")
        if settings.log_format.lower() == "json":
            kwargs["quiet"] = True  # Faust's text output: JSON lines only (`-q` is also the default then)
            started = orjson.dumps({"level": "info", "logger": "leaderwatch", "message": started}).decode()
        print(started, file=sys.stderr, flush=True)
        super().__init__(app, *services, **kwargs)
        # Faust's start-up spinner (log level warn or above) sets the root logger to DEBUG so that
        # every record turns it: each aiokafka debug call then builds a LogRecord, ~4% of a busy
        # worker's CPU (py-spy, scripts/bench at -l warn). No spinner: levels mean what they say.
        self.spinner = None

    async def on_first_start(self) -> None:
        await super().on_first_start()
        interval = self.app.settings.malloc_trim_seconds
        trim = malloc_trimmer() if interval > 0 else None
        if trim is not None:
            self.add_future(self._trim_memory(interval, trim))

    async def _trim_memory(self, interval: float, trim) -> None:
        """Every `interval` seconds, the memory this process has freed back to the system (leaderwatch.malloc)."""
        while not self.should_stop:
            await self.sleep(interval)
            trim(0)


def group_instance_id(group_id: str, datadir: Path) -> str:
    """The static member name of the worker holding `datadir`: <group>-<host>-<n>-<digest of the
    dir's path>, the same for a worker restarted on it, never the same for two dirs (two workers
    of one group on one host with different LEADERWATCH_DATADIR both hold a <host>-0)."""
    digest = hashlib.sha1(str(datadir.resolve()).encode()).hexdigest()[:8]
    return f"{group_id}-{datadir.name}-{digest}"


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
    """<base>-<n> for the first n no running worker holds (an flock on its .lock file)."""
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
