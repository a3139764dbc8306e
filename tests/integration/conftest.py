"""Fixtures for the app against a real database: settings, an in-memory span exporter, a client."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import msgspec
import pytest
from litestar.testing import AsyncTestClient
from oauth_helpers import ISSUER, MemberClient
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
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        migrate_on_start=False,
        issuer=ISSUER,
        keys_dir=tmp_path / "keys",
        trust_refresh_interval=0.2,
    )


@pytest.fixture
def directory_reader() -> MemberClient:
    """A client of the first demo member that may read the member directory."""
    return MemberClient(
        "uni-avalon.ac.uk:test-reader", "uni-avalon.ac.uk", scopes=["members:read", "recognition:read"]
    )


@pytest.fixture
async def demo_members(
    database_url: str, demo_consortium_file: Path, directory_reader: MemberClient
) -> list[str]:
    file = load_consortium_file(demo_consortium_file)
    entries = [
        msgspec.structs.replace(e, clients=[directory_reader.client_entry()])
        if e.id == directory_reader.member_id
        else e
        for e in file.members
    ]
    conn = await asyncpg.connect(database_url)
    try:
        report = await sync_consortium(conn, msgspec.structs.replace(file, members=entries))
    finally:
        await conn.close()
    return sorted(report.created)


@pytest.fixture
async def client(settings: Settings, telemetry: Telemetry) -> AsyncIterator[AsyncTestClient[object]]:
    async with AsyncTestClient(create_app(settings, telemetry=telemetry)) as test_client:
        yield test_client


@pytest.fixture
async def member_client(
    client: AsyncTestClient[object], demo_members: list[str], directory_reader: MemberClient
) -> AsyncTestClient[object]:
    """The same client, sending a directory reader's bearer token with every request."""
    # The reader may have been registered after start-up: wait for the next trust refresh.
    deadline = time.monotonic() + 5
    while True:
        response = await client.post("/oauth/token", data=directory_reader.token_form())
        if response.status_code == 200 or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.05)
    assert response.status_code == 200, response.text
    client.headers["Authorization"] = f"Bearer {response.json()['access_token']}"
    return client
