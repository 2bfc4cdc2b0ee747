"""What the harness asks a running Kafka through aiokafka's admin client: readiness, topics, ISR.

The single broker and the cluster share these, so a topic is created, and a node judged
ready, the same way whatever the number of nodes.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import KafkaError, TopicAlreadyExistsError, for_code

from devstack.errors import HarnessError

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Mapping, Sequence

    from devstack.kafka_node import Replication

REQUEST_TIMEOUT_MS = 5000
_PROBE_TIMEOUT_MS = 3000
_POLL_SECONDS = 0.25


@dataclass(frozen=True, slots=True)
class PartitionState:
    """One partition as the cluster's metadata describes it (node ids; leader -1: none)."""

    topic: str
    partition: int
    leader: int
    replicas: tuple[int, ...]
    isr: tuple[int, ...]

    @property
    def fully_replicated(self) -> bool:
        """Whether it has a leader and every replica is in sync (not under-replicated)."""
        return self.leader >= 0 and set(self.isr) == set(self.replicas)


def probe_port(address: str) -> None:
    """Cheap TCP check first, so the Kafka client does not log every refused connect."""
    host, _, port = address.split(",", 1)[0].rpartition(":")
    with socket.create_connection((host, int(port)), timeout=1.0):
        pass


@contextlib.asynccontextmanager
async def _admin(
    bootstrap_servers: str, timeout_ms: int = REQUEST_TIMEOUT_MS
) -> AsyncIterator[AIOKafkaAdminClient]:
    """Yield a started admin client, closed on leaving whatever happened."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, request_timeout_ms=timeout_ms)
    await admin.start()
    try:
        yield admin
    finally:
        await admin.close()


async def registered_brokers(address: str) -> set[int]:
    """Return the ids of the brokers the node at ``address`` knows as alive (unfenced)."""
    async with _admin(address, _PROBE_TIMEOUT_MS) as admin:
        cluster = await admin.describe_cluster()
    return {int(broker["node_id"]) for broker in cluster["brokers"]}


def wait_for_metadata(
    address: str,
    deadline: float,
    *,
    node_id: int | None = None,
    alive: Callable[[], None] = lambda: None,
) -> None:
    """Block until ``address`` answers metadata (listing ``node_id`` as alive, if given).

    ``alive`` raises when the process behind the address died, so a crash is reported
    with its log instead of waiting for the deadline.
    """
    last_error = "no answer yet"
    while time.monotonic() < deadline:
        alive()
        try:
            probe_port(address)
            brokers = asyncio.run(registered_brokers(address))
        except (KafkaError, OSError) as exc:
            last_error = repr(exc)
        else:
            if node_id is None or node_id in brokers:
                return
            last_error = f"node {node_id} not registered yet (alive: {sorted(brokers)})"
        time.sleep(_POLL_SECONDS)
    msg = f"the Kafka broker at {address} was not ready in time ({last_error})"
    raise HarnessError(msg)


async def create_topics(
    bootstrap_servers: str, partitions: Mapping[str, int], replication: Replication
) -> None:
    """Create topics with these partition counts and this replication; existing ones stay."""
    configs = {"min.insync.replicas": str(replication.min_insync)}
    topics = [
        NewTopic(name, count, replication.factor, topic_configs=configs)
        for name, count in partitions.items()
    ]
    async with _admin(bootstrap_servers) as admin:
        response = await admin.create_topics(topics)
    raise_topic_errors(response.to_object())


def raise_topic_errors(response: Mapping[str, Any]) -> None:
    """Raise on a topic's own error code: the request as a whole succeeds regardless."""
    for topic in response["topic_errors"]:
        code = int(topic["error_code"])
        if code not in {0, TopicAlreadyExistsError.errno}:
            reason = topic.get("error_message") or ""
            msg = f"creating topic {topic['topic']} failed: {for_code(code).__name__} {reason}"
            raise HarnessError(msg.rstrip())


async def describe_partitions(
    bootstrap_servers: str, topics: Sequence[str] | None = None
) -> list[PartitionState]:
    """Leader, replicas and ISR of every partition of ``topics`` (every topic for None)."""
    async with _admin(bootstrap_servers) as admin:
        described = await admin.describe_topics(list(topics) if topics is not None else None)
    return [
        PartitionState(
            topic=topic["topic"],
            partition=int(part["partition"]),
            leader=int(part["leader"]),
            replicas=tuple(part["replicas"]),
            isr=tuple(part["isr"]),
        )
        for topic in described
        for part in topic["partitions"]
    ]


async def topic_settings(bootstrap_servers: str, topic: str) -> dict[str, str]:
    """Return a topic's effective settings (its own, else the broker defaults it inherits)."""
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap_servers, request_timeout_ms=REQUEST_TIMEOUT_MS
    )
    await admin.start()
    try:
        [response] = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
    finally:
        await admin.close()
    [resource] = response.to_object()["resources"]
    return {
        entry.get("config_name", entry.get("config_names")): entry["config_value"]
        for entry in resource["config_entries"]
    }
