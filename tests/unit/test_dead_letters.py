"""A dead letter is published in one send, cut first when the producer would refuse it whole."""

from __future__ import annotations

from typing import Any

from aiokafka.record.default_records import DefaultRecordBatchBuilder
from aiokafka.structs import ConsumerRecord
from hypothesis import given, settings
from hypothesis import strategies as st

from mailer.dead_letters import (
    HEADER_TRUNCATED,
    MAX_REQUEST_BYTES,
    TRUNCATED_VALUE_BYTES,
    DeadLetterPublisher,
)


class RecordingProducer:
    """Takes every send, as a producer whose size check is the one aiokafka applies."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    async def send_and_wait(self, topic: str, **record: Any) -> None:
        size = DefaultRecordBatchBuilder.estimate_size_in_bytes(
            record["key"], record["value"], record["headers"]
        )
        assert size <= MAX_REQUEST_BYTES, f"aiokafka would refuse {size} bytes"
        self.sent.append({"topic": topic, **record})


def _record(value: bytes, headers: list[tuple[str, bytes]]) -> ConsumerRecord[bytes, bytes]:
    return ConsumerRecord(
        topic="mail.otp.v1",
        partition=3,
        offset=42,
        timestamp=0,
        timestamp_type=0,
        key=b"someone@example.com",
        value=value,
        checksum=None,
        serialized_key_size=19,
        serialized_value_size=len(value),
        headers=headers,
    )


@settings(max_examples=60, deadline=None)
@given(
    size=st.integers(min_value=MAX_REQUEST_BYTES - 4096, max_value=MAX_REQUEST_BYTES + 64),
    header_bytes=st.integers(min_value=0, max_value=2048),
)
async def test_one_send_whatever_the_size(size: int, header_bytes: int) -> None:
    producer = RecordingProducer()
    publisher = DeadLetterPublisher(producer, "mail.otp.v1.dlq")  # type: ignore[arg-type]
    headers = [("traceparent", b"00-" + b"a" * 32 + b"-" + b"b" * 16 + b"-01")]
    headers += [("x-extra", b"x" * header_bytes)]

    await publisher.publish(_record(b"v" * size, headers), "oversize", "too large")

    [sent] = producer.sent
    truncated = dict(sent["headers"]).get(HEADER_TRUNCATED)
    if truncated is not None:
        assert truncated == str(size).encode()
        assert sent["value"] == b"v" * TRUNCATED_VALUE_BYTES


async def test_a_small_dead_letter_is_kept_whole() -> None:
    producer = RecordingProducer()
    publisher = DeadLetterPublisher(producer, "mail.otp.v1.dlq")  # type: ignore[arg-type]

    await publisher.publish(_record(b"not json", []), "not_json", "Expecting value")

    [sent] = producer.sent
    assert sent["value"] == b"not json"
    assert HEADER_TRUNCATED not in dict(sent["headers"])
