"""Litestar dependencies for database access."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import asyncpg
from litestar.datastructures import State
from litestar.di import NamedDependency

from contracts.errors import DatabaseUnavailable
from gateway.auth.rfc9068 import Principal
from gateway.db.tenancy import work_for
from gateway.db.unavailable import CONNECT_ERRORS

__all__ = ["pooled", "provide_connection"]


@contextlib.asynccontextmanager
async def pooled(
    pool: asyncpg.Pool, acquire_timeout: float, institution: str | None = None
) -> AsyncIterator[asyncpg.Connection]:
    """A pooled connection; a bounded wait, then 503 rather than queueing forever. Work that reads or writes
    the mobility workflow's tables names the ``institution`` it does it for (``gateway.db.tenancy``)."""
    try:
        # asyncio.timeout rather than acquire(timeout=): asyncpg wraps a timed acquire in a task of its own.
        async with asyncio.timeout(acquire_timeout):
            conn = await pool.acquire()
    except CONNECT_ERRORS as exc:
        raise DatabaseUnavailable("the database is not available; retry shortly") from exc
    try:
        if institution is not None:
            await work_for(conn, institution)
        yield conn
    finally:
        await pool.release(conn)


async def provide_connection(
    state: State, principal: NamedDependency[Principal]
) -> AsyncIterator[asyncpg.Connection]:
    """A pooled connection for the whole of one request, only ever for an authenticated caller.

    Depending on ``principal`` (which the handler takes too) also puts the two in separate dependency
    batches: Litestar resolves a batch of two or more in an anyio task group, a task each per request, and
    a batch of one inline: the task group was about 5 % of a mobility write's CPU in a profile."""
    async with pooled(state.pool, state.settings.db_acquire_timeout, principal.institution) as conn:
        yield conn
