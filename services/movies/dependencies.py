"""Dependency providers: route handlers receive the lifespan's objects by parameter name.

The lifespan opens every resource and keeps them in ``app.state`` as one typed
:class:`Resources`; each field is a dependency of the same name, so a handler asks for
``code_issuer: NamedDependency[CodeIssuer]`` and gets the lifespan's issuer.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

from litestar.di import Provide

from movies.auth.access_tokens import SessionTokens
from movies.auth.email_change import EmailChanger
from movies.auth.sign_in import CodeIssuer, CodeVerifier
from movies.catalogue.service import Catalogue
from movies.outbox.code_publisher import CodePublisher
from movies.platform.database import Database
from movies.platform.health_routes import ReadinessProbes
from movies.watchlist.service import WatchlistStore

if TYPE_CHECKING:
    from collections.abc import Callable

    from litestar.datastructures import State

_STATE_KEY = "resources"


@dataclass(frozen=True, slots=True)
class Resources:
    """Everything the lifespan opened that a handler or the JWT middleware uses."""

    database: Database
    code_publisher: CodePublisher
    code_issuer: CodeIssuer
    code_verifier: CodeVerifier
    email_changer: EmailChanger
    session_tokens: SessionTokens
    catalogue: Catalogue
    watchlist_store: WatchlistStore
    readiness_probes: ReadinessProbes


def keep_resources(state: State, resources: Resources) -> None:
    """Hand the lifespan's resources to the providers."""
    state[_STATE_KEY] = resources


def resources_of(state: State) -> Resources:
    """Return the resources the lifespan kept (requests only arrive once it has started)."""
    resources: Resources = state[_STATE_KEY]
    return resources


def database_of(state: State) -> Database:
    """Return the database, for the JWT middleware, which looks up each token's account."""
    return resources_of(state).database


def app_dependencies() -> dict[str, Provide]:
    """One provider per field of :class:`Resources`, keyed by the field's name."""
    names = [field.name for field in fields(Resources)]
    return {name: Provide(_provider(name), sync_to_thread=False) for name in names}


def _provider(name: str) -> Callable[[State], object]:
    def provide(state: State) -> object:
        return getattr(resources_of(state), name)

    return provide
