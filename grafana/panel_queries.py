"""Every dashboard panel's PromQL, variables substituted, for tests against a live Prometheus.

A dashboard is only proven when each of its queries returns data from the real
services; this lists those queries exactly as Grafana would send them, so a test can
run them through the Prometheus HTTP API without a Grafana in between.

Each dashboard's variables default to their preselected values (``$__all`` becomes the
variable's "All" value); ``values`` overrides them by name across all dashboards and
``builtins`` overrides Grafana's own ``$__rate_interval``, ``$__interval`` and ``$__range``.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Final, NamedTuple

from grafana_foundation_sdk.models import dashboard, prometheus

from grafana.catalog import dashboards

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

DEFAULT_BUILTINS: Final[Mapping[str, str]] = {
    "__rate_interval": "1m",
    "__interval": "15s",
    "__range": "1h",
}
_REFERENCE: Final = re.compile(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)\]\]")
_ALL: Final = "$__all"


class PanelQuery(NamedTuple):
    """One query of one panel, ready for ``/api/v1/query``."""

    dashboard_uid: str
    panel_title: str
    expr: str


def variable_defaults(model: dashboard.Dashboard) -> dict[str, str]:
    """Map each of a dashboard's variables to its preselected value, "All" expanded."""
    defaults = {}
    for variable in model.templating.list_val or []:
        current = variable.current.value if variable.current else ""
        value = current if isinstance(current, str) else "|".join(current)
        defaults[variable.name] = (variable.all_value or ".*") if value == _ALL else value
    return defaults


def substitute(expr: str, values: Mapping[str, str]) -> str:
    """Replace ``$name``, ``${name}`` and ``[[name]]``; an unknown name is an error."""

    def replace(match: re.Match[str]) -> str:
        name = next(group for group in match.groups() if group)
        if name not in values:
            msg = f"no value for dashboard variable {name!r} in {expr!r}"
            raise KeyError(msg)
        return values[name]

    return _REFERENCE.sub(replace, expr)


def _exprs(model: dashboard.Dashboard) -> Iterator[tuple[str, str]]:
    """Yield (panel title, raw expr) for every Prometheus target, rows included."""
    for panel in model.panels or []:
        nested = panel.panels if isinstance(panel, dashboard.RowPanel) else [panel]
        for leaf in nested:
            for target in leaf.targets or []:
                if isinstance(target, prometheus.Dataquery) and target.expr:
                    yield leaf.title or "", target.expr


def panel_queries(
    values: Mapping[str, str] | None = None, builtins: Mapping[str, str] | None = None
) -> list[PanelQuery]:
    """List (dashboard uid, panel title, expr) for every panel query of every dashboard."""
    queries = []
    for model in dashboards():
        context = {**DEFAULT_BUILTINS, **(builtins or {}), **variable_defaults(model)}
        context.update(values or {})
        queries += [
            PanelQuery(model.uid or "", title, substitute(expr, context))
            for title, expr in _exprs(model)
        ]
    return queries
