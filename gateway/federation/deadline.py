"""The deadline layer (R25): a member call ends by ``min(overall deadline, now + per-member timeout)``."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from adapters.deadlines import deadline_timer
from contracts.errors import MemberTimeout
from gateway.federation.calls import Call

__all__ = ["member_deadline", "with_deadline"]

T = TypeVar("T")


def member_deadline(deadline: float, per_member_timeout: float, now: float) -> float:
    """The earlier of the overall deadline and ``now + per_member_timeout``."""
    return min(deadline, now + per_member_timeout)


def with_deadline(
    per_member_timeout: float, *, member: str, clock: Callable[[], float] = time.monotonic
) -> Callable[[Call[T]], Call[T]]:
    """Wrap a call so it is given, and held to, the member's deadline.

    The inner call receives the member's deadline (so it can pass the remaining budget on) and is
    cancelled at that moment if it has not finished; the caller then gets ``MemberTimeout`` (reason
    ``deadline``), never later; when the caller already holds the call to that deadline (``fan_out`` does),
    its timer ends the call instead (``adapters.deadlines``). An already expired deadline raises
    ``MemberTimeout`` (reason ``expired``) without calling. ``clock`` must tick like ``time.monotonic``.
    """
    if per_member_timeout <= 0:
        raise ValueError("per_member_timeout must be positive")

    def wrap(call: Call[T]) -> Call[T]:
        async def bounded(deadline: float) -> T:
            now = clock()
            effective = member_deadline(deadline, per_member_timeout, now)
            if effective <= now:
                raise MemberTimeout("the deadline has passed", member=member, reason="expired")
            try:
                async with deadline_timer(effective, clock):
                    return await call(effective)
            except TimeoutError:
                raise MemberTimeout(
                    "the member did not answer before the deadline", member=member, reason="deadline"
                ) from None

        return bounded

    return wrap
