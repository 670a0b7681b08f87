"""The broker a `./scripts/bench` run starts for itself: the embedded one (tansu), or Apache Kafka
(tools.kafka_cluster.KafkaCluster, 1 or 3 KRaft nodes) with `--kafka N`.

What changes with the broker, and only that: the worker settings it needs (3 nodes: replicas=3,
as a replicated deployment; Kafka: the producer's normal batching, since one record per batch is
the embedded broker's workaround, settings.producer_max_batch_size), the broker's processes whose
CPU the run counts, and its name in the figures. The broker is started after the bench has
narrowed its own affinity, so it runs on the cores beside the workers' (as tansu does).
"""
from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
from pathlib import Path

EMBEDDED_BATCH_BYTES = 1  # one record per batch: the embedded broker's end_offsets workaround (settings.py)
KAFKA_BATCH_BYTES = 16384  # Settings.producer_max_batch_size's default, as a deployment on Kafka runs it


@dataclasses.dataclass
class BenchBroker:
    """A running broker: its LEADERWATCH_BROKER url, its processes (for CPU), its name in the figures."""

    url: str
    pids: list[int]
    name: str  # "embedded", "kafka-1", "kafka-3"
    nodes: int  # 0 for the embedded broker


def broker_name(kafka_nodes: int) -> str:
    return f"kafka-{kafka_nodes}" if kafka_nodes else "embedded"


def default_batch_bytes(kafka_nodes: int) -> int:
    """The workers' LEADERWATCH_PRODUCER_MAX_BATCH_SIZE when --producer-batch-bytes is not given."""
    return KAFKA_BATCH_BYTES if kafka_nodes else EMBEDDED_BATCH_BYTES


def broker_settings(kafka_nodes: int) -> dict:
    """Settings fields the broker itself asks of the workers: its kind (LEADERWATCH_BROKER_KIND, which
    turns the embedded broker's workarounds on), and 3 nodes replicate every topic 3 times."""
    if not kafka_nodes:
        return {"broker_kind": "embedded"}
    return {"broker_kind": "kafka", **({"replicas": 3} if kafka_nodes == 3 else {})}


@contextlib.contextmanager
def bench_broker(kafka_nodes: int, workdir: Path):
    """Start the run's broker under `workdir` (embedded when kafka_nodes is 0), yield a BenchBroker,
    stop it after (and delete Kafka's data: the embedded broker's is gone with it)."""
    if not kafka_nodes:
        from leaderwatch.ops.broker import embedded_broker

        with embedded_broker(log_path=workdir / "broker.log") as url:
            pids = [pid for pid in _children() if _comm(pid) == "tansu"]
            yield BenchBroker(url, pids, "embedded", 0)
        return
    from tools.kafka_cluster import KafkaCluster

    cluster = KafkaCluster(workdir / "kafka", nodes=kafka_nodes)
    try:
        with cluster:
            yield BenchBroker(cluster.url, [p.pid for p in cluster.processes.values()], broker_name(kafka_nodes), kafka_nodes)
    finally:  # the topics on disk (~1 GB after 20,000 pages); the nodes' logs stay beside the workers'
        for node in range(1, kafka_nodes + 1):
            shutil.rmtree(cluster.node_dir(node) / "data", ignore_errors=True)


def _children() -> list[int]:
    found = []
    for task in Path(f"/proc/{os.getpid()}/task").iterdir():
        with contextlib.suppress(OSError):
            found += [int(child) for child in (task / "children").read_text().split()]
    return found


def _comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""
