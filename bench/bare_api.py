"""The framework floor of B5: a bare Litestar app whose ``POST /auth/codes`` returns 202.

It decodes the same JSON body as movies and answers at once: no database, no outbox, no
rate limits. What movies spends beyond it is the price of its own work. With an OTLP
endpoint set it traces as movies does (one SERVER span per request through Litestar's
own OpenTelemetry plugin, the ASGI ``send``/``receive`` spans excluded, the same tracer
provider and exporter), so the cost tracing adds to it is the floor of that cost too.
``python -m bench.bare_api`` reads ``MOVIES_PORT`` and the standard ``OTEL_*`` variables.
"""

from __future__ import annotations

import functools
import os
from typing import TYPE_CHECKING

import msgspec
import uvicorn
from litestar import Litestar, get, post
from litestar.plugins.opentelemetry import OpenTelemetryConfig, OpenTelemetryPlugin

from telemetry.tracing import configure_tracing, shutdown_tracing

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider


class CodeRequest(msgspec.Struct, frozen=True):
    """The request body movies accepts."""

    email: str


@post("/auth/codes", status_code=202)
async def accept_code_request(data: CodeRequest) -> dict[str, str]:
    """Answer as movies does, having done nothing."""
    del data
    return {"status": "accepted"}


@get("/healthz")
async def healthz() -> dict[str, str]:
    """Readiness for the harness."""
    return {"status": "ok"}


def create_app(provider: TracerProvider | None) -> Litestar:
    """Build the two routes; the OpenTelemetry plugin only when tracing is on.

    The spans still queued are flushed at shutdown by the app itself: uvicorn re-raises
    SIGTERM once it has stopped, so nothing after ``uvicorn.run`` would run.
    """
    plugins = []
    if provider is not None:
        config = OpenTelemetryConfig(exclude=["^/healthz$"], exclude_spans=["receive", "send"])
        plugins.append(OpenTelemetryPlugin(config))
    return Litestar(
        [accept_code_request, healthz],
        plugins=plugins,
        on_shutdown=[functools.partial(shutdown_tracing, provider)],
    )


def main() -> None:
    """Serve on uvicorn with movies' transport (uvloop, httptools), no access log."""
    uvicorn.run(
        create_app(configure_tracing("bare-litestar")),
        host="127.0.0.1",
        port=int(os.environ["MOVIES_PORT"]),
        log_level="warning",
        access_log=False,
        server_header=False,
    )


if __name__ == "__main__":
    main()
