"""``sampled_out``: which current span lets a child be skipped; ``child_span`` skips it."""

from __future__ import annotations

import asyncio

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ALWAYS_ON, ParentBased
from opentelemetry.trace import SpanKind, StatusCode, get_current_span, use_span

from adapters.tracing import child_span, sampled_out


def test_no_current_span_means_a_span_must_be_started() -> None:
    assert sampled_out() is None


def test_a_recorded_trace_gets_children() -> None:
    tracer = TracerProvider(sampler=ParentBased(ALWAYS_ON)).get_tracer("t")
    with tracer.start_as_current_span("request") as span:
        assert span.is_recording()
        assert sampled_out() is None


def test_a_sampled_out_trace_hands_back_its_current_span() -> None:
    tracer = TracerProvider(sampler=ParentBased(ALWAYS_OFF)).get_tracer("t")
    with tracer.start_as_current_span("request") as span:
        assert not span.is_recording()
        assert span.get_span_context().is_valid
        assert sampled_out() is span
        # What a child would have been: not recorded either (the decision is the parent's).
        with tracer.start_as_current_span("child") as child:
            assert not child.is_recording()
    with use_span(span, end_on_exit=False):
        assert sampled_out() is span


def test_child_span_is_the_current_span_under_a_sampled_out_trace() -> None:
    tracer = TracerProvider(sampler=ParentBased(ALWAYS_OFF)).get_tracer("t")
    with tracer.start_as_current_span("request") as request, child_span(tracer, "call") as child:
        assert child is request


def test_child_span_is_a_new_recorded_span_under_a_recorded_trace() -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider(sampler=ParentBased(ALWAYS_ON))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("t")
    with (
        tracer.start_as_current_span("request") as request,
        child_span(tracer, "call", kind=SpanKind.CLIENT, attributes={"member": "m"}) as child,
    ):
        assert child is not request
        assert child.is_recording()
    (call,) = [s for s in exporter.get_finished_spans() if s.name == "call"]
    assert call.kind == SpanKind.CLIENT
    assert call.attributes == {"member": "m"}
    assert call.parent is not None
    assert call.parent.span_id == request.get_span_context().span_id


def _finished_call(
    opener: str, error: BaseException, record_exception: bool, set_status: bool
) -> tuple[object, object, list[tuple[str, object]]]:
    """The span ``call`` as ``opener`` leaves it when ``error`` escapes it: status, description, events."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider(sampler=ParentBased(ALWAYS_ON))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("t")
    options = {"record_exception": record_exception, "set_status_on_exception": set_status}
    with tracer.start_as_current_span("request") as request:
        opened = (
            child_span(tracer, "call", **options)
            if opener == "child_span"
            else tracer.start_as_current_span("call", **options)
        )
        with pytest.raises(type(error)) as escaped, opened:
            raise error
        assert escaped.value is error
        assert get_current_span() is request  # the context is given back
    (call,) = [s for s in exporter.get_finished_spans() if s.name == "call"]
    events = [(e.name, (e.attributes or {}).get("exception.type")) for e in call.events]
    return call.status.status_code, call.status.description, events


@pytest.mark.parametrize("error", [ValueError("bad member"), asyncio.CancelledError(), KeyboardInterrupt()])
@pytest.mark.parametrize(("record_exception", "set_status"), [(True, True), (False, True), (True, False)])
def test_child_span_ends_on_an_error_as_start_as_current_span_does(
    error: BaseException, record_exception: bool, set_status: bool
) -> None:
    """``child_span`` opens its span without the SDK's context managers; what an escaping exception leaves on
    the span (status, exception event; none for cancellation) must be what the SDK's would leave."""
    ours = _finished_call("child_span", error, record_exception, set_status)
    assert ours == _finished_call("sdk", error, record_exception, set_status)
    assert (ours[0] == StatusCode.ERROR) == (isinstance(error, Exception) and set_status)
