"""Publishing undeliverable records to the dead-letter topic, with why and where from."""

from __future__ import annotations

from aiokafka import AIOKafkaProducer
from aiokafka.errors import MessageSizeTooLargeError
from aiokafka.structs import ConsumerRecord

HEADER_REASON = "dlq-reason"
HEADER_ERROR = "dlq-error"
HEADER_TOPIC = "dlq-original-topic"
HEADER_PARTITION = "dlq-original-partition"
HEADER_OFFSET = "dlq-original-offset"
HEADER_TRUNCATED = "dlq-value-truncated-from"
TRUNCATED_VALUE_BYTES = 64 * 1024
DLQ_HEADERS = frozenset(
    {HEADER_REASON, HEADER_ERROR, HEADER_TOPIC, HEADER_PARTITION, HEADER_OFFSET, HEADER_TRUNCATED},
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
        """Publish and wait for the broker's ack, so the caller may then commit.

        A value too large to publish again is cut to its first 64 KiB, with its original
        size in a header: the dead letter still says what arrived and from where, and the
        partition is not blocked by a record that can never be re-sent whole.
        """
        kept = [(key, value) for key, value in record.headers if key not in DLQ_HEADERS]
        headers = [
            *kept,
            (HEADER_REASON, reason.encode()),
            (HEADER_ERROR, error.encode()[:_MAX_ERROR_BYTES]),
            (HEADER_TOPIC, record.topic.encode()),
            (HEADER_PARTITION, str(record.partition).encode()),
            (HEADER_OFFSET, str(record.offset).encode()),
        ]
        value = record.value or b""
        try:
            await self._producer.send_and_wait(
                self.topic, value=value, key=record.key, headers=headers
            )
        except MessageSizeTooLargeError:
            headers.append((HEADER_TRUNCATED, str(len(value)).encode()))
            await self._producer.send_and_wait(
                self.topic, value=value[:TRUNCATED_VALUE_BYTES], key=record.key, headers=headers
            )
