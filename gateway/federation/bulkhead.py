"""The bulkhead layer (R26): at most ``max_in_flight`` calls to one member at a time, and refuse early.

A call that finds every slot taken waits in a short queue, for at most ``max_queue_wait`` seconds and
never past its deadline. It is refused at once with ``MemberOverloaded`` (nothing sent) when the queue
already holds ``max_queue`` waiters (``queue-full``) or when it has no time left to wait (``no-time``),
and refused when no slot freed within its wait (``queue-timeout``). Refusing early is the point:
overload that silently queues until the deadline looks like success but is not (performance.md).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TypeVar

from contracts.errors import MemberOverloaded
from gateway.federation.calls import Call

__all__ = ["Bulkhead"]

T = TypeVar("T")


class Bulkhead:
    """One member's in-flight cap and wait queue."""

    def __init__(
        self,
        member: str,
        *,
        max_in_flight: int,
        max_queue_wait: float,
        max_queue: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_in_flight < 1:
            raise ValueError("max_in_flight must be at least 1")
        if max_queue_wait < 0:
            raise ValueError("max_queue_wait must not be negative")
        self.member = member
        self._slots = asyncio.Semaphore(max_in_flight)
        self._max_queue = max_in_flight if max_queue is None else max_queue
        self._max_queue_wait = max_queue_wait
        self._clock = clock
        self.in_flight = 0
        self.waiting = 0

    def wrap(self, call: Call[T]) -> Call[T]:
        async def guarded(deadline: float) -> T:
            await self._acquire(deadline)
            self.in_flight += 1
            try:
                return await call(deadline)
            finally:
                self.in_flight -= 1
                self._slots.release()

        return guarded

    async def _acquire(self, deadline: float) -> None:
        if not self._slots.locked():
            await self._slots.acquire()  # a free slot: returns without waiting
            return
        if self.waiting >= self._max_queue:
            raise self._refuse("queue-full", "too many calls are waiting for the member")
        wait = min(self._max_queue_wait, deadline - self._clock())
        if wait <= 0:
            raise self._refuse("no-time", "no slot for the member is free and there is no time to wait")
        self.waiting += 1
        try:
            async with asyncio.timeout(wait):
                await self._slots.acquire()
        except TimeoutError:
            raise self._refuse("queue-timeout", "no slot for the member freed in time") from None
        finally:
            self.waiting -= 1

    def _refuse(self, reason: str, detail: str) -> MemberOverloaded:
        return MemberOverloaded(detail, member=self.member, reason=reason, retry_after=self._max_queue_wait)
