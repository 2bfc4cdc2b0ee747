"""The single source of every Prometheus rule reelmail ships.

Compose's Prometheus and promtool load the plain rendering; the Helm chart renders the
same groups, with thresholds looked up in its values, into a PrometheusRule.
"""

from __future__ import annotations

from dataclasses import replace

from grafana.mailer_alerts import (
    autoscaling_rules,
    availability_rules,
    delivery_rules,
    lag_rules,
)
from grafana.movies_alerts import movies_rules
from grafana.otp_slo import BUDGET_EVALUATION_INTERVAL
from grafana.otp_slo_alerts import budget_rules, slo_rules
from grafana.rule_dialects import KEDA_ENABLED, NAMESPACE, RuleDialect
from grafana.rule_model import AlertRule, RecordingRule, RuleGroup


def _scoped(
    d: RuleDialect, rules: tuple[AlertRule | RecordingRule, ...]
) -> tuple[AlertRule | RecordingRule, ...]:
    """Give every alert the installation's namespace label and runbook base URL.

    The namespace label is what a namespaced AlertmanagerConfig routes on; alerts whose
    expression cannot carry it (``absent``, kafka-exporter's series) get it this way.
    """
    namespace = d.setting(NAMESPACE)
    labels = (("namespace", namespace),) if namespace else ()
    return tuple(
        replace(rule, scope_labels=labels, runbook_base=d.runbook_base())
        if isinstance(rule, AlertRule)
        else rule
        for rule in rules
    )


def rule_groups(d: RuleDialect) -> tuple[RuleGroup, ...]:
    """All groups, in the order they appear in the rules files."""
    groups = (
        RuleGroup("reelmail-mailer-lag", lag_rules(d)),
        RuleGroup("reelmail-mailer-availability", availability_rules(d)),
        RuleGroup("reelmail-mailer-delivery", delivery_rules(d)),
        RuleGroup(
            "reelmail-mailer-autoscaling", autoscaling_rules(d), condition=d.condition(KEDA_ENABLED)
        ),
        RuleGroup("reelmail-movies", movies_rules(d)),
        RuleGroup("reelmail-otp-slo", slo_rules(d)),
        RuleGroup("reelmail-otp-slo-budget", budget_rules(d), interval=BUDGET_EVALUATION_INTERVAL),
    )
    return tuple(replace(group, rules=_scoped(d, group.rules)) for group in groups)


def alert_rules(d: RuleDialect) -> list[AlertRule]:
    """Every alerting rule, flattened, for the checks that go alert by alert."""
    return [rule for group in rule_groups(d) for rule in group.rules if isinstance(rule, AlertRule)]
