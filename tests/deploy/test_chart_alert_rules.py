"""The PrometheusRule as users tune it (disable an alert, override `for` and severity,
add labels and annotations, move the runbooks), the schema that rejects typos, and two
releases in one Prometheus, proven by promtool on the rules the chart renders."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from chart_rendering import CHART_DIR, helm, of_kind, render
from contributed_files import in_ci

PROMTOOL_TEST = Path(__file__).parent / "promtool" / "two-releases.yaml"
RULE_FLAG = "prometheusRule.enabled=true"


def _alerts(*flags: str) -> list[dict[str, Any]]:
    (rule,) = of_kind(render("default", "--set", RULE_FLAG, *flags), "PrometheusRule")
    return [r for group in rule["spec"]["groups"] for r in group["rules"] if "alert" in r]


def _named(alerts: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [a for a in alerts if a["alert"] == name]


def test_an_alert_is_disabled_by_name_or_by_name_and_severity():
    alerts = _alerts(
        "--set",
        "prometheusRule.disabled.MoviesDown=true",
        "--set",
        "prometheusRule.disabled.MailerConsumerLagSecondsHigh/warning=true",
    )
    assert not _named(alerts, "MoviesDown")
    lag = _named(alerts, "MailerConsumerLagSecondsHigh")
    assert [a["labels"]["severity"] for a in lag] == ["critical"]
    assert _named(_alerts(), "MoviesDown")


def test_for_severity_labels_and_annotations_are_overridden_per_alert():
    alerts = _alerts(
        "--set",
        "prometheusRule.customRules.MailerNotReady.for=30m",
        "--set",
        "prometheusRule.customRules.MailerNotReady.severity=critical",
        "--set",
        "prometheusRule.customRules.MailerConsumerLagSecondsHigh/critical.labels.pager=night",
        "--set",
        "prometheusRule.customRules.MoviesDown.annotations.dashboard=https://grafana.test/d/x",
    )
    (ready,) = _named(alerts, "MailerNotReady")
    assert (ready["for"], ready["labels"]["severity"]) == ("30m", "critical")
    lag = {a["labels"]["severity"]: a for a in _named(alerts, "MailerConsumerLagSecondsHigh")}
    assert lag["critical"]["labels"]["pager"] == "night"
    assert "pager" not in lag["warning"]["labels"]
    (movies,) = _named(alerts, "MoviesDown")
    assert movies["annotations"]["dashboard"] == "https://grafana.test/d/x"
    assert movies["annotations"]["runbook_url"].endswith("/movies-down.md")


def test_additional_labels_and_annotations_reach_every_alert_but_never_replace_its_own():
    alerts = _alerts(
        "--set",
        "prometheusRule.additionalRuleLabels.team=mail",
        "--set",
        "prometheusRule.additionalRuleLabels.severity=info",
        "--set",
        "prometheusRule.additionalRuleAnnotations.owner=platform",
    )
    for alert in alerts:
        assert alert["labels"]["team"] == "mail"
        assert alert["labels"]["severity"] in {"warning", "critical"}
        assert alert["labels"]["namespace"] == "reelmail"
        assert alert["annotations"]["owner"] == "platform"


def test_the_runbook_base_url_is_a_value():
    alerts = _alerts("--set", "prometheusRule.runbookUrl=https://wiki.example.test/runbooks")
    for alert in alerts:
        assert alert["annotations"]["runbook_url"].startswith("https://wiki.example.test/runbooks/")
        assert "//" not in alert["annotations"]["runbook_url"].removeprefix("https://")


def test_keda_alerts_come_with_keda_only():
    assert not _named(_alerts(), "MailerKedaScalerFailing")
    (keda,) = _named(_alerts("--set", "mailer.keda.enabled=true"), "MailerKedaScalerFailing")
    assert 'scaledObject="shop-reelmail-mailer"' in keda["expr"]


@pytest.mark.parametrize(
    ("flag", "message"),
    [
        ("alerts.thresholds.consumerLagSecondWarning=10", "consumerLagSecondWarning"),
        ("alerts.thresholds.sendFailureRatioWarning=1.5", "sendFailureRatioWarning"),
        ("alerts.thresholds.otpDeliverySloObjective=1", "otpDeliverySloObjective"),
        ("prometheusRule.disabled.MailerIsDown=true", "MailerIsDown"),
        ("prometheusRule.customRules.MailerDown.for=soon", "for"),
        ("prometheusRule.customRules.MailerDown.severity=page", "severity"),
        ("mailer.consumerGroup=bad\\,group", "consumerGroup"),
    ],
)
def test_the_schema_rejects_misspelt_keys_and_values(flag, message):
    result = helm(
        "template", "shop", str(CHART_DIR), "--set", "auth.existingSecret=a", "--set", flag
    )
    assert result.returncode != 0
    assert message in result.stderr


def _release_rules(tmp_path: Path, release: str, namespace: str, *flags: str) -> Path:
    """Render one release's PrometheusRule and write its groups as a rules file."""
    result = helm(
        "template",
        release,
        str(CHART_DIR),
        "--namespace",
        namespace,
        "--set",
        "auth.existingSecret=auth",
        "--set",
        RULE_FLAG,
        *flags,
    )
    assert result.returncode == 0, result.stderr
    docs = [d for d in yaml.safe_load_all(result.stdout) if d]
    (rule,) = of_kind(docs, "PrometheusRule")
    path = tmp_path / f"{release}.rules.yaml"
    path.write_text(yaml.safe_dump({"groups": rule["spec"]["groups"]}), encoding="utf-8")
    return path


def test_two_releases_in_one_prometheus_alert_each_for_its_own_namespace(tmp_path: Path):
    promtool = shutil.which("promtool")
    if promtool is None:
        if in_ci():
            pytest.fail("promtool is missing: make alerts-test installs it")
        pytest.skip("promtool is missing; make alerts-test installs it")
    _release_rules(tmp_path, "staging", "staging")
    _release_rules(
        tmp_path,
        "prod",
        "prod",
        "--set",
        "mailer.consumerGroup=otp-mailer",
        "--set",
        "alerts.thresholds.consumerLagSecondsWarning=60",
    )
    shutil.copy(PROMTOOL_TEST, tmp_path / PROMTOOL_TEST.name)
    result = subprocess.run(
        [promtool, "test", "rules", PROMTOOL_TEST.name],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_second_release_in_one_namespace_gets_jobs_of_its_own(tmp_path: Path):
    """The README's path: relabel the job per component, and point the rules at it."""
    values = tmp_path / "second-release.yaml"
    relabel = {
        "sourceLabels": ["__meta_kubernetes_service_label_app_kubernetes_io_component"],
        "targetLabel": "job",
        "replacement": "shop-$1",
    }
    values.write_text(
        yaml.safe_dump(
            {
                "metrics": {"serviceMonitor": {"enabled": True, "relabelings": [relabel]}},
                "prometheusRule": {"jobs": {"movies": "shop-movies", "mailer": "shop-mailer"}},
            }
        ),
        encoding="utf-8",
    )
    manifests = render("default", "--set", RULE_FLAG, "--values", str(values))
    for monitor in of_kind(manifests, "ServiceMonitor"):
        assert monitor["spec"]["endpoints"][0]["relabelings"] == [relabel]
    alerts = [
        r
        for group in of_kind(manifests, "PrometheusRule")[0]["spec"]["groups"]
        for r in group["rules"]
        if "alert" in r
    ]
    (movies_down,) = _named(alerts, "MoviesDown")
    (mailer_down,) = _named(alerts, "MailerDown")
    assert 'up{job="shop-movies", namespace="reelmail"}' in movies_down["expr"]
    assert 'up{job="shop-mailer", namespace="reelmail"}' in mailer_down["expr"]
