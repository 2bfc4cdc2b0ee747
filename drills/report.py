"""The drills' table: one console row per drill as it finishes, and ``docs/reliability.md``.

The document is regenerated whole by ``make drills``, so everything it explains (what
each drill does, how each column is measured) is written here, next to the code that
measures it.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

    from drills.provenance import Provenance
    from drills.runner import DrillOutcome
    from drills.settings import DrillSettings

COLUMNS = (
    "drill",
    "requested",
    "mailed",
    "duplicates",
    "lost",
    "max lag s",
    "time to recover s",
)
WIDTHS = (40, 9, 6, 10, 4, 9, 17)

DRILL_TEXT = {
    1: "The Kafka broker is SIGKILLed and started again on the same data and ports "
    "`broker_outage_seconds` later. movies keeps accepting codes into its outbox.",
    2: "The SMTP sink closes its port (connections refused) for `smtp_outage_seconds`. "
    "The mailer retries with backoff; records keep their in-flight slots.",
    3: "Two mailer replicas share the group; one is SIGKILLed mid-burst and not restarted. "
    "The other takes its partitions once the group notices (session timeout).",
    4: "Two movies replicas share one database. Replica B gets all the traffic but cannot "
    "reach the broker, so every row it commits waits in the outbox; replica A's fallback "
    "poll is an hour and it does not LISTEN for B's commits (`OUTBOX_LISTEN=false`), so it "
    "leaves them there. B is SIGKILLed with those rows committed "
    "and unpublished; traffic moves to A, whose relay publishes them; B is restarted "
    "with the right broker `movies_restart_after_seconds` later. The outbox must drain "
    "to zero.",
    5: "Two movies replicas; PostgreSQL is stopped (fast shutdown) and started again "
    "`postgres_outage_seconds` later. The API must answer 503 meanwhile (those requests "
    "were refused, not lost, and are not counted as requested) and recover without a "
    "restart of its own.",
    6: "Two mailer replicas are SIGTERMed and started again one at a time, each waiting "
    "until the restarted one has partitions again. Every exit must be status 0.",
    7: "The sink answers every recipient `slow_smtp_reply_seconds` late for "
    "`slow_smtp_window_seconds`. The in-flight bound must hold (`mailer_inflight_messages` "
    "never above `MAILER_MAX_INFLIGHT`), the mailer's RSS must stay within 64 MiB of its "
    "start, and the lag must grow, then drain.",
    8: "On the three-node cluster (every node broker and controller, replication factor 3, "
    "`min.insync.replicas=2` for every topic, `__consumer_offsets` included), two mailers "
    "share the group. The leader of the drill topic's busiest partition is SIGKILLed; the "
    "controller fences it and moves its leaderships to in-sync replicas. It is started "
    "again `broker_outage_seconds` after the kill; the fault ends when it has rejoined "
    "every ISR.",
    9: "As drill 8, then the partition's new leader is SIGKILLed too: one replica is left. "
    "With two of three nodes gone the controller quorum is gone as well, so no write can "
    "be acknowledged by two in-sync replicas: the outbox relay's `acks=all` publishes and "
    "the mailer's commits fail or wait, and the outbox backlog must grow (never a dropped "
    "row). After `single_replica_seconds` the second node returns (quorum and two in-sync "
    "replicas again), then the first. The window is the one-replica time.",
    10: "The three nodes are SIGTERMed (controlled shutdown) and started again one at a "
    "time; each must have rejoined every ISR before the next one stops, as an operator "
    "upgrading the cluster would do it.",
}

MEASURES = """\
- **requested**: requests answered `202` (each to an address of its own). Requests the API
  refused (`503`, a dropped connection) are listed under *not accepted*, not here.
- **mailed**: requested addresses that received a mail whose code matches a hash movies
  stored for that address (`otp_codes`, checked with `movies.auth.otp.code_matches`).
- **duplicates**: matching mails beyond the first, summed over the requested addresses.
- **lost**: requested addresses with no matching mail once the system settled (every
  accepted address has mail and the sink has been quiet for `quiet_seconds`, or
  `settle_timeout_seconds` passed).
- **max lag s**: the largest `mailer_consumer_lag_seconds` any mailer exported, scraped
  every `sample_interval_seconds` (`MAILER_LAG_INTERVAL_SECONDS=1`).
- **time to recover s**: from the end of the fault (for a kill, the kill itself) until
  the last *late* code was mailed, a late code being one that waited more than 2 s
  between its `202` and its arrival at the sink. Measured end to end, so it covers the
  outbox, Kafka and SMTP stages, and a dead mailer (which exports no lag) cannot hide
  its orphaned partitions. The notes give the longest such wait.
- A drill **passes** when lost = 0, no mail carries a code that was never issued, the
  outbox drains to zero, duplicates stay within the bound below, and the drill's own
  rules hold. Duplicate bounds follow the README's delivery guarantee: a killed mailer
  may resend what it had in flight (`MAILER_MAX_INFLIGHT` per killed process), a
  rebalance may resend a partition's in-flight records, a relay that drops the
  connection before its `250` may get one resend per pooled connection
  (`SMTP_POOL_SIZE`); every other fault must cost no duplicate.
"""


def _seconds(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def cells(outcome: DrillOutcome) -> tuple[str, ...]:
    """Return the seven values of one row, as printed."""
    return (
        f"{outcome.number} {outcome.title}",
        str(outcome.requested),
        str(outcome.mailed),
        str(outcome.duplicates),
        str(outcome.lost),
        _seconds(outcome.max_lag_seconds),
        _seconds(outcome.recover_seconds),
    )


def console_header() -> str:
    """Return the column names, aligned like :func:`console_row`."""
    return _aligned(COLUMNS) + "  result"


def console_row(outcome: DrillOutcome) -> str:
    """One drill's row and its verdict, with the reasons it failed on following lines."""
    verdict = "passed" if outcome.passed else "FAILED"
    lines = [f"{_aligned(cells(outcome))}  {verdict}"]
    lines += [f"    - {reason}" for reason in outcome.failures]
    return "\n".join(lines)


def _aligned(values: Sequence[str]) -> str:
    first, *rest = values
    return "  ".join(
        [first.ljust(WIDTHS[0])] + [v.rjust(w) for v, w in zip(rest, WIDTHS[1:], strict=True)]
    )


def summary_line(outcomes: Sequence[DrillOutcome]) -> str:
    """``N passed, M failed``: the last line ``make drills`` prints."""
    passed = sum(outcome.passed for outcome in outcomes)
    return f"{passed} passed, {len(outcomes) - passed} failed"


def markdown_table(outcomes: Sequence[DrillOutcome]) -> str:
    """Render the results as a Markdown table, one row per drill plus its verdict."""
    lines = [
        "| " + " | ".join((*COLUMNS, "result")) + " |",
        "|" + "---|" * (len(COLUMNS) + 1),
    ]
    for outcome in outcomes:
        verdict = "passed" if outcome.passed else "**failed**"
        lines.append("| " + " | ".join((*cells(outcome), verdict)) + " |")
    return "\n".join(lines)


def _details(outcomes: Sequence[DrillOutcome]) -> list[str]:
    lines = []
    for outcome in outcomes:
        lines += ["", f"### {outcome.number}. {outcome.title}", "", DRILL_TEXT[outcome.number], ""]
        lines += [f"- {name}: {value}" for name, value in outcome.notes.items()]
        lines += [f"- **failed**: {reason}" for reason in outcome.failures]
    return lines


def _settings_lines(settings: DrillSettings) -> list[str]:
    values = asdict(settings)
    values.pop("telemetry", None)
    values.pop("workdir", None)
    return [", ".join(f"`{name}={value}`" for name, value in values.items())]


def markdown(
    outcomes: Sequence[DrillOutcome], provenance: Provenance, settings: DrillSettings
) -> str:
    """Render the whole of ``docs/reliability.md``."""
    lines = [
        "# Reliability drills",
        "",
        "Generated by `make drills` (`python -m drills`); do not edit by hand. Each drill runs",
        "real processes (a Kafka broker, or for drills 8 to 10 a three-node Kafka cluster,",
        "PostgreSQL, movies, mailer, an SMTP sink), drives steady sign-in traffic, injects one",
        "fault, then matches every code the API accepted against the mails received.",
        "",
        *provenance.markdown_lines(),
        "",
        markdown_table(outcomes),
        "",
        summary_line(outcomes),
        "",
        "## How each column is measured",
        "",
        MEASURES.rstrip(),
        "",
        "## The drills, and what each one noticed",
        *_details(outcomes),
        "",
        "## Settings of this run",
        "",
        *_settings_lines(settings),
        "",
    ]
    return "\n".join(lines)
