"""Template variables every dashboard offers: data source, namespace, job and topic.

Jobs and topics are listed from the metrics a dashboard actually reads, within the
chosen namespace, with the installation's settings preselected: compose's defaults
here, and the release's namespace, jobs, consumer group and topic in the chart's copy
(grafana/dashboard_bindings.py), so one dashboard serves a cluster of installations.
"""

from __future__ import annotations

from typing import Final

from grafana_foundation_sdk.builders import dashboard as dashboard_builders
from grafana_foundation_sdk.cog.builder import Builder
from grafana_foundation_sdk.models.dashboard import (
    VariableModel,
    VariableOption,
    VariableRefresh,
    VariableSort,
)

from grafana.dashboard_markers import setting_value
from grafana.panel_defaults import DATASOURCE
from grafana.rule_dialects import NAMESPACE, Setting

ALL: Final = "$__all"

VariableBuilder = Builder[VariableModel]


def datasource_variable() -> dashboard_builders.DatasourceVariable:
    """Pick the Prometheus to read; every panel and query refers to it."""
    return (
        dashboard_builders.DatasourceVariable("datasource").label("Data source").type("prometheus")
    )


def namespace_variable() -> dashboard_builders.QueryVariable:
    """Kubernetes namespace; "All" matches compose too, whose series have no namespace."""
    namespace = setting_value(NAMESPACE)
    current = (
        VariableOption(selected=True, text=namespace, value=namespace)
        if namespace
        else VariableOption(selected=True, text="All", value=ALL)
    )
    return (
        dashboard_builders.QueryVariable("namespace")
        .label("Namespace")
        .datasource(DATASOURCE)
        .query("label_values(up, namespace)")
        .refresh(VariableRefresh.ON_TIME_RANGE_CHANGED)
        .sort(VariableSort.ALPHABETICAL_ASC)
        .include_all(include_all=True)
        .all_value(".*")
        .current(current)
    )


def label_variable(
    name: str, label: str, series: str, default: Setting | str
) -> dashboard_builders.QueryVariable:
    """One value of ``label`` found on ``series``, preselecting the installation's own.

    A :class:`Setting` default follows the installation; a string is the same everywhere.
    """
    value = default if isinstance(default, str) else setting_value(default)
    return (
        dashboard_builders.QueryVariable(name)
        .label(name.replace("_", " ").capitalize())
        .datasource(DATASOURCE)
        .query(f"label_values({series}, {label})")
        .refresh(VariableRefresh.ON_TIME_RANGE_CHANGED)
        .sort(VariableSort.ALPHABETICAL_ASC)
        .current(VariableOption(selected=True, text=value, value=value))
    )
