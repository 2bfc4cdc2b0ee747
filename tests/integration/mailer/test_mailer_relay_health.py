"""Issue 13 defect 4: a relay that refuses our connection is the relay's state, not the mail's.

Against a real aiosmtpd relay that answers AUTH with 535 for a while (a rotated
password), then accepts: nothing is dead-lettered, every mail is delivered exactly
once, ``/readyz`` is 503 naming the credentials while it lasts and 200 after, and the
metrics say so. A relay that is merely down leaves the pod ready.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import TYPE_CHECKING

import pytest
from mailer_harness import (
    MailerUnderTest,
    committed_at_end,
    dead_letters,
    otp_mails,
    publish_mails,
    received,
    wait_for,
    wait_until_all_received,
)

from devstack.ports import free_port
from devstack.smtp_sink import MailSink

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.integration
CREDENTIALS = ("mailer", "relay-password-for-the-test")
REJECTION_SECONDS = 12.0
_UNREACHABLE = 'mailer_smtp_connection_failures_total{reason="unreachable"}'


def _readyz(mailer: MailerUnderTest) -> tuple[int, dict[str, str]]:
    url = f"http://127.0.0.1:{mailer.port}/readyz"
    try:
        with urllib.request.urlopen(url, timeout=5) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as refused:
        return refused.code, json.loads(refused.read())


def _metric(mailer: MailerUnderTest, sample: str) -> float:
    for line in mailer.metrics().splitlines():
        name, _, value = line.rpartition(" ")
        if name == sample:
            return float(value)
    return 0.0


@pytest.fixture
def auth_relay(tmp_path: Path) -> MailSink:
    relay = MailSink(tmp_path / "relay-mail", free_port(), credentials=CREDENTIALS)
    relay.start()
    yield relay
    relay.stop()


def test_a_relay_rejecting_our_credentials_for_a_while_loses_nothing(
    mailer: MailerUnderTest, auth_relay: MailSink
) -> None:
    mailer.sink = auth_relay
    mailer.overrides |= {
        "SMTP_USERNAME": CREDENTIALS[0],
        "SMTP_PASSWORD": CREDENTIALS[1],
        "MAILER_RETRY_MAX_ATTEMPTS": "2",  # a rejection this long would exhaust them many times
        "MAILER_RETRY_MAX_SECONDS": "2",
    }
    auth_relay.policy.reject_logins = True
    mails = otp_mails("rotated-password", 60)
    addresses = {mail.email for mail in mails}
    publish_mails(mailer.kafka, mailer.topic, mails)
    mailer.start()
    wait_for("readiness to name the credentials", lambda: _readyz(mailer)[0] == 503, 30)
    time.sleep(REJECTION_SECONDS)

    assert dead_letters(mailer.kafka, mailer.dlq) == []  # were all smtp_permanent (issue 13)
    status, body = _readyz(mailer)
    assert (status, body["smtp"]) == (503, "auth_rejected"), body
    assert body["reason"] == "smtp relay rejects our credentials"
    assert _metric(mailer, "mailer_smtp_credentials_rejected") == 1
    assert _metric(mailer, "mailer_ready") == 0
    assert _metric(mailer, 'mailer_smtp_connection_failures_total{reason="auth_rejected"}') >= 3
    assert received(auth_relay, addresses) == {}
    # One try of the relay at a time, spaced: not one rejected AUTH per waiting mail
    # (each try is two logins: aiosmtplib tries PLAIN, then LOGIN).
    print(f"rejected logins during the rotation: {auth_relay.policy.logins['rejected']}")
    assert 3 <= auth_relay.policy.logins["rejected"] < len(mails)

    auth_relay.policy.reject_logins = False
    counts = wait_until_all_received(auth_relay, addresses, timeout=60)
    assert sorted(counts.values()) == [1] * len(mails)
    wait_for(
        "readiness to recover",
        lambda: _readyz(mailer) == (200, {"status": "ready", "smtp": "ok"}),
        30,
    )
    assert _metric(mailer, "mailer_smtp_credentials_rejected") == 0
    wait_for("mailer_ready to follow", lambda: _metric(mailer, "mailer_ready") == 1, 10)
    wait_for(
        "every offset to be committed",
        lambda: all(
            c == e for c, e in committed_at_end(mailer.kafka, mailer.topic, mailer.group).values()
        ),
        30,
    )
    assert dead_letters(mailer.kafka, mailer.dlq) == []
    assert sum(received(auth_relay, addresses).values()) == len(mails)  # still once each


def test_a_relay_that_is_down_leaves_the_pod_ready_and_spends_no_tries(
    mailer: MailerUnderTest,
) -> None:
    mailer.overrides["MAILER_RETRY_MAX_ATTEMPTS"] = "2"  # a 10 s outage is far more than 2 tries
    mailer.start()
    mailer.sink.stop()
    mails = otp_mails("relay-down", 100)
    publish_mails(mailer.kafka, mailer.topic, mails)
    time.sleep(REJECTION_SECONDS)
    assert dead_letters(mailer.kafka, mailer.dlq) == []  # were all retries_exhausted
    assert _readyz(mailer) == (200, {"status": "ready", "smtp": "unreachable"})
    assert _metric(mailer, _UNREACHABLE) >= 3
    assert _metric(mailer, "mailer_smtp_credentials_rejected") == 0
    assert _metric(mailer, "mailer_ready") == 1
    mailer.sink.start()
    counts = wait_until_all_received(mailer.sink, {mail.email for mail in mails}, timeout=60)
    assert sorted(counts.values()) == [1] * len(mails)
    wait_for("readiness to see the relay again", lambda: _readyz(mailer)[1]["smtp"] == "ok", 30)
    assert dead_letters(mailer.kafka, mailer.dlq) == []
