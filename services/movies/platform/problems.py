"""RFC 9457 problem details: every 4xx and 5xx the service sends is ``application/problem+json``.

Clients get one shape for every failure, validation errors name the offending field, and
a server fault says nothing about its cause (that goes to the log, never to the client).
"""

from __future__ import annotations

import re
from http import HTTPStatus
from typing import TYPE_CHECKING, Annotated, Any, Final

import msgspec
import structlog
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Example
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from movies.platform.database import DatabaseUnavailableError

if TYPE_CHECKING:
    from litestar.types import ExceptionHandlersMap

log = structlog.get_logger(__name__)

PROBLEM_MEDIA_TYPE: Final = "application/problem+json"
PROBLEM_TYPE_PREFIX: Final = "urn:reelmail:problem:"
DATABASE_RETRY_AFTER: Final = "5"
_MISSING_FIELD: Final = re.compile(r"missing required field `([^`]+)`")


class FieldError(msgspec.Struct, frozen=True):
    """One invalid input: where it was (``source``), which field, and what was wrong."""

    field: str
    message: str
    source: str


class ProblemDetails(msgspec.Struct, frozen=True, omit_defaults=True):
    """An RFC 9457 problem document, with the extension members this service uses."""

    type: Annotated[str, msgspec.Meta(examples=["urn:reelmail:problem:validation"])]
    title: Annotated[str, msgspec.Meta(examples=["Bad Request"])]
    status: Annotated[int, msgspec.Meta(ge=400, le=599, examples=[400])]
    detail: Annotated[str, msgspec.Meta(examples=["email: value is not a valid address"])]
    instance: Annotated[str, msgspec.Meta(examples=["/auth/codes"])]
    errors: list[FieldError] | None = None
    checks: dict[str, str] | None = None


class ProblemError(HTTPException):
    """An HTTP error with a problem ``type`` slug and optional extension members."""

    def __init__(
        self,
        status_code: int,
        kind: str,
        detail: str,
        *,
        headers: dict[str, str] | None = None,
        checks: dict[str, str] | None = None,
    ) -> None:
        """Describe the problem; the exception handler renders it."""
        super().__init__(detail=detail, status_code=status_code, headers=headers)
        self.kind = kind
        self.checks = checks


def problem_response(
    request: Request[Any, Any, Any],
    status_code: int,
    kind: str,
    detail: str,
    **extensions: Any,  # noqa: ANN401 -- extension members are JSON values of any shape
) -> Response[ProblemDetails]:
    """Render one problem document for ``request``."""
    problem = ProblemDetails(
        type=f"{PROBLEM_TYPE_PREFIX}{kind}" if kind != "about:blank" else kind,
        title=HTTPStatus(status_code).phrase,
        status=status_code,
        detail=detail,
        instance=request.url.path,
        **extensions,
    )
    return Response(problem, status_code=status_code, media_type=PROBLEM_MEDIA_TYPE)


def _on_http_exception(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    if isinstance(exc, ProblemError):
        kind, checks = exc.kind, exc.checks
    elif exc.status_code >= HTTPStatus.INTERNAL_SERVER_ERROR:
        return _on_unexpected(request, exc)
    else:
        kind, checks = "about:blank", None
    response = problem_response(request, exc.status_code, kind, exc.detail, checks=checks)
    response.headers.update(exc.headers or {})
    return response


def _on_validation_error(
    request: Request[Any, Any, Any], exc: ValidationException
) -> Response[Any]:
    errors = [_field_error(item) for item in _error_items(exc.extra)]
    detail = "; ".join(f"{error.field}: {error.message}" for error in errors) or exc.detail
    return problem_response(request, HTTPStatus.BAD_REQUEST, "validation", detail, errors=errors)


def _error_items(extra: Any) -> list[dict[str, Any]]:  # noqa: ANN401 -- Litestar's extra is untyped
    if isinstance(extra, dict):
        return [extra]
    if isinstance(extra, list):
        return [item for item in extra if isinstance(item, dict)]
    return []


def _field_error(item: dict[str, Any]) -> FieldError:
    """Name the field itself, also when msgspec reports a missing one against the body."""
    message = str(item.get("message", "invalid value"))
    field = str(item.get("key") or "data")
    if field == "data" and (missing := _MISSING_FIELD.search(message)):
        field = missing.group(1)
    source = item.get("source", "body")
    return FieldError(field=field, message=message, source=str(getattr(source, "value", source)))


def _on_database_unavailable(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    if isinstance(exc, DBAPIError) and not _is_outage(exc):
        return _on_unexpected(request, exc)
    log.warning("database unavailable", error=type(exc).__name__, path=request.url.path)
    response = problem_response(
        request,
        HTTPStatus.SERVICE_UNAVAILABLE,
        "database-unavailable",
        "the database is unavailable; retry shortly",
    )
    response.headers["Retry-After"] = DATABASE_RETRY_AFTER
    return response


def _is_outage(exc: DBAPIError) -> bool:
    """Whether the database is away rather than the statement wrong.

    Besides lost connections, a server that is starting or shutting down answers with
    SQLSTATE class 08 (connection exception) or 57P0x (e.g. 57P03 "cannot connect now"),
    which asyncpg raises as a plain DBAPIError.
    """
    if exc.connection_invalidated or isinstance(exc, OperationalError | InterfaceError):
        return True
    sqlstate = str(getattr(exc.orig, "sqlstate", "") or "")
    return sqlstate.startswith(_OUTAGE_SQLSTATE_PREFIXES)


_OUTAGE_SQLSTATE_PREFIXES = ("08", "57P0")


def _on_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.error("request failed", path=request.url.path, error=type(exc).__name__, exc_info=exc)
    return problem_response(
        request,
        HTTPStatus.INTERNAL_SERVER_ERROR,
        "about:blank",
        "the server failed to handle the request",
    )


def exception_handlers() -> ExceptionHandlersMap:
    """Handlers that turn every failure, expected or not, into a problem document.

    Only the database's own errors become "database unavailable": SQLAlchemy's wrapped
    driver errors, its pool timeout, and a connect the driver could not make. Any other
    ``OSError`` or ``TimeoutError`` is a fault of ours and answers 500.
    """
    return {
        ValidationException: _on_validation_error,
        HTTPException: _on_http_exception,
        DBAPIError: _on_database_unavailable,
        PoolTimeoutError: _on_database_unavailable,
        DatabaseUnavailableError: _on_database_unavailable,
        Exception: _on_unexpected,
    }


_DESCRIPTIONS: Final = {
    400: "The request is invalid; `errors` names each offending field.",
    401: "Missing, invalid or expired credentials.",
    403: "Signed in, but not allowed to do this.",
    404: "No such resource.",
    409: "The change conflicts with the current state.",
    413: "The request body is larger than the configured limit.",
    429: "Too many requests; wait for `Retry-After` seconds.",
    503: "A dependency (the database) is unavailable; retry after `Retry-After` seconds.",
}


def problem_responses(*status_codes: int) -> dict[int, ResponseSpec]:
    """OpenAPI entries for the problem documents a route can answer with."""
    return {
        code: ResponseSpec(
            data_container=ProblemDetails,
            description=_DESCRIPTIONS[code],
            media_type=PROBLEM_MEDIA_TYPE,
            generate_examples=False,
            examples=[Example(summary=HTTPStatus(code).phrase, value=_example(code))],
        )
        for code in status_codes
    }


def _example(status_code: int) -> dict[str, Any]:
    return {
        "type": "about:blank",
        "title": HTTPStatus(status_code).phrase,
        "status": status_code,
        "detail": _DESCRIPTIONS[status_code],
        "instance": "/movies",
    }
