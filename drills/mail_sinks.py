"""The SMTP sink of a drill: devstack's, optionally demanding AUTH so a password is in play.

The secrets audit wants a real SMTP password flowing through the mailer, so with
credentials the sink refuses any unauthenticated mail: a mailer that skipped AUTH
would lose every code and fail the drill rather than pass the audit vacuously.
"""

from __future__ import annotations

import hmac
from typing import TYPE_CHECKING, Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from devstack.smtp_sink import MailSink

if TYPE_CHECKING:
    from pathlib import Path

    from drills.settings import SmtpCredentials


class _PasswordCheck:
    """aiosmtpd authenticator accepting exactly one login and password."""

    def __init__(self, credentials: SmtpCredentials) -> None:
        self._login = credentials.username.encode()
        self._password = credentials.password.encode()

    def __call__(
        self,
        _server: object,
        _session: object,
        _envelope: object,
        _mechanism: str,
        auth_data: object,
    ) -> Any:  # noqa: ANN401 -- aiosmtpd's AuthResult, untyped
        """Accept the one configured login and password, nothing else."""
        ok = (
            isinstance(auth_data, LoginPassword)
            and hmac.compare_digest(auth_data.login, self._login)
            and hmac.compare_digest(auth_data.password, self._password)
        )
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)


class AuthenticatingMailSink(MailSink):
    """A :class:`MailSink` that accepts mail only after AUTH with the given credentials."""

    def __init__(self, folder: Path, port: int, credentials: SmtpCredentials) -> None:
        """Prepare the sink; :meth:`start` opens the port."""
        super().__init__(folder, port)
        self._credentials = credentials

    def start(self) -> None:
        """Open the SMTP port with AUTH required (plain-text AUTH on loopback is fine here)."""
        with self._lock:
            if self._controller is None:
                self._controller = Controller(
                    self.handler,
                    hostname="127.0.0.1",
                    port=self.port,
                    authenticator=_PasswordCheck(self._credentials),
                    auth_required=True,
                    auth_require_tls=False,
                )
                self._controller.start()


def open_sink(folder: Path, port: int, credentials: SmtpCredentials | None) -> MailSink:
    """Build the sink a drill delivers to, demanding AUTH when credentials are given."""
    if credentials is None:
        return MailSink(folder, port)
    return AuthenticatingMailSink(folder, port, credentials)
