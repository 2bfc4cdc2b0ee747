"""The yardstick for B2: a code request answered the way the original movie service did.

Store the code, then ``send_and_wait`` the bare ``{"email", "code"}`` to Kafka before
answering: the request waits for the broker's acknowledgement, and a broker outage is
a failed request. No outbox, no rate limits, no telemetry. Same web stack (Litestar
on uvicorn) and the same database drivers as movies, so the difference is the design.
``python -m bench.original_api`` reads ``DATABASE_URL``, ``KAFKA_BOOTSTRAP_SERVERS``,
``MAIL_TOPIC`` and ``MOVIES_PORT``.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import msgspec
import uvicorn
from aiokafka import AIOKafkaProducer
from litestar import Litestar, get, post
from litestar.datastructures import State
from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

METADATA = MetaData()
CODES = Table(
    "bench_otp_codes",
    METADATA,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("email", String(254), nullable=False),
    Column("code_hash", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)


class CodeRequest(msgspec.Struct, frozen=True):
    """The request body movies accepts too."""

    email: str


@post("/auth/codes", status_code=202)
async def request_code(data: CodeRequest, state: State) -> dict[str, str]:
    """Insert the code's hash, publish and wait for the ack, then answer."""
    code = f"{secrets.randbelow(1_000_000):06d}"
    engine: AsyncEngine = state.engine
    async with engine.begin() as connection:
        await connection.execute(
            CODES.insert().values(
                email=data.email.lower(),
                code_hash=hashlib.sha256(code.encode()).hexdigest(),
                created_at=datetime.now(UTC),
            )
        )
    producer: AIOKafkaProducer = state.producer
    body = json.dumps({"email": data.email, "code": code}).encode()
    await producer.send_and_wait(os.environ["MAIL_TOPIC"], value=body)
    return {"status": "accepted"}


@get("/healthz")
async def healthz() -> dict[str, str]:
    """Answer once the lifespan has connected everything."""
    return {"status": "ok"}


@asynccontextmanager
async def lifespan(app: Litestar) -> AsyncIterator[None]:
    """Own the engine and the producer for the app's lifetime."""
    engine = create_async_engine(os.environ["DATABASE_URL"])
    async with engine.begin() as connection:
        await connection.run_sync(METADATA.create_all)
    producer = AIOKafkaProducer(bootstrap_servers=os.environ["KAFKA_BOOTSTRAP_SERVERS"])
    await producer.start()
    app.state.engine, app.state.producer = engine, producer
    try:
        yield
    finally:
        await producer.stop()
        await engine.dispose()


def create_app() -> Litestar:
    """Build the app: the two routes and the lifespan."""
    return Litestar([request_code, healthz], lifespan=[lifespan])


if __name__ == "__main__":
    uvicorn.run(
        create_app(),
        host="127.0.0.1",
        port=int(os.environ["MOVIES_PORT"]),
        log_level="warning",
        access_log=False,
    )
