"""The shape of a Prometheus rule group, and the fields every alert of ours must carry.

Making severity, summary, description and runbook mandatory constructor arguments is
cheaper than reviewing for them: an alert without a runbook does not type-check.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from grafana.rule_dialects import RUNBOOK_BASE_URL

Severity = Literal["warning", "critical"]
RuleDocument = dict[str, str | dict[str, str]]
GroupDocument = dict[str, str | list[RuleDocument]]


def runbook_slug(alert: str) -> str:
    """Name an alert's runbook page (without ``.md``): the alert name in kebab case."""
    return re.sub(r"(?<!^)(?=[A-Z])", "-", alert).lower()


@dataclass(frozen=True, slots=True)
class AlertRule:
    """An alerting rule with the labels and annotations our on-call routing relies on."""

    alert: str
    expr: str
    severity: Severity
    service: str
    summary: str
    description: str
    for_: str = ""
    scope_labels: tuple[tuple[str, str], ...] = ()
    runbook_base: str = RUNBOOK_BASE_URL

    def document(self) -> RuleDocument:
        """Spell the rule as Prometheus' rules file does, keys in a stable order."""
        rule: RuleDocument = {"alert": self.alert, "expr": self.expr}
        if self.for_:
            rule["for"] = self.for_
        rule["labels"] = {
            "severity": self.severity,
            "service": self.service,
            **dict(self.scope_labels),
        }
        rule["annotations"] = {
            "summary": self.summary,
            "description": self.description,
            "runbook_url": f"{self.runbook_base}{runbook_slug(self.alert)}.md",
        }
        return rule


@dataclass(frozen=True, slots=True)
class RecordingRule:
    """A recording rule, so dashboards and alerts read the same precomputed series."""

    record: str
    expr: str

    def document(self) -> RuleDocument:
        """Spell the rule as Prometheus' rules file does."""
        return {"record": self.record, "expr": self.expr}


@dataclass(frozen=True, slots=True)
class RuleGroup:
    """A named group; Prometheus evaluates the rules of one group in order."""

    name: str
    rules: tuple[AlertRule | RecordingRule, ...]
    interval: str = ""
    condition: str = ""

    def document(self) -> GroupDocument:
        """Spell the group as Prometheus' rules file does.

        ``condition`` is not Prometheus': the chart template reads it to drop the group
        (for example KEDA's, without KEDA) and removes it from the PrometheusRule.
        """
        group: GroupDocument = {"name": self.name}
        if self.interval:
            group["interval"] = self.interval
        if self.condition:
            group["condition"] = self.condition
        group["rules"] = [rule.document() for rule in self.rules]
        return group
