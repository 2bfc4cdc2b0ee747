"""Liveness and readiness of the movie service."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Annotated

import msgspec
from litestar import get
from litestar.di import NamedDependency

from movies.platform.problems import ProblemError, problem_responses
from movies.platform.route_access import PUBLIC

PROBE_TIMEOUT_SECONDS = 2.0
Probe = Callable[[float], Awaitable[bool]]
"""Whether one dependency answers within the given number of seconds."""


class ReadinessProbes:
    """The dependencies readiness checks, by the name ``/readyz`` reports them under.

    The composition root names them (the database, the Kafka producer), so this module
    needs no domain. A plain class: Litestar would validate a dataclass field by field.
    """

    def __init__(self, probes: Mapping[str, Probe]) -> None:
        """Keep the probes in the order ``/readyz`` lists them."""
        self.probes = dict(probes)


class Readiness(msgspec.Struct, frozen=True):
    """Every dependency answered."""

    status: Annotated[str, msgspec.Meta(examples=["ready"])]
    checks: Annotated[dict[str, str], msgspec.Meta(examples=[{"database": "ok", "kafka": "ok"}])]


@get("/healthz", operation_id="healthz", tags=["health"], opt=PUBLIC, sync_to_thread=False)
def healthz() -> dict[str, str]:
    """Answer while the event loop runs; restart the process if this stops answering."""
    return {"status": "ok"}


@get(
    "/readyz",
    operation_id="readyz",
    opt=PUBLIC,
    tags=["health"],
    responses={503: problem_responses(503)[503]},
)
async def readyz(readiness_probes: NamedDependency[ReadinessProbes]) -> Readiness:
    """Ready when the database answers and Kafka serves metadata; else 503 naming which failed.

    Sign-in requests are still accepted while Kafka is away (they wait in the outbox),
    but a replica that cannot publish should not take new traffic from the balancer.
    """
    checks = {
        name: _verdict(await probe(PROBE_TIMEOUT_SECONDS))
        for name, probe in readiness_probes.probes.items()
    }
    if any(verdict != "ok" for verdict in checks.values()):
        failing = ", ".join(name for name, verdict in checks.items() if verdict != "ok")
        raise ProblemError(503, "not-ready", f"unreachable: {failing}", checks=checks)
    return Readiness(status="ready", checks=checks)


def _verdict(reachable: bool) -> str:  # noqa: FBT001 -- a plain predicate result
    return "ok" if reachable else "unreachable"
