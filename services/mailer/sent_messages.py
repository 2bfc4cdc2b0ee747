"""Message ids this process is sending or already sent, the latter for a TTL window.

After a retry or a rebalance hands a record back to the same process, its id is
found here and the mail is not sent twice. Two copies of one message in flight at once
(a producer that re-published after a timeout) are caught too: the first copy reserves
the id, the second is a duplicate. Bounded in size: the oldest ids go first.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import TYPE_CHECKING

if TYPE_CHECKING:
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
        self._inflight: set[str] = set()

    def __contains__(self, message_id: object) -> bool:
        """Whether the id was sent within the window."""
        self._evict()
        return message_id in self._expiry

    def reserve(self, message_id: str) -> bool:
        """Claim the id for one delivery; False when it is in flight or was sent already."""
        if message_id in self._inflight or message_id in self:
            return False
        self._inflight.add(message_id)
        return True

    def release(self, message_id: str) -> None:
        """Give the id back after a delivery that did not send, so a later copy may try."""
        self._inflight.discard(message_id)

    def add(self, message_id: str) -> None:
        """Remember that the id was sent now."""
        self._inflight.discard(message_id)
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
