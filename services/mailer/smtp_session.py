"""Mail transactions on an open connection: pipelined (RFC 2920), or aiosmtplib's ``sendmail``.

aiosmtplib opens each connection (TLS or STARTTLS, AUTH, EHLO). It then waits for each
reply before the next command, so a mail costs four round trips (MAIL, RCPT, DATA, the
message). Against a relay 20 ms away that caps one connection at about 12 mails/s;
B6 in ``make bench`` measures what this costs the whole system
(docs/performance.md). When the server offers PIPELINING, :class:`PipelinedSession`
takes the connection's transport over and sends the envelope in one write and the
message in a second: two round trips per mail. Everything else (a server without
PIPELINING, ``SMTP_PIPELINING=off``) goes through :class:`SerialSession`, which is
aiosmtplib's public ``sendmail`` unchanged.

:class:`PipelinedSession` is the one place that relies on aiosmtplib beyond its
documented calls: that ``SMTP.transport`` is the connection's asyncio transport and
that aiosmtplib reads nothing from it between commands. ``tests/unit/
test_aiosmtplib_surface.py`` pins the aiosmtplib version this was proven against
(``tests/integration/mailer/test_smtp_pipelining.py``, Postfix's ``smtp-sink``), so an
upgrade fails loudly until it is proven again. Replies and failures are what
``sendmail`` gives for one recipient, so callers classify both kinds the same.
"""

from __future__ import annotations

import asyncio
import re
from collections import deque
from typing import Final, Protocol, cast

import aiosmtplib
from aiosmtplib import SMTPResponse, SMTPStatus

_RECIPIENT_OK: Final = frozenset({SMTPStatus.completed, SMTPStatus.will_forward})
_MAX_LINE: Final = 8192
_SEPARATOR: Final = 3  # "250-" continues a reply, "250 " ends it
_LINE_ENDINGS: Final = re.compile(rb"\r\n|\n|\r")
_LEADING_PERIOD: Final = re.compile(rb"(?m)^\.")
_CONTROL_CHARACTERS: Final = re.compile(rb"[\x00-\x1f\x7f]")


class MailSession(Protocol):
    """What a pooled connection needs from the session on it."""

    @property
    def is_open(self) -> bool:
        """Whether the server may still answer on this connection."""
        ...

    async def send_mail(self, sender: str, recipient: str, message: bytes) -> str:
        """Send one mail; return the server's reply text to the end of the message."""
        ...

    async def noop(self) -> SMTPResponse:
        """Ask the server whether the connection still works."""
        ...

    async def quit(self) -> None:
        """Say QUIT if the connection is open, then close it in any case."""
        ...


def open_session(client: aiosmtplib.SMTP, timeout: float, *, pipelining: bool) -> MailSession:
    """Choose the session for a connection aiosmtplib has just opened and greeted."""
    if pipelining and client.supports_extension("pipelining"):
        return PipelinedSession(client, timeout)
    return SerialSession(client)


class SerialSession:
    """aiosmtplib's own ``sendmail``: one command per round trip."""

    def __init__(self, client: aiosmtplib.SMTP) -> None:
        """Use ``client``'s connection as it is."""
        self._client = client

    @property
    def is_open(self) -> bool:
        """Whether the server may still answer on this connection."""
        return self._client.is_connected

    async def send_mail(self, sender: str, recipient: str, message: bytes) -> str:
        """Send one mail with ``sendmail``; return the reply to the final dot."""
        _, reply = await self._client.sendmail(sender, [recipient], message)
        return reply

    async def noop(self) -> SMTPResponse:
        """NOOP through aiosmtplib."""
        return await self._client.noop()

    async def quit(self) -> None:
        """Say QUIT if the connection is open, then close it in any case."""
        try:
            if self._client.is_connected:
                await self._client.quit()
        except (aiosmtplib.SMTPException, OSError):
            pass
        finally:
            self._client.close()


class PipelinedSession(asyncio.Protocol):
    """The protocol of one connection after aiosmtplib's handshake, for PIPELINING servers."""

    def __init__(self, client: aiosmtplib.SMTP, timeout: float) -> None:
        """Take over ``client``'s transport; the client is only used to close it later."""
        if client.transport is None:
            msg = "Connection lost"
            raise aiosmtplib.SMTPServerDisconnected(msg)
        # uvloop's TLS transport is a Transport without subclassing asyncio's.
        transport = cast("asyncio.Transport", client.transport)
        self._client = client
        self._transport = transport
        self._timeout = timeout
        self._size = client.supports_extension("size")
        self._buffer = bytearray()
        self._replies: deque[SMTPResponse] = deque()
        self._arrived = asyncio.Event()
        self._lost: aiosmtplib.SMTPException | None = None
        transport.set_protocol(self)

    @property
    def is_open(self) -> bool:
        """Whether the server may still answer on this connection."""
        return self._lost is None and not self._transport.is_closing()

    def data_received(self, data: bytes) -> None:
        """Queue every complete reply in ``data``."""
        self._buffer.extend(data)
        try:
            while (reply := _next_reply(self._buffer)) is not None:
                self._replies.append(reply)
        except aiosmtplib.SMTPResponseException as exc:
            self._lost = exc
            self._transport.close()
        self._arrived.set()

    def eof_received(self) -> bool:
        """Fail pending and later exchanges as disconnected: the server hung up."""
        self._lose("Unexpected EOF received")
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        """Fail pending and later exchanges as disconnected."""
        del exc
        self._lose("Connection lost")

    async def send_mail(self, sender: str, recipient: str, message: bytes) -> str:
        """Send one mail in two writes; return the server's reply text to the final dot."""
        normalized = _LINE_ENDINGS.sub(b"\r\n", message)
        if not normalized.endswith(b"\r\n"):
            normalized += b"\r\n"
        size = b" size=%d" % len(normalized) if self._size else b""
        envelope = [_command(b"MAIL FROM:", sender, size), _command(b"RCPT TO:", recipient)]
        replies = await self._exchange(b"".join([*envelope, b"DATA\r\n"]), 3)
        try:
            _check_envelope(replies, sender, recipient)
        except (aiosmtplib.SMTPResponseException, aiosmtplib.SMTPRecipientsRefused):
            await self._after_refusal(replies)
            raise
        payload = _LEADING_PERIOD.sub(b"..", normalized) + b".\r\n"
        [final] = await self._exchange(payload, 1)
        if final.code != SMTPStatus.completed:
            await self._reset()
            raise aiosmtplib.SMTPDataError(final.code, final.message)
        return final.message

    async def noop(self) -> SMTPResponse:
        """NOOP on the taken-over connection."""
        [reply] = await self._exchange(b"NOOP\r\n", 1)
        return reply

    async def quit(self) -> None:
        """Say QUIT if the connection is open, then close it in any case."""
        try:
            if self.is_open:
                await self._exchange(b"QUIT\r\n", 1)
        except (aiosmtplib.SMTPException, OSError):
            pass
        finally:
            self._client.close()

    async def _after_refusal(self, replies: list[SMTPResponse]) -> None:
        """Abandon the refused envelope; a server that still said 354 to DATA is hung up on."""
        if replies[-1].code == SMTPStatus.start_input:
            self._transport.close()
            return
        await self._reset()

    async def _reset(self) -> None:
        try:
            await self._exchange(b"RSET\r\n", 1)
        except (ConnectionError, aiosmtplib.SMTPResponseException):
            return

    async def _exchange(self, data: bytes, count: int) -> list[SMTPResponse]:
        """Write ``data`` and wait for ``count`` replies, within the timeout for each."""
        if self._lost is not None:
            raise self._lost
        self._transport.write(data)
        replies: list[SMTPResponse] = []
        while len(replies) < count:
            replies.append(await self._next())
        return replies

    async def _next(self) -> SMTPResponse:
        while not self._replies:
            if self._lost is not None:
                raise self._lost
            self._arrived.clear()
            try:
                async with asyncio.timeout(self._timeout):
                    await self._arrived.wait()
            except TimeoutError:
                self._transport.close()
                msg = "Timed out waiting for server response"
                raise aiosmtplib.SMTPReadTimeoutError(msg) from None
        return self._replies.popleft()

    def _lose(self, reason: str) -> None:
        if self._lost is None:
            self._lost = aiosmtplib.SMTPServerDisconnected(reason)
        self._arrived.set()


def _command(verb: bytes, address: str, options: bytes = b"") -> bytes:
    """``MAIL FROM:<a>`` or ``RCPT TO:<a>``; addresses were validated as plain ASCII."""
    encoded = address.encode("ascii")
    if _CONTROL_CHARACTERS.search(encoded):
        msg = "Command arg contains a prohibited control character"
        raise ValueError(msg)
    return verb + b"<" + encoded + b">" + options + b"\r\n"


def _check_envelope(replies: list[SMTPResponse], sender: str, recipient: str) -> None:
    """Raise what aiosmtplib raises for the first refused step of the envelope."""
    mail, rcpt, data = replies
    if mail.code != SMTPStatus.completed:
        raise aiosmtplib.SMTPSenderRefused(mail.code, mail.message, sender)
    if rcpt.code not in _RECIPIENT_OK:
        refused = aiosmtplib.SMTPRecipientRefused(rcpt.code, rcpt.message, recipient)
        raise aiosmtplib.SMTPRecipientsRefused([refused])
    if data.code != SMTPStatus.start_input:
        raise aiosmtplib.SMTPDataError(data.code, data.message)


def _next_reply(buffer: bytearray) -> SMTPResponse | None:
    """Cut one complete (possibly multi-line) reply off the front of ``buffer``."""
    offset, lines, code = 0, [], -1
    while (end := buffer.find(b"\n", offset)) != -1:
        line = bytes(buffer[offset : end + 1])
        if len(line) > _MAX_LINE:
            raise aiosmtplib.SMTPResponseException(
                SMTPStatus.invalid_response.value, "Response too long"
            )
        code = _reply_code(line)
        offset = end + 1
        lines.append(line[4:].strip(b" \t\r\n"))
        if line[_SEPARATOR : _SEPARATOR + 1] != b"-":
            del buffer[:offset]
            return SMTPResponse(code, b"\n".join(lines).decode("utf-8", "surrogateescape"))
    return None


def _reply_code(line: bytes) -> int:
    try:
        return int(line[:_SEPARATOR])
    except ValueError:
        text = line.decode("utf-8", errors="ignore")
        raise aiosmtplib.SMTPResponseException(
            SMTPStatus.invalid_response.value, f"Malformed SMTP response line: {text}"
        ) from None
