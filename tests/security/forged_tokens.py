"""Session tokens made by the tests: one valid control, and each way an attacker would try.

The claims mirror what movies signs (``sub``, ``exp``, ``iat``, ``iss``, ``aud``,
``jti``), so a hostile token differs from the accepted one in exactly one respect.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from typing import Any

import jwt

AUDIENCE = "reelmail"
ISSUER = "reelmail-movies"


def claims(subject: str, **changes: Any) -> dict[str, Any]:
    """The claims of a valid token for ``subject``, with ``changes`` applied."""
    now = int(time.time())
    body: dict[str, Any] = {
        "sub": subject,
        "iat": now,
        "exp": now + 600,
        "iss": ISSUER,
        "aud": AUDIENCE,
        "jti": uuid.uuid4().hex,
    }
    body.update(changes)
    return {name: value for name, value in body.items() if value is not None}


def signed(secret: str, body: dict[str, Any], algorithm: str = "HS256") -> str:
    return jwt.encode(body, secret, algorithm=algorithm)


def _segment(value: dict[str, Any]) -> str:
    raw = json.dumps(value, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unsigned(body: dict[str, Any], algorithm: str = "none", signature: str = "") -> str:
    """A token whose header names ``algorithm`` (``none`` by default) and no real signature."""
    return f"{_segment({'alg': algorithm, 'typ': 'JWT'})}.{_segment(body)}.{signature}"
