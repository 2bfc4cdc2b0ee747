"""Changing an account's address by a code mailed to the new one, on SQLite and PostgreSQL.

The whole path is real: movies, the broker, the mailer and the SMTP sink.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import pytest
from received_mail import code_in, mails_to, wait_for_mails
from running_stack import unique_address

if TYPE_CHECKING:
    from email.message import Message

    from movies_stack import MoviesStack

pytestmark = pytest.mark.integration


async def _request_change(stack: MoviesStack, token: str, new_address: str) -> Message:
    before = len(mails_to(stack.sink, new_address))
    async with stack.client(token) as client:
        reply = await client.post("/me/email/codes", json={"email": new_address, "locale": "en"})
    assert reply.status_code == 202, reply.text
    mails = await asyncio.to_thread(wait_for_mails, stack.sink, new_address, before + 1, 60.0)
    return mails[-1]


async def _confirm(stack: MoviesStack, token: str, new_address: str, code: str) -> int:
    async with stack.client(token) as client:
        reply = await client.put("/me/email", json={"email": new_address, "code": code})
    return reply.status_code


async def _account_id(stack: MoviesStack, address: str) -> str | None:
    rows = await stack.sql("SELECT id FROM users WHERE email = :email", email=address)
    return str(rows[0][0]) if rows else None


async def test_an_account_moves_to_a_proven_address(movies_stack: MoviesStack) -> None:
    old, new = unique_address("old"), unique_address("new")
    token = await movies_stack.sign_in(old)
    account = await _account_id(movies_stack, old)
    mail = await _request_change(movies_stack, token, new)
    assert "changing your Reelmail e-mail address" in mail.as_string()
    code = code_in(mail)

    async with movies_stack.client(token) as client:
        reply = await client.put("/me/email", json={"email": new.upper(), "code": code})
    assert reply.status_code == 200, reply.text
    assert reply.json() == {"email": new}
    assert await _account_id(movies_stack, new) == account
    assert await _account_id(movies_stack, old) is None
    assert await _confirm(movies_stack, token, new, code) == 401, "a code is single use"
    assert await movies_stack.sign_in(new), "the new address signs in"
    assert await _account_id(movies_stack, new) == account, "to the same account"


async def test_a_code_works_only_for_the_account_that_asked(movies_stack: MoviesStack) -> None:
    asker, other, new = unique_address("asker"), unique_address("other"), unique_address("to")
    asker_token = await movies_stack.sign_in(asker)
    other_token = await movies_stack.sign_in(other)
    code = code_in(await _request_change(movies_stack, asker_token, new))
    assert await _confirm(movies_stack, other_token, new, code) == 401
    assert await _account_id(movies_stack, new) is None
    assert await _confirm(movies_stack, asker_token, new, code) == 200


async def test_an_address_in_use_is_refused_with_409(movies_stack: MoviesStack) -> None:
    mover, holder = unique_address("mover"), unique_address("holder")
    token = await movies_stack.sign_in(mover)
    await movies_stack.sign_in(holder)
    code = code_in(await _request_change(movies_stack, token, holder))
    async with movies_stack.client(token) as client:
        reply = await client.put("/me/email", json={"email": holder, "code": code})
    assert reply.status_code == 409
    assert reply.json()["type"].endswith("address-taken")
    assert await _account_id(movies_stack, mover) is not None


async def test_the_public_code_endpoint_refuses_email_change(movies_stack: MoviesStack) -> None:
    async with movies_stack.client() as client:
        reply = await client.post(
            "/auth/codes", json={"email": unique_address("x"), "purpose": "email_change"}
        )
        unauthenticated = await client.post("/me/email/codes", json={"email": "a@example.com"})
    assert reply.status_code == 400
    assert reply.json()["errors"][0]["field"] == "purpose"
    assert unauthenticated.status_code == 401


async def test_change_codes_share_the_per_address_limit_and_answer_429(
    movies_stack: MoviesStack,
) -> None:
    token = await movies_stack.sign_in(unique_address("limited"))
    new = unique_address("wanted")
    async with movies_stack.client(token) as client:
        for _ in range(5):
            reply = await client.post("/me/email/codes", json={"email": new})
            assert reply.status_code == 202, reply.text
        refused = await client.post("/me/email/codes", json={"email": new})
    assert refused.status_code == 429
    assert refused.headers["content-type"] == "application/problem+json"
    assert 0 < int(refused.headers["retry-after"]) <= 3600
    assert refused.json()["type"] == "urn:reelmail:problem:rate-limited"
