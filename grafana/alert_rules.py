"""The single source of every Prometheus rule reelmail ships.

Compose's Prometheus and promtool load the plain rendering; the Helm chart renders the
same groups, with thresholds looked up in its values, into a PrometheusRule.
"""

from __future__ import annotations

from grafana.mailer_alerts import availability_rules, delivery_rules, lag_rules
from grafana.movies_alerts import movies_rules
from grafana.otp_slo_alerts import slo_rules
from grafana.rule_dialects import RuleDialect
from grafana.rule_model import AlertRule, RuleGroup


def rule_groups(d: RuleDialect) -> tuple[RuleGroup, ...]:
    """All groups, in the order they appear in the rules files."""
    return (
        RuleGroup("reelmail-mailer-lag", lag_rules(d)),
        RuleGroup("reelmail-mailer-availability", availability_rules(d)),
        RuleGroup("reelmail-mailer-delivery", delivery_rules(d)),
        RuleGroup("reelmail-movies", movies_rules(d)),
        RuleGroup("reelmail-otp-slo", slo_rules(d)),
    )


def alert_rules(d: RuleDialect) -> list[AlertRule]:
    """Every alerting rule, flattened, for the checks that go alert by alert."""
    return [rule for group in rule_groups(d) for rule in group.rules if isinstance(rule, AlertRule)]
