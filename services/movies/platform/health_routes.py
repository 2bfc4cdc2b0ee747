"""Liveness and readiness of the movie service."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import get
from litestar.di import NamedDependency

from movies.auth.access_tokens import PUBLIC
from movies.outbox.code_publisher import CodePublisher
from movies.platform.database import Database
from movies.platform.problems import ProblemError, problem_responses

PROBE_TIMEOUT_SECONDS = 2.0


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
async def readyz(
    database: NamedDependency[Database], code_publisher: NamedDependency[CodePublisher]
) -> Readiness:
    """Ready when the database answers and Kafka serves metadata; else 503 naming which failed.

    Sign-in requests are still accepted while Kafka is away (they wait in the outbox),
    but a replica that cannot publish should not take new traffic from the balancer.
    """
    checks = {
        "database": _verdict(await database.reachable(PROBE_TIMEOUT_SECONDS)),
        "kafka": _verdict(await code_publisher.metadata_reachable(PROBE_TIMEOUT_SECONDS)),
    }
    if any(verdict != "ok" for verdict in checks.values()):
        failing = ", ".join(name for name, verdict in checks.items() if verdict != "ok")
        raise ProblemError(503, "not-ready", f"unreachable: {failing}", checks=checks)
    return Readiness(status="ready", checks=checks)


def _verdict(reachable: bool) -> str:  # noqa: FBT001 -- a plain predicate result
    return "ok" if reachable else "unreachable"
