"""Figures, their medians and ratios, and the targets of issue 9 they are held to.

Every figure keeps each run's sample, so the JSON shows the spread behind the median;
a figure that could not be measured keeps the reason instead of a number.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from collections.abc import Sequence

Comparison = Literal["at_least", "at_most"]


@dataclass(frozen=True, slots=True)
class Figure:
    """One measured quantity: the median of its runs, or why it was not run."""

    key: str
    label: str
    unit: str
    samples: tuple[float, ...] = ()
    not_run: str | None = None
    extra: dict[str, float | str] = field(default_factory=dict)

    @property
    def value(self) -> float | None:
        """The median of the runs; None when nothing was measured."""
        return statistics.median(self.samples) if self.samples else None


@dataclass(frozen=True, slots=True)
class Target:
    """A bound from issue 9 on one figure."""

    figure_key: str
    description: str
    bound: float
    comparison: Comparison

    def met_by(self, value: float | None) -> bool | None:
        """Whether ``value`` satisfies the bound; None when the figure is missing."""
        if value is None:
            return None
        return value >= self.bound if self.comparison == "at_least" else value <= self.bound


def ratio(key: str, label: str, numerator: Figure, denominator: Figure) -> Figure:
    """Divide two medians taken in the same invocation; the result is a figure of its own."""
    top, bottom = numerator.value, denominator.value
    if top is None or bottom is None or bottom == 0:
        missing = numerator if top is None else denominator
        return Figure(key, label, "x", not_run=f"needs {missing.key}")
    if not (math.isfinite(top) and math.isfinite(bottom)):
        return Figure(key, label, "x", not_run="requests timed out in one of the runs")
    return Figure(key, label, "x", samples=(top / bottom,))


def overhead(key: str, label: str, with_cost: Figure, without: Figure, *, rate: bool) -> Figure:
    """Relative cost in percent: lost throughput for rates, added time for latencies."""
    on, off = with_cost.value, without.value
    if on is None or off is None or on == 0 or off == 0:
        return Figure(key, label, "%", not_run="needs both telemetry runs")
    if not (math.isfinite(on) and math.isfinite(off)):
        return Figure(key, label, "%", not_run="requests timed out in one of the runs")
    percent = (off / on - 1.0) * 100.0 if rate else (on / off - 1.0) * 100.0
    return Figure(key, label, "%", samples=(percent,))


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile, the conservative kind for tail latency (never interpolated)."""
    if not values:
        msg = "no values"
        raise ValueError(msg)
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]
