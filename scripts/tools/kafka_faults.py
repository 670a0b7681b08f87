"""Broker faults on an Apache Kafka cluster (tools/kafka_cluster.py), for ./scripts/faults --kafka N.

  active_controller()   the KRaft quorum leader, from a DescribeQuorum request (API 55): in KRaft
                        the controller_id of Metadata / describe_cluster is any broker, not the
                        active controller, which clients never talk to
  partition_leaders()   (topic, partition) -> leader node id, from the metadata
  under_replicated()    partitions whose ISR is smaller than their replica set
  BrokerFaults          SIGKILL a partition leader or the active controller and restart it after
                        a few seconds; SIGSTOP one broker for a while (cut off: it stops answering
                        clients, followers and the quorum, so it is fenced and its leaderships
                        move); each fault waits for the cluster to be whole again (every node up,
                        no partition under-replicated) before it returns
"""
from __future__ import annotations

import asyncio
import time
from typing import TypeAlias

from aiokafka.protocol.api import Request, RequestStruct, Response
from aiokafka.protocol.types import CompactArray, CompactString, Int16, Int32, Int64, Schema, TaggedFields

METADATA_TOPIC = "__cluster_metadata"


class DescribeQuorumResponse_v0(Response):
    """DescribeQuorum v0 (flexible): the leader of __cluster_metadata-0 is the active controller."""

    API_KEY = 55
    API_VERSION = 0
    _replica = CompactArray(("replica_id", Int32), ("log_end_offset", Int64), ("tags", TaggedFields))
    SCHEMA = Schema(
        ("error_code", Int16),
        ("topics", CompactArray(
            ("topic_name", CompactString("utf-8")),
            ("partitions", CompactArray(
                ("partition_index", Int32), ("error_code", Int16), ("leader_id", Int32), ("leader_epoch", Int32),
                ("high_watermark", Int64), ("current_voters", _replica), ("observers", _replica),
                ("tags", TaggedFields))),
            ("tags", TaggedFields))),
        ("tags", TaggedFields),
    )


class DescribeQuorumRequest_v0(RequestStruct):
    FLEXIBLE_VERSION = True
    API_KEY = 55
    API_VERSION = 0
    RESPONSE_TYPE = DescribeQuorumResponse_v0
    SCHEMA = Schema(
        ("topics", CompactArray(
            ("topic_name", CompactString("utf-8")),
            ("partitions", CompactArray(("partition_index", Int32), ("tags", TaggedFields))),
            ("tags", TaggedFields))),
        ("tags", TaggedFields),
    )


DescribeQuorumRequestStruct: TypeAlias = DescribeQuorumRequest_v0


class DescribeQuorumRequest(Request[DescribeQuorumRequestStruct]):
    """The metadata quorum's state; a broker forwards it to the active controller."""

    API_KEY = 55

    def build(self, request_struct_class: type[DescribeQuorumRequestStruct]) -> DescribeQuorumRequestStruct:
        return request_struct_class([(METADATA_TOPIC, [(0, {})], {})], {})


async def _with_client(bootstrap: str, call):
    from aiokafka.client import AIOKafkaClient

    client = AIOKafkaClient(bootstrap_servers=bootstrap, request_timeout_ms=10_000)
    await client.bootstrap()
    try:
        return await call(client)
    finally:
        await client.close()


async def active_controller(bootstrap: str) -> tuple[int, int]:
    """(node id, epoch) of the active KRaft controller."""

    async def ask(client):
        for node in sorted(b.nodeId for b in client.cluster.brokers()):
            try:
                response = await client.send(node, DescribeQuorumRequest())
            except Exception:  # a node down or not answering: ask the next
                continue
            partition = response.topics[0][1][0]
            if response.error_code == 0 and partition[1] == 0 and partition[2] >= 0:
                return partition[2], partition[3]
        raise RuntimeError("no broker answered DescribeQuorum")

    return await _with_client(bootstrap, ask)


async def _metadata(client, topics: list[str] | None):
    from aiokafka.protocol.metadata import MetadataRequest

    node = client.get_random_node()
    return await client.send(node, MetadataRequest(topics, allow_auto_topic_creation=False))


async def partition_leaders(bootstrap: str, topics: list[str]) -> dict[tuple[str, int], int]:
    """(topic, partition) -> leader node id (-1: none) for the topics that exist."""

    async def ask(client):
        response = await _metadata(client, topics)
        return {(t[1], p[1]): p[2] for t in response.topics if t[0] == 0 for p in t[3]}

    return await _with_client(bootstrap, ask)


def topic_names(bootstrap: str, tag: str) -> list[str]:
    """Every topic whose name holds `tag`: a run's topics and its tables' changelogs (not Faust's
    __assignor-__leader, which holds nothing)."""

    async def ask(client):
        response = await _metadata(client, None)
        return sorted(t[1] for t in response.topics if tag in t[1] and "__assignor" not in t[1])

    return asyncio.run(_with_client(bootstrap, ask))


async def under_replicated(bootstrap: str) -> list[str]:
    """'topic[p] isr/replicas' for every partition (internal ones too) whose ISR is short or that has no leader."""

    async def ask(client):
        response = await _metadata(client, None)
        short = []
        for topic in response.topics:
            for p in topic[3]:  # (error, partition, leader, [epoch,] replicas, isr, ...)
                replicas, isr = p[-3], p[-2]
                if p[2] < 0 or len(isr) < len(replicas):
                    short.append(f"{topic[1]}[{p[1]}] leader {p[2]} isr {list(isr)}/{list(replicas)}")
        return short

    return await _with_client(bootstrap, ask)


class BrokerFaults:
    """Broker kills and a cut-off on `cluster`, recorded in `report["broker_faults"]` (one dict each)."""

    def __init__(self, cluster, report: dict, log, rng):
        self.cluster, self.report, self.log, self.rng = cluster, report, log, rng
        self.bootstrap = cluster.bootstrap  # the brokers' own ports, not the clients' proxies
        report.setdefault("broker_faults", [])

    def run(self, coroutine):
        return asyncio.run(coroutine)

    def controller(self) -> tuple[int, int]:
        return self.run(active_controller(self.bootstrap))

    def kill_leader(self, topics: list[str], down_s: float) -> dict:
        """SIGKILL the leader of one partition of `topics` (one that is not the active controller,
        when there is such a partition, so that the kinds stay apart), restart it after `down_s`."""
        leaders = self.run(partition_leaders(self.bootstrap, topics))
        controller, _ = self.controller()
        choices = sorted(tp for tp, node in leaders.items() if node >= 0 and node != controller) or sorted(leaders)
        topic, partition = self.rng.choice(choices)
        node = leaders[(topic, partition)]
        return self._kill(node, "partition_leader", down_s, of=f"{topic}[{partition}]", controller=controller)

    def kill_controller(self, down_s: float) -> dict:
        node, epoch = self.controller()
        fault = self._kill(node, "controller", down_s, epoch=epoch)
        fault["new_controller"], fault["new_epoch"] = self.controller()
        return fault

    def _kill(self, node: int, kind: str, down_s: float, **about) -> dict:
        self.log(f"broker fault: SIGKILL node {node} ({kind}{', ' + about['of'] if 'of' in about else ''}); "
                 f"restart in {down_s:.1f} s")
        killed = time.monotonic()
        self.cluster.kill(node)
        time.sleep(down_s)
        self.cluster.start(node)
        fault = {"kind": kind, "node": node, **about, "down_s": round(down_s, 1),
                 "ready_s": round(time.monotonic() - killed, 1)}
        fault["whole_s"] = self.wait_whole(killed)
        self.report["broker_faults"].append(fault)
        self.log(f"broker fault: node {node} back, cluster whole {fault['whole_s']} s after the kill")
        return fault

    def cut_off(self, seconds: float) -> dict:
        """SIGSTOP one broker (any but the controller, at random; on one node that node) for
        `seconds`, then SIGCONT."""
        controller, _ = self.controller()
        nodes = list(range(1, self.cluster.nodes + 1))
        node = self.rng.choice([n for n in nodes if n != controller] or nodes)
        self.log(f"broker fault: SIGSTOP node {node} for {seconds:.1f} s (cut off)")
        paused = time.monotonic()
        self.cluster.pause(node)
        time.sleep(seconds)
        self.cluster.resume(node)
        fault = {"kind": "cut_off", "node": node, "down_s": round(seconds, 1)}
        fault["whole_s"] = self.wait_whole(paused)
        self.report["broker_faults"].append(fault)
        self.log(f"broker fault: node {node} resumed, cluster whole {fault['whole_s']} s after the pause")
        return fault

    def wait_whole(self, since: float, timeout: float = 120.0) -> float:
        """Seconds from `since` until no partition is under-replicated or leaderless."""
        deadline = time.monotonic() + timeout
        short: list[str] = []
        while time.monotonic() < deadline:
            try:
                short = self.run(under_replicated(self.bootstrap))
            except Exception as exc:  # a node still starting: ask again
                short = [f"{type(exc).__name__}: {exc}"]
            if not short:
                return round(time.monotonic() - since, 1)
            time.sleep(0.5)
        raise TimeoutError(f"the cluster was not whole {timeout} s after a broker fault: {short[:5]}")
