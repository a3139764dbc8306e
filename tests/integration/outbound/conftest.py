"""Real servers on loopback for the outbound tests: aiohttp apps on 127.0.0.1, and an "internal" TCP
server on 127.0.0.2 that must never see a connection (R18). ``spans``/``telemetry`` are defined here too,
so that these tests do not depend on the shared integration fixtures."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiohttp import web
from loopback_servers import InternalServer, LoopbackServer, ServeApp, StartInternal
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from gateway.telemetry import Telemetry, configure_telemetry


@pytest.fixture
async def serve() -> AsyncIterator[ServeApp]:
    """Start aiohttp apps on loopback (ephemeral ports); all are stopped after the test."""
    runners: list[web.AppRunner] = []

    async def start(routes: list[web.RouteDef], *, host: str = "127.0.0.1", port: int = 0) -> LoopbackServer:
        server = LoopbackServer(host=host, port=0)

        @web.middleware
        async def record(
            request: web.Request, handler: Callable[..., Awaitable[web.StreamResponse]]
        ) -> web.StreamResponse:
            server.requests.append(request.path_qs)
            return await handler(request)

        app = web.Application(middlewares=[record])
        app.add_routes(routes)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1)
        await runner.setup()
        runners.append(runner)
        await web.TCPSite(runner, host, port).start()
        server.port = runner.addresses[0][1]
        return server

    yield start
    for runner in runners:
        await runner.cleanup()


@pytest.fixture
async def internal() -> AsyncIterator[StartInternal]:
    """Start TCP servers on 127.0.0.2, which the policy never lets through (only 127.0.0.1 is the test
    loopback). Each answers any request with ``{}``, so a leak would look like success."""
    listeners: list[asyncio.Server] = []

    async def start(*, port: int = 0) -> InternalServer:
        server = InternalServer(host="127.0.0.2", port=0)

        async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            server.connections += 1
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}")
            await writer.drain()
            writer.close()

        listener = await asyncio.start_server(on_connect, server.host, port)
        listeners.append(listener)
        server.port = listener.sockets[0].getsockname()[1]
        return server

    yield start
    for listener in listeners:
        listener.close()
        await listener.wait_closed()


@pytest.fixture
def spans() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def telemetry(spans: InMemorySpanExporter) -> Telemetry:
    """A recording tracer whose spans land in ``spans`` (nothing is installed globally)."""
    return configure_telemetry(processors=(SimpleSpanProcessor(spans),), env={})
