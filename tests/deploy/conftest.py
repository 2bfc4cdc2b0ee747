"""Shared fixtures of the deployment tests: the upstream schemas, fetched once a session."""

from __future__ import annotations

from typing import Any

import pytest
import upstream_schemas


@pytest.fixture(scope="session")
def crd_schemas() -> dict[tuple[str, str], dict[str, Any]]:
    """JSON schemas of the custom resources, from the pinned upstream CRDs."""
    try:
        return upstream_schemas.crd_schemas()
    except upstream_schemas.UpstreamUnavailableError as exc:
        pytest.fail(f"cannot get the upstream CRDs: {exc}")


@pytest.fixture(scope="session")
def compose_schema() -> dict[str, Any]:
    """The Compose Specification JSON schema, from the pinned compose-go module."""
    try:
        return upstream_schemas.compose_spec_schema()
    except upstream_schemas.UpstreamUnavailableError as exc:
        pytest.fail(f"cannot get the Compose Specification schema: {exc}")
