"""Topics filled with v1 code requests before a mailer starts, as a backlog to drain.

Each run then reads the same backlog under a consumer group of its own, so one fill
serves every run of an invocation. Codes expire a day later: no run skips them. The
backlog is v1 with the code in clear, as producers before the seal wrote it: the
original-style yardstick reads nothing else, and ours still accepts it.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Final

from aiokafka import AIOKafkaProducer

from devstack.seal_keys import seal_settings
from mailcontract import (
    CONTENT_TYPE,
    HEADER_CONTENT_TYPE,
    HEADER_MESSAGE_TYPE,
    MESSAGE_TYPE_OTP_V1,
    Locale,
    OtpMail,
    dead_letter_topic,
)

if TYPE_CHECKING:
    from devstack import KafkaBroker

PARTITIONS: Final = 6
# The keyring of one bench invocation: the movies and mailer processes it starts share it.
SEAL_SETTINGS: Final = seal_settings()
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
                topic, value=clear_v1(mail), key=mail.email.encode(), headers=_HEADERS
            )
            for mail in backlog_mails("bench", count)
        ]
        await asyncio.gather(*pending)
    finally:
        await producer.stop()


def clear_v1(mail: OtpMail) -> bytes:
    """Encode as a producer older than the seal did: v1, every field, the code in clear."""
    body = {
        "v": 1,
        "id": mail.id,
        "email": mail.email,
        "code": mail.code,
        "purpose": mail.purpose.value,
        "locale": mail.locale.value,
        "issued_at": mail.issued_at.isoformat() if mail.issued_at else None,
        "expires_at": mail.expires_at.isoformat() if mail.expires_at else None,
    }
    return json.dumps(body, separators=(",", ":")).encode()
