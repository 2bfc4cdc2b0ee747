"""Sending rendered mails over a pool of persistent SMTP connections, failures classified.

Every failure is either :class:`TransientSendError` (retry later: connection trouble,
timeouts, 4xx replies) or :class:`PermanentSendError` (5xx: dead-letter it). A
connection that idled longer than the check interval is probed with NOOP before reuse,
and one that the server dropped (or closed with 421) is reopened on the next send.

aiosmtplib opens each connection (TLS or STARTTLS, AUTH, EHLO); the mails themselves
go through :class:`~mailer.smtp_session.SmtpSession`, pipelined. aiosmtplib's
``sendmail`` also re-parsed both addresses with the stdlib's RFC 822 parser on every
mail (a sixth of the mailer's CPU in the profile); both were validated long before,
the sender at start-up and the recipient when its record was decoded.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import aiosmtplib
import structlog
from aiosmtplib import SMTPStatus

from mailer.settings import SmtpSettings
from mailer.smtp_session import SmtpSession

log = structlog.get_logger(__name__)
_PERMANENT_FLOOR = 500
_ACCEPTED = 250  # aiosmtplib raises SMTPDataError for any other reply to DATA
_RECENT_SUCCESS_SECONDS = 30.0


class SendError(Exception):
    """A mail was not accepted; ``code`` is the SMTP reply code when there was one."""

    def __init__(self, message: str, code: int | None = None) -> None:
        """Keep the reply code for metrics and dead-letter headers."""
        super().__init__(message)
        self.code = code


class TransientSendError(SendError):
    """Worth retrying: the relay may accept the same mail later."""


class PermanentSendError(SendError):
    """Retrying cannot help: the relay refused this mail for good."""


@dataclass(frozen=True, slots=True)
class SmtpReply:
    """The relay's answer to an accepted mail."""

    code: int
    message: str


class SmtpPool:
    """``pool_size`` connections shared by every concurrent send."""

    def __init__(self, settings: SmtpSettings) -> None:
        """Create the connections (opened lazily, on first use)."""
        self.settings = settings
        self._idle: asyncio.Queue[SmtpConnection] = asyncio.Queue()
        for _ in range(settings.pool_size):
            self._idle.put_nowait(SmtpConnection(settings))
        self._prober = SmtpConnection(settings)
        self._last_success = float("-inf")

    async def send(self, recipient: str, message: bytes) -> SmtpReply:
        """Send over the next free connection; waits while all are busy."""
        connection = await self._idle.get()
        try:
            reply = await connection.send(recipient, message)
        finally:
            self._idle.put_nowait(connection)
        self._last_success = time.monotonic()
        return reply

    async def reachable(self) -> bool:
        """Tell whether the relay answers: a recent accepted mail, or a probe of our own.

        Readiness must not queue behind busy senders, so it never borrows a pool connection.
        """
        if time.monotonic() - self._last_success < _RECENT_SUCCESS_SECONDS:
            return True
        try:
            await self._prober.probe()
        except TransientSendError:
            return False
        return True

    async def close(self) -> None:
        """QUIT every connection that is open and idle (at shutdown, all are idle)."""
        await self._prober.close()
        while not self._idle.empty():
            await self._idle.get_nowait().close()


class SmtpConnection:
    """One lazily opened connection that reconnects after it drops."""

    def __init__(self, settings: SmtpSettings) -> None:
        """Remember where to connect; nothing is opened until the first send."""
        self.settings = settings
        self._session: SmtpSession | None = None
        self._last_used = 0.0

    async def send(self, recipient: str, message: bytes) -> SmtpReply:
        """Send one mail, reconnecting once if the kept connection turned out dead."""
        try:
            return await self._send_once(recipient, message)
        except aiosmtplib.SMTPServerDisconnected:
            await self.close()
            try:
                return await self._send_once(recipient, message)
            except aiosmtplib.SMTPServerDisconnected as exc:
                # Dropped again on a fresh connection: a relay problem, retried later like
                # any other, instead of an exception that would leave the record unfinished.
                await self.close()
                reason = f"SMTPServerDisconnected: {exc}"
                raise TransientSendError(reason) from None
        finally:
            self._last_used = time.monotonic()

    async def probe(self) -> None:
        """Make sure this connection is open and answering."""
        try:
            await self._connected()
        except (aiosmtplib.SMTPException, OSError) as exc:
            await self.close()
            reason = f"{type(exc).__name__}: {exc}"
            raise TransientSendError(reason) from None

    async def close(self) -> None:
        """Say QUIT if we can, and forget the connection."""
        session, self._session = self._session, None
        if session is not None:
            await session.quit()

    async def _send_once(self, recipient: str, message: bytes) -> SmtpReply:
        try:
            session = await self._connected()
            reply = await session.send_mail(self.settings.from_address, recipient, message)
        except aiosmtplib.SMTPServerDisconnected:
            raise
        except aiosmtplib.SMTPRecipientsRefused as exc:
            refusal = exc.recipients[0]
            raise _classified(refusal.code, refusal.message) from None
        except aiosmtplib.SMTPResponseException as exc:
            if exc.code == 421:  # noqa: PLR2004 -- 421: the server is closing this channel
                await self.close()
            raise _classified(exc.code, exc.message) from None
        except (aiosmtplib.SMTPException, OSError) as exc:
            await self.close()
            reason = f"{type(exc).__name__}: {exc}"
            raise TransientSendError(reason) from None
        return SmtpReply(code=_ACCEPTED, message=reply)

    async def _connected(self) -> SmtpSession:
        if self._session is not None and self._session.is_open and await self._still_alive():
            return self._session
        await self.close()
        client = self._client()
        await client.connect()
        try:
            if self.settings.username:
                await client.login(self.settings.username, self.settings.password)
            await _greet_if_needed(client)
            self._session = SmtpSession(client, self.settings.timeout_seconds)
        except BaseException:
            client.close()
            raise
        self._last_used = time.monotonic()
        log.debug("smtp connected", server=self.settings.host, port=self.settings.port)
        return self._session

    def _client(self) -> aiosmtplib.SMTP:
        settings = self.settings
        return aiosmtplib.SMTP(
            hostname=settings.host,
            port=settings.port,
            use_tls=settings.security == "tls",
            start_tls=settings.security == "starttls",
            timeout=settings.timeout_seconds,
        )

    async def _still_alive(self) -> bool:
        """NOOP a connection that idled past the check interval; fresh ones are trusted."""
        if self._session is None:
            return False
        if time.monotonic() - self._last_used < self.settings.idle_check_seconds:
            return True
        try:
            reply = await self._session.command(b"NOOP")
        except (aiosmtplib.SMTPException, OSError):
            return False
        return reply.code == SMTPStatus.completed


async def _greet_if_needed(client: aiosmtplib.SMTP) -> None:
    """EHLO (HELO if refused) once per connection, as aiosmtplib's ``sendmail`` would."""
    if not client.is_ehlo_or_helo_needed:
        return
    try:
        await client.ehlo()
    except aiosmtplib.SMTPHeloError:
        if not client.is_connected:
            raise
        await client.helo()


def _classified(code: int, message: str) -> SendError:
    kind = PermanentSendError if code >= _PERMANENT_FLOOR else TransientSendError
    return kind(f"{code} {message}", code=code)
