"""Whether the mail relay takes our connections, and who may try it while it does not.

A failure while a connection is set up (connect, TLS, greeting, EHLO, AUTH) says
nothing about the mail that was about to be sent: a rotated password, an expired
token, a relay that is down or refuses us all fail every mail alike. So such a failure
is the relay's state, held here once for the whole process, rather than a verdict on
one record:

- while the relay fails, one send at a time may try it (the *probe*'s :class:`Turn`),
  each try spaced by a backoff shared by the process; every other send waits, also
  one that was let through just before the failure and still waited for a pooled
  connection. A credential outage
  costs the relay one AUTH per backoff step from each pod, not one per mail, so it
  does not trip the relay's own lockout, and no record spends its retry budget on it;
- the first successful connection (or any reply to a mail) ends the failure and lets
  every waiting send through at once;
- until the relay has answered once, it is tried the same way, one send at a time: a
  mailer started against a relay that rejects it makes one attempt, not one per
  connection of its pool;
- readiness and the metrics read the state from here (see ``mailer.readiness``).
"""

from __future__ import annotations

import asyncio
import time
from enum import StrEnum
from typing import TYPE_CHECKING, Final

import structlog

from mailer import metrics
from pacing.deadlines import wait_event

if TYPE_CHECKING:
    from collections.abc import Callable

log = structlog.get_logger(__name__)
_RECHECK_SECONDS: Final = 1.0


class ConnectionFailure(StrEnum):
    """Why a connection to the relay could not be set up (the metric's ``reason``)."""

    AUTH_REJECTED = "auth_rejected"
    GREETING_REFUSED = "greeting_refused"
    TLS_FAILED = "tls_failed"
    UNREACHABLE = "unreachable"
    TIMEOUT = "timeout"


for _failure in ConnectionFailure:  # every reason exists from start-up, as 0
    metrics.SMTP_CONNECTION_FAILURES.labels(reason=_failure.value)

# The relay answers, and refuses *us*: a configuration problem of this pod, not an outage.
REJECTIONS: Final = frozenset({ConnectionFailure.AUTH_REJECTED, ConnectionFailure.GREETING_REFUSED})


class Turn:
    """Leave to try the relay: any send's while it is healthy, only the probe's while not."""

    __slots__ = ()


class RelayHealth:
    """The relay's state as this process last saw it, and whose turn it is to try it."""

    def __init__(self, delay: Callable[[int], float]) -> None:
        """Space tries of a failing relay by ``delay(failures in a row)`` seconds."""
        self._delay = delay
        self.failure: ConnectionFailure | None = None
        self.detail = ""
        self.failures_in_a_row = 0
        self.last_success = float("-inf")
        self._proven = False
        self._next_try = 0.0
        self._probe: Turn | None = None
        self._changed = asyncio.Event()

    @property
    def rejected(self) -> bool:
        """Whether the relay refuses this pod's connection (AUTH, greeting or EHLO 5xx)."""
        return self.failure in REJECTIONS

    def failed(self, failure: ConnectionFailure, detail: str) -> None:
        """Record a failed connection set-up; the next try waits one more backoff step."""
        metrics.SMTP_CONNECTION_FAILURES.labels(reason=failure.value).inc()
        if self.failure is None:
            log.warning("smtp relay failing; mails wait for it", reason=failure, error=detail)
        self.failure, self.detail = failure, detail
        self.failures_in_a_row += 1
        self._next_try = time.monotonic() + self._delay(self.failures_in_a_row)
        metrics.SMTP_CREDENTIALS_REJECTED.set(int(failure is ConnectionFailure.AUTH_REJECTED))
        self._changed_state()

    def answered(self) -> None:
        """Record that the relay took a connection or answered a mail."""
        self.last_success = time.monotonic()
        self._proven = True
        if self.failure is not None:
            log.info("smtp relay recovered", after_failures=self.failures_in_a_row)
            self.failure, self.detail, self.failures_in_a_row = None, "", 0
            metrics.SMTP_CREDENTIALS_REJECTED.set(0)
        self._changed_state()

    def try_turn(self) -> Turn | None:
        """Take a turn now: always while healthy; the probe's, if free and due, while not."""
        if self.failure is None and self._proven:
            return Turn()
        if self._probe is not None or time.monotonic() < self._next_try:
            return None
        self._probe = Turn()
        return self._probe

    def holds(self, turn: Turn | None) -> bool:
        """Whether ``turn`` still allows a try (a failure since takes it from all but the probe)."""
        healthy = self.failure is None and self._proven
        return turn is not None and (healthy or turn is self._probe)

    def end_turn(self, turn: Turn | None) -> None:
        """Give a turn back; the probe's, ended without a verdict, lets another try."""
        if turn is not None and turn is self._probe:
            self._changed_state()

    async def admit(self, stopping: asyncio.Event, patience: float) -> Turn | None:
        """Wait up to ``patience`` s for a turn; None if it did not come.

        Returns at once while the relay is healthy, and None within a second of
        ``stopping`` being set.
        """
        deadline = time.monotonic() + patience
        while not stopping.is_set():
            if (turn := self.try_turn()) is not None:
                return turn
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self._changed.clear()
            wait = min(left, _RECHECK_SECONDS, max(self._next_try - time.monotonic(), 0.01))
            await wait_event(self._changed, wait)
        return None

    def _changed_state(self) -> None:
        self._probe = None
        self._changed.set()
