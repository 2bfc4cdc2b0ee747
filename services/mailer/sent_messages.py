"""Message ids this process already sent, remembered for a TTL window.

After a retry or a rebalance hands a record back to the same process, its id is
found here and the mail is not sent twice. Bounded in size: the oldest ids go first.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable


class SentMessages:
    """An insertion-ordered map of message id to the moment it expires."""

    def __init__(
        self,
        ttl_seconds: float,
        max_entries: int = 200_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Remember each id for ``ttl_seconds``, keeping at most ``max_entries`` ids."""
        self._ttl = ttl_seconds
        self._max = max_entries
        self._clock = clock
        self._expiry: OrderedDict[str, float] = OrderedDict()

    def __contains__(self, message_id: object) -> bool:
        """Whether the id was sent within the window."""
        self._evict()
        return message_id in self._expiry

    def add(self, message_id: str) -> None:
        """Remember that the id was sent now."""
        self._expiry[message_id] = self._clock() + self._ttl
        self._expiry.move_to_end(message_id)
        self._evict()

    def _evict(self) -> None:
        now = self._clock()
        while self._expiry:
            oldest, expiry = next(iter(self._expiry.items()))
            if expiry > now and len(self._expiry) <= self._max:
                return
            del self._expiry[oldest]
