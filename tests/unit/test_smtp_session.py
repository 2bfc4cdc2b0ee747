"""The pipelined SMTP session against a scripted server, including every refusal path.

The integration tests' sink (aiosmtpd) does not offer PIPELINING, so the pipelined
envelope is proven here, against a server that offers it (or not) and answers as told.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pytest

from mailer.relay_health import RelayHealth
from mailer.smtp_transport import PermanentSendError, SmtpPool, TransientSendError
from relay_settings import smtp_settings

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

MESSAGE = b"Subject: hi\r\n\r\n.starts with a dot\r\nbody\r\n"


@dataclass
class ScriptedServer:
    """Answers RCPT by recipient; records every command line it read."""

    pipelining: bool = True
    rcpt_replies: dict[str, bytes] = field(default_factory=dict)
    data_despite_refusal: bool = False
    lines: list[bytes] = field(default_factory=list)
    bodies: list[bytes] = field(default_factory=list)
    connections: int = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        writer.write(b"220 scripted ESMTP\r\n")
        accepted = False
        while line := await reader.readline():
            self.lines.append(line.rstrip(b"\r\n"))
            verb = line[:4].upper()
            if verb == b"EHLO":
                extensions = b"250-PIPELINING\r\n" if self.pipelining else b""
                writer.write(b"250-scripted\r\n" + extensions + b"250 SIZE 100000\r\n")
            elif verb == b"RCPT":
                address = line.split(b"<")[1].split(b">")[0].decode()
                reply = self.rcpt_replies.get(address, b"250 ok")
                accepted = reply.startswith(b"25")
                writer.write(reply + b"\r\n")
            elif verb == b"DATA":
                if not (accepted or self.data_despite_refusal):
                    writer.write(b"554 no valid recipients\r\n")
                    continue
                writer.write(b"354 go ahead\r\n")
                self.bodies.append(await reader.readuntil(b"\r\n.\r\n"))
                writer.write(b"250-queued\r\n250 as 42\r\n")
            elif verb == b"QUIT":
                writer.write(b"221 bye\r\n")
                break
            else:  # MAIL, RSET, NOOP
                writer.write(b"250 ok\r\n")
        writer.close()


@pytest.fixture
async def server() -> AsyncIterator[tuple[ScriptedServer, int]]:
    script = ScriptedServer()
    listening = await asyncio.start_server(script.handle, "127.0.0.1", 0)
    port = listening.sockets[0].getsockname()[1]
    yield script, port
    listening.close()


def _pool(port: int, size: int = 1) -> SmtpPool:
    settings = smtp_settings(port=port, timeout_seconds=5.0, pool_size=size)
    return SmtpPool(settings, RelayHealth(lambda _: 0.01))


async def test_a_mail_is_pipelined_sized_and_dot_stuffed(server) -> None:
    script, port = server
    pool = _pool(port)
    reply = await pool.send("bob@example.com", MESSAGE)
    await pool.close()
    assert reply.code == 250
    assert reply.message == "queued\nas 42"
    assert script.lines[1:4] == [
        f"MAIL FROM:<no-reply@reelmail.example> size={len(MESSAGE)}".encode(),
        b"RCPT TO:<bob@example.com>",
        b"DATA",
    ]
    assert script.bodies == [b"Subject: hi\r\n\r\n..starts with a dot\r\nbody\r\n.\r\n"]


@pytest.mark.parametrize("pipelining", [True, False])
@pytest.mark.parametrize(
    ("reply", "error"),
    [(b"550 5.1.1 no such user", PermanentSendError), (b"451 4.3.0 later", TransientSendError)],
)
async def test_a_refused_recipient_is_classified_and_the_connection_reused(
    server, pipelining, reply: bytes, error: type[Exception]
) -> None:
    script, port = server
    script.pipelining = pipelining
    script.rcpt_replies["refused@example.com"] = reply
    pool = _pool(port)
    with pytest.raises(error) as refused:
        await pool.send("refused@example.com", MESSAGE)
    assert refused.value.code == int(reply[:3])  # type: ignore[attr-defined]
    assert (await pool.send("fine@example.com", MESSAGE)).code == 250
    await pool.close()
    assert b"RSET" in script.lines
    assert script.connections == 1
    assert len(script.bodies) == 1
    if not pipelining:
        assert script.lines.count(b"DATA") == 1, "without PIPELINING, DATA follows a good RCPT only"


async def test_a_server_that_accepts_data_after_a_refusal_is_hung_up_on(server) -> None:
    script, port = server
    script.data_despite_refusal = True
    script.rcpt_replies["refused@example.com"] = b"550 5.1.1 no such user"
    pool = _pool(port)
    with pytest.raises(PermanentSendError):
        await pool.send("refused@example.com", MESSAGE)
    assert (await pool.send("fine@example.com", MESSAGE)).code == 250
    await pool.close()
    assert script.connections == 2
    assert script.bodies == [b"Subject: hi\r\n\r\n..starts with a dot\r\nbody\r\n.\r\n"]


async def test_the_pool_opens_only_the_connections_concurrent_sends_need(server) -> None:
    script, port = server
    pool = _pool(port, size=8)
    for n in range(5):
        await pool.send(f"one-at-a-time-{n}@example.com", MESSAGE)
    assert script.connections == 1, "a connection used last is reused first"
    await asyncio.gather(*(pool.send(f"together-{n}@example.com", MESSAGE) for n in range(3)))
    await pool.close()
    assert 1 < script.connections <= 3
    assert len(script.bodies) == 8
