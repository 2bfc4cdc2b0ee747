"""``python -m bench [--smoke | --profile | --only b4|b5] [--runs N] [--output PATH]``.

The full run (``make bench``) takes about fifteen minutes and writes
``bench/results/latest.json`` and ``bench/results/mailer-profile.txt``; ``--smoke`` runs
every path with tiny counts in about a minute and writes to a temporary file;
``--profile`` only drains 2,000 mails under cProfile and rewrites the profile summary;
``--only b4`` runs only the tracing-cost figures (both halves of B4, a few minutes) and
writes ``bench/results/b4.json``; ``--only b5`` runs only movies on PostgreSQL (B5 and
B4's movies half) and writes ``bench/results/b5.json``. ``--runs`` sets how many
interleaved runs each figure is the median of.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

from bench.plan import FULL, SMOKE
from bench.report import render_table, write_json
from bench.suite import run_production_path, run_profile, run_suite, run_tracing_cost
from telemetry import configure_logging

RESULTS = Path(__file__).resolve().parent / "results"


def main(argv: list[str] | None = None) -> None:
    """Parse the arguments, run the suite, print and write the results."""
    parser = argparse.ArgumentParser(prog="bench", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="tiny counts: exercise every path")
    parser.add_argument("--profile", action="store_true", help="only the profiled mailer run")
    parser.add_argument("--only", choices=("b4", "b5"), help="run only these figures")
    parser.add_argument("--runs", type=int, help="interleaved runs per figure (plan's default: 3)")
    parser.add_argument("--output", type=Path, help="where to write the JSON results")
    args = parser.parse_args(argv)
    configure_logging("bench", level="warning", fmt="console", stream=sys.stderr)
    if args.profile:
        _profile_only()
        return
    plan = SMOKE if args.smoke else FULL
    if args.runs is not None:
        plan = replace(plan, runs=args.runs)
    if args.only is not None:
        run = run_tracing_cost if args.only == "b4" else run_production_path
        report = run(plan)
        write_json(report, args.output or RESULTS / f"{args.only}.json")
        sys.stdout.write(render_table(report) + "\n")
        return
    output = args.output or _default_output(smoke=args.smoke)
    with tempfile.TemporaryDirectory(prefix="reelmail-bench-profile-") as scratch:
        report = run_suite(plan, Path(scratch) / "mailer.prof")
    write_json(report, output)
    if not args.smoke:
        (RESULTS / "mailer-profile.txt").write_text("\n".join(report.profile) + "\n")
    sys.stdout.write(render_table(report) + f"\n\nresults: {output}\n")


def _profile_only() -> None:
    with tempfile.TemporaryDirectory(prefix="reelmail-bench-profile-") as scratch:
        lines = run_profile(FULL, Path(scratch) / "mailer.prof")
    (RESULTS / "mailer-profile.txt").write_text("\n".join(lines) + "\n")
    sys.stdout.write("\n".join(lines) + "\n")


def _default_output(*, smoke: bool) -> Path:
    """Choose the committed results file for a full run, a throw-away one for a smoke run."""
    if not smoke:
        return RESULTS / "latest.json"
    return Path(tempfile.mkdtemp(prefix="reelmail-bench-smoke-")) / "smoke.json"


if __name__ == "__main__":
    main()
