"""Liveness and readiness probes."""

from __future__ import annotations

import pytest
from litestar.testing import AsyncTestClient

from gateway.app import create_app
from gateway.config import Settings
from gateway.db.migrate import available


async def test_healthz_and_readyz(client: AsyncTestClient[object]) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "schema_version": available()[-1].version}


async def test_readyz_is_503_while_migrations_are_missing(empty_database_url: str) -> None:
    settings = Settings(database_url=empty_database_url, migrate_on_start=False)
    async with AsyncTestClient(create_app(settings)) as client:
        assert (await client.get("/healthz")).status_code == 200
        response = await client.get("/readyz")
        assert response.status_code == 503
        assert response.headers["content-type"] == "application/problem+json"
        assert "migrations not applied" in response.json()["detail"]


async def test_start_up_applies_migrations(empty_database_url: str) -> None:
    settings = Settings(database_url=empty_database_url)  # migrate_on_start defaults to True
    async with AsyncTestClient(create_app(settings)) as client:
        assert (await client.get("/readyz")).status_code == 200


async def test_start_up_fails_without_a_database() -> None:
    # A socket directory with no server in it: once its wait for the database is over, the app refuses to
    # start rather than serve requests that would all fail.
    settings = Settings(
        database_url="postgresql://postgres@/none?host=/nonexistent-socket-dir",
        db_connect_timeout=1,
        db_start_wait=0.3,
    )
    with pytest.raises(ExceptionGroup) as caught:  # raised through the lifespan's task group
        async with AsyncTestClient(create_app(settings)):
            pass
    assert caught.group_contains(FileNotFoundError)
