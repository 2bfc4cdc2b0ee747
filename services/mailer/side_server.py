"""The mailer's small HTTP side server: ``/healthz``, ``/readyz`` and ``/metrics``.

A few routes on a plain asyncio server keep the consumer process free of a web
framework. ``/metrics`` negotiates OpenMetrics (which carries exemplars) from the
scraper's ``Accept`` header.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Final

import structlog
from prometheus_client import REGISTRY
from prometheus_client.exposition import choose_encoder

from mailer.readiness import Verdict

log = structlog.get_logger(__name__)
ReadinessCheck = Callable[[], Awaitable[Verdict]]
_MAX_HEADER_BYTES: Final = 16 * 1024
_HEAD_TIMEOUT_SECONDS: Final = 5.0
_REASONS: Final = {
    200: "OK",
    404: "Not Found",
    405: "Method Not Allowed",
    503: "Service Unavailable",
}


class SideServer:
    """Serves health, readiness and metrics; ``readiness`` judges the pod (mailer.readiness)."""

    def __init__(self, host: str, port: int, readiness: ReadinessCheck) -> None:
        """Bind lazily; :meth:`start` opens the port (0 picks a free one)."""
        self.host = host
        self.port = port
        self._readiness = readiness
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        """Open the listening socket."""
        self._server = await asyncio.start_server(self._handle, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        log.info("side server listening", port=self.port)

    async def stop(self) -> None:
        """Close the listening socket."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(_HEAD_TIMEOUT_SECONDS):
                head = await reader.readuntil(b"\r\n\r\n")
            status, content_type, body = await self._route(head[:_MAX_HEADER_BYTES])
        except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            status, content_type, body = 400, "text/plain", b"bad request\n"
        writer.write(_response(status, content_type, body))
        with contextlib.suppress(ConnectionError):
            await writer.drain()
        writer.close()

    async def _route(self, head: bytes) -> tuple[int, str, bytes]:
        request_line, *header_lines = head.decode("latin-1").split("\r\n")
        method, _, rest = request_line.partition(" ")
        path = rest.partition(" ")[0].partition("?")[0]
        if method != "GET":
            return 405, "text/plain", b"only GET\n"
        if path == "/healthz":
            return 200, "application/json", b'{"status":"ok"}\n'
        if path == "/readyz":
            return await self._ready()
        if path == "/metrics":
            return _metrics(_header(header_lines, "accept"))
        return 404, "text/plain", b"not found\n"

    async def _ready(self) -> tuple[int, str, bytes]:
        verdict = await self._readiness()
        return (200 if verdict.ready else 503), "application/json", verdict.body()


def _metrics(accept: str) -> tuple[int, str, bytes]:
    encoder, content_type = choose_encoder(accept)
    return 200, content_type, encoder(REGISTRY)


def _header(lines: list[str], name: str) -> str:
    for line in lines:
        key, _, value = line.partition(":")
        if key.strip().lower() == name:
            return value.strip()
    return ""


def _response(status: int, content_type: str, body: bytes) -> bytes:
    head = (
        f"HTTP/1.1 {status} {_REASONS.get(status, 'Bad Request')}\r\n"
        f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    )
    return head.encode("latin-1") + body
