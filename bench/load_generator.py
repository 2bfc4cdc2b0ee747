"""An HTTP load generator: open loop (a fixed schedule, answered or not) or closed loop.

A closed loop (send, wait, send) slows down with the server and hides its stalls. The
open loop sends request ``i`` at ``start + i / rate`` and measures its latency from that
due time, so a stall counts against every request it delayed (no coordinated omission).
The closed loop (``connections`` > 0) keeps that many requests outstanding, one per
connection, and measures the rate the server answers at, as ``wrk`` does.

Requests go over pre-opened keep-alive connections with pre-built bytes and a minimal
HTTP/1.1 reader, to keep the generator's own cost far below the server's. With several
URLs (replicas of one service) requests are spread over them in turn; with ``clients``,
each request carries ``X-Forwarded-For`` with one of that many client addresses, as a
trusted proxy in front of the service would send.

A request unanswered ``timeout`` seconds after it was sent counts as failed, which
bounds a run against a saturated server to its schedule plus that timeout.

``python -m bench.load_generator '<Load as JSON>'`` prints one :class:`LoadResult` as JSON.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import sys
import time
from dataclasses import asdict, dataclass
from typing import Final
from urllib.parse import urlsplit

import uvloop

_CONNECTIONS: Final = 64
_MAX_CONNECTIONS: Final = 1024
_ACCEPTED: Final = 202
# Client addresses from the benchmarking range (RFC 2544), 250 to a /24.
_CLIENT_NET: Final = "198.18"
_PER_OCTET: Final = 250


@dataclass(frozen=True, slots=True)
class Load:
    """What to send: to which URLs, for how long, at what rate or concurrency, from whom.

    ``rate`` > 0 is an open-loop schedule; ``connections`` > 0 a closed loop instead.
    ``clients`` > 0 adds ``X-Forwarded-For`` from that many addresses, round robin.
    """

    urls: tuple[str, ...]
    seconds: float
    prefix: str
    timeout: float
    rate: float = 0.0
    connections: int = 0
    clients: int = 0

    def argv(self) -> list[str]:
        """Describe this load as the generator's command-line argument."""
        return [json.dumps(asdict(self))]


@dataclass(frozen=True, slots=True)
class LoadResult:
    """What one run produced; latencies in seconds, from each request's due time.

    In a closed loop ``rate`` is 0 and a request is due when it is sent.
    """

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
    """Keep-alive connections to one URL; a new one opens when all are busy (up to a cap)."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.path = parts.path
        self._idle: list[_Connection] = []
        self._opened = 0
        self._freed = asyncio.Event()

    async def fill(self, count: int) -> None:
        for _ in range(count):
            self._idle.append(await self.open())

    async def take(self) -> _Connection:
        while not self._idle:
            if self._opened < _MAX_CONNECTIONS:
                return await self.open()
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

    async def open(self) -> _Connection:
        reader, writer = await asyncio.open_connection(self.host, self.port)
        self._opened += 1
        return _Connection(reader, writer)

    def request(self, address: str, client: str = "") -> bytes:
        """One ``POST`` to this pool's path with a JSON body naming ``address``."""
        return build_request(self.host, self.port, self.path, address, client)


def build_request(host: str, port: int, path: str, address: str, client: str = "") -> bytes:
    """One ``POST`` with a JSON body naming ``address``, from ``client`` when given."""
    body = json.dumps({"email": address}).encode()
    forwarded = f"X-Forwarded-For: {client}\r\n" if client else ""
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
        f"{forwarded}Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def client_address(index: int, clients: int) -> str:
    """Pick the ``X-Forwarded-For`` of request ``index`` among ``clients`` ('' for none)."""
    if clients <= 0:
        return ""
    k = index % clients
    return f"{_CLIENT_NET}.{k // _PER_OCTET}.{k % _PER_OCTET + 1}"


class _Outcomes:
    """Each request's latency and whether it was accepted, by index."""

    def __init__(self) -> None:
        self.found: dict[int, tuple[float, bool]] = {}

    def result(self, load: Load, start_wall: float, duration: float) -> LoadResult:
        accepted = [latency for latency, ok in self.found.values() if ok]
        return LoadResult(
            rate=load.rate,
            prefix=load.prefix,
            sent=len(self.found),
            accepted=len(accepted),
            failed=len(self.found) - len(accepted),
            start_wall=start_wall,
            duration_s=duration,
            latencies=accepted,
        )


async def _one(pool: _Pool, request: bytes, due: float, timeout: float) -> tuple[float, bool]:  # noqa: ASYNC109 -- a per-request deadline, with the pool returned on it
    """Send one request over a pooled connection; return (latency from ``due``, accepted)."""
    loop = asyncio.get_running_loop()
    connection = await pool.take()
    try:
        async with asyncio.timeout(timeout):
            status = await connection.post(request)
    except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError):
        pool.discard(connection)
        return loop.time() - due, False
    pool.give_back(connection)
    return loop.time() - due, status == _ACCEPTED


async def run_open_loop(load: Load) -> LoadResult:
    """Send ``load.rate`` requests a second; address ``i`` is ``<prefix>-<i>@...``."""
    pools = [_Pool(url) for url in load.urls]
    for pool in pools:
        await pool.fill(_CONNECTIONS)
    total = int(load.rate * load.seconds)
    requests = [_request(pools, load, i) for i in range(total)]
    outcomes = _Outcomes()
    loop = asyncio.get_running_loop()
    start, start_wall = loop.time() + 0.05, time.time() + 0.05

    async def send(index: int, due: float) -> None:
        pool = pools[index % len(pools)]
        outcomes.found[index] = await _one(pool, requests[index], due, load.timeout)

    tasks = []
    for index in range(total):
        due = start + index / load.rate
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(send(index, due)))
    await asyncio.gather(*tasks)
    return outcomes.result(load, start_wall, loop.time() - start)


async def run_closed_loop(load: Load) -> LoadResult:
    """Keep ``load.connections`` requests outstanding for ``load.seconds``; count the answers."""
    pools = [_Pool(url) for url in load.urls]
    outcomes, counter = _Outcomes(), itertools.count()
    loop = asyncio.get_running_loop()
    start_wall, start = time.time(), loop.time()
    deadline = start + load.seconds

    async def worker(pool: _Pool) -> None:
        while loop.time() < deadline:
            index = next(counter)
            sent = loop.time()
            request = _request([pool], load, index)
            outcomes.found[index] = await _one(pool, request, sent, load.timeout)

    await asyncio.gather(*(worker(pools[j % len(pools)]) for j in range(load.connections)))
    return outcomes.result(load, start_wall, loop.time() - start)


def _request(pools: list[_Pool], load: Load, index: int) -> bytes:
    pool = pools[index % len(pools)]
    return pool.request(f"{load.prefix}-{index}@example.com", client_address(index, load.clients))


async def run_load(load: Load) -> LoadResult:
    """Run ``load`` as a closed loop if it names connections, else as an open-loop schedule."""
    return await (run_closed_loop(load) if load.connections else run_open_loop(load))


def main() -> None:
    """Run one load from the command line and print its result as JSON."""
    fields = json.loads(sys.argv[1])
    load = Load(**{**fields, "urls": tuple(fields["urls"])})
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        result = runner.run(run_load(load))
    # The event loop may leave stdout non-blocking; a result larger than the pipe (a
    # closed loop's latencies at thousands of req/s) would then be cut at the pipe's size.
    os.set_blocking(sys.stdout.fileno(), True)
    sys.stdout.write(json.dumps(asdict(result)))


if __name__ == "__main__":
    main()
