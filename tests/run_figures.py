"""Figures a test run measures (start-up times, sizes, counts), which closing notes quote.

Any test or fixture records one with :func:`record`; the root conftest prints them all
at the end of the run, one line each, prefixed by the area that measured it.
"""

from __future__ import annotations

FIGURES: dict[str, str] = {}


def record(area: str, name: str, value: object) -> None:
    """Keep one figure for the end-of-run summary (a later value of the same name wins)."""
    FIGURES[f"{area}: {name}"] = str(value)
