"""Issue 3: schemathesis against the OpenAPI document: no 5xx, nothing off-schema.

Every operation gets a bounded number of generated requests, signed in as an admin so
the protected routes are exercised beyond their 401. Runs on both database backends.
(The schema is loaded from the running service, so the operations are looped over here
rather than collected by schemathesis' pytest plugin.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.specs.openapi.checks import positive_data_acceptance

if TYPE_CHECKING:
    from movies_stack import MoviesStack

pytestmark = pytest.mark.integration
EXAMPLES_PER_OPERATION = {
    schemathesis.GenerationMode.POSITIVE: 12,
    schemathesis.GenerationMode.NEGATIVE: 6,
}
# No JSON Schema can say which strings are deliverable addresses or cursors this API
# made, so a schema-valid value of these fields may rightly get a 400; any other field
# refused with 400 means the schema promises more than the service accepts.
OPAQUE_FIELDS = frozenset({"email", "cursor"})


def refused_only_for_opaque_fields(_ctx: Any, response: schemathesis.Response, _case: Any) -> None:
    if response.status_code != 400:
        return
    fields = {error["field"] for error in response.json().get("errors", [])}
    assert fields, f"400 without field errors: {response.text}"
    assert fields <= OPAQUE_FIELDS, f"schema-valid value refused: {response.text}"


def _fuzz(
    operation: schemathesis.APIOperation,
    headers: dict[str, str],
    mode: schemathesis.GenerationMode,
) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES_PER_OPERATION[mode],
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def check(case: schemathesis.Case) -> None:
        case.call_and_validate(
            headers=headers,
            timeout=30,
            excluded_checks=[positive_data_acceptance],
            additional_checks=extra_checks,
        )

    positive = mode is schemathesis.GenerationMode.POSITIVE
    extra_checks = [refused_only_for_opaque_fields] if positive else []

    check()


def test_every_operation_conforms_to_the_schema(
    movies_stack: MoviesStack, admin_token: str
) -> None:
    schema = schemathesis.openapi.from_url(f"{movies_stack.api}/schema/openapi.json")
    headers = {"Authorization": f"Bearer {admin_token}"}
    failures: dict[str, str] = {}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 12
    for operation in operations:
        for mode in EXAMPLES_PER_OPERATION:
            try:
                _fuzz(operation, headers, mode)
            except Unsatisfiable:
                assert mode is schemathesis.GenerationMode.NEGATIVE  # no input to spoil
            except Exception as exc:  # noqa: BLE001 -- collect every failure, then report them all
                failures[f"{operation.label} ({mode.value})"] = str(exc)[:3000]
    assert not failures, "\n\n".join(f"{label}:\n{text}" for label, text in failures.items())
