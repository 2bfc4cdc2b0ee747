"""Session fixtures: one real Kafka broker and one real SMTP sink for the whole run."""

from __future__ import annotations

import secrets
import uuid
from typing import TYPE_CHECKING

import pytest
from running_stack import RunningStack

from devstack import KafkaBroker
from devstack.ports import free_port
from devstack.postgres import PostgresServer
from devstack.processes import ServiceProcess
from devstack.seal_keys import seal_settings
from devstack.smtp_sink import MailSink
from mailcontract import DEFAULT_TOPIC, dead_letter_topic
from run_figures import record

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = pytest.mark.integration
TOPIC_PARTITIONS = 3


@pytest.fixture(scope="session")
def kafka(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[KafkaBroker]:
    broker = KafkaBroker(tmp_path_factory.mktemp("kafka"))
    record("harness", "kafka broker start (s)", round(broker.start(), 2))
    broker.create_topics({DEFAULT_TOPIC: TOPIC_PARTITIONS, dead_letter_topic(DEFAULT_TOPIC): 1})
    yield broker
    if request.session.testsfailed:
        print(f"\n--- broker log ({broker.log_path}) ---\n{broker.log_tail()}")
    broker.stop()


@pytest.fixture(scope="session")
def smtp_sink(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MailSink]:
    sink = MailSink(tmp_path_factory.mktemp("mail"), free_port())
    sink.start()
    yield sink
    sink.stop()


@pytest.fixture(scope="session")
def postgres(request: pytest.FixtureRequest) -> Iterator[PostgresServer]:
    server = PostgresServer()
    print(f"\npostgres ready in {server.start():.2f}s on port {server.port}")
    yield server
    if request.session.testsfailed:
        print(f"\n--- postgres log ---\n{server.log_tail()}")
    server.cleanup()


@pytest.fixture(scope="session")
def stack(
    kafka: KafkaBroker,
    smtp_sink: MailSink,
    tmp_path_factory: pytest.TempPathFactory,
    request: pytest.FixtureRequest,
) -> Iterator[RunningStack]:
    workdir = tmp_path_factory.mktemp("stack")
    port = free_port()
    secret = secrets.token_urlsafe(48)
    database = workdir / "movies.db"
    common = {
        "KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap_servers,
        "MAIL_TOPIC": DEFAULT_TOPIC,
        **seal_settings(),
    }
    movies = ServiceProcess(
        "movies",
        {
            **common,
            "MOVIES_PORT": str(port),
            "DATABASE_URL": f"sqlite+aiosqlite:///{database}",
            "OTP_HMAC_SECRET": secret,
            "JWT_SECRET": secrets.token_urlsafe(48),
        },
        workdir / "movies.log",
    )
    mailer = ServiceProcess(
        "mailer",
        {
            **common,
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(smtp_sink.port),
            "SMTP_SECURITY": "plain",
            "MAILER_GROUP_ID": f"mailer-it-{uuid.uuid4().hex[:8]}",
            "MAILER_PORT": str(free_port()),
        },
        workdir / "mailer.log",
    )
    movies.start()
    mailer.start()
    running = RunningStack(movies, mailer, f"http://127.0.0.1:{port}", database, secret)
    try:
        movies.wait_http_ok(f"{running.api}/healthz", timeout=60)
        mailer.wait_for_log("mailer consuming", timeout=60)
        yield running
    finally:
        movies.stop()
        mailer.stop()
        if request.session.testsfailed:
            for service in (movies, mailer):
                print(f"\n--- {service.module} log ---\n{service.log_tail()}")
