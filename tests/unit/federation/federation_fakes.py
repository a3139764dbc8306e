"""Fakes shared by the federation unit tests: a settable clock, scripted member calls, a gated sleep."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

MEMBER = "uni-a.ac.uk"


class FakeClock:
    """A ``time.monotonic`` stand-in that moves only when told."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Script:
    """An async member call that raises or returns the next scripted item (the last one repeats)."""

    def __init__(self, *items: object) -> None:
        self.items = list(items)
        self.calls = 0
        self.deadlines: list[float] = []

    async def __call__(self, deadline: float) -> str:
        self.deadlines.append(deadline)
        item = self.items[min(self.calls, len(self.items) - 1)]
        self.calls += 1
        if isinstance(item, BaseException):
            raise item
        return str(item)


class GatedSleep:
    """A ``sleep`` that returns only when the test calls ``release()`` (once per sleep)."""

    def __init__(self) -> None:
        self._gate: asyncio.Queue[None] = asyncio.Queue()
        self.sleeping = 0

    async def __call__(self, seconds: float) -> None:
        self.sleeping += 1
        try:
            await self._gate.get()
        finally:
            self.sleeping -= 1

    def release(self) -> None:
        self._gate.put_nowait(None)


async def until(condition: Callable[[], bool], within: float = 2.0) -> None:
    """Let background tasks run until ``condition`` holds (fails the test after ``within`` seconds)."""
    ends = time.monotonic() + within
    while not condition():
        assert time.monotonic() < ends, "condition not reached in time"
        await asyncio.sleep(0.001)


def never() -> Callable[[float], Awaitable[str]]:
    """A member call that hangs until cancelled."""

    async def hang(deadline: float) -> str:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    return hang
