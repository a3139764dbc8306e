"""``inject_current``: the headers ``opentelemetry.propagate.inject`` would set, made once per context."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry import propagate
from opentelemetry.propagators.textmap import TextMapPropagator
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ALWAYS_ON, ParentBased
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from adapters.tracing import child_span, inject_current


class CountingPropagator(TraceContextTextMapPropagator):
    """W3C trace context, counting its injections."""

    def __init__(self) -> None:
        self.injections = 0

    def inject(self, carrier: Any, context: Any = None, setter: Any = None) -> None:
        self.injections += 1
        if setter is None:
            super().inject(carrier, context)
        else:
            super().inject(carrier, context, setter)


@pytest.fixture
def counting() -> Iterator[CountingPropagator]:
    before = propagate.get_global_textmap()
    propagator = CountingPropagator()
    propagate.set_global_textmap(propagator)
    try:
        yield propagator
    finally:
        propagate.set_global_textmap(before)


def _expected() -> dict[str, str]:
    headers: dict[str, str] = {}
    propagate.inject(headers)
    return headers


async def test_the_calls_of_a_sampled_out_request_share_one_injection(counting: CountingPropagator) -> None:
    tracer = TracerProvider(sampler=ParentBased(ALWAYS_OFF)).get_tracer("t")
    with tracer.start_as_current_span("request") as request:
        expected = _expected()
        trace_id = f"{request.get_span_context().trace_id:032x}"
        assert expected["traceparent"].startswith(f"00-{trace_id}-")
        counting.injections = 0

        async def call() -> dict[str, str]:
            headers = {"Accept": "application/json"}
            with child_span(tracer, "GET /persons"):
                inject_current(headers)
            return headers

        sent = await asyncio.gather(*(asyncio.create_task(call()) for _ in range(5)))
    assert sent == [{"Accept": "application/json", **expected}] * 5
    assert counting.injections == 1


def test_each_recorded_call_carries_its_own_span(counting: CountingPropagator) -> None:
    tracer = TracerProvider(sampler=ParentBased(ALWAYS_ON)).get_tracer("t")
    parents = []
    with tracer.start_as_current_span("request"):
        for _ in range(3):
            with child_span(tracer, "GET /persons") as span:
                headers: dict[str, str] = {}
                inject_current(headers)
                assert headers == _expected()
                parents.append(headers["traceparent"].split("-")[2])
                assert parents[-1] == f"{span.get_span_context().span_id:016x}"
    assert len(set(parents)) == 3


def test_another_propagator_is_used_at_once(counting: CountingPropagator) -> None:
    tracer = TracerProvider(sampler=ParentBased(ALWAYS_OFF)).get_tracer("t")
    with tracer.start_as_current_span("request"):
        first: dict[str, str] = {}
        inject_current(first)
        assert "traceparent" in first

        class Nothing(TextMapPropagator):
            def extract(self, carrier: Any, context: Any = None, getter: Any = None) -> Any:
                return context

            def inject(self, carrier: Any, context: Any = None, setter: Any = None) -> None:
                return None

            @property
            def fields(self) -> set[str]:
                return set()

        propagate.set_global_textmap(Nothing())
        second: dict[str, str] = {}
        inject_current(second)
        assert second == {}
