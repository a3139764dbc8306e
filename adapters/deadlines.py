"""``deadline_timer``: end the current call by its deadline, with one timer per task however many layers ask.

A member call passes through several layers that each must end it by a deadline (the fan-out's overall
one, the member's own, the connector's transport). Each arming an asyncio timer of its own cost three
timers per member call, ~8 us each to arm and disarm on this machine class, for deadlines that are
nearly always the same instant. Here a layer arms a timer only when its deadline is earlier than the one
an outer layer of the same task already holds the call to; otherwise the outer layer's timer cancels
the call at or before this layer's deadline anyway, and the outer layer's ``TimeoutError`` is the one
raised (this layer sees ``CancelledError`` go through it).

The held deadline belongs to a task: a task started inside the call (which the outer timer does not
cancel) arms its own. A task whose owner cancels it at a deadline (``gateway.federation.fanout`` runs one
timer for all of a fan-out's member tasks, not one each) says so with ``hold_until``.
"""

from __future__ import annotations

import asyncio
import contextvars
import time
from collections.abc import Callable
from types import TracebackType

__all__ = ["deadline_timer", "hold_until"]

_Held = tuple[asyncio.Task[object] | None, float]
_HELD: contextvars.ContextVar[_Held] = contextvars.ContextVar("held_deadline", default=(None, float("inf")))


class deadline_timer:
    """``async with deadline_timer(deadline)``: ``TimeoutError`` once ``deadline`` (a ``time.monotonic()``
    value) passes, unless an outer ``deadline_timer`` of this task holds the call to an earlier or equal
    deadline, whose timer then ends it. ``clock`` must tick like ``time.monotonic`` (it is mapped onto the
    event loop's clock)."""

    __slots__ = ("_armed", "_clock", "_deadline")

    def __init__(self, deadline: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._deadline = deadline
        self._clock = clock
        self._armed: tuple[asyncio.Timeout, contextvars.Token[_Held]] | None = None  # when it has a timer

    async def __aenter__(self) -> deadline_timer:
        task = asyncio.current_task()
        holder, held = _HELD.get()
        if holder is task and held <= self._deadline:
            return self
        loop = asyncio.get_running_loop()
        timeout = asyncio.timeout_at(loop.time() + (self._deadline - self._clock()))
        await timeout.__aenter__()
        self._armed = timeout, _HELD.set((task, self._deadline))
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._armed is None:
            return
        timeout, token = self._armed
        _HELD.reset(token)
        await timeout.__aexit__(exc_type, exc, tb)  # raises TimeoutError when its timer fired


class hold_until:
    """``with hold_until(deadline):`` declares that the current task's owner cancels it once ``deadline``
    passes: ``deadline_timer``s inside the block then arm no timer for that deadline or a later one, as under
    an outer ``deadline_timer``. The owner turns that cancellation into its timeout.

    A block, not a declaration for the rest of the task: the held value names the task, and the task holds
    its context, so a value left set would make a reference cycle of every such task and keep it, with its
    result, until the garbage collector's next pass. At N = 5 that was five cycles a lookup, nearly all of
    what a worker's collector found; its passes took about 7 % of a worker's time under W1 load, and their
    pauses (up to 30 ms) showed in p99 (``docs/benchmarks.md``)."""

    __slots__ = ("_deadline", "_token")

    def __init__(self, deadline: float) -> None:
        self._deadline = deadline

    def __enter__(self) -> None:
        self._token = _HELD.set((asyncio.current_task(), self._deadline))

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        _HELD.reset(self._token)
