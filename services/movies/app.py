"""The Litestar application factory and the lifespan that owns every resource."""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import TYPE_CHECKING

from litestar import Litestar
from litestar.openapi import OpenAPIConfig

from mailcontract import Purpose
from movies.auth.access_tokens import Principal, SessionTokens, build_jwt_auth
from movies.auth.email_change import EmailChanger
from movies.auth.email_change_routes import AccountController
from movies.auth.rate_limits import RateLimit
from movies.auth.sign_in import CodeIssuer, CodeVerifier, SignInPolicy, Verification
from movies.auth.sign_in_routes import AuthController
from movies.catalogue.routes import MovieController
from movies.catalogue.service import Catalogue
from movies.dependencies import Resources, app_dependencies, database_of, keep_resources
from movies.housekeeping import Housekeeping
from movies.outbox.code_publisher import CodePublisher
from movies.outbox.messages import MailRoute
from movies.outbox.relay import OutboxRelay
from movies.platform import metrics
from movies.platform.content_types import JsonBodyRequest, require_json_body
from movies.platform.database import Database, open_database
from movies.platform.health_routes import ReadinessProbes, healthz, readyz
from movies.platform.instrumentation import (
    instrument_engine,
    name_span_by_route,
    opentelemetry_plugin,
    uninstrument_engines,
)
from movies.platform.metrics_routes import MetricsController, prometheus_config
from movies.platform.problems import exception_handlers
from movies.platform.settings import MoviesSettings, get_settings
from movies.schema_migrations import upgrade_schema
from movies.watchlist.routes import WatchlistController
from movies.watchlist.service import WatchlistStore

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from litestar.security.jwt import JWTAuth, Token
    from litestar.types import Middleware
    from opentelemetry.trace import TracerProvider

API_VERSION = "1.0.0"


def create_app(
    settings: MoviesSettings | None = None, *, tracer_provider: TracerProvider | None = None
) -> Litestar:
    """Build the app; resources are opened by its lifespan, not at import.

    With a ``tracer_provider`` (tracing is on), requests and SQL statements are traced;
    without one, no instrumentation is installed at all.
    """
    config = settings or get_settings()
    jwt_auth = build_jwt_auth(config.tokens, config.admin_emails, database_of)
    middleware: list[Middleware] = [prometheus_config().middleware, jwt_auth.middleware]

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        database = open_database(
            config.database_url, config.database_timeout_seconds, config.database_pool_size
        )
        if tracer_provider is not None:
            instrument_engine(database.engine, tracer_provider)
        publisher = CodePublisher(config.kafka, config.kafka_request_timeout_ms)
        relay: OutboxRelay | None = None
        _prime_metrics(config)
        try:
            if config.migrate_on_start:
                await upgrade_schema(database)
            relay = _start_relay(config, database, publisher)
            keep_resources(
                app.state, _resources(config, database, publisher, relay.wakeup, jwt_auth)
            )
            yield
        finally:
            if relay is not None:
                await relay.stop()
            await publisher.stop()
            await database.dispose()
            if tracer_provider is not None:
                uninstrument_engines()

    return Litestar(
        route_handlers=[
            AuthController,
            AccountController,
            MovieController,
            WatchlistController,
            healthz,
            readyz,
            MetricsController,
        ],
        dependencies=app_dependencies(),
        exception_handlers=exception_handlers(),
        lifespan=[lifespan],
        middleware=[name_span_by_route, *middleware] if tracer_provider else middleware,
        openapi_config=_openapi_config(jwt_auth),
        plugins=[opentelemetry_plugin(tracer_provider)] if tracer_provider else [],
        before_request=require_json_body,
        request_class=JsonBodyRequest,
        request_max_body_size=config.max_request_body_bytes,
        logging_config=None,  # telemetry.configure_logging owns the root logger
    )


def _openapi_config(jwt_auth: JWTAuth[Principal, Token]) -> OpenAPIConfig:
    return OpenAPIConfig(
        title="reelmail movies",
        version=API_VERSION,
        description=(
            "Movie catalogue, passwordless sign-in by a mailed one-time code, and watchlists. "
            "Every error is an RFC 9457 `application/problem+json` document."
        ),
        path="/schema",
        components=[jwt_auth.openapi_components],
        use_handler_docstrings=True,
    )


def _start_relay(
    config: MoviesSettings, database: Database, publisher: CodePublisher
) -> OutboxRelay:
    housekeeping = Housekeeping(
        database=database,
        retention=timedelta(seconds=config.outbox.retention_seconds),
        rate_limit_window=timedelta(seconds=config.rate_limits.window_seconds),
    )
    relay = OutboxRelay(database, publisher, config.outbox, asyncio.Event(), housekeeping)
    relay.start()
    return relay


def _resources(
    config: MoviesSettings,
    database: Database,
    publisher: CodePublisher,
    outbox_wakeup: asyncio.Event,
    jwt_auth: JWTAuth[Principal, Token],
) -> Resources:
    policy = sign_in_policy(config)
    issuer = CodeIssuer(database, policy, outbox_wakeup)
    verifier = CodeVerifier(database, policy)
    probes = {"database": database.reachable, "kafka": publisher.metadata_reachable}
    return Resources(
        database=database,
        code_publisher=publisher,
        code_issuer=issuer,
        code_verifier=verifier,
        email_changer=EmailChanger(issuer, verifier),
        session_tokens=SessionTokens(jwt_auth, config.tokens),
        catalogue=Catalogue(database),
        watchlist_store=WatchlistStore(database),
        readiness_probes=ReadinessProbes(probes),
    )


def sign_in_policy(config: MoviesSettings) -> SignInPolicy:
    """Derive the sign-in rules from the settings."""
    limits = config.rate_limits
    return SignInPolicy(
        hmac_secret=config.otp_hmac_secret,
        ttl=timedelta(seconds=config.otp_ttl_seconds),
        max_attempts=config.otp_max_attempts,
        mail_route=MailRoute(config.mail_topic, config.mail_keyring),
        per_address=RateLimit("codes_per_address", limits.codes_per_address, limits.window_seconds),
        per_client=RateLimit("codes_per_client", limits.codes_per_client, limits.window_seconds),
        sessions_per_client=RateLimit(
            "sessions_per_client",
            limits.sessions_per_client,
            limits.window_seconds,
        ),
    )


def _prime_metrics(config: MoviesSettings) -> None:
    policy = sign_in_policy(config)
    metrics.prime(
        config.mail_topic,
        purposes=[purpose.value for purpose in Purpose],
        verification_results=[result.value for result in Verification],
        rate_limit_buckets=[
            limit.bucket
            for limit in (policy.per_address, policy.per_client, policy.sessions_per_client)
        ],
    )
