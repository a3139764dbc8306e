"""The production sampler: a budget of new traces per second per process, parent-based.

A ratio sampler's cost grows with load: at 10 % a sampled lookup cost about 2 ms of CPU here among
unsampled ones (its code is cold), so tracing took 15-20 % of a worker's throughput at 1,200 lookups/s
(docs/benchmarks.md). A rate limit keeps trace volume and tracing cost bounded whatever the load, which is
when capacity matters; at low load it still samples most requests. Jaeger's ``ratelimiting`` sampler and
AWS X-Ray's reservoir work the same way.

``parentbased_ratelimiting`` (``OTEL_TRACES_SAMPLER``; ``OTEL_TRACES_SAMPLER_ARG`` is the traces a second,
default 10) is registered as an OpenTelemetry sampler entry point and is what ``configure_telemetry`` uses
when an exporter is configured and no sampler is named. A caller's sampled ``traceparent`` is followed
while the budget lasts: the same budget, so callers cannot make the gateway trace every request.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Sequence

from opentelemetry.context import Context
from opentelemetry.sdk.trace.sampling import (
    ALWAYS_OFF,
    ALWAYS_ON,
    Decision,
    ParentBased,
    Sampler,
    SamplingResult,
)
from opentelemetry.trace import Link, SpanKind, get_current_span
from opentelemetry.trace.span import TraceState
from opentelemetry.util.types import Attributes

__all__ = ["DEFAULT_TRACES_PER_SECOND", "RateLimitingSampler", "parentbased_ratelimiting"]

log = logging.getLogger(__name__)

DEFAULT_TRACES_PER_SECOND = 10.0
# A refill is computed from a difference of clock readings, which can fall a rounding error short of a
# whole trace (0.1 s at 10/s giving 0.9999999999999).
_WHOLE = 1.0 - 1e-9


class RateLimitingSampler(Sampler):
    """Samples at most ``per_second`` traces a second (a token bucket holding one second's worth, at least
    one), dropping the rest. Safe to share between threads."""

    def __init__(self, per_second: float, clock: Callable[[], float] = time.monotonic) -> None:
        if not math.isfinite(per_second) or per_second < 0:
            raise ValueError(f"traces per second must be a finite number >= 0, not {per_second}")
        self._rate = per_second
        self._capacity = max(per_second, 1.0) if per_second > 0 else 0.0
        self._tokens = self._capacity
        self._clock = clock
        self._last = clock()
        self._lock = threading.Lock()

    def _take(self) -> bool:
        with self._lock:
            now = self._clock()
            self._tokens = min(self._capacity, self._tokens + (now - self._last) * self._rate)
            self._last = now
            if self._tokens >= _WHOLE:
                self._tokens -= 1.0
                return True
            return False

    def should_sample(
        self,
        parent_context: Context | None,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: Attributes = None,
        links: Sequence[Link] | None = None,
        trace_state: TraceState | None = None,
    ) -> SamplingResult:
        parent = get_current_span(parent_context).get_span_context()
        state = parent.trace_state if parent.is_valid else None
        if self._take():
            return SamplingResult(Decision.RECORD_AND_SAMPLE, attributes, state)
        return SamplingResult(Decision.DROP, None, state)

    def get_description(self) -> str:
        return f"RateLimitingSampler{{{self._rate:g}/s}}"


def parentbased_ratelimiting(arg: str | None = None) -> Sampler:
    """The sampler named ``parentbased_ratelimiting``: new traces and callers' sampled traces share one
    budget of ``arg`` traces a second; a span with a local parent follows its parent."""
    try:
        budget = RateLimitingSampler(float(arg) if arg else DEFAULT_TRACES_PER_SECOND)
    except ValueError:
        log.warning(
            "OTEL_TRACES_SAMPLER_ARG %r is not a number of traces per second >= 0; using %g",
            arg,
            DEFAULT_TRACES_PER_SECOND,
        )
        budget = RateLimitingSampler(DEFAULT_TRACES_PER_SECOND)
    return ParentBased(
        root=budget,
        remote_parent_sampled=budget,
        remote_parent_not_sampled=ALWAYS_OFF,
        local_parent_sampled=ALWAYS_ON,
        local_parent_not_sampled=ALWAYS_OFF,
    )
