"""HTTP routes of passwordless sign-in."""

from __future__ import annotations

from dataclasses import dataclass

from aiokafka.errors import KafkaError
from litestar import Controller, post
from litestar.exceptions import ServiceUnavailableException, ValidationException

from mailcontract import InvalidAddressError, Locale, Purpose, normalize_address
from movies.sign_in import CodeIssuer


@dataclass
class CodeRequest:
    """Ask for a one-time code to be mailed to ``email``."""

    email: str
    purpose: Purpose = Purpose.LOGIN
    locale: Locale = Locale.RU


@dataclass
class CodeAccepted:
    """The same answer whatever the address, so it reveals nothing about accounts."""

    status: str = "accepted"


class AuthController(Controller):
    """Sign-in by a code sent to the user's mailbox."""

    path = "/auth"
    tags = ["auth"]  # noqa: RUF012 -- Litestar reads this class attribute as is

    @post("/codes", status_code=202, operation_id="requestCode")
    async def request_code(self, data: CodeRequest, code_issuer: CodeIssuer) -> CodeAccepted:
        """Issue a code and queue its mail; 202 means the request was recorded."""
        try:
            email = normalize_address(data.email)
        except InvalidAddressError as exc:
            raise ValidationException(detail=f"email: {exc}") from None
        try:
            await code_issuer.issue(email, data.purpose, data.locale)
        except KafkaError:
            raise ServiceUnavailableException(detail="mail queue unavailable") from None
        return CodeAccepted()
