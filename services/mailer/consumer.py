"""The consumer loop: fetch, deliver, commit, with auto-commit off.

An offset is committed only after its record is finished (sent, skipped or
dead-lettered), so a crash can repeat a mail but never lose one.
"""

from __future__ import annotations

import asyncio

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.structs import ConsumerRecord

from mailer.dead_letters import DeadLetterPublisher
from mailer.delivery import Delivery, Outcome, RetryPolicy
from mailer.mail_templates import MailRenderer
from mailer.settings import MailerSettings
from mailer.smtp_transport import SmtpTransport

log = structlog.get_logger(__name__)


class MailConsumer:
    """Owns the Kafka consumer, the DLQ producer and the SMTP transport of one process."""

    def __init__(self, settings: MailerSettings) -> None:
        """Build the clients; :meth:`run` connects them."""
        self.settings = settings
        self.stopping = asyncio.Event()
        self._consumer = AIOKafkaConsumer(
            settings.topic,
            bootstrap_servers=settings.kafka_bootstrap_servers,
            group_id=settings.group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            client_id="mailer",
        )
        self._producer = AIOKafkaProducer(
            bootstrap_servers=settings.kafka_bootstrap_servers,
            acks="all",
            enable_idempotence=True,
            client_id="mailer-dlq",
        )
        self._transport = SmtpTransport(settings.smtp)
        self._delivery = Delivery(
            MailRenderer(settings.smtp.from_address, settings.smtp.from_name),
            self._transport,
            DeadLetterPublisher(self._producer, settings.dead_letter_topic),
            RetryPolicy(max_delay_seconds=settings.retry_max_seconds),
            self.stopping,
        )

    async def run(self) -> None:
        """Consume until :attr:`stopping` is set, then commit and close everything."""
        await self._producer.start()
        try:
            await self._consumer.start()
            log.info("mailer consuming", topic=self.settings.topic, group=self.settings.group_id)
            try:
                await self._loop()
            finally:
                await self._consumer.stop()
        finally:
            await self._transport.close()
            await self._producer.stop()
        log.info("mailer stopped")

    async def _loop(self) -> None:
        while not self.stopping.is_set():
            batches = await self._consumer.getmany(timeout_ms=500, max_records=200)
            for partition, records in batches.items():
                await self._drain_partition(partition, records)

    async def _drain_partition(
        self,
        partition: TopicPartition,
        records: list[ConsumerRecord[bytes, bytes]],
    ) -> None:
        for record in records:
            outcome = await self._delivery.deliver(record)
            if outcome is Outcome.ABANDONED:
                return
            await self._consumer.commit({partition: record.offset + 1})
