"""``sampled_out``: which current span lets a child be skipped."""

from __future__ import annotations

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ALWAYS_ON, ParentBased
from opentelemetry.trace import use_span

from adapters.tracing import sampled_out


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
