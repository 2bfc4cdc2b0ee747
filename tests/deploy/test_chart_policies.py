"""Policies every rendering of the chart keeps, whatever the values scenario."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml
from chart_rendering import (
    CHART_DIR,
    SCENARIOS,
    containers,
    decoded_secrets,
    helm,
    of_kind,
    pod_spec,
    render,
    scenario_values,
)

HARDENED = {
    "allowPrivilegeEscalation": False,
    "readOnlyRootFilesystem": True,
}
CONTAINER_TMP = "/tmp"  # noqa: S108 - a path inside the containers, not on this machine
ALL_INTERFACES = "0.0.0.0"  # noqa: S104 - containers must answer on the pod IP
SECRET_VALUE_KEYS = frozenset({"password", "otpHmacSecret", "jwtSecret", "url"})
SECRET_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|DATABASE_URL|PRIVATE", re.IGNORECASE)


def _effective(container: dict[str, Any], pod: dict[str, Any], field: str) -> Any:
    """A security setting as the kubelet applies it: the container's, else the pod's."""
    value = container.get("securityContext", {}).get(field)
    return pod.get("securityContext", {}).get(field) if value is None else value


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_every_container_runs_hardened(scenario):
    seen = 0
    for label, container, pod in (c for doc in render(scenario) for c in containers(doc)):
        context = container.get("securityContext", {})
        for field, wanted in HARDENED.items():
            assert context.get(field) is wanted, (
                f"{label}: securityContext.{field} must be {wanted}"
            )
        assert context.get("capabilities", {}).get("drop") == ["ALL"], f"{label}: drop ALL"
        assert not context.get("capabilities", {}).get("add"), f"{label}: adds capabilities"
        assert _effective(container, pod, "runAsNonRoot") is True, f"{label}: runAsNonRoot"
        assert (_effective(container, pod, "runAsUser") or 0) > 0, f"{label}: runs as uid 0"
        seccomp = _effective(container, pod, "seccompProfile") or {}
        assert seccomp.get("type") == "RuntimeDefault", f"{label}: seccomp RuntimeDefault"
        seen += 1
    assert seen >= 3


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_read_only_root_leaves_a_writable_tmp(scenario):
    for label, container, pod in (c for doc in render(scenario) for c in containers(doc)):
        mounts = {m["mountPath"]: m["name"] for m in container.get("volumeMounts", [])}
        assert CONTAINER_TMP in mounts, f"{label}: no writable {CONTAINER_TMP}"
        volume = next(v for v in pod["volumes"] if v["name"] == mounts[CONTAINER_TMP])
        assert "emptyDir" in volume


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_services_have_health_probes(scenario):
    for deployment in of_kind(render(scenario), "Deployment"):
        container = pod_spec(deployment)["containers"][0]
        port_names = {p["name"] for p in container["ports"]}
        for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
            http = container[probe]["httpGet"]
            assert http["path"] == path, f"{deployment['metadata']['name']}: {probe}"
            assert http["port"] in port_names


def test_probes_use_each_services_port():
    ports = {
        doc["metadata"]["labels"]["app.kubernetes.io/component"]: pod_spec(doc)["containers"][0][
            "ports"
        ][0]
        for doc in of_kind(render("default"), "Deployment")
    }
    assert ports["movies"]["containerPort"] == 8000
    assert ports["mailer"]["containerPort"] == 8001


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_no_secret_value_in_any_configmap(scenario):
    manifests = render(scenario)
    rendered = decoded_secrets(manifests)
    secrets = {v for key, values in rendered.items() if SECRET_NAME.search(key) for v in values}
    secrets |= _secret_values_given(scenario_values(scenario))
    for config_map in of_kind(manifests, "ConfigMap"):
        name = config_map["metadata"]["name"]
        for key, value in config_map.get("data", {}).items():
            if "dashboard" not in name:
                assert not SECRET_NAME.search(key), f"ConfigMap {name} holds {key}"
            leaked = [s for s in secrets if s in value]
            assert not leaked, f"ConfigMap {name} key {key} holds a secret value"


def _secret_values_given(values: dict[str, Any]) -> set[str]:
    """The secret values a scenario passes in: passwords, secrets, the database URL."""
    found: set[str] = set()
    for key, value in values.items():
        if isinstance(value, dict):
            found |= _secret_values_given(value)
        elif key in SECRET_VALUE_KEYS and isinstance(value, str) and value:
            found.add(value)
    return found


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_selectors_never_include_the_chart_version(scenario):
    for manifest in render(scenario):
        for selector in _selectors(manifest):
            for key, value in selector.items():
                name = f"{manifest['kind']}/{manifest['metadata']['name']}"
                assert key not in {"helm.sh/chart", "app.kubernetes.io/version"}, name
                assert value != CHART_VERSION, name


CHART_VERSION = yaml.safe_load((CHART_DIR / "Chart.yaml").read_text(encoding="utf-8"))["version"]


def _selectors(manifest: dict[str, Any]) -> list[dict[str, str]]:
    spec = manifest.get("spec", {})
    found = []
    if manifest["kind"] == "Service":
        found.append(spec.get("selector", {}))
    elif manifest["kind"] == "NetworkPolicy":
        found.append(spec["podSelector"].get("matchLabels", {}))
    elif isinstance(spec.get("selector"), dict):
        found.append(spec["selector"].get("matchLabels", {}))
    return found


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_selectors_match_their_pods(scenario):
    manifests = render(scenario)
    pods = [
        doc["spec"]["template"]["metadata"]["labels"]
        for doc in manifests
        if doc["kind"] in {"Deployment", "Job"}
    ]
    for manifest in manifests:
        for selector in _selectors(manifest):
            if manifest["kind"] in {"ServiceMonitor", "PodMonitor"}:
                continue
            assert any(selector.items() <= pod.items() for pod in pods), manifest["metadata"][
                "name"
            ]


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_every_container_has_requests_and_a_memory_limit(scenario):
    for label, container, _ in (c for doc in render(scenario) for c in containers(doc)):
        resources = container.get("resources", {})
        assert {"cpu", "memory"} <= set(resources.get("requests", {})), label
        assert "memory" in resources.get("limits", {}), label


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_mailer_grace_period_outlasts_its_drain_deadline(scenario):
    manifests = render(scenario)
    mailer = _deployment(manifests, "mailer")
    config = _config_map(manifests, "mailer")
    drain = int(config["MAILER_DRAIN_SECONDS"])
    container = pod_spec(mailer)["containers"][0]
    pre_stop = container.get("lifecycle", {}).get("preStop", {}).get("sleep", {}).get("seconds", 0)
    assert pod_spec(mailer)["terminationGracePeriodSeconds"] > drain + pre_stop


def test_movies_sleeps_before_sigterm_within_its_grace_period():
    movies = _deployment(render("default"), "movies")
    sleep = pod_spec(movies)["containers"][0]["lifecycle"]["preStop"]["sleep"]["seconds"]
    assert 0 < sleep < pod_spec(movies)["terminationGracePeriodSeconds"]


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_both_services_get_the_otel_wiring(scenario):
    manifests = render(scenario)
    for component in ("movies", "mailer"):
        config = _config_map(manifests, component)
        assert config["OTEL_SERVICE_NAME"] == component
        env = {
            e["name"] for e in pod_spec(_deployment(manifests, component))["containers"][0]["env"]
        }
        assert "OTEL_RESOURCE_ATTRIBUTES" in env
        tracing = scenario_values(scenario).get("otel", {}).get("enabled", False)
        assert ("OTEL_EXPORTER_OTLP_ENDPOINT" in config) is tracing


def test_by_default_both_services_sample_a_ratio_of_traces_parent_first():
    manifests = render(
        "default", "--set", "otel.enabled=true", "--set", "otel.endpoint=http://collector:4318"
    )
    for component in ("movies", "mailer"):
        config = _config_map(manifests, component)
        assert config["OTEL_TRACES_SAMPLER"] == "parentbased_traceidratio"
        assert 0 < float(config["OTEL_TRACES_SAMPLER_ARG"]) < 1


@pytest.mark.parametrize("ratio", ["1.5", "-0.1", "most"])
def test_the_schema_rejects_a_sampling_ratio_outside_zero_to_one(ratio):
    result = helm(
        "template",
        "shop",
        str(CHART_DIR),
        "--set",
        "auth.existingSecret=a",
        "--set-string",
        f"otel.samplerArg={ratio}",
    )
    assert result.returncode != 0
    assert "samplerArg" in result.stderr


def test_both_services_listen_on_the_pod_ip():
    manifests = render("default")
    assert _config_map(manifests, "movies")["MOVIES_HOST"] == ALL_INTERFACES
    assert _config_map(manifests, "mailer")["MAILER_HOST"] == ALL_INTERFACES


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_replicas_leave_migrations_to_the_job(scenario):
    manifests = render(scenario)
    migrate_on_start = _config_map(manifests, "movies").get("DATABASE_MIGRATE_ON_START", "true")
    assert (migrate_on_start == "false") is bool(of_kind(manifests, "Job"))


def _deployment(manifests: list[dict[str, Any]], component: str) -> dict[str, Any]:
    return next(
        doc
        for doc in of_kind(manifests, "Deployment")
        if doc["metadata"]["labels"]["app.kubernetes.io/component"] == component
    )


def _config_map(manifests: list[dict[str, Any]], component: str) -> dict[str, str]:
    return next(
        doc["data"]
        for doc in of_kind(manifests, "ConfigMap")
        if doc["metadata"]["labels"].get("app.kubernetes.io/component") == component
    )
