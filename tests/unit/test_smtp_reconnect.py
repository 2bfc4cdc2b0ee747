import asyncio

import aiosmtplib
import pytest

from mailer.smtp_transport import SmtpConnection, SmtpReply, TransientSendError
from relay_settings import SMTP_SETTINGS as SETTINGS


class DroppingConnection(SmtpConnection):
    """A connection whose relay drops it ``drops`` times, then accepts."""

    def __init__(self, drops: int) -> None:
        super().__init__(SETTINGS)
        self.drops = drops
        self.attempts = 0

    async def _send_once(self, recipient: str, message: bytes) -> SmtpReply:  # noqa: ARG002 -- same signature as the method it replaces
        self.attempts += 1
        if self.attempts <= self.drops:
            msg = "connection dropped"
            raise aiosmtplib.SMTPServerDisconnected(msg)
        return SmtpReply(code=250, message="queued")


def test_one_drop_is_retried_on_a_fresh_connection() -> None:
    connection = DroppingConnection(drops=1)
    assert asyncio.run(connection.send("a@example.com", b"x")).code == 250
    assert connection.attempts == 2


def test_two_drops_in_a_row_are_a_transient_failure_not_a_crash() -> None:
    connection = DroppingConnection(drops=2)
    with pytest.raises(TransientSendError, match="SMTPServerDisconnected"):
        asyncio.run(connection.send("a@example.com", b"x"))
    assert connection.attempts == 2
