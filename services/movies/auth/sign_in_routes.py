"""HTTP routes of passwordless sign-in: ask for a code, exchange it for a session token."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, post
from litestar.di import NamedDependency
from litestar.openapi.spec import Example
from litestar.params import Body

from mailcontract import Locale, Purpose
from movies.auth.access_tokens import SessionTokens
from movies.auth.http_inputs import (
    RATE_LIMIT_HANDLERS,
    Code,
    CodeAccepted,
    Email,
    client_address,
    valid_address,
)
from movies.auth.sign_in import CodeIssuer, CodeVerifier, InvalidCodeError
from movies.platform.problems import ProblemError, problem_responses
from movies.platform.route_access import PUBLIC


class SignInPurpose(StrEnum):
    """What a public code is for; e-mail change codes are asked for at ``/me/email/codes``."""

    LOGIN = Purpose.LOGIN.value
    SIGNUP = Purpose.SIGNUP.value


class CodeRequest(msgspec.Struct, frozen=True):
    """Ask for a one-time code to be mailed to ``email``."""

    email: Email
    purpose: SignInPurpose = SignInPurpose.LOGIN
    locale: Locale = Locale.RU


class SessionRequest(msgspec.Struct, frozen=True):
    """Prove you read the mailbox: the address and the code that was sent to it."""

    email: Email
    code: Code


class SessionCreated(msgspec.Struct, frozen=True):
    """A bearer token for ``Authorization: Bearer …``; it expires after ``expires_in`` seconds."""

    access_token: Annotated[str, msgspec.Meta(examples=["eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9…"])]
    expires_in: Annotated[int, msgspec.Meta(ge=1, examples=[3600])]
    token_type: Annotated[str, msgspec.Meta(examples=["Bearer"])] = "Bearer"  # noqa: S105 -- the scheme name


_CODE_EXAMPLE = Example(
    summary="Sign in, with the mail in English",
    value={"email": "you@example.com", "purpose": "login", "locale": "en"},
)
_SESSION_EXAMPLE = Example(
    summary="Exchange the code from the mail",
    value={"email": "you@example.com", "code": "042917"},
)


class AuthController(Controller):
    """Sign-in by a code sent to the user's mailbox."""

    path = "/auth"
    tags = ["auth"]  # noqa: RUF012 -- Litestar reads this class attribute as is
    exception_handlers = RATE_LIMIT_HANDLERS
    opt = PUBLIC

    @post(
        "/codes",
        status_code=202,
        operation_id="requestCode",
        summary="Mail a one-time code",
        responses=problem_responses(400, 413, 429, 503),
    )
    async def request_code(
        self,
        data: Annotated[CodeRequest, Body(examples=[_CODE_EXAMPLE])],
        code_issuer: NamedDependency[CodeIssuer],
        request: Request[Any, Any, Any],
    ) -> CodeAccepted:
        """Record the code and queue its mail; 202 means queued, whether or not Kafka is up."""
        email = valid_address(data.email)
        purpose = Purpose(data.purpose.value)
        await code_issuer.issue(email, purpose, data.locale, client_address(request))
        return CodeAccepted()

    @post(
        "/sessions",
        status_code=201,
        operation_id="createSession",
        summary="Exchange a code for a session token",
        responses=problem_responses(400, 401, 413, 429, 503),
    )
    async def create_session(
        self,
        data: Annotated[SessionRequest, Body(examples=[_SESSION_EXAMPLE])],
        code_verifier: NamedDependency[CodeVerifier],
        session_tokens: NamedDependency[SessionTokens],
        request: Request[Any, Any, Any],
    ) -> SessionCreated:
        """Check the code (single use, 5 tries) and sign a token for the address's account."""
        email = valid_address(data.email)
        try:
            user = await code_verifier.verify(email, data.code, client_address(request))
        except InvalidCodeError:
            detail = "the code is wrong, expired, used up or was never issued"
            raise ProblemError(401, "invalid-code", detail) from None
        issued = session_tokens.issue(user.id)
        return SessionCreated(access_token=issued.token, expires_in=issued.expires_in)
