"""The compose stack, checked statically (there is no Docker engine here)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path, PurePosixPath
from typing import Any

import jsonschema
import pytest
import yaml
from contributed_files import GRAFANA_DASHBOARDS, RULES_FILE, require

from mailcontract import Keyring

REPO_ROOT = Path(__file__).resolve().parents[2]
COMPOSE_DIR = REPO_ROOT / "deploy" / "compose"
COMPOSE_FILE = COMPOSE_DIR / "compose.yaml"
PINNED_TAG = re.compile(r"^[a-z0-9][a-z0-9._/-]*:(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})$")
TOPICS = {"mail.otp.v1": 6, "mail.otp.v1.dlq": 1}
CONTRIBUTED = {RULES_FILE, GRAFANA_DASHBOARDS}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def services(compose) -> dict[str, dict[str, Any]]:
    return compose["services"]


def _config(relative: str) -> dict[str, Any]:
    return yaml.safe_load((COMPOSE_DIR / relative).read_text(encoding="utf-8"))


def _binds(service: dict[str, Any]) -> dict[str, Path]:
    """Container path -> host path of a service's bind mounts (short syntax)."""
    binds = {}
    for volume in service.get("volumes", []):
        source, target, *_ = volume.split(":")
        if source.startswith("."):
            binds[target] = (COMPOSE_DIR / source).resolve()
    return binds


def test_compose_file_validates_against_the_compose_specification(compose, compose_schema):
    errors = sorted(jsonschema.Draft202012Validator(compose_schema).iter_errors(compose), key=str)
    assert not errors, "; ".join(f"{'.'.join(map(str, e.path))}: {e.message}" for e in errors)


def test_the_schema_check_rejects_an_unknown_key(compose, compose_schema):
    broken = json.loads(json.dumps(compose))
    broken["services"]["movies"]["helthcheck"] = {}
    assert not jsonschema.Draft202012Validator(compose_schema).is_valid(broken)


def test_the_stack_has_every_service_it_promises(services):
    expected = {"kafka", "kafka-init", "postgres", "migrations", "movies", "mailer", "mailpit"}
    expected |= {
        "otel-collector",
        "otel-collector-health",
        "jaeger",
        "prometheus",
        "alertmanager",
        "grafana",
        "kafka-exporter",
    }
    assert set(services) == expected


def test_every_image_is_pinned_to_a_tag(services):
    for name, service in services.items():
        image = service.get("image")
        assert image, f"{name} has no image"
        match = PINNED_TAG.match(image)
        assert match, f"{name}: {image} is not pinned to a tag"
        assert match["tag"] not in {"latest", "stable", "main", "edge"}, f"{name}: {image}"


def test_kafka_is_the_official_image_in_kraft_mode(services):
    kafka = services["kafka"]
    assert kafka["image"].startswith("apache/kafka:")
    assert kafka["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert "ZOOKEEPER" not in json.dumps(kafka).upper()


def test_topic_init_creates_the_topics_with_their_partitions(services):
    script = " ".join(services["kafka-init"]["command"])
    for topic, partitions in TOPICS.items():
        assert re.search(rf"--topic {re.escape(topic)} --partitions {partitions}\b", script), topic


def test_depends_on_names_defined_services_and_known_conditions(services):
    conditions = {"service_started", "service_healthy", "service_completed_successfully"}
    for name, service in services.items():
        for dependency, spec in service.get("depends_on", {}).items():
            assert dependency in services, f"{name} depends on undefined {dependency}"
            assert spec["condition"] in conditions


def test_every_service_healthy_dependency_has_a_healthcheck(services):
    for name, service in services.items():
        for dependency, spec in service.get("depends_on", {}).items():
            if spec["condition"] == "service_healthy":
                assert "healthcheck" in services[dependency], (
                    f"{name} waits for {dependency}'s health"
                )


def _probed_url(service: dict[str, Any]) -> str:
    """The URL a service's healthcheck asks for."""
    [url] = re.findall(r"https?://[^\s'\"]+", " ".join(service["healthcheck"]["test"]))
    return url


def test_the_collector_is_probed_on_its_own_health_check_extension(services):
    config = _config("otel-collector/config.yaml")
    assert "health_check" in config["service"]["extensions"]
    port = config["extensions"]["health_check"]["endpoint"].rsplit(":", 1)[1]
    [sidecar] = [
        name
        for name, s in services.items()
        if s.get("network_mode") == "service:otel-collector" and "healthcheck" in s
    ]
    assert _probed_url(services[sidecar]) == f"http://127.0.0.1:{port}/"
    for app in ("movies", "mailer"):
        assert services[app]["depends_on"][sidecar]["condition"] == "service_healthy"


def test_jaeger_is_probed_on_its_healthcheckv2_status(services):
    assert _probed_url(services["jaeger"]) == "http://127.0.0.1:13133/status"
    assert services["jaeger"]["environment"]["JAEGER_LISTEN_HOST"] == "0.0.0.0"  # noqa: S104 -- inside its container
    assert services["otel-collector"]["depends_on"]["jaeger"]["condition"] == "service_healthy"


def test_one_shot_steps_are_awaited_to_completion(services):
    for step in ("kafka-init", "migrations"):
        assert services[step]["restart"] == "no"
    waits = {
        (name, dep)
        for name, s in services.items()
        for dep, spec in s.get("depends_on", {}).items()
        if spec["condition"] == "service_completed_successfully"
    }
    assert {("movies", "migrations"), ("movies", "kafka-init"), ("mailer", "kafka-init")} <= waits


def test_apps_run_hardened_and_migrate_with_the_module(services):
    for name in ("migrations", "movies", "mailer"):
        service = services[name]
        assert service["read_only"] is True
        assert service["user"].split(":")[0] != "0"
        assert "/tmp" in service["tmpfs"]  # noqa: S108 - a path inside the container
        assert service["cap_drop"] == ["ALL"]
    assert services["migrations"]["command"] == ["python", "-m", "movies", "migrate"]


def test_mailer_stop_grace_outlasts_its_drain(services):
    mailer = services["mailer"]
    grace = int(mailer["stop_grace_period"].removesuffix("s"))
    assert grace > int(mailer["environment"]["MAILER_DRAIN_SECONDS"])


def test_movies_and_the_mailer_share_one_valid_mail_keyring(services):
    movies, mailer = services["movies"]["environment"], services["mailer"]["environment"]
    keys = {name: value for name, value in movies.items() if name.startswith("MAIL_SEAL_")}
    assert keys == {name: mailer[name] for name in keys}
    assert (
        Keyring.from_env(movies, sealing=True).active
        in Keyring.from_env(mailer, sealing=False).ciphers
    )


def test_bind_mounts_point_at_files_that_exist(services):
    for name, service in services.items():
        for target, source in _binds(service).items():
            if source in CONTRIBUTED:
                require(source, pattern="*.json") if source.is_dir() else require(source)
            assert source.exists(), f"{name}: {source} (mounted at {target}) does not exist"


def test_prometheus_scrapes_only_defined_services(services):
    config = _config("prometheus/prometheus.yml")
    jobs = set()
    for job in config["scrape_configs"]:
        jobs.add(job["job_name"])
        for static in job["static_configs"]:
            for target in static["targets"]:
                host, _, port = target.partition(":")
                assert host in services, f"job {job['job_name']} scrapes undefined {host}"
                assert port.isdigit()
    assert {"movies", "mailer", "kafka-exporter"} <= jobs
    for alertmanagers in config["alerting"]["alertmanagers"]:
        for static in alertmanagers["static_configs"]:
            assert all(t.split(":")[0] in services for t in static["targets"])


def test_prometheus_loads_the_shared_rules_file(services):
    config = _config("prometheus/prometheus.yml")
    binds = _binds(services["prometheus"])
    for rule_file in config["rule_files"]:
        assert binds.get(rule_file) == RULES_FILE.resolve(), (
            f"{rule_file} is not the shared rules file"
        )


def test_promtool_accepts_the_prometheus_config(services, tmp_path):
    promtool = shutil.which("promtool")
    if promtool is None:
        message = "promtool is not installed (scripts/install-prometheus.sh installs it)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    require(RULES_FILE)
    config = _config("prometheus/prometheus.yml")
    binds = _binds(services["prometheus"])
    config["rule_files"] = [str(binds[path]) for path in config["rule_files"]]
    checked = tmp_path / "prometheus.yml"
    checked.write_text(yaml.safe_dump(config), encoding="utf-8")
    result = subprocess.run(
        [promtool, "check", "config", str(checked)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_grafana_datasources_link_exemplars_to_jaeger():
    datasources = {
        d["uid"]: d
        for d in _config("grafana/provisioning/datasources/datasources.yaml")["datasources"]
    }
    assert datasources["prometheus"]["type"] == "prometheus"
    assert datasources["jaeger"]["type"] == "jaeger"
    (link,) = datasources["prometheus"]["jsonData"]["exemplarTraceIdDestinations"]
    assert link == {"name": "trace_id", "datasourceUid": "jaeger"}


def test_grafana_datasources_point_at_defined_services(services):
    for datasource in _config("grafana/provisioning/datasources/datasources.yaml")["datasources"]:
        host = re.match(r"https?://([^:/]+)", datasource["url"])[1]
        assert host in services, datasource["name"]


def test_grafana_provisioning_references_dashboards_that_exist(services):
    binds = _binds(services["grafana"])
    provisioning = binds["/etc/grafana/provisioning"]
    assert (provisioning / "datasources").is_dir()
    providers = _config("grafana/provisioning/dashboards/dashboards.yaml")["providers"]
    for provider in providers:
        path = PurePosixPath(provider["options"]["path"])
        host = next(
            (
                source / path.relative_to(target)
                for target, source in binds.items()
                if path.is_relative_to(target)
            ),
            None,
        )
        assert host is not None, f"provider {provider['name']}: {path} is not mounted"
        assert host.resolve() == GRAFANA_DASHBOARDS.resolve()
        dashboards = require(host, pattern="*.json")
        for dashboard in dashboards:
            assert json.loads(dashboard.read_text(encoding="utf-8")).get("uid"), dashboard.name


def test_dashboards_use_only_provisioned_datasources():
    datasources = _config("grafana/provisioning/datasources/datasources.yaml")["datasources"]
    known = {d["uid"] for d in datasources} | {d["type"] for d in datasources}
    for dashboard in require(GRAFANA_DASHBOARDS, pattern="*.json"):
        text = dashboard.read_text(encoding="utf-8")
        for uid in re.findall(r'"uid":\s*"([^"]+)"', _datasource_refs(text)):
            assert uid.startswith("$") or uid in known, f"{dashboard.name}: datasource {uid}"


def _datasource_refs(text: str) -> str:
    return " ".join(json.dumps(ref) for ref in _find(json.loads(text), "datasource"))


def _find(node: Any, key: str) -> list[Any]:
    if isinstance(node, dict):
        found = [node[key]] if isinstance(node.get(key), dict) else []
        return found + [item for value in node.values() for item in _find(value, key)]
    if isinstance(node, list):
        return [item for value in node for item in _find(value, key)]
    return []
