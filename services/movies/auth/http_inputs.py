"""The HTTP inputs every sign-in route shares: address and code fields, the caller, the 429.

Asking for a code and exchanging it exist twice, for a session (``/auth``) and for an
e-mail change (``/me/email``); both route modules read their inputs through here.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import TYPE_CHECKING, Annotated, Any, Final

import msgspec
from litestar.exceptions import ValidationException

from mailcontract import InvalidAddressError, normalize_address
from movies.auth.rate_limits import RateLimitedError
from movies.platform import metrics
from movies.platform.problems import problem_response

if TYPE_CHECKING:
    from litestar import Request, Response
    from litestar.types import ExceptionHandlersMap

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


class CodeAccepted(msgspec.Struct, frozen=True):
    """The same answer whatever the address, so it reveals nothing about accounts."""

    status: Annotated[str, msgspec.Meta(examples=["accepted"])] = "accepted"


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


def _on_rate_limited(request: Request[Any, Any, Any], exc: RateLimitedError) -> Response[Any]:
    """Answer 429 with ``Retry-After``, counting the refusal by bucket."""
    metrics.RATE_LIMITED.labels(exc.bucket).inc()
    response = problem_response(
        request, HTTPStatus.TOO_MANY_REQUESTS, "rate-limited", "too many code requests; retry later"
    )
    response.headers["Retry-After"] = str(exc.retry_after)
    return response


# The controllers of code routes set these, so no handler catches RateLimitedError itself.
RATE_LIMIT_HANDLERS: Final[ExceptionHandlersMap] = {RateLimitedError: _on_rate_limited}
