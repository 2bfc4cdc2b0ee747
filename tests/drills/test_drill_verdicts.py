"""The drills' judge must be able to fail: a lost, duplicated or forged code is caught.

Fast checks of the matcher and the verdict rules on synthetic evidence, so a broken
matcher cannot make every drill pass vacuously.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from drills.faults import FaultWindow
from drills.log_evidence import failure_notes, logged_kafka_failures
from drills.matcher import MailedCode, StoredCode, match
from drills.replicas import Replica
from drills.sampler import MoviesSample
from drills.settings import DrillSettings
from drills.traffic import Attempt
from drills.verdicts import Evidence, basic_failures, time_to_recover, writes_blocked_visibly
from movies.auth.otp import hash_code

SECRET = "s" * 40


def _stored(address: str, code: str) -> StoredCode:
    return StoredCode(address, "login", hash_code(SECRET, address, "login", code))


def _attempt(address: str, answered_at: float) -> Attempt:
    return Attempt(address, 0, answered_at - 0.01, answered_at, 202)


def _evidence(mails: list[MailedCode], addresses: list[str], at: float = 100.0) -> Evidence:
    stored = [_stored(address, "123456") for address in addresses]
    return Evidence(
        settings=DrillSettings(workdir=Path("/nonexistent")),
        window=FaultWindow(at, at + 10.0),
        attempts=[_attempt(address, at) for address in addresses],
        result=match(addresses, mails, stored, SECRET),
        samples=[],
        notes={},
        unpublished_at_end=0,
    )


def test_every_code_mailed_once_passes() -> None:
    mails = [
        MailedCode("a@example.com", "123456", 101.0),
        MailedCode("b@example.com", "123456", 101.0),
    ]
    evidence = _evidence(mails, ["a@example.com", "b@example.com"])
    assert (evidence.result.mailed, evidence.result.lost, evidence.result.duplicates) == (2, 0, 0)
    assert basic_failures(evidence, duplicate_bound=0) == []


def test_a_missing_mail_is_lost() -> None:
    evidence = _evidence(
        [MailedCode("a@example.com", "123456", 101.0)], ["a@example.com", "b@example.com"]
    )
    assert evidence.result.lost == 1
    assert basic_failures(evidence, duplicate_bound=0) == ["1 requested codes were never mailed"]
    assert time_to_recover(evidence) is None


def test_a_second_mail_is_a_duplicate_beyond_a_zero_bound() -> None:
    mails = [MailedCode("a@example.com", "123456", t) for t in (101.0, 102.0)]
    evidence = _evidence(mails, ["a@example.com"])
    assert evidence.result.duplicates == 1
    assert basic_failures(evidence, duplicate_bound=1) == []
    assert basic_failures(evidence, duplicate_bound=0) == ["1 duplicates exceed the bound of 0"]


def test_a_mail_with_a_code_never_issued_is_not_a_delivery() -> None:
    evidence = _evidence([MailedCode("a@example.com", "654321", 101.0)], ["a@example.com"])
    assert (evidence.result.mailed, evidence.result.mismatched) == (0, 1)
    assert "1 mails carried a code that was not issued" in basic_failures(evidence, 0)


def test_recovery_ends_with_the_last_late_code() -> None:
    mails = [
        MailedCode("a@example.com", "123456", 125.0),
        MailedCode("b@example.com", "123456", 100.5),
    ]
    evidence = _evidence(mails, ["a@example.com", "b@example.com"])
    assert time_to_recover(evidence) == 15.0


def _movies(at: float, pending: float, failures: float) -> MoviesSample:
    return MoviesSample(
        at=at, replica="movies-a", outbox_pending=pending, publish_failures=failures
    )


def _blocked(samples: list[MoviesSample]) -> tuple[list[str], dict[str, str]]:
    evidence = replace(_evidence([], []), movies_samples=samples)
    notes: dict[str, str] = {}
    return writes_blocked_visibly(evidence, notes), notes


def test_writes_held_in_a_growing_outbox_pass_and_are_counted() -> None:
    failures, notes = _blocked(
        [_movies(99.6, 1, 0), _movies(101.0, 40, 3), _movies(109.0, 300, 9), _movies(115.0, 0, 9)]
    )
    assert failures == []
    assert notes["outbox backlog when the fault began / at its peak"] == "1 / 300"
    assert notes["publishes not acknowledged (error, timeout) from the fault on"] == "9"


def test_an_outbox_that_never_grew_means_writes_were_not_held() -> None:
    failures, _ = _blocked([_movies(99.6, 2, 0), _movies(105.0, 1, 0), _movies(109.0, 0, 0)])
    assert failures == ["the outbox backlog never grew (2 to 1): writes went on"]


def test_no_scrape_during_the_fault_proves_nothing() -> None:
    failures, _ = _blocked([_movies(99.6, 2, 0), _movies(120.0, 0, 0)])
    assert failures == ["no movies replica could be scraped while writes were impossible"]


def test_kafka_failures_are_counted_from_the_services_logs(tmp_path: Path) -> None:
    relay = Replica("movies-a", "movies", {}, 0, tmp_path)
    mailer = Replica("mailer-a", "mailer", {}, 0, tmp_path)
    (tmp_path / "movies-a-1.log").write_text(
        '{"event": "outbox relay waiting", "error": "KafkaTimeoutError", "retry_in": 1}\n'
        "not json at all\n"
        '{"event": "outbox relay waiting", "error": "KafkaTimeoutError"}\n'
    )
    (tmp_path / "mailer-a-2.log").write_text(
        '{"event": "commit failed; will retry", "error": "CommitFailedError(\'x\')"}\n'
        '{"event": "Got error produce response on topic-partition TopicPartition(topic=\'t\','
        " partition=1), retrying. Error: <class 'aiokafka.errors.NotEnoughReplicasError'>\"}\n"
        '{"event": "partitions assigned"}\n'
    )
    counts = logged_kafka_failures([relay, mailer])
    assert counts == {
        "movies relay waiting: KafkaTimeoutError": 2,
        "mailer commit failed: CommitFailedError": 1,
        "Kafka client retried a produce: NotEnoughReplicasError": 1,
    }
    assert failure_notes(counts)["Kafka failures logged"].startswith(
        "movies relay waiting: KafkaTimeoutError x2"
    )
