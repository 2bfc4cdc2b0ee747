"""Looking up a topic's partitions without joining a group or subscribing."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiokafka import TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

if TYPE_CHECKING:
    from envsettings import KafkaConnection


async def partitions_of(connection: KafkaConnection, topic: str) -> list[TopicPartition]:
    """Every partition of ``topic``, in order; empty when the topic does not exist."""
    admin = AIOKafkaAdminClient(**connection.client_options())
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
