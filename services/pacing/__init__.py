"""Pacing: how long to wait before trying again, and how to wait with a deadline.

Both services retry things that fail for a while (the broker, the relay, the database)
and wait on events with deadlines; each mechanism is written once, here.
See docs/architecture.md for where this fits.
"""

from pacing.backoff import Backoff, FailureStreak
from pacing.deadlines import wait_event

__all__ = ["Backoff", "FailureStreak", "wait_event"]
