import random

from movies.outbox.relay import Backoff


def test_delays_double_up_to_the_cap_and_reset_after_success() -> None:
    backoff = Backoff(initial=0.5, maximum=4.0, _random=random.Random(7))
    delays = [backoff.next_delay() for _ in range(7)]
    ceilings = [0.5, 1.0, 2.0, 4.0, 4.0, 4.0, 4.0]
    for delay, ceiling in zip(delays, ceilings, strict=True):
        assert 0.75 * ceiling <= delay <= ceiling
    backoff.reset()
    assert backoff.next_delay() <= 0.5
