"""The container test runs alone: it builds an image and runs six containers, and the crash and
scale tests beside it (pytest-xdist) would miss their deadlines on 2 cores. Every integration test
holds a shared lock for the session while it runs; the container test takes it exclusively. A gate
lock in front keeps new tests from starving it: they pass the gate (shared, at once released) before
they take the shared lock; the container test holds the gate while it waits and runs."""
from __future__ import annotations

import contextlib
import fcntl

import pytest


@contextlib.contextmanager
def _flock(path, mode):
    with open(path, "a+") as handle:
        fcntl.flock(handle, mode)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@pytest.fixture(autouse=True)
def _container_test_runs_alone(request, tmp_path_factory):
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if base.name.startswith("popen-gw") else base  # one folder for all xdist workers
    gate, lock = shared / "integration.gate", shared / "integration.lock"
    if request.node.get_closest_marker("runs_alone"):
        with _flock(gate, fcntl.LOCK_EX), _flock(lock, fcntl.LOCK_EX):
            yield
        return
    with _flock(gate, fcntl.LOCK_SH):
        pass
    with _flock(lock, fcntl.LOCK_SH):
        yield
