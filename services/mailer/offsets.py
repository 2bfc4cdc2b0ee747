"""Which offset of a partition is safe to commit while records finish out of order.

Records of one partition are processed concurrently and finish in any order. The
offset committed is always one past the longest finished prefix, so a restart never
skips a record that had not finished.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field


@dataclass
class PartitionProgress:
    """Offsets handed out and finished for one partition, in fetch order."""

    started: deque[int] = field(default_factory=deque)
    finished: set[int] = field(default_factory=set)
    committable: int | None = None
    committed: int | None = None
    oldest_timestamp_ms: dict[int, int] = field(default_factory=dict)

    def start(self, offset: int, timestamp_ms: int) -> None:
        """Record that ``offset`` was fetched and is being processed."""
        self.started.append(offset)
        self.oldest_timestamp_ms[offset] = timestamp_ms

    def finish(self, offset: int) -> None:
        """Record that ``offset`` is done, and advance the committable point past the prefix.

        An offset that is not in flight (finished already, or started before this
        partition was revoked and assigned again) is ignored: counting it would make
        :attr:`inflight` wrong and keep it in :attr:`finished` for good.
        """
        if self.oldest_timestamp_ms.pop(offset, None) is None:
            return
        self.finished.add(offset)
        while self.started and self.started[0] in self.finished:
            done = self.started.popleft()
            self.finished.discard(done)
            self.committable = done + 1

    def pending_commit(self) -> int | None:
        """Return the offset to commit now, or None if nothing finished since the last commit."""
        if self.committable is None or self.committable == self.committed:
            return None
        return self.committable

    def oldest_unfinished_timestamp_ms(self) -> int | None:
        """Return the timestamp of the oldest record still in flight, for lag in seconds."""
        if not self.started:
            return None
        return self.oldest_timestamp_ms.get(self.started[0])

    @property
    def inflight(self) -> int:
        """How many records of this partition are not finished."""
        return len(self.started) - len(self.finished)
