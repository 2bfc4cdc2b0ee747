"""A mailer process on a topic of its own, and helpers to feed it and read its results."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
import urllib.request
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from devstack import KafkaBroker
from devstack.ports import free_port
from devstack.processes import ServiceProcess
from devstack.seal_keys import keyring_of, seal_settings
from devstack.smtp_sink import MailSink
from envsettings import KafkaConnection
from mailcontract import (
    CONTENT_TYPE,
    HEADER_CONTENT_TYPE,
    HEADER_MESSAGE_TYPE,
    MESSAGE_TYPE_OTP_V2,
    OtpMail,
    encode_otp_mail,
)
from mailer.kafka_topics import partitions_of

if TYPE_CHECKING:
    from collections.abc import Sequence

# One keyring for every mailer these tests start and every record they publish.
SEAL_SETTINGS = seal_settings()
KEYRING = keyring_of(SEAL_SETTINGS)


@dataclass
class MailerUnderTest:
    """One mailer process, restartable, with its topic, group and side-server port."""

    kafka: KafkaBroker
    sink: MailSink
    topic: str
    workdir: Path
    overrides: dict[str, str] = field(default_factory=dict)
    group: str = field(default_factory=lambda: f"mailer-{uuid.uuid4().hex[:8]}")
    port: int = field(default_factory=free_port)
    process: ServiceProcess | None = None
    restarts: int = 0
    module: str = "mailer"

    @property
    def dlq(self) -> str:
        return f"{self.topic}.dlq"

    def start(self) -> ServiceProcess:
        env = {
            "KAFKA_BOOTSTRAP_SERVERS": self.kafka.bootstrap_servers,
            "MAIL_TOPIC": self.topic,
            "MAILER_GROUP_ID": self.group,
            "MAILER_PORT": str(self.port),
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(self.sink.port),
            "SMTP_SECURITY": "plain",
            "MAILER_RETRY_MAX_SECONDS": "1",
            "MAILER_LAG_INTERVAL_SECONDS": "1",
            **SEAL_SETTINGS,
            **self.overrides,
        }
        self.restarts += 1
        log = self.workdir / f"mailer-{self.restarts}.log"
        self.process = ServiceProcess(self.module, env, log)
        self.process.start()
        self.process.wait_for_log("partitions assigned", timeout=60)
        return self.process

    def metrics(self) -> str:
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/metrics",
            headers={"Accept": "application/openmetrics-text; version=1.0.0"},
        )
        with urllib.request.urlopen(request, timeout=5) as reply:  # noqa: S310 -- loopback
            return str(reply.read().decode())

    def logs(self) -> str:
        return "".join(
            path.read_text(errors="replace") for path in sorted(self.workdir.glob("mailer-*.log"))
        )


def otp_mails(tag: str, count: int, ttl: timedelta = timedelta(minutes=10)) -> list[OtpMail]:
    """``count`` v1 messages to distinct addresses (``<tag>-<i>@example.com``)."""
    now = datetime.now(UTC)
    return [
        OtpMail(
            id=str(uuid.uuid4()),
            email=f"{tag}-{index}@example.com",
            code=f"{index % 1_000_000:06d}",
            issued_at=now,
            expires_at=now + ttl,
        )
        for index in range(count)
    ]


def publish(
    kafka: KafkaBroker,
    topic: str,
    values: Sequence[tuple[bytes | None, bytes]],
    headers: list[tuple[str, bytes]] | None = None,
) -> None:
    """Publish (key, value) pairs, each with ``headers``, and wait for every ack."""

    async def run() -> None:
        producer = AIOKafkaProducer(
            bootstrap_servers=kafka.bootstrap_servers, linger_ms=5, max_request_size=2 * 1024 * 1024
        )
        await producer.start()
        try:
            sent = [
                await producer.send(topic, value=value, key=key, headers=headers)
                for key, value in values
            ]
            await asyncio.gather(*sent)
        finally:
            await producer.stop()

    asyncio.run(run())


CONTRACT_HEADERS = [
    (HEADER_CONTENT_TYPE, CONTENT_TYPE.encode()),
    (HEADER_MESSAGE_TYPE, MESSAGE_TYPE_OTP_V2.encode()),
]


def publish_mails(kafka: KafkaBroker, topic: str, mails: Sequence[OtpMail]) -> None:
    """Publish sealed messages keyed by recipient, with the contract's headers, as movies does."""
    values = [(mail.email.encode(), encode_otp_mail(mail, KEYRING)) for mail in mails]
    publish(kafka, topic, values, CONTRACT_HEADERS)


def raw_json(body: object) -> bytes:
    return json.dumps(body).encode()


def received(sink: MailSink, addresses: set[str]) -> Counter[str]:
    """How many mails each of ``addresses`` received."""
    counts: Counter[str] = Counter()
    for delivery in sink.deliveries():
        for recipient in delivery.recipients:
            if recipient in addresses:
                counts[recipient] += 1
    return counts


def wait_until_all_received(
    sink: MailSink, addresses: set[str], timeout: float = 90.0
) -> Counter[str]:
    """Block until every address has at least one mail; fail naming how many are missing."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        counts = received(sink, addresses)
        if len(counts) == len(addresses):
            return counts
        time.sleep(0.2)
    counts = received(sink, addresses)
    missing = len(addresses) - len(counts)
    msg = f"{missing} of {len(addresses)} addresses got no mail within {timeout}s"
    raise AssertionError(msg)


def committed_at_end(kafka: KafkaBroker, topic: str, group: str) -> dict[int, tuple[int, int]]:
    """Per partition: (committed offset of ``group``, end offset)."""

    async def run() -> dict[int, tuple[int, int]]:
        consumer = AIOKafkaConsumer(bootstrap_servers=kafka.bootstrap_servers, group_id=group)
        await consumer.start()
        try:
            partitions = await partitions_of(KafkaConnection(kafka.bootstrap_servers), topic)
            ends = await consumer.end_offsets(partitions)
            return {
                tp.partition: (await consumer.committed(tp) or 0, ends[tp]) for tp in partitions
            }
        finally:
            await consumer.stop()

    return asyncio.run(run())


def committed_records(kafka: KafkaBroker, topic: str, group: str) -> int:
    """How many records of ``topic`` ``group`` has committed (its offsets summed)."""
    return sum(committed for committed, _ in committed_at_end(kafka, topic, group).values())


def dead_letters(kafka: KafkaBroker, topic: str) -> list[dict[str, str]]:
    """Every record of a dead-letter topic, as its headers (decoded) plus its value."""

    async def run() -> list[dict[str, str]]:
        consumer = AIOKafkaConsumer(
            topic, bootstrap_servers=kafka.bootstrap_servers, auto_offset_reset="earliest"
        )
        await consumer.start()
        try:
            batches = await consumer.getmany(timeout_ms=3000)
            records = [record for batch in batches.values() for record in batch]
        finally:
            await consumer.stop()
        return [
            {**{k: v.decode(errors="replace") for k, v in r.headers}, "value": str(r.value)}
            for r in records
        ]

    return asyncio.run(run())


def wait_for(predicate_description: str, check: object, timeout: float = 60.0) -> None:
    """Poll ``check()`` until truthy."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.25)
    msg = f"timed out waiting for {predicate_description}"
    raise AssertionError(msg)


def replay(mailer: MailerUnderTest, reason: str) -> str:
    """``python -m mailer dlq replay --reason <reason>`` with the mailer's settings; its output."""
    assert mailer.process is not None
    result = subprocess.run(
        [sys.executable, "-m", "mailer", "dlq", "replay", "--reason", reason],
        env=mailer.process.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout
