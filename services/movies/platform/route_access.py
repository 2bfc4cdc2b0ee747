"""Which routes need a session token: the markers route handlers and the JWT middleware share.

Every route needs a bearer token unless it carries :data:`PUBLIC`; the token itself and
who holds it are sign-in's business (:mod:`movies.auth.access_tokens`).
"""

from __future__ import annotations

from typing import Final

SECURITY_SCHEME: Final = "BearerToken"
BEARER_REQUIRED: Final[list[dict[str, list[str]]]] = [{SECURITY_SCHEME: []}]
PUBLIC: Final[dict[str, bool]] = {"exclude_from_auth": True}
"""``opt`` of routes anyone may call; every other route needs a session token."""
PUBLIC_PATHS: Final = ["^/schema", "^/metrics$"]
"""Routes Litestar or the Prometheus plugin define, so they cannot carry :data:`PUBLIC`."""
