"""Recording rules and burn-rate alerts for the one-time-code delivery SLO.

Multiwindow, multi-burn-rate alerts as in the Google SRE workbook: each condition
needs both a long window (the budget really is burning) and a short one (it still is,
so the alert resets soon after a fix).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from grafana import otp_slo
from grafana import rule_selectors as select
from grafana.rule_model import AlertRule, RecordingRule, Severity
from grafana.thresholds import OTP_DELIVERY_SLO_OBJECTIVE

if TYPE_CHECKING:
    from grafana.otp_slo import BurnRateWindow
    from grafana.rule_dialects import RuleDialect


def recording_rules(d: RuleDialect) -> tuple[RecordingRule, ...]:
    """Record the error ratio over every window an alert or the SLO dashboard reads.

    The 5-minute good and total rates are recorded too: the period's error ratio is
    summed from them (:func:`budget_rules`).
    """
    mailer = select.mailer(d)
    ratios = tuple(
        RecordingRule(otp_slo.recorded_error_ratio(window), otp_slo.error_ratio(window, mailer))
        for window in otp_slo.ERROR_RATIO_WINDOWS
    )
    return (
        RecordingRule(otp_slo.RECORDED_GOOD_RATE, otp_slo.good_rate("5m", mailer)),
        RecordingRule(otp_slo.RECORDED_EVENTS_RATE, otp_slo.events_rate("5m", mailer)),
        *ratios,
    )


def budget_rules(d: RuleDialect) -> tuple[RecordingRule, ...]:
    """Record the error ratio over the 30-day period, which the budget panel reads."""
    period = otp_slo.recorded_error_ratio(otp_slo.SLO_PERIOD)
    return (RecordingRule(period, otp_slo.period_error_ratio(select.recorded(d))),)


def _burning(d: RuleDialect, window: BurnRateWindow, budget: str) -> str:
    """Require both windows to burn faster than ``window.factor`` times sustainable."""
    long_ratio = otp_slo.recorded_error_ratio(window.long) + select.recorded(d)
    short_ratio = otp_slo.recorded_error_ratio(window.short) + select.recorded(d)
    factor = d.threshold(window.factor)
    return f"(\n  {long_ratio} / {budget} > {factor}\nand\n  {short_ratio} / {budget} > {factor}\n)"


def _budget_burn(
    d: RuleDialect, severity: Severity, windows: tuple[BurnRateWindow, ...], for_: str
) -> AlertRule:
    """Alert at one severity; the value is the burn rate over the long window."""
    objective = d.threshold(OTP_DELIVERY_SLO_OBJECTIVE)
    budget = f"(1 - {objective})"
    return AlertRule(
        alert="OtpDeliveryErrorBudgetBurn",
        expr="\nor\n".join(_burning(d, window, budget) for window in windows),
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
        *recording_rules(d),
        _budget_burn(d, "critical", otp_slo.PAGE_WINDOWS, "2m"),
        _budget_burn(d, "warning", otp_slo.TICKET_WINDOWS, "15m"),
    )
