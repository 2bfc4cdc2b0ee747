"""Issue 8: a burst of parallel requests for one address issues no more codes than the limit.

The count that matters is the rows in ``otp_codes`` (each row is a code someone could
receive), not the answers: a race between a limit check and its write would show as
more rows than the limit, whatever the status codes said.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from typing import TYPE_CHECKING

import pytest
from api_under_test import CODES_PER_ADDRESS, ApiUnderTest

if TYPE_CHECKING:
    import httpx

pytestmark = pytest.mark.integration
PARALLEL = 100


async def _burst(api: ApiUnderTest, addresses: list[str]) -> Counter[int]:
    async with api.client() as client:
        start = asyncio.Event()

        async def one(address: str) -> httpx.Response:
            await start.wait()
            return await client.post("/auth/codes", json={"email": address})

        pending = [asyncio.create_task(one(address)) for address in addresses]
        await asyncio.sleep(0.1)
        start.set()
        replies = await asyncio.gather(*pending)
    return Counter(reply.status_code for reply in replies)


async def test_parallel_requests_for_one_address_issue_at_most_the_limit(
    api: ApiUnderTest,
) -> None:
    address = f"burst-{uuid.uuid4().hex[:8]}@example.com"
    statuses = await _burst(api, [address] * PARALLEL)
    issued = await api.codes_issued_to(address)
    assert 1 <= issued <= CODES_PER_ADDRESS, statuses
    assert statuses[202] == issued, statuses
    assert statuses[429] == PARALLEL - issued, statuses


async def test_spellings_of_one_address_share_its_limit(api: ApiUnderTest) -> None:
    local = f"spelled-{uuid.uuid4().hex[:8]}"
    spellings = [f"{local}@example.com", f"{local.upper()}@EXAMPLE.COM", f"{local}@Example.Com"]
    statuses = await _burst(api, [spellings[i % len(spellings)] for i in range(PARALLEL)])
    issued = await api.codes_issued_to(f"{local}@example.com")
    assert 1 <= issued <= CODES_PER_ADDRESS, statuses
    assert statuses[202] == issued, statuses
    assert [await api.codes_issued_to(spelling) for spelling in spellings[1:]] == [0, 0]
