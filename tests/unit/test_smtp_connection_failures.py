"""How a failed connection set-up is classified, against a scripted relay.

Every failure before the first mail (connect, TLS, greeting, EHLO, AUTH) is the relay's
state: a RelayConnectionError with its reason, never a verdict on the mail.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest

from devstack.ports import free_port
from mailer.relay_health import ConnectionFailure, RelayHealth
from mailer.smtp_transport import RelayConnectionError, RelayNotTriedError, SmtpPool
from relay_settings import smtp_settings

if TYPE_CHECKING:
    from collections.abc import AsyncIterator


@dataclass
class Relay:
    """Greets, answers EHLO and AUTH as told; counts connections."""

    greeting: bytes | None = b"220 relay ESMTP"
    ehlo: bytes = b"250-relay\r\n250 AUTH PLAIN LOGIN"
    auth: bytes = b"235 2.7.0 ok"
    connections: int = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        if self.greeting is None:  # a relay that accepts the socket and says nothing
            await reader.read()
            return
        writer.write(self.greeting + b"\r\n")
        while line := await reader.readline():
            verb = line[:4].upper()
            if verb == b"DATA":
                writer.write(b"354 go ahead\r\n")
                await reader.readuntil(b"\r\n.\r\n")
            replies = {b"EHLO": self.ehlo, b"HELO": self.ehlo, b"AUTH": self.auth}
            writer.write(replies.get(verb, b"221 bye" if verb == b"QUIT" else b"250 ok") + b"\r\n")
        writer.close()


@pytest.fixture
async def relay() -> AsyncIterator[tuple[Relay, int]]:
    script = Relay()
    server = await asyncio.start_server(script.handle, "127.0.0.1", 0)
    yield script, server.sockets[0].getsockname()[1]
    server.close()


def _pool(port: int, **changes: object) -> SmtpPool:
    settings = smtp_settings(port=port, username="mailer", password="a-password", **changes)
    return SmtpPool(settings, RelayHealth(lambda _failures: 60.0))


async def _failure(pool: SmtpPool) -> RelayConnectionError:
    with pytest.raises(RelayConnectionError) as raised:
        await pool.send("bob@example.com", b"Subject: hi\r\n\r\nbody\r\n")
    assert pool.health.failure is raised.value.failure
    return raised.value


@pytest.mark.parametrize(
    ("change", "failure"),
    [
        (
            {"auth": b"535 5.7.8 Authentication credentials invalid"},
            ConnectionFailure.AUTH_REJECTED,
        ),
        ({"auth": b"534 5.7.9 mechanism too weak"}, ConnectionFailure.AUTH_REJECTED),
        ({"auth": b"454 4.7.0 temporary authentication failure"}, ConnectionFailure.UNREACHABLE),
        ({"ehlo": b"250 relay"}, ConnectionFailure.AUTH_REJECTED),  # no AUTH offered at all
        ({"greeting": b"554 5.7.1 no service for you"}, ConnectionFailure.GREETING_REFUSED),
        ({"greeting": b"421 4.3.2 too busy"}, ConnectionFailure.UNREACHABLE),
        ({"ehlo": b"550 5.7.1 not you"}, ConnectionFailure.GREETING_REFUSED),
        ({"greeting": None}, ConnectionFailure.TIMEOUT),
    ],
    ids=[
        "auth-535",
        "auth-534",
        "auth-454",
        "auth-not-offered",
        "greeting-554",
        "greeting-421",
        "ehlo-550",
        "silent-relay",
    ],
)
async def test_set_up_refusals_are_the_relays_state(
    relay: tuple[Relay, int], change: dict[str, bytes | None], failure: ConnectionFailure
) -> None:
    script, port = relay
    for name, value in change.items():
        setattr(script, name, value)
    error = await _failure(_pool(port))
    assert error.failure is failure


async def test_a_refused_connection_is_unreachable() -> None:
    error = await _failure(_pool(free_port()))
    assert error.failure is ConnectionFailure.UNREACHABLE


async def test_starttls_not_offered_is_a_tls_failure(relay: tuple[Relay, int]) -> None:
    _, port = relay
    error = await _failure(_pool(port, security="starttls"))
    assert error.failure is ConnectionFailure.TLS_FAILED


async def test_tls_to_a_plain_relay_is_a_tls_failure(relay: tuple[Relay, int]) -> None:
    _, port = relay
    error = await _failure(_pool(port, security="tls"))
    assert error.failure is ConnectionFailure.TLS_FAILED


async def test_a_failing_relay_is_not_tried_again_before_its_turn(
    relay: tuple[Relay, int],
) -> None:
    script, port = relay
    script.auth = b"535 5.7.8 Authentication credentials invalid"
    pool = _pool(port)
    await _failure(pool)
    assert script.connections == 1
    with pytest.raises(RelayNotTriedError):
        await pool.send("bob@example.com", b"Subject: hi\r\n\r\nbody\r\n")
    assert script.connections == 1, "no second AUTH while the backoff runs"


async def test_readiness_probes_report_and_recover(relay: tuple[Relay, int]) -> None:
    script, port = relay
    script.auth = b"535 5.7.8 Authentication credentials invalid"
    settings = smtp_settings(port=port, username="mailer", password="a-password")
    pool = SmtpPool(settings, RelayHealth(lambda _: 0.0))
    assert await pool.check() is ConnectionFailure.AUTH_REJECTED
    script.auth = b"235 2.7.0 ok"
    assert await pool.check() is None
    reply = await pool.send("bob@example.com", b"Subject: hi\r\n\r\nbody\r\n")
    assert reply.code == 250
    await pool.close()
