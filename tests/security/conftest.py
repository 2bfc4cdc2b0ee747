"""Issue 8's security checks: a broker and PostgreSQL of their own, and a movies API on them."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from api_under_test import ApiUnderTest, start_api
from forged_tokens import claims, signed

from drills.infrastructure import Infrastructure

if TYPE_CHECKING:
    from collections.abc import AsyncIterator


@pytest.fixture(scope="session")
async def security_infra(
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Infrastructure]:
    infra = Infrastructure(tmp_path_factory.mktemp("security"))
    await infra.start()
    yield infra
    await infra.stop()


@pytest.fixture(scope="session")
async def api(
    security_infra: Infrastructure,
    tmp_path_factory: pytest.TempPathFactory,
    request: pytest.FixtureRequest,
) -> AsyncIterator[ApiUnderTest]:
    under_test = await start_api(security_infra, tmp_path_factory.mktemp("security-api"))
    yield under_test
    under_test.process.stop()
    if request.session.testsfailed:
        print(f"\n--- movies (security) log ---\n{under_test.process.log_tail(80)}")


@pytest.fixture(scope="session")
async def admin_token(api: ApiUnderTest) -> str:
    """A valid session token of an admin account (the JWT secret is the test's own)."""
    return signed(api.jwt_secret, claims(await api.add_user(api.admin_email)))
