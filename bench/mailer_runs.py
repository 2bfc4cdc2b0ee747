"""B1 and half of B4: how fast one mailer process drains a backlog into ``smtp-sink``.

A run starts a mailer (ours, or the original-style yardstick) on the pre-filled topic
under a fresh consumer group, and times from the moment its partitions were assigned
(the timestamp of its own log line) until the sink's counter reached the backlog size.
Process start-up (imports, joining the group) is kept apart as ``startup_s``.
"""

from __future__ import annotations

import contextlib
import json
import os
import statistics
import time
import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Final, Literal

from bench.figures import Figure
from bench.latency_link import LatencyLink, round_trip_ms
from bench.prefill import SEAL_SETTINGS
from bench.smtp_servers import CountingSink, SelfSignedCertificate, TlsTunnel
from devstack.errors import HarnessError
from devstack.otlp_receiver import OtlpReceiver
from devstack.ports import free_port
from devstack.processes import ServiceProcess

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator

Kind = Literal["reelmail", "original"]
Transport = Literal["plain", "tls"]
_REPO: Final = Path(__file__).resolve().parent.parent
_ASSIGNED: Final = "partitions assigned"
_SLOWEST_RATE: Final = 40.0


@dataclass(frozen=True, slots=True)
class MailerCase:
    """Which consumer, over which transport and link, with or without tracing.

    ``rtt_ms`` puts a :class:`~bench.latency_link.LatencyLink` of that round trip in
    front of the relay; ``settings`` are extra variables for the mailer (pool size,
    sampler), named by ``variant``.
    """

    kind: Kind
    transport: Transport
    telemetry: bool
    profile_to: Path | None = None
    rtt_ms: int = 0
    variant: str = ""
    settings: tuple[tuple[str, str], ...] = ()

    @property
    def name(self) -> str:
        """A short name for keys and log files."""
        tracing = "otel" if self.telemetry else "nootel"
        link = f"-rtt{self.rtt_ms}" if self.rtt_ms else ""
        variant = f"-{self.variant}" if self.variant else ""
        return f"{self.kind}-{self.transport}-{tracing}{link}{variant}"


@dataclass(frozen=True, slots=True)
class MailerRun:
    """One drained backlog."""

    mails: int
    mails_per_s: float
    seconds: float
    startup_s: float
    spans: int
    cpu_ms_per_mail: float
    loop_cpu_ms_per_mail: float
    load_1m: float
    link_rtt_ms: float | None = None


@dataclass
class MailerBench:
    """Everything a B1 run needs that outlives it: broker, backlog, receiver, certificate."""

    bootstrap_servers: str
    topic: str
    count: int
    receiver: OtlpReceiver
    certificate: SelfSignedCertificate
    workdir: Path

    def run(self, case: MailerCase) -> MailerRun:
        """Drain the whole backlog once with ``case``; raise if it does not finish."""
        sink = CountingSink()
        with contextlib.ExitStack() as stack:
            sink.start(self.count)
            stack.callback(sink.stop)
            port, rtt = self._relay(case, sink.port, stack)
            run = self._drain(case, sink, port)
        return replace(run, link_rtt_ms=rtt)

    def _relay(
        self, case: MailerCase, port: int, stack: contextlib.ExitStack
    ) -> tuple[int, float | None]:
        """Put stunnel (TLS) and the latency link in front of the sink, as ``case`` asks.

        Returns the port the mailer connects to, and the link's measured round trip.
        """
        certificate = None
        if case.transport == "tls":
            tunnel = TlsTunnel(self.workdir, self.certificate)
            stack.callback(tunnel.stop)
            tunnel.start(port)
            port, certificate = tunnel.port, self.certificate
        if not case.rtt_ms:
            return port, None
        link = LatencyLink(self.workdir, one_way_ms=case.rtt_ms // 2)
        stack.callback(link.stop)
        link.start(port)
        return link.port, round_trip_ms(link.port, certificate)

    @contextlib.contextmanager
    def serving(self, topic: str, smtp_port: int) -> Iterator[Callable[[], None]]:
        """Run our mailer (tracing on, plain SMTP) on ``topic`` until the block ends (B3).

        Yields a function that waits for its partitions, so the caller can start other
        services while this one joins its group.
        """
        case = MailerCase("reelmail", "plain", telemetry=True)
        env = {**self._env(case, smtp_port), "MAIL_TOPIC": topic}
        process = ServiceProcess("mailer", env, self.workdir / f"b3-mailer-{topic}.log")
        process.start()
        try:
            yield lambda: process.wait_for_log(_ASSIGNED, timeout=90)
        finally:
            process.stop(timeout=60)

    def _drain(self, case: MailerCase, sink: CountingSink, smtp_port: int) -> MailerRun:
        spans_before = self.receiver.count
        log_path = self.workdir / f"{case.name}-{uuid.uuid4().hex[:6]}.log"
        process = ServiceProcess(_module(case), self._env(case, smtp_port), log_path)
        spawned = time.time()
        process.start()
        try:
            process.wait_for_log(_ASSIGNED, timeout=90)
            finished = sink.wait(timeout=max(120.0, self.count / _SLOWEST_RATE))
            cpu_seconds = process_cpu_seconds(process.pid)
            loop_seconds = process_cpu_seconds(process.pid, thread=process.pid)
        finally:
            process.stop(timeout=60)
        started = _assigned_at(log_path)
        return MailerRun(
            mails=self.count,
            mails_per_s=self.count / (finished - started),
            seconds=finished - started,
            startup_s=started - spawned,
            spans=self.receiver.count - spans_before,
            cpu_ms_per_mail=cpu_seconds * 1000.0 / self.count,
            loop_cpu_ms_per_mail=loop_seconds * 1000.0 / self.count,
            load_1m=round(os.getloadavg()[0], 2),
        )

    def _env(self, case: MailerCase, smtp_port: int) -> dict[str, str]:
        env = {
            "PYTHONPATH": str(_REPO),
            "KAFKA_BOOTSTRAP_SERVERS": self.bootstrap_servers,
            "MAIL_TOPIC": self.topic,
            "MAILER_GROUP_ID": f"bench-{case.name}-{uuid.uuid4().hex[:8]}",
            "MAILER_PORT": str(free_port()),
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(smtp_port),
            "SMTP_SECURITY": case.transport,
            "SSL_CERT_FILE": str(self.certificate.cert),
            "LOG_LEVEL": "info",
            "OTEL_SERVICE_NAME": "mailer",
            "OTEL_TRACES_SAMPLER": "always_on",
            **SEAL_SETTINGS,
        }
        env.update(case.settings)
        if case.profile_to is not None:
            env["BENCH_PROFILE_OUT"] = str(case.profile_to)
        if case.telemetry:
            env["OTEL_EXPORTER_OTLP_ENDPOINT"] = self.receiver.endpoint
        else:
            env["OTEL_EXPORTER_OTLP_ENDPOINT"] = ""
            env["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] = ""
        return env


def _module(case: MailerCase) -> str:
    if case.kind == "original":
        return "bench.original_mailer"
    return "mailer" if case.profile_to is None else "bench.profiled_mailer"


def _assigned_at(log_path: Path) -> float:
    """Read the wall-clock time of the first partition assignment the process logged."""
    for line in log_path.read_text(errors="replace").splitlines():
        if _ASSIGNED in line and line.startswith("{"):
            stamp = json.loads(line)["timestamp"]
            return datetime.fromisoformat(stamp).timestamp()
    msg = f"{log_path} has no {_ASSIGNED!r} line"
    raise HarnessError(msg)


def process_cpu_seconds(pid: int | None, thread: int | None = None) -> float:
    """User plus system CPU a running process (or one of its threads) has used (``/proc``).

    The main thread (``thread=pid``) runs the event loop; the rest is the span exporter.
    """
    if pid is None:
        return 0.0
    stat = f"/proc/{pid}/stat" if thread is None else f"/proc/{pid}/task/{thread}/stat"
    try:
        fields = Path(stat).read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def unset_inherited_tracing() -> None:
    """Keep an OTLP endpoint from the caller's shell out of every child's environment."""
    for name in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        os.environ.pop(name, None)


def rate_figure(key: str, label: str, runs: list[MailerRun]) -> Figure:
    """Mails per second, with the CPU, spans and machine load behind the runs."""
    return Figure(
        key=key,
        label=label,
        unit="mails/s",
        samples=tuple(run.mails_per_s for run in runs),
        extra={
            "cpu_ms_per_mail": _median(run.cpu_ms_per_mail for run in runs),
            "event_loop_cpu_ms_per_mail": _median(run.loop_cpu_ms_per_mail for run in runs),
            "startup_s": _median(run.startup_s for run in runs),
            "spans_per_mail": _median(run.spans / run.mails for run in runs),
            "load_1m": " ".join(f"{run.load_1m:.2f}" for run in runs),
        },
    )


def _median(values: Iterable[float]) -> float:
    return round(statistics.median(list(values)), 3)
