"""A movies API on a PostgreSQL database of its own, with secrets the tests know.

Knowing the JWT secret lets the tests forge exactly the tokens they mean to (a valid
one as the control, and each hostile variant); knowing the database lets them count
what a request really did (codes issued, rows stored) rather than trust its answer.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from devstack.ports import free_port
from devstack.processes import ServiceProcess
from devstack.seal_keys import seal_settings

if TYPE_CHECKING:
    from pathlib import Path

    from drills.infrastructure import Infrastructure

CODES_PER_ADDRESS = 5


@dataclass
class ApiUnderTest:
    """The running API and what the tests need to talk to it and look inside."""

    url: str
    database_url: str = field(repr=False)
    jwt_secret: str = field(repr=False)
    admin_email: str
    process: ServiceProcess

    def client(self, token: str | None = None) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        limits = httpx.Limits(max_connections=200)
        return httpx.AsyncClient(base_url=self.url, headers=headers, timeout=30, limits=limits)

    async def sql(self, statement: str, **params: Any) -> list[Any]:
        engine = create_async_engine(self.database_url)
        try:
            async with engine.begin() as connection:
                result = await connection.execute(text(statement), params)
                return list(result.all()) if result.returns_rows else []
        finally:
            await engine.dispose()

    async def add_user(self, email: str) -> str:
        """Create an account directly, as a first sign-in would, and return its id."""
        user_id = str(uuid.uuid4())
        now = datetime.now(UTC)
        await self.sql(
            "INSERT INTO users (id, email, created_at, last_sign_in_at) "
            "VALUES (:id, :email, :now, :now)",
            id=user_id,
            email=email,
            now=now,
        )
        return user_id

    async def codes_issued_to(self, email: str) -> int:
        [(count,)] = await self.sql(
            "SELECT count(*) FROM otp_codes WHERE email = :email", email=email
        )
        return int(count)


async def start_api(infra: Infrastructure, workdir: Path) -> ApiUnderTest:
    """Create a database, load the seed catalogue, start movies on it."""
    tag = uuid.uuid4().hex[:8]
    topic = f"security.{tag}"
    await infra.broker.create_topics_async({topic: 1, f"{topic}.dlq": 1})
    database_url = await infra.create_database(f"security_{tag}")
    port = free_port()
    env = {
        "MOVIES_PORT": str(port),
        "DATABASE_URL": database_url,
        "DATABASE_MIGRATE_ON_START": "false",
        "KAFKA_BOOTSTRAP_SERVERS": infra.broker.bootstrap_servers,
        "MAIL_TOPIC": topic,
        "OTP_HMAC_SECRET": secrets.token_urlsafe(48),
        "JWT_SECRET": secrets.token_urlsafe(48),
        "ADMIN_EMAILS": f"admin-{tag}@example.com",
        "RATE_LIMIT_CODES_PER_ADDRESS": str(CODES_PER_ADDRESS),
        "RATE_LIMIT_CODES_PER_CLIENT": "100000000",
        "RATE_LIMIT_SESSIONS_PER_CLIENT": "100000000",
        **seal_settings(),
    }
    await asyncio.to_thread(_seed, env)
    process = ServiceProcess("movies", env, workdir / "movies.log")
    process.start()
    url = f"http://127.0.0.1:{port}"
    await asyncio.to_thread(process.wait_http_ok, f"{url}/healthz", 90)
    return ApiUnderTest(url, database_url, env["JWT_SECRET"], env["ADMIN_EMAILS"], process)


def _seed(env: dict[str, str]) -> None:
    """``python -m movies seed``: migrate, then load the seed catalogue."""
    result = subprocess.run(
        [sys.executable, "-m", "movies", "seed"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
        timeout=180,
    )
    assert result.returncode == 0, f"movies seed failed:\n{result.stdout}{result.stderr}"
