"""What every command that needs the database shares: find (or start) it, and connect."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

import asyncpg

from gateway.config import Settings
from gateway.db.embedded import embedded_postgres
from gateway.db.migrate import migrate
from gateway.db.startup import until_reachable

__all__ = ["connect", "database_dsn", "migrate_when_reachable", "migrated_connection"]


@contextmanager
def database_dsn(settings: Settings) -> Iterator[str]:
    """``DATABASE_URL`` when set; otherwise the embedded server, stopped again when the block ends."""
    if settings.database_url:
        yield settings.database_url
        return
    with embedded_postgres(settings.data_dir) as dsn:
        yield dsn


@asynccontextmanager
async def connect(dsn: str, settings: Settings) -> AsyncIterator[asyncpg.Connection]:
    """One bounded connection, for CLI commands (the server uses the pool)."""
    conn = await asyncpg.connect(
        dsn, timeout=settings.db_connect_timeout, command_timeout=settings.db_command_timeout
    )
    try:
        yield conn
    finally:
        await conn.close()


async def migrate_when_reachable(dsn: str, settings: Settings) -> None:
    """What a long-running process (``serve``, ``relay``) does first: wait for the database within
    ``db_start_wait``, then apply pending migrations (under their lock)."""
    await until_reachable(dsn, settings)
    async with migrated_connection(dsn, settings):
        pass


@asynccontextmanager
async def migrated_connection(dsn: str, settings: Settings) -> AsyncIterator[asyncpg.Connection]:
    async with connect(dsn, settings) as conn:
        await migrate(conn)
        yield conn
