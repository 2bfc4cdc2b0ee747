"""How thresholds and Prometheus templates are spelled in each rules file we write.

The plain file is read by Prometheus itself; the Helm file is first read by Helm's
``tpl``, which would eat Prometheus' own ``{{ $value }}``, so there the Prometheus
templates are wrapped in a Go raw string and the thresholds become values lookups.
"""

from __future__ import annotations

from typing import Final, Protocol

from grafana.thresholds import Threshold, format_number

HELM_VALUES_PATH: Final = ".Values.alerts.thresholds"


class RuleDialect(Protocol):
    """Spells a threshold and a Prometheus template expression for one target file."""

    def threshold(self, threshold: Threshold) -> str:
        """Spell ``threshold`` inside an expression or annotation."""
        ...

    def template(self, expression: str) -> str:
        """Spell a template that Prometheus expands to ``expression`` when it fires."""
        ...


class PlainDialect:
    """The rules file Prometheus and promtool load directly, with default thresholds."""

    def threshold(self, threshold: Threshold) -> str:
        """Write the default, as a number."""
        return format_number(threshold.default)

    def template(self, expression: str) -> str:
        """Write the Prometheus template as is."""
        return "{{ " + expression + " }}"


class HelmDialect:
    """The rules file the chart passes through ``tpl`` into its PrometheusRule."""

    def threshold(self, threshold: Threshold) -> str:
        """Look the threshold's key up in the chart values."""
        return "{{ " + f"{HELM_VALUES_PATH}.{threshold.key}" + " }}"

    def template(self, expression: str) -> str:
        """Wrap the template in a Go raw string, so ``tpl`` prints it verbatim."""
        return "{{`{{ " + expression + " }}`}}"
