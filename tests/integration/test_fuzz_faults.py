"""scripts/fuzz and scripts/faults in their short modes, figures asserted (the long modes' figures
are in the README). Each runs as its own process with its own embedded broker, or its own
Apache Kafka (three nodes, when java and mvn are here)."""
from __future__ import annotations

import os
import subprocess
import sys

import orjson
import pytest

from tests.conftest import AEB_DIR, PROJECT_DIR

pytestmark = [pytest.mark.integration, pytest.mark.own_broker]


def run_tool(name: str, *args: str, timeout: float) -> dict:
    env = {**os.environ, "PYTHONPATH": str(PROJECT_DIR / "scripts")}
    done = subprocess.run([sys.executable, "-m", f"tools.{name}", *args], cwd=PROJECT_DIR, env=env, capture_output=True,
                          text=True, timeout=timeout)
    print(done.stderr[-6000:])
    report = orjson.loads(done.stdout.strip().splitlines()[-1])
    print(report)
    return report


def test_fuzzed_inputs_are_each_counted_or_dead_lettered_none_lost():
    report = run_tool("fuzz", "--short", timeout=240)
    assert report["inputs"] >= 400
    assert report["lost"] == 0 and report["bad_accepted"] == 0 and report["duplicate_dead_letters"] == 0
    assert report["good_processed"] == report["good_sent"] >= 50
    assert report["dead_letters"] >= 150  # the bad inputs, and ingest's files
    assert report["worker_restarts"] == 0
    assert 0 < report["max_rss_mb"] < 600
    assert report["leaks"] == 0  # no XXE, no external DTD fetched, no secret in any text
    assert report["web_problems"] == 0  # bad paths and parameters: 4xx, no traceback
    assert report["web_listen"] and all(a.startswith("127.0.0.1:") for a in report["web_listen"])
    assert report["ingest_exit"] == 0


@pytest.mark.skipif(not AEB_DIR.exists(), reason="../shared/corpus/aeb not present")
def test_a_killed_worker_and_a_broker_outage_lose_nothing_and_count_nothing_twice():
    report = run_tool("faults", "--short", timeout=300)
    assert report["pages"] == 250 and report["send_failures"] == 0 and report["kills"] == 1 and report["outage_s"] == 5
    assert report["lost"] == 0, report.get("missing_diagnosis")
    assert report["double_counted"] == 0 and report["mention_mismatches"] == 0
    assert report["duplicate_alerts"] == 0 and report["alerts"] > 0
    assert report["documents"] >= 240
    assert report["recovery_s_max"] is not None and report["recovery_s_max"] < 60
    assert report["worker_survived_outage"] and report["final_worker_alive"] and not report["errors"]


def _kafka_missing() -> str:
    """Why Apache Kafka cannot run here ('' when it can): java and mvn (tools/kafka_cluster.py)."""
    import shutil

    return ", ".join(f"{tool} not found" for tool in ("java", "mvn") if not shutil.which(tool))


@pytest.mark.skipif(not AEB_DIR.exists(), reason="../shared/corpus/aeb not present")
@pytest.mark.skipif(bool(_kafka_missing()), reason=f"Apache Kafka needs java and mvn: {_kafka_missing()}")
@pytest.mark.runs_alone  # three JVMs and a worker on two cores: ~2 min alone, timeouts beside three other tests
def test_broker_kills_on_three_kafka_nodes_lose_nothing_and_count_nothing_twice():
    report = run_tool("faults", "--short", "--kafka", "3", timeout=360)
    assert report["broker"] == "kafka-3" and report["pages"] == 250 and report["send_failures"] == 0
    assert report["broker_kills"] >= 2, report["broker_faults"]
    assert report["broker_kills_by_kind"].get("partition_leader") and report["broker_kills_by_kind"].get("controller")
    assert report["broker_cutoffs"] == 1 and report["kills"] == 1 and report["outage_s"] == 5
    assert report["lost"] == 0, report.get("missing_diagnosis")
    assert report["double_counted"] == 0 and report["mention_mismatches"] == 0
    assert report["duplicate_alerts"] == 0 and report["alerts"] > 0
    assert report["worker_survived_outage"] and report["final_worker_alive"] and not report["errors"]
