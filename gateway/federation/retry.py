"""The retry layer (R27): retry idempotent calls on transient member faults, inside the deadline and a budget.

- Only when ``idempotent`` (a GET, or a write carrying an idempotency key); otherwise exactly one attempt.
- Only on ``MemberUnavailable`` without a status (connect, transport, token) or with 429/502/503/504, and
  on ``MemberTimeout`` of an attempt that still left time before the deadline. Never on other statuses,
  ``MemberResponseInvalid`` or ``MemberRefused``.
- At most ``attempts`` attempts (capped at 3), with exponential backoff and full jitter; a retry that
  could not start ``min_attempt_time`` before the deadline is not made.
- Every retry spends a token of the member's ``RetryBudget``, shared by all of the member's calls: each
  call earns ``ratio`` of a token and ``min_per_second`` tokens accrue over time (the floor), so during
  an outage retries stay within about ``ratio`` of the calls plus the floor and cannot amplify it.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from contracts.errors import MemberTimeout, MemberUnavailable
from gateway.federation.calls import Call

__all__ = ["MAX_ATTEMPTS", "RETRYABLE_STATUSES", "RetryBudget", "is_retryable", "with_retry"]

T = TypeVar("T")

MAX_ATTEMPTS = 3  # SRE book: at most three attempts per request
# One jitter source for every retry layer: a ``Random()`` per layer seeded itself from os.urandom, and a
# layer is built per lookup and member.
_JITTER = random.Random()
RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})


class RetryBudget:
    """A token bucket shared by one member's calls: retries <= ``ratio`` x calls + a small floor."""

    def __init__(
        self,
        *,
        ratio: float = 0.1,
        min_per_second: float = 1.0,
        max_tokens: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if ratio < 0 or min_per_second < 0 or max_tokens < 1:
            raise ValueError("ratio and min_per_second must not be negative; max_tokens must be >= 1")
        self._ratio = ratio
        self._min_per_second = min_per_second
        self._max_tokens = max_tokens
        self._clock = clock
        self._tokens = min(max_tokens, min_per_second)  # one second's floor to start with
        self._refilled_at = clock()

    @property
    def tokens(self) -> float:
        self._refill()
        return self._tokens

    def deposit(self) -> None:
        """A call was made (its first attempt): it earns ``ratio`` of a retry."""
        self._refill()
        self._tokens = min(self._max_tokens, self._tokens + self._ratio)

    def withdraw(self) -> bool:
        """Take one retry if the budget has one."""
        self._refill()
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True

    def _refill(self) -> None:
        now = self._clock()
        elapsed = max(0.0, now - self._refilled_at)
        self._refilled_at = now
        self._tokens = min(self._max_tokens, self._tokens + elapsed * self._min_per_second)


def is_retryable(exc: BaseException, *, deadline: float, now: float) -> bool:
    """Whether a failed attempt is worth repeating (regardless of budget and idempotency)."""
    if isinstance(exc, MemberUnavailable):
        return exc.upstream_status is None or exc.upstream_status in RETRYABLE_STATUSES
    if isinstance(exc, MemberTimeout):
        return exc.reason != "expired" and now < deadline
    return False


def with_retry(
    budget: RetryBudget,
    attempts: int = 2,
    idempotent: bool = True,
    *,
    base_backoff: float = 0.025,
    max_backoff: float = 0.5,
    min_attempt_time: float = 0.05,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    rng: random.Random | None = None,
) -> Callable[[Call[T]], Call[T]]:
    """Wrap a call with retries; see the module docstring for when a retry happens."""
    if attempts < 1:
        raise ValueError("attempts must be at least 1")
    limit = min(attempts, MAX_ATTEMPTS) if idempotent else 1
    jitter = rng or _JITTER

    def wrap(call: Call[T]) -> Call[T]:
        async def retried(deadline: float) -> T:
            budget.deposit()
            attempt = 1
            while True:
                try:
                    return await call(deadline)
                except (MemberUnavailable, MemberTimeout) as exc:
                    now = clock()
                    if attempt >= limit or not is_retryable(exc, deadline=deadline, now=now):
                        raise
                    delay = jitter.uniform(0.0, min(max_backoff, base_backoff * 2 ** (attempt - 1)))
                    if now + delay + min_attempt_time > deadline or not budget.withdraw():
                        raise
                await sleep(delay)
                attempt += 1

        return retried

    return wrap
