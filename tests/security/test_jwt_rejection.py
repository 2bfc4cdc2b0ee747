"""Issue 8: a session token is accepted only when signed with our key, HS256, for us, unexpired.

Every hostile token names a real account, so a 401 means the token was refused, not
that the account was missing; the valid control token proves the route works at all.
"""

from __future__ import annotations

import time
import uuid
from typing import TYPE_CHECKING

import pytest
from forged_tokens import claims, signed, unsigned

if TYPE_CHECKING:
    from api_under_test import ApiUnderTest

pytestmark = pytest.mark.integration
PROTECTED = "/me/watchlist"


@pytest.fixture(scope="module")
async def account(api: ApiUnderTest) -> str:
    return await api.add_user(f"jwt-{uuid.uuid4().hex[:8]}@example.com")


async def _status(api: ApiUnderTest, token: str) -> int:
    async with api.client(token) as client:
        return (await client.get(PROTECTED)).status_code


async def test_valid_token_is_accepted(api: ApiUnderTest, account: str) -> None:
    assert await _status(api, signed(api.jwt_secret, claims(account))) == 200


def _hostile_tokens(secret: str, subject: str) -> dict[str, str]:
    valid = signed(secret, claims(subject))
    now = int(time.time())
    return {
        "alg none": unsigned(claims(subject)),
        "alg None": unsigned(claims(subject), algorithm="None"),
        "alg none with the valid signature kept": unsigned(
            claims(subject), signature=valid.rsplit(".", 1)[1]
        ),
        "wrong key": signed("another-secret-of-at-least-32-characters!", claims(subject)),
        "HS512 with the right key": signed(secret, claims(subject), algorithm="HS512"),
        "expired": signed(secret, claims(subject, iat=now - 7200, exp=now - 3600)),
        "another audience": signed(secret, claims(subject, aud="another-service")),
        "another issuer": signed(secret, claims(subject, iss="someone-else")),
        "no expiry": signed(secret, claims(subject, exp=None)),
        "payload tampered after signing": _tampered(valid),
    }


def _tampered(token: str) -> str:
    header, _, signature = token.split(".")
    body = unsigned(claims(str(uuid.uuid4()))).split(".")[1]
    return f"{header}.{body}.{signature}"


@pytest.mark.parametrize(
    "kind",
    [
        "alg none",
        "alg None",
        "alg none with the valid signature kept",
        "wrong key",
        "HS512 with the right key",
        "expired",
        "another audience",
        "another issuer",
        "no expiry",
        "payload tampered after signing",
    ],
)
async def test_hostile_token_is_rejected(api: ApiUnderTest, account: str, kind: str) -> None:
    token = _hostile_tokens(api.jwt_secret, account)[kind]
    assert await _status(api, token) == 401
