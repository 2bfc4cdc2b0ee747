from mailer.sent_messages import SentMessages


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_second_copy_in_flight_is_refused_until_the_first_gives_up() -> None:
    sent = SentMessages(ttl_seconds=60)
    assert sent.reserve("m1")
    assert not sent.reserve("m1")
    sent.release("m1")
    assert sent.reserve("m1")


def test_a_sent_id_is_refused_for_the_ttl_then_forgotten() -> None:
    clock = Clock()
    sent = SentMessages(ttl_seconds=60, clock=clock)
    assert sent.reserve("m1")
    sent.add("m1")
    assert not sent.reserve("m1")
    clock.now = 61
    assert sent.reserve("m1")


def test_size_is_bounded_oldest_first() -> None:
    sent = SentMessages(ttl_seconds=60, max_entries=2)
    for name in ("a", "b", "c"):
        sent.add(name)
    assert "a" not in sent
    assert "b" in sent
    assert "c" in sent
