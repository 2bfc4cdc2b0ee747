"""The parts of the chart's values.schema.json that the rules define.

The schema is written by hand, except for what only the rules know: the threshold keys
under ``alerts.thresholds`` (so a misspelt key is rejected instead of silently unused)
and the alert names ``prometheusRule.disabled`` and ``prometheusRule.customRules``
accept. ``make dashboards`` rewrites those subtrees in place and leaves the rest as is.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Final

from grafana.alert_rules import alert_rules
from grafana.rule_dialects import PlainDialect
from grafana.thresholds import ALL_THRESHOLDS

if TYPE_CHECKING:
    from pathlib import Path

SCHEMA_PATH: Final = "deploy/helm/reelmail/values.schema.json"
DURATION_PATTERN: Final = "^([0-9]+(ms|s|m|h|d|w|y))+$"


def rule_keys() -> list[str]:
    """Every key an override may use: an alert's name, or ``name/severity``."""
    rules = alert_rules(PlainDialect())
    names = {rule.alert for rule in rules}
    return sorted(names | {f"{rule.alert}/{rule.severity}" for rule in rules})


def thresholds_schema() -> dict[str, Any]:
    """``alerts.thresholds``: exactly the thresholds the rules use, each bounded."""
    return {
        "type": "object",
        "additionalProperties": False,
        "description": "alert thresholds, substituted into the rules (files/prometheus-rules.yaml)",
        "properties": {threshold.key: threshold.schema() for threshold in ALL_THRESHOLDS},
    }


def _string_map() -> dict[str, Any]:
    return {"type": "object", "additionalProperties": {"type": "string"}}


def overrides_schema() -> dict[str, dict[str, Any]]:
    """``prometheusRule.disabled`` and ``prometheusRule.customRules``, keyed by alert."""
    names = {"enum": rule_keys()}
    override = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "for": {"type": "string", "pattern": DURATION_PATTERN},
            "severity": {"enum": ["info", "warning", "critical"]},
            "labels": _string_map(),
            "annotations": _string_map(),
        },
    }
    return {
        "disabled": {
            "type": "object",
            "propertyNames": names,
            "additionalProperties": {"type": "boolean"},
        },
        "customRules": {
            "type": "object",
            "propertyNames": names,
            "additionalProperties": override,
        },
    }


def values_schema(root: Path) -> str:
    """Rewrite the rules' subtrees of the committed schema; return it as ``json.dumps`` would."""
    schema = json.loads((root / SCHEMA_PATH).read_text(encoding="utf-8"))
    properties = schema["properties"]
    properties["alerts"]["properties"]["thresholds"] = thresholds_schema()
    properties["prometheusRule"]["properties"].update(overrides_schema())
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"
