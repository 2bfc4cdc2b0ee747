"""The Litestar application factory and the lifespan that owns every resource."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from litestar import Litestar
from litestar.datastructures import State
from litestar.di import Provide

from movies.auth_routes import AuthController
from movies.code_publisher import CodePublisher
from movies.database import create_engine, create_schema, session_factory
from movies.health_routes import healthz
from movies.settings import MoviesSettings, get_settings
from movies.sign_in import CodeIssuer


def create_app(settings: MoviesSettings | None = None) -> Litestar:
    """Build the app; resources are opened by its lifespan, not at import."""
    config = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        engine = create_engine(config.database_url)
        publisher = CodePublisher(
            config.kafka_bootstrap_servers,
            config.mail_topic,
            config.kafka_request_timeout_ms,
        )
        try:
            await create_schema(engine)
            await publisher.start()
            app.state.code_issuer = CodeIssuer(
                sessions=session_factory(engine),
                publisher=publisher,
                hmac_secret=config.otp_hmac_secret,
                ttl=timedelta(seconds=config.otp_ttl_seconds),
            )
            yield
        finally:
            await publisher.stop()
            await engine.dispose()

    return Litestar(
        route_handlers=[AuthController, healthz],
        dependencies={"code_issuer": Provide(_code_issuer, sync_to_thread=False)},
        lifespan=[lifespan],
        logging_config=None,  # telemetry.configure_logging owns the root logger
    )


def _code_issuer(state: State) -> CodeIssuer:
    issuer: CodeIssuer = state.code_issuer
    return issuer
