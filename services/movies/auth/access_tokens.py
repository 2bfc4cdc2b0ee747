"""Session tokens (JWT, via Litestar's JWT support) and who may do what with them.

The token names only the account id (``sub``), never the address. Each request looks
the account up, so a deleted account stops working at once, and admin rights follow
``ADMIN_EMAILS`` as it is now, not as it was when the token was issued.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from litestar.exceptions import PermissionDeniedException
from litestar.security.jwt import JWTAuth, Token

from movies.auth.models import User
from movies.platform.route_access import PUBLIC_PATHS, SECURITY_SCHEME

if TYPE_CHECKING:
    from collections.abc import Callable

    from litestar.connection import ASGIConnection
    from litestar.datastructures import State
    from litestar.handlers.base import BaseRouteHandler

    from movies.platform.database import Database
    from movies.platform.settings import TokenSettings


@dataclass(frozen=True, slots=True)
class Principal:
    """The signed-in user a request acts for."""

    user_id: str
    email: str
    is_admin: bool


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A freshly signed token and how long it lives."""

    token: str
    expires_in: int


class SessionTokens:
    """Signs tokens with the audience and issuer the middleware later insists on.

    A plain class, not a dataclass: Litestar validates injected dataclasses field by
    field, and ``JWTAuth``'s annotations cannot be resolved at run time.
    """

    def __init__(self, auth: JWTAuth[Principal, Token], settings: TokenSettings) -> None:
        """Keep the JWT configuration and the claims every token carries."""
        self.auth = auth
        self.settings = settings

    def issue(self, user_id: str) -> IssuedToken:
        """Sign a token for the account, with a unique ``jti`` for audit and revocation."""
        token = self.auth.create_token(
            identifier=user_id,
            token_expiration=timedelta(seconds=self.settings.ttl_seconds),
            token_issuer=self.settings.issuer,
            token_audience=self.settings.audience,
            token_unique_jwt_id=uuid.uuid4().hex,
        )
        return IssuedToken(token=token, expires_in=self.settings.ttl_seconds)


def build_jwt_auth(
    settings: TokenSettings,
    admin_emails: frozenset[str],
    database_of: Callable[[State], Database],
) -> JWTAuth[Principal, Token]:
    """Configure JWT: HS256, required expiry, checked audience and issuer.

    ``database_of`` finds the database in the app's state, where the lifespan keeps it.
    """

    async def retrieve_principal(
        token: Token,
        connection: ASGIConnection[Any, Any, Any, Any],
    ) -> Principal | None:
        async with database_of(connection.app.state).reads() as session:
            user = await session.get(User, token.sub)
        if user is None:
            return None
        return Principal(user_id=user.id, email=user.email, is_admin=user.email in admin_emails)

    return JWTAuth[Principal, Token](
        retrieve_user_handler=retrieve_principal,
        token_secret=settings.secret,
        algorithm="HS256",
        default_token_expiration=timedelta(seconds=settings.ttl_seconds),
        accepted_audiences=[settings.audience],
        accepted_issuers=[settings.issuer],
        require_claims=["exp", "iat", "sub"],
        exclude=PUBLIC_PATHS,
        openapi_security_scheme_name=SECURITY_SCHEME,
        description="A session token from `POST /auth/sessions`.",
    )


def admins_only(connection: ASGIConnection[Any, Principal, Any, Any], _: BaseRouteHandler) -> None:
    """Guard: only addresses listed in ``ADMIN_EMAILS`` may change the catalogue."""
    if not connection.user.is_admin:
        raise PermissionDeniedException(detail="only administrators may change the catalogue")
