"""scripts/tools/bench.py: "every core" and "core 0" mean the machine's, whatever mask the bench
process has narrowed itself to (it runs beside one-core workers on the cores left)."""
import os

import pytest

from tools import bench

MACHINE = sorted(os.sched_getaffinity(0))


@pytest.fixture
def narrowed_to_the_last_core():
    bench.cores.cache_clear()
    bench.cores()  # read at the start of a run, as bench() does
    os.sched_setaffinity(0, {MACHINE[-1]})
    try:
        yield
    finally:
        os.sched_setaffinity(0, set(MACHINE))
        bench.cores.cache_clear()


@pytest.mark.skipif(len(MACHINE) < 2, reason="needs two cores")
def test_the_cores_stay_the_machines_after_the_bench_narrows_its_own_mask(narrowed_to_the_last_core):
    assert list(bench.cores()) == MACHINE
    assert os.sched_getaffinity(0) == {MACHINE[-1]}


@pytest.mark.skipif(len(MACHINE) < 2, reason="needs two cores")
def test_a_bare_round_runs_on_core_0_and_the_all_cores_round_on_every_core(narrowed_to_the_last_core, monkeypatch):
    with bench.on_first_core():
        assert os.sched_getaffinity(0) == {MACHINE[0]}
    assert os.sched_getaffinity(0) == {MACHINE[-1]}  # given back

    def report_core(core, htmls, results):  # runs in each forked loop: where it is pinned, as 10**core
        os.sched_setaffinity(0, {core})
        results.put(10 ** os.sched_getaffinity(0).pop())

    monkeypatch.setattr(bench, "_bare_on", report_core)
    assert bench.bare_all_cores(["<p>x</p>"]) == sum(10 ** core for core in MACHINE)  # one loop on each core
