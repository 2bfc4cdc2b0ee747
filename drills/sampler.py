"""What the services report while a drill runs: lag, in-flight records, memory, the outbox.

Each live mailer's ``/metrics`` is scraped on a fixed interval, and its RSS read from
``/proc``; each live movies replica's ``/metrics`` gives its outbox backlog and its
failed publishes. A dead process exports nothing, so a killed replica simply drops out
of the samples until it is back. With a telemetry capture, every scrape is also written
to disk for the secrets audit.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
from prometheus_client.parser import text_string_to_metric_families

from drills.system import SystemUnderDrill, live_mailers
from pacing import wait_event

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from drills.replicas import MailerReplica, MoviesReplica

LAG_SECONDS = "mailer_consumer_lag_seconds"
INFLIGHT = "mailer_inflight_messages"
OUTBOX_PENDING = "movies_outbox_pending_messages"
PUBLISHES = "movies_kafka_publish_total"
SCRAPE_TIMEOUT_SECONDS = 2.0
KIB = 1024


@dataclass(frozen=True, slots=True)
class Sample:
    """One scrape of one mailer replica."""

    at: float
    replica: str
    lag_seconds: float
    inflight: float
    rss_bytes: int | None


@dataclass(frozen=True, slots=True)
class MoviesSample:
    """One scrape of one movies replica: its unpublished rows, its failed publishes so far."""

    at: float
    replica: str
    outbox_pending: float
    publish_failures: float


def gauge_values(exposition: str, name: str) -> list[float]:
    """Every sample value of the metric family ``name`` in a Prometheus text exposition."""
    return [
        sample.value
        for family in text_string_to_metric_families(exposition)
        if family.name == name
        for sample in family.samples
    ]


def publish_failures(exposition: str) -> float:
    """Count the records the relay handed to Kafka that were not acknowledged (error, timeout)."""
    return sum(
        sample.value
        for family in text_string_to_metric_families(exposition)
        for sample in family.samples
        if sample.name == PUBLISHES and sample.labels.get("result") != "ok"
    )


def rss_bytes(pid: int | None) -> int | None:
    """Resident memory of a process from ``/proc/<pid>/status``; None once it is gone."""
    if pid is None:
        return None
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * KIB
    return None


class MetricsSampler:
    """Scrapes every live mailer each interval until :meth:`stop`."""

    def __init__(self, system: SystemUnderDrill, interval: float, *, keep_scrapes: bool) -> None:
        """Sample ``system``; with ``keep_scrapes`` every exposition is also appended to disk."""
        self.system = system
        self.interval = interval
        self.keep_scrapes = keep_scrapes
        self.samples: list[Sample] = []
        self.movies_samples: list[MoviesSample] = []
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        """Finish after the current round."""
        self._stopping.set()

    async def run(self) -> None:
        """Scrape until stopped, then once more for the final state, and keep every sample.

        The samples go to ``samples.jsonl`` in the drill's directory, beside the logs, so
        a surprising figure in the report can be traced back to when it was seen.
        """
        async with httpx.AsyncClient(timeout=SCRAPE_TIMEOUT_SECONDS) as client:
            while not self._stopping.is_set():
                await self._round(client)
                await wait_event(self._stopping, self.interval)
            await self._round(client)
        with (self.system.workdir / "samples.jsonl").open("w") as out:
            every: list[Sample | MoviesSample] = [*self.samples, *self.movies_samples]
            for sample in sorted(every, key=lambda sample: sample.at):
                out.write(json.dumps({"kind": type(sample).__name__, **asdict(sample)}) + "\n")

    async def _round(self, client: httpx.AsyncClient) -> None:
        mailers = live_mailers(self.system.mailers)
        await asyncio.gather(*(self._sample(client, mailer) for mailer in mailers))
        await asyncio.gather(*(self._sample_movies(client, m) for m in self.system.movies))

    async def _sample(self, client: httpx.AsyncClient, mailer: MailerReplica) -> None:
        exposition = await _scrape(client, mailer.metrics_url)
        if exposition is None:
            return
        self._keep(mailer.name, exposition)
        self.samples.append(
            Sample(
                at=time.time(),
                replica=mailer.name,
                lag_seconds=max(gauge_values(exposition, LAG_SECONDS), default=0.0),
                inflight=max(gauge_values(exposition, INFLIGHT), default=0.0),
                rss_bytes=rss_bytes(mailer.pid),
            )
        )

    async def _sample_movies(self, client: httpx.AsyncClient, replica: MoviesReplica) -> None:
        if not replica.running:
            return
        exposition = await _scrape(client, f"{replica.url}/metrics")
        if exposition is None:
            return
        self._keep(replica.name, exposition)
        self.movies_samples.append(
            MoviesSample(
                at=time.time(),
                replica=replica.name,
                outbox_pending=max(gauge_values(exposition, OUTBOX_PENDING), default=0.0),
                publish_failures=publish_failures(exposition),
            )
        )

    def _keep(self, name: str, exposition: str) -> None:
        if self.keep_scrapes:
            with (self.system.workdir / f"metrics-{name}.prom").open("a") as scrapes:
                scrapes.write(exposition)


async def _scrape(client: httpx.AsyncClient, url: str) -> str | None:
    try:
        reply = await client.get(url)
    except httpx.HTTPError:
        return None
    return reply.text if reply.status_code == httpx.codes.OK else None


def max_lag(samples: Iterable[Sample]) -> float:
    """Return the largest lag in seconds any mailer reported."""
    return max((sample.lag_seconds for sample in samples), default=0.0)


def rss_profile(samples: Sequence[Sample], replica: str) -> tuple[int, int, int] | None:
    """(first, peak, last) resident memory of one replica, or None without readings."""
    readings = [s.rss_bytes for s in samples if s.replica == replica and s.rss_bytes is not None]
    if not readings:
        return None
    return readings[0], max(readings), readings[-1]
