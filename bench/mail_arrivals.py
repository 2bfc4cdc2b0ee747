"""``python -m bench.mail_arrivals``: devstack's SMTP sink as a process of its own, for B3.

It stores each mail as ``<arrival time in ns>-<n>.eml``, which is the SMTP accept
time B3 needs; running it apart keeps the benchmark's own threads from delaying it.
Reads ``BENCH_SINK_PORT`` and ``BENCH_SINK_DIR``; stops on SIGTERM.
"""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

from devstack.smtp_sink import MailSink


def serve() -> None:
    """Accept mails until SIGTERM."""
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    sink = MailSink(Path(os.environ["BENCH_SINK_DIR"]), int(os.environ["BENCH_SINK_PORT"]))
    sink.start()
    print("smtp sink listening", flush=True)  # noqa: T201 -- the readiness line the bench waits for
    try:
        stopped.wait()
    finally:
        sink.stop()


if __name__ == "__main__":
    serve()
