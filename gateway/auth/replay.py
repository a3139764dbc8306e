"""R4's replay store with group commit: concurrent token requests share one INSERT and one commit.

Each assertion's ``(client_id, jti)`` is accepted once, durably: a request only hears "first use" after the
row that says so has been committed. Under load, one statement per flush carries every assertion that
arrived while the previous flush was running, so the cost of a round trip and a WAL flush is paid per batch
rather than per token. With no load a flush holds one assertion and adds no wait.

Exactly one winner still holds for any number of concurrent requests carrying one assertion:
- within a batch, the first occurrence is inserted and the others are refused without asking the database;
- across batches and processes, ``ON CONFLICT DO NOTHING`` lets exactly one insert return the row.
Rows are inserted in key order so that two processes' overlapping batches cannot deadlock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import asyncpg
from opentelemetry import trace
from opentelemetry.trace import Tracer

from gateway.auth.store import insert_new_jtis
from gateway.db.deps import pooled
from gateway.db.group_commit import GroupCommit

__all__ = ["ReplayStore"]

_Key = tuple[str, str]


class ReplayStore:
    """One per process. ``consume`` is True the first time a (client, jti) is seen anywhere, else False."""

    def __init__(
        self, pool: asyncpg.Pool, *, acquire_timeout: float, tracer: Tracer, max_batch: int = 256
    ) -> None:
        self._pool = pool
        self._acquire_timeout = acquire_timeout
        self._group: GroupCommit[tuple[_Key, dt.datetime], bool] = GroupCommit(
            self._insert, tracer=tracer, span_name="oauth.replay.flush", max_batch=max_batch
        )

    async def consume(self, client_id: str, jti: str, expires_at: dt.datetime) -> bool:
        # A caller that goes away does not stop the flush: its assertion may still be spent, which is safe.
        return await self._group.submit(((client_id, jti), expires_at))

    async def _insert(self, batch: Sequence[tuple[_Key, dt.datetime]]) -> list[bool | Exception]:
        first: dict[_Key, int] = {}
        for index, (key, _) in enumerate(batch):
            first.setdefault(key, index)
        rows = sorted((key[0], key[1], batch[index][1]) for key, index in first.items())
        span = trace.get_current_span()
        if span.is_recording():
            span.set_attribute("oauth.replay.distinct", len(rows))
        async with pooled(self._pool, self._acquire_timeout) as conn:
            inserted = await insert_new_jtis(conn, rows)
        # Only the first occurrence in the batch may be the winner; repeats are replays.
        return [key in inserted and first[key] == index for index, (key, _) in enumerate(batch)]
