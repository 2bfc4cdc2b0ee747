"""``python -m faulty_mailer``: the real mailer, with one helper task made to die once.

``FAULTY_HELPER=committer`` makes the committer's first commit raise the ``KeyError`` a
partition revoked mid-commit used to raise; ``FAULTY_HELPER=lag`` makes the first lag
refresh raise. Everything else is ``python -m mailer`` itself.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from mailer.__main__ import main
from mailer.consumer_lag import ConsumerLag
from mailer.partition_work import PartitionWork

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable


def _commit_failing_once(original: Callable[..., Awaitable[None]]) -> Callable[..., Any]:
    failed = False

    async def commit(self: PartitionWork, partitions: Any = None) -> None:
        nonlocal failed
        if not failed and partitions is None and self.progress:
            failed = True
            raise KeyError(next(iter(self.progress)))
        await original(self, partitions)

    return commit


def _refresh_failing(original: Callable[..., Awaitable[None]]) -> Callable[..., Any]:
    del original

    async def refresh(self: ConsumerLag) -> None:
        del self
        msg = "injected: the lag refresh failed"
        raise RuntimeError(msg)

    return refresh


if __name__ == "__main__":
    helper = os.environ["FAULTY_HELPER"]
    if helper == "committer":
        PartitionWork.commit = _commit_failing_once(PartitionWork.commit)  # type: ignore[method-assign]
    else:
        ConsumerLag.refresh = _refresh_failing(ConsumerLag.refresh)  # type: ignore[method-assign]
    main()
