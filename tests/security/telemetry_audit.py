"""Searching telemetry for secrets: codes, session tokens, the SMTP password, addresses.

A code is six digits, which also occur innocently (microseconds, sums, ports): a hit
is a six-digit token that stands alone (not part of a longer word or a decimal
fraction) and is one of the codes actually issued. Addresses are matched by their
full local part, which is unique to the drill that made it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

_CODE = re.compile(r"(?<![\w.])(\d{6})(?!\w|\.\d)")
_CONTEXT = 60


@dataclass
class Secrets:
    """Everything that must never appear in a log line, a metric or a span."""

    codes: set[str] = field(default_factory=set)
    addresses: set[str] = field(default_factory=set)
    tokens: set[str] = field(default_factory=set)
    password: str = ""

    def literals(self) -> set[str]:
        """Strings searched verbatim: tokens (and their signatures), the password, addresses."""
        found = set(self.tokens) | {token.rsplit(".", 1)[1] for token in self.tokens}
        found |= {address.lower() for address in self.addresses}
        found |= {address.split("@", 1)[0].lower() for address in self.addresses}
        if self.password:
            found.add(self.password)
        return found


def _excerpt(text: str, start: int, end: int) -> str:
    return text[max(0, start - _CONTEXT) : end + _CONTEXT].replace("\n", " ")


def leaks(source: str, text: str, secrets: Secrets) -> list[str]:
    """Every place in ``text`` where a secret shows, with a little context."""
    found = [
        f"{source}: code {match.group(1)} in …{_excerpt(text, match.start(), match.end())}…"
        for match in _CODE.finditer(text)
        if match.group(1) in secrets.codes
    ]
    lowered = text.lower()
    for literal in secrets.literals():
        position = lowered.find(literal.lower())
        if position >= 0:
            excerpt = _excerpt(text, position, position + len(literal))
            found.append(f"{source}: secret {literal[:12]}… in …{excerpt}…")
    return found


def all_leaks(sources: Iterable[tuple[str, str]], secrets: Secrets) -> list[str]:
    """Leaks across many (name, text) sources."""
    return [leak for name, text in sources for leak in leaks(name, text, secrets)]
