"""Litestar dependencies for database access."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
from litestar.datastructures import State

from contracts.errors import ServiceUnavailable

__all__ = ["provide_connection"]


async def provide_connection(state: State) -> AsyncIterator[asyncpg.Connection]:
    """A pooled connection for one request; a bounded wait, then 503 rather than queueing forever."""
    pool: asyncpg.Pool = state.pool
    try:
        conn = await pool.acquire(timeout=state.settings.db_acquire_timeout)
    except (TimeoutError, OSError, asyncpg.PostgresConnectionError, asyncpg.InterfaceError) as exc:
        raise ServiceUnavailable("the database is not available; retry shortly") from exc
    try:
        yield conn
    finally:
        await pool.release(conn)
