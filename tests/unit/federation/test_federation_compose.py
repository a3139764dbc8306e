"""``MemberPolicy``: its stacks are composed once, and every bound call reaches its own operation."""

from __future__ import annotations

import asyncio
import importlib
import time

import pytest
from federation_fakes import MEMBER, Script

from contracts.errors import MemberUnavailable
from gateway.federation import Bulkhead, CircuitBreaker, MemberPolicy, RetryBudget
from gateway.federation.calls import Call, CallStats, track_stats

# the module, not the function the package exports under the same name
compose_module = importlib.import_module("gateway.federation.compose")


def policy() -> MemberPolicy:
    async def probe(deadline: float) -> bool:
        return True

    return MemberPolicy(
        member=MEMBER,
        connector="fake",
        timeout=5.0,
        breaker=CircuitBreaker(MEMBER, probe=probe),
        bulkhead=Bulkhead(MEMBER, max_in_flight=4, max_queue_wait=1.0, max_queue=16),
        budget=RetryBudget(min_per_second=10.0),
        attempts=3,
    )


async def test_binding_composes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    member = policy()
    composed: list[object] = []
    monkeypatch.setattr(compose_module, "compose", lambda *a, **k: composed.append(a) or (lambda d: None))
    calls = [member.bind(Script(str(i))) for i in range(10)] + [member.bind(Script("x"), idempotent=False)]
    assert composed == []
    assert [await call(time.monotonic() + 5) for call in calls] == [*map(str, range(10)), "x"]


async def test_concurrent_calls_each_reach_their_own_operation() -> None:
    member = policy()

    def operation(value: str, pause: float) -> Call[str]:
        async def run(deadline: float) -> str:
            await asyncio.sleep(pause)  # interleaved with the others, some queued by the bulkhead
            return value

        return run

    calls = [member.bind(operation(f"v{i}", (i % 3) / 1000)) for i in range(12)]
    results = await asyncio.gather(*(call(time.monotonic() + 5) for call in calls))
    assert results == [f"v{i}" for i in range(12)]


async def test_a_retried_call_repeats_its_own_operation_only() -> None:
    member = policy()
    flaky = Script(MemberUnavailable("down", member=MEMBER, reason="connect"), "second try")
    other = Script("other")
    stats = CallStats()

    async def counted() -> str:
        track_stats(stats)  # as fan_out's task does
        return await member.bind(flaky)(time.monotonic() + 5)

    assert await asyncio.create_task(counted()) == "second try"
    assert (flaky.calls, other.calls, stats.attempts) == (2, 0, 2)
    assert await member.bind(other)(time.monotonic() + 5) == "other"
    with pytest.raises(MemberUnavailable):  # not idempotent: one attempt
        await member.bind(
            Script(MemberUnavailable("down", member=MEMBER, reason="connect")), idempotent=False
        )(time.monotonic() + 5)
