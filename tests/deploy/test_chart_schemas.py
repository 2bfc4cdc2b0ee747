"""The chart lints, renders, and every manifest is valid for the API server that takes it.

Built-in kinds are checked with kubernetes-validate's strict schemas (no unknown fields)
at each version in KUBERNETES_VERSIONS; custom resources against the upstream CRDs.
"""

from __future__ import annotations

from typing import Any

import jsonschema
import kubernetes_validate
import pytest
from chart_rendering import (
    CHART_DIR,
    CUSTOM_KINDS,
    KUBERNETES_VERSIONS,
    SCENARIOS,
    helm,
    render,
    require_contributed,
    scenario_args,
)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_helm_lint_strict(scenario):
    require_contributed(scenario)
    result = helm("lint", "--strict", str(CHART_DIR), *scenario_args(scenario))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "[WARNING]" not in result.stdout
    assert "[ERROR]" not in result.stdout


@pytest.mark.parametrize("kube_version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_builtin_kinds_validate_against_kubernetes_schemas(scenario, kube_version):
    manifests = render(scenario, kube_version=kube_version)
    checked = 0
    for manifest in manifests:
        if manifest["kind"] in CUSTOM_KINDS:
            continue
        try:
            validated = kubernetes_validate.validate(manifest, kube_version, strict=True)
        except kubernetes_validate.SchemaNotFoundError as exc:
            pytest.fail(f"{_name(manifest)}: {exc.message}")
        except kubernetes_validate.ValidationError as exc:
            path = ".".join(str(part) for part in exc.path)
            pytest.fail(
                f"{_name(manifest)} invalid for Kubernetes {kube_version} at {path}: {exc.message}"
            )
        assert validated == kube_version.rsplit(".", 1)[0], "validated against another version"
        checked += 1
    assert checked >= 5


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_custom_resources_validate_against_upstream_crds(scenario, crd_schemas):
    for manifest in render(scenario):
        if manifest["kind"] not in CUSTOM_KINDS:
            continue
        schema = crd_schemas.get((manifest["apiVersion"], manifest["kind"]))
        assert schema is not None, (
            f"no pinned CRD serves {manifest['apiVersion']} {manifest['kind']}"
        )
        errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(manifest), key=str)
        assert not errors, f"{_name(manifest)}: " + "; ".join(
            f"{'.'.join(map(str, e.path))}: {e.message}" for e in errors
        )


def test_every_custom_kind_is_rendered_by_some_scenario():
    rendered = {doc["kind"] for scenario in SCENARIOS for doc in render(scenario)}
    assert rendered >= CUSTOM_KINDS


def test_the_crd_check_rejects_a_misspelt_field(crd_schemas):
    monitor = next(doc for doc in render("keda") if doc["kind"] == "ScaledObject")
    monitor["spec"]["lagThreshold"] = "50"
    schema = crd_schemas[monitor["apiVersion"], monitor["kind"]]
    assert not jsonschema.Draft7Validator(schema).is_valid(monitor)


def _name(manifest: dict[str, Any]) -> str:
    return f"{manifest['kind']}/{manifest['metadata']['name']}"
