"""Issue 3: sign-in by mailed code on the real broker, against SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import re
from typing import TYPE_CHECKING

import pytest
from received_mail import code_in, settle_and_count
from running_stack import unique_address

from movies.auth.otp import code_matches

if TYPE_CHECKING:
    from movies_stack import MoviesStack

pytestmark = pytest.mark.integration
PROBLEM = "application/problem+json"


async def _exchange(stack: MoviesStack, address: str, code: str) -> int:
    async with stack.client() as client:
        reply = await client.post("/auth/sessions", json={"email": address, "code": code})
    if reply.status_code != 201:
        assert reply.headers["content-type"] == PROBLEM
    return reply.status_code


def _other_code(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


async def test_full_flow_mail_to_token_to_watchlist(movies_stack: MoviesStack) -> None:
    address = unique_address("flow")
    mail = await movies_stack.request_code(address.upper(), locale="en", purpose="signup")
    code = code_in(mail)
    [(stored,)] = await movies_stack.sql(
        "SELECT code_hash FROM otp_codes WHERE email = :email", email=address
    )
    assert code_matches(movies_stack.hmac_secret, address, "signup", code, stored)

    async with movies_stack.client() as client:
        reply = await client.post("/auth/sessions", json={"email": address, "code": code})
    assert reply.status_code == 201, reply.text
    session = reply.json()
    assert session["token_type"] == "Bearer"
    assert session["expires_in"] > 0
    assert address not in session["access_token"]

    async with movies_stack.client(session["access_token"]) as client:
        page = (await client.get("/movies", params={"q": "alien"})).json()
        movie_id = page["items"][0]["id"]
        assert (await client.put(f"/me/watchlist/{movie_id}")).status_code == 204
        assert (await client.put(f"/me/watchlist/{movie_id}")).status_code == 204
        watchlist = (await client.get("/me/watchlist")).json()
        assert [item["movie"]["id"] for item in watchlist["items"]] == [movie_id]
        assert (await client.put("/me/watchlist/2147483647")).status_code == 404
        assert (await client.delete(f"/me/watchlist/{movie_id}")).status_code == 204
        assert (await client.get("/me/watchlist")).json() == {"items": []}
        assert (await client.post("/movies", json={})).status_code == 403

    _assert_secrets_not_logged(movies_stack, code, session["access_token"])


async def test_watchlist_needs_a_valid_token(movies_stack: MoviesStack) -> None:
    for token in (None, "not-a-jwt"):
        async with movies_stack.client(token) as client:
            reply = await client.get("/me/watchlist")
        assert reply.status_code == 401
        assert reply.headers["content-type"] == PROBLEM
        assert reply.json()["status"] == 401


async def test_code_is_single_use(movies_stack: MoviesStack) -> None:
    address = unique_address("once")
    code = code_in(await movies_stack.request_code(address))
    assert await _exchange(movies_stack, address, code) == 201
    assert await _exchange(movies_stack, address, code) == 401


async def test_expired_code_is_refused(movies_stack: MoviesStack) -> None:
    address = unique_address("expired")
    code = code_in(await movies_stack.request_code(address))
    await movies_stack.sql(
        "UPDATE otp_codes SET expires_at = created_at WHERE email = :email", email=address
    )
    assert await _exchange(movies_stack, address, code) == 401
    async with movies_stack.client() as client:
        metrics = (await client.get("/metrics")).text
    assert re.search(r'movies_otp_verifications_total\{result="expired"\} [1-9]', metrics)


async def test_code_burns_after_five_wrong_attempts(movies_stack: MoviesStack) -> None:
    address = unique_address("burn")
    code = code_in(await movies_stack.request_code(address))
    for _ in range(5):
        assert await _exchange(movies_stack, address, _other_code(code)) == 401
    assert await _exchange(movies_stack, address, code) == 401
    [(attempts,)] = await movies_stack.sql(
        "SELECT attempts FROM otp_codes WHERE email = :email", email=address
    )
    assert attempts == 5


async def test_rate_limit_per_address_answers_429_with_retry_after(
    movies_stack: MoviesStack,
) -> None:
    address = unique_address("limit")
    async with movies_stack.client() as client:
        for _ in range(5):
            assert (await client.post("/auth/codes", json={"email": address})).status_code == 202
        refused = await client.post("/auth/codes", json={"email": address})
    assert refused.status_code == 429
    assert refused.headers["content-type"] == PROBLEM
    assert 0 < int(refused.headers["retry-after"]) <= 3600
    assert refused.json()["type"] == "urn:reelmail:problem:rate-limited"


async def test_concurrent_requests_never_issue_more_codes_than_the_limit(
    movies_stack: MoviesStack,
) -> None:
    address = unique_address("burst")
    async with movies_stack.client() as client:
        replies = await asyncio.gather(
            *(client.post("/auth/codes", json={"email": address}) for _ in range(50)),
        )
    statuses = sorted(reply.status_code for reply in replies)
    assert statuses.count(202) == 5, statuses
    assert statuses.count(429) == 45, statuses
    [(codes,)] = await movies_stack.sql(
        "SELECT count(*) FROM otp_codes WHERE email = :email", email=address
    )
    assert codes == 5
    await asyncio.to_thread(_wait_for_count, movies_stack, address, 5)


def _wait_for_count(stack: MoviesStack, address: str, count: int) -> None:
    from received_mail import wait_for_mails  # noqa: PLC0415 -- keeps the thread's imports local

    wait_for_mails(stack.sink, address, count, timeout=60)
    assert settle_and_count(stack.sink, address, seconds=1.0) == count


def _assert_secrets_not_logged(stack: MoviesStack, code: str, token: str) -> None:
    logs = stack.logs()
    assert not re.search(rf"(?<!\d){code}(?!\d)", logs), "a one-time code reached a log line"
    assert token not in logs
    assert token.split(".")[2] not in logs


async def test_oversized_bodies_are_refused_with_413(movies_stack: MoviesStack) -> None:
    async with movies_stack.client() as client:
        reply = await client.post("/auth/codes", json={"email": "a" * 20_000 + "@example.com"})
    assert reply.status_code == 413
    assert reply.headers["content-type"] == PROBLEM
