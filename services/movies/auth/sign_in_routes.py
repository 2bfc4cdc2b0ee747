"""HTTP routes of passwordless sign-in: ask for a code, exchange it for a session token."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, post
from litestar.di import NamedDependency
from litestar.exceptions import ValidationException
from litestar.openapi.spec import Example
from litestar.params import Body

from mailcontract import InvalidAddressError, Locale, Purpose, normalize_address
from movies.auth.access_tokens import PUBLIC, SessionTokens
from movies.auth.rate_limits import RateLimitedError
from movies.auth.sign_in import CodeIssuer, CodeVerifier, InvalidCodeError
from movies.platform import metrics
from movies.platform.problems import ProblemError, problem_responses

Email = Annotated[
    str,
    msgspec.Meta(
        max_length=254,
        description="The mailbox the code goes to; CR, LF and control characters are refused.",
        examples=["you@example.com"],
        extra_json_schema={"extra": {"format": "email"}},
    ),
]
Code = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^[0-9]{6}$", description="The 6-digit code from the mail.", examples=["042917"]
    ),
]


class SignInPurpose(StrEnum):
    """What a public code is for; e-mail change codes are asked for at ``/me/email/codes``."""

    LOGIN = Purpose.LOGIN.value
    SIGNUP = Purpose.SIGNUP.value


class CodeRequest(msgspec.Struct, frozen=True):
    """Ask for a one-time code to be mailed to ``email``."""

    email: Email
    purpose: SignInPurpose = SignInPurpose.LOGIN
    locale: Locale = Locale.RU


class CodeAccepted(msgspec.Struct, frozen=True):
    """The same answer whatever the address, so it reveals nothing about accounts."""

    status: Annotated[str, msgspec.Meta(examples=["accepted"])] = "accepted"


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
        try:
            await code_issuer.issue(email, purpose, data.locale, client_address(request))
        except RateLimitedError as exc:
            raise too_many(exc) from None
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
        except RateLimitedError as exc:
            raise too_many(exc) from None
        except InvalidCodeError:
            detail = "the code is wrong, expired, used up or was never issued"
            raise ProblemError(401, "invalid-code", detail) from None
        issued = session_tokens.issue(user.id)
        return SessionCreated(access_token=issued.token, expires_in=issued.expires_in)


def valid_address(raw: str) -> str:
    """Normalise the address, or answer 400 naming the ``email`` field."""
    try:
        return normalize_address(raw)
    except InvalidAddressError as exc:
        error = {"key": "email", "message": str(exc), "source": "body"}
        raise ValidationException(detail=f"email: {exc}", extra=[error]) from None


def client_address(request: Request[Any, Any, Any]) -> str:
    """Identify the caller by address (uvicorn resolves X-Forwarded-For from trusted proxies)."""
    return request.client.host if request.client else "unknown"


def too_many(exc: RateLimitedError) -> ProblemError:
    """Answer 429 with ``Retry-After``, counting the refusal by bucket."""
    metrics.RATE_LIMITED.labels(exc.bucket).inc()
    return ProblemError(
        429,
        "rate-limited",
        "too many code requests; retry later",
        headers={"Retry-After": str(exc.retry_after)},
    )
