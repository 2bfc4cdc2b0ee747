"""Topics filled with v1 code requests before a mailer starts, as a backlog to drain.

Each run then reads the same backlog under a consumer group of its own, so one fill
serves every run of an invocation. Codes expire a day later: no run skips them.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Final

from aiokafka import AIOKafkaProducer

from devstack import KafkaBroker
from mailcontract import (
    CONTENT_TYPE,
    HEADER_CONTENT_TYPE,
    HEADER_MESSAGE_TYPE,
    MESSAGE_TYPE_OTP_V1,
    Locale,
    OtpMail,
    dead_letter_topic,
    encode_otp_mail,
)

PARTITIONS: Final = 6
_HEADERS: Final = [
    (HEADER_CONTENT_TYPE, CONTENT_TYPE.encode()),
    (HEADER_MESSAGE_TYPE, MESSAGE_TYPE_OTP_V1.encode()),
]


def backlog_mails(tag: str, count: int) -> list[OtpMail]:
    """``count`` v1 requests to distinct addresses, half in each locale."""
    now = datetime.now(UTC)
    return [
        OtpMail(
            id=str(uuid.uuid4()),
            email=f"{tag}-{index}@example.com",
            code=f"{index % 1_000_000:06d}",
            locale=Locale.RU if index % 2 else Locale.EN,
            issued_at=now,
            expires_at=now + timedelta(days=1),
        )
        for index in range(count)
    ]


async def fill_topic(broker: KafkaBroker, topic: str, count: int) -> None:
    """Create ``topic`` (6 partitions) and its dead-letter topic, then publish ``count`` mails."""
    await broker.create_topics_async({topic: PARTITIONS, dead_letter_topic(topic): 1})
    producer = AIOKafkaProducer(
        bootstrap_servers=broker.bootstrap_servers,
        acks="all",
        linger_ms=20,
        max_batch_size=256 * 1024,
    )
    await producer.start()
    try:
        pending = [
            await producer.send(
                topic, value=encode_otp_mail(mail), key=mail.email.encode(), headers=_HEADERS
            )
            for mail in backlog_mails("bench", count)
        ]
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
