"""scripts/tools/bench.py: bare measurements stop the workers only briefly (in_short_pauses)."""
import os
import signal
import subprocess
import sys
import time

from tools import bench


def test_every_item_is_measured_once_in_order_in_chunks_no_longer_than_the_pause(monkeypatch):
    monkeypatch.setattr(bench, "PAUSE_SECONDS", 0.1)
    monkeypatch.setattr(bench, "RESUME_SECONDS", 0.0)
    chunks = bench.in_short_pauses([], list(range(40)), lambda chunk: (time.sleep(0.02 * len(chunk)), chunk)[1])
    assert [item for chunk in chunks for item in chunk] == list(range(40))
    assert all(len(chunk) <= 5 for chunk in chunks[1:])  # 0.1 s / at least 0.02 s an item


def test_the_workers_are_stopped_during_a_chunk_and_running_between():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        def state(_chunk=None):
            with open(f"/proc/{child.pid}/stat") as stat:
                return stat.read().split(") ", 1)[1][0]  # T: stopped

        def stopped_within_a_second(_chunk):  # SIGSTOP is delivered asynchronously
            deadline = time.monotonic() + 1
            while state() != "T" and time.monotonic() < deadline:
                time.sleep(0.01)
            return state()

        assert bench.in_short_pauses([child.pid], [1], stopped_within_a_second) == ["T"]
        time.sleep(0.1)
        assert state(None) in "SR"  # running again afterwards
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
