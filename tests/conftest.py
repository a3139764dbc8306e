"""Shared fixtures: one embedded PostgreSQL per test session, a fresh database per test.

Each test's database is cloned from a migrated template (``CREATE DATABASE ... TEMPLATE``), which takes a
few milliseconds, so tests are isolated without paying for migrations each time.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from gateway.db.embedded import embedded_postgres
from gateway.db.migrate import migrate

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
TEMPLATE_DB = "gateway_template"


def dsn_for(dsn: str, database: str) -> str:
    """The same server, another database."""
    parts = urlsplit(dsn)
    return urlunsplit(parts._replace(path=f"/{database}"))


async def _create_template(admin_dsn: str) -> None:
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(f"DROP DATABASE IF EXISTS {TEMPLATE_DB}")
        await conn.execute(f"CREATE DATABASE {TEMPLATE_DB}")
    finally:
        await conn.close()
    conn = await asyncpg.connect(dsn_for(admin_dsn, TEMPLATE_DB))
    try:
        await migrate(conn)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def pg_admin_dsn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """DSN of the session's embedded server (its ``postgres`` database)."""
    with embedded_postgres(tmp_path_factory.mktemp("pg")) as dsn:
        asyncio.run(_create_template(dsn))
        yield dsn


async def _admin(admin_dsn: str, sql: str) -> None:
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture
async def database_url(pg_admin_dsn: str) -> AsyncIterator[str]:
    """A fresh, migrated database for one test."""
    name = f"t_{uuid.uuid4().hex[:16]}"
    await _admin(pg_admin_dsn, f"CREATE DATABASE {name} TEMPLATE {TEMPLATE_DB}")
    yield dsn_for(pg_admin_dsn, name)
    await _admin(pg_admin_dsn, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
async def empty_database_url(pg_admin_dsn: str) -> AsyncIterator[str]:
    """A fresh database with no migrations applied."""
    name = f"e_{uuid.uuid4().hex[:16]}"
    await _admin(pg_admin_dsn, f"CREATE DATABASE {name}")
    yield dsn_for(pg_admin_dsn, name)
    await _admin(pg_admin_dsn, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
async def conn(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(database_url)
    yield connection
    await connection.close()


@pytest.fixture
def demo_consortium_file() -> Path:
    return REPO / "deploy" / "demo" / "consortium.toml"
