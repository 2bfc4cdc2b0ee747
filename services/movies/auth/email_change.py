"""Changing a signed-in account's address: a code mailed to the new address proves it.

The code is bound to the account that asked (its id is part of the code's hash), so a
code for ``new@example.com`` requested by one account is worthless to any other. The
address changes only if no other account holds it; the account id, and with it every
session token and the watchlist, stays the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from mailcontract import Locale, Purpose
from movies.auth.models import User
from movies.auth.sign_in import CodeIssuer, CodeUse, CodeVerifier
from movies.platform.database import affected_rows

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy.ext.asyncio import AsyncSession


class AddressTakenError(Exception):
    """Another account already signs in with the requested address."""


class UnknownAccountError(Exception):
    """The token names an account that no longer exists."""


@dataclass(frozen=True, slots=True)
class EmailChanger:
    """Issues e-mail change codes and applies the change when one comes back."""

    issuer: CodeIssuer
    verifier: CodeVerifier

    async def request(self, account_id: str, new_email: str, locale: Locale, client: str) -> str:
        """Mail a code to ``new_email``, usable by ``account_id`` only; return the request id."""
        return await self.issuer.issue(
            new_email, Purpose.EMAIL_CHANGE, locale, client, bound_to=account_id
        )

    async def confirm(self, account_id: str, new_email: str, code: str, client: str) -> None:
        """Move the account to ``new_email``, or raise why not.

        Raises :class:`InvalidCodeError` (a wrong attempt is committed first, so the
        attempt limit holds), :class:`AddressTakenError` or :class:`UnknownAccountError`.
        """
        use = CodeUse(
            purposes=(Purpose.EMAIL_CHANGE.value,),
            apply=partial(_move_account, account_id=account_id, email=new_email),
            bound_to=account_id,
            check=partial(_check_address_free, account_id=account_id, email=new_email),
            event="email change code checked",
        )
        await self.verifier.redeem(new_email, code, client, use)


async def _check_address_free(session: AsyncSession, *, account_id: str, email: str) -> None:
    holder = await session.scalar(select(User.id).where(User.email == email))
    if holder is not None and holder != account_id:
        raise AddressTakenError


async def _move_account(
    session: AsyncSession, _now: datetime, *, account_id: str, email: str
) -> None:
    try:
        result = await session.execute(
            update(User).where(User.id == account_id).values(email=email)
        )
    except IntegrityError:  # the address was taken between the check and the update
        raise AddressTakenError from None
    if not affected_rows(result):
        raise UnknownAccountError
