"""Sending rendered mails over a pool of persistent SMTP connections, failures classified.

A failure while a connection is set up (connect, TLS, greeting, EHLO, AUTH) is the
relay's, whatever its reply code: :class:`RelayConnectionError`, recorded in the pool's
:class:`~mailer.relay_health.RelayHealth`. A failure of a mail on a working connection
is either :class:`TransientSendError` (retry later: a drop, a timeout, a 4xx reply) or
:class:`PermanentSendError` (a 5xx reply: dead-letter it). A connection that idled
longer than the check interval is probed with NOOP before reuse, and one that the
server dropped (or closed with 421) is reopened on the next send.

aiosmtplib opens each connection (TLS or STARTTLS, AUTH, EHLO); the mails themselves
go through a :mod:`mailer.smtp_session`, pipelined when the relay offers it.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

import aiosmtplib
import structlog
from aiosmtplib import SMTPStatus

from mailer import metrics
from mailer.relay_health import ConnectionFailure, RelayHealth, Turn
from mailer.smtp_session import MailSession, open_session

if TYPE_CHECKING:
    from collections.abc import Iterator

    from mailer.settings import SmtpSettings

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


class RelayConnectionError(SendError):
    """No connection to the relay could be set up: the relay's state, not the mail's fault."""

    def __init__(self, failure: ConnectionFailure, message: str, code: int | None = None) -> None:
        """Keep why (the metric's ``reason``) and the relay's reply code, if any."""
        super().__init__(f"{failure}: {message}", code)
        self.failure = failure


class RelayNotTriedError(RelayConnectionError):
    """Not sent: the relay is failing and this send does not hold the probe's turn."""

    def __init__(self, failure: ConnectionFailure) -> None:
        """Carry the relay's current failure."""
        super().__init__(failure, "not tried while the relay fails")


@dataclass(frozen=True, slots=True)
class SmtpReply:
    """The relay's answer to an accepted mail."""

    code: int
    message: str


class SmtpPool:
    """At most ``pool_size`` connections, as many as the concurrent sends need.

    Each connection is opened on its first send, and the one used last is reused first,
    so a steady trickle keeps one connection open while a backlog opens up to
    ``pool_size``: a relay 20 ms away takes two round trips a mail, so one connection
    sends about 25 mails a second (README, "The mailer"). Connections left idle after a
    burst are closed by the relay's own idle timeout and reopened when needed again.
    The pool also keeps the relay's health (:class:`~mailer.relay_health.RelayHealth`).
    """

    def __init__(self, settings: SmtpSettings, health: RelayHealth) -> None:
        """Create the connections (opened lazily, on first use)."""
        self.settings = settings
        self.health = health
        self._idle: asyncio.LifoQueue[SmtpConnection] = asyncio.LifoQueue()
        for _ in range(settings.pool_size):
            self._idle.put_nowait(SmtpConnection(settings))
        self._prober = SmtpConnection(settings)
        self._probing = asyncio.Lock()

    async def admit(self, stopping: asyncio.Event, patience: float) -> Turn | None:
        """Wait (up to ``patience`` s) for a turn to send; see :class:`RelayHealth`."""
        return await self.health.admit(stopping, patience)

    async def send(self, recipient: str, message: bytes, turn: Turn | None = None) -> SmtpReply:
        """Send over the next free connection; waits while all are busy.

        Without a ``turn`` (from :meth:`admit`), one is taken when the connection is free;
        a send whose turn a relay failure took meanwhile is not tried at all.
        """
        connection = await self._idle.get()
        turn = turn or self.health.try_turn()
        try:
            if not self.health.holds(turn):
                raise RelayNotTriedError(self.health.failure or ConnectionFailure.UNREACHABLE)
            return await self._send_on(connection, recipient, message)
        finally:
            self._idle.put_nowait(connection)
            self.health.end_turn(turn)

    async def _send_on(
        self, connection: SmtpConnection, recipient: str, message: bytes
    ) -> SmtpReply:
        try:
            reply = await connection.send(recipient, message)
        except RelayConnectionError as exc:
            self.health.failed(exc.failure, str(exc))
            raise
        except SendError as exc:
            if exc.code is not None:  # the relay answered: it works, this mail did not
                self.health.answered()
            raise
        self.health.answered()
        return reply

    async def check(self) -> ConnectionFailure | None:
        """Return the relay's state for readiness: None when it takes our connections.

        A recent answer or a known failure is enough; otherwise (idle, or a failing relay
        whose next try is due) a connection of its own is probed, so readiness never
        queues behind busy senders nor tries a failing relay more often than they do.
        """
        recent = time.monotonic() - self.health.last_success < _RECENT_SUCCESS_SECONDS
        if recent or self._probing.locked():
            return self.health.failure
        turn = self.health.try_turn()
        if turn is None:
            return self.health.failure
        async with self._probing:
            try:
                await self._prober.probe()
            except RelayConnectionError as exc:
                self.health.failed(exc.failure, str(exc))
            else:
                self.health.answered()
            finally:
                self.health.end_turn(turn)
        return self.health.failure

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
        self._session: MailSession | None = None
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
        """Make sure this connection is open and answering; raise RelayConnectionError if not."""
        await self._connected()

    async def close(self) -> None:
        """Say QUIT if we can, and forget the connection."""
        session, self._session = self._session, None
        if session is not None:
            metrics.SMTP_CONNECTIONS.dec()
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

    async def _connected(self) -> MailSession:
        if self._session is not None and self._session.is_open and await self._still_alive():
            return self._session
        await self.close()
        client = self._client()
        try:
            await _set_up(client, self.settings)
            self._session = open_session(
                client, self.settings.timeout_seconds, pipelining=self.settings.pipelining
            )
            metrics.SMTP_CONNECTIONS.inc()
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
            reply = await self._session.noop()
        except (aiosmtplib.SMTPException, OSError):
            return False
        return reply.code == SMTPStatus.completed


async def _set_up(client: aiosmtplib.SMTP, settings: SmtpSettings) -> None:
    """Connect (TLS or STARTTLS included), authenticate and greet; failures classified."""
    with _setup_step("connect"):
        await client.connect()
    if settings.username:
        with _setup_step("login"):
            await client.login(settings.username, settings.password)
    with _setup_step("greet"):
        await _greet_if_needed(client)


@contextmanager
def _setup_step(step: str) -> Iterator[None]:
    """Turn any failure of one set-up step into a :class:`RelayConnectionError`."""
    try:
        yield
    except (aiosmtplib.SMTPException, OSError) as exc:
        failure = _setup_failure(step, exc)
        code = exc.code if isinstance(exc, aiosmtplib.SMTPResponseException) else None
        raise RelayConnectionError(failure, f"{type(exc).__name__}: {exc}", code) from None


def _setup_failure(step: str, exc: Exception) -> ConnectionFailure:
    """Name why a connection set-up failed, for readiness and the metric's ``reason``."""
    if isinstance(exc, TimeoutError):  # SMTPTimeoutError and its subclasses too
        return ConnectionFailure.TIMEOUT
    if isinstance(exc, ssl.SSLError) or isinstance(exc.__cause__, ssl.SSLError):
        return ConnectionFailure.TLS_FAILED
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return _refusal(step, exc)
    if isinstance(exc, aiosmtplib.SMTPConnectError | aiosmtplib.SMTPServerDisconnected | OSError):
        return ConnectionFailure.UNREACHABLE
    # An SMTPException without a reply: STARTTLS or every AUTH mechanism not offered.
    return {"connect": ConnectionFailure.TLS_FAILED, "login": ConnectionFailure.AUTH_REJECTED}.get(
        step, ConnectionFailure.UNREACHABLE
    )


def _refusal(step: str, exc: aiosmtplib.SMTPResponseException) -> ConnectionFailure:
    """Classify a refusing reply: a 4xx is a relay busy for now, a 5xx a refusal of us."""
    if exc.code < _PERMANENT_FLOOR:
        return ConnectionFailure.UNREACHABLE
    if isinstance(exc, aiosmtplib.SMTPConnectResponseError | aiosmtplib.SMTPHeloError):
        return ConnectionFailure.GREETING_REFUSED  # login says EHLO first, too
    if step == "login":
        return ConnectionFailure.AUTH_REJECTED
    return ConnectionFailure.TLS_FAILED  # the reply to STARTTLS


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
