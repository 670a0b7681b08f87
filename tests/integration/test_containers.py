"""The image built and docker-compose.yml's two topologies (Apache Kafka, embedded broker) run for real
(scripts/test-containers), where an engine runs.

Skipped, with the reason, where podman or docker cannot run containers (../shared/container/prepare makes
podman usable on these machines; `.ci/run` runs it). Its own project name, image tag, network, volumes and
host port: it runs beside the other tests (pytest-xdist) without touching them.
"""
from __future__ import annotations

import json
import subprocess
import uuid
from pathlib import Path

import pytest

from tools.containers import engine_problem  # scripts/ is on pytest's pythonpath (pyproject.toml)

ROOT = Path(__file__).resolve().parents[2]

ENGINE, PROBLEM = engine_problem()
# runs_alone: the other integration tests wait while it runs (tests/integration/conftest.py)
pytestmark = [pytest.mark.integration, pytest.mark.runs_alone, pytest.mark.own_broker,
              pytest.mark.skipif(ENGINE is None, reason=f"container test: {PROBLEM}")]


def test_the_compose_topologies_run_in_containers():
    project = f"lwct{uuid.uuid4().hex[:8]}"
    done = subprocess.run([str(ROOT / "scripts" / "test-containers"), "--engine", ENGINE, "--project", project],
                          capture_output=True, text=True, timeout=1200, cwd=ROOT)
    output = done.stdout + done.stderr
    print(output)
    assert done.returncode == 0, output[-6000:]
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    topologies = figures["topologies"]
    assert sorted(topologies) == ["apache-kafka", "embedded"], sorted(topologies)
    both = ("every stage's /health/ is 200", "mentions lists Takaichi and Kim Jong Un",
            "the alerts topic has the Takaichi-Kim engagement alert", "RocksDB state survives `restart` of mentions",
            "every process runs as uid 10001", "`stop` ends every container cleanly within its grace period")
    apache = ("the topics have create-topics' partitions, retention and compaction",
              "`extract` scaled to 2 replicas splits pages.clean's partitions")
    for name, needed in (("apache-kafka", both + apache), ("embedded", both)):
        for check in needed:
            assert topologies[name]["checks"].get(check) is True, (name, check, topologies[name]["checks"])
    assert figures["checks"].get("`leaderwatch demo` runs in the image (read-only, HOME not writable)") is True
    assert topologies["apache-kafka"]["topics"]["leaderwatch.leaders"]["cleanup.policy"] == "compact"
    assert all(figures["checks"].values()), figures["checks"]
    # nothing left behind: no container, volume or network of this project
    for kind in (["ps", "-a"], ["volume", "ls"], ["network", "ls"]):
        left = subprocess.run([ENGINE, *kind, "--format", "{{.Names}}" if kind[0] == "ps" else "{{.Name}}"],
                              capture_output=True, text=True, timeout=60).stdout
        assert project not in left, (kind, left)
