"""How thresholds, installation settings and Prometheus templates are spelled per file.

The plain file is read by Prometheus itself (compose, ``make alerts-test``); the Helm
file is first read by Helm's ``tpl``, which would eat Prometheus' own ``{{ $value }}``,
so there Prometheus templates are wrapped in a Go raw string, thresholds become values
lookups, and the installation's settings (namespace, job names, consumer group, topic)
become the release's values, so each release's rules select its own series only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Protocol

from grafana.thresholds import Threshold, format_number

if TYPE_CHECKING:
    from collections.abc import Mapping

HELM_VALUES_PATH: Final = ".Values.alerts.thresholds"
RUNBOOK_BASE_URL: Final = "https://github.com/reelmail/reelmail/blob/main/docs/runbooks/"


@dataclass(frozen=True, slots=True)
class Setting:
    """A per-installation value the rules select by: its compose default and Helm source."""

    name: str
    default: str
    helm: str


NAMESPACE: Final = Setting("namespace", "", 'include "reelmail.namespace" .')
MOVIES_JOB: Final = Setting("moviesJob", "movies", ".Values.prometheusRule.jobs.movies")
MAILER_JOB: Final = Setting("mailerJob", "mailer", ".Values.prometheusRule.jobs.mailer")
CONSUMER_GROUP: Final = Setting("consumerGroup", "mailer", ".Values.mailer.consumerGroup")
TOPIC: Final = Setting("topic", "mail.otp.v1", ".Values.kafka.topic")
SCALED_OBJECT: Final = Setting(
    "scaledObject",
    "mailer",
    'include "reelmail.componentName" (dict "root" . "component" "mailer")',
)
# Extra matchers on kafka-exporter's series, written with their leading ", ".
EXPORTER_MATCHERS: Final = Setting(
    "kafkaExporterMatchers", "", ".Values.prometheusRule.kafkaExporterMatchers"
)
SETTINGS: Final = (
    NAMESPACE,
    MOVIES_JOB,
    MAILER_JOB,
    CONSUMER_GROUP,
    TOPIC,
    SCALED_OBJECT,
    EXPORTER_MATCHERS,
)
KEDA_ENABLED: Final = ".Values.mailer.keda.enabled"


class RuleDialect(Protocol):
    """Spells thresholds, settings and Prometheus templates for one target file."""

    def threshold(self, threshold: Threshold) -> str:
        """Spell ``threshold`` inside an expression or annotation."""
        ...

    def setting(self, setting: Setting) -> str:
        """Spell an installation setting; empty when the installation has none."""
        ...

    def template(self, expression: str) -> str:
        """Spell a template that Prometheus expands to ``expression`` when it fires."""
        ...

    def runbook_base(self) -> str:
        """Spell the URL the runbook pages' names are appended to (ends with ``/``)."""
        ...

    def condition(self, values_path: str) -> str:
        """Spell the condition under which a group is installed; empty for always."""
        ...


class PlainDialect:
    """The rules file Prometheus and promtool load directly, with default thresholds.

    ``settings`` overrides defaults by setting name, so a test can write the rules one
    particular Helm release should get and compare them with the chart's rendering.
    """

    def __init__(self, settings: Mapping[str, str] | None = None) -> None:
        """Keep the overridden settings; the rest take their compose defaults."""
        self._settings = dict(settings or {})

    def threshold(self, threshold: Threshold) -> str:
        """Write the default, as a number."""
        return format_number(threshold.default)

    def setting(self, setting: Setting) -> str:
        """Write the override, else the compose default."""
        return self._settings.get(setting.name, setting.default)

    def template(self, expression: str) -> str:
        """Write the Prometheus template as is."""
        return "{{ " + expression + " }}"

    def runbook_base(self) -> str:
        """Link to the runbooks in the repository."""
        return RUNBOOK_BASE_URL

    def condition(self, values_path: str) -> str:
        """Install every group: compose simply never has the series of absent features."""
        del values_path
        return ""


class HelmDialect:
    """The rules file the chart passes through ``tpl`` into its PrometheusRule."""

    def threshold(self, threshold: Threshold) -> str:
        """Look a tunable threshold's key up in the chart values; write the others."""
        if not threshold.tunable:
            return format_number(threshold.default)
        return "{{ " + f"{HELM_VALUES_PATH}.{threshold.key}" + " }}"

    def setting(self, setting: Setting) -> str:
        """Take the setting from the release; extra matchers keep their leading comma."""
        if setting is EXPORTER_MATCHERS:
            return "{{ with " + setting.helm + " }}, {{ . }}{{ end }}"
        return "{{ " + setting.helm + " }}"

    def template(self, expression: str) -> str:
        """Wrap the template in a Go raw string, so ``tpl`` prints it verbatim."""
        return "{{`{{ " + expression + " }}`}}"

    def runbook_base(self) -> str:
        """Take the base URL from ``prometheusRule.runbookUrl``."""
        return '{{ .Values.prometheusRule.runbookUrl | trimSuffix "/" }}/'

    def condition(self, values_path: str) -> str:
        """Let the chart template drop the group when the value is false."""
        return "{{ " + values_path + " }}"
