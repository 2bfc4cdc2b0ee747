"""What ``mailer.smtp_session.PipelinedSession`` relies on in aiosmtplib, pinned.

The pipelined session takes over the transport of a connection aiosmtplib opened. That
holds only while ``SMTP.transport`` is the live transport its protocol reads from, and
aiosmtplib reads nothing between commands. Both were proven against Postfix's
``smtp-sink`` (``tests/integration/mailer/test_smtp_pipelining.py``) with the version
below: an upgrade fails here until someone proves it again and moves the pin.
"""

from __future__ import annotations

import asyncio
import inspect
from importlib.metadata import version

import aiosmtplib

PROVEN_WITH = "5.1.3"


def test_aiosmtplib_is_the_version_the_pipelined_session_was_proven_with() -> None:
    installed = version("aiosmtplib")
    assert installed == PROVEN_WITH, (
        f"aiosmtplib {installed} is installed; mailer.smtp_session.PipelinedSession takes "
        f"over its transport and was proven with {PROVEN_WITH}. Run "
        "tests/integration/mailer/test_smtp_pipelining.py, check that SMTP.transport is "
        "still the transport its protocol reads, then set PROVEN_WITH."
    )


def test_the_public_calls_the_sessions_use_are_there() -> None:
    parameters = inspect.signature(aiosmtplib.SMTP.sendmail).parameters
    assert list(parameters)[1:4] == ["sender", "recipients", "message"]
    for name in ("connect", "ehlo", "helo", "login", "noop", "quit", "close"):
        assert inspect.iscoroutinefunction(getattr(aiosmtplib.SMTP, name)) or name == "close"
    assert callable(aiosmtplib.SMTP.supports_extension)
    assert isinstance(aiosmtplib.SMTP.is_connected, property)


async def test_the_transport_is_the_one_its_protocol_reads() -> None:
    async def greet(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 ready\r\n")
        await writer.drain()

    server = await asyncio.start_server(greet, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=False, timeout=5)
    try:
        await client.connect()
        assert isinstance(client.transport, asyncio.Transport)
        assert client.transport.get_protocol() is client.protocol
    finally:
        client.close()
        server.close()
