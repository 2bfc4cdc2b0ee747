"""Template variables every dashboard offers: data source, namespace, job and topic.

Jobs and topics are listed from the metrics a dashboard actually reads, with the
compose and chart defaults preselected, so the dashboards work unchanged in both
places and in a cluster with several installations.
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

from grafana.panel_defaults import DATASOURCE

ALL: Final = "$__all"
DEFAULT_TOPIC: Final = "mail.otp.v1"

VariableBuilder = Builder[VariableModel]


def datasource_variable() -> dashboard_builders.DatasourceVariable:
    """Pick the Prometheus to read; every panel and query refers to it."""
    return (
        dashboard_builders.DatasourceVariable("datasource").label("Data source").type("prometheus")
    )


def namespace_variable() -> dashboard_builders.QueryVariable:
    """Kubernetes namespace; "All" matches compose too, whose series have no namespace."""
    return (
        dashboard_builders.QueryVariable("namespace")
        .label("Namespace")
        .datasource(DATASOURCE)
        .query("label_values(up, namespace)")
        .refresh(VariableRefresh.ON_TIME_RANGE_CHANGED)
        .sort(VariableSort.ALPHABETICAL_ASC)
        .include_all(include_all=True)
        .all_value(".*")
        .current(VariableOption(selected=True, text="All", value=ALL))
    )


def label_variable(
    name: str, label: str, series: str, default: str
) -> dashboard_builders.QueryVariable:
    """One value of ``label`` found on ``series``, preselecting the deployments' default."""
    return (
        dashboard_builders.QueryVariable(name)
        .label(name.replace("_", " ").capitalize())
        .datasource(DATASOURCE)
        .query(f"label_values({series}, {label})")
        .refresh(VariableRefresh.ON_TIME_RANGE_CHANGED)
        .sort(VariableSort.ALPHABETICAL_ASC)
        .current(VariableOption(selected=True, text=default, value=default))
    )
