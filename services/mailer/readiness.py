"""The mailer's readiness: "this pod can do its work", and the ``mailer_ready`` gauge.

Not ready while the consumer has not joined its group, while it shuts down, and while
the relay refuses *this pod's* connection (AUTH rejected, a 5xx greeting or EHLO): a
configuration fault an operator must fix here. A relay that is merely unreachable does
not make the pod unready: every pod would turn unready at once, and rollouts and node
drains would stall for nothing while the outage lasts. Either way the relay's state is
in the ``/readyz`` body (``"smtp"``), in ``mailer_smtp_connection_failures_total`` and in
``mailer_smtp_credentials_rejected``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Protocol

from mailer import metrics
from mailer.relay_health import ConnectionFailure
from pacing.deadlines import wait_event

if TYPE_CHECKING:
    import asyncio

    from mailer.smtp_transport import SmtpPool

_REFUSALS: Final = {
    ConnectionFailure.AUTH_REJECTED: "smtp relay rejects our credentials",
    ConnectionFailure.GREETING_REFUSED: "smtp relay refuses our connection (greeting or EHLO)",
}


class Consumer(Protocol):
    """What readiness reads of the consumer."""

    stopping: asyncio.Event
    joined: bool
    smtp: SmtpPool


@dataclass(frozen=True, slots=True)
class Verdict:
    """Ready when ``reason`` is None; ``smtp`` is ``ok`` or why the relay fails."""

    reason: str | None
    smtp: str

    @property
    def ready(self) -> bool:
        """Whether the pod can do its work."""
        return self.reason is None

    def body(self) -> bytes:
        """Render the ``/readyz`` JSON document."""
        document = {"status": "ready" if self.ready else "not ready", "smtp": self.smtp}
        if self.reason is not None:
            document["reason"] = self.reason
        return json.dumps(document).encode() + b"\n"


class Readiness:
    """Judges readiness on request and refreshes ``mailer_ready`` every interval."""

    def __init__(self, consumer: Consumer, interval_seconds: float) -> None:
        """Read ``consumer``'s state; refresh the gauge every ``interval_seconds``."""
        self._consumer = consumer
        self._interval = interval_seconds

    async def verdict(self) -> Verdict:
        """Judge now (probing an idle relay if nothing was heard from it lately)."""
        failure = await self._consumer.smtp.check()
        verdict = Verdict(self._reason(failure), failure.value if failure else "ok")
        metrics.READY.set(int(verdict.ready))
        return verdict

    async def run(self, closing: asyncio.Event) -> None:
        """Keep ``mailer_ready`` fresh, also when nobody asks ``/readyz``."""
        while not closing.is_set():
            await self.verdict()
            await wait_event(closing, self._interval)

    def _reason(self, failure: ConnectionFailure | None) -> str | None:
        if self._consumer.stopping.is_set():
            return "shutting down"
        if not self._consumer.joined:
            return "consumer group not joined yet"
        return _REFUSALS.get(failure) if failure is not None else None
