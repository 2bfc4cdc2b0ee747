"""The committed rules files are the generator's output, complete, and tested by promtool."""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import pytest
import yaml

from grafana.alert_rules import rule_groups
from grafana.chart_schema import SCHEMA_PATH
from grafana.generate import REPO_ROOT, RULE_FILES, rendered_files
from grafana.rule_dialects import (
    KEDA_ENABLED,
    RUNBOOK_BASE_URL,
    SETTINGS,
    HelmDialect,
    PlainDialect,
)
from grafana.rule_model import AlertRule
from grafana.thresholds import ALL_THRESHOLDS

RULES = REPO_ROOT / "deploy" / "prometheus" / "alerts.yaml"
HELM_RULES = REPO_ROOT / "deploy" / "helm" / "reelmail" / "files" / "prometheus-rules.yaml"
HELM_THRESHOLDS = REPO_ROOT / "deploy" / "helm" / "reelmail" / "files" / "alert-thresholds.yaml"
PROMTOOL_TESTS = sorted((REPO_ROOT / "deploy" / "prometheus" / "tests").glob("*.yaml"))
RUNBOOKS = REPO_ROOT / "docs" / "runbooks"
HELM_THRESHOLD = re.compile(r"\{\{ \.Values\.alerts\.thresholds\.(\w+) \}\}")
HELM_RAW = re.compile(r"\{\{`(.*?)`\}\}")
RUNBOOK_SECTIONS = ("## What it means", "## First checks", "## Likely causes", "## Remediation")


def _alerts() -> list[dict]:
    groups = yaml.safe_load(RULES.read_text(encoding="utf-8"))["groups"]
    return [rule for group in groups for rule in group["rules"] if "alert" in rule]


def _promtool_cases() -> list[tuple[str, list[dict]]]:
    cases = []
    for path in PROMTOOL_TESTS:
        for test in yaml.safe_load(path.read_text(encoding="utf-8"))["tests"]:
            cases += [
                (c["alertname"], c.get("exp_alerts") or []) for c in test.get("alert_rule_test", [])
            ]
    return cases


@pytest.mark.parametrize("relative", [*sorted(RULE_FILES), SCHEMA_PATH])
def test_committed_rules_file_equals_the_generator_output(relative: str):
    committed = REPO_ROOT / relative
    assert committed.exists(), f"{relative} is missing: run `make dashboards`"
    assert committed.read_text(encoding="utf-8") == rendered_files()[relative], (
        f"{relative} drifted from grafana/: run `make dashboards` and commit the result"
    )


def test_every_alert_has_summary_live_value_severity_and_runbook():
    for rule in _alerts():
        name = rule["alert"]
        assert rule["labels"]["severity"] in {"warning", "critical"}, name
        assert rule["labels"]["service"], name
        assert rule["annotations"]["summary"].strip(), name
        assert "$value" in rule["annotations"]["description"], name
        assert rule["annotations"]["runbook_url"].startswith(RUNBOOK_BASE_URL), name


def test_each_alert_name_and_severity_is_defined_once():
    pairs = [(rule["alert"], rule["labels"]["severity"]) for rule in _alerts()]
    assert len(pairs) == len(set(pairs))


def test_every_runbook_url_points_at_a_runbook_page_with_the_standard_sections():
    for rule in _alerts():
        page = RUNBOOKS / rule["annotations"]["runbook_url"].removeprefix(RUNBOOK_BASE_URL)
        assert page.is_file(), f"{rule['alert']}: {page} is missing"
        text = page.read_text(encoding="utf-8")
        assert rule["alert"] in text
        for section in RUNBOOK_SECTIONS:
            assert section in text, f"{page.name} lacks {section!r}"


def test_issue_six_and_sixteen_alerts_are_all_there():
    names = {rule["alert"] for rule in _alerts()}
    assert names == {
        "MailerConsumerLagSecondsHigh",
        "MailerConsumerLagMessagesHigh",
        "MailerConsumerLagGrowing",
        "MailerDown",
        "MailerConsumerGroupEmpty",
        "MailerNotReady",
        "MailerSmtpCredentialsRejected",
        "MailerSmtpConnectionFailing",
        "MailerSendFailureRatioHigh",
        "MailerDeadLettersAppearing",
        "MailerKedaScalerFailing",
        "MoviesDown",
        "MoviesKafkaPublishFailing",
        "MoviesOutboxOldestAgeHigh",
        "MoviesHttpErrorRatioHigh",
        "MoviesLatencyHigh",
        "OtpTopicNoMessageForTooLong",
        "OtpDeliveryErrorBudgetBurn",
    }
    lag = [
        r for r in _alerts() if r["alert"].startswith("MailerConsumerLag") and "High" in r["alert"]
    ]
    assert {(r["alert"], r["labels"]["severity"]) for r in lag} == {
        (name, severity)
        for name in ("MailerConsumerLagSecondsHigh", "MailerConsumerLagMessagesHigh")
        for severity in ("warning", "critical")
    }


def test_dead_mailer_alerts_do_not_need_mailer_metrics():
    for rule in _alerts():
        if rule["alert"] in {"MailerDown", "MailerConsumerGroupEmpty"}:
            assert "mailer_" not in rule["expr"].replace('job="mailer"', "").replace(
                'consumergroup="mailer"', ""
            )


def test_every_alert_has_a_firing_and_a_silent_promtool_case():
    fired: dict[str, set[str]] = defaultdict(set)
    silent: set[str] = set()
    for alertname, expected in _promtool_cases():
        if not expected:
            silent.add(alertname)
        fired[alertname] |= {alert["exp_labels"]["severity"] for alert in expected}
    for rule in _alerts():
        name, severity = rule["alert"], rule["labels"]["severity"]
        assert severity in fired[name], f"no promtool case shows {name} ({severity}) firing"
        assert name in silent, f"no promtool case shows {name} not firing"


def test_promtool_tests_load_the_committed_rules_file():
    for path in PROMTOOL_TESTS:
        rule_files = yaml.safe_load(path.read_text(encoding="utf-8"))["rule_files"]
        assert [(path.parent / f).resolve() for f in rule_files] == [RULES.resolve()]


def _helm_spellings() -> list[str]:
    """Every template action the Helm dialect writes, other than thresholds and raw strings."""
    helm = HelmDialect()
    return [
        *(helm.setting(setting) for setting in SETTINGS),
        helm.runbook_base(),
        helm.condition(KEDA_ENABLED),
    ]


def test_helm_rules_leave_no_other_template_actions():
    text = HELM_THRESHOLD.sub("", HELM_RAW.sub("", HELM_RULES.read_text(encoding="utf-8")))
    for spelling in _helm_spellings():
        text = text.replace(spelling, "")
    assert "{{" not in text
    assert "}}" not in text


def test_an_installation_in_a_namespace_selects_and_labels_only_its_own():
    scoped = PlainDialect({"namespace": "shop"})
    own = re.compile(r"\b(?:mailer_|movies_|litestar_|up\b|namespace:otp)[\w:]*\{[^}]*\}")
    for group in rule_groups(scoped):
        for rule in group.rules:
            selectors = own.findall(rule.expr)
            scoped_elsewhere = re.search(r'(consumergroup|topic|scaledObject)="', rule.expr)
            assert selectors or scoped_elsewhere, rule
            for selector in selectors:
                assert 'namespace="shop"' in selector, (group.name, selector)
            if isinstance(rule, AlertRule):
                assert rule.document()["labels"]["namespace"] == "shop", rule.alert


def test_every_threshold_is_templated_and_listed_with_its_default():
    used = set(HELM_THRESHOLD.findall(HELM_RULES.read_text(encoding="utf-8")))
    listed = yaml.safe_load(HELM_THRESHOLDS.read_text(encoding="utf-8"))
    assert listed == {t.key: t.default for t in ALL_THRESHOLDS}
    assert used == set(listed)


def test_plain_rules_have_no_helm_syntax():
    text = RULES.read_text(encoding="utf-8")
    assert ".Values" not in text
    assert "{{`" not in text


def test_every_rules_file_ends_with_one_newline():
    for relative in RULE_FILES:
        text = Path(REPO_ROOT / relative).read_text(encoding="utf-8")
        assert text.endswith("\n")
        assert not text.endswith("\n\n")
