"""movies and mailer as OS processes, exporting traces to a receiver, on a topic of their own."""

from __future__ import annotations

import secrets
import urllib.request
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from devstack.otlp_receiver import OtlpReceiver
from devstack.ports import free_port
from devstack.processes import ServiceProcess
from devstack.seal_keys import seal_settings

if TYPE_CHECKING:
    from pathlib import Path

    from devstack import KafkaBroker
    from devstack.smtp_sink import MailSink

OPENMETRICS = "application/openmetrics-text; version=1.0.0"


@dataclass
class ObservedStack:
    """The services under observation and where to reach them."""

    movies: ServiceProcess
    mailer: ServiceProcess
    receiver: OtlpReceiver
    topic: str
    api: str
    mailer_port: int
    movies_port: int
    seal: dict[str, str]

    def logs(self) -> str:
        return self.movies.log_text() + self.mailer.log_text()

    def metrics(self, service: str) -> str:
        port = self.movies_port if service == "movies" else self.mailer_port
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/metrics", headers={"Accept": OPENMETRICS}
        )
        with urllib.request.urlopen(request, timeout=5) as reply:  # noqa: S310 -- loopback
            return str(reply.read().decode())

    def stop(self) -> None:
        self.movies.stop()
        self.mailer.stop()


def start_observed_stack(kafka: KafkaBroker, sink: MailSink, workdir: Path) -> ObservedStack:
    """Start both services with tracing to a fresh receiver; the mailer's group is ``mailer``."""
    topic = f"mail.otp.observed-{uuid.uuid4().hex[:8]}"
    kafka.create_topics({topic: 3, f"{topic}.dlq": 1})
    receiver = OtlpReceiver()
    receiver.start()
    tracing = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
        "OTEL_BSP_SCHEDULE_DELAY": "200",
        "OTEL_RESOURCE_ATTRIBUTES": "deployment.environment=test",
    }
    seal = seal_settings()
    common = {
        "KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap_servers,
        "MAIL_TOPIC": topic,
        **tracing,
        **seal,
    }
    movies_port, mailer_port = free_port(), free_port()
    movies = ServiceProcess(
        "movies", {**common, **_movies_env(workdir, movies_port)}, workdir / "movies.log"
    )
    mailer = ServiceProcess(
        "mailer", {**common, **_mailer_env(sink, mailer_port)}, workdir / "mailer.log"
    )
    movies.start()
    mailer.start()
    api = f"http://127.0.0.1:{movies_port}"
    movies.wait_http_ok(f"{api}/healthz", timeout=60)
    mailer.wait_for_log("partitions assigned", timeout=60)
    return ObservedStack(movies, mailer, receiver, topic, api, mailer_port, movies_port, seal)


def _movies_env(workdir: Path, port: int) -> dict[str, str]:
    return {
        "MOVIES_PORT": str(port),
        "DATABASE_URL": f"sqlite+aiosqlite:///{workdir / 'movies.db'}",
        "OTP_HMAC_SECRET": secrets.token_urlsafe(48),
        "JWT_SECRET": secrets.token_urlsafe(48),
        "RATE_LIMIT_CODES_PER_CLIENT": "1000000",
        "RATE_LIMIT_CODES_PER_ADDRESS": "1000",
        "RATE_LIMIT_SESSIONS_PER_CLIENT": "1000000",
        "OTEL_SERVICE_NAME": "movies",
    }


def _mailer_env(sink: MailSink, port: int) -> dict[str, str]:
    return {
        "MAILER_GROUP_ID": "mailer",
        "MAILER_PORT": str(port),
        "MAILER_LAG_INTERVAL_SECONDS": "1",
        "MAILER_RETRY_MAX_ATTEMPTS": "40",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(sink.port),
        "SMTP_SECURITY": "plain",
        "OTEL_SERVICE_NAME": "mailer",
    }
