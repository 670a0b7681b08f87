"""The KRaft node properties ./scripts/kafka renders: one node self-sufficient, three replicated."""
from pathlib import Path

from tools.kafka_cluster import KafkaCluster, node_properties

VOTERS = "1@127.0.0.1:9101,2@127.0.0.1:9102,3@127.0.0.1:9103"


def test_one_node_gives_its_internal_topics_one_replica():
    props = node_properties(1, 9001, "1@127.0.0.1:9101", Path("/tmp/x"), nodes=1)
    assert props["process.roles"] == "broker,controller" and props["node.id"] == "1"
    assert props["listeners"] == "PLAINTEXT://127.0.0.1:9001,CONTROLLER://127.0.0.1:9101"
    for key in ("offsets.topic.replication.factor", "transaction.state.log.replication.factor",
                "share.coordinator.state.topic.replication.factor", "min.insync.replicas"):
        assert props[key] == "1", key  # else groups and transactions never get a coordinator


def test_three_nodes_replicate_three_times_and_fence_a_dead_node_fast():
    props = node_properties(2, 9002, VOTERS, Path("/tmp/x"), nodes=3)
    assert props["listeners"] == "PLAINTEXT://127.0.0.1:9002,CONTROLLER://127.0.0.1:9102"
    assert props["default.replication.factor"] == "3" and props["min.insync.replicas"] == "2"
    assert int(props["broker.session.timeout.ms"]) <= 3000


def test_cluster_ids_are_storage_tool_ids_never_read_as_an_option():
    ids = {KafkaCluster.cluster_id(None) for _ in range(2000)}
    assert len(ids) == 2000 and all(len(i) == 22 and not i.startswith("-") for i in ids)
