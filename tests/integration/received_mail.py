"""Reading what the SMTP sink received, waiting for it with a deadline."""

from __future__ import annotations

import re
import time
from email.message import EmailMessage, Message

from devstack.smtp_sink import MailSink, read_mail

CODE_LINE = re.compile(r"^(\d{6})$", re.MULTILINE)


def mails_to(sink: MailSink, address: str) -> list[Message]:
    """Every stored mail for ``address``, found through the sink's index, parsed."""
    folder = sink.handler.folder
    return [
        read_mail(folder / delivery.file)
        for delivery in sink.deliveries()
        if address.lower() in delivery.recipients
    ]


def wait_for_mails(
    sink: MailSink, address: str, count: int = 1, timeout: float = 30.0
) -> list[Message]:
    """Block until ``count`` mails reached ``address``; fail with what did arrive."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = mails_to(sink, address)
        if len(found) >= count:
            return found
        time.sleep(0.1)
    found = mails_to(sink, address)
    msg = f"expected {count} mail(s) to {address} within {timeout}s, got {len(found)}"
    raise AssertionError(msg)


def wait_for_any(sink: MailSink, addresses: list[str], timeout: float = 30.0) -> int:
    """Block until at least one of ``addresses`` has a mail; how many of them have one."""
    deadline = time.monotonic() + timeout
    wanted = {address.lower() for address in addresses}
    while time.monotonic() < deadline:
        reached = {r for d in sink.deliveries() for r in d.recipients if r in wanted}
        if reached:
            return len(reached)
        time.sleep(0.05)
    msg = f"none of {len(addresses)} addresses got a mail within {timeout}s"
    raise AssertionError(msg)


def settle_and_count(sink: MailSink, address: str, seconds: float = 2.0) -> int:
    """Wait a little longer, so a duplicate sent late would be seen, then count."""
    time.sleep(seconds)
    return len(mails_to(sink, address))


def code_in(mail: Message) -> str:
    """The code on its own line in the plain-text part."""
    assert isinstance(mail, EmailMessage)
    text = mail.get_body(("plain",))
    assert text is not None
    match = CODE_LINE.search(text.get_content().replace("\r\n", "\n"))
    assert match is not None, "no 6-digit code line in the mail"
    return match.group(1)
