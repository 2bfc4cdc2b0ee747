import random

import pytest

from pacing import Backoff, FailureStreak


def test_delays_double_up_to_the_cap_and_reset_after_success() -> None:
    # The outbox relay's pacing: at most a quarter of each delay is taken off.
    streak = FailureStreak(Backoff(0.5, 4.0, jitter=0.25, rng=random.Random(7)))
    delays = [streak.next_delay() for _ in range(7)]
    ceilings = [0.5, 1.0, 2.0, 4.0, 4.0, 4.0, 4.0]
    for delay, ceiling in zip(delays, ceilings, strict=True):
        assert 0.75 * ceiling <= delay <= ceiling
    streak.reset()
    assert streak.next_delay() <= 0.5


def test_the_default_jitter_takes_up_to_half_a_delay_off() -> None:
    backoff = Backoff(0.2, 30.0, rng=random.Random(3))
    for attempt, ceiling in [(1, 0.2), (2, 0.4), (3, 0.8), (8, 25.6), (9, 30.0), (40, 30.0)]:
        delays = [backoff.delay(attempt) for _ in range(200)]
        assert all(ceiling / 2 <= delay <= ceiling for delay in delays)
        assert min(delays) < 0.6 * ceiling
        assert max(delays) > 0.9 * ceiling


def test_without_jitter_the_delays_are_exact_doublings() -> None:
    streak = FailureStreak(Backoff(0.5, 3.0, jitter=0.0))
    assert [streak.next_delay() for _ in range(5)] == [0.5, 1.0, 2.0, 3.0, 3.0]


def test_a_streak_of_any_length_stays_at_the_cap() -> None:
    backoff = Backoff(0.2, 30.0, jitter=0.0)
    assert backoff.delay(5_000) == 30.0
    assert backoff.delay(0) == 0.2


@pytest.mark.parametrize("jitter", [-0.1, 1.0])
def test_a_jitter_outside_zero_to_one_is_refused(jitter: float) -> None:
    with pytest.raises(ValueError, match="jitter"):
        Backoff(0.2, 30.0, jitter=jitter)
