"""The benchmark harness, end to end with tiny counts: every figure must come out.

Nothing here asserts a speed; it proves that each path (both mailers over both
transports and through the 20 ms link, movies and the original endpoint on SQLite,
movies on PostgreSQL beside its floors, the end-to-end run, the profile) still runs, so
`make bench` cannot rot
between the times someone runs it.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from bench.plan import SMOKE
from bench.report import TARGETS, write_json
from bench.suite import run_suite

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module", autouse=True)
def _bench_tools() -> None:
    """smtp-sink and stunnel come from Debian packages `make test` does not install."""
    if not (shutil.which("smtp-sink", path="/usr/sbin:/usr/bin") and shutil.which("stunnel4")):
        subprocess.run([REPO / "scripts" / "install-bench-tools.sh"], check=True)


@pytest.mark.timeout(600)
def test_every_benchmark_path_produces_its_figures(tmp_path: Path) -> None:
    report = run_suite(SMOKE, tmp_path / "mailer.prof")

    not_measured = {figure.key: figure.not_run for figure in report.figures if figure.value is None}
    assert not not_measured
    keys = {figure.key for figure in report.figures}
    assert {target.figure_key for target in TARGETS} <= keys
    assert {"b1.plain.ratio", "b2.sqlite.300.p99_ratio", "b3.pg.p50_ms_at_50"} <= keys
    assert {
        "b6.tls.rtt20.on.pool4.mails_per_s",
        "b6.tls.rtt20.ratio10.mails_per_s",
        "b6.tls.rtt20.pipelining.ratio",
        "b6.tls.rtt20.link.rtt_ms",
        "b5.pg.on.p99_ms_at_1000",
        "b5.pg.off.2p.max_rate_p99_under_25ms",
        "b5.pg_durable.on.pg_cpu_ms_per_request",
        "b5.bare.on.spans_per_request",
        "b5.seed.pg.req_per_s",
        "b4.bare.tracing_cpu_ms",
    } <= keys
    assert report.profile, "the profiled mailer run left no profile"
    assert {"nproc", "cpu_model", "memory_gib"} <= report.machine.keys()

    write_json(report, tmp_path / "latest.json")
    written = json.loads((tmp_path / "latest.json").read_text())
    assert written["source"]["commit"]
    assert len(written["figures"]) == len(report.figures)
    print(f"\nbench smoke took {report.duration_s:.0f} s: {report.phase_seconds}")
