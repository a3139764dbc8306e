"""The gateway's OTLP exporter against a collector on loopback: what arrives, and the SDK's sending kept.

The collector is a real HTTP server that records each POST and answers from a script; the spans are the
SDK's, exported through ``configure_telemetry`` as the gateway exports them (batched, on shutdown).
"""

from __future__ import annotations

import gzip
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from gateway.otlp.exporter import GatewaySpanExporter
from gateway.telemetry import Telemetry, configure_telemetry


@dataclass
class Post:
    path: str
    headers: dict[str, str]
    body: bytes

    def request(self) -> ExportTraceServiceRequest:
        raw = gzip.decompress(self.body) if self.headers.get("content-encoding") == "gzip" else self.body
        return ExportTraceServiceRequest.FromString(raw)


@dataclass
class Collector:
    url: str
    posts: list[Post] = field(default_factory=list)
    # status codes to answer with, in turn; 200 once they run out
    script: list[int] = field(default_factory=list)


@pytest.fixture
def collector() -> Iterator[Collector]:
    sink = Collector(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            sink.posts.append(Post(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            status = sink.script.pop(0) if sink.script else 200
            self.send_response(status)
            if status == 503:
                self.send_header("Retry-After", "0")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    sink.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield sink
    finally:
        server.shutdown()
        server.server_close()


def exporting(collector: Collector, monkeypatch: pytest.MonkeyPatch, **env: str) -> Telemetry:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.url)
    monkeypatch.setenv("OTEL_TRACES_SAMPLER", "always_on")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return configure_telemetry()


def exporter_of(telemetry: Telemetry) -> GatewaySpanExporter:
    processors = telemetry.provider._active_span_processor._span_processors
    (batch,) = [p for p in processors if isinstance(p, BatchSpanProcessor)]
    exporter = batch._batch_processor._exporter
    assert isinstance(exporter, GatewaySpanExporter)
    return exporter


def make_spans(telemetry: Telemetry) -> tuple[int, int]:
    """A server span with a member-call child; their trace id and the child's span id."""
    tracer = telemetry.tracer
    with (
        tracer.start_as_current_span("GET /v1/learners/{ref}/credentials", kind=SpanKind.SERVER),
        tracer.start_as_current_span("federation.member") as child,
    ):
        child.set_attribute("member.id", "uni-a.ac.uk")
        child.set_attribute("member.attempt", 1)
        context = child.get_span_context()
    return context.trace_id, context.span_id


def test_spans_reach_the_collector_encoded_by_the_gateway(
    collector: Collector, monkeypatch: pytest.MonkeyPatch
) -> None:
    telemetry = exporting(collector, monkeypatch)
    assert exporter_of(telemetry).encodes_batches, "the installed exporter lost the fast path"
    trace_id, span_id = make_spans(telemetry)
    telemetry.shutdown()

    (post,) = collector.posts
    assert post.path == "/v1/traces"
    assert post.headers["content-type"] == "application/x-protobuf"
    (resource,) = post.request().resource_spans
    assert {a.key: a.value.string_value for a in resource.resource.attributes}["service.name"] == (
        "consortium-gateway"
    )
    spans = {s.name: s for scope in resource.scope_spans for s in scope.spans}
    assert set(spans) == {"GET /v1/learners/{ref}/credentials", "federation.member"}
    member = spans["federation.member"]
    assert member.trace_id == trace_id.to_bytes(16, "big")
    assert member.span_id == span_id.to_bytes(8, "big")
    assert member.parent_span_id == spans["GET /v1/learners/{ref}/credentials"].span_id
    attributes = {a.key: a.value for a in member.attributes}
    assert attributes["member.id"].string_value == "uni-a.ac.uk"
    assert attributes["member.attempt"].int_value == 1


def test_a_busy_collector_is_retried_by_the_sdks_client(
    collector: Collector, monkeypatch: pytest.MonkeyPatch
) -> None:
    collector.script = [503]
    telemetry = exporting(collector, monkeypatch)
    make_spans(telemetry)
    telemetry.shutdown()

    assert len(collector.posts) == 2
    assert collector.posts[0].body == collector.posts[1].body
    assert len(collector.posts[1].request().resource_spans[0].scope_spans[0].spans) == 2


def test_compression_and_headers_come_from_the_standard_variables(
    collector: Collector, monkeypatch: pytest.MonkeyPatch
) -> None:
    telemetry = exporting(
        collector,
        monkeypatch,
        OTEL_EXPORTER_OTLP_COMPRESSION="gzip",
        OTEL_EXPORTER_OTLP_HEADERS="x-collector-key=k1",
    )
    make_spans(telemetry)
    telemetry.shutdown()

    (post,) = collector.posts
    assert post.headers["content-encoding"] == "gzip"
    assert post.headers["x-collector-key"] == "k1"
    assert len(post.request().resource_spans[0].scope_spans[0].spans) == 2


def test_a_rejected_batch_is_a_failed_export_not_an_exception(collector: Collector) -> None:
    collector.script = [400]
    finished = InMemorySpanExporter()
    make_spans(configure_telemetry(processors=(SimpleSpanProcessor(finished),), env={}))
    exporter = GatewaySpanExporter(endpoint=f"{collector.url}/v1/traces")
    assert exporter.export(finished.get_finished_spans()) is SpanExportResult.FAILURE
    assert exporter.export(finished.get_finished_spans()) is SpanExportResult.SUCCESS
    assert len(collector.posts) == 2
    assert collector.posts[0].body == collector.posts[1].body


def test_with_the_exporters_own_metrics_on_the_stock_encoding_runs(
    collector: Collector, monkeypatch: pytest.MonkeyPatch
) -> None:
    telemetry = exporting(collector, monkeypatch, OTEL_PYTHON_SDK_INTERNAL_METRICS_ENABLED="true")
    assert not exporter_of(telemetry).encodes_batches
    make_spans(telemetry)
    telemetry.shutdown()

    (post,) = collector.posts
    assert {s.name for s in post.request().resource_spans[0].scope_spans[0].spans} == {
        "GET /v1/learners/{ref}/credentials",
        "federation.member",
    }
