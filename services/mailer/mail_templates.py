"""Mail templates, compiled once into byte segments so building a mail is a join.

Each (locale, purpose) pair becomes a :class:`CompiledTemplate`. Compiling encodes the
subject (RFC 2047), the bodies (quoted-printable UTF-8) and the MIME skeleton ahead of
time; per message only the recipient, the date, the Message-ID and the code are spliced
in. The code always sits on a line of its own, so splicing it never breaks the
quoted-printable line structure.
"""

from __future__ import annotations

import quopri
import secrets
from dataclasses import dataclass
from email.header import Header
from email.utils import formataddr, formatdate
from typing import Final

from mailcontract import Locale, OtpMail, Purpose

_CRLF: Final = b"\r\n"


@dataclass(frozen=True, slots=True)
class Wording:
    """The words of one mail; ``{code}`` never appears here, it is spliced in at render."""

    subject: str
    intro: str
    code_label: str
    outro: str


# What every mail of a locale says, whatever the purpose: subject, code label, outro.
_FRAME: Final[dict[Locale, tuple[str, str, str]]] = {
    Locale.RU: (
        "Ваш одноразовый код",
        "Ваш код:",
        "Код действует ограниченное время. Если вы не запрашивали его, проигнорируйте письмо.",
    ),
    Locale.EN: (
        "Your one-time code",
        "Your code:",
        "The code expires soon. If you did not ask for it, ignore this mail.",
    ),
}
# The one line that differs by purpose: why the reader got the code.
_INTRO: Final[dict[tuple[Locale, Purpose], str]] = {
    (Locale.RU, Purpose.LOGIN): "Вы запросили вход в Reelmail.",
    (Locale.RU, Purpose.SIGNUP): "Вы регистрируетесь в Reelmail.",
    (Locale.RU, Purpose.EMAIL_CHANGE): "Вы меняете адрес почты в Reelmail.",
    (Locale.EN, Purpose.LOGIN): "You asked to sign in to Reelmail.",
    (Locale.EN, Purpose.SIGNUP): "You are signing up for Reelmail.",
    (Locale.EN, Purpose.EMAIL_CHANGE): "You are changing your Reelmail e-mail address.",
}


def _wording(locale: Locale, purpose: Purpose) -> Wording:
    subject, code_label, outro = _FRAME[locale]
    return Wording(subject, _INTRO[locale, purpose], code_label, outro)


_WORDING: Final[dict[tuple[Locale, Purpose], Wording]] = {key: _wording(*key) for key in _INTRO}


@dataclass(frozen=True, slots=True)
class CompiledTemplate:
    """Pre-encoded byte segments between the per-message values."""

    before_to: bytes
    before_date: bytes
    before_message_id: bytes
    before_text_code: bytes
    before_html_code: bytes
    after_html_code: bytes
    message_id_domain: bytes

    def render(self, mail: OtpMail) -> bytes:
        """Build the full RFC 5322 message for one validated recipient."""
        return b"".join(
            (
                self.before_to,
                mail.email.encode("ascii"),
                self.before_date,
                formatdate(usegmt=True).encode("ascii"),
                self.before_message_id,
                f"<{mail.id}@".encode("ascii"),
                self.message_id_domain,
                b">",
                self.before_text_code,
                mail.code.encode("ascii"),
                self.before_html_code,
                mail.code.encode("ascii"),
                self.after_html_code,
            ),
        )


class MailRenderer:
    """All templates for one sender, compiled at start-up."""

    def __init__(self, from_address: str, from_name: str) -> None:
        """Compile every (locale, purpose) template for this sender."""
        domain = from_address.rpartition("@")[2] or "localhost"
        self._templates = {
            key: compile_template(wording, key[0], from_address, from_name, domain)
            for key, wording in _WORDING.items()
        }

    def render(self, mail: OtpMail) -> bytes:
        """Return the bytes to hand to the SMTP server."""
        return self._templates[(mail.locale, mail.purpose)].render(mail)


def compile_template(
    wording: Wording,
    locale: Locale,
    from_address: str,
    from_name: str,
    domain: str,
) -> CompiledTemplate:
    """Encode everything about a mail that does not depend on the message."""
    boundary = f"=_reelmail_{secrets.token_hex(12)}"
    sender = formataddr((from_name, from_address), charset="utf-8")
    subject = _folded("Subject", wording.subject)
    text_head, text_tail = _text_parts(wording)
    html_head, html_tail = _html_parts(wording, locale)
    part_head = (
        f"--{boundary}\r\nContent-Type: {{}}; charset=utf-8\r\n"
        "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
    )
    return CompiledTemplate(
        before_to=f"{_fold(f'From: {sender}')}\r\nTo: ".encode("ascii"),
        before_date=(
            f"\r\nSubject: {subject}\r\nContent-Language: {locale.value}\r\n"
            "Auto-Submitted: auto-generated\r\nDate: "
        ).encode("ascii"),
        before_message_id=b"\r\nMessage-ID: ",
        before_text_code=(
            "\r\nMIME-Version: 1.0\r\n"
            f'Content-Type: multipart/alternative;\r\n boundary="{boundary}"\r\n\r\n'
            + part_head.format("text/plain")
        ).encode("ascii")
        + _qp(text_head),
        before_html_code=_qp(text_tail)
        + _CRLF
        + part_head.format("text/html").encode("ascii")
        + _qp(html_head),
        after_html_code=_qp(html_tail) + _CRLF + f"--{boundary}--\r\n".encode("ascii"),
        message_id_domain=domain.encode("ascii"),
    )


def _text_parts(wording: Wording) -> tuple[str, str]:
    head = f"{wording.intro}\n\n{wording.code_label}\n"
    tail = f"\n\n{wording.outro}\n"
    return head, tail


def _html_parts(wording: Wording, locale: Locale) -> tuple[str, str]:
    head = (
        f'<!doctype html>\n<html lang="{locale.value}"><body>\n'
        f"<p>{wording.intro}</p>\n<p>{wording.code_label}</p>\n<p><b>\n"
    )
    tail = f"\n</b></p>\n<p>{wording.outro}</p>\n</body></html>\n"
    return head, tail


def _folded(name: str, value: str) -> str:
    """RFC 2047-encode and fold a header value so no line passes 78 characters."""
    return Header(value, "utf-8", header_name=name).encode(linesep="\r\n")


def _fold(line: str, limit: int = 78) -> str:
    """Fold a header line at spaces so no physical line passes ``limit`` characters."""
    folded: list[str] = []
    for word in line.split(" "):
        if folded and len(folded[-1]) + 1 + len(word) <= limit:
            folded[-1] += " " + word
        else:
            folded.append(word)
    return "\r\n ".join(folded)


def _qp(text: str) -> bytes:
    """Quoted-printable with CRLF line ends, as SMTP wants."""
    return quopri.encodestring(text.encode("utf-8")).replace(b"\n", _CRLF)
