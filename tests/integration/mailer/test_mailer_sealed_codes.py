"""Issue 13: sealed codes. A seal the mailer cannot open is a dead letter, never a mail.

The mailer here knows the harness key; records sealed under a key it lacks, under a key
it was told is retired, or whose message was altered after sealing, must each reach the
dead-letter topic with their own reason, while sealed, v1-in-clear and legacy records
beside them are delivered. A key added later makes its dead letters deliverable by replay.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import replace

import pytest
from mailer_harness import (
    KEYRING,
    SEAL_SETTINGS,
    MailerUnderTest,
    dead_letters,
    otp_mails,
    publish,
    raw_json,
    received,
    replay,
    wait_for,
    wait_until_all_received,
)

from bench.prefill import clear_v1
from mailcontract import Keyring, OtpMail, encode_otp_mail, generate_key

pytestmark = pytest.mark.integration
FORMS = re.compile(r'^mailer_code_forms_total\{form="(\w+)"\} (\S+)', re.MULTILINE)


def _keyring(key_id: str, key: str) -> Keyring:
    return Keyring.from_env(
        {"MAIL_SEAL_KEYS": f"{key_id}:{key}", "MAIL_SEAL_ACTIVE_KEY": key_id}, sealing=True
    )


def _redirected(mail: OtpMail, to: str) -> bytes:
    """A sealed record whose recipient was changed afterwards, as an attacker would."""
    body = json.loads(encode_otp_mail(mail, KEYRING))
    body["email"] = to
    return raw_json(body)


def _reasons(mailer: MailerUnderTest) -> dict[str, str]:
    """The dead letters' reasons, by the recipient their record names."""
    letters = dead_letters(mailer.kafka, mailer.dlq)
    return {
        json.loads(ast.literal_eval(letter["value"]))["email"]: letter["dlq-reason"]
        for letter in letters
    }


def test_seals_the_mailer_cannot_open_are_dead_lettered_with_their_own_reason(
    mailer: MailerUnderTest,
) -> None:
    unknown, retired, redirected, sealed, clear, legacy = otp_mails("seal", 6)
    mailer.overrides["MAIL_SEAL_RETIRED_KEYS"] = "k-old"
    values = [
        (None, encode_otp_mail(unknown, _keyring("k-new", generate_key()))),
        (None, encode_otp_mail(retired, _keyring("k-old", generate_key()))),
        (None, _redirected(redirected, "mallory@example.com")),
        (None, encode_otp_mail(sealed, KEYRING)),
        (None, clear_v1(clear)),
        (None, raw_json({"email": legacy.email, "code": legacy.code})),
    ]
    publish(mailer.kafka, mailer.topic, values)
    mailer.start()
    delivered = {sealed.email, clear.email, legacy.email}
    counts = wait_until_all_received(mailer.sink, delivered, timeout=60)
    assert dict(counts) == dict.fromkeys(delivered, 1)
    wait_for("three dead letters", lambda: len(dead_letters(mailer.kafka, mailer.dlq)) == 3, 30)
    assert _reasons(mailer) == {
        unknown.email: "unknown_key",
        retired.email: "retired_key",
        "mallory@example.com": "broken_seal",
    }
    refused = {unknown.email, retired.email, redirected.email, "mallory@example.com"}
    assert sum(received(mailer.sink, refused).values()) == 0
    forms = dict(
        re.findall(
            r'^mailer_code_forms_total\{form="(\w+)"\} (\S+)', mailer.metrics(), re.MULTILINE
        )
    )
    assert forms == {"sealed": "1.0", "clear_v1": "1.0", "clear_legacy": "1.0"}


def test_a_key_added_later_makes_its_dead_letters_deliverable_by_replay(
    mailer: MailerUnderTest,
) -> None:
    new_key = generate_key()
    mails = [replace(mail, code="246810") for mail in otp_mails("rotated", 3)]
    publish(
        mailer.kafka,
        mailer.topic,
        [(None, encode_otp_mail(mail, _keyring("k2", new_key))) for mail in mails],
    )
    mailer.start()
    wait_for("three dead letters", lambda: len(dead_letters(mailer.kafka, mailer.dlq)) == 3, 30)
    assert set(_reasons(mailer).values()) == {"unknown_key"}
    assert mailer.process is not None
    mailer.process.stop()
    keys = f"{SEAL_SETTINGS['MAIL_SEAL_KEYS']},k2:{new_key}"
    mailer.overrides["MAIL_SEAL_KEYS"] = keys
    mailer.start()
    summary = replay(mailer, "unknown_key").strip()
    assert summary.endswith("matched 3 (unknown_key=3); replayed 3")
    counts = wait_until_all_received(mailer.sink, {mail.email for mail in mails}, timeout=30)
    assert sum(counts.values()) == 3
