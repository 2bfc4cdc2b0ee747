"""An open-loop HTTP load generator: requests leave on a fixed schedule, answered or not.

A closed loop (send, wait, send) slows down with the server and hides its stalls. Here
request ``i`` is due at ``start + i / rate`` and its latency is measured from that due
time, so a stall counts against every request it delayed (no coordinated omission).
Requests go over pre-opened keep-alive connections with pre-built bytes and a minimal
HTTP/1.1 reader, to keep the generator's own cost far below the server's.

A request unanswered ``TIMEOUT`` seconds after it was sent counts as failed, which
bounds a run against a saturated server to its schedule plus that timeout.

``python -m bench.load_generator URL RATE SECONDS PREFIX TIMEOUT`` prints one JSON object.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from dataclasses import asdict, dataclass
from typing import Final
from urllib.parse import urlsplit

import uvloop

_CONNECTIONS: Final = 64
_MAX_CONNECTIONS: Final = 1024
_ACCEPTED: Final = 202


@dataclass(frozen=True, slots=True)
class LoadResult:
    """What one schedule produced; latencies in seconds, from each request's due time."""

    rate: float
    prefix: str
    sent: int
    accepted: int
    failed: int
    start_wall: float
    duration_s: float
    latencies: list[float]


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    async def post(self, request: bytes) -> int:
        """Send one request and read the whole response; return its status code."""
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n"):
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        if length:
            await self.reader.readexactly(length)
        return status


class _Pool:
    """Keep-alive connections; a new one is opened when all are busy (up to a cap)."""

    def __init__(self, host: str, port: int) -> None:
        self._host = host
        self._port = port
        self._idle: list[_Connection] = []
        self._opened = 0
        self._freed = asyncio.Event()

    async def fill(self, count: int) -> None:
        for _ in range(count):
            self._idle.append(await self._open())

    async def take(self) -> _Connection:
        while not self._idle:
            if self._opened < _MAX_CONNECTIONS:
                return await self._open()
            self._freed.clear()
            await self._freed.wait()
        return self._idle.pop()

    def give_back(self, connection: _Connection) -> None:
        self._idle.append(connection)
        self._freed.set()

    def discard(self, connection: _Connection) -> None:
        self._opened -= 1
        connection.writer.close()
        self._freed.set()

    async def _open(self) -> _Connection:
        reader, writer = await asyncio.open_connection(self._host, self._port)
        self._opened += 1
        return _Connection(reader, writer)


def build_request(host: str, port: int, path: str, address: str) -> bytes:
    """One ``POST`` with a JSON body naming ``address``."""
    body = json.dumps({"email": address}).encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def run_schedule(
    url: str, rate: float, seconds: float, prefix: str, answer_within: float = 30.0
) -> LoadResult:
    """Send ``rate`` requests a second for ``seconds``; address ``i`` is ``<prefix>-<i>@...``."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    pool = _Pool(host, port)
    await pool.fill(_CONNECTIONS)
    total = int(rate * seconds)
    requests = [
        build_request(host, port, parts.path, f"{prefix}-{i}@example.com") for i in range(total)
    ]
    outcomes: list[tuple[float, bool]] = [(0.0, False)] * total
    loop = asyncio.get_running_loop()
    start, start_wall = loop.time() + 0.05, time.time() + 0.05
    tasks = []
    for index, request in enumerate(requests):
        due = start + index / rate
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        sent = _one(pool, request, (due, answer_within), outcomes, index)
        tasks.append(asyncio.create_task(sent))
    await asyncio.gather(*tasks)
    return _result(rate, prefix, outcomes, (start_wall, loop.time() - start))


async def _one(
    pool: _Pool,
    request: bytes,
    deadline: tuple[float, float],
    outcomes: list[tuple[float, bool]],
    index: int,
) -> None:
    loop = asyncio.get_running_loop()
    due, timeout = deadline
    connection = await pool.take()
    try:
        status = await asyncio.wait_for(connection.post(request), timeout=timeout)
    except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError):
        pool.discard(connection)
        outcomes[index] = (loop.time() - due, False)
        return
    pool.give_back(connection)
    outcomes[index] = (loop.time() - due, status == _ACCEPTED)


def _result(
    rate: float, prefix: str, outcomes: list[tuple[float, bool]], timing: tuple[float, float]
) -> LoadResult:
    accepted = [latency for latency, ok in outcomes if ok]
    start_wall, duration = timing
    return LoadResult(
        rate=rate,
        prefix=prefix,
        sent=len(outcomes),
        accepted=len(accepted),
        failed=len(outcomes) - len(accepted),
        start_wall=start_wall,
        duration_s=duration,
        latencies=accepted,
    )


def main() -> None:
    """Run one schedule from the command line and print its result as JSON."""
    url, rate, seconds, prefix, timeout = sys.argv[1:6]
    schedule = run_schedule(url, float(rate), float(seconds), prefix, float(timeout))
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        result = runner.run(schedule)
    sys.stdout.write(json.dumps(asdict(result)))


if __name__ == "__main__":
    main()
