"""Span helpers shared by the gateway and its connectors (adapters cannot import the gateway, the other way
round is allowed: one definition here serves both)."""

from __future__ import annotations

import contextlib
from contextlib import AbstractContextManager
from typing import Any

from opentelemetry import context, propagate
from opentelemetry.trace import Span, SpanKind, Tracer, get_current_span
from opentelemetry.util.types import Attributes

__all__ = ["child_span", "inject_current", "sampled_out"]


def sampled_out() -> Span | None:
    """The current span if its trace is sampled out (a valid span that records nothing), else ``None``.

    Under such a span a child span would record nothing either: the samplers the SDK reads from
    ``OTEL_TRACES_SAMPLER`` are parent-based or decide by trace id, so a child gets its parent's decision.
    Starting one anyway costs a sampler call, ids and two context switches (~20 us); per member call and
    per query that was a tenth of a lookup. Callers use the current span instead: its context is what
    ``traceparent`` carries on (same trace id, not sampled). With no current span, a span must be started:
    that is where the sampling decision is made.
    """
    span = get_current_span()
    if span.is_recording() or not span.get_span_context().is_valid:
        return None
    return span


def child_span(
    tracer: Tracer,
    name: str,
    *,
    kind: SpanKind = SpanKind.INTERNAL,
    attributes: Attributes = None,
    record_exception: bool = True,
    set_status_on_exception: bool = True,
) -> AbstractContextManager[Span]:
    """A new current span, as ``tracer.start_as_current_span`` makes it; or, when the current trace is
    sampled out, the current span itself (``sampled_out``), since the new one would record nothing."""
    quiet = sampled_out()
    if quiet is not None:
        return contextlib.nullcontext(quiet)
    return tracer.start_as_current_span(
        name,
        kind=kind,
        attributes=attributes,
        record_exception=record_exception,
        set_status_on_exception=set_status_on_exception,
    )


# The propagation headers of the last context injected, with the context and propagator they were made
# from, in one tuple, replaced whole (a reader in another thread sees one injection's three, never a mix).
#
# The member calls of one sampled-out lookup all run in one context (``child_span`` starts no span of
# their own), so they carry the same headers: formatting them once instead of per call saved ~33k
# instructions a call. Contexts are immutable, and the one held here cannot be collected and its id
# reused, so the same object means the same headers (with the same propagator).
_last: tuple[Any, Any, dict[str, str]] = (None, None, {})


def inject_current(carrier: dict[str, str]) -> None:
    """``opentelemetry.propagate.inject(carrier)``, made once per context rather than once per call."""
    global _last
    current = context.get_current()
    propagator = propagate.get_global_textmap()
    last_context, last_propagator, headers = _last
    if current is not last_context or propagator is not last_propagator:
        headers = {}
        propagator.inject(headers, context=current)
        _last = (current, propagator, headers)
    carrier.update(headers)
