"""Matching what the API promised against what the SMTP sink received.

A mail counts for an address only if the code in it matches a code hash movies stored
for that address (``movies.auth.otp.code_matches`` with the drill's secret): a mail with a
wrong or mangled code is not a delivery. Counting is per address, because every
request of a drill goes to an address of its own.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from typing import TYPE_CHECKING

from devstack.smtp_sink import MailSink, read_mail
from movies.auth.otp import code_matches

if TYPE_CHECKING:
    from pathlib import Path

_CODE_LINE = re.compile(r"^(\d{6})$", re.MULTILINE)
_NANOSECONDS = 1e9


@dataclass(frozen=True, slots=True)
class MailedCode:
    """One mail the sink accepted: to whom, which code, and when (epoch seconds)."""

    address: str
    code: str | None
    delivered_at: float


@dataclass(frozen=True, slots=True)
class StoredCode:
    """One ``otp_codes`` row: the keyed hash of a code issued to an address."""

    address: str
    purpose: str
    code_hash: str


@dataclass(frozen=True, slots=True)
class MatchResult:
    """The per-address verdict of a drill."""

    requested: int
    mailed: int
    duplicates: int
    lost: int
    mismatched: int
    unrequested_mailed: int
    first_delivery: Mapping[str, float]


def code_in(path: Path) -> str | None:
    """Find the code on its own line in the plain-text part of a stored mail."""
    mail = read_mail(path)
    if not isinstance(mail, EmailMessage):
        return None
    body = mail.get_body(("plain",))
    if body is None:
        return None
    found = _CODE_LINE.search(body.get_content().replace("\r\n", "\n"))
    return found.group(1) if found else None


def mailed_codes(sink: MailSink) -> list[MailedCode]:
    """Every mail the sink accepted, one entry per recipient, oldest first."""
    mails = []
    for delivery in sink.deliveries():
        path = sink.handler.folder / delivery.file
        code = code_in(path)
        delivered_at = int(delivery.file.split("-", 1)[0]) / _NANOSECONDS
        mails += [MailedCode(address, code, delivered_at) for address in delivery.recipients]
    return mails


def delivered_addresses(sink: MailSink) -> set[str]:
    """Addresses that received anything yet: cheap, for waiting until the system settles."""
    return {address for delivery in sink.deliveries() for address in delivery.recipients}


def match(
    requested: Iterable[str],
    mails: Sequence[MailedCode],
    stored: Sequence[StoredCode],
    secret: str,
) -> MatchResult:
    """Count mailed, duplicated, lost and mismatched codes for the requested addresses."""
    wanted = set(requested)
    hashes: dict[str, list[StoredCode]] = defaultdict(list)
    for row in stored:
        hashes[row.address].append(row)
    matching: dict[str, list[float]] = defaultdict(list)
    mismatched = unrequested = 0
    for mail in mails:
        if mail.address not in wanted:
            unrequested += 1
        elif _matches(mail, hashes[mail.address], secret):
            matching[mail.address].append(mail.delivered_at)
        else:
            mismatched += 1
    return MatchResult(
        requested=len(wanted),
        mailed=len(matching),
        duplicates=sum(len(times) - 1 for times in matching.values()),
        lost=len(wanted - matching.keys()),
        mismatched=mismatched,
        unrequested_mailed=unrequested,
        first_delivery={address: min(times) for address, times in matching.items()},
    )


def _matches(mail: MailedCode, rows: Sequence[StoredCode], secret: str) -> bool:
    if mail.code is None:
        return False
    return any(
        code_matches(secret, row.address, row.purpose, mail.code, row.code_hash) for row in rows
    )
