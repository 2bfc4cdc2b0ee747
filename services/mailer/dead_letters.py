"""Publishing undeliverable records to the dead-letter topic, with why and where from."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aiokafka import AIOKafkaProducer
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
# The producer's max_request_size: aiokafka's default, set explicitly where it is built.
MAX_REQUEST_BYTES = 1024 * 1024
_HEADER_FRAMING = 16
_RECORD_FRAMING = 1024
Headers = list[tuple[str, bytes | None]]


class DeadLetterPublisher:
    """Copies a record, value and original headers (trace context included), to the DLQ."""

    def __init__(
        self, producer: AIOKafkaProducer, topic: str, max_request_bytes: int = MAX_REQUEST_BYTES
    ) -> None:
        """Use a started ``acks=all`` producer owned by the caller, built with this limit."""
        self._producer = producer
        self.topic = topic
        self._max_request_bytes = max_request_bytes

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
        headers: Headers = [
            *kept,
            (HEADER_REASON, reason.encode()),
            (HEADER_ERROR, error.encode()[:_MAX_ERROR_BYTES]),
            (HEADER_TOPIC, record.topic.encode()),
            (HEADER_PARTITION, str(record.partition).encode()),
            (HEADER_OFFSET, str(record.offset).encode()),
        ]
        value = record.value or b""
        if not _fits(record.key, value, headers, self._max_request_bytes):
            headers.append((HEADER_TRUNCATED, str(len(value)).encode()))
            value = value[:TRUNCATED_VALUE_BYTES]
        await self._producer.send_and_wait(self.topic, value=value, key=record.key, headers=headers)


def _fits(key: bytes | None, value: bytes, headers: Headers, limit: int) -> bool:
    """Whether the producer will take the record, judged before sending it.

    Trying and catching the producer's refusal left a failed ``send`` span beside the
    real one for every oversize dead letter. The estimate errs large: each header and
    the record and batch framing get more bytes than Kafka's format spends on them.
    """
    framing = sum(len(name.encode()) + len(data or b"") + _HEADER_FRAMING for name, data in headers)
    return len(key or b"") + len(value) + framing + _RECORD_FRAMING <= limit
