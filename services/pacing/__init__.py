"""Pacing: how long to wait before trying again.

Both services retry things that fail for a while (the broker, the relay, the database);
the backoff between tries is written once, here.
See docs/architecture.md for where this fits.
"""

from pacing.backoff import Backoff, FailureStreak

__all__ = ["Backoff", "FailureStreak"]
