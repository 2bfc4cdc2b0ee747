"""Trace-id exemplars, so a histogram bucket in Grafana links to a trace."""

from __future__ import annotations

from typing import TYPE_CHECKING

from opentelemetry import trace

if TYPE_CHECKING:
    from opentelemetry.trace import Span


def current_trace_exemplar() -> dict[str, str] | None:
    """``{"trace_id": <hex>}`` for the active, sampled span, else None."""
    return span_exemplar(trace.get_current_span())


def span_exemplar(span: Span) -> dict[str, str] | None:
    """``{"trace_id": <hex>}`` for ``span`` when it is sampled, else None.

    For a span already in hand, which saves looking the current one up again.
    """
    context = span.get_span_context()
    if not context.is_valid or not context.trace_flags.sampled:
        return None
    return {"trace_id": format(context.trace_id, "032x")}
