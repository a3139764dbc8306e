"""Span helpers shared by the gateway and its connectors (adapters cannot import the gateway, the other way
round is allowed: one definition here serves both)."""

from __future__ import annotations

import contextlib
from contextlib import AbstractContextManager
from contextvars import Token
from typing import Any

from opentelemetry import context, propagate
from opentelemetry.context import Context
from opentelemetry.trace import (
    Span,
    SpanKind,
    Status,
    StatusCode,
    Tracer,
    get_current_span,
    set_span_in_context,
)
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
    span = tracer.start_span(name, kind=kind, attributes=attributes)
    return _Current(span, record_exception, set_status_on_exception)


class _Current:
    """``use_span(span, end_on_exit=True)``, as ``start_as_current_span`` enters it, in a plain class: the two
    nested generator-based context managers it takes cost about a third of a sampled span (~5 of 19 us)."""

    __slots__ = ("_record", "_set_status", "_span", "_token")

    def __init__(self, span: Span, record_exception: bool, set_status_on_exception: bool) -> None:
        self._span = span
        self._record = record_exception
        self._set_status = set_status_on_exception
        self._token: Token[Context] | None = None

    def __enter__(self) -> Span:
        self._token = context.attach(set_span_in_context(self._span))
        return self._span

    def __exit__(self, kind: object, error: BaseException | None, traceback: object) -> None:
        span = self._span
        try:
            if self._token is not None:
                context.detach(self._token)
            # as use_span: errors (``Exception``) only, not exits such as cancellation
            if isinstance(error, Exception) and span.is_recording():
                if self._record:
                    span.record_exception(error)
                if self._set_status:
                    span.set_status(Status(StatusCode.ERROR, f"{type(error).__name__}: {error}"))
        finally:
            span.end()


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
