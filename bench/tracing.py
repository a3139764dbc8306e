"""What tracing costs per request: our middleware (unsampled and sampled) against no tracing and against
the stock OpenTelemetry ASGI instrumentation (the peer; shared/reference/performance.md measured it at
~100 us per request even unsampled).

Method: the ASGI app is called in process, on one core, for a trivial route (``/healthz``), so the figure
is the CPU cost of the app and its middleware without network or server noise. Variants alternate
(ABCD ABCD ...) and ratios are medians over rounds, as performance.md asks.

    python -m bench.tracing [--requests 20000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Callable
from typing import Any

from litestar import Litestar
from litestar.middleware import DefineMiddleware
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ALWAYS_ON, ParentBased

from gateway.ops.routes import healthz
from gateway.telemetry import TracingMiddleware


class _DropExporter(SpanExporter):
    """Receives finished spans and drops them: sampled cost without the exporter's I/O."""

    def export(self, spans: Any) -> SpanExportResult:
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        pass


def _provider(sampled: bool) -> TracerProvider:
    provider = TracerProvider(sampler=ParentBased(ALWAYS_ON if sampled else ALWAYS_OFF))
    provider.add_span_processor(SimpleSpanProcessor(_DropExporter()))
    return provider


def _ours(sampled: bool) -> Litestar:
    tracer = _provider(sampled).get_tracer("bench")
    middleware = [DefineMiddleware(TracingMiddleware, tracer=tracer)]
    return Litestar([healthz], middleware=middleware, logging_config=None)


def _stock(sampled: bool) -> Litestar | None:
    try:
        from litestar.contrib.opentelemetry import OpenTelemetryConfig, OpenTelemetryPlugin
    except ImportError:
        return None
    config = OpenTelemetryConfig(tracer_provider=_provider(sampled))
    return Litestar([healthz], plugins=[OpenTelemetryPlugin(config)], logging_config=None)


VARIANTS: dict[str, Callable[[], Litestar | None]] = {
    "no tracing": lambda: Litestar([healthz], logging_config=None),
    "ours, unsampled": lambda: _ours(False),
    "ours, sampled": lambda: _ours(True),
    "stock ASGI instrumentation, unsampled": lambda: _stock(False),
    "stock ASGI instrumentation, sampled": lambda: _stock(True),
}

_SCOPE = {
    "type": "http",
    "asgi": {"version": "3.0", "spec_version": "2.3"},
    "http_version": "1.1",
    "method": "GET",
    "scheme": "http",
    "path": "/healthz",
    "raw_path": b"/healthz",
    "root_path": "",
    "query_string": b"",
    "headers": [(b"host", b"127.0.0.1:8000"), (b"user-agent", b"bench")],
    "client": ("127.0.0.1", 50000),
    "server": ("127.0.0.1", 8000),
}


async def _run(app: Litestar, requests: int) -> float:
    """Seconds of CPU per request (process time, one thread)."""

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    status: list[int] = []

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            status.append(message["status"])

    for _ in range(200):  # warm-up
        await app(dict(_SCOPE), receive, send)  # type: ignore[arg-type]
    status.clear()
    start = time.process_time()
    for _ in range(requests):
        await app(dict(_SCOPE), receive, send)  # type: ignore[arg-type]
    elapsed = time.process_time() - start
    assert status.count(200) == requests, "every request must succeed"
    return elapsed / requests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    apps = {name: build() for name, build in VARIANTS.items()}
    skipped = [name for name, app in apps.items() if app is None]
    results: dict[str, list[float]] = {name: [] for name, app in apps.items() if app is not None}
    for _ in range(args.rounds):
        for name in results:
            app = apps[name]
            assert app is not None
            results[name].append(asyncio.run(_run(app, args.requests)))

    base = results["no tracing"]
    print(f"tracing cost per request, in-process ASGI, {args.requests} requests x {args.rounds} rounds")
    print(f"{'variant':42} {'us/request':>11} {'req/s':>9} {'added us':>9} {'ratio to none':>14}")
    for name, values in results.items():
        per = statistics.median(values)
        added = statistics.median(v - b for v, b in zip(values, base, strict=True))
        ratios = [b / v for v, b in zip(values, base, strict=True)]
        print(
            f"{name:42} {per * 1e6:11.1f} {1 / per:9.0f} {added * 1e6:9.1f} "
            f"{statistics.median(ratios):6.2f} ({min(ratios):.2f}-{max(ratios):.2f})"
        )
    for name in skipped:
        print(f"{name:42} skipped: pip install opentelemetry-instrumentation-asgi to measure the peer")


if __name__ == "__main__":
    main()
