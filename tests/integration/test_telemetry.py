"""Traces: a server span per request named by route template, a client span per query, W3C propagation."""

from __future__ import annotations

import io
import json
import logging

from litestar.testing import AsyncTestClient
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from gateway.logs import JsonFormatter
from gateway.telemetry import configure_telemetry


async def test_server_span_uses_route_template_and_parents_db_spans(
    member_client: AsyncTestClient[object], spans: InMemorySpanExporter
) -> None:
    spans.clear()
    response = await member_client.get("/v1/members/uni-avalon.ac.uk")
    assert response.status_code == 200
    finished = spans.get_finished_spans()
    server = [s for s in finished if s.kind == SpanKind.SERVER]
    assert [s.name for s in server] == ["GET /v1/members/{member_id}"]
    attrs = server[0].attributes or {}
    assert attrs["http.route"] == "/v1/members/{member_id}"
    assert attrs["http.response.status_code"] == 200
    db = [s for s in finished if s.kind == SpanKind.CLIENT]
    assert db, "a query span is expected"
    assert all(s.parent is not None and s.parent.span_id == server[0].context.span_id for s in db)
    assert (db[0].attributes or {})["db.system.name"] == "postgresql"
    # The raw path (with the member id) never names a span.
    assert not any("uni-avalon" in s.name for s in finished)


async def test_incoming_traceparent_is_continued(
    client: AsyncTestClient[object], spans: InMemorySpanExporter
) -> None:
    spans.clear()
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    await client.get("/healthz", headers={"traceparent": f"00-{trace_id}-00f067aa0ba902b7-01"})
    (server,) = [s for s in spans.get_finished_spans() if s.kind == SpanKind.SERVER]
    assert format(server.context.trace_id, "032x") == trace_id
    assert server.parent is not None
    assert format(server.parent.span_id, "016x") == "00f067aa0ba902b7"


async def test_problem_carries_the_trace_id(
    member_client: AsyncTestClient[object], spans: InMemorySpanExporter
) -> None:
    spans.clear()
    response = await member_client.get("/v1/members/nowhere.example")
    (server,) = [s for s in spans.get_finished_spans() if s.kind == SpanKind.SERVER]
    assert response.json()["trace_id"] == format(server.context.trace_id, "032x")
    assert (server.attributes or {})["http.response.status_code"] == 404


def test_without_an_exporter_nothing_is_recorded() -> None:
    telemetry = configure_telemetry(env={})
    with telemetry.tracer.start_as_current_span("x") as span:
        assert not span.is_recording()
        assert span.get_span_context().is_valid  # trace ids still exist for logs


def test_json_logs_carry_trace_and_span_ids() -> None:
    telemetry = configure_telemetry(env={"OTEL_TRACES_SAMPLER": "always_on"})
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("test.telemetry")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        with telemetry.tracer.start_as_current_span("work") as span:
            logger.info("did work", extra={"member": "uni-a.ac.uk"})
    finally:
        logger.removeHandler(handler)
    entry = json.loads(stream.getvalue())
    assert entry["message"] == "did work"
    assert entry["member"] == "uni-a.ac.uk"
    assert entry["trace_id"] == format(span.get_span_context().trace_id, "032x")
    assert entry["span_id"] == format(span.get_span_context().span_id, "016x")
