"""Label matchers that pick one installation's series, shared by every rule module.

A service's own series are picked by its scrape job and, in a cluster, its namespace;
kafka-exporter's by the consumer group or topic the installation uses (the exporter
runs elsewhere, so its ``namespace`` label says nothing about ours).
"""

from __future__ import annotations

from typing import Final

from grafana.rule_dialects import (
    CONSUMER_GROUP,
    EXPORTER_MATCHERS,
    MAILER_JOB,
    MOVIES_JOB,
    NAMESPACE,
    TOPIC,
    RuleDialect,
    Setting,
)

# KEDA labels a ScaledObject's namespace "namespace"; scraped without honorLabels,
# Prometheus renames it "exported_namespace" to make room for KEDA's own.
KEDA_NAMESPACE_LABELS: Final = ("namespace", "exported_namespace")


def own_series(d: RuleDialect, job: Setting, extra: str = "") -> str:
    """Match one service's series: its job, its namespace when it has one, and ``extra``."""
    namespace = d.setting(NAMESPACE)
    parts = [f'job="{d.setting(job)}"']
    parts += [f'namespace="{namespace}"'] if namespace else []
    parts += [extra] if extra else []
    return ", ".join(parts)


def mailer(d: RuleDialect, extra: str = "") -> str:
    """Match the mailer's own series."""
    return own_series(d, MAILER_JOB, extra)


def movies(d: RuleDialect, extra: str = "") -> str:
    """Match the movies service's own series."""
    return own_series(d, MOVIES_JOB, extra)


def consumer_group(d: RuleDialect) -> str:
    """Match kafka-exporter's series of the mailer's consumer group."""
    return f'consumergroup="{d.setting(CONSUMER_GROUP)}"{d.setting(EXPORTER_MATCHERS)}'


def topic(d: RuleDialect) -> str:
    """Match kafka-exporter's series of the topic movies publishes codes to."""
    return f'topic="{d.setting(TOPIC)}"{d.setting(EXPORTER_MATCHERS)}'


def recorded(d: RuleDialect) -> str:
    """Select the installation's own recorded series: ``{namespace="…"}``, or nothing.

    Recording rules keep ``namespace``, so another installation's rules record the same
    names in the same Prometheus; reading them unscoped would judge its SLO by ours.
    """
    namespace = d.setting(NAMESPACE)
    return f'{{namespace="{namespace}"}}' if namespace else ""


def absent_as_one(series: str) -> str:
    """PromQL that is 1, with no labels, when ``series`` has no samples; else empty.

    ``absent`` alone labels its 1 with the selector's equality matchers, so an alert
    that takes either ``count(...)`` or ``absent(...)`` would change its label set (and
    restart its ``for``) as it moves from "targets down" to "no target at all".
    """
    return f"sum(absent({series}))"
