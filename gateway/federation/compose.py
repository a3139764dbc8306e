"""One member's call stack: ``deadline -> breaker -> bulkhead -> retry -> connector`` (STYLE.md, "lura").

``MemberPolicy`` holds a member's shared state (breaker, bulkhead, retry budget), built once at start-up;
``bind`` wraps one operation of the member's connector (``fetch_credentials`` for a learner, say) in it.
``compose`` is the same as a plain function.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from gateway.federation.breaker import CircuitBreaker
from gateway.federation.bulkhead import Bulkhead
from gateway.federation.calls import Call, count_attempts
from gateway.federation.deadline import with_deadline
from gateway.federation.retry import RetryBudget, with_retry

__all__ = ["MemberPolicy", "compose"]

T = TypeVar("T")


def compose(
    connector_call: Call[T],
    *,
    member: str,
    timeout: float,
    breaker: CircuitBreaker | None = None,
    bulkhead: Bulkhead | None = None,
    retry: Callable[[Call[T]], Call[T]] | None = None,
) -> Call[T]:
    """Wrap ``connector_call`` in the layers given, outermost first: deadline, breaker, bulkhead, retry.

    The innermost layer counts the connector's real calls (``CallStats.attempts``). The breaker is outside
    the retry, so one failed call (however many attempts) counts once; the bulkhead holds one slot across
    a call's retries; the deadline bounds everything, backoff included.
    """
    call = count_attempts(connector_call)
    if retry is not None:
        call = retry(call)
    if bulkhead is not None:
        call = bulkhead.wrap(call)
    if breaker is not None:
        call = breaker.wrap(call)
    return with_deadline(timeout, member=member)(call)


@dataclass(frozen=True, slots=True)
class MemberPolicy:
    """A member's reliability policy and state, shared by every call to that member."""

    member: str
    connector: str
    timeout: float
    breaker: CircuitBreaker | None = None
    bulkhead: Bulkhead | None = None
    budget: RetryBudget | None = None
    attempts: int = 2

    def bind(self, connector_call: Call[T], *, idempotent: bool = True) -> Call[T]:
        """The composed call for one operation (retried only when ``idempotent``)."""
        retry: Callable[[Call[T]], Call[T]] | None = None
        if self.budget is not None:
            retry = with_retry(self.budget, attempts=self.attempts, idempotent=idempotent)
        return compose(
            connector_call,
            member=self.member,
            timeout=self.timeout,
            breaker=self.breaker,
            bulkhead=self.bulkhead,
            retry=retry,
        )

    async def aclose(self) -> None:
        if self.breaker is not None:
            await self.breaker.aclose()
