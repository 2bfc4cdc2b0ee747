import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from movies.catalogue.cursors import Cursor, InvalidCursorError, decode_cursor

titles = st.from_regex(r"\A[A-Za-zÀ-ÿ0-9][A-Za-zÀ-ÿ0-9 :'·,.-]{0,60}[A-Za-zÀ-ÿ0-9]\Z")


@given(titles, st.integers(min_value=0, max_value=2**31 - 1))
def test_cursor_round_trips(title: str, movie_id: int) -> None:
    cursor = Cursor(title, movie_id)
    text = cursor.encode()
    assert "=" not in text
    assert decode_cursor(text) == cursor


@given(st.text(max_size=80))
def test_anything_else_is_refused_with_one_error_type(text: str) -> None:
    with contextlib.suppress(InvalidCursorError):
        decode_cursor(text)


@pytest.mark.parametrize(
    "payload",
    ['["x", -1]', '["x", 2147483648]', '["x\\u0000", 1]', '["x", "1"]', '["x", true]', "{}"],
)
def test_tampered_cursors_are_refused(payload: str) -> None:
    import base64  # noqa: PLC0415 -- only this test forges cursors

    forged = base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")
    with pytest.raises(InvalidCursorError):
        decode_cursor(forged)
