"""The drills' judge must be able to fail: a lost, duplicated or forged code is caught.

Fast checks of the matcher and the verdict rules on synthetic evidence, so a broken
matcher cannot make every drill pass vacuously.
"""

from __future__ import annotations

from pathlib import Path

from drills.faults import FaultWindow
from drills.matcher import MailedCode, StoredCode, match
from drills.settings import DrillSettings
from drills.traffic import Attempt
from drills.verdicts import Evidence, basic_failures, time_to_recover
from movies.otp import hash_code

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
