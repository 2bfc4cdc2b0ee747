"""An optional cap on mails per second to the relay (a token bucket)."""

from __future__ import annotations

import asyncio
import time


class SendRateLimiter:
    """Allows ``rate`` sends per second with a burst of one second's worth; 0 means no cap."""

    def __init__(self, rate: float) -> None:
        """Start with a full bucket."""
        self._rate = rate
        self._tokens = max(rate, 1.0)
        self._updated = time.monotonic()
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        """Wait until one more send is allowed."""
        if self._rate <= 0:
            return
        async with self._lock:
            while True:
                now = time.monotonic()
                self._tokens = min(
                    max(self._rate, 1.0), self._tokens + (now - self._updated) * self._rate
                )
                self._updated = now
                if self._tokens >= 1:
                    self._tokens -= 1
                    return
                await asyncio.sleep((1 - self._tokens) / self._rate)
