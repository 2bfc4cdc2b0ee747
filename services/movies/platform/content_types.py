"""Request bodies must be JSON: anything else is refused with 415 before a handler runs.

Litestar parses a JSON body whatever the declared type, so ``text/plain`` with a JSON
body would issue a code. Refusing other types keeps form posts from other sites (which
cannot send ``application/json`` without a CORS preflight) from reaching the API.

A JSON body the decoder cannot read is the client's fault whatever the reason: msgspec
reports invalid UTF-8 inside a string as ``UnicodeDecodeError`` and nesting beyond the
interpreter's recursion limit as ``RecursionError``, neither of which Litestar turns
into a 400 on its own. :class:`JsonBodyRequest` does, for every route at once.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from litestar import Request
from litestar.exceptions import HTTPException, SerializationException

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def is_json_media_type(content_type: str) -> bool:
    """``application/json`` or any ``application/*+json``, parameters ignored."""
    media_type = content_type.partition(";")[0].strip().lower()
    return media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )


async def require_json_body(request: Request[Any, Any, Any]) -> None:
    """Refuse a request that carries a body of any other media type with 415."""
    if request.method not in _BODY_METHODS or not _has_body(request):
        return
    if not is_json_media_type(request.headers.get("content-type", "")):
        raise HTTPException(
            status_code=HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
            detail="request bodies must be application/json",
        )


def _has_body(request: Request[Any, Any, Any]) -> bool:
    headers = request.headers
    return "transfer-encoding" in headers or headers.get("content-length", "0") not in {"", "0"}


class JsonBodyRequest(Request[Any, Any, Any]):
    """The app's request class: a body the JSON decoder chokes on is a 400, never a 500."""

    async def json(self) -> Any:  # noqa: ANN401 -- a JSON document is any JSON value
        """Decode the body as Litestar does, reporting undecodable input as malformed JSON."""
        try:
            return await super().json()
        except UnicodeDecodeError:
            msg = "JSON is malformed: a string is not valid UTF-8"
            raise SerializationException(msg) from None
        except RecursionError:
            msg = "JSON is malformed: nested too deeply"
            raise SerializationException(msg) from None
