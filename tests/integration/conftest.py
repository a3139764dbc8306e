"""Fixtures for the app against a real database: settings, an in-memory span exporter, a client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from litestar.testing import AsyncTestClient
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from gateway.app import create_app
from gateway.config import Settings
from gateway.members.consortium_file import load_consortium_file
from gateway.members.service import sync_consortium
from gateway.telemetry import Telemetry, configure_telemetry


@pytest.fixture
def spans() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def telemetry(spans: InMemorySpanExporter) -> Telemetry:
    return configure_telemetry(processors=(SimpleSpanProcessor(spans),), env={})


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, migrate_on_start=False)


@pytest.fixture
async def demo_members(database_url: str, demo_consortium_file: Path) -> list[str]:
    conn = await asyncpg.connect(database_url)
    try:
        report = await sync_consortium(conn, load_consortium_file(demo_consortium_file))
    finally:
        await conn.close()
    return sorted(report.created)


@pytest.fixture
async def client(settings: Settings, telemetry: Telemetry) -> AsyncIterator[AsyncTestClient[object]]:
    async with AsyncTestClient(create_app(settings, telemetry=telemetry)) as test_client:
        yield test_client
