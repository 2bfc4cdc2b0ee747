"""Opaque keyset cursors for paging through the catalogue in (title, id) order.

A cursor is the sort key of the last row shown, so a page never repeats or skips a row
when others are inserted or deleted meanwhile, and the database seeks rather than counts.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass

from movies.catalogue.payloads import MAX_DATABASE_ID, TITLE_PATTERN

_TITLE = re.compile(TITLE_PATTERN)


class InvalidCursorError(ValueError):
    """The cursor was not made by this service (or was altered)."""


@dataclass(frozen=True, slots=True)
class Cursor:
    """The position after which the next page starts."""

    title: str
    movie_id: int

    def encode(self) -> str:
        """URL-safe text the client passes back unchanged."""
        raw = json.dumps([self.title, self.movie_id], ensure_ascii=False).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(text: str) -> Cursor:
    """Parse a cursor from :meth:`Cursor.encode`, refusing anything else."""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        title, movie_id = json.loads(raw)
    except (binascii.Error, UnicodeDecodeError, ValueError, TypeError):
        raise InvalidCursorError(text) from None
    if not isinstance(title, str) or not _TITLE.fullmatch(title) or len(title) > 200:  # noqa: PLR2004 -- the title column's length
        raise InvalidCursorError(text)
    if type(movie_id) is not int or not 0 <= movie_id <= MAX_DATABASE_ID:
        raise InvalidCursorError(text)
    return Cursor(title=title, movie_id=movie_id)
