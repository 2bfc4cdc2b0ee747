"""One JSON object per line on stdout, for structlog and stdlib loggers alike."""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any, TextIO

import structlog
from opentelemetry import trace

from telemetry.redaction import redact_event

LOG_FORMATS = frozenset({"json", "console"})
# Chatty below WARNING, and SQLAlchemy's INFO lines carry bound parameters (addresses).
_QUIET_LOGGERS = ("sqlalchemy", "aiosmtplib", "mail.log")


def configure_logging(
    service: str,
    *,
    level: str = "INFO",
    fmt: str = "json",
    stream: TextIO | None = None,
) -> None:
    """Route structlog and every stdlib logger through one renderer.

    Called once at process start; uvicorn, aiokafka and SQLAlchemy then emit the same
    JSON shape as our own events, with the trace ids of the span they run in.
    """
    if fmt not in LOG_FORMATS:
        msg = f"unknown log format {fmt!r}; use json or console"
        raise ValueError(msg)
    shared = _shared_processors(service)
    renderer = _renderer(fmt)
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        ),
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in _QUIET_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )


def _shared_processors(service: str) -> list[structlog.typing.Processor]:
    def add_service(
        _logger: object,
        _method: str,
        event_dict: MutableMapping[str, Any],
    ) -> MutableMapping[str, Any]:
        event_dict.setdefault("service", service)
        return event_dict

    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.PositionalArgumentsFormatter(),
        structlog.processors.TimeStamper(fmt="iso", utc=True, key="timestamp"),
        add_service,
        add_trace_context,
        redact_event,
        structlog.processors.StackInfoRenderer(),
        structlog.processors.format_exc_info,
        structlog.processors.UnicodeDecoder(),
    ]


def add_trace_context(
    _logger: object,
    _method: str,
    event_dict: MutableMapping[str, Any],
) -> MutableMapping[str, Any]:
    """Stamp the current span's ids so a log line leads to its trace."""
    context = trace.get_current_span().get_span_context()
    if context.is_valid:
        event_dict["trace_id"] = format(context.trace_id, "032x")
        event_dict["span_id"] = format(context.span_id, "016x")
    return event_dict


def _renderer(fmt: str) -> structlog.typing.Processor:
    if fmt == "console":
        return structlog.dev.ConsoleRenderer(colors=False)
    return structlog.processors.JSONRenderer(ensure_ascii=False)
