"""Issue 2's acceptance: a code requested over HTTP arrives as one e-mail via real Kafka."""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
from typing import TYPE_CHECKING

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from received_mail import code_in, settle_and_count, wait_for_mails
from running_stack import RunningStack, unique_address

from mailcontract import DEFAULT_TOPIC
from movies.auth.otp import code_matches

if TYPE_CHECKING:
    from devstack import KafkaBroker
    from devstack.smtp_sink import MailSink

pytestmark = pytest.mark.integration


def _stored_hash(stack: RunningStack, address: str) -> str:
    with sqlite3.connect(stack.database) as db:
        rows = db.execute("SELECT code_hash FROM otp_codes WHERE email = ?", (address,)).fetchall()
    assert len(rows) == 1
    return str(rows[0][0])


def _assert_not_logged(stack: RunningStack, code: str) -> None:
    logs = stack.logs()
    assert logs, "the services wrote no logs at all"
    assert not re.search(rf"(?<!\d){code}(?!\d)", logs), "a one-time code reached a log line"
    for line in logs.splitlines():
        json.loads(line)


def test_requested_code_arrives_once_and_matches_the_stored_hash(
    stack: RunningStack, smtp_sink: MailSink
) -> None:
    address = unique_address("signin")
    reply = httpx.post(f"{stack.api}/auth/codes", json={"email": address.upper()}, timeout=10)
    assert reply.status_code == 202
    assert reply.json() == {"status": "accepted"}

    [mail] = wait_for_mails(smtp_sink, address)
    code = code_in(mail)
    assert code_matches(stack.hmac_secret, address, "login", code, _stored_hash(stack, address))
    assert mail["Subject"] == "Ваш одноразовый код"
    assert settle_and_count(smtp_sink, address) == 1
    _assert_not_logged(stack, code)


def test_legacy_message_from_the_original_producer_is_delivered(
    stack: RunningStack, kafka: KafkaBroker, smtp_sink: MailSink
) -> None:
    address = unique_address("legacy")

    async def publish() -> None:
        producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap_servers)
        await producer.start()
        try:
            payload = json.dumps({"email": address, "code": "730519"})
            await producer.send_and_wait(DEFAULT_TOPIC, value=payload.encode())
        finally:
            await producer.stop()

    asyncio.run(publish())
    [mail] = wait_for_mails(smtp_sink, address)
    assert code_in(mail) == "730519"
    assert settle_and_count(smtp_sink, address) == 1
    _assert_not_logged(stack, "730519")


def test_invalid_address_is_refused_with_400(stack: RunningStack) -> None:
    reply = httpx.post(
        f"{stack.api}/auth/codes",
        json={"email": "victim@example.com\r\nBcc: all@example.com"},
        timeout=10,
    )
    assert reply.status_code == 400
    assert "email" in reply.text


def test_health(stack: RunningStack) -> None:
    assert httpx.get(f"{stack.api}/healthz", timeout=5).json() == {"status": "ok"}
