"""Issue 14, rung 2: a real kube-apiserver takes the chart, for every values scenario.

Each scenario installs into a namespace of its own under Pod Security "restricted"
(enforced, warned and audited), with ``--no-hooks`` (no node runs the hook Jobs here).
The server must accept every object (admission, defaulting, OpenAPI and CEL validation of
the CRDs) and warn about none; the hook objects are then created as a server-side dry
run, so admission judges them too. Then an upgrade with changed values, a rollback to the
first revision and an uninstall, each checked on the server.
"""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING, Any

import pytest
import yaml
from chart_rendering import CHART_DIR, SCENARIOS, helm, scenario_args, values_file
from cluster_objects import collection_path, create_restricted_namespace, object_path

from run_figures import record

if TYPE_CHECKING:
    from control_plane import ControlPlane

RELEASE = "reelmail"
# client-go logs each warning header of an API reply through klog's warnings.go.
API_WARNING = re.compile(r"warnings\.go:\d+\] (.*)$", re.MULTILINE)
KEEP = "helm.sh/resource-policy"


def _helm(plane: ControlPlane, namespace: str, *args: str) -> str:
    """Run helm against the control plane; fail with what it said unless it succeeded."""
    result = helm(*args, "--namespace", namespace, "--kubeconfig", str(plane.kubeconfig))
    assert result.returncode == 0, f"helm {args[0]} failed:\n{result.stderr}"
    warnings = API_WARNING.findall(result.stderr)
    assert not warnings, f"helm {args[0]}: the API server warned: {warnings}"
    return result.stdout


def _scenario_args(scenario: str) -> list[str]:
    path = values_file(scenario)
    return [] if path is None else ["--values", str(path)]


def _namespaces_it_writes_to(
    plane: ControlPlane, release_namespace: str, scenario: str
) -> set[str]:
    """Namespaces besides the release's that the scenario puts objects in (the dashboards'
    namespace of a Grafana sidecar, say): a cluster the chart is installed into has them.
    Read from an offline render, which needs the sign-in Secret named (scenario_args)."""
    args = scenario_args(scenario)
    rendered = helm("template", RELEASE, str(CHART_DIR), "--namespace", release_namespace, *args)
    assert rendered.returncode == 0, rendered.stderr
    found = {doc["metadata"].get("namespace") for doc in yaml.safe_load_all(rendered.stdout) if doc}
    return {
        name for name in found if name and name != release_namespace and not _exists(plane, name)
    }


def _exists(plane: ControlPlane, namespace: str) -> bool:
    return plane.request("GET", f"/api/v1/namespaces/{namespace}").status == 200


def _manifests(plane: ControlPlane, namespace: str, what: str) -> list[dict[str, Any]]:
    """``helm get manifest`` or ``helm get hooks`` of the release, parsed."""
    text = _helm(plane, namespace, "get", what, RELEASE)
    return [doc for doc in yaml.safe_load_all(text) if doc]


def _assert_all_stored(
    plane: ControlPlane, namespace: str, manifests: list[dict[str, Any]]
) -> None:
    for manifest in manifests:
        stored = plane.request("GET", object_path(plane, manifest, namespace))
        assert stored.status == 200, f"{manifest['kind']}/{manifest['metadata']['name']} missing"


def _assert_hooks_admitted(plane: ControlPlane, namespace: str) -> int:
    """Create each hook object as a dry run: admitted, defaulted, and not warned about."""
    hooks = _manifests(plane, namespace, "hooks")
    for hook in hooks:
        path = f"{collection_path(plane, hook, namespace)}?dryRun=All"
        reply = plane.request("POST", path, hook)
        label = f"hook {hook['kind']}/{hook['metadata']['name']}"
        assert reply.status == 201, f"{label} rejected: {reply.body.get('message')}"
        assert not reply.warnings, f"{label}: {reply.warnings}"
    return len(hooks)


def _config_values(plane: ControlPlane, namespace: str, key: str) -> set[str]:
    """The values of ``key`` in every ConfigMap of the release, as the server holds them."""
    configmaps = [m for m in _manifests(plane, namespace, "manifest") if m["kind"] == "ConfigMap"]
    stored = [plane.request("GET", object_path(plane, m, namespace)).body for m in configmaps]
    return {c["data"][key] for c in stored if key in c.get("data", {})}


def _assert_uninstalled(
    plane: ControlPlane, namespace: str, manifests: list[dict[str, Any]]
) -> None:
    for manifest in manifests:
        if manifest["metadata"].get("annotations", {}).get(KEEP) == "keep":
            continue
        gone = plane.request("GET", object_path(plane, manifest, namespace))
        assert gone.status == 404, f"{manifest['kind']}/{manifest['metadata']['name']} left behind"


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_the_chart_installs_upgrades_rolls_back_and_uninstalls(
    control_plane: ControlPlane, scenario: str
) -> None:
    namespace = f"rm-{scenario}"
    chart, values = str(CHART_DIR), _scenario_args(scenario)
    for name in {namespace} | _namespaces_it_writes_to(control_plane, namespace, scenario):
        create_restricted_namespace(control_plane, name)
    started = time.monotonic()
    _helm(control_plane, namespace, "install", RELEASE, chart, *values, "--no-hooks")
    installed = _manifests(control_plane, namespace, "manifest")
    _assert_all_stored(control_plane, namespace, installed)
    hooks = _assert_hooks_admitted(control_plane, namespace)
    first = _config_values(control_plane, namespace, "LOG_LEVEL")
    assert first, "no ConfigMap carries LOG_LEVEL"

    upgrade = ["upgrade", RELEASE, chart, *values, "--no-hooks", "--set", "logging.level=debug"]
    _helm(control_plane, namespace, *upgrade)
    assert _config_values(control_plane, namespace, "LOG_LEVEL") == {"debug"}
    _helm(control_plane, namespace, "rollback", RELEASE, "1", "--no-hooks")
    assert _config_values(control_plane, namespace, "LOG_LEVEL") == first
    history = yaml.safe_load(_helm(control_plane, namespace, "history", RELEASE, "-o", "yaml"))
    assert [entry["revision"] for entry in history] == [1, 2, 3]

    _helm(control_plane, namespace, "uninstall", RELEASE, "--no-hooks")
    _assert_uninstalled(control_plane, namespace, installed)
    counts = f"{len(installed)}, {hooks}"
    record("k8s", f"{scenario}: objects installed, hooks admitted (dry run)", counts)
    record("k8s", f"{scenario}: install to uninstall (s)", f"{time.monotonic() - started:.1f}")
