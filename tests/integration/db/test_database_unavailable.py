"""A database that drops the connection is a 503 with Retry-After, not a 500 (R33); other database errors
stay 500; and the pool replaces the connections the server cut, so the next request just works."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import pytest
from integration.auth.conftest import bearer
from litestar import Litestar, get
from litestar.datastructures import State
from litestar.testing import AsyncTestClient
from oauth_helpers import MemberClient

from gateway.db.deps import pooled
from gateway.problems import exception_handlers

SLEEP = "SELECT pg_sleep(30) /* cut off */"


@get("/sleep")
async def sleep(state: State) -> None:
    async with pooled(state.pool, 1.0) as conn:
        await conn.execute(SLEEP)


@get("/closed")
async def closed(state: State) -> None:
    async with pooled(state.pool, 1.0) as conn:
        # The server ends the session between two statements of a handler, and asyncpg hears of it first.
        await _terminate(state.dsn, pid=conn.get_server_pid())
        for _ in range(100):
            if conn.is_closed():
                break
            await asyncio.sleep(0.01)
        await conn.fetchval("SELECT 1")


@get("/duplicate")
async def duplicate(state: State) -> None:
    async with pooled(state.pool, 1.0) as conn:
        await conn.execute("CREATE TEMP TABLE once (id int PRIMARY KEY); INSERT INTO once VALUES (1), (1)")


@pytest.fixture
async def app_client(database_url: str) -> AsyncIterator[AsyncTestClient[Any]]:
    @asynccontextmanager
    async def pool(app: Litestar) -> AsyncIterator[None]:
        # Made in the app's own event loop, which the test client runs in a thread of its own.
        async with asyncpg.create_pool(database_url, min_size=1, max_size=2) as app.state.pool:
            yield

    app = Litestar(
        [sleep, closed, duplicate],
        exception_handlers=exception_handlers(),
        lifespan=[pool],
        state=State({"dsn": database_url}),
    )
    async with AsyncTestClient(app) as client:
        yield client


async def _terminate(
    database_url: str, *, query: str | None = None, application: str | None = None, pid: int | None = None
) -> int:
    """``pg_terminate_backend`` the matching sessions of the test's database, as a restarting server does."""
    admin = await asyncpg.connect(database_url)
    try:
        killed: int = await admin.fetchval(
            # Materialized, so that the planner cannot call pg_terminate_backend before the filter.
            "WITH victims AS MATERIALIZED (SELECT pid FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND ($1::text IS NULL OR query = $1) AND ($2::text IS NULL OR application_name = $2) "
            "AND ($3::int IS NULL OR pid = $3)) "
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM victims",
            query,
            application,
            pid,
        )
        return killed
    finally:
        await admin.close()


async def _terminate_once_running(database_url: str) -> int:
    for _ in range(250):
        if killed := await _terminate(database_url, query=SLEEP):
            return killed
        await asyncio.sleep(0.02)
    return 0


async def test_a_statement_cut_off_by_the_server_is_503_with_retry_after(
    app_client: AsyncTestClient[Any], database_url: str
) -> None:
    # The test client blocks this loop while the app runs the request, so the server-side cut comes from
    # a thread of its own.
    with ThreadPoolExecutor(1) as thread:
        killed = thread.submit(asyncio.run, _terminate_once_running(database_url))
        response = await app_client.get("/sleep")
        assert killed.result(timeout=10) == 1
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    problem = response.json()
    assert problem["type"] == "urn:consortium-gateway:problem:database-unavailable"
    assert problem["status"] == 503
    assert "asyncpg" not in response.text
    assert "pg_sleep" not in response.text


async def test_a_connection_already_closed_is_503(app_client: AsyncTestClient[Any]) -> None:
    response = await app_client.get("/closed")
    assert response.status_code == 503
    assert response.json()["type"] == "urn:consortium-gateway:problem:database-unavailable"
    assert response.headers["retry-after"] == "1"


async def test_other_database_errors_stay_500(app_client: AsyncTestClient[Any]) -> None:
    response = await app_client.get("/duplicate")
    assert response.status_code == 500
    assert response.json()["type"] == "urn:consortium-gateway:problem:internal-error"
    assert "once" not in response.text


async def test_the_gateway_recovers_when_the_server_cut_every_connection(
    client: AsyncTestClient[Any], uni_a: MemberClient, database_url: str
) -> None:
    headers = await bearer(client, uni_a)
    assert (await client.get("/v1/mobility-requests", headers=headers)).status_code == 200
    admin = await asyncpg.connect(database_url)
    try:
        cut = await admin.fetchval(
            "SELECT array_agg(pid) FROM pg_stat_activity WHERE application_name = 'consortium-gateway'"
        )
        assert await _terminate(database_url, application="consortium-gateway") == len(cut)
        while await admin.fetchval("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY($1)", cut):
            await asyncio.sleep(0.01)
    finally:
        await admin.close()
    await asyncio.sleep(0.05)  # the pool hears of it when the closed socket reaches the app's loop
    response = await client.get("/v1/mobility-requests", headers=headers)
    assert response.status_code == 200, response.text
    assert (await client.get("/readyz")).status_code == 200
