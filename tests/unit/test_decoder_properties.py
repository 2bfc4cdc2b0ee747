"""Hostile input on the mailer's decoder: every input is either a mail or a named poison."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from devstack.seal_keys import keyring_of, seal_settings
from mailcontract import OtpMail, PoisonMessageError, PoisonReason, RecordPosition, decode_otp_mail
from mailcontract.otp_message import MAX_VALUE_BYTES
from mailer.mail_templates import MailRenderer

POSITION = RecordPosition("mail.otp.v1", 0, 7)
RENDERER = MailRenderer("no-reply@reelmail.example", "Reelmail")
KEYRING = keyring_of(seal_settings())
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)
fields = st.fixed_dictionaries(
    {},
    optional={
        "v": st.one_of(st.just(1), st.just(2), json_values),
        "kid": st.one_of(st.just("dev1"), st.text(), json_values),
        "sealed_code": st.one_of(st.text(), json_values),
        "id": st.one_of(st.uuids().map(str), json_values),
        "email": st.one_of(st.emails(), st.text(), json_values),
        "code": st.one_of(st.from_regex(r"[0-9]{6}", fullmatch=True), st.text(), json_values),
        "purpose": st.sampled_from(["login", "signup", "email_change", "reset", ""]),
        "locale": st.sampled_from(["ru", "en", "de", ""]),
        "expires_at": st.one_of(st.none(), st.datetimes().map(str), st.text()),
    },
)


def _outcome(value: bytes) -> OtpMail | PoisonReason:
    """The decoder's boundary: a mail (which must render safely) or a named poison reason."""
    try:
        mail = decode_otp_mail(value, POSITION, KEYRING)
    except PoisonMessageError as exc:
        reason = exc.reason
        return PoisonReason(reason)
    rendered = RENDERER.render(mail)
    headers = rendered.split(b"\r\n\r\n", 1)[0]
    assert headers.count(b"\r\nTo: ") == 1
    assert b"\nBcc" not in headers
    assert b"\r\n" not in mail.email.encode()
    return mail


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=2048))
def test_random_bytes_never_escape_the_boundary(value: bytes) -> None:
    _outcome(value)


@settings(max_examples=400, deadline=None)
@given(json_values)
def test_random_json_never_escapes_the_boundary(body: Any) -> None:
    _outcome(json.dumps(body).encode())


@settings(max_examples=400, deadline=None)
@given(fields)
def test_near_valid_messages_are_sent_or_dead_lettered(body: dict[str, Any]) -> None:
    _outcome(json.dumps(body, default=str).encode())


@settings(max_examples=50, deadline=None)
@given(st.integers(min_value=MAX_VALUE_BYTES + 1, max_value=4 * MAX_VALUE_BYTES))
def test_oversized_values_are_poison(size: int) -> None:
    body = json.dumps({"email": "a@example.com", "code": "123456", "pad": "x" * size}).encode()
    assert _outcome(body) is PoisonReason.OVERSIZE


@settings(max_examples=200, deadline=None)
@given(
    st.uuids(), st.from_regex(r"[a-z]{1,12}\.[a-z]{1,8}@[a-z]{2,10}\.(com|org|net)", fullmatch=True)
)
def test_valid_messages_with_any_address_render_one_recipient(
    message_id: object, email: str
) -> None:
    body = {
        "v": 1,
        "id": str(message_id),
        "email": email,
        "code": "123456",
        "purpose": "login",
        "locale": "en",
        "issued_at": None,
        "expires_at": None,
    }
    outcome = _outcome(json.dumps(body).encode())
    assert isinstance(outcome, OtpMail)
    assert outcome.email == email
