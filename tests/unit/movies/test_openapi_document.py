from typing import Any

import pytest

from mailcontract import generate_key
from movies.app import create_app
from movies.platform.settings import MoviesSettings

OPERATION_IDS = {
    "requestCode",
    "createSession",
    "listMovies",
    "getMovie",
    "createMovie",
    "updateMovie",
    "deleteMovie",
    "getWatchlist",
    "addToWatchlist",
    "removeFromWatchlist",
    "requestEmailChangeCode",
    "changeEmail",
    "healthz",
    "readyz",
}


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    with pytest.MonkeyPatch.context() as environment:
        environment.setenv("OTP_HMAC_SECRET", "h" * 32)
        environment.setenv("JWT_SECRET", "j" * 32)
        environment.setenv("MAIL_SEAL_KEYS", f"k1:{generate_key()}")
        environment.setenv("MAIL_SEAL_ACTIVE_KEY", "k1")
        app = create_app(MoviesSettings.from_env())
    schema: dict[str, Any] = app.openapi_schema.to_schema()
    return schema


def _operations(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [operation for path in document["paths"].values() for operation in path.values()]


def test_operation_ids_are_the_stable_ones(document: dict[str, Any]) -> None:
    assert {operation["operationId"] for operation in _operations(document)} == OPERATION_IDS
    assert "/metrics" not in document["paths"]


def test_every_error_is_documented_as_problem_json(document: dict[str, Any]) -> None:
    for operation in _operations(document):
        for status, response in operation["responses"].items():
            if int(status) >= 400:
                assert list(response["content"]) == ["application/problem+json"], operation


def test_request_bodies_carry_examples(document: dict[str, Any]) -> None:
    for operation in _operations(document):
        if "requestBody" in operation:
            content = operation["requestBody"]["content"]["application/json"]
            assert content["schema"]["examples"], operation["operationId"]


def test_only_the_signed_in_routes_ask_for_a_token(document: dict[str, Any]) -> None:
    protected = {
        operation["operationId"] for operation in _operations(document) if operation.get("security")
    }
    assert protected == {
        "createMovie",
        "updateMovie",
        "deleteMovie",
        "getWatchlist",
        "addToWatchlist",
        "removeFromWatchlist",
        "requestEmailChangeCode",
        "changeEmail",
    }
