"""``gateway.otlp.protobuf`` writes, for any spans, the bytes the OTLP exporter's own encoder writes.

The expected bytes come from the stock encoder (opentelemetry-exporter-otlp-proto-common, serialised by
protobuf), never from our code; spans are generated with every field the encoder reads, at the edges too
(empty strings, zero and negative numbers, ints at the int64 limits, nested values, dropped counts, remote
parents, trace state, several resources and scopes).
"""

from __future__ import annotations

import logging
import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry.attributes import BoundedAttributes
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans as stock_encode_spans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import Link, SpanContext, SpanKind, Status, StatusCode, TraceFlags, TraceState

from gateway.otlp.protobuf import SpanEncoder, encode_spans

INT64 = st.integers(min_value=-(2**63), max_value=2**63 - 1)
TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)
KEYS = st.text(st.characters(exclude_categories=("Cs",)), min_size=0, max_size=10)
FLOATS = st.floats(allow_nan=False)  # NaN is encoded alike, but not equal to itself in a comparison
SCALARS = st.one_of(TEXT, st.booleans(), INT64, FLOATS)
# The SDK keeps sequences of one type (tuples); the encoder also takes bytes and (extended) mappings.
VALUES = st.one_of(
    SCALARS,
    st.binary(max_size=8),
    st.lists(TEXT, max_size=3).map(tuple),
    st.lists(INT64, max_size=3).map(tuple),
    st.lists(st.booleans(), max_size=3).map(tuple),
    st.dictionaries(KEYS, SCALARS, max_size=3),
)
ATTRIBUTES = st.dictionaries(KEYS, VALUES, max_size=6)


@st.composite
def bounded(draw: st.DrawFn) -> BoundedAttributes:
    """Attributes as the SDK holds them; a small ``maxlen`` drops some, so dropped counts are exercised."""
    maxlen = draw(st.sampled_from([None, 2]))
    return BoundedAttributes(maxlen=maxlen, attributes=draw(ATTRIBUTES), extended_attributes=True)


@st.composite
def contexts(draw: st.DrawFn, remote: bool | None = None) -> SpanContext:
    states = [None, TraceState([("vendor", "a1")]), TraceState([("a", "1"), ("b", "x")])]
    state = draw(st.sampled_from(states))
    return SpanContext(
        trace_id=draw(st.integers(min_value=1, max_value=2**128 - 1)),
        span_id=draw(st.integers(min_value=1, max_value=2**64 - 1)),
        is_remote=draw(st.booleans()) if remote is None else remote,
        trace_flags=TraceFlags(draw(st.sampled_from([0, 1]))),
        trace_state=state,
    )


RESOURCES = [
    Resource.create({"service.name": "consortium-gateway"}),
    Resource({"service.name": "other", "deployment.environment": "test"}, schema_url="https://x.example/1.2"),
    Resource({}),
]
SCOPES = [
    InstrumentationScope("consortium-gateway"),
    InstrumentationScope("scoped", "1.0", "https://x.example/s", {"team": "core", "n": 3}),
    InstrumentationScope(""),
    None,
]


@st.composite
def spans(draw: st.DrawFn) -> ReadableSpan:
    start = draw(st.integers(min_value=0, max_value=2**64 - 1))
    events = draw(
        st.lists(
            st.builds(
                Event,
                name=TEXT,
                attributes=st.none() | bounded(),
                timestamp=st.integers(min_value=0, max_value=2**64 - 1),
            ),
            max_size=2,
        )
    )
    links = draw(st.lists(st.builds(Link, context=contexts(), attributes=st.none() | bounded()), max_size=2))
    code = draw(st.sampled_from(list(StatusCode)))
    description = draw(st.none() | TEXT) if code is StatusCode.ERROR else None
    return ReadableSpan(
        name=draw(TEXT),
        context=draw(contexts(remote=False)),
        parent=draw(st.none() | contexts()),
        resource=draw(st.sampled_from(RESOURCES)),
        attributes=draw(bounded()),
        events=events,
        links=links,
        kind=draw(st.sampled_from(list(SpanKind))),
        status=Status(code, description),
        start_time=start,
        end_time=draw(st.integers(min_value=start, max_value=2**64 - 1)),
        instrumentation_scope=draw(st.sampled_from(SCOPES)),
    )


def stock(batch: list[ReadableSpan]) -> bytes:
    encoded: bytes = stock_encode_spans(batch).SerializePartialToString()
    return encoded


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(spans(), min_size=1, max_size=6))
def test_any_batch_is_encoded_as_the_stock_encoder_encodes_it(batch: list[ReadableSpan]) -> None:
    assert encode_spans(batch) == stock(batch)


def test_kept_attribute_entries_do_not_change_the_bytes() -> None:
    """One encoder over many batches (as an exporter uses it): entries kept from earlier batches, including
    values equal across types (``1``, ``1.0``, ``True``), give the same bytes as a fresh encoding."""
    encoder = SpanEncoder()
    context = SpanContext(trace_id=7, span_id=9, is_remote=False)
    for value in (1, 1.0, True, "1", 1, True, 1.0):
        attributes = {"k": value, "member.id": "uni-a"}
        span = ReadableSpan("s", context, attributes=attributes, start_time=1, end_time=2)
        assert encoder.encode([span]) == stock([span])


def test_equal_resources_are_one_group_as_in_the_stock_encoder() -> None:
    context = SpanContext(trace_id=7, span_id=9, is_remote=False)
    batch = [
        ReadableSpan("a", context, resource=Resource({"service.name": "gw"}), start_time=1, end_time=2),
        ReadableSpan("b", context, resource=Resource({"service.name": "other"}), start_time=1, end_time=2),
        ReadableSpan("c", context, resource=Resource({"service.name": "gw"}), start_time=1, end_time=2),
    ]
    request = ExportTraceServiceRequest.FromString(encode_spans(batch))
    names = [[s.name for scope in r.scope_spans for s in scope.spans] for r in request.resource_spans]
    assert names == [["a", "c"], ["b"]]
    assert encode_spans(batch) == stock(batch)


@pytest.mark.parametrize("value", [2**63, -(2**63) - 1, object()])
def test_an_attribute_that_cannot_be_encoded_is_left_out_with_a_log_line(
    value: Any, caplog: pytest.LogCaptureFixture
) -> None:
    context = SpanContext(trace_id=7, span_id=9, is_remote=False)
    span = ReadableSpan("s", context, attributes={"bad": value, "good": "yes"}, start_time=1, end_time=2)
    with caplog.at_level(logging.WARNING, logger="gateway.otlp.protobuf"):
        request = ExportTraceServiceRequest.FromString(encode_spans([span]))
    (encoded,) = request.resource_spans[0].scope_spans[0].spans
    assert [(a.key, a.value.string_value) for a in encoded.attributes] == [("good", "yes")]
    assert "'bad'" in caplog.text


def test_special_floats_keep_their_bits() -> None:
    context = SpanContext(trace_id=7, span_id=9, is_remote=False)
    values = {"inf": math.inf, "-inf": -math.inf, "nan": math.nan, "-0": -0.0}
    span = ReadableSpan("s", context, attributes=values, start_time=1, end_time=2)
    assert encode_spans([span]) == stock([span])
