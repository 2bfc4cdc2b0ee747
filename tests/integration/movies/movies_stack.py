"""A movies + mailer pair on its own topic and database, as OS processes, for one backend."""

from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx
from received_mail import code_in, mails_to, wait_for_mails
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from devstack.ports import free_port
from devstack.processes import ServiceProcess
from devstack.seal_keys import seal_settings
from devstack.smtp_sink import MailSink
from mailcontract import dead_letter_topic
from movies.catalogue.seed import seed_catalogue
from movies.platform.database import open_database
from movies.schema_migrations import upgrade_schema

if TYPE_CHECKING:
    from collections.abc import Mapping
    from email.message import Message
    from pathlib import Path

    from devstack import KafkaBroker


@dataclass
class MoviesStack:
    """The running pair, with what tests need to talk to it and look inside."""

    backend: str
    api: str
    database_url: str
    topic: str
    admin_email: str
    hmac_secret: str
    sink: MailSink
    movies: ServiceProcess
    mailer: ServiceProcess
    env: dict[str, str] = field(default_factory=dict)

    def client(self, token: str | None = None) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.AsyncClient(base_url=self.api, headers=headers, timeout=30)

    async def sql(self, statement: str, **params: Any) -> list[Any]:
        """Run one statement on the service's database and return the rows (if any)."""
        engine = create_async_engine(self.database_url)
        try:
            async with engine.begin() as connection:
                result = await connection.execute(text(statement), params)
                return list(result.all()) if result.returns_rows else []
        finally:
            await engine.dispose()

    async def request_code(self, address: str, **extra: str) -> Message:
        """Ask for a code and return the mail that brings it (to the lower-cased address)."""
        recipient = address.lower()
        before = len(mails_to(self.sink, recipient))
        async with self.client() as client:
            reply = await client.post("/auth/codes", json={"email": address, **extra})
        assert reply.status_code == 202, reply.text
        mails = await asyncio.to_thread(wait_for_mails, self.sink, recipient, before + 1, 60.0)
        return mails[-1]

    async def sign_in(self, address: str) -> str:
        """The whole flow: code by mail, exchanged for a session token."""
        code = code_in(await self.request_code(address, locale="en"))
        async with self.client() as client:
            reply = await client.post("/auth/sessions", json={"email": address, "code": code})
        assert reply.status_code == 201, reply.text
        token: str = reply.json()["access_token"]
        return token

    def logs(self) -> str:
        return self.movies.log_text() + self.mailer.log_text()

    def stop(self) -> None:
        self.movies.stop()
        self.mailer.stop()


def run_movies_command(command: str, env: Mapping[str, str]) -> str:
    """``python -m movies <command>`` with the stack's environment; fail with its output."""
    result = subprocess.run(
        [sys.executable, "-m", "movies", command],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, f"movies {command} failed:\n{result.stdout}{result.stderr}"
    return result.stdout


def start_stack(  # noqa: PLR0913 -- every part of the stack is chosen by the fixture
    *,
    backend: str,
    database_url: str,
    broker: KafkaBroker,
    sink: MailSink,
    workdir: Path,
    extra_env: Mapping[str, str] | None = None,
) -> MoviesStack:
    """Create a topic, migrate and seed, then start movies and its own mailer."""
    tag = uuid.uuid4().hex[:8]
    topic = f"movies-it.{backend}.{tag}"
    broker.create_topics({topic: 3, dead_letter_topic(topic): 1})
    port = free_port()
    env = _movies_env(
        backend=backend,
        database_url=database_url,
        broker=broker,
        topic=topic,
        port=port,
        tag=tag,
    )
    seal = seal_settings()
    env |= seal | dict(extra_env or {})
    asyncio.run(_migrate_and_seed(database_url))
    movies = ServiceProcess("movies", env, workdir / f"movies-{backend}-{tag}.log")
    mailer = ServiceProcess(
        "mailer", _mailer_env(broker, sink, topic, tag) | seal, workdir / f"mailer-{tag}.log"
    )
    stack = MoviesStack(
        backend=backend,
        api=f"http://127.0.0.1:{port}",
        database_url=database_url,
        topic=topic,
        admin_email=env["ADMIN_EMAILS"],
        hmac_secret=env["OTP_HMAC_SECRET"],
        sink=sink,
        movies=movies,
        mailer=mailer,
        env=env,
    )
    movies.start()
    mailer.start()
    try:
        movies.wait_http_ok(f"{stack.api}/healthz", timeout=60)
        mailer.wait_for_log("mailer consuming", timeout=60)
    except BaseException:
        stack.stop()
        raise
    return stack


async def _migrate_and_seed(database_url: str) -> None:
    """What ``python -m movies seed`` does, in-process: a CLI start costs seconds on 2 cores."""
    database = open_database(database_url)
    try:
        await upgrade_schema(database)
        await seed_catalogue(database)
    finally:
        await database.dispose()


def _movies_env(  # noqa: PLR0913 -- one value per variable the test stack sets
    *,
    backend: str,
    database_url: str,
    broker: KafkaBroker,
    topic: str,
    port: int,
    tag: str,
) -> dict[str, str]:
    return {
        "MOVIES_PORT": str(port),
        "DATABASE_URL": database_url,
        "KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap_servers,
        "KAFKA_REQUEST_TIMEOUT_MS": "5000",
        "MAIL_TOPIC": topic,
        "OTP_HMAC_SECRET": secrets.token_urlsafe(48),
        "JWT_SECRET": secrets.token_urlsafe(48),
        "ADMIN_EMAILS": f"admin-{backend}-{tag}@example.com",
        "RATE_LIMIT_CODES_PER_CLIENT": "100000",
        "RATE_LIMIT_SESSIONS_PER_CLIENT": "100000",
        "OUTBOX_POLL_SECONDS": "30",  # a commit must wake the relay; polling would hide it
        "OUTBOX_BACKOFF_MAX_SECONDS": "2",
        "OUTBOX_PUBLISH_TIMEOUT_SECONDS": "8",
    }


def _mailer_env(broker: KafkaBroker, sink: MailSink, topic: str, tag: str) -> dict[str, str]:
    return {
        "KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap_servers,
        "MAIL_TOPIC": topic,
        "MAILER_GROUP_ID": f"mailer-movies-it-{tag}",
        "MAILER_PORT": str(free_port()),
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(sink.port),
        "SMTP_SECURITY": "plain",
    }
