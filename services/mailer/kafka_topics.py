"""Looking up a topic's partitions without joining a group or subscribing."""

from __future__ import annotations

from aiokafka import TopicPartition
from aiokafka.admin import AIOKafkaAdminClient


async def partitions_of(bootstrap_servers: str, topic: str) -> list[TopicPartition]:
    """Every partition of ``topic``, in order; empty when the topic does not exist."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        described = await admin.describe_topics([topic])
    finally:
        await admin.close()
    numbers = sorted(
        part["partition"]
        for entry in described
        if entry["error_code"] == 0
        for part in entry["partitions"]
    )
    return [TopicPartition(topic, number) for number in numbers]
