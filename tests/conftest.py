"""Hooks for every test package: the figures the run measured, printed at its end."""

from __future__ import annotations

from typing import TYPE_CHECKING

from run_figures import FIGURES

if TYPE_CHECKING:
    import pytest


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print every recorded figure (run_figures.record), which closing notes quote."""
    for name, value in FIGURES.items():
        terminalreporter.write_line(name + " = " + value)
