"""The table ``make bench`` prints and the JSON it writes, with the targets of issue 9."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from bench.api_latency import TARGETS as API_TARGETS
from bench.figures import Figure, Target
from bench.mailer_throughput import TARGETS as MAILER_TARGETS
from bench.plan import Plan
from bench.production_path import TARGETS as B5_TARGETS
from bench.relay_latency import TARGETS as RELAY_TARGETS

if TYPE_CHECKING:
    from pathlib import Path

# Each benchmark module holds its own targets; this is the order they are reported in.
TARGETS: Final = (
    *MAILER_TARGETS,
    *RELAY_TARGETS,
    *API_TARGETS,
    *B5_TARGETS,
)


@dataclass
class Report:
    """Everything one invocation measured, and where."""

    plan: Plan
    machine: dict[str, str | int | float]
    source: dict[str, str | bool]
    started_at: str
    duration_s: float = 0.0
    figures: list[Figure] = field(default_factory=list)
    profile: list[str] = field(default_factory=list)
    phase_seconds: dict[str, float] = field(default_factory=dict)

    def figure(self, key: str) -> Figure | None:
        """Find the figure with ``key`` (measured, or marked not run)."""
        return next((figure for figure in self.figures if figure.key == key), None)

    def as_json(self) -> dict[str, Any]:
        """Build the document written to ``bench/results/latest.json``."""
        return {
            "machine": self.machine,
            "source": self.source,
            "started_at": self.started_at,
            "duration_s": round(self.duration_s, 1),
            "phase_seconds": self.phase_seconds,
            "plan": {name: getattr(self.plan, name) for name in self.plan.__slots__},
            "figures": [_figure_json(figure) for figure in self.figures],
            "targets": [self._target_json(target) for target in TARGETS],
            "mailer_profile_top": self.profile,
        }

    def _target_json(self, target: Target) -> dict[str, Any]:
        figure = self.figure(target.figure_key)
        value = figure.value if figure else None
        return {
            "target": target.description,
            "figure": target.figure_key,
            "value": _finite(value),
            "met": target.met_by(value),
        }


def write_json(report: Report, path: Path) -> None:
    """Write atomically, so a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".tmp")
    partial.write_text(json.dumps(report.as_json(), indent=2, ensure_ascii=False) + "\n")
    partial.replace(path)


def render_table(report: Report) -> str:
    """Lay out every figure in a fixed-width table, then the verdict on each target."""
    lines = [f"{'figure':<58} {'median':>10}  {'unit':<8} runs"]
    lines += [_row(figure) for figure in report.figures]
    phases = ", ".join(f"{name} {seconds:.0f} s" for name, seconds in report.phase_seconds.items())
    lines += ["", f"took {report.duration_s:.0f} s ({phases})", ""]
    for target in TARGETS:
        found = report.figure(target.figure_key)
        met = target.met_by(found.value if found else None)
        verdict = {True: "MET", False: "MISSED", None: "NOT RUN"}[met]
        lines.append(f"{verdict:<8} {target.description}")
    return "\n".join(lines)


def _row(figure: Figure) -> str:
    if figure.value is None:
        return f"{figure.label:<58} {'-':>10}  {figure.unit:<8} not run: {figure.not_run}"
    runs = ", ".join(_number(sample) for sample in figure.samples)
    load = f"  (load {figure.extra['load_1m']})" if "load_1m" in figure.extra else ""
    return f"{figure.label:<58} {_number(figure.value):>10}  {figure.unit:<8} {runs}{load}"


def _number(value: float) -> str:
    if not math.isfinite(value):
        return "timed out"
    return f"{value:,.1f}" if abs(value) < 1000 else f"{value:,.0f}"  # noqa: PLR2004 -- display


def _figure_json(figure: Figure) -> dict[str, Any]:
    return {
        "key": figure.key,
        "label": figure.label,
        "unit": figure.unit,
        "median": _finite(figure.value),
        "runs": [_finite(sample) for sample in figure.samples],
        "spread": _spread(figure.samples),
        "not_run": figure.not_run,
        **({"extra": figure.extra} if figure.extra else {}),
    }


def _spread(samples: tuple[float, ...]) -> float | None:
    """Largest minus smallest run, the run-to-run spread behind the median."""
    finite = [sample for sample in samples if math.isfinite(sample)]
    if len(finite) != len(samples) or len(finite) < 2:  # noqa: PLR2004 -- a spread needs two
        return None
    return round(max(finite) - min(finite), 3)


def _finite(value: float | None) -> float | None:
    """JSON has no infinity: a run with no answers is written as null."""
    if value is None or not math.isfinite(value):
        return None
    return round(value, 3)
