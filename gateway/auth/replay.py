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

import asyncio
import datetime as dt

import asyncpg
from opentelemetry import trace
from opentelemetry.trace import Link, NonRecordingSpan, SpanContext, Tracer

from gateway.auth.store import insert_new_jtis
from gateway.db.deps import pooled

__all__ = ["ReplayStore"]

_Key = tuple[str, str]


class _Pending:
    __slots__ = ("expires_at", "future", "key", "span")

    def __init__(
        self, key: _Key, expires_at: dt.datetime, future: asyncio.Future[bool], span: SpanContext
    ) -> None:
        self.key = key
        self.expires_at = expires_at
        self.future = future
        self.span = span


class ReplayStore:
    """One per process. ``consume`` is True the first time a (client, jti) is seen anywhere, else False."""

    def __init__(
        self, pool: asyncpg.Pool, *, acquire_timeout: float, tracer: Tracer, max_batch: int = 256
    ) -> None:
        self._pool = pool
        self._acquire_timeout = acquire_timeout
        self._tracer = tracer
        self._max_batch = max_batch
        self._queue: list[_Pending] = []
        self._flusher: asyncio.Task[None] | None = None

    async def consume(self, client_id: str, jti: str, expires_at: dt.datetime) -> bool:
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        span = trace.get_current_span().get_span_context()
        self._queue.append(_Pending((client_id, jti), expires_at, future, span))
        if self._flusher is None:
            self._start()
        # A caller that goes away does not stop the flush: its assertion may still be spent, which is safe.
        return await future

    def _start(self) -> None:
        self._flusher = asyncio.get_running_loop().create_task(self._drain())
        self._flusher.add_done_callback(self._drained)

    async def _drain(self) -> None:
        while self._queue:
            batch, self._queue = self._queue[: self._max_batch], self._queue[self._max_batch :]
            await self._flush(batch)

    def _drained(self, task: asyncio.Task[None]) -> None:
        # A callback, not a ``finally``: a task cancelled before its first step never runs its body.
        if self._flusher is task:
            self._flusher = None
        if task.cancelled() or task.exception() is not None:
            # Shutdown: whoever is still queued is not told "first use" either.
            queued, self._queue = self._queue, []
            for item in queued:
                item.future.cancel()
        elif self._queue:  # arrived after the last flush, before this callback ran
            self._start()

    async def _flush(self, batch: list[_Pending]) -> None:
        first: dict[_Key, _Pending] = {}
        for item in batch:
            first.setdefault(item.key, item)
        rows = sorted((key[0], key[1], item.expires_at) for key, item in first.items())
        # The flush is a child of the first request it serves and links the others' traces.
        parent = trace.set_span_in_context(NonRecordingSpan(batch[0].span))
        links = [Link(i.span) for i in batch[1:] if i.span.is_valid and i.span.trace_flags.sampled]
        try:
            with self._tracer.start_as_current_span(
                "oauth.replay.flush", context=parent, links=links
            ) as span:
                if span.is_recording():
                    span.set_attribute("oauth.replay.batch_size", len(batch))
                    span.set_attribute("oauth.replay.distinct", len(rows))
                async with pooled(self._pool, self._acquire_timeout) as conn:
                    inserted = await insert_new_jtis(conn, rows)
        except Exception as exc:  # a 503 from ``pooled``, or the database failing the statement
            for item in batch:
                if not item.future.done():
                    item.future.set_exception(exc)
            return
        except BaseException:  # cancelled at shutdown: nobody is told "first use"
            for item in batch:
                item.future.cancel()
            raise
        for item in batch:
            if not item.future.done():
                # Only the first occurrence in the batch may be the winner; repeats are replays.
                item.future.set_result(item.key in inserted and first[item.key] is item)
