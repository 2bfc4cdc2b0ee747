"""The SMTP settings the tests of the mailer's relay side start from (unit and integration)."""

from __future__ import annotations

import dataclasses

from mailer.settings import SmtpSettings

SMTP_SETTINGS = SmtpSettings(
    host="127.0.0.1",
    port=1,
    security="plain",
    username="",
    password="",
    timeout_seconds=1.0,
    from_address="no-reply@reelmail.example",
    from_name="Reelmail",
    pool_size=1,
    idle_check_seconds=30.0,
)


def smtp_settings(**changes: object) -> SmtpSettings:
    """SMTP_SETTINGS with ``changes``."""
    return dataclasses.replace(SMTP_SETTINGS, **changes)  # type: ignore[arg-type]
