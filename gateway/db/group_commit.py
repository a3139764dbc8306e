"""Group commit: concurrent callers' writes share one statement and one commit (and reads, one statement).

A caller submits one item and waits for its own outcome. One flush at a time runs per group: every item
that arrived while the previous flush was running goes into the next, up to ``max_batch``. Under load the
cost of a round trip, an executor start-up and a WAL flush is paid per batch rather than per item; with no
load a flush holds one item and adds no wait. A caller hears its outcome only after the batch committed.

The writer (``run``) gets the batch and answers one outcome per item, in order: a value, or an exception
meant for that item's caller alone. An exception raised by ``run`` itself reaches every caller of the batch.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

from opentelemetry import context, trace
from opentelemetry.trace import Link, NonRecordingSpan, SpanContext, Tracer

__all__ = ["GroupCommit"]

T = TypeVar("T")
R = TypeVar("R")


class _Pending(Generic[T, R]):
    __slots__ = ("future", "item", "span")

    def __init__(self, item: T, future: asyncio.Future[R], span: SpanContext) -> None:
        self.item = item
        self.future = future
        self.span = span


class GroupCommit(Generic[T, R]):
    """One per process and kind of write; ``submit`` returns the item's outcome once its batch committed."""

    def __init__(
        self,
        run: Callable[[Sequence[T]], Awaitable[Sequence[R | Exception]]],
        *,
        tracer: Tracer,
        span_name: str,
        max_batch: int,
    ) -> None:
        self._run = run
        self._tracer = tracer
        self._span_name = span_name
        self._max_batch = max_batch
        self._queue: list[_Pending[T, R]] = []
        self._flusher: asyncio.Task[None] | None = None

    async def submit(self, item: T) -> R:
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        span = trace.get_current_span().get_span_context()
        self._queue.append(_Pending(item, future, span))
        if self._flusher is None:
            self._start()
        # A caller that goes away does not stop the flush: its item may still be written, as it would be
        # had the caller's own statement already been sent.
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
            # Shutdown: whoever is still queued is told nothing was done.
            queued, self._queue = self._queue, []
            for pending in queued:
                pending.future.cancel()
        elif self._queue:  # arrived after the last flush, before this callback ran
            self._start()

    async def _flush(self, batch: list[_Pending[T, R]]) -> None:
        # The flush is a child of the first request it serves and links the others' traces.
        first = batch[0].span
        parent = trace.set_span_in_context(NonRecordingSpan(first))
        links = [Link(p.span) for p in batch[1:] if p.span.is_valid and p.span.trace_flags.sampled]
        try:
            if first.is_valid and not first.trace_flags.sampled and not links:
                # No request of the batch is sampled, so the flush span would record nothing (see
                # sampled_out): its queries run under the first request's span instead.
                token = context.attach(parent)
                try:
                    outcomes = await self._run([p.item for p in batch])
                finally:
                    context.detach(token)
            else:
                with self._tracer.start_as_current_span(self._span_name, context=parent, links=links) as span:
                    if span.is_recording():
                        span.set_attribute("db.batch.size", len(batch))
                    outcomes = await self._run([p.item for p in batch])
        except Exception as exc:  # a 503 from ``pooled``, or the database failing the statement
            for pending in batch:
                if not pending.future.done():
                    pending.future.set_exception(exc)
            return
        except BaseException:  # cancelled at shutdown: nobody hears an outcome
            for pending in batch:
                pending.future.cancel()
            raise
        if len(outcomes) != len(batch):
            error = RuntimeError(f"{self._span_name}: {len(outcomes)} outcomes for {len(batch)} items")
            outcomes = [error] * len(batch)
        for pending, outcome in zip(batch, outcomes, strict=True):
            if pending.future.done():
                continue
            if isinstance(outcome, Exception):
                pending.future.set_exception(outcome)
            else:
                pending.future.set_result(outcome)
