"""``python -m mailer``: run the mail consumer until SIGTERM or SIGINT."""

from __future__ import annotations

import asyncio
import signal
import sys

from envsettings import SettingsError
from mailer.consumer import MailConsumer
from mailer.settings import get_settings
from telemetry import configure_logging


async def _serve() -> None:
    consumer = MailConsumer(get_settings())
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, consumer.stopping.set)
    await consumer.run()


def main() -> None:
    """Validate the settings, configure logging, consume until told to stop."""
    try:
        settings = get_settings()
    except SettingsError as exc:
        sys.stderr.write(f"mailer: configuration error: {exc}\n")
        raise SystemExit(2) from None
    configure_logging("mailer", level=settings.log_level, fmt=settings.log_format)
    asyncio.run(_serve())


if __name__ == "__main__":
    main()
