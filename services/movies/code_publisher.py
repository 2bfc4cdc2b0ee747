"""Publishing "mail this code" requests to Kafka in the v1 contract."""

from __future__ import annotations

from aiokafka import AIOKafkaProducer

from mailcontract import (
    CONTENT_TYPE,
    HEADER_CONTENT_TYPE,
    HEADER_MESSAGE_TYPE,
    MESSAGE_TYPE_OTP_V1,
    OtpMail,
    encode_otp_mail,
)


class CodePublisher:
    """An idempotent, ``acks=all`` producer: a publish returns only once the broker has it."""

    def __init__(self, bootstrap_servers: str, topic: str, request_timeout_ms: int) -> None:
        """Configure the producer; :meth:`start` connects."""
        self.topic = topic
        self._producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap_servers,
            acks="all",
            enable_idempotence=True,
            request_timeout_ms=request_timeout_ms,
            client_id="movies",
        )

    async def start(self) -> None:
        """Connect and fetch metadata."""
        await self._producer.start()

    async def stop(self) -> None:
        """Flush pending sends and disconnect."""
        await self._producer.stop()

    async def publish(self, mail: OtpMail) -> None:
        """Send one message keyed by the recipient, so one address keeps its order."""
        await self._producer.send_and_wait(
            self.topic,
            value=encode_otp_mail(mail),
            key=mail.email.encode(),
            headers=[
                (HEADER_CONTENT_TYPE, CONTENT_TYPE.encode()),
                (HEADER_MESSAGE_TYPE, MESSAGE_TYPE_OTP_V1.encode()),
            ],
        )
