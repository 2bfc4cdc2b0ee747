"""Publishing undeliverable records to the dead-letter topic, with why and where from."""

from __future__ import annotations

from aiokafka import AIOKafkaProducer
from aiokafka.structs import ConsumerRecord

HEADER_REASON = "dlq-reason"
HEADER_ERROR = "dlq-error"
HEADER_TOPIC = "dlq-original-topic"
HEADER_PARTITION = "dlq-original-partition"
HEADER_OFFSET = "dlq-original-offset"
_DLQ_HEADERS = frozenset(
    {HEADER_REASON, HEADER_ERROR, HEADER_TOPIC, HEADER_PARTITION, HEADER_OFFSET},
)
_MAX_ERROR_BYTES = 512


class DeadLetterPublisher:
    """Copies a record, value and original headers (trace context included), to the DLQ."""

    def __init__(self, producer: AIOKafkaProducer, topic: str) -> None:
        """Use a started ``acks=all`` producer owned by the caller."""
        self._producer = producer
        self.topic = topic

    async def publish(
        self,
        record: ConsumerRecord[bytes, bytes],
        reason: str,
        error: str,
    ) -> None:
        """Publish and wait for the broker's ack, so the caller may then commit."""
        kept = [(key, value) for key, value in record.headers if key not in _DLQ_HEADERS]
        headers = [
            *kept,
            (HEADER_REASON, reason.encode()),
            (HEADER_ERROR, error.encode()[:_MAX_ERROR_BYTES]),
            (HEADER_TOPIC, record.topic.encode()),
            (HEADER_PARTITION, str(record.partition).encode()),
            (HEADER_OFFSET, str(record.offset).encode()),
        ]
        await self._producer.send_and_wait(
            self.topic,
            value=record.value,
            key=record.key,
            headers=headers,
        )
