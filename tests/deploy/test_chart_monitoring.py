"""The chart's monitoring objects: the PrometheusRule is the compose stack's rules file,
the dashboard ConfigMaps are the committed Grafana JSON, and the monitors find the pods."""

from __future__ import annotations

import json
import re

import pytest
import yaml
from chart_rendering import (
    CHART_DIR,
    NAMESPACE,
    RELEASE,
    SCENARIOS,
    helm,
    of_kind,
    pod_spec,
    render,
    template_args,
)
from contributed_files import (
    CHART_RULES,
    CHART_THRESHOLDS,
    GRAFANA_DASHBOARDS,
    RULES_FILE,
    require,
)

from grafana.rule_dialects import PlainDialect
from grafana.rules_files import rules_document

OPTIONAL_KINDS = {
    "Ingress",
    "HorizontalPodAutoscaler",
    "PodDisruptionBudget",
    "NetworkPolicy",
    "ServiceMonitor",
    "PodMonitor",
    "PrometheusRule",
    "ScaledObject",
    "TriggerAuthentication",
}
THRESHOLD_REF = re.compile(r"\.Values\.alerts\.thresholds\.([A-Za-z0-9_]+)")


def _values() -> dict:
    return yaml.safe_load((CHART_DIR / "values.yaml").read_text(encoding="utf-8"))


def test_optional_features_are_off_by_default():
    kinds = {doc["kind"] for doc in render("default")}
    assert not kinds & OPTIONAL_KINDS
    assert not any(
        "dashboard" in doc["metadata"]["name"] for doc in of_kind(render("default"), "ConfigMap")
    )


def _release_rules(**settings: str) -> list[dict]:
    """The groups grafana/ writes for this test's release, in the plain dialect."""
    scope = {"namespace": NAMESPACE, "scaledObject": f"{RELEASE}-reelmail-mailer", **settings}
    return rules_document(PlainDialect(scope))["groups"]


def test_prometheus_rule_is_the_rules_file_scoped_to_the_release():
    require(RULES_FILE)
    require(CHART_RULES)
    (rule,) = of_kind(render("default", "--set", "prometheusRule.enabled=true"), "PrometheusRule")
    expected = [g for g in _release_rules() if g["name"] != "reelmail-mailer-autoscaling"]
    assert rule["spec"]["groups"] == expected


def test_prometheus_rule_takes_the_consumer_group_topic_jobs_and_keda():
    require(CHART_RULES)
    flags = {
        "mailer.consumerGroup": "otp-mailer",
        "kafka.topic": "codes.v2",
        "prometheusRule.jobs.mailer": "reelmail-mailer",
        "prometheusRule.jobs.movies": "reelmail-movies",
        "prometheusRule.kafkaExporterMatchers": 'cluster="prod"',
        "mailer.keda.enabled": "true",
    }
    args = ["--set", "prometheusRule.enabled=true"]
    for key, value in flags.items():
        args += ["--set-string" if key.endswith("Matchers") else "--set", f"{key}={value}"]
    (rule,) = of_kind(render("default", *args), "PrometheusRule")
    expected = _release_rules(
        consumerGroup="otp-mailer",
        topic="codes.v2",
        mailerJob="reelmail-mailer",
        moviesJob="reelmail-movies",
        kafkaExporterMatchers=', cluster="prod"',
    )
    assert rule["spec"]["groups"] == expected
    assert 'consumergroup="mailer"' not in yaml.safe_dump(rule)


def test_a_threshold_override_reaches_the_rule():
    require(CHART_RULES)
    key = "consumerLagSecondsWarning"
    manifests = render(
        "default", "--set", "prometheusRule.enabled=true", "--set", f"alerts.thresholds.{key}=4242"
    )
    (rule,) = of_kind(manifests, "PrometheusRule")
    exprs = [r["expr"] for g in rule["spec"]["groups"] for r in g["rules"]]
    assert any("4242" in expr for expr in exprs)


def test_values_carry_every_threshold_the_rules_use():
    rules = require(CHART_RULES)[0].read_text(encoding="utf-8")
    used = set(THRESHOLD_REF.findall(rules))
    assert used
    assert used <= set(_values()["alerts"]["thresholds"])


def test_threshold_defaults_are_a_copy_of_the_thresholds_file():
    defaults = yaml.safe_load(require(CHART_THRESHOLDS)[0].read_text(encoding="utf-8"))
    defaults = defaults.get("alerts", {}).get("thresholds", defaults)
    assert _values()["alerts"]["thresholds"] == defaults


def _dashboards(*flags: str) -> dict[str, dict]:
    manifests = render("default", "--set", "dashboards.enabled=true", *flags)
    rendered = {}
    for config_map in of_kind(manifests, "ConfigMap"):
        if config_map["metadata"]["labels"].get("grafana_dashboard") == "1":
            for name, text in config_map["data"].items():
                assert name not in rendered, f"{name} in two ConfigMaps"
                rendered[name] = json.loads(text)
    return rendered


def _preselected(board: dict) -> dict[str, str]:
    return {v["name"]: v["current"]["value"] for v in board["templating"]["list"] if "current" in v}


def test_dashboard_config_maps_are_the_committed_grafana_json_in_the_release_namespace():
    committed = {
        p.name: json.loads(p.read_text(encoding="utf-8"))
        for p in require(GRAFANA_DASHBOARDS, pattern="*.json")
    }
    rendered = _dashboards()
    assert set(rendered) == set(committed)
    for name, board in rendered.items():
        assert _preselected(board)["namespace"] == NAMESPACE
        for variable in board["templating"]["list"]:
            if variable["name"] == "namespace":
                variable["current"] = {"selected": True, "text": "All", "value": "$__all"}
        assert board == committed[name], name


def test_dashboards_follow_the_release_thresholds_settings_and_runbooks():
    require(GRAFANA_DASHBOARDS, pattern="*.json")
    rendered = _dashboards(
        "--set",
        "alerts.thresholds.consumerLagMessagesWarning=250",
        "--set",
        "alerts.thresholds.otpDeliverySloObjective=0.995",
        "--set",
        "mailer.consumerGroup=otp-mailer",
        "--set",
        "kafka.topic=codes.v2",
        "--set",
        "prometheusRule.runbookUrl=https://wiki.example.test/rb",
    )
    mailer = rendered["reelmail-mailer.json"]
    (lag,) = [p for p in mailer["panels"] if p["title"] == "Total lag (records)"]
    steps = [s["value"] for s in lag["fieldConfig"]["defaults"]["thresholds"]["steps"]]
    assert steps == [None, 250, 1000]
    assert _preselected(mailer)["consumergroup"] == "otp-mailer"
    assert _preselected(mailer)["topic"] == "codes.v2"
    slo = rendered["reelmail-otp-slo.json"]
    (objective,) = [v for v in slo["templating"]["list"] if v["name"] == "objective"]
    assert objective["current"]["value"] == "0.995"
    assert objective["query"].split(",")[0] == "0.995"
    (sli,) = [p for p in slo["panels"] if p["title"].startswith("Codes mailed within 30 s (time")]
    assert sli["fieldConfig"]["defaults"]["thresholds"]["steps"][1]["value"] == 0.995
    urls = [link["url"] for board in rendered.values() for link in board["links"]]
    urls += [link["url"] for p in mailer["panels"] for link in p.get("links", [])]
    assert "https://wiki.example.test/rb/" in urls
    assert not [u for u in urls if "github.com/reelmail" in u]


def test_a_uid_suffix_gives_a_second_release_its_own_dashboards_linked_to_each_other():
    require(GRAFANA_DASHBOARDS, pattern="*.json")
    default = _dashboards()
    suffixed = _dashboards("--set", "dashboards.uidSuffix=prod")
    assert set(suffixed) == {name.replace(".json", "-prod.json") for name in default}
    uids = {board["uid"] for board in suffixed.values()}
    assert uids == {f"{board['uid']}-prod" for board in default.values()}
    assert not uids & {board["uid"] for board in default.values()}
    for name, board in suffixed.items():
        assert board["title"].endswith(" (prod)")
        assert len(board["uid"]) <= 40
        targets = {link["url"].split("?")[0] for link in board["links"] if "/d/" in link["url"]}
        assert targets == {f"/d/{uid}" for uid in uids - {board["uid"]}}, name


@pytest.mark.parametrize("suffix", ["Prod", "-prod", "a" * 21, "prod/x"])
def test_a_uid_suffix_that_would_break_a_grafana_uid_is_refused(suffix: str):
    flags = ("--set", "auth.existingSecret=a", "--set", "dashboards.enabled=true")
    result = helm(
        "template", RELEASE, str(CHART_DIR), *flags, "--set", f"dashboards.uidSuffix={suffix}"
    )
    assert result.returncode != 0
    assert "uidSuffix" in result.stderr


def test_dashboard_config_maps_honour_label_and_namespace():
    require(GRAFANA_DASHBOARDS, pattern="*.json")
    manifests = render(
        "default",
        "--set",
        "dashboards.enabled=true",
        "--set",
        "dashboards.label=grafana_dash",
        "--set",
        "dashboards.labelValue=yes",
        "--set",
        "dashboards.namespace=monitoring",
    )
    dashboards = [
        cm for cm in of_kind(manifests, "ConfigMap") if "grafana_dash" in cm["metadata"]["labels"]
    ]
    assert dashboards
    for config_map in dashboards:
        assert config_map["metadata"]["labels"]["grafana_dash"] == "yes"
        assert config_map["metadata"]["namespace"] == "monitoring"


@pytest.mark.parametrize("kind", ["ServiceMonitor", "PodMonitor"])
def test_monitors_scrape_metrics_from_named_ports_as_job_movies_and_mailer(kind):
    flag = (
        "metrics.serviceMonitor.enabled=true"
        if kind == "ServiceMonitor"
        else "metrics.podMonitor.enabled=true"
    )
    manifests = render("default", "--set", flag)
    monitors = of_kind(manifests, kind)
    assert len(monitors) == 2
    for monitor in monitors:
        component = monitor["spec"]["selector"]["matchLabels"]["app.kubernetes.io/component"]
        assert monitor["spec"]["jobLabel"] == "app.kubernetes.io/component"
        (endpoint,) = monitor["spec"][
            "endpoints" if kind == "ServiceMonitor" else "podMetricsEndpoints"
        ]
        assert endpoint["path"] == "/metrics"
        assert endpoint["port"] in _port_names(manifests, kind, component)


def _port_names(manifests: list[dict], kind: str, component: str) -> set[str]:
    if kind == "ServiceMonitor":
        objects = [s["spec"] for s in of_kind(manifests, "Service")]
        key = "selector"
        return {
            port["name"]
            for spec in objects
            if spec[key].get("app.kubernetes.io/component") == component
            for port in spec["ports"]
        }
    return {
        port["name"]
        for doc in of_kind(manifests, "Deployment")
        if doc["metadata"]["labels"]["app.kubernetes.io/component"] == component
        for port in pod_spec(doc)["containers"][0]["ports"]
    }


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_services_label_their_component_for_the_job_label(scenario):
    for service in of_kind(render(scenario), "Service"):
        assert service["metadata"]["labels"]["app.kubernetes.io/component"] in {"movies", "mailer"}


def test_the_optional_grafana_datasource_sends_exemplars_to_the_tracing_datasource():
    manifests = render("everything")
    (config_map,) = [
        cm
        for cm in of_kind(manifests, "ConfigMap")
        if "grafana_datasource" in cm["metadata"]["labels"]
    ]
    (datasource,) = yaml.safe_load(config_map["data"]["reelmail-prometheus.yaml"])["datasources"]
    assert datasource["type"] == "prometheus"
    assert datasource["url"] == "http://prometheus-operated.monitoring:9090"
    (destination,) = datasource["jsonData"]["exemplarTraceIdDestinations"]
    assert destination == {"name": "trace_id", "datasourceUid": "tempo"}


def test_two_releases_datasources_land_in_files_of_their_own():
    keys = set()
    for uid in ("reelmail-staging", "reelmail-prod"):
        manifests = render("everything", "--set", f"grafanaDatasource.uid={uid}")
        (config_map,) = [
            cm
            for cm in of_kind(manifests, "ConfigMap")
            if "grafana_datasource" in cm["metadata"]["labels"]
        ]
        (key,) = config_map["data"]
        (datasource,) = yaml.safe_load(config_map["data"][key])["datasources"]
        assert datasource["uid"] == uid
        keys.add(key)
    assert keys == {"reelmail-staging.yaml", "reelmail-prod.yaml"}


def test_the_grafana_datasource_needs_a_url_and_a_tracing_datasource():
    result = helm(*template_args("default", "1.37.0", "--set", "grafanaDatasource.enabled=true"))
    assert result.returncode != 0
    assert "grafanaDatasource.prometheusUrl" in result.stderr
