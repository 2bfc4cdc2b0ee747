"""Issue 8: drills 1, 2 and 3 with fewer messages, inside ``make test``.

Each runs on real processes exactly as in ``make drills`` (broker SIGKILLed and
restarted 10 s later, SMTP down, a mailer SIGKILLed mid-burst) and must lose nothing
and keep duplicates within the README's bounds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from drills.report import console_row
from drills.runner import run_drill
from drills.scenarios import select

if TYPE_CHECKING:
    from drills.infrastructure import Infrastructure
    from drills.settings import DrillSettings

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    "number",
    [
        pytest.param(1, id="broker-killed"),
        pytest.param(2, id="smtp-down"),
        pytest.param(3, id="mailer-killed"),
    ],
)
async def test_drill_loses_no_code(
    number: int,
    drill_infra: Infrastructure,
    drill_settings: DrillSettings,
    reduced_rows: list[str],
) -> None:
    [drill] = select({number})
    outcome = await run_drill(drill, drill_infra, drill_settings)
    reduced_rows.append(console_row(outcome))
    notes = "\n".join(f"  {name}: {value}" for name, value in outcome.notes.items())
    assert outcome.passed, f"{console_row(outcome)}\n{notes}\nlogs: {drill_settings.workdir}"
    assert outcome.requested == outcome.mailed > 0
