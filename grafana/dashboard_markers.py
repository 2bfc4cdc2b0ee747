"""Where a dashboard's numbers and defaults come from, found by building it with markers.

Panels take alert thresholds (and variables take installation settings) through
:func:`threshold_value` and :func:`setting_value`. Built normally these give the
defaults; built inside :func:`marking`, each gives a unique marker instead, so the
generator can see exactly which threshold or setting every step and default is, with
no bookkeeping in the panels themselves. The chart then substitutes the release's
values at those places (grafana/dashboard_bindings.py), and the tests prove that every
panel threshold is an alert threshold.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

from grafana.rule_dialects import Setting
from grafana.thresholds import Threshold

if TYPE_CHECKING:
    from collections.abc import Iterator

_MARKER_BASE: Final = 1_000_000_000.0


@dataclass
class Markers:
    """The markers handed out while building: marker value to what it stands for."""

    thresholds: dict[float, Threshold] = field(default_factory=dict)
    settings: dict[str, Setting] = field(default_factory=dict)

    def threshold(self, threshold: Threshold) -> float:
        """One marker per threshold, the same one each time it is asked for."""
        for marker, known in self.thresholds.items():
            if known == threshold:
                return marker
        marker = _MARKER_BASE + len(self.thresholds)
        self.thresholds[marker] = threshold
        return marker

    def setting(self, setting: Setting) -> str:
        """Hand out a marker string that no real default looks like."""
        marker = f"__setting_{setting.name}__"
        self.settings[marker] = setting
        return marker


_ACTIVE: ContextVar[Markers | None] = ContextVar("dashboard_markers", default=None)


def threshold_value(threshold: Threshold) -> float:
    """Give the number a panel colours at: the default, or a marker while marking."""
    markers = _ACTIVE.get()
    return threshold.default if markers is None else markers.threshold(threshold)


def setting_value(setting: Setting) -> str:
    """Give a variable's preselected value: compose's default, or a marker while marking."""
    markers = _ACTIVE.get()
    return setting.default if markers is None else markers.setting(setting)


@contextmanager
def marking() -> Iterator[Markers]:
    """Build dashboards inside this block to get markers in place of defaults."""
    markers = Markers()
    token = _ACTIVE.set(markers)
    try:
        yield markers
    finally:
        _ACTIVE.reset(token)
