"""The services under test, as separate OS processes."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path

from devstack.processes import ServiceProcess


@dataclass
class RunningStack:
    """movies and mailer as separate OS processes on the session's broker and sink."""

    movies: ServiceProcess
    mailer: ServiceProcess
    api: str
    database: Path
    hmac_secret: str

    def logs(self) -> str:
        return self.movies.log_text() + self.mailer.log_text()


def unique_address(tag: str) -> str:
    """An address no other test uses, so each test counts only its own mails."""
    return f"{tag}-{uuid.uuid4().hex[:10]}@example.com"
