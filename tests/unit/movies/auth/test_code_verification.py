import asyncio
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

import pytest

from devstack.seal_keys import keyring_of, seal_settings
from movies.auth.models import OtpCode
from movies.auth.otp import hash_code
from movies.auth.rate_limits import RateLimit
from movies.auth.sign_in import CodeVerifier, SignInPolicy, Verification
from movies.outbox.messages import MailRoute

if TYPE_CHECKING:
    from movies.platform.database import Database

SECRET = "s" * 32
EMAIL = "someone@example.com"
NOW = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
RULE = RateLimit("test", 5, 3600)


@pytest.fixture
def verifier() -> CodeVerifier:
    route = MailRoute("topic", keyring_of(seal_settings()))
    policy = SignInPolicy(SECRET, timedelta(minutes=10), 5, route, RULE, RULE, RULE)
    return CodeVerifier(database=cast("Database", None), policy=policy)


def _code(code: str = "123456", **changes: Any) -> OtpCode:
    row = OtpCode(
        id="1",
        email=EMAIL,
        purpose="login",
        code_hash=hash_code(SECRET, EMAIL, "login", code),
        created_at=NOW - timedelta(minutes=1),
        expires_at=NOW + timedelta(minutes=9),
        attempts=0,
        consumed_at=None,
    )
    for name, value in changes.items():
        setattr(row, name, value)
    return row


def test_right_code_is_consumed(verifier: CodeVerifier) -> None:
    row = _code()
    assert verifier.judge(row, EMAIL, "123456", NOW) is Verification.OK
    assert row.consumed_at == NOW
    assert verifier.judge(row, EMAIL, "123456", NOW) is Verification.NO_CODE


def test_wrong_codes_count_and_the_sixth_try_finds_it_burned(verifier: CodeVerifier) -> None:
    row = _code()
    for attempt in range(1, 6):
        assert verifier.judge(row, EMAIL, "000000", NOW) is Verification.WRONG_CODE
        assert row.attempts == attempt
    assert verifier.judge(row, EMAIL, "123456", NOW) is Verification.BURNED
    assert row.consumed_at is None


def test_expired_code_is_refused_even_when_right(verifier: CodeVerifier) -> None:
    row = _code(expires_at=NOW)
    assert verifier.judge(row, EMAIL, "123456", NOW) is Verification.EXPIRED


def test_no_code_at_all(verifier: CodeVerifier) -> None:
    assert verifier.judge(None, EMAIL, "123456", NOW) is Verification.NO_CODE


def test_a_code_only_works_for_its_own_address(verifier: CodeVerifier) -> None:
    row = _code()
    assert verifier.judge(row, "other@example.com", "123456", NOW) is Verification.WRONG_CODE


def test_results_are_the_metric_labels_the_dashboards_use() -> None:
    assert {result.value for result in Verification} == {
        "ok",
        "wrong_code",
        "expired",
        "burned",
        "no_code",
    }
    assert asyncio.iscoroutinefunction(CodeVerifier.verify)
