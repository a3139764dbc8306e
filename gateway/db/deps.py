"""Litestar dependencies for database access."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import asyncpg
from litestar.datastructures import State

from contracts.errors import ServiceUnavailable

__all__ = ["pooled", "provide_connection"]


@contextlib.asynccontextmanager
async def pooled(pool: asyncpg.Pool, acquire_timeout: float) -> AsyncIterator[asyncpg.Connection]:
    """A pooled connection; a bounded wait, then 503 rather than queueing forever."""
    try:
        conn = await pool.acquire(timeout=acquire_timeout)
    except (TimeoutError, OSError, asyncpg.PostgresConnectionError, asyncpg.InterfaceError) as exc:
        raise ServiceUnavailable("the database is not available; retry shortly") from exc
    try:
        yield conn
    finally:
        await pool.release(conn)


async def provide_connection(state: State) -> AsyncIterator[asyncpg.Connection]:
    """A pooled connection for the whole of one request."""
    async with pooled(state.pool, state.settings.db_acquire_timeout) as conn:
        yield conn
