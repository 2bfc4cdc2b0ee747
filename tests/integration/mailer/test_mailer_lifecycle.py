"""Issue 13: how a mailer process stops, cleanly or because a part of it died."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from mailer_harness import (
    MailerUnderTest,
    committed_at_end,
    otp_mails,
    publish_mails,
    received,
    wait_for,
    wait_until_all_received,
)

pytestmark = pytest.mark.integration


def _log_records(text: str) -> list[dict[str, object]]:
    """Every JSON log line; a line that is not JSON (a raw traceback) is kept as its text."""
    records = []
    for line in text.splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            records.append({"level": "raw", "event": line})
    return records


@pytest.mark.parametrize("mail_count", [0, 20], ids=["idle", "after-work"])
def test_a_clean_stop_exits_0_and_logs_no_error(mailer: MailerUnderTest, mail_count: int) -> None:
    mails = otp_mails("clean-stop", mail_count)
    publish_mails(mailer.kafka, mailer.topic, mails)
    process = mailer.start()
    wait_until_all_received(mailer.sink, {mail.email for mail in mails}, timeout=60)
    time.sleep(1.5)  # a lag refresh or more after the work
    stopped_at = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    assert process.stop(timeout=30) == 0
    records = _log_records(mailer.logs())
    assert "mailer stopped" in [record["event"] for record in records]
    at_stop = [r for r in records if str(r.get("timestamp", "~")) >= stopped_at]
    complaints = [r for r in at_stop if r.get("level") in {"error", "critical", "raw"}]
    assert complaints == []
    assert "Unclosed AIOKafkaConsumer" not in mailer.logs()


@pytest.mark.parametrize("helper", ["committer", "lag"])
def test_a_dying_helper_task_stops_the_mailer_with_an_error(
    mailer: MailerUnderTest, helper: str
) -> None:
    """Issue 13 defect 5: a dead committer used to leave the process running, uncommitted."""
    mailer.module = "faulty_mailer"
    mailer.overrides |= {"FAULTY_HELPER": helper, "PYTHONPATH": str(Path(__file__).parent)}
    mails = otp_mails(f"helper-{helper}", 10)
    publish_mails(mailer.kafka, mailer.topic, mails)
    process = mailer.start()
    wait_for("the mailer to exit", lambda: process.exit_code() is not None, timeout=30)
    assert process.exit_code() == 1
    records = _log_records(mailer.logs())
    [death] = [r for r in records if r["event"] == "helper task died; stopping the mailer"]
    assert death["level"] == "error"
    assert death["task"] == helper
    assert "mailer stopped after a failure" in [r["event"] for r in records]
    # It drained and committed on its way out, so a restart resends nothing it finished.
    offsets = committed_at_end(mailer.kafka, mailer.topic, mailer.group)
    finished = sum(received(mailer.sink, {mail.email for mail in mails}).values())
    assert sum(committed for committed, _ in offsets.values()) == finished
