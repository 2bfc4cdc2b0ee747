"""An SMTP server for development and tests that keeps every accepted mail as a ``.eml`` file.

Tests can script it to misbehave (temporary or permanent refusals per recipient, a slow
reply, AUTH rejected with 535 while the policy says so) through :class:`SinkPolicy`;
people read what was sent in the mail folder.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

if TYPE_CHECKING:
    from email.message import Message

log = structlog.get_logger(__name__)
_MESSAGE_ID = re.compile(rb"^Message-ID:\s*(<[^>\r\n]+>)", re.MULTILINE | re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Delivery:
    """One accepted mail, as tests count them without parsing every file."""

    file: str
    recipients: tuple[str, ...]
    message_id: str | None


@dataclass
class SinkPolicy:
    """How the sink answers: every field can be changed while it runs."""

    temporary_failures: dict[str, int] = field(default_factory=dict)
    permanent_failures: set[str] = field(default_factory=set)
    reply_delay_seconds: float = 0.0
    attempts: Counter[str] = field(default_factory=Counter)
    reject_logins: bool = False
    logins: Counter[str] = field(default_factory=Counter)

    def verdict(self, recipient: str) -> str | None:
        """Return an SMTP refusal for this recipient, or None to accept it."""
        self.attempts[recipient] += 1
        if recipient in self.permanent_failures:
            return "550 5.1.1 mailbox unavailable"
        if self.attempts[recipient] <= self.temporary_failures.get(recipient, 0):
            return "451 4.3.0 try again later"
        return None


class MailFolderHandler:
    """aiosmtpd handler writing each accepted message to ``<folder>/<ns>-<n>.eml``."""

    def __init__(
        self,
        folder: Path,
        policy: SinkPolicy | None = None,
        credentials: tuple[str, str] | None = None,
    ) -> None:
        """Create the folder; the policy defaults to accepting everything."""
        self.folder = folder
        self.policy = policy or SinkPolicy()
        self.credentials = credentials
        self.deliveries: list[Delivery] = []
        self._counter = itertools.count()
        folder.mkdir(parents=True, exist_ok=True)

    def authenticate(
        self,
        _server: SMTP,
        _session: Session,
        _envelope: Envelope,
        _mechanism: str,
        auth_data: object,
    ) -> AuthResult:
        """Accept our credentials (aiosmtpd answers 535 otherwise), unless logins are refused."""
        given = None
        if isinstance(auth_data, LoginPassword):
            given = (auth_data.login.decode(), auth_data.password.decode())
        accepted = not self.policy.reject_logins and given == self.credentials
        self.policy.logins["accepted" if accepted else "rejected"] += 1
        return AuthResult(success=accepted, handled=False)

    async def handle_RCPT(  # noqa: N802 -- aiosmtpd's hook name
        self,
        _server: SMTP,
        _session: Session,
        envelope: Envelope,
        address: str,
        _options: list[str],
    ) -> str:
        """Refuse or accept one recipient as the policy says."""
        if self.policy.reply_delay_seconds:
            await asyncio.sleep(self.policy.reply_delay_seconds)
        refusal = self.policy.verdict(address.lower())
        if refusal is not None:
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802 -- aiosmtpd's hook name
        self,
        _server: SMTP,
        _session: Session,
        envelope: Envelope,
    ) -> str:
        """Store the message exactly as received, written atomically."""
        name = f"{time.time_ns()}-{next(self._counter)}"
        content = envelope.original_content or b""
        partial = self.folder / f".{name}.tmp"
        partial.write_bytes(content)
        partial.rename(self.folder / f"{name}.eml")
        found = _MESSAGE_ID.search(content[:4096])
        message_id = found.group(1).decode("ascii", "replace") if found else None
        recipients = tuple(address.lower() for address in envelope.rcpt_tos)
        self.deliveries.append(Delivery(f"{name}.eml", recipients, message_id))
        return f"250 2.0.0 OK queued as {name}"


class MailSink:
    """A running sink on a loopback port, in a background thread.

    With ``credentials``, AUTH (PLAIN or LOGIN, over plain text: it is a loopback test
    relay) is required before MAIL, and only those credentials are accepted.
    """

    def __init__(
        self,
        folder: Path,
        port: int,
        policy: SinkPolicy | None = None,
        credentials: tuple[str, str] | None = None,
    ) -> None:
        """Prepare the sink; :meth:`start` opens the port."""
        self.handler = MailFolderHandler(folder, policy, credentials)
        self.port = port
        self._controller: Controller | None = None
        self._lock = threading.Lock()

    @property
    def policy(self) -> SinkPolicy:
        """The live policy tests change."""
        return self.handler.policy

    def start(self) -> None:
        """Open the SMTP port."""
        with self._lock:
            if self._controller is None:
                self._controller = Controller(
                    self.handler, hostname="127.0.0.1", port=self.port, **self._auth_options()
                )
                self._controller.start()

    def _auth_options(self) -> dict[str, Any]:
        if self.handler.credentials is None:
            return {}
        return {
            "authenticator": self.handler.authenticate,
            "auth_required": True,
            "auth_require_tls": False,
        }

    def stop(self) -> None:
        """Close the SMTP port; clients see connection refused until started again."""
        with self._lock:
            if self._controller is not None:
                self._controller.stop()
                self._controller = None

    def messages(self) -> list[Message]:
        """Every stored mail, oldest first."""
        return [read_mail(path) for path in sorted_mail_files(self.handler.folder)]

    def deliveries(self) -> list[Delivery]:
        """Return a snapshot of every accepted mail, in arrival order."""
        return list(self.handler.deliveries)


def sorted_mail_files(folder: Path) -> list[Path]:
    """List the ``.eml`` files of a mail folder in arrival order."""
    return sorted(folder.glob("*.eml"), key=lambda path: tuple(map(int, path.stem.split("-"))))


def read_mail(path: Path) -> Message:
    """Parse one stored mail."""
    return message_from_bytes(path.read_bytes(), policy=default_policy)


def main() -> None:
    """Run the sink in the foreground: ``python -m devstack.smtp_sink --port 2525 --dir mail``."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=2525)
    parser.add_argument("--dir", type=Path, default=Path("mail"))
    args = parser.parse_args()
    sink = MailSink(args.dir, args.port)
    sink.start()
    log.info("smtp sink listening", port=args.port, folder=str(args.dir))
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        sink.stop()


if __name__ == "__main__":
    main()
