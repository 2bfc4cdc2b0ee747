"""Issue 3: the catalogue: seed, search with cursor pagination, admin CRUD."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from movies_stack import MoviesStack

pytestmark = pytest.mark.integration


async def test_seed_holds_at_least_fifty_real_films(movies_stack: MoviesStack) -> None:
    [(count,)] = await movies_stack.sql("SELECT count(*) FROM movies")
    assert count >= 50
    async with movies_stack.client() as client:
        page = (await client.get("/movies", params={"q": "GODFATHER"})).json()
    assert [(m["title"], m["year"]) for m in page["items"]] == [("The Godfather", 1972)]


async def test_pages_cover_every_match_once_in_stable_order(movies_stack: MoviesStack) -> None:
    seen: list[tuple[str, int]] = []
    params: dict[str, str | int] = {
        "genre": "drama",
        "year_from": 1950,
        "year_to": 1999,
        "limit": 7,
    }
    async with movies_stack.client() as client:
        everything = (await client.get("/movies", params={**params, "limit": 100})).json()
        while True:
            page = (await client.get("/movies", params=params)).json()
            seen += [(movie["title"], movie["id"]) for movie in page["items"]]
            if page["next_cursor"] is None:
                break
            params["cursor"] = page["next_cursor"]
    expected = [(movie["title"], movie["id"]) for movie in everything["items"]]
    assert len(expected) > 7
    assert seen == expected
    assert all(1950 <= m["year"] <= 1999 and "drama" in m["genres"] for m in everything["items"])


async def test_search_refuses_bad_parameters_naming_them(movies_stack: MoviesStack) -> None:
    async with movies_stack.client() as client:
        for params, field in (({"limit": 101}, "limit"), ({"cursor": "bm9wZQ"}, "cursor")):
            reply = await client.get("/movies", params=params)
            assert reply.status_code == 400
            assert reply.headers["content-type"] == "application/problem+json"
            assert [error["field"] for error in reply.json()["errors"]] == [field]


async def test_admin_creates_updates_and_deletes(
    movies_stack: MoviesStack, admin_token: str
) -> None:
    title = f"Test Film {uuid.uuid4().hex[:8]}"
    body = {"title": title, "year": 2001, "runtime_minutes": 99, "genres": ["drama", "drama"]}
    async with movies_stack.client(admin_token) as admin:
        created = await admin.post("/movies", json=body)
        assert created.status_code == 201, created.text
        movie = created.json()
        assert movie["genres"] == ["drama"]
        assert (await admin.post("/movies", json=body)).status_code == 409

        patched = await admin.patch(f"/movies/{movie['id']}", json={"runtime_minutes": 101})
        assert patched.status_code == 200
        assert patched.json() == {**movie, "runtime_minutes": 101}
        unknown = await admin.patch(f"/movies/{movie['id']}", json={"rating": 5})
        assert unknown.status_code == 400

        found = (await admin.get("/movies", params={"q": title.lower()})).json()["items"]
        assert [m["id"] for m in found] == [movie["id"]]

        assert (await admin.delete(f"/movies/{movie['id']}")).status_code == 204
        assert (await admin.get(f"/movies/{movie['id']}")).status_code == 404
        assert (await admin.delete(f"/movies/{movie['id']}")).status_code == 404


async def test_changes_need_an_admin(movies_stack: MoviesStack) -> None:
    body = {"title": "Nope", "year": 2001, "runtime_minutes": 99, "genres": ["drama"]}
    async with movies_stack.client() as anonymous:
        assert (await anonymous.post("/movies", json=body)).status_code == 401
        assert (await anonymous.delete("/movies/1")).status_code == 401
