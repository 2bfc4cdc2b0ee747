import re
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy

import pytest

from mailcontract import Locale, OtpMail, Purpose
from mailer.mail_templates import MailRenderer

RENDERER = MailRenderer("no-reply@reelmail.test", "Кинопоиск Reelmail")


def _parse(mail: OtpMail) -> EmailMessage:
    parsed = message_from_bytes(RENDERER.render(mail), policy=default_policy)
    assert isinstance(parsed, EmailMessage)
    return parsed


def _mail(locale: Locale = Locale.RU, purpose: Purpose = Purpose.LOGIN) -> OtpMail:
    return OtpMail(
        id="6f1c1d7e-2f00-4a8e-9d54-0c3a4f1b2a11",
        email="alice@example.com",
        code="482913",
        purpose=purpose,
        locale=locale,
    )


@pytest.mark.parametrize("locale", list(Locale))
@pytest.mark.parametrize("purpose", list(Purpose))
def test_every_template_carries_the_code_in_text_and_html(locale: Locale, purpose: Purpose) -> None:
    parsed = _parse(_mail(locale, purpose))
    text = parsed.get_body(("plain",))
    html = parsed.get_body(("html",))
    assert text is not None
    assert html is not None
    assert re.search(r"^482913$", text.get_content().replace("\r\n", "\n"), re.MULTILINE)
    assert "<b>\n482913\n</b>" in html.get_content().replace("\r\n", "\n")


def test_russian_subject_is_the_original_systems_and_rfc2047_encoded() -> None:
    raw = RENDERER.render(_mail())
    parsed = _parse(_mail())
    assert parsed["Subject"] == "Ваш одноразовый код"
    assert b"=?utf-8?" in raw.split(b"\r\n\r\n", 1)[0]
    assert max(len(line) for line in raw.split(b"\r\n")) <= 78


def test_english_subject() -> None:
    assert _parse(_mail(Locale.EN))["Subject"] == "Your one-time code"


def test_headers_identify_the_message() -> None:
    parsed = _parse(_mail())
    assert parsed["To"] == "alice@example.com"
    assert parsed["Message-ID"] == "<6f1c1d7e-2f00-4a8e-9d54-0c3a4f1b2a11@reelmail.test>"
    assert parsed["Date"] is not None
    assert parsed["From"].addresses[0].display_name == "Кинопоиск Reelmail"
    assert parsed.defects == []
