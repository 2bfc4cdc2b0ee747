"""Recording rules and burn-rate alerts for the one-time-code delivery SLO.

Multiwindow, multi-burn-rate alerts as in the Google SRE workbook: each condition
needs both a long window (the budget really is burning) and a short one (it still is,
so the alert resets soon after a fix).
"""

from __future__ import annotations

from grafana import otp_slo
from grafana.otp_slo import BurnRateWindow
from grafana.rule_dialects import RuleDialect
from grafana.rule_model import AlertRule, RecordingRule, Severity
from grafana.thresholds import OTP_DELIVERY_SLO_OBJECTIVE


def recording_rules() -> tuple[RecordingRule, ...]:
    """Record the error ratio over every window an alert or the SLO dashboard reads."""
    return tuple(
        RecordingRule(otp_slo.recorded_error_ratio(window), otp_slo.error_ratio(window))
        for window in otp_slo.ERROR_RATIO_WINDOWS
    )


def _burning(window: BurnRateWindow, budget: str) -> str:
    """Require both windows to burn faster than ``window.factor`` times sustainable."""
    long_ratio = otp_slo.recorded_error_ratio(window.long)
    short_ratio = otp_slo.recorded_error_ratio(window.short)
    return (
        f"(\n  {long_ratio} / {budget} > {window.factor:g}\n"
        f"and\n  {short_ratio} / {budget} > {window.factor:g}\n)"
    )


def _budget_burn(
    d: RuleDialect, severity: Severity, windows: tuple[BurnRateWindow, ...], for_: str
) -> AlertRule:
    """Alert at one severity; the value is the burn rate over the long window."""
    objective = d.threshold(OTP_DELIVERY_SLO_OBJECTIVE)
    budget = f"(1 - {objective})"
    return AlertRule(
        alert="OtpDeliveryErrorBudgetBurn",
        expr="\nor\n".join(_burning(window, budget) for window in windows),
        for_=for_,
        severity=severity,
        service="mailer",
        summary="One-time codes miss the 30 s delivery SLO",
        description=(
            f"Codes not mailed within {otp_slo.LATENCY_TARGET_SECONDS} s are spending the "
            f"30-day error budget at {d.template('$value | humanize')} times the sustainable "
            f"rate (objective {objective})."
        ),
    )


def slo_rules(d: RuleDialect) -> tuple[AlertRule | RecordingRule, ...]:
    """List recording rules first: Prometheus evaluates a group's rules in order."""
    return (
        *recording_rules(),
        _budget_burn(d, "critical", otp_slo.PAGE_WINDOWS, "2m"),
        _budget_burn(d, "warning", otp_slo.TICKET_WINDOWS, "15m"),
    )
