"""The pipelined session against a real PIPELINING server: Postfix's ``smtp-sink``.

A recording relay sits between the pool and the sink and keeps every chunk the client
wrote, so the tests see what went over the wire: the envelope in one write when the
server offers PIPELINING, one command per write when it does not (``smtp-sink -p``).
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from bench.smtp_servers import CountingSink
from mailer.relay_health import RelayHealth
from mailer.smtp_transport import SmtpPool, TransientSendError
from relay_settings import smtp_settings

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[3]
MESSAGE = b"From: a@reelmail.example\r\nSubject: hi\r\n\r\n.a line with a dot\r\nbye\r\n"


@dataclass
class RecordingRelay:
    """Forwards one loopback port to another and keeps what the client sent, chunk by chunk."""

    upstream: int
    chunks: list[bytes] = field(default_factory=list)
    connections: int = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream)
        await asyncio.gather(
            self._pump(reader, up_writer, record=True), self._pump(up_reader, writer)
        )

    async def _pump(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, record: bool = False
    ) -> None:
        with contextlib.suppress(ConnectionError):
            while chunk := await reader.read(65536):
                if record:
                    self.chunks.append(chunk)
                writer.write(chunk)
                await writer.drain()
        writer.close()


@pytest.fixture(scope="module", autouse=True)
def _smtp_sink_installed() -> None:
    """smtp-sink comes from Debian's postfix; the script returns at once when it is there."""
    subprocess.run([REPO / "scripts" / "install-bench-tools.sh"], check=True)


@contextlib.contextmanager
def _sink(mails: int, *options: str) -> Iterator[CountingSink]:
    """``smtp-sink`` expecting ``mails`` (see :meth:`CountingSink.wait`)."""
    sink = CountingSink(options)
    sink.start(target=mails)
    try:
        yield sink
    finally:
        sink.stop()


@contextlib.asynccontextmanager
async def _pool_through_relay(sink: CountingSink) -> AsyncIterator[tuple[SmtpPool, RecordingRelay]]:
    relay = RecordingRelay(sink.port)
    server = await asyncio.start_server(relay.handle, "127.0.0.1", 0)
    settings = smtp_settings(port=server.sockets[0].getsockname()[1], timeout_seconds=5.0)
    pool = SmtpPool(settings, RelayHealth(lambda _: 0.01))
    try:
        yield pool, relay
    finally:
        await pool.close()
        server.close()


async def test_the_envelope_goes_out_in_one_write_to_a_pipelining_server() -> None:
    with _sink(3) as sink:
        async with _pool_through_relay(sink) as (pool, relay):
            replies = [await pool.send(f"r{n}@example.com", MESSAGE) for n in range(3)]
        await asyncio.to_thread(sink.wait, 10)

    assert [reply.code for reply in replies] == [250, 250, 250]
    envelopes = [chunk for chunk in relay.chunks if chunk.startswith(b"MAIL FROM:")]
    assert envelopes == [
        f"MAIL FROM:<no-reply@reelmail.example>\r\nRCPT TO:<r{n}@example.com>\r\nDATA\r\n".encode()
        for n in range(3)
    ]
    assert relay.connections == 1
    assert any(chunk.endswith(b"..a line with a dot\r\nbye\r\n.\r\n") for chunk in relay.chunks)


async def test_a_server_without_pipelining_gets_one_command_at_a_time() -> None:
    with _sink(2, "-p") as sink:
        async with _pool_through_relay(sink) as (pool, relay):
            replies = [await pool.send(f"r{n}@example.com", MESSAGE) for n in range(2)]
        await asyncio.to_thread(sink.wait, 10)

    assert [reply.code for reply in replies] == [250, 250]
    commands = [chunk for chunk in relay.chunks if chunk[:4] in {b"MAIL", b"RCPT", b"DATA"}]
    assert [chunk[:4] for chunk in commands] == [b"MAIL", b"RCPT", b"DATA"] * 2
    assert all(chunk.count(b"\r\n") == 1 for chunk in commands)


async def test_a_server_that_hangs_up_after_the_message_is_a_transient_failure() -> None:
    with _sink(1, "-q", ".") as sink:
        async with _pool_through_relay(sink) as (pool, relay):
            with pytest.raises(TransientSendError, match="SMTPServerDisconnected"):
                await pool.send("r@example.com", MESSAGE)

    assert relay.connections == 2  # one reconnect, then the failure is the caller's to retry
