"""What the services said about Kafka while a drill ran: the failures they logged, counted.

A producer that cannot reach ``min.insync.replicas``, or a consumer whose commits fail,
must say so. The relay logs ``outbox relay waiting`` with the error's type, the mailer
``commit failed; will retry`` and ``dead-letter publish failed; will retry`` with its
``repr``, and aiokafka's producer ``Got error produce response`` (``NotEnoughReplicas``,
a timeout, a node not ready) each time it retries; these counts go into the drill's
notes, so the report shows how the failure looked to an operator reading the logs.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

    from drills.replicas import Replica

WATCHED_EVENTS = {
    "outbox relay waiting": "movies relay waiting",
    "commit failed; will retry": "mailer commit failed",
    "dead-letter publish failed; will retry": "mailer dead-letter publish failed",
}
PRODUCE_RETRY = "Got error produce response"
PRODUCE_RETRY_LABEL = "Kafka client retried a produce"
_ERROR_NAME = re.compile(r"\b([A-Z]\w*Error)\b")


def _error_name(text: str) -> str:
    """Name the error in ``KafkaTimeoutError``, its ``repr``, or a sentence naming it."""
    found = _ERROR_NAME.search(text)
    return found.group(1) if found else (text.split("(", 1)[0].strip() or "unknown")


def _label(entry: dict[str, object]) -> str | None:
    """Label a watched line ``what: ErrorType``; None for any other line."""
    event = str(entry.get("event", ""))
    if event.startswith(PRODUCE_RETRY):
        return f"{PRODUCE_RETRY_LABEL}: {_error_name(event.removeprefix(PRODUCE_RETRY))}"
    if event in WATCHED_EVENTS:
        return f"{WATCHED_EVENTS[event]}: {_error_name(str(entry.get('error', 'unknown')))}"
    return None


def _entries(paths: Iterable[Path]) -> Iterable[dict[str, object]]:
    for path in paths:
        for line in path.read_text(errors="replace").splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if isinstance(entry, dict):
                yield entry


def logged_kafka_failures(replicas: Iterable[Replica]) -> Counter[str]:
    """Count the watched warnings in every incarnation's log, keyed ``what: ErrorType``."""
    paths = [path for r in replicas for path in sorted(r.logdir.glob(f"{r.name}-*.log"))]
    counts: Counter[str] = Counter()
    for entry in _entries(paths):
        label = _label(entry)
        if label is not None:
            counts[label] += 1
    return counts


def failure_notes(counts: Counter[str]) -> dict[str, str]:
    """Render the counts as one report note, most frequent first; none when nothing failed."""
    if not counts:
        return {}
    text = ", ".join(f"{label} x{count}" for label, count in counts.most_common())
    return {"Kafka failures logged": text}
