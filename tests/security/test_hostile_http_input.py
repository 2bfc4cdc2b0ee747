"""Issue 8: hostile input on the HTTP API is refused cleanly, and never does what it hopes.

Each check looks past the status code: a refused address must leave no code issued,
a search with SQL metacharacters must return exactly the films whose titles contain
the text, and an internationalised address that is accepted must be stored in the one
ASCII form that can go into a mail header.

Behaviour stated (issue 8 asks which): a non-ASCII local part is refused with a clear
400 naming ``email``; an internationalised domain may be refused the same way or
accepted, and when accepted it must be stored as its ASCII (IDNA "xn--") form, never as
Unicode and never folded onto a different, real domain.
"""

from __future__ import annotations

import re
import uuid
from typing import TYPE_CHECKING, Any

import pytest
from email_validator import EmailNotValidError, validate_email

if TYPE_CHECKING:
    import httpx
    from api_under_test import ApiUnderTest

pytestmark = pytest.mark.integration
BODY_LIMIT = 16_384

INJECTED = [
    "victim@example.com\r\nBcc: evil@attacker.example",
    "victim@example.com\nBcc: evil@attacker.example",
    "victim@example.com\rBcc: evil@attacker.example",
    "victim\r\n@example.com",
    "victim@example.com\x00evil@attacker.example",
    "victim@exam\tple.com",
    "victim@example.com\u2028Bcc: evil@attacker.example",
    "victim@example.com\u0085Bcc: evil@attacker.example",
    "Victim <victim@example.com>",
    "victim@example.com, evil@attacker.example",
    "victim@example.com;evil@attacker.example",
    '"victim\r\nBcc: evil"@example.com',
    "a" * 250 + "@example.com",
]


async def _post_code(api: ApiUnderTest, email: str) -> httpx.Response:
    async with api.client() as client:
        return await client.post("/auth/codes", json={"email": email})


async def _all_codes(api: ApiUnderTest) -> int:
    [(count,)] = await api.sql("SELECT count(*) FROM otp_codes")
    return int(count)


def _refused_for_email(reply: httpx.Response) -> bool:
    if reply.status_code != 400:
        return False
    return [error["field"] for error in reply.json().get("errors", [])] == ["email"]


@pytest.mark.parametrize("email", INJECTED)
async def test_header_injection_in_the_address_is_refused(api: ApiUnderTest, email: str) -> None:
    before = await _all_codes(api)
    reply = await _post_code(api, email)
    assert _refused_for_email(reply), (reply.status_code, reply.text)
    assert await _all_codes(api) == before


def _ascii_form(email: str) -> str | None:
    """The IDNA ASCII form an accepted address must be stored as; None if it has none."""
    try:
        info = validate_email(email, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError:
        return None
    return info.ascii_email.lower() if info.ascii_email else None


IDN = [
    pytest.param("{u}@b\u00fccher.example", id="idn-u-label"),
    pytest.param("{u}@xn--bcher-kva.example", id="idn-a-label"),
    pytest.param("{u}@ex\u0430mple.com", id="cyrillic-a-in-domain"),
    pytest.param("{u}@ex\u0131mple.com", id="dotless-i-in-domain"),
    pytest.param("{u}@\uff25\uff38\uff21\uff2d\uff30\uff2c\uff25.com", id="fullwidth-domain"),
    pytest.param("{u}\u0430@example.com", id="cyrillic-a-in-local-part"),
    pytest.param("\uff55{u}@example.com", id="fullwidth-local-part"),
    pytest.param("{u}@example.com\u200b", id="zero-width-space"),
    pytest.param("\u202e{u}@example.com", id="right-to-left-override"),
    pytest.param("{u}\u0301@example.com", id="combining-accent"),
]


@pytest.mark.parametrize("template", IDN)
async def test_unicode_address_is_refused_or_stored_in_ascii(
    api: ApiUnderTest, template: str
) -> None:
    local = f"idn-{uuid.uuid4().hex[:10]}"
    email = template.format(u=local)
    reply = await _post_code(api, email)
    stored = [
        row[0]
        for row in await api.sql(
            "SELECT email FROM otp_codes WHERE email LIKE :pattern", pattern=f"%{local}%"
        )
    ]
    if reply.status_code == 400:
        assert _refused_for_email(reply), reply.text
        assert stored == []
        return
    assert reply.status_code == 202, reply.text
    assert stored == [_ascii_form(email)], f"{email!r} stored as {stored!r}"
    assert stored[0].isascii()


async def _pages(api: ApiUnderTest, query: dict[str, Any]) -> dict[int, str]:
    """Every film a search returns, following the cursor; fail on any error status."""
    found: dict[int, str] = {}
    cursor: str | None = None
    async with api.client() as client:
        while True:
            params = {**query, "limit": 100, **({"cursor": cursor} if cursor else {})}
            reply = await client.get("/movies/", params=params)
            assert reply.status_code == 200, (query, reply.status_code, reply.text)
            page = reply.json()
            found |= {item["id"]: item["title"] for item in page["items"]}
            cursor = page["next_cursor"]
            if cursor is None:
                return found


METACHARACTERS = [
    "%",
    "_",
    "%_%",
    "'",
    "\\",
    "\\%",
    '"',
    "' OR '1'='1",
    "' OR 1=1 --",
    "'; DROP TABLE movies; --",
    "' UNION SELECT email, email FROM users --",
    "/*",
    "*/",
    ";",
    "$$",
    "E'\\x41'",
    "O'",
]


@pytest.fixture(scope="module")
async def catalogue(api: ApiUnderTest, admin_token: str) -> dict[int, str]:
    """The whole catalogue, including films whose titles are made of metacharacters."""
    titles = ["100% Pure_Drama", "O'Brien's \"Cut\"; -- \\ end", "Back\\slash 50%_off"]
    async with api.client(admin_token) as client:
        for year, title in enumerate(titles, start=1990):
            body = {"title": title, "year": year, "runtime_minutes": 90, "genres": ["drama"]}
            reply = await client.post("/movies/", json=body)
            assert reply.status_code == 201, reply.text
    return await _pages(api, {})


@pytest.mark.parametrize("text", METACHARACTERS)
async def test_sql_metacharacters_in_search_are_plain_text(
    api: ApiUnderTest, catalogue: dict[int, str], text: str
) -> None:
    expected = {id_ for id_, title in catalogue.items() if text.lower() in title.lower()}
    assert set(await _pages(api, {"q": text})) == expected
    assert await _pages(api, {}) == catalogue


@pytest.mark.usefixtures("catalogue")
async def test_metacharacter_titles_are_found_by_their_own_text(api: ApiUnderTest) -> None:
    found = await _pages(api, {"q": "%"})
    assert sorted(found.values()) == ["100% Pure_Drama", "Back\\slash 50%_off"]


async def _post_raw(
    api: ApiUnderTest, body: bytes, content_type: str, **extra: Any
) -> httpx.Response:
    async with api.client() as client:
        return await client.post(
            "/auth/codes", content=body, headers={"content-type": content_type}, **extra
        )


def _padded(size: int) -> bytes:
    head = b'{"email": "pad-' + uuid.uuid4().hex.encode() + b'@example.com", "pad": "'
    return head + b"x" * (size - len(head) - 2) + b'"}'


async def test_body_just_under_the_limit_is_read(api: ApiUnderTest) -> None:
    reply = await _post_raw(api, _padded(BODY_LIMIT - 64), "application/json")
    assert reply.status_code == 202, reply.text


@pytest.mark.parametrize("size", [BODY_LIMIT + 1, 1024 * 1024])
async def test_body_over_the_limit_is_413(api: ApiUnderTest, size: int) -> None:
    before = await _all_codes(api)
    reply = await _post_raw(api, _padded(size), "application/json")
    assert reply.status_code == 413, reply.text
    assert await _all_codes(api) == before


async def test_streamed_body_over_the_limit_is_413(api: ApiUnderTest) -> None:
    body = _padded(1024 * 1024)

    async def chunks() -> Any:
        for start in range(0, len(body), 4096):
            yield body[start : start + 4096]

    async with api.client() as client:
        reply = await client.post(
            "/auth/codes", content=chunks(), headers={"content-type": "application/json"}
        )
    assert reply.status_code == 413, reply.text


@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=utf-8"])
async def test_json_content_types_are_read(api: ApiUnderTest, content_type: str) -> None:
    body = f'{{"email": "ct-{uuid.uuid4().hex[:8]}@example.com"}}'.encode()
    assert (await _post_raw(api, body, content_type)).status_code == 202


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/xml", "application/x-www-form-urlencoded", "multipart/form-data"],
)
async def test_wrong_content_type_is_415(api: ApiUnderTest, content_type: str) -> None:
    before = await _all_codes(api)
    body = f'{{"email": "ct-{uuid.uuid4().hex[:8]}@example.com"}}'.encode()
    reply = await _post_raw(api, body, content_type)
    assert reply.status_code == 415, (reply.status_code, reply.text)
    assert await _all_codes(api) == before


def _json_operations(document: dict[str, Any]) -> list[tuple[str, str]]:
    """(method, path) of every operation that takes a JSON body; path parameters set to 1."""
    found = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if "application/json" in operation.get("requestBody", {}).get("content", {}):
                found.append((method.upper(), re.sub(r"\{[^}]+\}", "1", path)))
    return sorted(found)


@pytest.fixture(scope="module")
async def json_operations(api: ApiUnderTest) -> list[tuple[str, str]]:
    async with api.client() as client:
        document = (await client.get("/schema/openapi.json")).json()
    found = _json_operations(document)
    assert len(found) >= 6, found
    return found


def _nested(depth: int, opener: bytes, closer: bytes) -> bytes:
    return opener * depth + b"1" + closer * depth


# Issue 13, defects 2 and 3: each of these once answered 500 (UnicodeDecodeError or
# RecursionError inside JSON decoding). Each is under the body limit.
MALFORMED_BODIES = [
    pytest.param(b'{"email": "\xff@example.com"}', id="invalid-utf8-start-byte"),
    pytest.param(b'{"email": "a\xc0\xafb@example.com"}', id="overlong-utf8"),
    pytest.param(b'{"email": "\xed\xa0\x80@example.com"}', id="utf8-encoded-surrogate"),
    pytest.param(b'{"email": "truncated\xe2\x82"}', id="truncated-utf8"),
    pytest.param(b'{"\xfe\xff": "x@example.com"}', id="invalid-utf8-in-a-key"),
    pytest.param(_nested(1000, b"[", b"]"), id="1000-nested-arrays"),
    pytest.param(_nested(1000, b'{"a":', b"}"), id="1000-nested-objects"),
    pytest.param(b'{"email": ' + _nested(1000, b"[", b"]") + b"}", id="nested-inside-a-field"),
    pytest.param(b"[" * 10_000, id="10000-unclosed-arrays"),
]


@pytest.mark.parametrize("body", MALFORMED_BODIES)
async def test_malformed_json_is_400_problem_on_every_json_endpoint(
    api: ApiUnderTest, admin_token: str, json_operations: list[tuple[str, str]], body: bytes
) -> None:
    assert len(body) < BODY_LIMIT
    before = await _all_codes(api)
    answers = {}
    async with api.client(admin_token) as client:
        for method, path in json_operations:
            reply = await client.request(
                method, path, content=body, headers={"content-type": "application/json"}
            )
            answers[f"{method} {path}"] = (reply.status_code, reply.headers.get("content-type"))
    assert set(answers.values()) == {(400, "application/problem+json")}, answers
    assert await _all_codes(api) == before
