"""``python -m drills``: run the reliability drills and print (and optionally write) the table.

The last line printed is ``N passed, M failed``; the exit status is 0 only when every
drill passed. ``--report docs/reliability.md`` rewrites the document with the table,
the date, the machine and the commit.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import shutil
import sys
from pathlib import Path

import structlog

from drills import provenance, report
from drills.report_sections import kept_sections
from drills.runner import DrillOutcome, run_suite
from drills.scenarios import select
from drills.settings import DrillSettings

DEFAULT_WORKDIR = Path(".run/drills")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m drills", description=__doc__)
    parser.add_argument("--rate", type=float, default=50.0, help="sign-in requests per second")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of traffic")
    parser.add_argument(
        "--fault-at", type=float, default=None, help="seconds into the traffic (default: 1/3)"
    )
    parser.add_argument("--drills", default="", help="comma-separated numbers (default: all)")
    parser.add_argument(
        "--settle-timeout", type=float, default=300.0, help="longest wait for the backlog"
    )
    parser.add_argument("--report", type=Path, default=None, help="write this Markdown file")
    parser.add_argument(
        "--workdir", type=Path, default=DEFAULT_WORKDIR, help="state and logs (emptied first)"
    )
    return parser


def _settings(args: argparse.Namespace) -> DrillSettings:
    fault_at = args.fault_at if args.fault_at is not None else args.duration / 3
    return DrillSettings(
        workdir=args.workdir.resolve(),
        rate_per_second=args.rate,
        duration_seconds=args.duration,
        fault_at_seconds=fault_at,
        settle_timeout_seconds=args.settle_timeout,
    )


def _numbers(raw: str) -> set[int] | None:
    return {int(item) for item in raw.split(",") if item.strip()} or None


def _print(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def _print_outcome(outcome: DrillOutcome) -> None:
    _print(report.console_row(outcome))


def main(argv: list[str] | None = None) -> None:
    """Run the chosen drills; exit 1 if any failed."""
    arguments = sys.argv[1:] if argv is None else argv
    args = _parser().parse_args(arguments)
    settings = _settings(args)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    # The harness's own clients meet killed brokers on purpose; the services' logs tell it.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    shutil.rmtree(settings.workdir, ignore_errors=True)
    settings.workdir.mkdir(parents=True)
    _print(report.console_header())
    outcomes = asyncio.run(run_suite(select(_numbers(args.drills)), settings, _print_outcome))
    if args.report is not None:
        origin = provenance.collect(" ".join(["python -m drills", *arguments]))
        kept = kept_sections(args.report.read_text()) if args.report.exists() else ""
        args.report.write_text(report.markdown(outcomes, origin, settings) + kept)
    _print(report.summary_line(outcomes))
    raise SystemExit(0 if all(outcome.passed for outcome in outcomes) else 1)


if __name__ == "__main__":
    main()
