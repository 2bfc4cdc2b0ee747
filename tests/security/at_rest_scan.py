"""Counting one-time codes in bytes at rest: broker segments, database files, logs, spans.

A code is six ASCII digits. The scan finds every *standalone* run of six digits: not
touching another ASCII letter or digit (so not part of a hex trace id, a base64 seal, a
UUID or a longer number) and not a decimal fraction (``.042917``, the microseconds of a
timestamp). That is the shape of every clear form the services ever wrote:
``"code":"042917"`` in the JSON payload (outbox row, Kafka record, dead letter, SQLite
WAL, PostgreSQL heap and WAL, a ``pg_dump`` with ``bytea_output=escape``), and
``042917`` in a log line or a span attribute.

Six-digit numbers also occur by chance (``connections.max.idle.ms = 600000`` in the
broker log, bytes of a PostgreSQL catalog). Two rules keep chance out of the verdict:

- a token already in a source *before* the codes were issued cannot be a leak of them:
  it is taken from a baseline scan of the same source and never counted;
- every new token that is not an issued code is kept as evidence of chance (with its
  context), and a control set of codes that were never issued is counted like the
  issued ones: both measure what chance adds to these very bytes during the run.
"""

from __future__ import annotations

import re
import secrets
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

_TOKEN = re.compile(rb"(?<![0-9A-Za-z.])([0-9]{6})(?![0-9A-Za-z]|\.[0-9])")
_CODE_SPACE = 10**6
_EXAMPLES = 5
Blobs = Iterable[tuple[str, bytes]]


def tokens_in(blobs: Blobs) -> set[str]:
    """Every standalone six-digit token in the blobs: a source's baseline."""
    return {match.group(1).decode() for _, data in blobs for match in _TOKEN.finditer(data)}


def control_codes(issued: set[str], size: int) -> frozenset[str]:
    """Draw ``size`` six-digit codes uniformly among those that were never issued."""
    chosen: set[str] = set()
    while len(chosen) < size:
        candidate = f"{secrets.randbelow(_CODE_SPACE):06d}"
        if candidate not in issued:
            chosen.add(candidate)
    return frozenset(chosen)


@dataclass
class Tally:
    """What one source held: how much was read, and which codes were new in it."""

    source: str
    baseline: set[str]
    files: int = 0
    bytes_read: int = 0
    issued: Counter[str] = field(default_factory=Counter)
    control: Counter[str] = field(default_factory=Counter)
    where: dict[str, str] = field(default_factory=dict)
    chance: dict[str, str] = field(default_factory=dict)

    def add(self, name: str, data: bytes, issued: set[str], control: frozenset[str]) -> None:
        """Count the new tokens of one file (or blob): issued codes, control codes, chance."""
        self.files += 1
        self.bytes_read += len(data)
        for match in _TOKEN.finditer(data):
            token = match.group(1).decode()
            if token in self.baseline:
                continue
            if token in issued:
                self.issued[token] += 1
                self.where.setdefault(token, f"{name} @{match.start()}: {_excerpt(data, match)}")
                continue
            if token in control:
                self.control[token] += 1
            self.chance.setdefault(token, f"{name} @{match.start()}: {_excerpt(data, match)}")

    def scan(self, blobs: Blobs, issued: set[str], control: frozenset[str]) -> Tally:
        """Count every blob; return self, so scans of one source at two moments add up."""
        for name, data in blobs:
            self.add(name, data, issued, control)
        return self

    def summary(self) -> str:
        """One line for the test's output, which the closing note quotes."""
        return (
            f"{self.source}: {self.files} files, {self.bytes_read} bytes read; "
            f"issued codes found {len(self.issued)} ({sum(self.issued.values())} times); "
            f"control codes found {len(self.control)}; "
            f"new non-code tokens {len(self.chance)}; baseline tokens {len(self.baseline)}"
        )

    def examples(self) -> list[str]:
        """A few places where a code, or a chance token, was found."""
        found = [f"code {token} in {where}" for token, where in self.where.items()]
        chance = [f"not a code: {token} in {where}" for token, where in self.chance.items()]
        return found[:_EXAMPLES] + chance[:_EXAMPLES]


def read_files(paths: Iterable[Path]) -> Iterator[tuple[str, bytes]]:
    """Each regular file, read whole in binary, one at a time."""
    for path in sorted(paths):
        if path.is_file():
            yield str(path), path.read_bytes()


def files_under(*roots: Path) -> list[Path]:
    """Every regular file below the given directories."""
    return [path for root in roots for path in root.rglob("*") if path.is_file()]


def _excerpt(data: bytes, match: re.Match[bytes]) -> str:
    return repr(data[max(0, match.start() - 40) : match.end() + 40])
