"""The yardstick for B1: a consumer written the way the original mail service was.

One message at a time, auto-commit, the mail built per message with
``email.message.EmailMessage``, and a new SMTP connection (and TLS handshake) per mail,
as nodemailer without a pool does. It logs one line per mail, as the original's
``console.log`` did. ``python -m bench.original_mailer`` reads the mailer's variables.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import make_msgid

import aiosmtplib
from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition

SUBJECT = "Ваш одноразовый код"


class _Announce(ConsumerRebalanceListener):  # type: ignore[misc]  # aiokafka's base is untyped
    """Say when partitions arrive, so the benchmark starts its clock where the mailer's does."""

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        """Nothing to finish: auto-commit owns the offsets."""

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        """Print the moment in the same JSON shape the mailer logs."""
        event = {
            "event": "partitions assigned",
            "timestamp": datetime.now(UTC).isoformat(),
            "partitions": sorted(tp.partition for tp in assigned),
        }
        print(json.dumps(event), flush=True)  # noqa: T201 -- the process's log


def build_message(sender: str, email: str, code: str) -> EmailMessage:
    """Build the mail from scratch, as nodemailer did for every message."""
    message = EmailMessage()
    message["From"] = f'"Reelmail" <{sender}>'
    message["To"] = email
    message["Subject"] = SUBJECT
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2])
    message.set_content(f"Ваш код: {code}")
    message.add_alternative(f"Ваш код: <b>{code}</b>", subtype="html")
    return message


async def send_one(value: bytes) -> None:
    """Parse, build, connect, send, disconnect: everything per message."""
    payload = json.loads(value)
    email, code = payload["email"], payload["code"]
    print(f"Received: {email}", flush=True)  # noqa: T201 -- the original logged each record
    sender = os.environ.get("MAIL_FROM_ADDRESS", "no-reply@reelmail.local")
    message = build_message(sender, email, code)
    await aiosmtplib.send(
        message,
        hostname=os.environ.get("SMTP_HOST", "127.0.0.1"),
        port=int(os.environ["SMTP_PORT"]),
        use_tls=os.environ.get("SMTP_SECURITY") == "tls",
        start_tls=os.environ.get("SMTP_SECURITY") == "starttls",
    )
    print(f"Message sent: {message['Message-ID']}", flush=True)  # noqa: T201


async def consume(stopping: asyncio.Event) -> None:
    """Subscribe with auto-commit and send each record before fetching the next."""
    topic = os.environ["MAIL_TOPIC"]
    consumer = AIOKafkaConsumer(
        bootstrap_servers=os.environ["KAFKA_BOOTSTRAP_SERVERS"],
        group_id=os.environ["MAILER_GROUP_ID"],
        enable_auto_commit=True,
        auto_offset_reset="earliest",
    )
    consumer.subscribe([topic], listener=_Announce())
    await consumer.start()
    try:
        while not stopping.is_set():
            batches = await consumer.getmany(timeout_ms=500, max_records=1)
            for record in (r for records in batches.values() for r in records):
                await _send_logged(record.value)
    finally:
        await consumer.stop()


async def _send_logged(value: bytes | None) -> None:
    """Log and drop any failure, as the original did (the message is lost)."""
    if not value:
        return
    try:
        await send_one(value)
    except (aiosmtplib.SMTPException, OSError, ValueError, KeyError) as exc:
        print(f"Error: {exc!r}", file=sys.stderr, flush=True)  # noqa: T201


async def _main() -> None:
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)
    await consume(stopping)


if __name__ == "__main__":
    asyncio.run(_main())
