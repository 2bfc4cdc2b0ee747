from typing import Annotated

import msgspec
from litestar import Litestar, get, post
from litestar.params import Body, FromPath
from litestar.testing import TestClient
from sqlalchemy.exc import IntegrityError, OperationalError

from movies.platform.database import DatabaseUnavailableError
from movies.platform.problems import ProblemError, exception_handlers


class Payload(msgspec.Struct):
    name: Annotated[str, msgspec.Meta(max_length=5)]


@post("/echo", sync_to_thread=False)
def echo(data: Annotated[Payload, Body()]) -> Payload:
    return data


@get("/boom", sync_to_thread=False)
def boom() -> None:
    msg = "secret detail code=123456"
    raise RuntimeError(msg)


@get("/db-down", sync_to_thread=False)
def db_down() -> None:
    statement = "SELECT 1"
    raise OperationalError(statement, {}, ConnectionRefusedError())


@get("/db-bug", sync_to_thread=False)
def db_bug() -> None:
    statement = "INSERT"
    raise IntegrityError(statement, {}, ValueError())


RAISED = {
    "db-unreachable": DatabaseUnavailableError("cannot connect to the database"),
    "socket-error": ConnectionResetError(),
    "timeout": TimeoutError(),
}


@get("/raise/{kind:str}", sync_to_thread=False)
def raise_kind(kind: FromPath[str]) -> None:
    raise RAISED[kind]


@get("/limited", sync_to_thread=False)
def limited() -> None:
    raise ProblemError(429, "rate-limited", "slow down", headers={"Retry-After": "7"})


def _client() -> TestClient[Litestar]:
    app = Litestar(
        [echo, boom, db_down, db_bug, raise_kind, limited],
        exception_handlers=exception_handlers(),
        logging_config=None,
    )
    return TestClient(app)


def test_validation_errors_name_the_field() -> None:
    with _client() as client:
        too_long = client.post("/echo", json={"name": "toolongname"})
        missing = client.post("/echo", json={})
    for reply in (too_long, missing):
        assert reply.status_code == 400
        assert reply.headers["content-type"] == "application/problem+json"
        body = reply.json()
        assert body["type"] == "urn:reelmail:problem:validation"
        assert [error["field"] for error in body["errors"]] == ["name"]
        assert body["instance"] == "/echo"


def test_server_faults_reveal_nothing() -> None:
    with _client() as client:
        reply = client.get("/boom")
    assert reply.status_code == 500
    assert reply.headers["content-type"] == "application/problem+json"
    assert "secret" not in reply.text
    assert "123456" not in reply.text


def test_a_database_outage_is_503_with_retry_after_but_a_bug_is_500() -> None:
    with _client() as client:
        down = client.get("/db-down")
        bug = client.get("/db-bug")
    assert down.status_code == 503
    assert down.headers["retry-after"] == "5"
    assert down.json()["type"] == "urn:reelmail:problem:database-unavailable"
    assert bug.status_code == 500


def test_only_the_database_driver_errors_mean_the_database_is_unavailable() -> None:
    with _client() as client:
        unreachable = client.get("/raise/db-unreachable")
        socket = client.get("/raise/socket-error")
        timed_out = client.get("/raise/timeout")
    assert unreachable.status_code == 503
    assert unreachable.headers["retry-after"] == "5"
    assert unreachable.json()["type"] == "urn:reelmail:problem:database-unavailable"
    assert socket.status_code == 500
    assert timed_out.status_code == 500


def test_problem_errors_keep_their_type_and_headers() -> None:
    with _client() as client:
        reply = client.get("/limited")
        unknown = client.get("/nowhere")
    assert reply.status_code == 429
    assert reply.headers["retry-after"] == "7"
    assert reply.json() == {
        "type": "urn:reelmail:problem:rate-limited",
        "title": "Too Many Requests",
        "status": 429,
        "detail": "slow down",
        "instance": "/limited",
    }
    assert unknown.status_code == 404
    assert unknown.headers["content-type"] == "application/problem+json"
