"""What ``pool_pre_ping`` costs a code request on PostgreSQL: ``python -m bench.pre_ping``.

Issues codes one after the other through :class:`movies.auth.sign_in.CodeIssuer` on a
fresh local PostgreSQL, with the engine movies uses and with the same engine plus
``pool_pre_ping=True`` (on asyncpg: BEGIN, a ping and ROLLBACK per checkout), and
prints wall-clock and CPU milliseconds per request for each, interleaved over rounds.
"""

from __future__ import annotations

import asyncio
import dataclasses
import sys
import time
import uuid
from datetime import timedelta

from sqlalchemy.ext.asyncio import create_async_engine

from bench.prefill import SEAL_SETTINGS
from devstack.postgres import PostgresServer
from devstack.seal_keys import keyring_of
from mailcontract import Locale, Purpose
from movies.auth.rate_limits import RateLimit
from movies.auth.sign_in import CodeIssuer, SignInPolicy
from movies.outbox.messages import MailRoute
from movies.platform.database import Database, open_database
from movies.schema_migrations import upgrade_schema
from telemetry import configure_logging

REQUESTS = 2000
ROUNDS = 5


def _with_pre_ping(database: Database) -> Database:
    url = database.engine.url.render_as_string(hide_password=False)
    engine = create_async_engine(url, pool_pre_ping=True, hide_parameters=True)
    autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
    return dataclasses.replace(database, engine=engine, writer=engine, autocommit=autocommit)


async def _per_request(database: Database) -> tuple[float, float]:
    rule = RateLimit("bench", 10**9, 3600)
    route = MailRoute("bench", keyring_of(SEAL_SETTINGS))
    policy = SignInPolicy("s" * 32, timedelta(minutes=10), 5, route, rule, rule, rule)
    issuer = CodeIssuer(database, policy, asyncio.Event())
    wall, cpu = time.perf_counter(), time.process_time()
    for number in range(REQUESTS):
        email = f"{uuid.uuid4().hex[:8]}-{number}@example.com"
        await issuer.issue(email, Purpose.LOGIN, Locale.EN, "10.9.0.1")
    per = 1000 / REQUESTS
    return (time.perf_counter() - wall) * per, (time.process_time() - cpu) * per


async def _measure(url: str) -> dict[str, list[tuple[float, float]]]:
    plain = open_database(url)
    await upgrade_schema(plain)
    pinged = _with_pre_ping(plain)
    results: dict[str, list[tuple[float, float]]] = {"no pre-ping": [], "pre-ping": []}
    for _ in range(ROUNDS):
        results["no pre-ping"].append(await _per_request(plain))
        results["pre-ping"].append(await _per_request(pinged))
    await pinged.engine.dispose()
    await plain.dispose()
    return results


def main() -> None:
    """Start PostgreSQL, measure both engines, print the figures."""
    configure_logging("bench", level="warning", fmt="console", stream=sys.stderr)
    server = PostgresServer()
    server.start()
    try:
        results = asyncio.run(_measure(server.create_database("pre_ping")))
    finally:
        server.cleanup()
    for name, runs in results.items():
        walls = ", ".join(f"{wall:.2f}" for wall, _ in runs)
        cpus = ", ".join(f"{cpu:.2f}" for _, cpu in runs)
        sys.stdout.write(f"{name}: wall ms/request {walls}; CPU ms/request {cpus}\n")


if __name__ == "__main__":
    main()
