"""The bulkhead: at most N calls in flight per member; refuse early when full or when waiting cannot pay
off."""

from __future__ import annotations

import asyncio
import time

import pytest
from federation_fakes import MEMBER, FakeClock, until

from contracts.errors import MemberOverloaded
from gateway.federation import Bulkhead


class Held:
    """A member call that waits until released, counting how many run at once."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.running = 0
        self.peak = 0
        self.calls = 0

    async def __call__(self, deadline: float) -> str:
        self.calls += 1
        self.running += 1
        self.peak = max(self.peak, self.running)
        try:
            await self.release.wait()
        finally:
            self.running -= 1
        return "ok"


async def test_refuses_when_the_queue_is_full() -> None:
    bulkhead = Bulkhead(MEMBER, max_in_flight=1, max_queue_wait=5.0, max_queue=0)
    held = Held()
    call = bulkhead.wrap(held)
    first = asyncio.create_task(call(time.monotonic() + 30))
    await until(lambda: held.running == 1)
    started = time.monotonic()
    with pytest.raises(MemberOverloaded) as caught:
        await call(time.monotonic() + 30)
    assert time.monotonic() - started < 1.0  # refused at once, not after waiting
    assert (caught.value.reason, caught.value.status, caught.value.member) == ("queue-full", 503, MEMBER)
    assert caught.value.retry_after == 5.0
    assert held.calls == 1
    held.release.set()
    assert await first == "ok"


async def test_refuses_at_once_when_there_is_no_time_to_wait() -> None:
    clock = FakeClock()
    bulkhead = Bulkhead(MEMBER, max_in_flight=1, max_queue_wait=5.0, clock=clock)
    held = Held()
    call = bulkhead.wrap(held)
    first = asyncio.create_task(call(clock.now + 30))
    await until(lambda: held.running == 1)
    with pytest.raises(MemberOverloaded) as caught:
        await call(clock.now)  # the deadline is now: a slot could not free before it
    assert caught.value.reason == "no-time"
    assert bulkhead.waiting == 0
    held.release.set()
    await first


async def test_refuses_when_no_slot_frees_within_the_wait() -> None:
    bulkhead = Bulkhead(MEMBER, max_in_flight=1, max_queue_wait=0.05)
    held = Held()
    call = bulkhead.wrap(held)
    first = asyncio.create_task(call(time.monotonic() + 30))
    await until(lambda: held.running == 1)
    started = time.monotonic()
    with pytest.raises(MemberOverloaded) as caught:
        await call(time.monotonic() + 30)
    assert time.monotonic() - started < 2.0
    assert caught.value.reason == "queue-timeout"
    held.release.set()
    await first
    assert (bulkhead.in_flight, bulkhead.waiting) == (0, 0)


async def test_the_wait_never_passes_the_deadline() -> None:
    bulkhead = Bulkhead(MEMBER, max_in_flight=1, max_queue_wait=30.0)
    held = Held()
    call = bulkhead.wrap(held)
    first = asyncio.create_task(call(time.monotonic() + 30))
    await until(lambda: held.running == 1)
    started = time.monotonic()
    with pytest.raises(MemberOverloaded):
        await call(started + 0.05)
    assert time.monotonic() - started < 2.0
    held.release.set()
    await first


async def test_a_waiter_gets_a_freed_slot() -> None:
    bulkhead = Bulkhead(MEMBER, max_in_flight=1, max_queue_wait=5.0)
    held = Held()
    call = bulkhead.wrap(held)
    first = asyncio.create_task(call(time.monotonic() + 30))
    await until(lambda: held.running == 1)
    second = asyncio.create_task(call(time.monotonic() + 30))
    await until(lambda: bulkhead.waiting == 1)
    held.release.set()
    assert await asyncio.gather(first, second) == ["ok", "ok"]
    assert held.peak == 1


async def test_in_flight_never_exceeds_the_cap() -> None:
    bulkhead = Bulkhead(MEMBER, max_in_flight=3, max_queue_wait=5.0, max_queue=20)
    held = Held()
    call = bulkhead.wrap(held)
    tasks = [asyncio.create_task(call(time.monotonic() + 30)) for _ in range(12)]
    await until(lambda: held.running == 3 and bulkhead.waiting == 9)
    held.release.set()
    assert await asyncio.gather(*tasks) == ["ok"] * 12
    assert held.peak == 3
    assert bulkhead.in_flight == 0


async def test_a_failing_call_gives_its_slot_back() -> None:
    bulkhead = Bulkhead(MEMBER, max_in_flight=1, max_queue_wait=0.0, max_queue=0)

    async def boom(deadline: float) -> str:
        raise RuntimeError("boom")

    for _ in range(3):
        with pytest.raises(RuntimeError):
            await bulkhead.wrap(boom)(time.monotonic() + 5)
    assert bulkhead.in_flight == 0


def test_invalid_settings() -> None:
    with pytest.raises(ValueError, match="max_in_flight"):
        Bulkhead(MEMBER, max_in_flight=0, max_queue_wait=1.0)
