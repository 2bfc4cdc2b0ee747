"""Rendering the Helm chart with the helm binary the project builds, and reading the result.

`make helm-check` builds helm from source into .tools/helm-<version>/ first and passes
its path in REELMAIL_HELM; run alone, the tests use the newest helm found there.
"""

from __future__ import annotations

import base64
import functools
import os
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import yaml
from contributed_files import CHART_DASHBOARDS, CHART_DIR, CHART_RULES, REPO_ROOT, require

if TYPE_CHECKING:
    from collections.abc import Iterator

# The chart's floor (Chart.yaml kubeVersion) and the newest Kubernetes that
# kubernetes-validate ships schemas for: every manifest must pass both.
KUBERNETES_VERSIONS = ("1.30.0", "1.37.0")
RELEASE = "shop"
NAMESPACE = "reelmail"

SCENARIOS = (
    "default",
    *sorted(p.name.removesuffix("-values.yaml") for p in (CHART_DIR / "ci").glob("*-values.yaml")),
)

CUSTOM_KINDS = frozenset(
    {"ServiceMonitor", "PodMonitor", "PrometheusRule", "ScaledObject", "TriggerAuthentication"},
)
WORKLOAD_KINDS = frozenset({"Deployment", "Job", "Pod"})


def helm_binary() -> Path:
    """The helm that make built; fail with what to run when there is none."""
    configured = os.environ.get("REELMAIL_HELM")
    if configured:
        if not Path(configured).is_file():
            pytest.fail(f"REELMAIL_HELM={configured} does not exist: run `make helm-check`")
        return Path(configured)
    built = sorted((REPO_ROOT / ".tools").glob("helm-v*/helm"))
    if not built:
        pytest.fail(
            "helm has not been built: run `make helm-check`, which builds it from source "
            "into .tools/helm-<version>/ (scripts/install-helm.sh) and then runs these tests",
        )
    return built[-1]


# An offline render of the chart's defaults fails, since it could only make up the
# sign-in secrets anew each time; the "default" scenario names a Secret that holds them.
OFFLINE_DEFAULTS = ("--set", "auth.existingSecret=shop-auth")


def values_file(scenario: str) -> Path | None:
    """The ci/ values file of a scenario; None for the chart's defaults."""
    return None if scenario == "default" else CHART_DIR / "ci" / f"{scenario}-values.yaml"


def scenario_args(scenario: str) -> list[str]:
    """The helm arguments that select a scenario's values."""
    path = values_file(scenario)
    return list(OFFLINE_DEFAULTS) if path is None else ["--values", str(path)]


def scenario_values(scenario: str) -> dict[str, Any]:
    """The values a scenario sets on top of the defaults."""
    path = values_file(scenario)
    return {} if path is None else yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def helm(*args: str) -> subprocess.CompletedProcess[str]:
    """Run helm with the given arguments and return what it said."""
    return subprocess.run(
        [str(helm_binary()), *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def template_args(scenario: str, kube_version: str, *extra: str) -> list[str]:
    """The `helm template` arguments for a scenario."""
    args = ["template", RELEASE, str(CHART_DIR), "--namespace", NAMESPACE]
    args += ["--kube-version", kube_version, *scenario_args(scenario)]
    return [*args, *extra]


def require_contributed(scenario: str, *extra: str) -> None:
    """Skip (or fail in CI) a render whose values need a file another area writes."""
    values = scenario_values(scenario)
    flags = " ".join(extra)
    if values.get("prometheusRule", {}).get("enabled") or "prometheusRule.enabled=true" in flags:
        require(CHART_RULES)
    if values.get("dashboards", {}).get("enabled") or "dashboards.enabled=true" in flags:
        require(CHART_DASHBOARDS, pattern="*.json")


@functools.cache
def _render(scenario: str, kube_version: str, extra: tuple[str, ...]) -> tuple[dict[str, Any], ...]:
    result = helm(*template_args(scenario, kube_version, *extra))
    if result.returncode != 0:
        pytest.fail(f"helm template ({scenario}, {' '.join(extra)}) failed:\n{result.stderr}")
    return tuple(doc for doc in yaml.safe_load_all(result.stdout) if doc)


def render(
    scenario: str,
    *extra: str,
    kube_version: str = KUBERNETES_VERSIONS[-1],
) -> list[dict[str, Any]]:
    """The manifests of a scenario (plus extra helm flags), parsed; cached per arguments."""
    require_contributed(scenario, *extra)
    return [dict(doc) for doc in _render(scenario, kube_version, extra)]


def of_kind(manifests: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    """The manifests of one kind."""
    return [doc for doc in manifests if doc.get("kind") == kind]


def pod_spec(manifest: dict[str, Any]) -> dict[str, Any] | None:
    """The pod spec inside a workload manifest, or None for other kinds."""
    if manifest.get("kind") == "Pod":
        return manifest["spec"]
    if manifest.get("kind") in WORKLOAD_KINDS:
        return manifest["spec"]["template"]["spec"]
    return None


def containers(manifest: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(label, container, pod spec) for every container and initContainer of a workload."""
    spec = pod_spec(manifest)
    if spec is None:
        return
    name = f"{manifest['kind']}/{manifest['metadata']['name']}"
    for field in ("initContainers", "containers"):
        for container in spec.get(field, []):
            yield f"{name} {field}[{container['name']}]", container, spec


def decoded_secrets(manifests: list[dict[str, Any]]) -> dict[str, set[str]]:
    """Every key the rendered Secrets hold, with its decoded values."""
    found: dict[str, set[str]] = {}
    for secret in of_kind(manifests, "Secret"):
        for key, value in secret.get("data", {}).items():
            found.setdefault(key, set()).add(base64.b64decode(value).decode())
        for key, value in secret.get("stringData", {}).items():
            found.setdefault(key, set()).add(value)
    return found
