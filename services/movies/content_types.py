"""Request bodies must be JSON: anything else is refused with 415 before a handler runs.

Litestar parses a JSON body whatever the declared type, so ``text/plain`` with a JSON
body would issue a code. Refusing other types keeps form posts from other sites (which
cannot send ``application/json`` without a CORS preflight) from reaching the API.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from litestar import Request
from litestar.exceptions import HTTPException

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
