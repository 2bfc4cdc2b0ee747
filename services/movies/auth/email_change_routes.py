"""HTTP routes of the signed-in account: change its address, proven by a mailed code."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, post, put
from litestar.di import NamedDependency
from litestar.openapi.spec import Example
from litestar.params import Body

from mailcontract import Locale
from movies.auth.access_tokens import Principal
from movies.auth.email_change import AddressTakenError, EmailChanger, UnknownAccountError
from movies.auth.http_inputs import (
    RATE_LIMIT_HANDLERS,
    Code,
    CodeAccepted,
    Email,
    client_address,
    valid_address,
)
from movies.auth.sign_in import InvalidCodeError
from movies.platform.problems import ProblemError, problem_responses
from movies.platform.route_access import BEARER_REQUIRED


class EmailChangeRequest(msgspec.Struct, frozen=True):
    """Ask for a code at the address the account should move to."""

    email: Email
    locale: Locale = Locale.RU


class EmailChangeConfirmation(msgspec.Struct, frozen=True):
    """The new address and the code that was mailed to it."""

    email: Email
    code: Code


class AccountEmail(msgspec.Struct, frozen=True):
    """The address the account signs in with from now on."""

    email: Annotated[str, msgspec.Meta(examples=["new@example.com"])]


_REQUEST_EXAMPLE = Example(
    summary="Move to a new address, mail in English",
    value={"email": "new@example.com", "locale": "en"},
)
_CONFIRM_EXAMPLE = Example(
    summary="Confirm with the code from the mail",
    value={"email": "new@example.com", "code": "042917"},
)


class AccountController(Controller):
    """``/me/email``: every route needs a session token."""

    path = "/me/email"
    tags = ["account"]  # noqa: RUF012 -- Litestar reads this class attribute as is
    exception_handlers = RATE_LIMIT_HANDLERS
    security = BEARER_REQUIRED

    @post(
        "/codes",
        status_code=202,
        operation_id="requestEmailChangeCode",
        summary="Mail a code to the new address",
        responses=problem_responses(400, 401, 413, 429, 503),
    )
    async def request_email_change(
        self,
        data: Annotated[EmailChangeRequest, Body(examples=[_REQUEST_EXAMPLE])],
        email_changer: NamedDependency[EmailChanger],
        request: Request[Principal, Any, Any],
    ) -> CodeAccepted:
        """Queue a code for the new address; only this account can use it."""
        email = valid_address(data.email)
        await email_changer.request(
            request.user.user_id, email, data.locale, client_address(request)
        )
        return CodeAccepted()

    @put(
        "/",
        operation_id="changeEmail",
        summary="Move the account to the new address",
        responses=problem_responses(400, 401, 409, 413, 429, 503),
    )
    async def change_email(
        self,
        data: Annotated[EmailChangeConfirmation, Body(examples=[_CONFIRM_EXAMPLE])],
        email_changer: NamedDependency[EmailChanger],
        request: Request[Principal, Any, Any],
    ) -> AccountEmail:
        """Check the code (single use, 5 tries) and sign in with the new address from now on."""
        email = valid_address(data.email)
        try:
            await email_changer.confirm(
                request.user.user_id, email, data.code, client_address(request)
            )
        except InvalidCodeError:
            detail = "the code is wrong, expired, used up or was never issued to this account"
            raise ProblemError(401, "invalid-code", detail) from None
        except AddressTakenError:
            raise ProblemError(409, "address-taken", "another account uses this address") from None
        except UnknownAccountError:
            raise ProblemError(401, "unknown-account", "the account no longer exists") from None
        return AccountEmail(email=email)
