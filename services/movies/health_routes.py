"""Liveness of the movie service."""

from litestar import get


@get("/healthz", operation_id="healthz", tags=["health"], sync_to_thread=False)
def healthz() -> dict[str, str]:
    """Answer while the event loop runs; readiness checks come with the full service."""
    return {"status": "ok"}
