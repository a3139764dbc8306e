"""One member's call stack: ``deadline -> breaker -> bulkhead -> retry -> connector`` (STYLE.md, "lura").

``MemberPolicy`` holds a member's shared state (breaker, bulkhead, retry budget) and its stacks, composed
once at start-up; ``bind`` gives one operation of the member's connector (``fetch_credentials`` for a
learner, say) to a stack, which reaches it at the bottom through a context variable, as the innermost layer
reaches its ``CallStats``. (Composing the stack for every call cost 57k instructions of a lookup at
N = 5, 1.5 %.) ``compose`` is the same as a plain function.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

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


_OPERATION: contextvars.ContextVar[Call[Any]] = contextvars.ContextVar("federation_operation")


async def _perform(deadline: float) -> Any:
    """The bottom of a composed stack: the operation ``MemberPolicy.bind`` gave for the call under way."""
    return await _OPERATION.get()(deadline)


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
    # by idempotency: retried or not
    _stacks: dict[bool, Call[Any]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "_stacks", {idempotent: self._compose(idempotent) for idempotent in (True, False)}
        )

    def _compose(self, idempotent: bool) -> Call[Any]:
        retry: Callable[[Call[Any]], Call[Any]] | None = None
        if self.budget is not None:
            retry = with_retry(self.budget, attempts=self.attempts, idempotent=idempotent)
        return compose(
            _perform,
            member=self.member,
            timeout=self.timeout,
            breaker=self.breaker,
            bulkhead=self.bulkhead,
            retry=retry,
        )

    def bind(self, connector_call: Call[T], *, idempotent: bool = True) -> Call[T]:
        """The call of one operation through the member's stack (retried only when ``idempotent``)."""
        stack = self._stacks[idempotent]

        async def bound(deadline: float) -> T:
            token = _OPERATION.set(connector_call)
            try:
                result: T = await stack(deadline)
                return result
            finally:
                _OPERATION.reset(token)

        return bound

    async def aclose(self) -> None:
        if self.breaker is not None:
            await self.breaker.aclose()
