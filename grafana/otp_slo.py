"""The one-time-code delivery SLO: which events are good, and how fast the budget burns.

A code is good when the mailer's SMTP server accepted it within 30 s of being issued;
it is bad when it was accepted later, expired before it could be sent, or was
dead-lettered after a permanent SMTP failure. The alert rules and the SLO dashboard
both build their queries here, so the page and the graph can never disagree.

The good count comes from the ``le="30"`` bucket of ``mailer_delivery_latency_seconds``,
so the mailer must have a bucket boundary at exactly 30 s (see ``DELIVERY_LATENCY_BUCKETS``).
"""

from __future__ import annotations

from dataclasses import dataclass
from textwrap import indent
from typing import Final

from grafana.thresholds import Threshold

LATENCY_TARGET_SECONDS: Final = 30
DELIVERY_LATENCY_BUCKETS: Final = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
# Python's client writes the bound as "30.0"; other clients and Prometheus 2's text
# parser may keep "30", so the matcher accepts both spellings.
GOOD_BUCKET_MATCHER: Final = 'le=~"30|30.0"'
BAD_RESULTS_MATCHER: Final = 'result=~"expired|dead_lettered"'
SLO_PERIOD: Final = "30d"
ERROR_RATIO_WINDOWS: Final = ("5m", "30m", "1h", "2h", "6h", "1d", "3d")


@dataclass(frozen=True, slots=True)
class BurnRateWindow:
    """A long window that measures the burn and a short one that lets the alert reset."""

    long: str
    short: str
    factor: Threshold


def _window(long: str, short: str, factor: float) -> BurnRateWindow:
    meaning = f"burn rate over {long} (and {short}) at which the budget alert fires"
    return BurnRateWindow(long, short, Threshold(f"burnRate{long}", factor, meaning, tunable=False))


# Google SRE workbook, "Alerting on SLOs", multiwindow multi-burn-rate alerts:
# 2 % and 5 % of a 30-day budget in 1 h and 6 h page; 10 % in 1 d and 3 d file a ticket.
PAGE_WINDOWS: Final = (_window("1h", "5m", 14.4), _window("6h", "30m", 6))
TICKET_WINDOWS: Final = (_window("1d", "2h", 3), _window("3d", "6h", 1))


def _with(matchers: str, extra: str) -> str:
    """Join label matchers, either of which may be empty, into a selector (or nothing)."""
    joined = ", ".join(part for part in (extra, matchers) if part)
    return "{" + joined + "}" if joined else ""


def good_rate(window: str, matchers: str = "") -> str:
    """PromQL for codes per second mailed within 30 s, averaged over ``window``."""
    good = f"mailer_delivery_latency_seconds_bucket{_with(matchers, GOOD_BUCKET_MATCHER)}"
    return f"sum by (namespace) (rate({good}[{window}]))"


def events_rate(window: str, matchers: str = "") -> str:
    """PromQL for codes per second that reached an outcome (mailed, expired, given up).

    Bad outcomes are added to the histogram's count with ``or`` (their series carry a
    ``result`` label the histogram lacks), so a mailer that never expired a code still
    yields a rate instead of an empty vector.
    """
    delivered = f"mailer_delivery_latency_seconds_count{_with(matchers, '')}"
    failed = f"mailer_emails_total{_with(matchers, BAD_RESULTS_MATCHER)}"
    return f"sum by (namespace) (rate({delivered}[{window}]) or rate({failed}[{window}]))"


def delivered_in_time_ratio(window: str, matchers: str = "") -> str:
    """PromQL for the SLI: the share of codes mailed within 30 s over ``window``."""
    return f"{good_rate(window, matchers)}\n/\n{events_rate(window, matchers)}"


def error_ratio(window: str, matchers: str = "") -> str:
    """PromQL for the share of codes *not* mailed within 30 s: what burns the budget."""
    return f"1 - (\n{indent(delivered_in_time_ratio(window, matchers), '  ')}\n)"


def recorded_error_ratio(window: str) -> str:
    """Name of the recording rule holding :func:`error_ratio` for ``window``."""
    return f"namespace:otp_delivery_error_ratio:rate{window}"


RECORDED_GOOD_RATE: Final = "namespace:otp_delivery_good:rate5m"
RECORDED_EVENTS_RATE: Final = "namespace:otp_delivery_events:rate5m"
BUDGET_EVALUATION_INTERVAL: Final = "5m"


def period_error_ratio(selector: str = "") -> str:
    """PromQL for the error ratio over the whole SLO period, from the 5-minute rates.

    A raw 30-day ``rate`` over histogram buckets reads every sample of the period on
    each evaluation; summing the recorded 5-minute rates reads one series per outcome,
    and a slow group (every 5 minutes) is plenty for a 30-day figure.
    """
    period = SLO_PERIOD
    return (
        f"1 - (\n  sum_over_time({RECORDED_GOOD_RATE}{selector}[{period}])\n"
        f"  /\n  sum_over_time({RECORDED_EVENTS_RATE}{selector}[{period}])\n)"
    )
