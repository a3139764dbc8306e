"""OpenTelemetry set-up and the server-span middleware.

Sampling is decided before anything is collected: the stock ASGI instrumentation costs ~100 us per request
even when a request is not sampled (shared/reference/performance.md), so our middleware opens one span,
and only when that span is recording does it collect attributes or wrap ``send`` to read the status.

Configuration is the standard ``OTEL_*`` environment: ``OTEL_SERVICE_NAME``, ``OTEL_TRACES_SAMPLER`` /
``OTEL_TRACES_SAMPLER_ARG`` (any sampler registered as an OpenTelemetry entry point, the SDK's included),
``OTEL_EXPORTER_OTLP_ENDPOINT`` (needs the ``otlp`` extra; the exporter reads its other settings itself).
With an OTLP exporter and no sampler named, the sampler is ``parentbased_ratelimiting`` at 10 traces a
second per process (``gateway.sampling``), not the SDK's default of every trace. With no exporter at all it
is ``parentbased_always_off``: nothing is recorded that nobody reads, yet trace ids still reach the logs.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib.metadata import entry_points

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from opentelemetry import context, trace
from opentelemetry.propagate import extract
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SimpleSpanProcessor
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ALWAYS_ON, ParentBased, Sampler
from opentelemetry.trace import SpanKind, StatusCode, Tracer

from gateway.sampling import parentbased_ratelimiting

__all__ = ["Telemetry", "TracingMiddleware", "configure_telemetry"]

log = logging.getLogger(__name__)

SAMPLER_ENTRY_POINTS = "opentelemetry_traces_sampler"
_RATIO_SAMPLERS = frozenset({"traceidratio", "parentbased_traceidratio"})


@dataclass(frozen=True, slots=True)
class Telemetry:
    """What the app needs from tracing: a tracer, and the provider to flush on shutdown."""

    provider: TracerProvider
    tracer: Tracer

    def shutdown(self) -> None:
        self.provider.shutdown()


def configure_telemetry(
    *,
    trace_console: bool = False,
    processors: tuple[SpanProcessor, ...] = (),
    env: Mapping[str, str] | None = None,
) -> Telemetry:
    """Build a TracerProvider from ``OTEL_*`` variables, plus console output and any extra processors.

    The provider is returned, not installed globally, so that tests and several apps in one process keep
    their spans apart.
    """
    env = os.environ if env is None else env
    exporting = list(processors)
    if trace_console:
        exporting.append(SimpleSpanProcessor(ConsoleSpanExporter()))
    otlp = False
    if env.get("OTEL_EXPORTER_OTLP_ENDPOINT") or env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        try:
            from gateway.otlp.exporter import GatewaySpanExporter
        except ImportError:
            log.warning("OTEL_EXPORTER_OTLP_ENDPOINT is set but the otlp extra is not installed")
        else:
            exporting.append(BatchSpanProcessor(GatewaySpanExporter()))
            otlp = True
    resource = Resource.create({"service.name": env.get("OTEL_SERVICE_NAME", "consortium-gateway")})
    provider = TracerProvider(resource=resource, sampler=_sampler(env, otlp=otlp, exporting=bool(exporting)))
    for processor in exporting:
        provider.add_span_processor(processor)
    return Telemetry(provider=provider, tracer=provider.get_tracer("consortium-gateway"))


def _sampler(env: Mapping[str, str], *, otlp: bool, exporting: bool) -> Sampler:
    """The sampler ``env`` names, else the gateway's production sampler when spans go to an OTLP collector,
    every trace when they go to a reader or a test, and none when nobody reads them."""
    name = env.get("OTEL_TRACES_SAMPLER", "").strip().lower()
    if name:
        named = _named_sampler(name, env.get("OTEL_TRACES_SAMPLER_ARG"))
        if named is not None:
            return named
    if otlp:
        return parentbased_ratelimiting()
    return ParentBased(ALWAYS_ON if exporting else ALWAYS_OFF)


def _named_sampler(name: str, arg: str | None) -> Sampler | None:
    """The sampler registered as ``name`` in OpenTelemetry's sampler entry points (the SDK's own, this
    project's ``parentbased_ratelimiting``, any other installed one), made from ``arg`` as the SDK's
    configurator makes it: the ratio samplers from a number."""
    found = next((e for e in entry_points(group=SAMPLER_ENTRY_POINTS) if e.name == name), None)
    if found is None:
        log.warning("OTEL_TRACES_SAMPLER %r is not an installed sampler; the default applies", name)
        return None
    factory: Callable[[float | str | None], Sampler] = found.load()
    if name in _RATIO_SAMPLERS:
        try:
            return factory(float(arg or ""))
        except ValueError:
            log.warning("OTEL_TRACES_SAMPLER_ARG %r is not a ratio; sampling every trace", arg)
            return factory(1.0)
    return factory(arg)


class TracingMiddleware:
    """One SERVER span per HTTP request, named by route template (never the raw path, R24)."""

    def __init__(self, app: ASGIApp, tracer: Tracer) -> None:
        self.app = app
        self.tracer = tracer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        parent = None
        for key, value in scope["headers"]:
            if key == b"traceparent":
                parent = extract({"traceparent": value.decode("latin-1")})
                break
        route = scope.get("path_template") or "unmatched"
        method: str = scope["method"]
        span = self.tracer.start_span(f"{method} {route}", context=parent, kind=SpanKind.SERVER)
        if not span.is_recording():
            # Current for the request (trace ids reach logs and audit), without use_span's context managers.
            token = context.attach(trace.set_span_in_context(span, parent))
            try:
                await self.app(scope, receive, send)
            finally:
                context.detach(token)
            return
        with trace.use_span(span, end_on_exit=True, record_exception=False, set_status_on_exception=False):
            span.set_attribute("http.request.method", method)
            span.set_attribute("http.route", route)
            span.set_attribute("url.scheme", scope.get("scheme", "http"))

            async def send_with_status(message: Message) -> None:
                if message["type"] == "http.response.start":
                    status = int(message["status"])
                    span.set_attribute("http.response.status_code", status)
                    if status >= 500:
                        span.set_status(StatusCode.ERROR)
                await send(message)

            await self.app(scope, receive, send_with_status)
