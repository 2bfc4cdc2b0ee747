"""Issue 8's reduced drill set: one broker and one PostgreSQL of the drills' own per module.

The drills kill their broker, so they never share the session broker of the integration
tests; the figures they measured are printed at the end of the run.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import pytest

from drills.infrastructure import Infrastructure
from drills.report import console_header
from drills.settings import DrillSettings

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

REDUCED_ROWS: list[str] = []


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print the rows of the reduced drills, as ``make drills`` prints its own."""
    if REDUCED_ROWS:
        terminalreporter.write_line(f"drills (reduced set):\n{console_header()}")
        for row in REDUCED_ROWS:
            terminalreporter.write_line(row)


@pytest.fixture(scope="session")
def reduced_rows() -> list[str]:
    """Where each drill leaves its printed row for the terminal summary."""
    return REDUCED_ROWS


@pytest.fixture(scope="module")
def drill_settings(tmp_path_factory: pytest.TempPathFactory) -> DrillSettings:
    """Fewer messages and shorter faults than ``make drills``, same drills."""
    return replace(
        DrillSettings(workdir=tmp_path_factory.mktemp("drills")),
        rate_per_second=10.0,
        duration_seconds=20.0,
        fault_at_seconds=5.0,
        smtp_outage_seconds=10.0,
        settle_timeout_seconds=150.0,
        quiet_seconds=3.0,
    )


@pytest.fixture(scope="module")
async def drill_infra(drill_settings: DrillSettings) -> AsyncIterator[Infrastructure]:
    infra = Infrastructure(drill_settings.workdir)
    await infra.start()
    yield infra
    await infra.stop()
