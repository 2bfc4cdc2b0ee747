"""Issue 4's acceptance: at-least-once delivery, retries, dead letters, shutdown, replay."""

from __future__ import annotations

import re
import time

import pytest
from mailer_harness import (
    MailerUnderTest,
    committed_at_end,
    committed_records,
    dead_letters,
    otp_mails,
    publish,
    publish_mails,
    raw_json,
    received,
    replay,
    wait_for,
    wait_until_all_received,
)

pytestmark = pytest.mark.integration


def _addresses(mails: list) -> set[str]:  # type: ignore[type-arg]
    return {mail.email for mail in mails}


def _metric(text: str, name: str, labels: str = "") -> float:
    pattern = rf"^{re.escape(name)}{re.escape(labels)} ([0-9.e+-]+)"
    match = re.search(pattern, text, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


def test_a_thousand_messages_give_a_thousand_mails_and_full_commits(
    mailer: MailerUnderTest,
) -> None:
    mails = otp_mails("bulk", 1000)
    publish_mails(mailer.kafka, mailer.topic, mails)
    mailer.start()
    counts = wait_until_all_received(mailer.sink, _addresses(mails), timeout=120)
    assert sum(counts.values()) == 1000
    assert max(counts.values()) == 1
    wait_for(
        "commits to reach the end of every partition",
        lambda: all(
            c == e for c, e in committed_at_end(mailer.kafka, mailer.topic, mailer.group).values()
        ),
        timeout=60,
    )
    offsets = committed_at_end(mailer.kafka, mailer.topic, mailer.group)
    assert len(offsets) == 3
    assert sum(end for _, end in offsets.values()) == 1000


def test_temporary_refusals_are_retried_and_permanent_ones_dead_lettered(
    mailer: MailerUnderTest,
) -> None:
    mails = otp_mails("policy", 30)
    flaky = {mails[0].email, mails[1].email}
    refused = mails[2].email
    mailer.sink.policy.temporary_failures.update(dict.fromkeys(flaky, 2))
    mailer.sink.policy.permanent_failures.add(refused)
    publish_mails(mailer.kafka, mailer.topic, mails)
    mailer.start()
    deliverable = _addresses(mails) - {refused}
    counts = wait_until_all_received(mailer.sink, deliverable, timeout=60)
    assert all(counts[address] == 1 for address in deliverable)
    assert all(mailer.sink.policy.attempts[address] == 3 for address in flaky)
    wait_for("the refused mail in the DLQ", lambda: dead_letters(mailer.kafka, mailer.dlq), 20)
    [letter] = dead_letters(mailer.kafka, mailer.dlq)
    assert letter["dlq-reason"] == "smtp_permanent"
    assert letter["dlq-error"].startswith("550")
    assert letter["dlq-original-topic"] == mailer.topic
    assert letter["dlq-original-partition"] in {"0", "1", "2"}
    assert letter["dlq-original-offset"].isdigit()
    assert letter["message-type"] == "reelmail.otp.v2"  # the original headers are kept
    assert refused in letter["value"]
    assert received(mailer.sink, {refused})[refused] == 0
    metrics = mailer.metrics()
    assert _metric(metrics, "mailer_emails_total", '{result="retried"}') >= 4
    assert _metric(metrics, "mailer_dead_letters_total", '{reason="smtp_permanent"}') == 1


def test_poison_records_are_dead_lettered_and_do_not_block_the_partition(
    mailer: MailerUnderTest,
) -> None:
    before = otp_mails("before-poison", 5)
    after = otp_mails("after-poison", 5)
    key = b"same-partition"
    poison = [
        b"not json at all",
        raw_json({"v": 1, "email": "x@example.com"}),
        raw_json({"email": "victim@example.com\r\nBcc: all@example.com", "code": "123456"}),
        (b'{"email": "big@example.com", "code": "123456", "pad": "' + b"x" * 1024 * 1024)[
            : 1024 * 1024 - 2
        ]
        + b'"}',
        raw_json({"v": 7, "id": "6f1c1d7e-2f00-4a8e-9d54-0c3a4f1b2a11", "email": "v@example.com"}),
    ]
    publish_mails(mailer.kafka, mailer.topic, before)
    publish(mailer.kafka, mailer.topic, [(key, value) for value in poison])
    publish_mails(mailer.kafka, mailer.topic, after)
    mailer.start()
    wait_until_all_received(mailer.sink, _addresses(before + after), timeout=60)
    wait_for("five dead letters", lambda: len(dead_letters(mailer.kafka, mailer.dlq)) == 5, 20)
    letters = dead_letters(mailer.kafka, mailer.dlq)
    reasons = sorted(letter["dlq-reason"] for letter in letters)
    assert reasons == ["bad_schema", "bad_version", "control_chars", "not_json", "oversize"]
    [oversize] = [letter for letter in letters if letter["dlq-reason"] == "oversize"]
    assert oversize["dlq-value-truncated-from"] == str(1024 * 1024)


def test_sigterm_mid_burst_exits_cleanly_and_loses_nothing(mailer: MailerUnderTest) -> None:
    mailer.overrides["MAILER_MAX_INFLIGHT"] = "32"
    mails = otp_mails("sigterm", 500)
    publish_mails(mailer.kafka, mailer.topic, mails)
    process = mailer.start()
    wait_for(
        "the burst to be under way", lambda: len(received(mailer.sink, _addresses(mails))) > 50
    )
    started = time.monotonic()
    exit_code = process.stop(timeout=30)
    assert exit_code == 0
    assert time.monotonic() - started < 25
    mailer.start()
    counts = wait_until_all_received(mailer.sink, _addresses(mails), timeout=90)
    duplicates = sum(counts.values()) - len(mails)
    print(f"sigterm drill: {duplicates} duplicate(s) for 500 messages, in-flight bound 32")
    assert duplicates == 0  # SIGTERM drains and commits: nothing is sent twice


def test_sigkill_mid_burst_loses_nothing(mailer: MailerUnderTest) -> None:
    mailer.overrides["MAILER_MAX_INFLIGHT"] = "32"
    mails = otp_mails("sigkill", 500)
    publish_mails(mailer.kafka, mailer.topic, mails)
    process = mailer.start()
    wait_for(
        "the burst to be under way", lambda: len(received(mailer.sink, _addresses(mails))) > 50
    )
    process.kill()
    time.sleep(0.5)  # a mail the sink was storing at the kill is counted
    sent_by_killed = sum(received(mailer.sink, _addresses(mails)).values())
    committed = committed_records(mailer.kafka, mailer.topic, mailer.group)
    mailer.start()
    counts = wait_until_all_received(mailer.sink, _addresses(mails), timeout=90)
    duplicates = sum(counts.values()) - len(mails)
    unacknowledged = sent_by_killed - committed
    print(
        f"sigkill drill: {duplicates} duplicate(s) for 500 messages; "
        f"{unacknowledged} sent but uncommitted at the kill, in-flight bound 32"
    )
    # The README's bound: a kill resends at most what was sent and not yet committed.
    # Commits follow each completion, so some were made before the kill; without them the
    # bound would be everything sent, which a restart ignoring its commits also meets.
    assert committed > 0, "nothing was committed before the kill"
    assert duplicates <= unacknowledged
    assert max(counts.values()) <= 2


def test_dlq_replay_delivers_dead_letters_once_the_cause_is_fixed(mailer: MailerUnderTest) -> None:
    mails = otp_mails("replay", 3)
    for mail in mails:
        mailer.sink.policy.permanent_failures.add(mail.email)
    publish_mails(mailer.kafka, mailer.topic, mails)
    mailer.start()
    wait_for("three dead letters", lambda: len(dead_letters(mailer.kafka, mailer.dlq)) == 3, 30)
    mailer.sink.policy.permanent_failures.clear()
    assert "replayed 3" in replay(mailer, "smtp_permanent")
    counts = wait_until_all_received(mailer.sink, _addresses(mails), timeout=30)
    assert sum(counts.values()) == 3
