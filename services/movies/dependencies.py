"""Dependency providers: route handlers receive the lifespan's objects by parameter name."""

from __future__ import annotations

from litestar.datastructures import State
from litestar.di import Provide

from movies.auth.access_tokens import SessionTokens
from movies.auth.email_change import EmailChanger
from movies.auth.sign_in import CodeIssuer, CodeVerifier
from movies.catalogue.service import Catalogue
from movies.outbox.code_publisher import CodePublisher
from movies.platform.database import Database
from movies.watchlist.service import WatchlistStore


def _database(state: State) -> Database:
    database: Database = state.database
    return database


def _code_publisher(state: State) -> CodePublisher:
    publisher: CodePublisher = state.code_publisher
    return publisher


def _code_issuer(state: State) -> CodeIssuer:
    issuer: CodeIssuer = state.code_issuer
    return issuer


def _code_verifier(state: State) -> CodeVerifier:
    verifier: CodeVerifier = state.code_verifier
    return verifier


def _email_changer(state: State) -> EmailChanger:
    changer: EmailChanger = state.email_changer
    return changer


def _session_tokens(state: State) -> SessionTokens:
    tokens: SessionTokens = state.session_tokens
    return tokens


def _catalogue(state: State) -> Catalogue:
    return Catalogue(_database(state))


def _watchlist_store(state: State) -> WatchlistStore:
    return WatchlistStore(_database(state))


def app_dependencies() -> dict[str, Provide]:
    """Every provider, keyed by the parameter name handlers use."""
    providers = {
        "database": _database,
        "code_publisher": _code_publisher,
        "code_issuer": _code_issuer,
        "code_verifier": _code_verifier,
        "email_changer": _email_changer,
        "session_tokens": _session_tokens,
        "catalogue": _catalogue,
        "watchlist_store": _watchlist_store,
    }
    return {name: Provide(provider, sync_to_thread=False) for name, provider in providers.items()}
