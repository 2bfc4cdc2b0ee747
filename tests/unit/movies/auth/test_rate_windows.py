from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from movies.auth.rate_limits import RateLimitedError, retry_after_seconds, subject_key, window_start

moments = st.datetimes(
    min_value=datetime(2000, 1, 1),  # noqa: DTZ001 -- hypothesis wants naive bounds
    max_value=datetime(2100, 1, 1),  # noqa: DTZ001
    timezones=st.just(UTC),
)


@given(moments, st.sampled_from([1, 60, 3600, 86_400]))
def test_window_contains_the_moment_and_retry_after_reaches_its_end(
    now: datetime, window: int
) -> None:
    start = window_start(now, window)
    assert start <= now < start + timedelta(seconds=window)
    wait = retry_after_seconds(now, window)
    assert 1 <= wait <= window
    assert now + timedelta(seconds=wait) >= start + timedelta(seconds=window)


def test_windows_are_aligned_so_every_replica_agrees() -> None:
    now = datetime(2026, 11, 29, 10, 42, 17, tzinfo=UTC)
    assert window_start(now, 3600) == datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
    assert retry_after_seconds(now, 3600) == 17 * 60 + 43


def test_subjects_are_keyed_hashes_not_addresses() -> None:
    key = subject_key("s" * 32, "to:someone@example.com")
    assert "someone" not in key
    assert len(key) == 64
    assert key != subject_key("t" * 32, "to:someone@example.com")


def test_the_error_names_the_bucket_not_the_subject() -> None:
    error = RateLimitedError("codes_per_address", 120)
    assert error.retry_after == 120
    assert "codes_per_address" in str(error)
