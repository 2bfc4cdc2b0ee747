"""Steady sign-in traffic: one ``POST /auth/codes`` per unique address, at a fixed rate.

The driver is open-loop (requests start on schedule, whatever the answers take), like
real users, so a slow or failing API does not slow the traffic down and hide the
fault. Every attempt is recorded with its answer; only a ``202`` counts as requested.
No request is ever retried: a retry could issue a second code for the address and
pass for a duplicate mail.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import httpx

ACCEPTED = 202
REQUEST_TIMEOUT_SECONDS = 10.0
MAX_CONCURRENT_REQUESTS = 256
PASSIVE_DOWN_SECONDS = 1.0
KEEPALIVE_EXPIRY_SECONDS = 2.0
"""Below uvicorn's 5 s keep-alive, so the client never reuses a connection the server closes."""


@dataclass(frozen=True, slots=True)
class Attempt:
    """One request: to whom, through which replica, when, and what came back."""

    address: str
    replica: int
    sent_at: float
    answered_at: float
    status: int | None
    error: str | None = None

    @property
    def accepted(self) -> bool:
        """Whether the API took the request (a code was issued and queued)."""
        return self.status == ACCEPTED

    @property
    def outcome(self) -> str:
        """The status code, or the kind of transport error, as a label for reports."""
        return str(self.status) if self.status is not None else f"error:{self.error}"


@dataclass
class Router:
    """Chooses the movies replica for each request, like a load balancer would.

    A replica that refused a connection is skipped for a second (passive health
    checking); drills also steer traffic explicitly with :meth:`route_to`.
    """

    urls: Sequence[str]
    enabled: set[int] = field(default_factory=set)
    _down_until: dict[int, float] = field(default_factory=dict, init=False)
    _turn: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        """Route to every replica until told otherwise."""
        self.enabled = self.enabled or set(range(len(self.urls)))

    def route_to(self, *replicas: int) -> None:
        """Send traffic only to these replicas from now on."""
        self.enabled = set(replicas)

    def pick(self) -> int:
        """Return the next enabled replica in turn, preferring those not recently down."""
        choices = sorted(self.enabled)
        healthy = [index for index in choices if self._down_until.get(index, 0) <= time.time()]
        pool = healthy or choices
        self._turn += 1
        return pool[self._turn % len(pool)]

    def mark_down(self, replica: int) -> None:
        """Skip this replica for a moment after a refused connection."""
        self._down_until[replica] = time.time() + PASSIVE_DOWN_SECONDS


class TrafficDriver:
    """Sends ``total`` requests at ``rate`` per second and records every answer."""

    def __init__(
        self,
        router: Router,
        address_for: Callable[[int], str],
        rate_per_second: float,
        total: int,
    ) -> None:
        """Plan the traffic; :meth:`run` sends it."""
        self.router = router
        self.address_for = address_for
        self.rate = rate_per_second
        self.total = total
        self.attempts: list[Attempt] = []
        self._slots = asyncio.Semaphore(MAX_CONCURRENT_REQUESTS)

    async def run(self) -> list[Attempt]:
        """Send every request on schedule and wait for the last answer."""
        limits = httpx.Limits(
            max_connections=MAX_CONCURRENT_REQUESTS, keepalive_expiry=KEEPALIVE_EXPIRY_SECONDS
        )
        async with httpx.AsyncClient(timeout=REQUEST_TIMEOUT_SECONDS, limits=limits) as client:
            started = time.monotonic()
            pending: set[asyncio.Task[None]] = set()
            for index in range(self.total):
                await asyncio.sleep(max(0.0, started + index / self.rate - time.monotonic()))
                await self._slots.acquire()
                task = asyncio.create_task(self._one(client, index))
                pending.add(task)
                task.add_done_callback(pending.discard)
            await asyncio.gather(*pending)
        return self.attempts

    async def _one(self, client: httpx.AsyncClient, index: int) -> None:
        replica = self.router.pick()
        address = self.address_for(index)
        sent_at = time.time()
        try:
            reply = await client.post(
                f"{self.router.urls[replica]}/auth/codes", json={"email": address}
            )
        except httpx.HTTPError as exc:
            if isinstance(exc, httpx.ConnectError):
                self.router.mark_down(replica)
            error = type(exc).__name__
            self.attempts.append(Attempt(address, replica, sent_at, time.time(), None, error))
        else:
            status = reply.status_code
            self.attempts.append(Attempt(address, replica, sent_at, time.time(), status))
        finally:
            self._slots.release()


def outcomes(attempts: Sequence[Attempt]) -> Counter[str]:
    """How many attempts ended each way (``202``, ``503``, ``error:ConnectError``…)."""
    return Counter(attempt.outcome for attempt in attempts)
