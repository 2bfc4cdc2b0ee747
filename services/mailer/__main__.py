"""``python -m mailer``: run the mail consumer until SIGTERM or SIGINT.

The consumer runs on uvloop: its transports, timers and TLS are in C, which took 40%
off the CPU of aiosmtplib's send path (616 to 372 µs a mail, see docs/performance.md);
the mailer is CPU-bound long before the relay is.

``python -m mailer dlq replay [--since ISO] [--reason R] [--dry-run]`` republishes
dead letters to the main topic instead.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from typing import TYPE_CHECKING

import structlog
import uvloop

from envsettings import SettingsError
from mailer.consumer import MailConsumer
from mailer.dlq_replay import parse_replay_args, replay_dead_letters
from mailer.helper_tasks import HelperTaskDiedError
from mailer.settings import MailerSettings, get_settings
from mailer.side_server import SideServer
from telemetry import configure_logging
from telemetry.tracing import shutdown_tracing, start_tracing

if TYPE_CHECKING:
    from collections.abc import Sequence

log = structlog.get_logger(__name__)


async def serve(settings: MailerSettings) -> None:
    """Run the consumer and the side server until a signal asks to stop."""
    consumer = MailConsumer(settings)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, consumer.stopping.set)
    side = SideServer(settings.http_host, settings.http_port, consumer.readiness.verdict)
    await side.start()
    try:
        await consumer.run()
    finally:
        await side.stop()


def main(argv: Sequence[str] | None = None) -> None:
    """Validate the settings, set up telemetry, then consume (or replay dead letters)."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        settings = get_settings()
    except SettingsError as exc:
        sys.stderr.write(f"mailer: configuration error: {exc}\n")
        raise SystemExit(2) from None
    configure_logging("mailer", level=settings.logs.level, fmt=settings.logs.fmt)
    if args[:2] == ["dlq", "replay"]:
        request = parse_replay_args(args[2:])
        report = asyncio.run(replay_dead_letters(settings, request))
        print(report.summary())  # noqa: T201 -- the command's answer
        return
    if args:
        sys.stderr.write(
            "usage: python -m mailer [dlq replay [--since ISO] [--reason R] [--dry-run]]\n"
        )
        raise SystemExit(2)
    provider = start_tracing("mailer", settings.kafka.bootstrap_servers)
    try:
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            runner.run(serve(settings))
    except HelperTaskDiedError as exc:
        # Logged with its traceback when it died; a non-zero exit gets the pod restarted.
        log.error("mailer stopped after a failure", reason=str(exc))  # noqa: TRY400 -- see above
        raise SystemExit(1) from None
    finally:
        shutdown_tracing(provider)


if __name__ == "__main__":
    main()
