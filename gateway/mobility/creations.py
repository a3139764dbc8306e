"""Where creations are written: batched across concurrent requests (serving), or on one connection (seeding).

W6: at 16 connections, most of a creation's database cost was per statement, not per row: the round trip,
the executor start-up of the CTE and the commit's WAL flush. ``GroupedCreations`` lets concurrent creations
of a process share one statement (``gateway.db.group_commit``). Every creation is still decided on its own
(its key's lock, its stored response, the revision it was evaluated against), answers only after the
commit that holds it, and never waits for a connection while it holds one: a request keeps no connection
while its creation is queued.

A batch is all or nothing in the database, so a row that fails the statement (an idempotency key committed
meanwhile by another process, a constraint) would fail the others; the batch is then written again one
creation at a time, and only the creation at fault hears the error.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Protocol

import asyncpg
from opentelemetry.trace import Tracer

from gateway.db.deps import pooled
from gateway.db.group_commit import GroupCommit
from gateway.db.tenancy import ALL
from gateway.mobility import store

__all__ = ["Creations", "GroupedCreations", "OnConnection"]

# Errors that one row of a batch can cause. Others (the connection lost, the server shutting down) are the
# batch's as a whole and reach every creation in it.
_ROW_ERRORS = (store.KeyTaken, asyncpg.IntegrityConstraintViolationError, asyncpg.DataError)


class Creations(Protocol):
    async def write(self, w: store.CreateWrite) -> store.WriteResult:
        """Write one creation (or nothing, as its result says); ``store.KeyTaken`` as ``insert_request``."""
        ...

    def connection(self) -> AbstractAsyncContextManager[asyncpg.Connection]:
        """A connection for the rare reads around a creation (loading agreements, a committed response)."""
        ...


class OnConnection:
    """Every creation in its own statement on one connection the caller holds (demo seeding, scripts)."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def write(self, w: store.CreateWrite) -> store.WriteResult:
        return await store.insert_request(self._conn, w)

    @contextlib.asynccontextmanager
    async def connection(self) -> AsyncIterator[asyncpg.Connection]:
        yield self._conn


class GroupedCreations:
    """One per serving process: concurrent creations share statements and commits."""

    def __init__(
        self, pool: asyncpg.Pool, *, acquire_timeout: float, tracer: Tracer, max_batch: int = 32
    ) -> None:
        self._pool = pool
        self._acquire_timeout = acquire_timeout
        self._group: GroupCommit[store.CreateWrite, store.WriteResult] = GroupCommit(
            self._write_batch, tracer=tracer, span_name="mobility.create.flush", max_batch=max_batch
        )

    async def write(self, w: store.CreateWrite) -> store.WriteResult:
        return await self._group.submit(w)

    def connection(self) -> AbstractAsyncContextManager[asyncpg.Connection]:
        return pooled(self._pool, self._acquire_timeout, ALL)

    async def _write_batch(self, batch: Sequence[store.CreateWrite]) -> list[store.WriteResult | Exception]:
        outcomes: dict[int, store.WriteResult | Exception] = {}
        waiting = list(range(len(batch)))
        # The gateway's own work across members: a batch holds creations from several of them.
        async with pooled(self._pool, self._acquire_timeout, ALL) as conn:
            while waiting:
                # A key's lock belongs to the statement's transaction, so two uses of one key cannot share
                # a statement: a repeat goes into the next, after the first committed, and is answered as
                # a replay of it (or, when the first wrote nothing, finds what the first found).
                keys: set[tuple[str, str]] = set()
                now: list[int] = []
                later: list[int] = []
                for index in waiting:
                    key = (batch[index].client_id, batch[index].key)
                    (later if key in keys else now).append(index)
                    keys.add(key)
                await self._write(conn, batch, now, outcomes)
                waiting = later
        return [outcomes[index] for index in range(len(batch))]

    async def _write(
        self,
        conn: asyncpg.Connection,
        batch: Sequence[store.CreateWrite],
        indices: list[int],
        outcomes: dict[int, store.WriteResult | Exception],
    ) -> None:
        try:
            results = await store.insert_requests(conn, [batch[index] for index in indices])
        except _ROW_ERRORS as exc:
            if len(indices) == 1:
                outcomes[indices[0]] = exc
                return
            for index in indices:  # nothing was written: again, one at a time, so the fault is the row's
                await self._write(conn, batch, [index], outcomes)
            return
        outcomes.update(zip(indices, results, strict=True))
