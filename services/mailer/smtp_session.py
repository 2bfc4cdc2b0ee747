"""A mail transaction in two round trips: MAIL, RCPT and DATA pipelined (RFC 2920).

aiosmtplib opens each connection (TLS or STARTTLS, AUTH, EHLO); then this protocol
takes the transport over and carries every later command. aiosmtplib waits for each
reply before the next command, so a mail cost four round trips and four TLS records
each way, and its protocol cannot hold more than one reply in flight. Here the
envelope goes out in one write when the server offers PIPELINING (one command at a
time otherwise), and the message in a second. Replies and failures are what
aiosmtplib's ``sendmail`` gives for one recipient, so callers classify them the same.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import cast

import aiosmtplib
from aiosmtplib import SMTPResponse, SMTPStatus
from aiosmtplib.protocol import (
    COMMAND_INJECTION_REGEX,
    PERIOD_REGEX,
    normalize_message_line_endings,
)

_RECIPIENT_OK = frozenset({SMTPStatus.completed, SMTPStatus.will_forward})
_MAX_LINE = 8192
_SEPARATOR = 3  # "250-" continues a reply, "250 " ends it


class SmtpSession(asyncio.Protocol):
    """The protocol of one connection after aiosmtplib's handshake."""

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
        self._pipelining = client.supports_extension("pipelining")
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
        """Send one mail; return the server's reply text to the final dot."""
        normalized = normalize_message_line_endings(message)
        size = b" size=%d" % len(normalized) if self._size else b""
        payload = PERIOD_REGEX.sub(b"..", normalized) + b".\r\n"
        envelope = [_command(b"MAIL FROM:", sender, size), _command(b"RCPT TO:", recipient)]
        replies = await self._envelope([*envelope, b"DATA\r\n"])
        try:
            _check_envelope(replies, sender, recipient)
        except (aiosmtplib.SMTPResponseException, aiosmtplib.SMTPRecipientsRefused):
            await self._after_refusal(replies)
            raise
        [final] = await self._exchange(payload, 1)
        if final.code != SMTPStatus.completed:
            await self._reset()
            raise aiosmtplib.SMTPDataError(final.code, final.message)
        return final.message

    async def command(self, line: bytes) -> SMTPResponse:
        """Send one command (NOOP, QUIT) and return its reply."""
        [reply] = await self._exchange(line + b"\r\n", 1)
        return reply

    async def quit(self) -> None:
        """Say QUIT if the connection is open, then close it in any case."""
        try:
            if self.is_open:
                await self.command(b"QUIT")
        except (aiosmtplib.SMTPException, OSError):
            pass
        finally:
            self._client.close()

    async def _envelope(self, commands: list[bytes]) -> list[SMTPResponse]:
        """All three envelope replies when pipelining; else stop at the first refusal."""
        if self._pipelining:
            return await self._exchange(b"".join(commands), len(commands))
        replies: list[SMTPResponse] = []
        for line, accepted in zip(commands, _ENVELOPE_OK, strict=True):
            replies += await self._exchange(line, 1)
            if replies[-1].code not in accepted:
                break
        return replies

    async def _after_refusal(self, replies: list[SMTPResponse]) -> None:
        """Abandon the refused envelope; a server that still said 354 to DATA is hung up on."""
        if len(replies) == len(_ENVELOPE_OK) and replies[-1].code == SMTPStatus.start_input:
            self._transport.close()
            return
        await self._reset()

    async def _reset(self) -> None:
        try:
            await self.command(b"RSET")
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


_ENVELOPE_OK = (frozenset({SMTPStatus.completed}), _RECIPIENT_OK, frozenset({354}))


def _command(verb: bytes, address: str, options: bytes = b"") -> bytes:
    """``MAIL FROM:<a>`` or ``RCPT TO:<a>``; addresses were validated as plain ASCII."""
    encoded = address.encode("ascii")
    if COMMAND_INJECTION_REGEX.search(encoded):
        msg = "Command arg contains a prohibited control character"
        raise ValueError(msg)
    return verb + b"<" + encoded + b">" + options + b"\r\n"


def _check_envelope(replies: list[SMTPResponse], sender: str, recipient: str) -> None:
    """Raise what aiosmtplib raises for the first refused step of the envelope."""
    mail = replies[0]
    if mail.code != SMTPStatus.completed:
        raise aiosmtplib.SMTPSenderRefused(mail.code, mail.message, sender)
    rcpt = replies[1]
    if rcpt.code not in _RECIPIENT_OK:
        refused = aiosmtplib.SMTPRecipientRefused(rcpt.code, rcpt.message, recipient)
        raise aiosmtplib.SMTPRecipientsRefused([refused])
    data = replies[2]
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
