"""Exponential backoff with jitter: one formula for every retry in both services."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Final

_MAX_DOUBLINGS: Final = 64


@dataclass(frozen=True, slots=True)
class Backoff:
    """Delays that double from ``first`` up to ``maximum``, each shortened by a random jitter.

    ``jitter`` is the fraction of a delay that may be taken off at random (0 for none), so
    retries from many clients spread out instead of arriving together.
    """

    first: float
    maximum: float
    jitter: float = 0.5
    rng: random.Random = field(default_factory=random.SystemRandom, compare=False)

    def __post_init__(self) -> None:
        """Reject a jitter that could make a delay zero or negative."""
        if not 0 <= self.jitter < 1:
            msg = f"jitter is a fraction in [0, 1), got {self.jitter}"
            raise ValueError(msg)

    def delay(self, attempt: int) -> float:
        """Seconds to wait before retry number ``attempt`` (1-based)."""
        # The exponent is capped so a streak of thousands (a relay down for a day) cannot
        # overflow a float; 2**64 times any sane first delay is past every maximum.
        doublings = min(max(attempt, 1) - 1, _MAX_DOUBLINGS)
        ceiling = min(self.maximum, self.first * 2.0**doublings)
        return ceiling * (1.0 - self.jitter * self.rng.random())


@dataclass(slots=True)
class FailureStreak:
    """Failures in a row, paced by a :class:`Backoff`; a success resets it."""

    backoff: Backoff
    failures: int = 0

    def next_delay(self) -> float:
        """Count one more failure; return the wait before the next try."""
        self.failures += 1
        return self.backoff.delay(self.failures)

    def reset(self) -> None:
        """Forget past failures."""
        self.failures = 0
