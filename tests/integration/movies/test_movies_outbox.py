"""Issue 3: the transactional outbox keeps sign-in working while Kafka is down.

A separate broker is stopped here, so the session broker every other test uses is
never disturbed.
"""

from __future__ import annotations

import asyncio
import re
import time
from typing import TYPE_CHECKING

import pytest
from movies_stack import MoviesStack, start_stack
from received_mail import code_in, wait_for_mails
from running_stack import unique_address

from conftest import database_url
from devstack import KafkaBroker

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterator

    from devstack.smtp_sink import MailSink

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def outage_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaBroker]:
    broker = KafkaBroker(tmp_path_factory.mktemp("outage-kafka"), heap_mb=384)
    if broker.is_external:
        pytest.skip("KAFKA_BOOTSTRAP_SERVERS names a broker this test must not stop")
    broker.start()
    yield broker
    broker.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def outage_stack(
    request: pytest.FixtureRequest,
    outage_broker: KafkaBroker,
    smtp_sink: MailSink,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[MoviesStack]:
    if not outage_broker.is_running():
        outage_broker.start()
    backend: str = request.param
    stack = start_stack(
        backend=backend,
        database_url=database_url(backend, request, tmp_path_factory),
        broker=outage_broker,
        sink=smtp_sink,
        workdir=tmp_path_factory.mktemp(f"outage-{backend}"),
    )
    yield stack
    stack.stop()
    if request.session.testsfailed:
        print(f"\n--- movies ({backend}, outage) log ---\n{stack.movies.log_tail(80)}")


async def _pending(stack: MoviesStack) -> int:
    [(count,)] = await stack.sql("SELECT count(*) FROM outbox_messages WHERE sent_at IS NULL")
    return int(count)


async def _gauge(stack: MoviesStack, name: str) -> float:
    async with stack.client() as client:
        text = (await client.get("/metrics")).text
    match = re.search(rf"^{name} ([0-9.e+-]+)$", text, re.MULTILINE)
    assert match, f"{name} not exported"
    return float(match.group(1))


async def _eventually(probe: Callable[[], Awaitable[bool]], within: float = 30.0) -> None:
    deadline = time.monotonic() + within
    while not await probe():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.25)


async def test_codes_are_accepted_while_kafka_is_down_and_mailed_after(
    outage_stack: MoviesStack, outage_broker: KafkaBroker
) -> None:
    async with outage_stack.client() as client:
        assert (await client.get("/readyz")).status_code == 200
    address = unique_address("outage")
    await asyncio.to_thread(outage_broker.stop)

    async with outage_stack.client() as client:
        started = time.monotonic()
        reply = await client.post("/auth/codes", json={"email": address})
        assert reply.status_code == 202
        assert time.monotonic() - started < 2.0
        not_ready = await client.get("/readyz")
    assert not_ready.status_code == 503
    assert not_ready.json()["checks"] == {"database": "ok", "kafka": "unreachable"}
    assert await _pending(outage_stack) == 1

    async def gauge_shows_backlog() -> bool:
        return await _gauge(outage_stack, "movies_outbox_pending_messages") == 1

    await _eventually(gauge_shows_backlog)
    await asyncio.to_thread(outage_broker.start)
    [mail] = await asyncio.to_thread(wait_for_mails, outage_stack.sink, address, 1, 90.0)
    assert len(code_in(mail)) == 6

    async def drained() -> bool:
        gauge = await _gauge(outage_stack, "movies_outbox_pending_messages")
        return await _pending(outage_stack) == 0 and gauge == 0

    await _eventually(drained)
    [(payload,)] = await outage_stack.sql("SELECT payload FROM outbox_messages")
    assert payload is None, "a sent row still holds the code"
    async with outage_stack.client() as client:
        assert (await client.get("/readyz")).status_code == 200
