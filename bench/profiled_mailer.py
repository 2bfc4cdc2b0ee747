"""``python -m bench.profiled_mailer``: the real mailer under cProfile, for the closing note.

It runs ``mailer.__main__.main`` unchanged; SIGTERM stops it cleanly, and the profile
is written to ``BENCH_PROFILE_OUT`` on the way out. The clock is the main thread's CPU
time, so waiting on the network and being preempted by the broker do not show as cost
(the span exporter's thread is not in it: its share shows as telemetry on vs off).
"""

from __future__ import annotations

import cProfile
import os
import time

from mailer.__main__ import main


def profile_mailer() -> None:
    """Run the mailer to completion and dump its profile."""
    profiler = cProfile.Profile(time.thread_time)
    try:
        profiler.runcall(main, [])
    finally:
        profiler.dump_stats(os.environ.get("BENCH_PROFILE_OUT", "mailer.prof"))


if __name__ == "__main__":
    profile_mailer()
