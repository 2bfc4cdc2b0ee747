"""The configuration a node is started with: one code path for the broker and the cluster."""

from pathlib import Path

import pytest

from devstack.errors import HarnessError
from devstack.kafka_admin import PartitionState, raise_topic_errors
from devstack.kafka_cluster import REPLICATED, KafkaCluster
from devstack.kafka_node import STANDALONE, NodePorts, NodeSpec, node_settings, quorum_voters

DATA = Path("/data")


def test_every_node_of_the_cluster_shares_the_id_and_the_three_voter_quorum(tmp_path: Path):
    cluster = KafkaCluster(tmp_path, cluster_id="shared-id")
    specs = [node.spec for node in cluster.nodes.values()]
    assert [spec.node_id for spec in specs] == [1, 2, 3]
    assert {spec.cluster_id for spec in specs} == {"shared-id"}
    [voters] = {spec.voters for spec in specs}
    assert voters == ",".join(f"{s.node_id}@127.0.0.1:{s.ports.controller}" for s in specs)
    ports = [port for spec in specs for port in (spec.ports.client, spec.ports.controller)]
    assert len(set(ports)) == len(ports)
    assert cluster.bootstrap_servers == ",".join(f"127.0.0.1:{s.ports.client}" for s in specs)


def test_cluster_nodes_replicate_every_topic_three_times_with_two_in_sync(tmp_path: Path):
    config = node_settings(KafkaCluster(tmp_path).node(1).spec, DATA)
    assert config["default.replication.factor"] == "3"
    assert config["min.insync.replicas"] == "2"
    assert config["offsets.topic.replication.factor"] == "3"
    assert config["transaction.state.log.replication.factor"] == "3"
    assert config["transaction.state.log.min.isr"] == "2"
    assert config["unclean.leader.election.enable"] == "false"
    assert config["process.roles"] == "broker,controller"


def test_the_single_broker_is_a_one_voter_quorum_with_replication_one():
    ports = NodePorts(client=9092, controller=9093)
    spec = NodeSpec(1, ports, quorum_voters([(1, ports)]), "id", STANDALONE)
    config = node_settings(spec, DATA)
    assert config["controller.quorum.voters"] == "1@127.0.0.1:9093"
    assert config["listeners"] == "PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093"
    assert config["offsets.topic.replication.factor"] == "1"
    assert config["min.insync.replicas"] == "1"
    assert config["log.dirs"] == "/data"


def test_replicated_is_three_copies_two_in_sync():
    assert (REPLICATED.factor, REPLICATED.min_insync) == (3, 2)


@pytest.mark.parametrize(
    ("isr", "leader", "full"),
    [((1, 2, 3), 1, True), ((3, 1, 2), 2, True), ((1, 2), 1, False), ((1, 2, 3), -1, False)],
)
def test_a_partition_is_fully_replicated_only_with_a_leader_and_every_replica_in_sync(
    isr: tuple[int, ...], leader: int, *, full: bool
):
    state = PartitionState("t", 0, leader=leader, replicas=(1, 2, 3), isr=isr)
    assert state.fully_replicated is full


def test_a_topic_the_cluster_refused_is_an_error_and_an_existing_one_is_not():
    raise_topic_errors({"topic_errors": [{"topic": "old", "error_code": 36}]})
    with pytest.raises(HarnessError, match="InvalidReplicationFactorError"):
        raise_topic_errors({"topic_errors": [{"topic": "new", "error_code": 38}]})
