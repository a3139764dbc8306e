"""The one function type every member-call wrapper takes and returns, and the per-call attempt counter.

A ``Call[T]`` is "call this member, finish by ``deadline``": its one argument is an absolute
``time.monotonic()`` value (R25). Wrappers (deadline, breaker, bulkhead, retry) each take a ``Call`` and
return one, so a member's stack is built once and every layer is tested on its own (STYLE.md, "lura").
"""

from __future__ import annotations

import contextvars
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

__all__ = ["Call", "CallStats", "count_attempts", "current_stats", "track_stats"]

T = TypeVar("T")

Call = Callable[[float], Awaitable[T]]


@dataclass(slots=True)
class CallStats:
    """What happened inside one member call: how many times the connector itself was called."""

    attempts: int = 0


_STATS: contextvars.ContextVar[CallStats | None] = contextvars.ContextVar(
    "federation_call_stats", default=None
)


def track_stats(stats: CallStats) -> None:
    """Record attempts of calls made from now on in this context (each fan-out task has its own)."""
    _STATS.set(stats)


def current_stats() -> CallStats | None:
    return _STATS.get()


def count_attempts(call: Call[T]) -> Call[T]:
    """The innermost layer: counts every real call of the connector in the current ``CallStats``."""

    async def counted(deadline: float) -> T:
        stats = _STATS.get()
        if stats is not None:
            stats.attempts += 1
        return await call(deadline)

    return counted
