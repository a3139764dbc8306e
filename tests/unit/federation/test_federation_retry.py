"""Retries: idempotent calls only, transient faults only, inside the deadline, within a shared budget."""

from __future__ import annotations

import random

import pytest
from federation_fakes import MEMBER, FakeClock, Script

from contracts.errors import MemberRefused, MemberResponseInvalid, MemberTimeout, MemberUnavailable
from gateway.federation import RetryBudget, with_retry

FAR = 1e9


def unavailable(status: int | None = 503) -> MemberUnavailable:
    return MemberUnavailable("down", member=MEMBER, reason="status", upstream_status=status)


class Sleeps:
    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        self.clock.advance(seconds)


def retrying(budget: RetryBudget, clock: FakeClock, attempts: int = 2, idempotent: bool = True) -> object:
    return with_retry(budget, attempts, idempotent, clock=clock, sleep=Sleeps(clock), rng=random.Random(7))


def roomy_budget(clock: FakeClock) -> RetryBudget:
    return RetryBudget(min_per_second=100.0, max_tokens=100.0, clock=clock)


@pytest.mark.parametrize("failure", [unavailable(503), unavailable(None), unavailable(429), unavailable(504)])
async def test_retries_a_transient_fault(failure: MemberUnavailable) -> None:
    clock = FakeClock()
    inner = Script(failure, "ok")
    call = retrying(roomy_budget(clock), clock)(inner)  # type: ignore[operator]
    assert await call(clock.now + 5) == "ok"
    assert inner.calls == 2


async def test_retries_a_timeout_that_left_time() -> None:
    clock = FakeClock()
    inner = Script(MemberTimeout("slow", member=MEMBER, reason="deadline"), "ok")
    call = retrying(roomy_budget(clock), clock)(inner)  # type: ignore[operator]
    assert await call(clock.now + 5) == "ok"
    assert inner.calls == 2


async def test_no_retry_when_the_timeout_used_up_the_deadline() -> None:
    clock = FakeClock()
    inner = Script(MemberTimeout("slow", member=MEMBER, reason="deadline"), "ok")
    call = retrying(roomy_budget(clock), clock)(inner)  # type: ignore[operator]
    with pytest.raises(MemberTimeout):
        await call(clock.now)
    assert inner.calls == 1


@pytest.mark.parametrize(
    "failure",
    [
        unavailable(500),
        MemberResponseInvalid("bad", member=MEMBER, reason="schema"),
        MemberRefused("no", member=MEMBER, reason="status", upstream_status=401),
        MemberTimeout("gone", member=MEMBER, reason="expired"),
    ],
)
async def test_never_retries_other_failures(failure: Exception) -> None:
    clock = FakeClock()
    inner = Script(failure, "ok")
    call = retrying(roomy_budget(clock), clock, attempts=3)(inner)  # type: ignore[operator]
    with pytest.raises(type(failure)):
        await call(clock.now + 5)
    assert inner.calls == 1


async def test_never_retries_a_non_idempotent_call() -> None:
    clock = FakeClock()
    budget = roomy_budget(clock)
    inner = Script(unavailable(), "ok")
    call = retrying(budget, clock, attempts=3, idempotent=False)(inner)  # type: ignore[operator]
    tokens = budget.tokens
    with pytest.raises(MemberUnavailable):
        await call(clock.now + 5)
    assert inner.calls == 1
    assert budget.tokens >= tokens  # nothing spent


async def test_attempts_are_capped_at_three() -> None:
    clock = FakeClock()
    inner = Script(unavailable())
    call = retrying(roomy_budget(clock), clock, attempts=10)(inner)  # type: ignore[operator]
    with pytest.raises(MemberUnavailable):
        await call(clock.now + 60)
    assert inner.calls == 3


async def test_backoff_is_jittered_and_grows_and_stays_inside_the_deadline() -> None:
    clock = FakeClock()
    sleeps = Sleeps(clock)
    inner = Script(unavailable())
    call = with_retry(roomy_budget(clock), 3, clock=clock, sleep=sleeps, base_backoff=0.1, max_backoff=0.15)(
        inner
    )
    with pytest.raises(MemberUnavailable):
        await call(clock.now + 60)
    assert len(sleeps.delays) == 2
    assert 0 <= sleeps.delays[0] <= 0.1
    assert 0 <= sleeps.delays[1] <= 0.15  # 0.2, capped
    # no time for another attempt after the backoff: no retry at all
    short = Script(unavailable(), "ok")
    call = with_retry(roomy_budget(clock), 3, clock=clock, sleep=sleeps, min_attempt_time=0.05)(short)
    with pytest.raises(MemberUnavailable):
        await call(clock.now + 0.04)
    assert short.calls == 1


async def test_budget_stops_retries_during_an_outage() -> None:
    clock = FakeClock()  # frozen: only the ratio and the starting floor pay for retries
    budget = RetryBudget(ratio=0.1, min_per_second=1.0, max_tokens=10.0, clock=clock)
    inner = Script(unavailable())

    async def no_wait(seconds: float) -> None:
        return None

    call = with_retry(budget, 3, clock=clock, sleep=no_wait)(inner)
    requests = 100
    for _ in range(requests):
        with pytest.raises(MemberUnavailable):
            await call(clock.now + 60)
    # R27: total attempts <= 1.1 x requests + the budget's minimum (1 token to start with)
    assert requests < inner.calls <= 1.1 * requests + 1


async def test_budget_floor_refills_over_time() -> None:
    clock = FakeClock()
    budget = RetryBudget(ratio=0.0, min_per_second=2.0, max_tokens=3.0, clock=clock)
    assert budget.withdraw()  # it starts with one second's floor: two tokens
    assert budget.withdraw()
    assert not budget.withdraw()
    clock.advance(0.5)
    assert budget.withdraw()
    clock.advance(100)
    assert budget.tokens == 3.0  # capped


def test_invalid_settings() -> None:
    with pytest.raises(ValueError, match="attempts"):
        with_retry(RetryBudget(), attempts=0)
    with pytest.raises(ValueError, match="max_tokens"):
        RetryBudget(max_tokens=0.5)
