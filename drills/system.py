"""The system one drill runs against: its topic, database, sink, movies and mailer replicas.

Every drill gets fresh processes, a topic, a consumer group, a database and a sink of its
own on the shared broker and PostgreSQL server, so one drill's backlog or duplicates can
never be counted by the next.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import sys
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from devstack.errors import HarnessError
from devstack.ports import free_port
from devstack.seal_keys import seal_settings
from devstack.smtp_sink import MailSink
from drills.mail_sinks import open_sink
from drills.replicas import TEARDOWN_TIMEOUT_SECONDS, MailerReplica, MoviesReplica, Replica
from drills.traffic import Router

if TYPE_CHECKING:
    from drills.infrastructure import Infrastructure
    from drills.settings import DrillSettings, TelemetryCapture

SECRET_BYTES = 48
OTEL_BATCH_DELAY_MS = "200"
# Every request of a drill comes from 127.0.0.1, where production would see many
# clients; the per-client limit would otherwise refuse the traffic after 30 requests.
UNLIMITED_PER_CLIENT = "100000000"


@dataclass(frozen=True, slots=True)
class Layout:
    """How many replicas a drill needs; one settings override mapping per movies replica."""

    movies: tuple[Mapping[str, str], ...] = ({},)
    mailers: int = 1


@dataclass
class SystemUnderDrill:
    """Everything one drill started, and the ways to look inside it."""

    number: int
    tag: str
    topic: str
    otp_secret: str = field(repr=False)
    workdir: Path
    sink: MailSink
    movies: list[MoviesReplica]
    mailers: list[MailerReplica]
    router: Router
    engine: AsyncEngine = field(repr=False)

    def address(self, index: int) -> str:
        """Return the unique address of the ``index``-th request of this drill."""
        return f"drill{self.number}-{self.tag}-{index:06d}@example.com"

    async def sql(self, statement: str, **params: Any) -> list[Any]:  # noqa: ANN401 -- bind values of any SQL type
        """Run one statement on the drill's database and return its rows."""
        async with self.engine.begin() as connection:
            result = await connection.execute(text(statement), params)
            return list(result.all()) if result.returns_rows else []

    async def pending_outbox(self) -> int:
        """Outbox rows committed but not yet published to Kafka."""
        [(count,)] = await self.sql("SELECT count(*) FROM outbox_messages WHERE sent_at IS NULL")
        return int(count)

    def replicas(self) -> list[Replica]:
        """Every service replica, movies first."""
        return [*self.movies, *self.mailers]

    async def stop(self) -> None:
        """Stop every process gracefully, close the sink and the database engine."""
        await asyncio.gather(
            *(replica.stop(TEARDOWN_TIMEOUT_SECONDS) for replica in self.replicas())
        )
        self.sink.stop()
        await self.engine.dispose()


@dataclass(frozen=True, slots=True)
class _Place:
    """Where one drill lives: its number, a random tag, its directory."""

    number: int
    tag: str
    workdir: Path

    @property
    def topic(self) -> str:
        """The drill's own topic (its dead letters go to ``<topic>.dlq``)."""
        return f"drills.{self.number}.{self.tag}"


async def start_system(
    number: int, layout: Layout, infra: Infrastructure, settings: DrillSettings
) -> SystemUnderDrill:
    """Create the topic and database, migrate, open the sink, start every replica."""
    place = _Place(number, uuid.uuid4().hex[:8], settings.workdir / f"drill-{number}")
    place.workdir.mkdir(parents=True, exist_ok=True)
    await infra.kafka.create_topics_async(
        {place.topic: settings.partitions, f"{place.topic}.dlq": 1}
    )
    database_url = await infra.create_database(f"drill{number}_{place.tag}")
    system = _assemble(place, database_url, layout, infra.kafka.bootstrap_servers, settings)
    try:
        await _migrate(system)
        system.sink.start()
        await _start_replicas(system)
    except BaseException:
        await system.stop()
        raise
    return system


def _assemble(
    place: _Place, database_url: str, layout: Layout, broker: str, settings: DrillSettings
) -> SystemUnderDrill:
    """Build every part, secrets included; nothing runs yet."""
    otp_secret, jwt_secret = (
        secrets.token_urlsafe(SECRET_BYTES),
        secrets.token_urlsafe(SECRET_BYTES),
    )
    seal = seal_settings()
    movies_env = _movies_env(broker, place.topic, database_url, otp_secret, jwt_secret)
    movies_env |= _tracing_env(settings.telemetry) | seal
    credentials = settings.telemetry.smtp if settings.telemetry else None
    sink = open_sink(place.workdir / "mail", free_port(), credentials)
    group = f"drills-{place.number}-{place.tag}"
    mailer_env = _mailer_env(broker, place.topic, group, sink.port, settings) | seal
    movies = [
        _movies(f"movies-{chr(97 + i)}", movies_env | dict(extra), place.workdir)
        for i, extra in enumerate(layout.movies)
    ]
    return SystemUnderDrill(
        number=place.number,
        tag=place.tag,
        topic=place.topic,
        otp_secret=otp_secret,
        workdir=place.workdir,
        sink=sink,
        movies=movies,
        mailers=[
            _mailer(f"mailer-{chr(97 + i)}", mailer_env, place.workdir)
            for i in range(layout.mailers)
        ],
        router=Router([replica.url for replica in movies]),
        engine=create_async_engine(database_url, pool_pre_ping=True),
    )


def _movies(name: str, env: Mapping[str, str], workdir: Path) -> MoviesReplica:
    port = free_port()
    return MoviesReplica(name, "movies", {**env, "MOVIES_PORT": str(port)}, port, workdir)


def _mailer(name: str, env: Mapping[str, str], workdir: Path) -> MailerReplica:
    port = free_port()
    return MailerReplica(name, "mailer", {**env, "MAILER_PORT": str(port)}, port, workdir)


def _movies_env(
    broker: str, topic: str, database_url: str, otp_secret: str, jwt_secret: str
) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "DATABASE_MIGRATE_ON_START": "false",
        "KAFKA_BOOTSTRAP_SERVERS": broker,
        "MAIL_TOPIC": topic,
        "OTP_HMAC_SECRET": otp_secret,
        "JWT_SECRET": jwt_secret,
        "RATE_LIMIT_CODES_PER_CLIENT": UNLIMITED_PER_CLIENT,
        "RATE_LIMIT_SESSIONS_PER_CLIENT": UNLIMITED_PER_CLIENT,
    }


def _mailer_env(
    broker: str, topic: str, group: str, smtp_port: int, settings: DrillSettings
) -> dict[str, str]:
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": broker,
        "MAIL_TOPIC": topic,
        "MAILER_GROUP_ID": group,
        "MAILER_MAX_INFLIGHT": str(settings.max_inflight),
        "MAILER_LAG_INTERVAL_SECONDS": "1",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp_port),
        "SMTP_SECURITY": "plain",
        "SMTP_POOL_SIZE": str(settings.smtp_pool_size),
    }
    if settings.telemetry is not None:
        env["SMTP_USERNAME"] = settings.telemetry.smtp.username
        env["SMTP_PASSWORD"] = settings.telemetry.smtp.password
    return env | _tracing_env(settings.telemetry)


def _tracing_env(telemetry: TelemetryCapture | None) -> dict[str, str]:
    if telemetry is None:
        return {}
    return {
        "OTEL_EXPORTER_OTLP_ENDPOINT": telemetry.otlp_endpoint,
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        "OTEL_BSP_SCHEDULE_DELAY": OTEL_BATCH_DELAY_MS,
    }


async def _migrate(system: SystemUnderDrill) -> None:
    """``python -m movies migrate`` once, so the replicas never race to migrate."""
    log_path = system.workdir / "migrate.log"
    with log_path.open("ab") as log:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "movies",
            "migrate",
            env={**os.environ, **system.movies[0].env},
            stdout=log,
            stderr=asyncio.subprocess.STDOUT,
        )
        status = await process.wait()
    if status != 0:
        msg = f"movies migrate exited with {status}:\n{log_path.read_text(errors='replace')}"
        raise HarnessError(msg)


async def _start_replicas(system: SystemUnderDrill) -> None:
    """Movies replicas together; mailers one after another, so each joins a settled group."""
    await asyncio.gather(*(replica.start() for replica in system.movies))
    for mailer in system.mailers:
        await mailer.start()


def live_mailers(mailers: Sequence[MailerReplica]) -> list[MailerReplica]:
    """Return the mailer replicas whose process is alive right now."""
    return [mailer for mailer in mailers if mailer.running]
